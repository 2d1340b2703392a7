"""Small PNG charts (poll results, rating histograms, club stats) drawn with Pillow.

Pillow instead of matplotlib: a horizontal bar chart is a few rectangles and labels, and Pillow installs in seconds
with no font cache or backend to configure. Charts are pure functions: values in, PNG bytes out.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (47, 49, 54)
TEXT = (235, 235, 235)
MUTED = (160, 160, 165)
BAR = (192, 57, 43)
HIGHLIGHT = (241, 196, 15)

WIDTH = 720
ROW = 34
MARGIN = 16
LABEL_WIDTH = 260


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    value_format: str = "{:g}",
    highlight: Sequence[int] = (),
) -> bytes:
    """A horizontal bar chart as PNG bytes; bars at ``highlight`` positions are drawn in gold (e.g. the winner)."""
    if len(labels) != len(values):
        raise ValueError("labels and values must have the same length")
    height = MARGIN * 3 + 28 + ROW * max(1, len(labels))
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    title_font, label_font = _font(20), _font(15)
    draw.text((MARGIN, MARGIN), _fit(draw, title, title_font, WIDTH - 2 * MARGIN), font=title_font, fill=TEXT)
    top = MARGIN * 2 + 28
    peak = max((v for v in values), default=0) or 1
    bar_left = MARGIN + LABEL_WIDTH + 8
    bar_space = WIDTH - bar_left - MARGIN - 60
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + index * ROW
        draw.text((MARGIN, y + 6), _fit(draw, label, label_font, LABEL_WIDTH), font=label_font, fill=TEXT)
        length = int(bar_space * (value / peak)) if value > 0 else 0
        colour = HIGHLIGHT if index in highlight else BAR
        if length:
            draw.rectangle((bar_left, y + 4, bar_left + length, y + ROW - 6), fill=colour)
        draw.text((bar_left + length + 6, y + 6), value_format.format(value), font=label_font, fill=MUTED)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
