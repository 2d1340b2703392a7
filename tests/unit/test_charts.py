"""Charts as members see them: colours (a neutral grey for every bar but the accented one, text contrast measured
on the rendered PNG), a rating scale that starts near the data, and a font that has the glyphs titles use."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageFont

from bot.ui import charts
from bot.ui.charts import (
    AXIS_TEXT,
    BACKGROUND,
    BAR,
    HIGHLIGHT,
    PRIMARY_FONT,
    TEXT,
    VALUE_TEXT,
    Typeface,
    bar_chart,
    contrast_ratio,
    rating_axis,
    typeface,
)

TITLES = ["Ryuichi Sakamoto: Coda", "Сталкер", "Björk ★", "Ἰφιγένεια", "Amélie · Żywot", "½★ – 5★"]
CJK_TITLE = "花様年華"


def image_of(png: bytes) -> Image.Image:
    assert png.startswith(b"\x89PNG")
    return Image.open(io.BytesIO(png)).convert("RGB")


def bar_rows(image: Image.Image, rows: int) -> list[tuple[tuple[int, int, int], int]]:
    """(colour, length in pixels) of each row's bar, read along the row's middle from the bars' left edge."""
    found = []
    left = charts.MARGIN + charts.LABEL_WIDTH + 8
    for row in range(rows):
        y = charts.MARGIN * 2 + 28 + row * charts.ROW + charts.ROW // 2 - 1
        colour = image.getpixel((left + 1, y))
        length = 0
        while image.getpixel((left + 1 + length, y)) == colour and colour != BACKGROUND:
            length += 1
        found.append((colour, length))
    return found


def test_contrast_ratio_is_wcags() -> None:
    assert contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21)
    assert contrast_ratio((118, 118, 118), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio(BAR, BAR) == 1


def test_text_and_bars_stand_out_from_the_background() -> None:
    """WCAG AA: 4.5:1 for text, 3:1 for graphics such as bars (the old red bars were 2.4:1)."""
    for colour in (TEXT, VALUE_TEXT, AXIS_TEXT):
        assert contrast_ratio(colour, BACKGROUND) >= 4.5
    for colour in (BAR, HIGHLIGHT):
        assert contrast_ratio(colour, BACKGROUND) >= 3


def test_losers_are_neutral_and_the_winner_has_the_accent() -> None:
    png = bar_chart("Votes: Friday", ["Gimme Shelter", "The Last Waltz", "Monterey Pop"], [1, 5, 3], highlight=[1])
    rows = bar_rows(image_of(png), 3)
    assert [colour for colour, _length in rows] == [BAR, HIGHLIGHT, BAR]
    assert max(BAR) - min(BAR) <= 16  # a grey: no red, no green, nothing that reads as "bad" or "good"
    assert rows[1][1] > rows[2][1] > rows[0][1] > 0


def test_value_labels_are_drawn_in_high_contrast() -> None:
    """Measured on the PNG: the strongest pixel of each value label. The labels are small (15 px), so they aim at
    WCAG AAA (7:1) rather than AA's 4.5:1, which the old grey labels only just met (5.0:1)."""
    image = image_of(bar_chart("Votes", ["A", "B"], [5, 3], highlight=[0]))
    rows = bar_rows(image, 2)
    left = charts.MARGIN + charts.LABEL_WIDTH + 8
    for row, (_colour, length) in enumerate(rows):
        top = charts.MARGIN * 2 + 28 + row * charts.ROW
        label = [
            image.getpixel((x, y)) for x in range(left + length + 2, charts.WIDTH) for y in range(top, top + charts.ROW)
        ]
        assert max(contrast_ratio(pixel, BACKGROUND) for pixel in label) >= 7


def test_a_rating_scale_starts_near_the_data_and_says_so() -> None:
    """On a 0-based scale 3.9★ and 4.1★ were bars of 95% and 100%; from 3★ they are visibly different."""
    axis = rating_axis([3.9, 4.1])
    assert (axis.start, axis.end, axis.unit) == (3.0, 5.0, "★")
    assert axis.note == "The scale starts at 3★, not 0."
    assert [axis.label(t) for t in axis.ticks()] == ["3★", "3.5★", "4★", "4.5★", "5★"]
    png = bar_chart("Top rated", ["Low", "High"], [3.9, 4.1], value_labels=["3.9★", "4.1★"], axis=axis)
    (_c1, low), (_c2, high) = bar_rows(image_of(png), 2)
    assert low / high < 0.85
    assert rating_axis([0.5, 5]).start == 0 and rating_axis([0.5, 5]).note == ""  # the whole scale: from 0


def test_the_bundled_font_draws_latin_greek_cyrillic_and_stars() -> None:
    """Pillow's default font drew these as empty boxes; the bundled DejaVu Sans has every glyph."""
    default = ImageFont.load_default(15)
    assert isinstance(default, ImageFont.FreeTypeFont)
    assert not Typeface([default]).covers(default, "★") and not Typeface([default]).covers(default, "С")
    face = typeface(15)
    bundled = face.fonts[0]
    assert PRIMARY_FONT.is_file() and (PRIMARY_FONT.parent / "LICENSE-DejaVu.txt").is_file()
    assert PRIMARY_FONT.stat().st_size < 1_000_000
    for title in TITLES:
        missing = [char for char in title if not face.covers(bundled, char)]
        assert missing == [], title


def test_characters_the_first_font_lacks_come_from_the_next() -> None:
    """Per glyph: a title mixing scripts takes each character from the first font that has it."""
    default = ImageFont.load_default(15)
    bundled = ImageFont.truetype(str(PRIMARY_FONT), 15)
    face = Typeface([default, bundled])
    assert face.font_for("B") is default and face.font_for("★") is bundled and face.font_for("С") is bundled
    runs = [(piece, font is bundled) for piece, font in face.runs("Björk ★")]
    assert runs == [("Bj", False), ("ö", True), ("rk ", False), ("★", True)]  # Pillow's default font has no ö
    assert face.length("Bob ★") == pytest.approx(default.getlength("Bob ") + bundled.getlength("★"))
    assert face.fit("Сталкер Сталкер Сталкер", 60).endswith("…")


def test_cjk_titles_use_an_installed_cjk_font() -> None:
    face = typeface(15)
    if len(face.fonts) == 1:
        pytest.skip("no CJK system font here (see charts.FALLBACK_FONTS); such titles draw as boxes")
    assert all(face.font_for(char) is not face.fonts[0] for char in CJK_TITLE)
    assert all(face.covers(face.font_for(char), char) for char in CJK_TITLE)


def test_titles_in_any_script_render() -> None:
    labels = [*TITLES, CJK_TITLE]
    png = bar_chart("Votes: " + " · ".join(labels), labels, list(range(len(labels))), highlight=[0])
    assert image_of(png).size[0] == charts.WIDTH
    with pytest.raises(ValueError, match="same length"):
        bar_chart("x", ["a"], [1, 2])
