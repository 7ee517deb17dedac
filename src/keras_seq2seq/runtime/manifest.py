"""`manifest.json`: what an export directory holds, and the checks it is read with.

    export/
      manifest.json        format and version, opset, precision, graphs with their inputs,
                           outputs and SHA-256, special ids, settings, the source model's info
      encoder.onnx         source ids -> decoder state and source
      decoder.onnx         one step -> new state, best tokens, attention
      source_vocab.json    target_vocab.json    *sentencepiece.model    shortlist.json (if any)

Every file the runtime reads is listed with its SHA-256, so a missing, truncated or altered
file is refused with a message naming it, before onnxruntime sees it. `manifest.json` is written
last: a directory without it is not a finished export.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from keras_seq2seq.errors import ModelFileError

FILE = "manifest.json"
FORMAT = "keras-seq2seq-onnx"
FORMAT_VERSION = 1  # bump when the runtime could not read an export the same way


def is_export(directory) -> bool:
    """Whether `directory` is an ONNX export (it has a manifest), not a Keras model directory."""
    return (Path(directory) / FILE).is_file()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(directory: Path) -> dict:
    """The checked manifest of an export directory; every listed file is checked against its hash.

    Raises `ModelFileError` (one line, naming the file) for anything wrong.
    """
    directory = Path(directory)
    path = directory / FILE
    if not path.is_file():
        raise ModelFileError(f"{path}: missing; {directory} is not a keras-seq2seq ONNX export "
                             "(make one with `seq2seq export --model DIR --out EXPORT_DIR`)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as error:
        raise ModelFileError(f"{path}: not valid JSON ({str(error).splitlines()[0]})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a keras-seq2seq ONNX manifest (format should be {FORMAT!r})")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(f"{path}: export format version {version!r} is newer than this runtime "
                             f"reads (version {FORMAT_VERSION}); upgrade keras-seq2seq, or export the "
                             "model again with this version")
    if version < 1:
        raise ModelFileError(f"{path}: export format version {version!r} is not valid")
    files = manifest.get("files")
    graphs = manifest.get("graphs")
    if not isinstance(files, dict) or not isinstance(graphs, dict) or not {"encoder", "decoder"} <= set(graphs):
        raise ModelFileError(f"{path}: \"files\" and \"graphs\" (encoder, decoder) are missing or malformed")
    for name, expected in files.items():
        _check_file(directory, name, expected)
    for graph in graphs.values():
        if not isinstance(graph, dict) or graph.get("file") not in files:
            raise ModelFileError(f"{path}: a graph names a file that is not listed with its SHA-256")
    return manifest


def _check_file(directory: Path, name, expected) -> None:
    if not isinstance(name, str) or Path(name).name != name or not isinstance(expected, str):
        raise ModelFileError(f"{directory / FILE}: bad file entry {name!r}")
    path = directory / name
    if not path.is_file():
        raise ModelFileError(f"{path}: missing (listed in {FILE}); copy the whole export directory again")
    if sha256(path) != expected:
        raise ModelFileError(f"{path}: SHA-256 does not match {FILE}; the file was altered or damaged, "
                             "copy the export again or export the model again")


def write_manifest(directory: Path, manifest: dict) -> None:
    """Hash every file named in `manifest["files"]` (already written), then write the manifest."""
    from keras_seq2seq.files import atomic_write_text

    directory = Path(directory)
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, **manifest}
    manifest["files"] = {name: sha256(directory / name) for name in manifest["files"]}
    atomic_write_text(directory / FILE, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
