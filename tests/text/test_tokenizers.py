import pytest

from keras_seq2seq.errors import ConfigError
from keras_seq2seq.text.factory import tokenizer_from_config
from keras_seq2seq.text.tokenizers import CharTokenizer, WordTokenizer


@pytest.mark.parametrize("text, tokens", [
    ("Hello, world!", ["Hello", ",", "world", "!"]),
    ("¿Qué hora es?", ["¿", "Qué", "hora", "es", "?"]),
    ("I don't know.", ["I", "don't", "know", "."]),
    ("a well-known fact", ["a", "well-known", "fact"]),
    ("It costs 3.14 or 1,000 dollars.", ["It", "costs", "3.14", "or", "1,000", "dollars", "."]),
    ("Wait...", ["Wait", "..."]),
    ("我爱你。", ["我", "爱", "你", "。"]),
    ("私は学生です", ["私", "は", "学", "生", "で", "す"]),
    ("Tom (my friend) said \"hi\".", ["Tom", "(", "my", "friend", ")", "said", '"', "hi", '"', "."]),
    ("  spaces\tand\nnewlines  ", ["spaces", "and", "newlines"]),
])
def test_word_tokenize(text, tokens):
    assert WordTokenizer().tokenize(text) == tokens


@pytest.mark.parametrize("text", [
    "Hello, world!",
    "¿Qué hora es?",
    "¡No me digas!",
    "I don't know.",
    "It costs 3.14 or 1,000 dollars.",
    "Tom (my friend) said \"hi\" to me.",
    "我爱你。",
    "Il a dit «oui».",
    "100% sure; really.",
])
def test_word_round_trip_restores_readable_text(text):
    tokenizer = WordTokenizer()
    assert tokenizer.detokenize(tokenizer.tokenize(text)) == text


def test_word_detokenize_fixes_spacing():
    assert WordTokenizer().detokenize(["¿", "Qué", "?"]) == "¿Qué?"
    assert WordTokenizer().detokenize(["Yes", ",", "it", "'", "s", "'", "fine"]) == "Yes, it 's' fine"


def test_lowercase_and_normalisation():
    decomposed = "Cafe\u0301"  # e + combining acute
    assert WordTokenizer().tokenize(decomposed) == ["Café"]
    assert WordTokenizer(lowercase=True).tokenize("Café OLÉ") == ["café", "olé"]
    assert WordTokenizer(normalize=None).tokenize(decomposed) == [decomposed]
    assert WordTokenizer().tokenize("हिन्दी भाषा") == ["हिन्दी", "भाषा"]


@pytest.mark.parametrize("text", ["2021-03-04", "Hello, wörld!", "我爱你", "a  b"])
def test_char_round_trip(text):
    tokenizer = CharTokenizer()
    tokens = tokenizer.tokenize(text)
    assert tokenizer.detokenize(tokens) == " ".join(text.split())


def test_char_tokens_include_spaces():
    assert CharTokenizer().tokenize("a b") == ["a", " ", "b"]


def test_config_round_trip():
    for tokenizer in (CharTokenizer(lowercase=True), WordTokenizer(normalize="NFKC")):
        again = tokenizer_from_config(tokenizer.get_config())
        assert type(again) is type(tokenizer)
        assert again.get_config() == tokenizer.get_config()


def test_bad_configs_are_named():
    with pytest.raises(ConfigError, match="unknown tokenizer kind 'bpe'"):
        tokenizer_from_config({"kind": "bpe"})
    with pytest.raises(ConfigError, match="lower"):
        tokenizer_from_config({"kind": "word", "lower": True})
    with pytest.raises(ConfigError, match="normalize"):
        WordTokenizer(normalize="NFX")
