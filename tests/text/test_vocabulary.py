import json

import pytest

from keras_seq2seq.errors import VocabularyError
from keras_seq2seq.text.vocabulary import BOS_ID, EOS_ID, PAD_ID, RESERVED, UNK_ID, Vocabulary


def test_reserved_ids():
    assert (PAD_ID, UNK_ID, BOS_ID, EOS_ID) == (0, 1, 2, 3)
    assert Vocabulary.build([]).tokens == list(RESERVED)


def test_build_orders_by_frequency_then_token():
    vocab = Vocabulary.build([["b", "a", "c"], ["c", "b"], ["c"]])
    assert vocab.tokens[4:] == ["c", "b", "a"]


def test_min_freq_and_max_size():
    lists = [["x", "y", "y", "z", "z", "z"]]
    assert Vocabulary.build(lists, min_freq=2).tokens[4:] == ["z", "y"]
    assert Vocabulary.build(lists, max_size=5).tokens[4:] == ["z"]
    with pytest.raises(VocabularyError, match="max_size"):
        Vocabulary.build(lists, max_size=3)


def test_reserved_tokens_in_text_are_not_duplicated():
    vocab = Vocabulary.build([["<eos>", "a"]])
    assert vocab.tokens == list(RESERVED) + ["a"]


def test_encode_decode():
    vocab = Vocabulary.build([["hello", "world"]])
    ids = vocab.encode(["hello", "there", "world"], add_bos=True, add_eos=True)
    assert ids[0] == BOS_ID and ids[-1] == EOS_ID and ids[2] == UNK_ID
    assert vocab.decode(ids + [vocab.token_to_id("hello")]) == ["hello", "<unk>", "world"]
    assert vocab.decode([PAD_ID, vocab.token_to_id("world"), PAD_ID]) == ["world"]


def test_id_to_token_out_of_range():
    with pytest.raises(VocabularyError, match="outside"):
        Vocabulary.build([]).id_to_token(99)


def test_json_round_trip(tmp_path):
    vocab = Vocabulary.build([["é", " ", "我", "a"]])
    path = tmp_path / "vocab.json"
    vocab.save(path)
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == "keras-seq2seq-vocabulary"
    assert Vocabulary.load(path) == vocab
    assert [p.name for p in tmp_path.iterdir()] == ["vocab.json"]  # no temporary left behind


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"tokens": []}', "not a keras-seq2seq vocabulary"),
    ('{"format": "keras-seq2seq-vocabulary", "version": 9, "tokens": []}', "version 9"),
    ('{"format": "keras-seq2seq-vocabulary", "version": 1, "tokens": ["a"]}', "must start with"),
    ('{"format": "keras-seq2seq-vocabulary", "version": 1, "tokens": ["<pad>", "<unk>", "<bos>", "<eos>", "a", "a"]}', "twice"),
])
def test_bad_files_name_the_path(tmp_path, content, message):
    path = tmp_path / "vocab.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(VocabularyError, match=message) as error:
        Vocabulary.load(path)
    assert str(path) in str(error.value)


def test_missing_file(tmp_path):
    with pytest.raises(VocabularyError, match="not found"):
        Vocabulary.load(tmp_path / "nope.json")
