"""Each server's public web page: off until moderators publish it, served under an unguessable address.

The address's secret part (the slug) is :func:`secrets.token_urlsafe` output: 144 random bits, so knowing one club's
address tells nothing about another's, and guessing one is hopeless. Rotating issues a new slug and retires the old
one at once; taking the page down forgets the slug, and publishing it again issues a fresh one, so an address once
retired is never served again. Every change is recorded in the configuration history (without the slug itself).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from bot.core.clock import Clock, to_db
from bot.core.config import Change
from bot.core.errors import UserError
from bot.db import config as config_db
from bot.db import web as web_db
from bot.db.database import Database, Reader

#: Random bytes in a slug: 18 bytes are 24 URL-safe characters.
SLUG_BYTES = 18
#: What an issued slug looks like; anything else is refused before the database is asked.
SLUG_SHAPE = re.compile(r"[A-Za-z0-9_-]{24}")


@dataclass(frozen=True)
class WebPage:
    """A server's web page: public while it has a slug; members' names shown only with ``show_members``."""

    guild_id: int
    slug: str | None = None
    show_members: bool = False

    @property
    def public(self) -> bool:
        return self.slug is not None


@dataclass(frozen=True)
class WebPageResult:
    page: WebPage
    changes: list[Change]


def new_slug() -> str:
    return secrets.token_urlsafe(SLUG_BYTES)


def page_path(slug: str) -> str:
    """The club page's path on the web server; every other page of the club is under it."""
    return f"/c/{slug}/"


def page_url(base_url: str, slug: str) -> str:
    """The club page's full address, given the server's base URL (``WEB_BASE_URL`` or its own host and port)."""
    return base_url.rstrip("/") + page_path(slug)


async def web_page(db: Reader, guild_id: int) -> WebPage:
    """The server's web page settings: not public until moderators publish it."""
    stored = await web_db.page_of(db, guild_id)
    return WebPage(guild_id) if stored is None else WebPage(guild_id, stored.slug, stored.show_members)


async def public_page(db: Reader, slug: str) -> WebPage | None:
    """The public page at ``slug``, or None: never issued, rotated away, taken down, or not even slug-shaped (the
    caller answers all of these alike, so nothing tells whether a server exists)."""
    if not SLUG_SHAPE.fullmatch(slug):
        return None
    stored = await web_db.page_by_slug(db, slug)
    if stored is None or stored.slug != slug:  # the database compared; this guards a case-insensitive collation
        return None
    return WebPage(stored.guild_id, stored.slug, stored.show_members)


def _on_off(value: bool) -> str:
    return "on" if value else "off"


async def configure(
    db: Database,
    clock: Clock,
    guild_id: int,
    user_id: int,
    *,
    public: bool | None = None,
    rotate: bool = False,
    show_members: bool | None = None,
) -> WebPageResult:
    """Publish (``public=True``), take down (``public=False``), give a new address (``rotate``) or choose whether
    members' names are shown; options left as None keep their value, and no option at all changes nothing."""
    if rotate and public is False:
        raise UserError("Either take the page down or give it a new address, not both.")
    now = to_db(clock.now())
    async with db.transaction() as tx:
        current = await web_page(tx, guild_id)
        if rotate and not current.public and not public:
            raise UserError("The page is not public, so it has no address to replace: `public:True` publishes it.")
        slug = current.slug
        changes: list[Change] = []
        if public is True and slug is None:
            slug = new_slug()
            changes.append(Change("web_public", "off", "on"))
        elif public is False and slug is not None:
            slug = None
            changes.append(Change("web_public", "on", "off"))
        elif rotate and slug is not None:
            slug = new_slug()
            changes.append(Change("web_address", "the old one (retired)", "a new one"))
        shown = current.show_members if show_members is None else show_members
        if shown != current.show_members:
            changes.append(Change("web_show_members", _on_off(current.show_members), _on_off(shown)))
        if changes:
            await web_db.save_page(tx, guild_id, slug, shown, now)
            await config_db.record_changes(tx, guild_id, user_id, now, [(c.setting, c.old, c.new) for c in changes])
    return WebPageResult(WebPage(guild_id, slug, shown), changes)
