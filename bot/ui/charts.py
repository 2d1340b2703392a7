"""Small PNG charts (poll results, rating histograms, club stats) drawn with Pillow.

Pillow instead of matplotlib: a horizontal bar chart is a few rectangles and labels, and Pillow installs in seconds
with no font cache or backend to configure. Charts are pure functions: values in, PNG bytes out.

Text. Titles are members' words in any script, so the charts carry their own font: DejaVu Sans (``fonts/``, with its
licence; 0.7 MB), which draws Latin, Greek, Cyrillic, ★ and most symbols. A character it lacks (Chinese, Japanese,
Korean ...) is drawn with the first installed system font that has it (:data:`FALLBACK_FONTS`: the CJK fonts Linux
distributions, macOS and Windows ship), one character at a time, and as DejaVu's empty box only where no font has it.
A full CJK font weighs 15 to 30 MB, too much to bundle for the odd title.

Colours. Bars are a neutral grey; highlighted bars (a poll's winner, the most common rating) are gold, the one accent.
Text meets WCAG AA contrast (4.5:1) against the background and bars meet the 3:1 for graphics (tests check both).

Scales. Counts start at 0. Ratings bunch between 3★ and 5★, where a 0-based bar hides the difference between 3.9
and 4.1, so they take an :class:`Axis` that starts near the data and says so under the bars (:func:`rating_axis`).
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

Colour = tuple[int, int, int]

BACKGROUND: Colour = (47, 49, 54)  # Discord's dark grey, so the chart sits in the embed
TEXT: Colour = (235, 235, 235)
VALUE_TEXT: Colour = (220, 221, 222)
AXIS_TEXT: Colour = (185, 187, 190)
AXIS_LINE: Colour = (128, 132, 142)
BAR: Colour = (128, 132, 142)  # neutral: losing films and ordinary ratings are not "bad"
HIGHLIGHT: Colour = (241, 196, 15)  # the accent: the winner, the most common rating, the top film

WIDTH = 720
ROW = 34
MARGIN = 16
LABEL_WIDTH = 260
TITLE_SIZE = 20
LABEL_SIZE = 15

FONT_DIR = Path(__file__).resolve().parent / "fonts"
PRIMARY_FONT = FONT_DIR / "DejaVuSans.ttf"
#: System fonts for what DejaVu Sans lacks (mostly Chinese, Japanese and Korean), tried in this order; absent ones
#: are skipped. Debian/Ubuntu (fonts-noto-cjk, fonts-wqy-*, fonts-droid-fallback), Fedora and Arch, macOS, Windows.
FALLBACK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "/System/Library/Fonts/AppleSDGothicNeo.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/YuGothR.ttc",
    "C:/Windows/Fonts/malgun.ttf",
)
#: A code point no font draws: rendering it gives a font's "missing glyph" shape, to recognise missing characters by.
_UNASSIGNED = "\U0010fffd"

Font = ImageFont.FreeTypeFont


def contrast_ratio(first: Colour, second: Colour) -> float:
    """The WCAG 2 contrast ratio of two colours, from 1 (the same) to 21 (black on white)."""

    def luminance(colour: Colour) -> float:
        linear = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in colour]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


class Typeface:
    """Text at one size, each character drawn with the first of ``fonts`` that has a glyph for it."""

    def __init__(self, fonts: Sequence[Font]) -> None:
        if not fonts:
            raise ValueError("a typeface needs at least one font")
        self.fonts = tuple(fonts)
        self._missing = [self._shape(font, _UNASSIGNED) for font in self.fonts]
        self._choice: dict[str, Font] = {}

    @staticmethod
    def _shape(font: Font, char: str) -> tuple[tuple[int, int], bytes]:
        mask = font.getmask(char)
        return mask.size, bytes(mask)

    def covers(self, font: Font, char: str) -> bool:
        """Whether ``font`` has a glyph for ``char`` (its rendering is not the font's missing-glyph shape)."""
        if char.isspace():
            return True
        return self._shape(font, char) != self._missing[self.fonts.index(font)]

    def font_for(self, char: str) -> Font:
        """The first font that draws ``char``; the first font (and its box) when none does."""
        found = self._choice.get(char)
        if found is None:
            found = next((font for font in self.fonts if self.covers(font, char)), self.fonts[0])
            self._choice[char] = found
        return found

    def runs(self, text: str) -> list[tuple[str, Font]]:
        """``text`` cut into pieces that one font draws whole."""
        pieces: list[tuple[str, Font]] = []
        for char in text:
            font = self.font_for(char)
            if pieces and pieces[-1][1] is font:
                pieces[-1] = (pieces[-1][0] + char, font)
            else:
                pieces.append((char, font))
        return pieces

    def length(self, text: str) -> float:
        return sum(font.getlength(piece) for piece, font in self.runs(text))

    def ascent(self) -> int:
        return self.fonts[0].getmetrics()[0]

    def draw(self, canvas: ImageDraw.ImageDraw, left: float, top: float, text: str, fill: Colour) -> None:
        """Draw ``text`` with its top-left at (left, top): every piece on the first font's baseline."""
        baseline = top + self.ascent()
        for piece, font in self.runs(text):
            canvas.text((left, baseline), piece, font=font, fill=fill, anchor="ls")
            left += font.getlength(piece)

    def fit(self, text: str, width: float) -> str:
        """``text``, cut with an ellipsis if it is wider than ``width``."""
        if self.length(text) <= width:
            return text
        while text and self.length(text + "…") > width:
            text = text[:-1]
        return text + "…"


def installed_fallbacks() -> list[Path]:
    """The :data:`FALLBACK_FONTS` present on this machine."""
    return [Path(path) for path in FALLBACK_FONTS if Path(path).is_file()]


@functools.cache
def typeface(size: int) -> Typeface:
    """The charts' typeface at ``size`` pixels: the bundled DejaVu Sans, then the installed fallbacks."""
    fonts = [ImageFont.truetype(str(PRIMARY_FONT), size)]
    fonts += [ImageFont.truetype(str(path), size) for path in installed_fallbacks()]
    return Typeface(fonts)


@dataclass(frozen=True)
class Axis:
    """A value scale that need not start at 0, drawn under the bars with ticks every ``step``."""

    start: float
    end: float
    step: float
    unit: str = ""

    def ticks(self) -> list[float]:
        count = round((self.end - self.start) / self.step)
        return [self.start + i * self.step for i in range(count + 1)]

    def label(self, value: float) -> str:
        return f"{value:g}{self.unit}"

    @property
    def note(self) -> str:
        return f"The scale starts at {self.label(self.start)}, not 0." if self.start else ""


def rating_axis(averages: Sequence[float], best: float = 5.0) -> Axis:
    """A star scale from half a star below the lowest average (rounded down to a half) up to ``best``, so that 3.9★
    and 4.1★ look different; whole stars when it spans more than three."""
    low = max(0.0, math.floor(min(averages, default=0.0) * 2) / 2 - 0.5)
    return Axis(low, best, 0.5 if best - low <= 3 else 1.0, "★")


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    value_format: str = "{:g}",
    value_labels: Sequence[str] | None = None,
    highlight: Sequence[int] = (),
    axis: Axis | None = None,
) -> bytes:
    """A horizontal bar chart as PNG bytes: bars at ``highlight`` positions in the accent colour, the others grey.

    Bars start at 0 unless an ``axis`` is given; each ends with its value (``value_labels``, or ``value_format``)."""
    if len(labels) != len(values) or (value_labels is not None and len(value_labels) != len(values)):
        raise ValueError("labels, values and value labels must have the same length")
    shown = list(value_labels) if value_labels is not None else [value_format.format(v) for v in values]
    title_face, label_face = typeface(TITLE_SIZE), typeface(LABEL_SIZE)
    rows = max(1, len(labels))
    top = MARGIN * 2 + 28
    axis_height = 3 * LABEL_SIZE + 16 if axis else 0
    image = Image.new("RGB", (WIDTH, top + ROW * rows + axis_height + MARGIN), BACKGROUND)
    canvas = ImageDraw.Draw(image)
    title_face.draw(canvas, MARGIN, MARGIN, title_face.fit(title, WIDTH - 2 * MARGIN), TEXT)

    bar_left = MARGIN + LABEL_WIDTH + 8
    widest_value = max((label_face.length(text) for text in shown), default=0)
    bar_space = WIDTH - bar_left - MARGIN - 8 - int(widest_value)
    start, end = (axis.start, axis.end) if axis else (0.0, max(values, default=0) or 1)

    def x_of(value: float) -> int:
        share = (min(max(value, start), end) - start) / ((end - start) or 1)
        return bar_left + int(bar_space * share)

    for index, (label, value, text) in enumerate(zip(labels, values, shown, strict=True)):
        y = top + index * ROW
        label_face.draw(canvas, MARGIN, y + 7, label_face.fit(label, LABEL_WIDTH), TEXT)
        right = x_of(value)
        if right > bar_left:
            colour = HIGHLIGHT if index in highlight else BAR
            canvas.rectangle((bar_left, y + 4, right, y + ROW - 6), fill=colour)
        label_face.draw(canvas, right + 6, y + 7, text, VALUE_TEXT)

    if axis:
        line_y = top + rows * ROW
        canvas.line((bar_left, line_y, bar_left + bar_space, line_y), fill=AXIS_LINE, width=1)
        for tick in axis.ticks():
            x = x_of(tick)
            canvas.line((x, line_y, x, line_y + 5), fill=AXIS_LINE, width=1)
            text = axis.label(tick)
            label_face.draw(canvas, x - label_face.length(text) / 2, line_y + 8, text, AXIS_TEXT)
        label_face.draw(canvas, bar_left, line_y + 12 + LABEL_SIZE + 4, axis.note, AXIS_TEXT)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
