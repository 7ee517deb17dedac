"""Built-in tasks: right answers, unambiguous, short inputs, and clean reproducible splits.

The date and number checks parse the generated text back with code that shares nothing with the
module (strptime, Zeller's congruence, a words-to-number parser), so a wrong table there fails.
"""

import random
import re
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from keras_seq2seq.data.tasks import (
    DATE_FORMATS,
    TASKS,
    Task,
    format_date,
    get_task,
    number_to_words,
    task_splits,
)
from keras_seq2seq.errors import ConfigError

# ------------------------------------------------------------------ independent date checkers

_ZELLER_DAYS = ("Saturday", "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


def _weekday_name(d: date) -> str:
    """Zeller's congruence: the weekday computed without datetime."""
    year, month = (d.year - 1, d.month + 12) if d.month < 3 else (d.year, d.month)
    k, j = year % 100, year // 100
    return _ZELLER_DAYS[(d.day + 13 * (month + 1) // 5 + k + k // 4 + j // 4 + 5 * j) % 7]


def _suffix(day: int) -> str:
    if day in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _parse(text, fmt):
    try:
        return datetime.strptime(text, fmt).date()
    except ValueError:  # e.g. "Mar" where %B wants "March": not this format
        return None


def _strp(pattern, fmt):
    def parse(source):
        return _parse(source, fmt) if re.fullmatch(pattern, source) else None
    return parse


def _ordinal(pattern, fmt):
    """Patterns with a `(\\d+)(st|nd|rd|th)` day: check the suffix, then parse without it."""
    def parse(source):
        m = re.fullmatch(pattern, source)
        if not m or _suffix(int(m["day"])) != m["suffix"]:
            return None
        return _parse(source.replace(m["day"] + m["suffix"], m["day"], 1), fmt)
    return parse


def _weekday(pattern, fmt):
    def parse(source):
        m = re.fullmatch(pattern, source)
        if not m:
            return None
        d = _parse(m["rest"], fmt)
        return d if d and m["weekday"] in (_weekday_name(d), _weekday_name(d)[:3]) else None
    return parse


def _chinese(source):
    m = re.fullmatch(r"(\d{4})年([1-9]\d?)月([1-9]\d?)日", source)
    return date(int(m[1]), int(m[2]), int(m[3])) if m else None


DAY = r"[1-9]\d?"
ORD = r"(?P<day>[1-9]\d?)(?P<suffix>st|nd|rd|th)"
CHECKERS = {
    "month_day_year": _strp(rf"[A-Z][a-z]+ {DAY}, \d{{4}}", "%B %d, %Y"),
    "mon_day_year": _strp(rf"[A-Z][a-z]{{2}} {DAY}, \d{{4}}", "%b %d, %Y"),
    "day_month_year": _strp(rf"{DAY} [A-Z][a-z]+ \d{{4}}", "%d %B %Y"),
    "day_mon_year": _strp(rf"{DAY} [A-Z][a-z]{{2}} \d{{4}}", "%d %b %Y"),
    "ordinal_of_month": _ordinal(rf"{ORD} of [A-Z][a-z]+, \d{{4}}", "%d of %B, %Y"),
    "month_ordinal": _ordinal(rf"[A-Z][a-z]+ {ORD}, \d{{4}}", "%B %d, %Y"),
    "weekday_month_day": _weekday(
        rf"(?P<weekday>[A-Z][a-z]+day), (?P<rest>[A-Z][a-z]+ {DAY}, \d{{4}})", "%B %d, %Y"),
    "wkd_day_mon": _weekday(
        rf"(?P<weekday>[A-Z][a-z]{{2}}), (?P<rest>{DAY} [A-Z][a-z]{{2}} \d{{4}})", "%d %b %Y"),
    "lowercase": _strp(rf"[a-z]+ {DAY} \d{{4}}", "%B %d %Y"),
    "uppercase": _strp(rf"[A-Z]+ {DAY}, \d{{4}}", "%B %d, %Y"),
    "us_slash": _strp(rf"{DAY}/{DAY}/\d{{4}}", "%m/%d/%Y"),
    "us_slash_padded": _strp(r"\d\d/\d\d/\d{4}", "%m/%d/%Y"),
    "eu_dot": _strp(r"\d\d\.\d\d\.\d{4}", "%d.%m.%Y"),
    "ymd_slash": _strp(r"\d{4}/\d\d/\d\d", "%Y/%m/%d"),
    "ymd_dot": _strp(rf"\d{{4}}\.{DAY}\.{DAY}", "%Y.%m.%d"),
    "compact": _strp(r"\d{8}", "%Y%m%d"),
    "ymd_dash": _strp(rf"\d{{4}}-{DAY}-{DAY}", "%Y-%m-%d"),
    "chinese": _chinese,
    "day_mon_dash": _strp(rf"{DAY}-[A-Z][a-z]{{2}}-\d{{4}}", "%d-%b-%Y"),
}


def _sample_dates(n=400):
    rng = random.Random(7)
    start, end = date(1900, 1, 1).toordinal(), date(2099, 12, 31).toordinal()
    edges = [date(1900, 1, 1), date(2099, 12, 31), date(2000, 2, 29), date(1900, 2, 28),
             date(2021, 3, 3)] + [date(2021, 1, day) for day in range(1, 32)]
    return edges + [date.fromordinal(rng.randint(start, end)) for _ in range(n)]


def test_every_date_format_has_a_checker():
    assert set(CHECKERS) == set(DATE_FORMATS)


@pytest.mark.parametrize("fmt", sorted(DATE_FORMATS))
def test_every_date_format_parses_back_to_the_same_date(fmt):
    for d in _sample_dates():
        source = format_date(d, fmt)
        assert CHECKERS[fmt](source) == d, (fmt, source, d)


def test_date_format_examples_from_the_spec():
    d = date(2021, 3, 3)
    assert format_date(d, "weekday_month_day") == "Wednesday, March 3, 2021"
    assert format_date(d, "wkd_day_mon") == "Wed, 3 Mar 2021"
    assert format_date(d, "ordinal_of_month") == "3rd of March, 2021"
    assert format_date(d, "lowercase") == "march 3 2021"
    assert format_date(d, "chinese") == "2021年3月3日"
    assert format_date(date(2021, 12, 5), "us_slash") == "12/5/2021"
    assert format_date(date(2021, 12, 5), "eu_dot") == "05.12.2021"
    assert format_date(date(1999, 9, 22), "day_mon_dash") == "22-Sep-1999"


def test_unknown_date_format_is_a_config_error():
    with pytest.raises(ConfigError, match="month_day_year"):
        format_date(date(2021, 3, 3), "klingon")


def test_date_examples_are_correct_unambiguous_and_use_every_format():
    example = get_task("dates").example
    rng = random.Random(3)
    n = 4000
    used = Counter()
    years = []
    for _ in range(n):
        source, target = example(rng)
        parsed = {name: c(source) for name, c in CHECKERS.items()}
        matched = {name: d for name, d in parsed.items() if d is not None}
        assert matched, source
        # Every reading of the source gives the target: no format can be mistaken for another.
        assert {d.isoformat() for d in matched.values()} == {target}, (source, matched)
        used.update(matched.keys())
        years.append(int(target[:4]))
    assert all(used[name] >= n / len(DATE_FORMATS) / 2 for name in DATE_FORMATS), used
    assert min(years) < 1910 and max(years) > 2090


# ------------------------------------------------------------------------------- numbers

_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)}


def _words_to_number(text: str) -> int:
    total = current = 0
    for word in text.split():
        if "-" in word:
            tens, unit = word.split("-")
            assert tens in _TENS and 1 <= _UNITS[unit] <= 9, word
            current += _TENS[tens] + _UNITS[unit]
        elif word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current *= 100
        elif word == "thousand":
            total, current = total + current * 1000, 0
        else:
            raise AssertionError(f"unexpected word {word!r} in {text!r}")
    return total + current


@pytest.mark.parametrize("n, words", [
    (0, "zero"), (7, "seven"), (13, "thirteen"), (20, "twenty"), (21, "twenty-one"),
    (40, "forty"), (99, "ninety-nine"), (100, "one hundred"), (101, "one hundred one"),
    (110, "one hundred ten"), (999, "nine hundred ninety-nine"), (1000, "one thousand"),
    (1001, "one thousand one"), (1234, "one thousand two hundred thirty-four"),
    (10000, "ten thousand"), (12345, "twelve thousand three hundred forty-five"),
    (100000, "one hundred thousand"), (100001, "one hundred thousand one"),
    (999999, "nine hundred ninety-nine thousand nine hundred ninety-nine"),
])
def test_number_to_words_known_values(n, words):
    assert number_to_words(n) == words


def test_number_to_words_rejects_negative_numbers():
    with pytest.raises(ValueError):
        number_to_words(-1)


def test_number_examples_read_back_and_cover_small_and_large():
    example = get_task("numbers").example
    rng = random.Random(5)
    values, with_commas, plain_large = [], 0, 0
    for _ in range(3000):
        source, target = example(rng)
        n = int(source.replace(",", ""))
        assert source in (str(n), f"{n:,}")
        assert _words_to_number(target) == n, (source, target)
        assert " and " not in f" {target} "
        values.append(n)
        with_commas += "," in source
        plain_large += n >= 1000 and "," not in source
    assert min(values) == 0 and max(values) >= 990_000
    assert sum(v < 10 for v in values) > 300 and sum(v >= 100_000 for v in values) > 300
    assert with_commas > 300 and plain_large > 300


# ------------------------------------------------------------------------- all the tasks


def test_reverse_examples():
    rng = random.Random(2)
    lengths = set()
    for _ in range(2000):
        source, target = get_task("reverse").example(rng)
        assert re.fullmatch(r"[a-z]{5,30}", source) and target == source[::-1]
        lengths.add(len(source))
    assert lengths == set(range(5, 31))


@pytest.mark.parametrize("name", sorted(TASKS))
def test_inputs_are_short_and_the_mapping_is_a_function(name):
    task = get_task(name)
    rng = random.Random(11)
    target_of = {}
    for _ in range(5000):
        source, target = task.example(rng)
        assert 0 < len(source) <= 40, source
        assert target_of.setdefault(source, target) == target, source
    assert task.name == name and task.description and task.examples
    assert task.source_tokenizer["kind"] == "char"
    assert task.target_tokenizer["kind"] == ("word" if name == "numbers" else "char")


def test_longest_date_formats_fit_in_40_characters():
    # Every month, weekday and day-of-month spelling occurs within one year.
    for offset in range(365):
        d = date(2021, 1, 1) + timedelta(days=offset)
        for fmt in DATE_FORMATS:
            assert len(format_date(d, fmt)) <= 40


def test_fixed_examples_are_right():
    for source, target in TASKS["dates"].examples:
        assert {d.isoformat() for d in (c(source) for c in CHECKERS.values()) if d} == {target}
    for source, target in TASKS["numbers"].examples:
        assert _words_to_number(target) == int(source.replace(",", ""))
    for source, target in TASKS["reverse"].examples:
        assert target == source[::-1]


def test_unknown_task_lists_the_tasks():
    with pytest.raises(ConfigError) as info:
        get_task("dats")
    for name in TASKS:
        assert name in str(info.value)
    with pytest.raises(ConfigError, match="dates"):
        task_splits("dats")


# -------------------------------------------------------------------------------- splits


@pytest.mark.parametrize("name", sorted(TASKS))
def test_splits_have_the_sizes_and_share_no_source(name):
    splits = task_splits(name, train=3000, dev=200, test=300, seed=1)
    assert {k: len(v) for k, v in splits.items()} == {"train": 3000, "dev": 200, "test": 300}
    sources = [p.source for pairs in splits.values() for p in pairs]
    assert len(set(sources)) == len(sources)
    for split, pairs in splits.items():
        assert [p.origin for p in pairs] == [f"{name}:{split}:{i}" for i in range(len(pairs))]
        assert all(len(p.source) <= 40 for p in pairs)


def test_default_sizes():
    splits = task_splits("numbers")
    assert [len(splits[k]) for k in ("train", "dev", "test")] == [20000, 1000, 1000]
    sources = [p.source for pairs in splits.values() for p in pairs]
    assert len(set(sources)) == len(sources)
    for pair in splits["test"][:200]:
        assert pair.target == number_to_words(int(pair.source.replace(",", "")))


@pytest.mark.parametrize("name", sorted(TASKS))
def test_splits_are_reproducible_per_seed(name):
    first = task_splits(name, train=500, dev=50, test=50, seed=3)
    assert first == task_splits(name, train=500, dev=50, test=50, seed=3)
    other = task_splits(name, train=500, dev=50, test=50, seed=4)
    for split in first:
        assert [p.source for p in first[split]] != [p.source for p in other[split]]


def test_a_too_small_task_space_raises_instead_of_looping(monkeypatch):
    def five(rng):
        value = str(rng.randint(0, 4))
        return value, value

    tiny = Task("tiny", "five possible inputs", {"kind": "char"}, {"kind": "char"}, five, ())
    monkeypatch.setitem(TASKS, "tiny", tiny)
    splits = task_splits("tiny", train=3, dev=1, test=1)
    assert sorted(p.source for pairs in splits.values() for p in pairs) == list("01234")
    with pytest.raises(ConfigError, match="distinct"):
        task_splits("tiny", train=4, dev=1, test=1)


def test_negative_sizes_are_rejected():
    with pytest.raises(ConfigError):
        task_splits("reverse", train=-1)
