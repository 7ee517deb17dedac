"""Damaged, altered and foreign model directories: each is a clear `ModelFileError`, and through
`seq2seq translate --model DIR` one `seq2seq: error:` line and exit status 2, never a traceback."""

import json
import os
import random
import shutil
import tempfile
import zipfile
from pathlib import Path

import keras
import pytest
from fuzzing import examples
from hypothesis import given
from hypothesis import strategies as st

from keras_seq2seq import Translator, artifacts, cli, model_archive
from keras_seq2seq.errors import ModelFileError
from keras_seq2seq.text.vocabulary import Vocabulary

PAIRS = [("one two", "1 2"), ("three", "3"), ("two one", "2 1")]


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """A tiny untrained model directory (untrained is enough: these tests never translate)."""
    directory = tmp_path_factory.mktemp("model")
    Translator.create(PAIRS, units=8, embedding_dim=4).save(directory)
    return directory


@pytest.fixture
def model_dir(saved_model, tmp_path):
    """A fresh copy of the saved model for one test to damage."""
    return shutil.copytree(saved_model, tmp_path / "model")


def _rewrite_archive(directory, change):
    """Rewrite model.keras with `change(name, data) -> data` applied to every member."""
    path = directory / artifacts.MODEL_FILE
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info.filename)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in members:
            archive.writestr(info, change(info.filename, data))


def _edit_model_config(directory, edit):
    def change(name, data):
        if name != "config.json":
            return data
        config = json.loads(data)
        return json.dumps(edit(config) or config)
    _rewrite_archive(directory, change)


def _lambda_model_config(tmp_path):
    """The config.json Keras writes for a model that holds a Lambda layer (marshalled bytecode)."""
    inputs = keras.Input((3,))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs)).save(tmp_path / "lambda.keras")
    with zipfile.ZipFile(tmp_path / "lambda.keras") as archive:
        return json.loads(archive.read("config.json"))


def _fails_cleanly(directory, capfd, *patterns):
    """Translator.load raises a ModelFileError matching every pattern; the CLI prints one line."""
    with pytest.raises(ModelFileError) as raised:
        Translator.load(directory)
    message = str(raised.value)
    for pattern in patterns:
        assert pattern in message, message
    assert "\n" not in message and len(message) < 600
    capfd.readouterr()
    (directory.parent / "input.txt").write_text("one two\n")
    status = cli.main(["translate", "--model", str(directory), "--input", str(directory.parent / "input.txt")])
    out, err = capfd.readouterr()
    assert status == 2 and out == ""
    assert err.startswith("seq2seq: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return message


def test_the_undamaged_copy_loads(model_dir):
    assert isinstance(Translator.load(model_dir), Translator)


def test_a_lambda_layer_in_place_of_the_model_is_refused_as_code(model_dir, tmp_path, capfd):
    lambda_config = _lambda_model_config(tmp_path)
    _edit_model_config(model_dir, lambda config: lambda_config)
    _fails_cleanly(model_dir, capfd, "model.keras: refused", "a Lambda layer", "code")


def test_a_python_lambda_hidden_inside_the_config_is_refused_as_code(model_dir, tmp_path, capfd):
    function = _lambda_model_config(tmp_path)["config"]["layers"][1]["config"]["function"]
    assert function["class_name"] == "__lambda__"

    def hide(config):
        config["config"]["dtype"] = function
    _edit_model_config(model_dir, hide)
    _fails_cleanly(model_dir, capfd, "refused", "a Python lambda", "code")


def test_keras_safe_mode_refusal_becomes_the_same_message(model_dir, tmp_path, monkeypatch):
    """Should our own scan miss a kind of code, Keras' safe_mode error still reads as a refusal."""
    lambda_config = _lambda_model_config(tmp_path)
    _edit_model_config(model_dir, lambda config: lambda_config)
    monkeypatch.setattr(model_archive, "_CODE_CLASSES", {})
    with pytest.raises(ModelFileError, match="refused: the file holds code .Keras safe_mode refused it."):
        model_archive.load_keras_model(model_dir)


@pytest.mark.parametrize("module, name, expected", [
    ("evil", "Evil", "names evil.Evil, which is neither part of Keras nor of keras-seq2seq"),
    ("os", "system", "names os.system"),
    ("keras_seq2seq.models", "Seq2SeqFromTheFuture", "refers to 'Seq2SeqFromTheFuture'"),
    ("keras.layers", "NoSuchLayer", "NoSuchLayer', which neither Keras nor"),
])
def test_classes_neither_keras_nor_ours_provides_are_refused(model_dir, capfd, module, name, expected):
    def rename(config):
        config.update(module=module, class_name=name, registered_name=f"{module}>{name}")
    _edit_model_config(model_dir, rename)
    _fails_cleanly(model_dir, capfd, expected)


def test_a_function_from_outside_keras_is_refused(model_dir, capfd):
    def point_at_os_system(config):
        config["compile_config"]["loss"] = {"module": "os", "class_name": "function", "config": "system",
                                            "registered_name": "function"}
    _edit_model_config(model_dir, point_at_os_system)
    _fails_cleanly(model_dir, capfd, "refused", "os.function")


def test_weights_that_do_not_fit_the_described_model(model_dir, capfd):
    _edit_model_config(model_dir, lambda config: config["config"].update(units=64))
    _fails_cleanly(model_dir, capfd, "weights do not fit")


def test_a_model_config_that_cannot_be_built(model_dir, capfd):
    _edit_model_config(model_dir, lambda config: config["config"].update(units="many"))
    _fails_cleanly(model_dir, capfd, "cannot be built")


@pytest.mark.parametrize("damage, expected", [
    (lambda data: data[: len(data) // 2], "not a .keras archive (truncated or corrupted?)"),
    (lambda data: data[:-10], "not a .keras archive (truncated or corrupted?)"),
    (lambda data: b"", "empty file (0 bytes)"),
    (lambda data: random.Random(0).randbytes(len(data)), "not a .keras archive"),
    (lambda data: b"PK\x03\x04" + random.Random(1).randbytes(4000), "not a .keras archive"),
], ids=["half", "tail-cut", "zero-bytes", "random-bytes", "zip-magic-then-noise"])
def test_truncated_empty_and_random_model_files(model_dir, capfd, damage, expected):
    path = model_dir / artifacts.MODEL_FILE
    path.write_bytes(damage(path.read_bytes()))
    _fails_cleanly(model_dir, capfd, "model.keras", expected)


def test_flipped_bytes_inside_the_weights_are_caught_by_the_checksum(model_dir, capfd):
    """Bytes flipped in place (a bad disk or transfer): the zip still opens, its CRC does not match."""
    path = model_dir / artifacts.MODEL_FILE
    with zipfile.ZipFile(path) as archive:
        weights = archive.getinfo("model.weights.h5")
    raw = bytearray(path.read_bytes())
    start = weights.header_offset + 30 + len(weights.filename) + weights.compress_size // 2
    raw[start : start + 64] = bytes(b ^ 0xFF for b in raw[start : start + 64])
    path.write_bytes(bytes(raw))
    _fails_cleanly(model_dir, capfd, "model.keras", "corrupted")


def test_an_archive_without_the_keras_members(model_dir, capfd):
    with zipfile.ZipFile(model_dir / artifacts.MODEL_FILE, "w") as archive:
        archive.writestr("readme.txt", "hello")
    _fails_cleanly(model_dir, capfd, "not a Keras model archive")


@pytest.mark.parametrize("name", [artifacts.SOURCE_VOCAB_FILE, artifacts.TARGET_VOCAB_FILE])
def test_a_missing_vocabulary(model_dir, capfd, name):
    (model_dir / name).unlink()
    _fails_cleanly(model_dir, capfd, name, "vocabulary file not found")


def test_a_vocabulary_of_the_wrong_size(model_dir, capfd):
    path = model_dir / artifacts.TARGET_VOCAB_FILE
    Vocabulary(Vocabulary.load(path).tokens + ["extra"]).save(path)
    _fails_cleanly(model_dir, capfd, "do not match the model", "files from different runs?")


def test_a_vocabulary_that_is_not_json(model_dir, capfd):
    (model_dir / artifacts.SOURCE_VOCAB_FILE).write_bytes(b"\x00\xff not json")
    _fails_cleanly(model_dir, capfd, artifacts.SOURCE_VOCAB_FILE)


def _edit_config(directory, edit):
    path = directory / artifacts.CONFIG_FILE
    config = json.loads(path.read_text())
    edit(config)
    path.write_text(json.dumps(config))


def test_a_config_from_a_future_format_version(model_dir, capfd):
    _edit_config(model_dir, lambda config: config.update(format_version=artifacts.FORMAT_VERSION + 1))
    _fails_cleanly(model_dir, capfd, f"model format version {artifacts.FORMAT_VERSION + 1}",
                   f"reads version {artifacts.FORMAT_VERSION}")


@pytest.mark.parametrize("text, expected", [
    ("{not json", "not valid JSON"),
    ("", "not valid JSON"),
    ('{"format": "keras-seq2seq-model", "format_version": ' + "9" * 5000 + "}", "not valid JSON"),
    ("[" * 100_000, "not valid JSON"),
    ("[1, 2]", "not a keras-seq2seq model config"),
    ('{"format": "keras-seq2seq-model", "format_version": 1, "settings": []}', '"settings" must be a JSON object'),
], ids=["broken", "empty", "huge-number", "deep", "list", "settings-list"])
def test_a_config_that_is_not_a_model_config(model_dir, capfd, text, expected):
    (model_dir / artifacts.CONFIG_FILE).write_text(text)
    _fails_cleanly(model_dir, capfd, "config.json", expected)


def test_a_config_that_is_not_utf8(model_dir, capfd):
    (model_dir / artifacts.CONFIG_FILE).write_bytes(b'{"format": "\xff"}')
    _fails_cleanly(model_dir, capfd, "not valid JSON")


def test_a_missing_config_and_a_missing_directory(model_dir, capfd):
    os.unlink(model_dir / artifacts.CONFIG_FILE)
    _fails_cleanly(model_dir, capfd, "not a finished keras-seq2seq model directory")
    _fails_cleanly(model_dir / "nowhere", capfd, "no such model directory")


JSON_JUNK = st.one_of(st.none(), st.booleans(), st.integers(-2, 3), st.integers(), st.floats(),
                      st.text(max_size=5), st.sampled_from(["lstm", "word", "char", "NFC", "bahdanau"]),
                      st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@examples(40)
@given(data=st.data())
def test_any_change_to_the_saved_settings_loads_or_is_a_model_file_error(saved_model, data):
    """Hand-edited settings in config.json: a working translator or a ModelFileError."""
    config = json.loads((saved_model / artifacts.CONFIG_FILE).read_text())
    settings = config["settings"]
    for _ in range(data.draw(st.integers(1, 3))):
        section = data.draw(st.sampled_from(sorted(settings) + ["text", "model"]))
        if not isinstance(settings.get(section), dict) or data.draw(st.integers(0, 5)) == 0:
            settings[section] = data.draw(JSON_JUNK)
            continue
        key = data.draw(st.sampled_from(sorted(settings[section]) + ["unknown"]))
        settings[section][key] = data.draw(JSON_JUNK)
    with tempfile.TemporaryDirectory() as directory:
        for name in (artifacts.MODEL_FILE, artifacts.SOURCE_VOCAB_FILE, artifacts.TARGET_VOCAB_FILE):
            os.symlink(saved_model / name, os.path.join(directory, name))
        Path(directory, artifacts.CONFIG_FILE).write_text(json.dumps(config))
        try:
            translator = Translator.load(directory)
        except ModelFileError as error:
            assert "\n" not in str(error)
        else:
            assert translator.encode_source("one two").dtype == "int32"
            assert translator.max_output_len >= 1 and translator.settings.train.batch_size >= 1


def test_a_damaged_or_foreign_shortlist_is_named(model_dir, capfd):
    (model_dir / "shortlist.json").write_text('{"format": 1, "frequent": [3, 1], "candidates": [[5]]}')
    _fails_cleanly(model_dir, capfd, "shortlist.json", "does not fit this model", "seq2seq shortlist")
    (model_dir / "shortlist.json").write_text('{"format": 1, "freq')
    _fails_cleanly(model_dir, capfd, "shortlist.json", "not a shortlist file")


# ------------------------------------------------------------------ files that are not files


@pytest.fixture
def deadline():
    """Fail instead of hanging: a FIFO read blocks until a writer comes, i.e. forever."""
    import signal

    def expired(*_):
        raise TimeoutError("loading blocked on a file (a FIFO read?)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("name", ["config.json", "source_vocab.json", "target_vocab.json", "model.keras",
                                  "shortlist.json"])
def test_a_fifo_in_place_of_a_model_file_is_refused_not_waited_on(model_dir, capfd, deadline, name):
    (model_dir / name).unlink(missing_ok=True)
    os.mkfifo(model_dir / name)
    _fails_cleanly(model_dir, capfd, name, "FIFO", "not a regular file")


def test_a_directory_in_place_of_a_vocabulary_is_refused(model_dir, capfd):
    (model_dir / "source_vocab.json").unlink()
    (model_dir / "source_vocab.json").mkdir()
    _fails_cleanly(model_dir, capfd, "source_vocab.json", "a directory, not a regular file")


@pytest.mark.parametrize("name", ["config.json", "target_vocab.json", "model.keras", "shortlist.json"])
def test_a_link_out_of_the_model_directory_is_refused(model_dir, tmp_path, capfd, name):
    outside = tmp_path / "elsewhere" / name
    outside.parent.mkdir()
    if (model_dir / name).exists():
        shutil.move(model_dir / name, outside)
    else:
        outside.write_text("{}")
    (model_dir / name).symlink_to(outside)
    _fails_cleanly(model_dir, capfd, name, "outside")


def test_a_link_inside_the_model_directory_is_followed(model_dir):
    shutil.move(model_dir / "target_vocab.json", model_dir / "target.real.json")
    (model_dir / "target_vocab.json").symlink_to("target.real.json")
    assert len(Translator.load(model_dir).target_vocab) > 4


@pytest.fixture(scope="module")
def subword_model(tmp_path_factory):
    directory = tmp_path_factory.mktemp("subword-model")
    pairs = [(f"hola amigo {i}", f"hello friend {i}") for i in range(60)]
    subwords = {"kind": "sentencepiece"}
    Translator.create(pairs, units=8, embedding_dim=4, source_tokenizer=subwords, target_tokenizer=subwords,
                      joint_vocab=True, vocab_size=60).save(directory)
    return directory


def _set_model_file(directory, name):
    def edit(config):
        for side in ("source_tokenizer", "target_tokenizer"):
            config["settings"]["text"][side]["model_file"] = name
    _edit_config(directory, edit)


def test_a_sentencepiece_model_file_that_is_a_fifo_a_link_out_or_has_a_nul_is_refused(
        subword_model, tmp_path, capfd, deadline):
    directory = shutil.copytree(subword_model, tmp_path / "model")
    (model_file,) = {p.name for p in directory.glob("*sentencepiece.model")}
    assert Translator.load(directory).source_tokenizer.kind == "sentencepiece"
    _set_model_file(directory, "bad\u0000name.model")
    _fails_cleanly(directory, capfd, "NUL")
    _set_model_file(directory, model_file)
    outside = tmp_path / "outside.model"
    shutil.move(directory / model_file, outside)
    (directory / model_file).symlink_to(outside)
    _fails_cleanly(directory, capfd, model_file, "outside")
    (directory / model_file).unlink()
    os.mkfifo(directory / model_file)
    _fails_cleanly(directory, capfd, model_file, "FIFO")


@pytest.mark.parametrize("text", [
    '{"format": 1, "frequent": [3, 1000000000000000000000000000000], "candidates": []}',
    '{"format": 1, "frequent": [3, 1e30], "candidates": []}',
    '{"format": 1, "frequent": [3, 1], "candidates": [[1e30]]}',
    '{"format": 1, "frequent": [3, 1], "candidates": [[5], [1, 2]]}',
    '{"format": 1, "frequent": [3, "1"], "candidates": []}',
])
def test_a_shortlist_with_numbers_that_are_not_token_ids_is_named(model_dir, capfd, text):
    (model_dir / "shortlist.json").write_text(text)
    _fails_cleanly(model_dir, capfd, "shortlist.json", "seq2seq shortlist")


# ------------------------------------------------------------------ zip bombs


def _add_member(directory, name, data, compress_type=zipfile.ZIP_DEFLATED):
    def change(member, content):
        return data if member == name else content
    _rewrite_archive(directory, change)
    if name not in zipfile.ZipFile(directory / artifacts.MODEL_FILE).namelist():
        with zipfile.ZipFile(directory / artifacts.MODEL_FILE, "a", compression=compress_type) as archive:
            archive.writestr(name, data)


def test_a_config_that_would_inflate_past_the_limit_is_refused_unread(model_dir, capfd, monkeypatch):
    path = model_dir / artifacts.MODEL_FILE
    with zipfile.ZipFile(path) as archive:
        members = [(info.filename, archive.read(info.filename)) for info in archive.infolist()]
    bomb = b" " * (model_archive.MAX_CONFIG_BYTES + 1)  # valid JSON whitespace, 17 MB; 17 kB packed
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data + bomb if name == "config.json" else data)
    assert path.stat().st_size < 1 << 20

    def read(*args, **kwargs):
        raise AssertionError("a member was inflated before the sizes were checked")

    monkeypatch.setattr(zipfile.ZipFile, "read", read)
    monkeypatch.setattr(zipfile.ZipFile, "testzip", read)
    _fails_cleanly(model_dir, capfd, "model.keras", "config.json", "refused unread")


def test_a_member_that_inflates_a_thousandfold_is_refused_unread(model_dir, capfd):
    _add_member(model_dir, "assets/padding.bin", b"\0" * (4 << 20))
    _fails_cleanly(model_dir, capfd, "model.keras", "padding.bin", "zip bomb")


def test_an_archive_of_many_members_is_refused(model_dir, capfd):
    with zipfile.ZipFile(model_dir / artifacts.MODEL_FILE, "a") as archive:
        for i in range(model_archive.MAX_MEMBERS):
            archive.writestr(f"extra/{i}.txt", "x")
    _fails_cleanly(model_dir, capfd, "model.keras", "members")
