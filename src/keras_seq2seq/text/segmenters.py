"""Chinese words as tokens, found by a segmenter (jieba), for text written without spaces.

Why a segmenter: the `word` tokeniser splits Chinese per character, because nothing in the text
marks where a word ends. `jieba` (a dictionary and an HMM for unseen words) cuts "他当时一个人在家"
into 他 / 当时 / 一个 / 人 / 在家: fewer, more meaningful tokens, at the price of a larger
vocabulary with more rare words. Everything that is not Chinese is split exactly as the `word`
tokeniser splits it, and tokens join back the same way, except that no space is put next to a Chinese character
("Tom的", "100美元", as Chinese is written).

`jieba` comes with the `zh` extra (`pip install 'keras-seq2seq[zh]'`, extras.py), imported only
when this tokeniser is made.
"""

from __future__ import annotations

import logging
import re

from keras_seq2seq.extras import require
from keras_seq2seq.text.tokenizers import _CJK, _WORD_TOKEN, WordTokenizer

_CHINESE_RUN = re.compile(rf"([{_CJK}]+)")
# Chinese is written without spaces, also next to Latin words and numbers ("Tom的", "100美元").
_SPACE_BY_CHINESE = re.compile(rf"(?<=[{_CJK}]) (?=\S)|(?<=\S) (?=[{_CJK}])")


def _segmenter():
    """jieba's default segmenter, its dictionary loaded once (about a second), quietly."""
    require("zh", "the jieba tokenizer (Chinese words)")
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba.dt


class JiebaTokenizer(WordTokenizer):
    """Chinese words from jieba; everything else as the `word` tokeniser splits it.

    Examples:
    >>> JiebaTokenizer().tokenize("他当时一个人在家。")
    ['他', '当时', '一个', '人', '在家', '。']
    >>> JiebaTokenizer().detokenize(['我', '喜欢', 'Python', '3.14', '。'])
    '我喜欢 Python 3.14。'
    """

    kind = "jieba"

    def __init__(self, lowercase: bool = False, normalize: str | None = "NFC", convert: str | None = None):
        super().__init__(lowercase, normalize, convert)
        self._jieba = _segmenter()

    def tokenize(self, text: str) -> list[str]:
        tokens: list[str] = []
        for index, run in enumerate(_CHINESE_RUN.split(self.prepare(text))):
            if index % 2:  # a run of Chinese characters (and CJK punctuation)
                tokens.extend(self._jieba.lcut(run, HMM=True))
            else:
                tokens.extend(_WORD_TOKEN.findall(run))
        return tokens

    def detokenize(self, tokens: list[str]) -> str:
        """As the `word` tokeniser joins tokens, but no space next to a Chinese character."""
        return _SPACE_BY_CHINESE.sub("", super().detokenize(tokens))
