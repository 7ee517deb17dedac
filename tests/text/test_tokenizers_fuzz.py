"""Property tests: both tokenisers take any string (see tests/fuzzing.py for the profiles)."""

import pytest
from fuzzing import nasty_text
from hypothesis import given
from hypothesis import strategies as st

from keras_seq2seq.text.tokenizers import CharTokenizer, WordTokenizer

OPTIONS = st.sampled_from([(False, "NFC"), (True, "NFC"), (True, "NFKC"), (False, None), (True, "NFD")])


@given(text=nasty_text(), options=OPTIONS)
def test_char_tokens_are_single_characters_and_round_trip(text, options):
    tokenizer = CharTokenizer(*options)
    tokens = tokenizer.tokenize(text)
    assert all(isinstance(t, str) and len(t) == 1 for t in tokens)
    assert all(t == " " or not t.isspace() for t in tokens)  # whitespace runs became one space
    assert tokenizer.detokenize(tokens) == tokenizer.prepare(text)


@given(text=nasty_text(), options=OPTIONS)
def test_word_tokens_are_never_empty_or_whitespace(text, options):
    tokenizer = WordTokenizer(*options)
    tokens = tokenizer.tokenize(text)
    assert all(isinstance(t, str) and t and not any(c.isspace() for c in t) for t in tokens)
    # Every non-space character of the prepared text survives, in order.
    assert "".join(tokens) == "".join(tokenizer.prepare(text).split())
    detokenized = tokenizer.detokenize(tokens)
    assert isinstance(detokenized, str)
    assert "".join(detokenized.split()) == "".join(tokens)


@given(tokens=st.lists(nasty_text(), max_size=20))
@pytest.mark.parametrize("tokenizer", [CharTokenizer(), WordTokenizer()], ids=["char", "word"])
def test_detokenize_takes_any_list_of_strings(tokenizer, tokens):
    assert isinstance(tokenizer.detokenize(tokens), str)


@given(text=nasty_text(surrogates=False))
def test_word_tokenisation_is_stable_under_its_own_detokenisation(text):
    """Re-tokenising the readable output gives the same tokens (what evaluation relies on)."""
    tokenizer = WordTokenizer()
    tokens = tokenizer.tokenize(text)
    assert tokenizer.tokenize(tokenizer.detokenize(tokens)) == tokens

