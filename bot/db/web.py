"""The club's public web page: each server's address (slug) and whether members' names are shown."""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.database import Reader, Row, Transaction

GET_PAGE = "SELECT guild_id, slug, show_members, updated_at FROM web_pages WHERE guild_id = ?"
PAGE_BY_SLUG = "SELECT guild_id, slug, show_members, updated_at FROM web_pages WHERE slug = ?"
SAVE_PAGE = """
INSERT INTO web_pages (guild_id, slug, show_members, updated_at) VALUES (:guild_id, :slug, :show_members, :now)
ON CONFLICT (guild_id) DO UPDATE SET
    slug = excluded.slug,
    show_members = excluded.show_members,
    updated_at = excluded.updated_at
"""


@dataclass(frozen=True)
class StoredWebPage:
    """A server's web page settings as stored; ``slug`` is None while the page is not public."""

    guild_id: int
    slug: str | None
    show_members: bool
    updated_at: str


def _page(row: Row) -> StoredWebPage:
    return StoredWebPage(int(row["guild_id"]), row["slug"], bool(row["show_members"]), row["updated_at"])


async def page_of(db: Reader, guild_id: int) -> StoredWebPage | None:
    """The server's web page settings; None if moderators never configured it."""
    row = await db.fetchone(GET_PAGE, (guild_id,))
    return None if row is None else _page(row)


async def page_by_slug(db: Reader, slug: str) -> StoredWebPage | None:
    """The public page at ``slug``; None for a slug that was never issued, was rotated or taken down."""
    row = await db.fetchone(PAGE_BY_SLUG, (slug,))
    return None if row is None else _page(row)


async def save_page(tx: Transaction, guild_id: int, slug: str | None, show_members: bool, now: str) -> None:
    """Write the server's page settings (insert or replace its row)."""
    await tx.execute(SAVE_PAGE, {"guild_id": guild_id, "slug": slug, "show_members": int(show_members), "now": now})
