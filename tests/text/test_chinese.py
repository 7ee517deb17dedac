"""Chinese through every tokeniser option: exact round trips, the vocabulary each builds from a few
Tatoeba-like lines, what becomes <unk>, the Traditional → Simplified conversion, and the message a
user gets when an optional Chinese package is missing."""

import random
import sys

import pytest

from keras_seq2seq.errors import ConfigError
from keras_seq2seq.extras import MissingExtra
from keras_seq2seq.text.factory import tokenizer_from_config
from keras_seq2seq.text.segmenters import JiebaTokenizer
from keras_seq2seq.text.subwords import SentencePieceTokenizer
from keras_seq2seq.text.vocabulary import UNK, Vocabulary

# Both scripts occur in Tatoeba: the second and fourth lines are Traditional.
LINES = [
    "他当时一个人在家。",
    "這個桶有個洞。",
    "你在那里做什么呢？",
    "我欣賞好音樂。",
    "一部分人感觉Tom的行为举止不太合适。",
    "我的父亲65岁的时候退休了。",
]
UNSEEN = "鲸鱼在海里游泳。"  # 鲸, 鱼, 海, 游, 泳 occur in no line above


def _vocabulary(tokenizer, lines=LINES) -> Vocabulary:
    return Vocabulary.build([tokenizer.tokenize(line) for line in lines])


@pytest.mark.parametrize("config", [{"kind": "char"}, {"kind": "word"}, {"kind": "jieba"},
                                    {"kind": "char", "convert": "t2s"}])
def test_fixed_tokenisers_round_trip_chinese_exactly(config):
    tokenizer = tokenizer_from_config(config)
    for line in LINES:
        expected = tokenizer.prepare(line)
        tokens = tokenizer.tokenize(line)
        if config["kind"] == "word":  # the word tokeniser spaces out Latin words and numbers
            expected = expected.replace("Tom", " Tom ").replace("65", " 65 ")
        assert tokenizer.detokenize(tokens) == expected
    again = tokenizer_from_config(tokenizer.get_config())  # saved settings give the same tokeniser
    assert again.get_config() == tokenizer.get_config()
    assert [again.tokenize(line) for line in LINES] == [tokenizer.tokenize(line) for line in LINES]


def test_char_and_word_split_chinese_per_character():
    for kind in ("char", "word"):
        assert tokenizer_from_config({"kind": kind}).tokenize("他在家。") == ["他", "在", "家", "。"]
    assert tokenizer_from_config({"kind": "word"}).tokenize("感觉Tom的") == ["感", "觉", "Tom", "的"]
    vocabulary = _vocabulary(tokenizer_from_config({"kind": "char"}))
    assert "個" in vocabulary and "个" in vocabulary  # two scripts, two tokens


def test_jieba_gives_words_and_keeps_latin_and_numbers_whole():
    tokenizer = JiebaTokenizer()
    assert tokenizer.tokenize("他当时一个人在家。") == ["他", "当时", "一个", "人", "在家", "。"]
    assert tokenizer.tokenize("我的父亲65岁的时候退休了。")[:4] == ["我", "的", "父亲", "65"]
    assert "Tom" in tokenizer.tokenize("一部分人感觉Tom的行为举止不太合适。")
    assert tokenizer.tokenize("I don't know 3.14 他") == ["I", "don't", "know", "3.14", "他"]
    assert tokenizer.detokenize(["我", "喜欢", "Python", "3.14", "。"]) == "我喜欢Python 3.14。"
    assert tokenizer.detokenize(["I", "like", "it", "."]) == "I like it."
    # Words, not characters: fewer tokens per line than the char tokeniser.
    char = tokenizer_from_config({"kind": "char"})
    assert sum(len(tokenizer.tokenize(x)) for x in LINES) < sum(len(char.tokenize(x)) for x in LINES)


@pytest.mark.parametrize("config", [{"kind": "char"}, {"kind": "word"}, {"kind": "jieba"}])
def test_unseen_chinese_becomes_unk_in_fixed_vocabularies(config):
    tokenizer = tokenizer_from_config(config)
    vocabulary = _vocabulary(tokenizer)
    ids = vocabulary.encode(tokenizer.tokenize(UNSEEN))
    decoded = vocabulary.decode(ids)
    assert UNK in decoded  # 鲸鱼, 海里, 游泳 were never seen
    assert "在" in decoded and "。" in decoded  # seen tokens survive
    known = vocabulary.decode(vocabulary.encode(tokenizer.tokenize(LINES[0])))
    assert UNK not in known


def test_sentencepiece_learns_chinese_pieces_without_a_segmenter():
    words = "我们 喜欢 咖啡 明天 学校 朋友 音乐 老师 中国 北京 东西 时候".split()
    rng = random.Random(0)
    made = ["".join(rng.choice(words) for _ in range(rng.randint(2, 6))) + "。" for _ in range(300)]
    tokenizer = SentencePieceTokenizer.train(LINES * 5 + made, vocab_size=120)
    for line in LINES:
        pieces = tokenizer.tokenize(line)
        assert tokenizer.detokenize(pieces) == tokenizer.prepare(line)  # exact, numbers and Latin included
    # Every character of the training text is a piece (character_coverage=1.0), so no <unk>...
    assert all(UNK not in tokenizer.tokenize(line) for line in LINES)
    # ... and the words of unsegmented text become pieces of their own.
    assert {"喜欢", "音乐", "朋友"} <= {piece.lstrip("▁") for piece in tokenizer.pieces}
    # A character never seen in training has no piece: its id is <unk>'s.
    vocabulary = Vocabulary(tokenizer.pieces)
    assert vocabulary.decode(vocabulary.encode(tokenizer.tokenize("鲸"))) == ["▁", UNK]
    assert vocabulary.decode(vocabulary.encode(tokenizer.tokenize(LINES[1]))) == tokenizer.tokenize(LINES[1])


def test_traditional_to_simplified_merges_the_two_scripts():
    plain = tokenizer_from_config({"kind": "char"})
    converted = tokenizer_from_config({"kind": "char", "convert": "t2s"})
    assert converted.tokenize("這個桶有個洞。") == list("这个桶有个洞。")
    assert converted.tokenize("这个桶有个洞。") == list("这个桶有个洞。")  # Simplified stays as it is
    assert converted.get_config()["convert"] == "t2s" and "convert" not in plain.get_config()
    assert len(_vocabulary(converted)) < len(_vocabulary(plain))
    spm = SentencePieceTokenizer.train(LINES * 20, vocab_size=80, convert="t2s")
    assert "個" not in "".join(spm.pieces) and spm.get_config()["convert"] == "t2s"
    assert tokenizer_from_config({"kind": "jieba", "convert": "t2s"}).tokenize("這個") == ["这个"]
    with pytest.raises(ConfigError, match="convert must be one of"):
        tokenizer_from_config({"kind": "char", "convert": "t2x"})


@pytest.mark.parametrize("module, config", [("jieba", {"kind": "jieba"}),
                                            ("opencc", {"kind": "char", "convert": "t2s"})])
def test_a_missing_optional_package_names_the_pip_command(monkeypatch, module, config):
    from keras_seq2seq.text import scripts

    monkeypatch.setitem(sys.modules, module, None)  # `import jieba` now raises ImportError
    scripts.converter.cache_clear()
    try:
        with pytest.raises(MissingExtra, match=rf"needs {module}, .*: pip install 'keras-seq2seq\[zh\]'"):
            tokenizer_from_config(config)
    finally:
        scripts.converter.cache_clear()
