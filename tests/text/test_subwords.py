"""SentencePiece subwords: exact round trips, ids shared with Vocabulary, joint vs separate models,
and whole translators trained, saved with their .model files and loaded back unchanged."""

import random
import shutil

import pytest

from keras_seq2seq.cli import build_parser
from keras_seq2seq.run_config import apply
from keras_seq2seq.config import Settings, TextSettings, preset
from keras_seq2seq.errors import ConfigError, ModelFileError
from keras_seq2seq.text.subwords import (JOINT_MODEL_FILE, SOURCE_MODEL_FILE, TARGET_MODEL_FILE,
                                         SentencePieceTokenizer, train_subword_tokenizers)
from keras_seq2seq.text.factory import tokenizer_from_config
from keras_seq2seq.text.vocabulary import RESERVED, UNK_ID, Vocabulary
from keras_seq2seq.translator import Translator

SPANISH = "el El la los niño niña está café árbol canción pingüino habló comió mañana qué Dónde".split()
ENGLISH = "the a boy girl is coffee tree song penguin spoke ate tomorrow what where".split()
CHINESE = "我 你 他 爱 喝 咖 啡 树 歌 明 天 吃".split()
MARKS = [".", ",", "?", "!", "¿", "¡", "«", "»", "3.14", "100%", "(", ")"]


def _sentences(words: list[str], count: int, seed: int) -> list[str]:
    """`count` varied sentences: a few hundred lines are enough for ~100-200 pieces."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(words) for _ in range(rng.randint(2, 9))) for _ in range(count)]


SOURCES = _sentences(SPANISH + MARKS, 300, 1) + _sentences(CHINESE, 60, 2)
TARGETS = _sentences(ENGLISH + MARKS, 300, 3)
ROUND_TRIP = [
    "¿Dónde está el niño?",
    "¡El pingüino habló «mañana»!",
    "la canción (100%) comió 3.14 árbol, qué.",
    "我爱你 他 喝咖啡",
    "el café   está\tmañana",  # runs of whitespace read back as one space
]


@pytest.fixture(scope="module", params=["unigram", "bpe"])
def tokenizer(request):
    return SentencePieceTokenizer.train(SOURCES, vocab_size=150, model_type=request.param)


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_round_trip_is_exact(tokenizer, text):
    pieces = tokenizer.tokenize(text)
    assert len(pieces) > 1
    assert tokenizer.detokenize(pieces) == " ".join(text.split())


def test_round_trip_through_the_vocabulary(tokenizer):
    vocab = Vocabulary(tokenizer.pieces)
    for text in ROUND_TRIP:
        ids = vocab.encode(tokenizer.tokenize(text), add_eos=True)
        assert UNK_ID not in ids  # every character was in the training text
        assert tokenizer.detokenize(vocab.decode(ids)) == " ".join(text.split())


def test_vocabulary_ids_are_sentencepiece_ids(tokenizer):
    pieces = tokenizer.pieces
    assert tuple(pieces[:4]) == RESERVED
    assert 40 < len(pieces) <= 150
    vocab = Vocabulary(pieces)
    text = ROUND_TRIP[0]
    assert vocab.encode(tokenizer.tokenize(text)) == tokenizer._processor.encode(text)


def test_unknown_characters_read_unk(tokenizer):
    vocab = Vocabulary(tokenizer.pieces)
    ids = vocab.encode(tokenizer.tokenize("el Ж niño"))
    assert UNK_ID in ids
    assert tokenizer.detokenize(vocab.decode(ids)) == "el <unk> niño"


def test_lowercase_and_normalisation():
    tokenizer = SentencePieceTokenizer.train(SOURCES, vocab_size=120, lowercase=True)
    decomposed = "E\u0301l ESTA\u0301"  # É and Á typed as letter + combining accent
    assert tokenizer.detokenize(tokenizer.tokenize(decomposed)) == "él está"


def test_training_is_deterministic():
    first = SentencePieceTokenizer.train(SOURCES, vocab_size=150)
    second = SentencePieceTokenizer.train(SOURCES, vocab_size=150)
    assert first.model_proto == second.model_proto


def test_vocab_size_too_small_is_a_config_error():
    with pytest.raises(ConfigError, match="vocab_size 20 is too small.*at least"):
        SentencePieceTokenizer.train(SOURCES, vocab_size=20)
    with pytest.raises(ConfigError, match="empty"):
        SentencePieceTokenizer.train(["", "  "], vocab_size=50)


def _text(**options) -> TextSettings:
    sp = {"kind": "sentencepiece"}
    return Settings().updated(source_tokenizer=sp, target_tokenizer=sp, vocab_size=150, **options).text


def test_separate_models_per_side():
    tokenizers = train_subword_tokenizers(_text(), SOURCES, TARGETS)
    source, target = tokenizers["source"], tokenizers["target"]
    assert (source.model_file, target.model_file) == (SOURCE_MODEL_FILE, TARGET_MODEL_FILE)
    assert "▁niño" in source.pieces and "▁niño" not in target.pieces
    assert "▁girl" in target.pieces and "▁girl" not in source.pieces


def test_joint_model_is_shared_by_both_sides():
    tokenizers = train_subword_tokenizers(_text(joint_vocab=True), SOURCES, TARGETS)
    source, target = tokenizers["source"], tokenizers["target"]
    assert source.model_file == target.model_file == JOINT_MODEL_FILE
    assert source.pieces == target.pieces
    assert "▁niño" in source.pieces and "▁girl" in source.pieces


def test_only_subword_sides_are_trained():
    text = Settings().updated(target_tokenizer={"kind": "sentencepiece"}, vocab_size=150).text
    assert list(train_subword_tokenizers(text, SOURCES, TARGETS)) == ["target"]


@pytest.mark.parametrize("options, message", [
    (dict(joint_vocab=True), "joint_vocab .* needs the sentencepiece tokenizer on both"),
    (dict(vocab_size=4), "vocab_size must be"),
    (dict(subword_model="wordpiece"), "subword_model must be one of"),
])
def test_settings_are_validated(options, message):
    with pytest.raises(ConfigError, match=message):
        Settings().updated(**options)


def test_save_and_load(tmp_path, tokenizer):
    tokenizer.save(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [tokenizer.model_file]  # no temporary left
    loaded = tokenizer_from_config(tokenizer.get_config(), tmp_path)
    assert isinstance(loaded, SentencePieceTokenizer)
    assert loaded.pieces == tokenizer.pieces
    assert loaded.tokenize(ROUND_TRIP[1]) == tokenizer.tokenize(ROUND_TRIP[1])


def test_missing_or_corrupt_model_file_names_the_file(tmp_path, tokenizer):
    config = tokenizer.get_config()
    with pytest.raises(ModelFileError, match=f"{tokenizer.model_file}: SentencePiece model file not found"):
        tokenizer_from_config(config, tmp_path)
    (tmp_path / tokenizer.model_file).write_bytes(b"\x0a\xff" + tokenizer.model_proto[:50])
    with pytest.raises(ModelFileError, match=f"{tokenizer.model_file}: not a SentencePiece model"):
        tokenizer_from_config(config, tmp_path)
    with pytest.raises(ModelFileError, match="must sit in the model directory"):
        tokenizer_from_config({**config, "model_file": "../elsewhere.model"}, tmp_path)
    for bad in (5, None, ""):  # a hand-edited config.json
        with pytest.raises(ModelFileError, match="model_file setting must be a file name"):
            tokenizer_from_config({**config, "model_file": bad}, tmp_path)


def test_a_sentencepiece_config_needs_its_model():
    with pytest.raises(ConfigError, match="trained on the corpus"):
        tokenizer_from_config({"kind": "sentencepiece"})
    with pytest.raises(ConfigError, match="unknown tokenizer option"):
        tokenizer_from_config({"kind": "word", "model_file": "x.model"})


# ------------------------------------------------------------------ whole translators

PAIRS = list(zip(SOURCES, TARGETS))
TINY = dict(epochs=1, units=32, embedding_dim=16, num_layers=1, batch_size=64, vocab_size=150,
            length_step=64)  # one padded shape: one compiled training step
SP = {"kind": "sentencepiece"}
VARIANTS = {
    "separate-unigram-tied": dict(tie_embeddings=True),
    "joint-bpe": dict(joint_vocab=True, subword_model="bpe"),
}


@pytest.fixture(scope="module", params=list(VARIANTS))
def saved(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param)
    options = dict(source_tokenizer=SP, target_tokenizer=SP, max_output_len=24, **TINY, **VARIANTS[request.param])
    if request.param.startswith("joint"):  # untrained: saving and loading is what is tested
        translator = Translator.create(PAIRS[:250], **options)
        translator.save(out)
    else:  # trained (one quick epoch), so the training path reads subword ids too
        translator = Translator.train(PAIRS[:250], out_dir=out, verbose=0, **options)
    return request.param, translator, out


def test_saved_model_translates_the_same(saved):
    name, translator, out = saved
    sources = [source for source, _ in PAIRS[250:]]
    loaded = Translator.load(out)
    assert loaded.settings == translator.settings
    assert isinstance(loaded.target_tokenizer, SentencePieceTokenizer)
    outputs = loaded.translate(sources)
    assert outputs == translator.translate(sources)
    assert all("▁" not in text for text in outputs)  # pieces were joined into text


def test_model_directory_holds_the_sentencepiece_files(saved):
    name, translator, out = saved
    files = {p.name for p in out.iterdir()}
    text = translator.settings.text
    if name.startswith("joint"):
        assert JOINT_MODEL_FILE in files and SOURCE_MODEL_FILE not in files
        assert text.source_tokenizer["model_file"] == text.target_tokenizer["model_file"] == JOINT_MODEL_FILE
        assert translator.source_vocab == translator.target_vocab
    else:
        assert {SOURCE_MODEL_FILE, TARGET_MODEL_FILE} <= files
        assert translator.source_vocab != translator.target_vocab
    assert not any(name.endswith(".tmp") for name in files)
    assert translator.target_vocab.tokens == translator.target_tokenizer.pieces


def _copy(out, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(out, copy)
    return copy


def test_missing_model_file_names_it(saved, tmp_path):
    _, translator, out = saved
    copy = _copy(out, tmp_path)
    (copy / translator.target_tokenizer.model_file).unlink()
    with pytest.raises(ModelFileError, match=f"{translator.target_tokenizer.model_file}: SentencePiece model file not found"):
        Translator.load(copy)


def test_corrupt_model_file_names_it(saved, tmp_path):
    _, translator, out = saved
    copy = _copy(out, tmp_path)
    (copy / translator.source_tokenizer.model_file).write_bytes(b"\x0a\xffnot a model")
    with pytest.raises(ModelFileError, match=f"{translator.source_tokenizer.model_file}: not a SentencePiece model"):
        Translator.load(copy)


def test_model_file_from_another_run_is_refused(saved, tmp_path):
    _, translator, out = saved
    copy = _copy(out, tmp_path)
    other = SentencePieceTokenizer.train(TARGETS, vocab_size=60, model_file=translator.target_tokenizer.model_file)
    other.save(copy)
    with pytest.raises(ModelFileError, match="its pieces do not match"):
        Translator.load(copy)


def test_cli_text_and_model_options_reach_the_settings():
    args = build_parser().parse_args([
        "train", "--data", "x.tsv", "--out", "runs/x", "--tokenizer", "sentencepiece",
        "--vocab-size", "500", "--subword-model", "bpe", "--joint-vocab", "--tie-embeddings",
    ])
    settings = apply(preset("tatoeba-small"), vars(args))
    assert settings.text.source_tokenizer["kind"] == settings.text.target_tokenizer["kind"] == "sentencepiece"
    assert (settings.text.vocab_size, settings.text.subword_model, settings.text.joint_vocab) == (500, "bpe", True)
    assert settings.model.tie_embeddings
    assert settings.text.min_freq == 2  # the preset's other settings stay


def test_subword_preset():
    settings = preset("tatoeba-subword")
    assert settings.text.source_tokenizer["kind"] == "sentencepiece"
    assert settings.model.tie_embeddings
