"""Previous/Next buttons for lists that span several pages.

The buttons are ``DynamicItem`` templates that the listing cog registers, with the page to show in their custom_id
(``filmclub:<feature>:...:<page>``): a click re-reads that page from the database and edits the message, so paging
keeps working after a restart and always shows current data. The two buttons always have different custom ids: on
the first page "Previous" points at page 0 and "Next" at page 1; on the last, "Previous" at the one before.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, Self

import discord

from bot.ui.views import AnswersMember

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


class PageButton(
    AnswersMember,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"filmclub:page-base:(?P<page>\d+)",
):
    """A Previous/Next button that re-reads its page on every click, before or after a restart.

    A subclass names its custom id prefix (and what its key looks like) in the class statement and says how to
    show a page: ``class WatchlistPage(PageButton, prefix="filmclub:watchlist")`` with ``async def answer(...)``.
    Its custom id is ``<prefix>:<key>:<page>``, or ``<prefix>:<page>`` for a list with no key (``key=None``).
    """

    prefix: ClassVar[str]
    has_key: ClassVar[bool]

    def __init_subclass__(cls, *, prefix: str, key: str | None = r"\d+", **kwargs: Any) -> None:
        cls.prefix, cls.has_key = prefix, key is not None
        keyed = rf"(?P<key>{key}):" if key is not None else ""
        super().__init_subclass__(template=rf"{re.escape(prefix)}:{keyed}(?P<page>\d+)", **kwargs)

    def __init__(self, key: str | int | None, page: int, label: str = "Page", disabled: bool = False) -> None:
        self.key = "" if key is None else str(key)
        self.page = page
        custom_id = f"{self.prefix}:{self.key}:{page}" if self.has_key else f"{self.prefix}:{page}"
        super().__init__(
            discord.ui.Button(label=label, custom_id=custom_id, disabled=disabled, style=discord.ButtonStyle.secondary)
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(match.groupdict().get("key"), int(match["page"]))

    @abstractmethod
    async def answer(self, interaction: discord.Interaction[Any]) -> None:
        """Edit the message to show page ``self.page`` of the list named by ``self.key``."""
