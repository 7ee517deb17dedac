"""Built-in generated tasks: demo data that needs no download and is the same on every machine.

Each task draws (source, target) pairs from a seeded `random.Random`, so a split is fully given by
(task, sizes, seed). The mappings are deterministic (one source, one target) and the inputs short
(at most 40 characters), so a character-level LSTM encoder-decoder without attention learns them
in a few minutes on a CPU. `reverse` has long-range dependencies, to show what attention adds.
"""

from __future__ import annotations

import datetime
import random
import string
from dataclasses import dataclass
from typing import Callable

from keras_seq2seq.data.corpus import Pair
from keras_seq2seq.errors import ConfigError

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# One template per human format; fields are filled by `_date_fields`. Every format is unambiguous:
# slashes with the year last are always month/day/year (US), dots with the year last are always
# day.month.year (European), and formats with the year first are always year-month-day.
DATE_FORMATS: dict[str, str] = {
    "month_day_year": "{Month} {d}, {Y}",           # March 3, 2021
    "mon_day_year": "{Mon} {d}, {Y}",               # Mar 3, 2021
    "day_month_year": "{d} {Month} {Y}",            # 3 March 2021
    "day_mon_year": "{d} {Mon} {Y}",                # 3 Mar 2021
    "ordinal_of_month": "{dth} of {Month}, {Y}",    # 3rd of March, 2021
    "month_ordinal": "{Month} {dth}, {Y}",          # March 3rd, 2021
    "weekday_month_day": "{Weekday}, {Month} {d}, {Y}",  # Wednesday, March 3, 2021
    "wkd_day_mon": "{Wkd}, {d} {Mon} {Y}",          # Wed, 3 Mar 2021
    "lowercase": "{month} {d} {Y}",                 # march 3 2021
    "uppercase": "{MONTH} {d}, {Y}",                # MARCH 3, 2021
    "us_slash": "{m}/{d}/{Y}",                      # 3/3/2021
    "us_slash_padded": "{mm}/{dd}/{Y}",             # 03/03/2021
    "eu_dot": "{dd}.{mm}.{Y}",                      # 03.03.2021
    "ymd_slash": "{Y}/{mm}/{dd}",                   # 2021/03/03
    "ymd_dot": "{Y}.{m}.{d}",                       # 2021.3.3
    "compact": "{Y}{mm}{dd}",                       # 20210303
    "ymd_dash": "{Y}-{m}-{d}",                      # 2021-3-3
    "chinese": "{Y}年{m}月{d}日",                   # 2021年3月3日
    "day_mon_dash": "{d}-{Mon}-{Y}",                # 3-Mar-2021
}
FIRST_DATE = datetime.date(1900, 1, 1)
LAST_DATE = datetime.date(2099, 12, 31)

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ("", "thousand", "million", "billion")


@dataclass(frozen=True)
class Task:
    """A generated task: how to draw one pair, and which tokenisers suit it."""

    name: str
    description: str
    source_tokenizer: dict
    target_tokenizer: dict
    example: Callable[[random.Random], tuple[str, str]]
    examples: tuple[tuple[str, str], ...]


# ------------------------------------------------------------------------------ dates


def _ordinal(day: int) -> str:
    """1 -> "1st", 12 -> "12th", 22 -> "22nd"."""
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _date_fields(date: datetime.date) -> dict[str, str]:
    # English names from our own tables: strftime("%B") would follow the process locale.
    month, weekday = MONTHS[date.month - 1], WEEKDAYS[date.weekday()]
    return {
        "Y": f"{date.year:04d}", "m": str(date.month), "mm": f"{date.month:02d}",
        "d": str(date.day), "dd": f"{date.day:02d}", "dth": _ordinal(date.day),
        "Month": month, "Mon": month[:3], "month": month.lower(), "MONTH": month.upper(),
        "Weekday": weekday, "Wkd": weekday[:3],
    }


def format_date(date: datetime.date, fmt_name: str) -> str:
    """`date` written in the human format `fmt_name` (a key of `DATE_FORMATS`)."""
    if fmt_name not in DATE_FORMATS:
        raise ConfigError(f"unknown date format {fmt_name!r}; available: {', '.join(DATE_FORMATS)}")
    return DATE_FORMATS[fmt_name].format(**_date_fields(date))


def _date_example(rng: random.Random) -> tuple[str, str]:
    """A uniform date in 1900..2099 in a uniformly chosen format -> ISO 8601."""
    date = datetime.date.fromordinal(rng.randint(FIRST_DATE.toordinal(), LAST_DATE.toordinal()))
    return format_date(date, rng.choice(list(DATE_FORMATS))), date.isoformat()


# ---------------------------------------------------------------------------- numbers


def _below_thousand(n: int) -> list[str]:
    words = []
    if n >= 100:
        words += [_ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(_TENS[n // 10] + (f"-{_ONES[n % 10]}" if n % 10 else ""))
    elif n:
        words.append(_ONES[n])
    return words


def number_to_words(n: int) -> str:
    """American English words without "and": 1234 -> "one thousand two hundred thirty-four"."""
    if not 0 <= n < 1000 ** len(_SCALES):
        raise ValueError(f"number_to_words supports 0 <= n < 10**{3 * len(_SCALES)}, got {n}")
    if n == 0:
        return "zero"
    words: list[str] = []
    for power in range(len(_SCALES) - 1, -1, -1):
        group = n // 1000 ** power % 1000
        if group:
            words += _below_thousand(group) + ([_SCALES[power]] if power else [])
    return " ".join(words)


def _number_example(rng: random.Random) -> tuple[str, str]:
    """Digit count 1..6 uniform (so "7" is as common as "712,345"), sometimes with commas."""
    digits = rng.randint(1, 6)
    n = rng.randint(0 if digits == 1 else 10 ** (digits - 1), 10 ** digits - 1)
    source = f"{n:,}" if rng.random() < 0.5 else str(n)
    return source, number_to_words(n)


# ---------------------------------------------------------------------------- reverse


def _reverse_example(rng: random.Random) -> tuple[str, str]:
    """5..30 random lowercase letters -> the same letters backwards."""
    text = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(5, 30)))
    return text, text[::-1]


# ----------------------------------------------------------------------------- registry

_CHAR = {"kind": "char"}
_WORD = {"kind": "word"}

TASKS: dict[str, Task] = {
    "dates": Task(
        name="dates",
        description="normalise a date in one of many human formats to ISO YYYY-MM-DD",
        source_tokenizer=dict(_CHAR), target_tokenizer=dict(_CHAR), example=_date_example,
        examples=tuple(
            (format_date(date, fmt), date.isoformat()) for date, fmt in (
                (datetime.date(1976, 7, 4), "month_day_year"),
                (datetime.date(2021, 3, 3), "weekday_month_day"),
                (datetime.date(1999, 12, 31), "eu_dot"),
                (datetime.date(2008, 8, 8), "chinese"),
                (datetime.date(1912, 4, 15), "ordinal_of_month"),
            )
        ),
    ),
    "numbers": Task(
        name="numbers",
        description="spell out an integer 0..999,999 in English words",
        source_tokenizer=dict(_CHAR), target_tokenizer=dict(_WORD), example=_number_example,
        examples=tuple((source, number_to_words(int(source.replace(",", ""))))
                       for source in ("1234", "21", "100,000", "0", "999999")),
    ),
    "reverse": Task(
        name="reverse",
        description="reverse a string of 5..30 lowercase letters",
        source_tokenizer=dict(_CHAR), target_tokenizer=dict(_CHAR), example=_reverse_example,
        examples=tuple((s, s[::-1]) for s in ("hello", "sequence", "abcdefghijklmnopqrstuvwxyz")),
    ),
}


def get_task(name: str) -> Task:
    """The built-in task called `name`; a ConfigError listing the tasks otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        raise ConfigError(f"unknown task {name!r}; available tasks: {', '.join(TASKS)}") from None


def task_splits(name: str, train: int = 20000, dev: int = 1000, test: int = 1000,
                seed: int = 0) -> dict[str, list[Pair]]:
    """Train/dev/test pairs of task `name`, no source repeated within or across splits.

    Held-out splits must be unseen inputs, or dev/test scores would measure memorising. Each split
    has its own generator seeded from (name, seed, split). Train is drawn first, so the small
    parts of an input space (numbers below 1000, say) go to training, where they teach the most.
    """
    task = get_task(name)
    sizes = {"train": train, "dev": dev, "test": test}
    for split, size in sizes.items():
        if size < 0:
            raise ConfigError(f"{split} size must be >= 0, got {size}")
    seen: set[str] = set()
    splits: dict[str, list[Pair]] = {}
    for split, size in sizes.items():
        # String seeds hash with SHA-512: stable across processes, unlike hash().
        rng = random.Random(f"{name}:{seed}:{split}")
        pairs: list[Pair] = []
        budget = 20 * size + 10_000  # draws allowed before deciding the space is too small
        while len(pairs) < size:
            if budget == 0:
                raise ConfigError(
                    f"task {name!r} cannot produce {size} distinct {split} sources beyond the "
                    f"{len(seen) - len(pairs)} already used (found {len(pairs)}); ask for fewer")
            budget -= 1
            source, target = task.example(rng)
            if source not in seen:
                seen.add(source)
                pairs.append(Pair(source, target, origin=f"{name}:{split}:{len(pairs)}"))
        splits[split] = pairs
    return splits
