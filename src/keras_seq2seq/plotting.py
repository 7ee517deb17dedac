"""Attention heat maps: one PNG per sentence, source tokens across, output tokens down.

A plot is only useful if a person can read it, so the figure grows with the sentence (one
roughly square cell per token pair, up to a limit, after which the font shrinks instead),
source labels turn vertical when they are words rather than single characters, spaces show as
`␣`, and Chinese or Japanese text is drawn with a CJK font when one is installed. Matplotlib's
default font (DejaVu Sans) has no CJK glyphs, so we add one as a per-glyph fallback: Latin
letters keep DejaVu, ideographs come from the CJK font.

    >>> from keras_seq2seq.plotting import plot_alignment
    >>> plot_alignment(translator.align(["¿Dónde está Tom?"])[0], "plots/0001.png")

matplotlib is imported inside the functions, and figures are made without pyplot (so no display
and no global figure state: the Agg renderer writes the PNG), so importing this module costs
nothing.
"""

from __future__ import annotations

import io
import os
import sys
import warnings
from pathlib import Path

from keras_seq2seq.alignment import Alignment
from keras_seq2seq.files import atomic_write_bytes

CELL_INCHES = 0.32  # side of one token-pair cell while the figure stays under MAX_INCHES
MAX_INCHES = 24.0  # longest side of the heat map itself; longer sentences get smaller cells
MAX_FONT, MIN_FONT = 10.0, 4.0  # label sizes in points
MAX_LABEL_CHARS = 18  # longer tokens are cut with "…"
COLOUR_MAP = "viridis"

# Families known to cover Chinese, Japanese and Korean, most complete first.
CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Sans CJK KR",
    "Noto Sans SC", "Source Han Sans SC", "Source Han Sans", "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei", "Droid Sans Fallback", "AR PL UMing CN", "AR PL UKai CN",
    "IPAexGothic", "IPAGothic", "TakaoGothic", "Noto Serif CJK SC", "Microsoft YaHei", "SimHei",
    "PingFang SC", "Hiragino Sans GB", "Arial Unicode MS",
)
# File names that suggest CJK coverage, for fonts installed after matplotlib built its cache.
CJK_FILE_HINTS = ("cjk", "wqy", "droidsansfallback", "uming", "ukai", "ipag", "ipaex", "takao",
                  "sourcehan", "notosanssc", "notosansjp", "simhei", "msyh")
CJK_PACKAGE = "fonts-noto-cjk"  # the Debian/Ubuntu package that provides one

_font_lookup: dict[str, str | None] = {}
_warned = False


def plot_alignment(alignment: Alignment, path: str | Path, title: str | None = None) -> None:
    """Write `alignment` as a PNG heat map to `path` (atomically: a temporary file, then rename)."""
    from keras_seq2seq.extras import require

    require("plot", "attention plots")
    import matplotlib
    from matplotlib.figure import Figure

    source = [_label(t) for t in alignment.source_tokens]
    target = [_label(t) for t in alignment.target_tokens]
    families = _font_families(source + target + [title or ""])
    cell = min(CELL_INCHES, MAX_INCHES / max(len(source), len(target), 1))
    font = max(MIN_FONT, min(MAX_FONT, cell * 72 * 0.8))
    # Words read better turned vertical; single characters stay upright and save height.
    vertical = any(len(label) > 2 for label in source)
    longest_source = max((len(label) for label in source), default=1)
    longest_target = max((len(label) for label in target), default=1)
    label_width = longest_target * font * 0.65 / 72 + 0.8  # inches left of the map
    label_height = (longest_source if vertical else 1) * font * 0.65 / 72 + 0.8
    width = max(3.5, len(source) * cell + label_width + 1.3)  # + colour bar
    height = max(2.5, len(target) * cell + label_height + (0.5 if title else 0.2))

    with matplotlib.rc_context({"font.family": families, "font.size": font}), warnings.catch_warnings():
        # Missing glyphs were reported once by `_font_families`; not once per character.
        warnings.filterwarnings("ignore", message="Glyph .* missing from")
        figure = Figure(figsize=(width, height), dpi=100)
        axes = figure.subplots()
        if source and target:
            image = axes.imshow(alignment.weights, cmap=COLOUR_MAP, vmin=0.0, vmax=1.0,
                                aspect="auto", interpolation="nearest")
            axes.set_xticks(range(len(source)))
            axes.set_yticks(range(len(target)))
            # parse_math=False: a "$" in a token is text, not the start of a formula.
            axes.set_xticklabels(source, rotation=90 if vertical else 0, parse_math=False)
            axes.set_yticklabels(target, parse_math=False)
            axes.tick_params(length=0)
            colour_bar = figure.colorbar(image, ax=axes, fraction=0.046, pad=0.03)
            colour_bar.set_label("attention weight")
        else:
            axes.set_axis_off()
            axes.text(0.5, 0.5, "empty input" if not source else "empty output",
                      ha="center", va="center", transform=axes.transAxes)
        axes.set_xlabel("source")
        axes.set_ylabel("output")
        if title:
            axes.set_title(title, parse_math=False)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight")
    atomic_write_bytes(Path(path), buffer.getvalue())


def plot_alignments(alignments: list[Alignment], directory: str | Path) -> list[Path]:
    """One PNG per alignment, `directory/0001.png` … in input order; returns the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    digits = max(4, len(str(len(alignments))))
    paths = []
    for number, alignment in enumerate(alignments, 1):
        path = directory / f"{number:0{digits}d}.png"
        plot_alignment(alignment, path)
        paths.append(path)
    return paths


def find_cjk_font() -> str | None:
    """The family name of an installed font with CJK glyphs, or None.

    Looks at the fonts matplotlib knows first, then at font files on the system it may not have
    cached yet (a font installed after matplotlib's first run), registering a match.
    """
    if "cjk" in _font_lookup:
        return _font_lookup["cjk"]
    from matplotlib import font_manager

    def known() -> str | None:
        names = {entry.name for entry in font_manager.fontManager.ttflist}
        return next((family for family in CJK_FAMILIES if family in names), None)

    family = known()
    if family is None:
        for file in font_manager.findSystemFonts():
            if any(hint in os.path.basename(file).lower().replace("-", "") for hint in CJK_FILE_HINTS):
                try:
                    font_manager.fontManager.addfont(file)
                except (OSError, RuntimeError, ValueError):  # unreadable font file: skip it
                    continue
        family = known() or next(
            (entry.name for entry in font_manager.fontManager.ttflist
             if any(hint in entry.name.lower().replace(" ", "") for hint in CJK_FILE_HINTS)), None)
    _font_lookup["cjk"] = family
    return family


def has_cjk(text: str) -> bool:
    """Whether `text` has characters of the CJK blocks (ideographs, kana, hangul, full-width forms)."""
    return any(0x2E80 <= ord(c) <= 0x9FFF or 0xAC00 <= ord(c) <= 0xD7AF or 0xF900 <= ord(c) <= 0xFAFF
               or 0xFF00 <= ord(c) <= 0xFFEF or ord(c) >= 0x20000 for c in text)


def _font_families(labels: list[str]) -> list[str]:
    """`font.family` for these labels: DejaVu Sans, then a CJK fallback if the labels need one."""
    global _warned
    if not any(has_cjk(label) for label in labels):
        return ["DejaVu Sans"]
    family = find_cjk_font()
    if family is not None:
        return ["DejaVu Sans", family]
    if not _warned:
        _warned = True
        print(f"seq2seq: warning: no font with Chinese/Japanese/Korean glyphs is installed, so those "
              f"labels may show as boxes; install one, e.g. `apt-get install {CJK_PACKAGE}`",
              file=sys.stderr)
    return ["DejaVu Sans"]


def _label(token: str) -> str:
    """A token as a tick label: visible spaces, control characters escaped, long ones cut."""
    token = token.replace(" ", "␣")
    token = "".join(c if c.isprintable() else repr(c)[1:-1] for c in token)
    return token if len(token) <= MAX_LABEL_CHARS else token[: MAX_LABEL_CHARS - 1] + "…"
