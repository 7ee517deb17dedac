"""Write an export directory from a trained model directory (see `runtime/manifest.py` for its layout).

The graphs are built from the trained weights (`encoder.py`, `decoder.py`), then checked: the
exporter runs them with onnxruntime on a few probe sentences and compares the decoder state and
the ranked tokens with what the Keras model computes. A model the graphs would not reproduce is
refused rather than exported. With `int8`, the checked float32 graphs are then quantised.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from keras_seq2seq.errors import ModelFileError, Seq2SeqError
from keras_seq2seq.runtime import manifest as manifest_file

ENCODER_FILE = "encoder.onnx"
DECODER_FILE = "decoder.onnx"
SHORTLIST_FILE = "shortlist.json"


def export_model(model_dir: str | Path, out_dir: str | Path, int8: bool = False) -> dict:
    """Export the model in `model_dir` to `out_dir`; returns the manifest written.

    Raises `Seq2SeqError` for a model the exporter cannot handle, `ModelFileError` for a broken
    model directory; nothing is left in `out_dir` that looks like a finished export then.
    """
    try:
        import onnx  # noqa: F401  the optional extra
        import onnxruntime  # noqa: F401
    except ImportError as error:
        raise Seq2SeqError(f"exporting needs the optional packages onnx and onnxruntime ({error.name} is "
                           "missing): pip install 'keras-seq2seq[export]'") from None
    from keras_seq2seq.export.check import check_graphs
    from keras_seq2seq.export.decoder import decoder_graph
    from keras_seq2seq.export.encoder import SOURCE_NAMES, encoder_graph, state_names
    from keras_seq2seq.translator import Translator

    model_dir, out_dir = Path(model_dir), Path(out_dir)
    translator = Translator.load(model_dir)
    _check_exportable(translator, model_dir)
    if out_dir.resolve() == model_dir.resolve():
        raise Seq2SeqError(f"{out_dir}: the export needs its own directory, not the model directory")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / manifest_file.FILE).unlink(missing_ok=True)  # a half-written export is never "finished"

    model = translator.model
    graphs = {"encoder": encoder_graph(model), "decoder": decoder_graph(model)}
    check_graphs(model, graphs["encoder"], graphs["decoder"])
    files = {"encoder": ENCODER_FILE, "decoder": DECODER_FILE}
    for name, graph in graphs.items():
        _write_graph(graph, out_dir / files[name], int8)

    listed = [ENCODER_FILE, DECODER_FILE, *_copy_text_files(translator, model_dir, out_dir)]
    attention = model.decoder.has_attention
    manifest = {
        "precision": "int8" if int8 else "float32",
        "opset": _opset(graphs["encoder"]),
        "graphs": {name: {"file": files[name], **_signature(graph)} for name, graph in graphs.items()},
        "state": state_names(model.num_layers, model.cell, attention),
        "source": SOURCE_NAMES if attention else [],
        "special_ids": {"pad": 0, "unk": 1, "bos": 2, "eos": 3},
        "vocabularies": {"source": "source_vocab.json", "target": "target_vocab.json"},
        "settings": translator.settings.to_dict(),
        "info": translator.info,
        "exported_from": str(model_dir),
        "files": listed,
    }
    manifest_file.write_manifest(out_dir, manifest)
    return manifest_file.read_manifest(out_dir)


def _check_exportable(translator, model_dir: Path) -> None:
    """Refuse, in one line, what the graphs do not implement."""
    from keras_seq2seq.config import ATTENTION_KINDS, CELLS

    m = translator.settings.model
    if m.architecture != "rnn":
        raise Seq2SeqError(f"{model_dir}: cannot export a {m.architecture} model: the ONNX graphs implement the "
                           "recurrent architecture only (translate and serve the model directory itself)")
    if m.precision != "float32":
        raise Seq2SeqError(f"{model_dir}: cannot export a {m.precision} model: the ONNX graphs compute in "
                           "float32 (use --int8 on a float32 model for a smaller, faster export)")
    model = translator.model
    if model.cell not in CELLS or model.attention not in ATTENTION_KINDS:
        raise Seq2SeqError(f"{model_dir}: cannot export cell {model.cell!r} with attention {model.attention!r}")
    if model.bridge and any(d.activation.__name__ != "tanh" for d in model.encoder.bridges):
        raise Seq2SeqError(f"{model_dir}: cannot export a bridge whose activation is not tanh")


def _write_graph(graph, path: Path, int8: bool) -> None:
    """Save `graph` (quantised to int8 when asked) at `path`, atomically."""
    import onnx

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".onnx")
    os.close(fd)
    try:
        onnx.save(graph, tmp)
        if int8:
            from keras_seq2seq.export.quantize import quantize_int8

            quantized = tmp + ".int8"
            try:
                quantize_int8(Path(tmp), Path(quantized))
                os.replace(quantized, tmp)
            finally:
                Path(quantized).unlink(missing_ok=True)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _copy_text_files(translator, model_dir: Path, out_dir: Path) -> list[str]:
    """Copy the vocabularies, tokeniser models and shortlist; returns their file names."""
    from keras_seq2seq.text.subwords import SentencePieceTokenizer

    names = ["source_vocab.json", "target_vocab.json"]
    names += sorted({t.model_file for t in (translator.source_tokenizer, translator.target_tokenizer)
                     if isinstance(t, SentencePieceTokenizer)})
    if translator.shortlist is not None:
        names.append(SHORTLIST_FILE)
    for name in names:
        source = model_dir / name
        if not source.is_file():
            raise ModelFileError(f"{source}: missing from the model directory")
        fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{name}.", suffix=".tmp")
        os.close(fd)
        try:
            shutil.copyfile(source, tmp)
            os.chmod(tmp, 0o644)
            os.replace(tmp, out_dir / name)
        finally:
            Path(tmp).unlink(missing_ok=True)
    return names


def _opset(graph) -> int:
    return next(o.version for o in graph.opset_import if o.domain in ("", "ai.onnx"))


def _signature(graph) -> dict:
    """The graph's inputs and outputs: name, element type and shape (symbolic names for free axes)."""
    from onnx import TensorProto

    def describe(value) -> dict:
        tensor = value.type.tensor_type
        shape = [d.dim_param or d.dim_value for d in tensor.shape.dim] if tensor.HasField("shape") else None
        return {"name": value.name, "type": TensorProto.DataType.Name(tensor.elem_type).lower(), "shape": shape}

    return {"inputs": [describe(v) for v in graph.graph.input],
            "outputs": [describe(v) for v in graph.graph.output]}

