"""Servers' own collections: themes that a server's moderators make, used like curated themes in that server only.

Rules:
- A collection has a name (2 to 80 characters) that is unique in its server once normalised ("Friday Noir" and
  "friday noir!" are the same) and that no curated theme already uses, so a theme name always means one thing.
- A server has at most :data:`MAX_COLLECTIONS` collections, each of at most :data:`MAX_FILMS` films.
- Adding a film that is already there, or removing one that is not, changes nothing and says so.
- Deleting a collection deletes its film list; the films themselves and everything about them stay.
- Collections are addressed as themes by the slug ``@<id>`` (see :class:`bot.core.films.Theme`).
Who may change collections (moderators) is checked by the caller with bot.core.guilds.require_moderator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.clock import Clock, from_db, to_db
from bot.core.errors import NotFoundError, UserError
from bot.core.films import Theme, film_for_guild, list_themes, search_themes
from bot.core.text import normalise_title
from bot.db import collections as store
from bot.db.database import Database

MAX_COLLECTIONS = 50
MAX_FILMS = 200
NAME_MIN, NAME_MAX = 2, 80
DESCRIPTION_MAX = 800
DEFAULT_DESCRIPTION = "A collection made by this server's moderators."
SLUG_PREFIX = "@"


@dataclass(frozen=True)
class Collection:
    id: int
    guild_id: int
    slug: str  # the normalised name, unique per server
    title: str
    description: str
    created_by: int
    created_at: datetime
    film_ids: tuple[int, ...]  # active films, in the order they were added

    @property
    def theme_slug(self) -> str:
        return f"{SLUG_PREFIX}{self.id}"

    def as_theme(self) -> Theme:
        return Theme(self.theme_slug, self.title, self.description, len(self.film_ids), collection_id=self.id)


def collection_id_of(theme_slug: str) -> int | None:
    """The collection id in a theme slug ``@12``, or ``None`` for a curated slug."""
    if theme_slug.startswith(SLUG_PREFIX) and theme_slug[1:].isdigit():
        return int(theme_slug[1:])
    return None


async def list_collections(db: Database, guild_id: int) -> list[Collection]:
    """A server's collections by name, each with its active films in the order they were added."""
    films = await store.collection_films(db, guild_id)
    return [
        Collection(
            id=record.id,
            guild_id=record.guild_id,
            slug=record.slug,
            title=record.title,
            description=record.description,
            created_by=record.created_by,
            created_at=from_db(record.created_at),
            film_ids=tuple(films.get(record.id, ())),
        )
        for record in await store.collections(db, guild_id)
    ]


async def themes_for(db: Database, guild_id: int) -> list[Theme]:
    """Every theme a server can use: the curated ones, then its own collections."""
    return [*await list_themes(db), *(c.as_theme() for c in await list_collections(db, guild_id))]


def resolve_collection(collections: list[Collection], text: str) -> Collection:
    """The collection a moderator meant: its theme slug (what autocomplete sends) or its name; else "did you mean"."""
    cleaned = text.strip()
    key = normalise_title(cleaned)
    for collection in collections:
        if cleaned == collection.theme_slug or key == collection.slug:
            return collection
    if not collections:
        raise NotFoundError("This server has no collections yet: a moderator can start one with `/collection create`.")
    themes = [c.as_theme() for c in collections]
    suggestions = [t.title for t in search_themes(themes, cleaned, limit=3)] if cleaned else []
    hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
    raise NotFoundError(f"No collection named {cleaned[:80]!r} in this server.{hint}")


def _clean_name(name: str) -> tuple[str, str]:
    title = " ".join(name.split())
    if not NAME_MIN <= len(title) <= NAME_MAX:
        raise UserError(f"A collection name has {NAME_MIN} to {NAME_MAX} characters.")
    slug = normalise_title(title)
    if not slug:
        raise UserError("A collection name needs at least one letter or digit.")
    return title, slug


async def create_collection(
    db: Database,
    clock: Clock,
    *,
    guild_id: int,
    user_id: int,
    name: str,
    description: str | None = None,
) -> Collection:
    """Start an empty collection; refuses a name already taken by a collection here or by a curated theme."""
    title, slug = _clean_name(name)
    text = " ".join((description or "").split()) or DEFAULT_DESCRIPTION
    if len(text) > DESCRIPTION_MAX:
        raise UserError(f"Keep the description under {DESCRIPTION_MAX} characters; yours has {len(text)}.")
    curated = {normalise_title(theme.title) for theme in await list_themes(db)}
    if slug in curated:
        raise UserError(f"{title!r} is already the name of a curated theme; pick another name.")
    async with db.transaction() as tx:
        if await store.count_collections(tx, guild_id) >= MAX_COLLECTIONS:
            raise UserError(f"A server can have at most {MAX_COLLECTIONS} collections; delete one first.")
        new_id = await store.insert_collection(
            tx,
            guild_id=guild_id,
            slug=slug,
            title=title,
            description=text,
            created_by=user_id,
            now=to_db(clock.now()),
        )
    if new_id is None:
        raise UserError(f"This server already has a collection called {title!r}.")
    return Collection(new_id, guild_id, slug, title, text, user_id, clock.now(), ())


async def add_film(db: Database, clock: Clock, *, collection: Collection, film_id: int, user_id: int) -> bool:
    """Add a film at the end of a collection; False if it was already there. A curated film or one of the
    collection's server's own films; never another server's."""
    if film_id in collection.film_ids:
        return False
    if await film_for_guild(db, collection.guild_id, film_id) is None:
        raise NotFoundError(f"Film #{film_id} is not in the catalog or this server's films.")
    async with db.transaction() as tx:
        if await store.count_films(tx, collection.id) >= MAX_FILMS:
            raise UserError(f"A collection holds at most {MAX_FILMS} films; remove one first.")
        return await store.add_film(
            tx, collection_id=collection.id, film_id=film_id, added_by=user_id, now=to_db(clock.now())
        )


async def remove_film(db: Database, *, collection: Collection, film_id: int) -> bool:
    """Take a film out of a collection; False if it was not in it."""
    return await store.remove_film(db, collection.id, film_id)


async def delete_collection(db: Database, *, collection: Collection) -> bool:
    """Delete a collection and its film list; False if it was already gone."""
    return await store.delete_collection(db, collection.id, collection.guild_id)
