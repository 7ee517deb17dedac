"""The exported graphs decode exactly what the Keras model decodes, for every architecture option."""

import json

import numpy as np
import onnx
import pytest
from tiny_models import assert_same_outputs, make_translator

from keras_seq2seq.cli import main
from keras_seq2seq.errors import Seq2SeqError
from keras_seq2seq.export import export_model
from keras_seq2seq.runtime import load
from keras_seq2seq.translator import Translator

ARCHITECTURES = {
    "lstm": dict(cell="lstm"),
    "gru-2-layers-bidirectional": dict(cell="gru", num_layers=2, bidirectional=True, seed=1),  # seed 0: all
    # its outputs are empty or run to the length limit
    "lstm-luong-general-2-layers-bidirectional-bridge": dict(
        attention="luong-general", num_layers=2, bidirectional=True, bridge=True, scaled_attention=True),
    "gru-bahdanau-bridge": dict(cell="gru", attention="bahdanau", bridge=True),
    "lstm-luong-dot-tied": dict(attention="luong-dot", tie_embeddings=True),  # with a projection 32 -> 16
    "gru-luong-general-tied": dict(cell="gru", attention="luong-general", tie_embeddings=True, embedding_dim=32),
}
SEARCHES = [dict(beam_size=1, n_best=1), dict(beam_size=3, n_best=3),
            dict(beam_size=4, n_best=2, length_penalty=0.8)]


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_float32_export_decodes_what_keras_decodes(name, dates, tmp_path):
    translator = make_translator(dates["train"], **ARCHITECTURES[name])
    translator.save(tmp_path / "model")
    export_model(tmp_path / "model", tmp_path / "export")
    exported = load(tmp_path / "export")
    sources = [p.source for p in dates["test"]] + [""]  # an empty line decodes to nothing
    lengths = set()
    for search in SEARCHES:
        expected = translator.translate_n_best(sources, batch_size=16, **search)
        actual = exported.translate_n_best(sources, batch_size=16, **search)
        assert_same_outputs(expected, actual)
        lengths |= {len(text) for hypotheses in expected for text, _ in hypotheses}
    # Outputs of many lengths: the batches shed finished sentences on both sides.
    assert len(lengths) > 3, lengths


def test_shortlist_and_alignments_match_keras(dates, tmp_path):
    translator = make_translator(dates["train"], seed=3, attention="luong-general", bidirectional=True)
    translator.save(tmp_path / "model")
    export_model(tmp_path / "model", tmp_path / "export")
    exported = load(tmp_path / "export")
    sources = [p.source for p in dates["test"]]
    size = len(translator.target_vocab) - 3  # a real subset of the vocabulary
    translator.use_shortlist(size)
    exported.use_shortlist(size)
    for search in SEARCHES[:2]:
        assert_same_outputs(translator.translate_n_best(sources, batch_size=16, **search),
                            exported.translate_n_best(sources, batch_size=16, **search))
    translator.use_shortlist(0)
    exported.use_shortlist(0)
    for beam_size in (1, 3):
        expected = translator.align(sources, beam_size=beam_size, batch_size=16)
        actual = exported.align(sources, beam_size=beam_size, batch_size=16)
        for e, a in zip(expected, actual):
            assert (a.text, a.source_tokens, a.target_tokens) == (e.text, e.source_tokens, e.target_tokens)
            np.testing.assert_allclose(a.weights, e.weights, atol=1e-5)
            assert a.score == pytest.approx(e.score, abs=1e-4)


def test_a_trained_model_exports_exactly(dates, tmp_path):
    translator = Translator.train(dates["train"], preset="dates", verbose=0, epochs=1, units=32, embedding_dim=16,
                                  batch_size=32, attention="luong-general", bidirectional=True, num_layers=2)
    translator.save(tmp_path / "model")
    export_model(tmp_path / "model", tmp_path / "export")
    sources = [p.source for p in dates["test"]]
    for search in SEARCHES[:2]:
        assert_same_outputs(translator.translate_n_best(sources, batch_size=16, **search),
                            load(tmp_path / "export").translate_n_best(sources, batch_size=16, **search),
                            tolerance=1e-4)


def test_manifest_describes_the_graphs_and_files(dates, tmp_path):
    translator = make_translator(dates["train"], attention="bahdanau")
    translator.save(tmp_path / "model")
    manifest = export_model(tmp_path / "model", tmp_path / "export")
    written = json.loads((tmp_path / "export" / "manifest.json").read_text())
    assert written == manifest
    assert manifest["format_version"] == 1 and manifest["precision"] == "float32" and manifest["opset"] == 17
    assert set(manifest["files"]) == {"encoder.onnx", "decoder.onnx", "source_vocab.json", "target_vocab.json",
                                      "shortlist.json"}
    assert manifest["state"] == ["h_0", "c_0", "feed"] and manifest["source"] == ["memory", "keys", "mask"]
    decoder = manifest["graphs"]["decoder"]
    assert [i["name"] for i in decoder["inputs"]] == ["token_ids", "h_0", "c_0", "feed", "memory", "keys", "mask",
                                                      "candidates", "shortlist"]
    assert decoder["inputs"][0] == {"name": "token_ids", "type": "int32", "shape": ["rows"]}
    assert manifest["special_ids"] == {"pad": 0, "unk": 1, "bos": 2, "eos": 3}


def test_int8_export_quantises_the_matrix_products(dates, tmp_path):
    translator = make_translator(dates["train"], attention="luong-general", bidirectional=True)
    translator.save(tmp_path / "model")
    export_model(tmp_path / "model", tmp_path / "float32")
    manifest = export_model(tmp_path / "model", tmp_path / "int8", int8=True)
    assert manifest["precision"] == "int8"
    decoder = onnx.load(tmp_path / "int8" / "decoder.onnx")
    branches = [a.g for node in decoder.graph.node if node.op_type == "If" for a in node.attribute]
    ops = [n.op_type for graph in [decoder.graph, *branches] for n in graph.node]
    assert ops.count("MatMulInteger") == 4  # the cell's two, the attentional layer, the output layer
    weights = {i.name for graph in [decoder.graph, *branches] for i in graph.initializer}
    # What stays float: the attention's products of two activations (no weight to quantise).
    assert not [n for graph in [decoder.graph, *branches] for n in graph.node
                if n.op_type == "MatMul" and n.input[1] in weights]
    encoder_ops = [n.op_type for n in onnx.load(tmp_path / "int8" / "encoder.onnx").graph.node]
    assert "DynamicQuantizeLSTM" in encoder_ops
    sources = [p.source for p in dates["test"]]
    exact = load(tmp_path / "float32").translate(sources)
    quantised = load(tmp_path / "int8").translate(sources)
    # Rounding the weights to 8 bits changes many outputs of this untrained model (43% stay the same
    # here; bench/export.py measures a trained one's BLEU), but 8-bit graphs gone wrong keep none.
    assert sum(a == b for a, b in zip(exact, quantised)) >= 0.3 * len(sources)


def test_a_mixed_precision_model_is_refused_in_one_line(dates, tmp_path):
    translator = make_translator(dates["train"], precision="mixed_bfloat16")
    translator.save(tmp_path / "model")
    with pytest.raises(Seq2SeqError, match="cannot export a mixed_bfloat16 model") as error:
        export_model(tmp_path / "model", tmp_path / "export")
    assert "\n" not in str(error.value)
    assert not (tmp_path / "export" / "manifest.json").exists()


def test_a_transformer_is_refused_in_one_line(dates, tmp_path, capsys):
    translator = Translator.create(dates["train"], preset_name="dates", architecture="transformer", units=16,
                                   num_layers=1, heads=2, ffn_dim=32, dropout=0.0, attention_dropout=0.0)
    translator.save(tmp_path / "model")
    capsys.readouterr()
    assert main(["export", "--model", str(tmp_path / "model"), "--out", str(tmp_path / "export")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seq2seq: error: ") and err.count("\n") == 1
    assert "cannot export a transformer model" in err
    assert not (tmp_path / "export").exists()


def test_graphs_that_do_not_reproduce_the_model_are_refused(dates, tmp_path, monkeypatch):
    from keras_seq2seq.export import weights

    translator = make_translator(dates["train"])
    translator.save(tmp_path / "model")
    # A wrong gate order: what a mistake in the graphs would look like.
    monkeypatch.setitem(weights.ONNX_GATE_ORDER, "lstm", [0, 1, 2, 3])
    with pytest.raises(Seq2SeqError, match="do not reproduce its encoder state"):
        export_model(tmp_path / "model", tmp_path / "export")
    assert not (tmp_path / "export" / "manifest.json").exists()


def test_export_refuses_its_own_model_directory(dates, tmp_path):
    make_translator(dates["train"]).save(tmp_path / "model")
    with pytest.raises(Seq2SeqError, match="its own directory"):
        export_model(tmp_path / "model", tmp_path / "model")
