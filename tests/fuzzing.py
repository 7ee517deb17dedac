"""Hypothesis set-up shared by the fuzz tests (`tests/**/test_*_fuzz.py`): profiles and nasty text.

Two profiles. "ci" (the default) is derandomised, so every run tries the same examples and a
failure in CI reproduces on any machine; it runs few examples so the fuzz tests stay within
seconds. Setting `SEQ2SEQ_FUZZ_EXAMPLES=N` selects "deep": N fresh random examples per property,
for hunting bugs by hand, e.g.

    SEQ2SEQ_FUZZ_EXAMPLES=3000 .venv/bin/python -m pytest tests -k fuzz --hypothesis-show-statistics

`examples(n)` scales a property's CI budget (expensive properties ask for fewer).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

CI_EXAMPLES = 60
DEEP_EXAMPLES = int(os.environ.get("SEQ2SEQ_FUZZ_EXAMPLES", "0") or 0)
_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture,
          HealthCheck.large_base_example]

settings.register_profile("ci", max_examples=CI_EXAMPLES, derandomize=True, deadline=None,
                          database=None, print_blob=True, suppress_health_check=_QUIET)
settings.register_profile("deep", max_examples=max(DEEP_EXAMPLES, 1), derandomize=False, deadline=None,
                          database=None, print_blob=True, suppress_health_check=_QUIET)
settings.load_profile("deep" if DEEP_EXAMPLES else "ci")


def examples(ci: int) -> settings:
    """Settings for a property that can afford `ci` examples in CI (the deep profile is unchanged)."""
    return settings(max_examples=DEEP_EXAMPLES or ci)


# Characters that broke text software somewhere: controls and NUL, every kind of line break,
# invisible and direction marks, combining marks, emoji sequences, non-characters, private use,
# characters that change length under lowercasing or NFKC, and several scripts.
NASTY_PIECES = [
    "", " ", "  ", "\t", "\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\u2028", "\u2029",
    "\x00", "\x01", "\x07", "\x1b", "\x7f", "\x9f", "\u00a0", "\u3000", "\u200b", "\u200c", "\u200d",
    "\u200e", "\u202e", "\u2066", "\ufeff", "\ufffd", "\ufffe", "\uffff", "\ufdd0", "\ue000", "\U0010ffff",
    "\u0301", "e\u0301", "\u0915\u093f", "\u1100\u1161\u11a8", "\U0001f600", "\U0001f44d\U0001f3fd",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\U0001f1fa\U0001f1f8", "\u0130", "\u00df", "\ufb01",
    "\u2126", "\u212b", "\u00bd", "\u2460", "\uff21", "مرحبا بالعالم", "שָׁלוֹם", "日本語の文", "한국어",
    "Привет", "ελληνικά", "हिन्दी", "ไทย", "'", "’", "-", "...", "…", '"', "¿", "¡", "«", "»", "(", ")",
    "<pad>", "<unk>", "<eos>", "<bos>", "3.14", "1,000", "10:30", "don't", "well-known", "a", "word",
]
LONE_SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff", "\ud83d"]


def nasty_text(surrogates: bool = True) -> st.SearchStrategy[str]:
    """Any Unicode text, biased towards the hard cases; up to 10,000 characters.

    `surrogates=False` leaves out lone surrogates (for text that must be encodable as UTF-8).
    """
    pieces = NASTY_PIECES + (LONE_SURROGATES if surrogates else [])
    any_char = st.characters(exclude_categories=() if surrogates else ("Cs",))
    piece = st.sampled_from(pieces) | st.text(any_char, max_size=4)
    mixed = st.lists(piece, max_size=24).map("".join)
    # Long inputs: a piece repeated up to exactly 10,000 characters.
    long = st.tuples(st.sampled_from([p for p in pieces if p]) | st.text(any_char, min_size=1, max_size=8),
                     st.sampled_from([10_000, 2_049, 513])).map(lambda t: (t[0] * t[1])[: t[1]])
    return st.one_of(st.text(any_char, max_size=40), mixed, long)


def line_text() -> st.SearchStrategy[str]:
    """Text for one corpus line: nasty, short, encodable as UTF-8."""
    piece = st.sampled_from(NASTY_PIECES) | st.text(max_size=4)
    return st.lists(piece, max_size=8).map("".join)
