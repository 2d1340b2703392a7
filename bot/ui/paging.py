"""Previous/Next buttons for lists that span several pages.

The buttons are ``DynamicItem`` templates that the listing cog registers, with the page to show in their custom_id
(``filmclub:<feature>:...:<page>``): a click re-reads that page from the database and edits the message, so paging
keeps working after a restart and always shows current data. The two buttons always have different custom ids: on
the first page "Previous" points at page 0 and "Next" at page 1; on the last, "Previous" at the one before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import discord

PREVIOUS = "◀ Previous"
NEXT = "Next ▶"

#: Builds the button that shows ``page``: (page, label, disabled) -> item.
ButtonFactory = Callable[[int, str, bool], discord.ui.Item[Any]]


def page_view(make: ButtonFactory, page: int, pages: int) -> discord.ui.View | None:
    """The Previous/Next row for ``page`` of ``pages`` (0-based), or ``None`` when everything fits on one page."""
    if pages <= 1:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(make(max(page - 1, 0), PREVIOUS, page <= 0))
    view.add_item(make(min(page + 1, pages - 1), NEXT, page >= pages - 1))
    view.stop()  # answered by the registered DynamicItem templates, not by this instance
    return view


def page_footer(page: int, pages: int, extra: str = "") -> str:
    text = f"Page {page + 1} of {pages}"
    return f"{text} · {extra}" if extra else text
