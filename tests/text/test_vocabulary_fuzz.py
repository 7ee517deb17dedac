"""Property tests: vocabularies from any tokens, and loading any file (see tests/fuzzing.py)."""

import json

from fuzzing import examples, line_text, nasty_text
from hypothesis import example, given
from hypothesis import strategies as st

from keras_seq2seq.errors import VocabularyError
from keras_seq2seq.text.vocabulary import EOS_ID, FORMAT, RESERVED, UNK_ID, Vocabulary

TOKENS = (line_text() | nasty_text()).filter(lambda t: t not in RESERVED)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | line_text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(line_text(), inner, max_size=5),
    max_leaves=20,
)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@examples(40)
@given(sentences=st.lists(st.lists(TOKENS, max_size=8), max_size=6), unseen=st.lists(TOKENS, max_size=5))
def test_encode_decode_and_json_round_trips(sentences, unseen):
    try:
        vocab = Vocabulary.build(sentences)
    except VocabularyError:  # the tokens a vocabulary refuses: "" and text that is not UTF-8
        assert any(t == "" or not _is_utf8(t) for s in sentences for t in s)
        return
    for tokens in sentences + [unseen]:
        ids = vocab.encode(tokens, add_bos=True, add_eos=True)
        assert all(0 <= i < len(vocab) for i in ids)
        assert vocab.decode(ids) == [t if t in vocab else RESERVED[UNK_ID] for t in tokens]
    # What save and load do, minus the file (an fsync per example would dominate the run time).
    assert Vocabulary.from_json(vocab.to_json().encode("utf-8").decode("utf-8")) == vocab


@given(ids=st.lists(st.integers(-2**40, 2**40) | st.integers(-3, 12), max_size=20))
def test_decode_of_any_ids_gives_tokens_or_a_vocabulary_error(ids):
    vocab = Vocabulary.build([["a", "b", "c"]])
    try:
        tokens = vocab.decode(ids)
    except VocabularyError as error:
        assert "outside the vocabulary" in str(error)
    else:
        assert len(tokens) <= len(ids) and all(isinstance(t, str) for t in tokens)
        if EOS_ID not in ids:
            assert all(0 <= i < len(vocab) for i in ids)


VOCAB_BODIES = st.one_of(
    JSON_VALUES.map(lambda v: {"format": FORMAT, "version": 1, "tokens": v}),
    st.lists(nasty_text(), max_size=8).map(lambda t: {"format": FORMAT, "version": 1, "tokens": list(RESERVED) + t}),
    st.dictionaries(st.sampled_from(["format", "version", "tokens"]), JSON_VALUES),
    JSON_VALUES,
)


@examples(60)
@given(body=VOCAB_BODIES)
@example(body={"format": FORMAT, "version": 1, "tokens": list(RESERVED) + ["\ud800"]})
def test_loading_any_json_gives_a_vocabulary_or_a_vocabulary_error(tmp_path, body):
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps(body), encoding="utf-8")  # ensure_ascii: lone surrogates as \ud800
    try:
        vocab = Vocabulary.load(path)
    except VocabularyError as error:
        assert str(path) in str(error)
        return
    # Whatever loads can be saved again (as save does: UTF-8 JSON).
    assert Vocabulary.from_json(vocab.to_json().encode("utf-8").decode("utf-8")) == vocab


@examples(100)
@given(data=st.binary(max_size=300) | nasty_text(surrogates=False).map(str.encode))
@example(data=b"[" * 100_000)
@example(data=b'{"format": "keras-seq2seq-vocabulary", "version": ' + b"1" * 5000 + b"}")
@example(data=b"\xef\xbb\xbf" + b'{"format": "keras-seq2seq-vocabulary", "version": 1, "tokens": []}')
@example(data=b"\xff\xfe" + '{"format": 1}'.encode("utf-16-le"))
def test_loading_any_bytes_gives_a_vocabulary_or_a_vocabulary_error(tmp_path, data):
    path = tmp_path / "vocab.json"
    path.write_bytes(data)
    try:
        Vocabulary.load(path)
    except VocabularyError as error:
        assert str(path) in str(error) and "\n" not in str(error)
