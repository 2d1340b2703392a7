"""The generated cover card of a screening's event: Discord's cover size, readable text, and no crash on whatever
title a member gives a server film (very long, emoji only, Chinese without spaces)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.core.posters import image_type
from bot.ui import cards
from bot.ui.cards import ACCENT, CARD, DETAIL_TEXT, TITLE_TEXT, cover_card, drawable, wrap
from bot.ui.charts import contrast_ratio, installed_fallbacks, typeface


def image_of(png: bytes) -> Image.Image:
    assert image_type(png) == "image/png"  # a type Discord takes as image data
    return Image.open(io.BytesIO(png)).convert("RGB")


def test_the_card_is_discords_cover_size_and_well_under_its_limit() -> None:
    png = cover_card("Stop Making Sense", 1984, "Live on stage")
    assert image_of(png).size == (800, 320) == cards.SIZE
    assert len(png) < 200_000


@pytest.mark.parametrize(
    "title",
    [
        "A" * 200,
        " ".join(["Supercalifragilistic"] * 10),
        "🎬🍿🎥",
        "Ёжик в тумане 🦔",
        "花様年華" * 20,
        "",
        "   ",
    ],
)
def test_any_title_gives_a_card(title: str) -> None:
    image = image_of(cover_card(title, 2024, "this server's film"))
    assert image.size == cards.SIZE
    assert image.getpixel((cards.WIDTH // 2, 2)) == CARD  # nothing ran off the top


def test_long_titles_wrap_onto_two_lines_and_end_with_an_ellipsis() -> None:
    face = typeface(cards.TITLE_SIZE)
    width = cards.WIDTH - cards.STRIPE - 2 * cards.MARGIN
    lines = wrap(face, "The Discreet Charm of the Bourgeoisie and Other Very Long Stories Told Twice", width, 2)
    assert len(lines) == 2 and lines[0].startswith("The Discreet") and lines[1].endswith("…")
    assert all(face.length(line) <= width for line in lines)
    assert wrap(face, "Alien", width, 2) == ["Alien"]
    unbroken = wrap(face, "x" * 200, width, 2)
    assert len(unbroken) == 2 and all(face.length(line) <= width for line in unbroken)


def test_characters_no_font_draws_are_left_out_not_boxed() -> None:
    face = typeface(cards.TITLE_SIZE)
    assert drawable(face, "Jaws 🦈 2") == "Jaws 2"
    assert drawable(face, "Сталкер ★") == "Сталкер ★"


def test_cjk_titles_use_an_installed_fallback_font() -> None:
    if not installed_fallbacks():
        pytest.skip("no CJK font installed on this machine")
    assert drawable(typeface(cards.TITLE_SIZE), "花様年華") == "花様年華"


def test_text_is_readable_on_the_card() -> None:
    for colour in (TITLE_TEXT, DETAIL_TEXT, ACCENT):
        assert contrast_ratio(colour, CARD) >= 4.5
    image = image_of(cover_card("Alien", 1979, "Space horror"))
    assert TITLE_TEXT in {colour for _count, colour in image.getcolors(1 << 16) or []}
