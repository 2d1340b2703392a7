"""How reviews are shown and read back: stars, text that cannot ping or escape its spoiler, the review form's
submitted values, the histogram, and Previous/Next buttons."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.core.errors import UserError
from bot.ui.paging import NEXT, PREVIOUS, page_view
from bot.ui.reviews import histogram_png, review_text, safe_text, spoiler, stars
from cogs.reviews import BODY_FIELD, RATING_FIELD, SPOILER_FIELD, parse_form


@pytest.mark.parametrize(("half", "shown"), [(1, "½"), (2, "★"), (7, "★★★½"), (10, "★★★★★")])
def test_stars(half: int, shown: str) -> None:
    assert stars(half) == shown


def test_member_text_never_pings() -> None:
    text = safe_text("@everyone @here <@123456789012345678> <@!123456789012345678> <@&123456789012345678>")
    assert "@everyone" not in text and "@here" not in text
    assert "<@123456789012345678>" not in text and "<@&123456789012345678>" not in text


def test_spoilers_cannot_be_closed_early() -> None:
    assert spoiler("the twist || is here") == "||the twist \\|\\| is here||"
    assert spoiler("ends with a backslash \\") == "||ends with a backslash \\\\||"
    shown = review_text("x" * 50 + "|" * 50, True, 60)
    assert len(shown) <= 60
    assert shown.startswith("||") and shown.endswith("…||")
    assert not shown[:-2].endswith("\\")
    assert review_text("plain " * 100, False, 50).endswith("…")
    assert len(review_text("plain " * 100, False, 50)) == 50
    assert review_text(None, True, 50) == ""


def form(rating: Any, body: Any = "", spoiler_choice: Any = ("no",)) -> dict[str, Any]:
    """A modal submission as Discord sends it (the Label layout)."""
    return {
        "custom_id": "filmclub:review-form:1",
        "components": [
            {"type": 18, "component": {"type": 3, "custom_id": RATING_FIELD, "values": rating}},
            {"type": 18, "component": {"type": 4, "custom_id": BODY_FIELD, "value": body}},
            {"type": 18, "component": {"type": 3, "custom_id": SPOILER_FIELD, "values": list(spoiler_choice)}},
        ],
    }


def test_the_review_form_is_read_back_strictly() -> None:
    assert parse_form(form(["9"], "Great.", ["yes"])) == (4.5, "Great.", True)
    assert parse_form(form(["1"])) == (0.5, "", False)
    for bad in ([], ["0"], ["11"], ["x"], ["9", "10"], None):
        with pytest.raises(UserError, match="Choose a rating"):
            parse_form(form(bad))
    rows = {"components": [{"type": 1, "components": [{"type": 3, "custom_id": RATING_FIELD, "values": ["6"]}]}]}
    assert parse_form(rows) == (3.0, None, False)  # the older action-row layout reads the same


def test_the_histogram_is_a_png() -> None:
    png = histogram_png("Ratings · The Last Waltz (1978)", (0, 0, 0, 1, 0, 2, 0, 5, 3, 1))
    assert png.startswith(b"\x89PNG")


def test_page_buttons_have_distinct_ids_and_disable_at_the_ends() -> None:
    def button(page: int, label: str, disabled: bool) -> discord.ui.Button[Any]:
        return discord.ui.Button(label=label, custom_id=f"filmclub:test:{page}", disabled=disabled)

    assert page_view(button, 0, 1) is None
    for page, pages in ((0, 2), (1, 2), (0, 3), (1, 3), (2, 3)):
        view = page_view(button, page, pages)
        assert view is not None
        previous, following = view.children
        assert isinstance(previous, discord.ui.Button) and isinstance(following, discord.ui.Button)
        assert (previous.label, following.label) == (PREVIOUS, NEXT)
        assert previous.custom_id != following.custom_id
        assert previous.disabled == (page == 0)
        assert following.disabled == (page == pages - 1)
