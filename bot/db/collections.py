"""Servers' own collections (moderator-made themes): their rows and their film lists."""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.database import Database, Reader, Transaction


@dataclass(frozen=True)
class CollectionRecord:
    """A stored collection; ``created_at`` as stored (see bot.core.clock.to_db)."""

    id: int
    guild_id: int
    slug: str
    title: str
    description: str
    created_by: int
    created_at: str


COLLECTIONS = """
SELECT id, guild_id, slug, title, description, created_by, created_at FROM collections WHERE guild_id = ?
"""
# Active films only, in the order they were added: a retired film drops out of its collections until it returns.
# Curated films and the collection's own server's films only (the core never adds another's; this says so twice).
COLLECTION_FILMS = """
SELECT cf.collection_id, cf.film_id FROM collection_films cf
JOIN collections c ON c.id = cf.collection_id
JOIN films f ON f.id = cf.film_id
WHERE c.guild_id = ? AND f.retired = 0 AND (f.guild_id IS NULL OR f.guild_id = c.guild_id)
ORDER BY cf.collection_id, cf.position
"""
COUNT_COLLECTIONS = "SELECT count(*) FROM collections WHERE guild_id = ?"
COUNT_FILMS = "SELECT count(*) FROM collection_films WHERE collection_id = ?"
INSERT_COLLECTION = """
INSERT INTO collections (guild_id, slug, title, description, created_by, created_at)
VALUES (:guild_id, :slug, :title, :description, :created_by, :now)
ON CONFLICT (guild_id, slug) DO NOTHING
RETURNING id
"""
ADD_FILM = """
INSERT INTO collection_films (collection_id, film_id, position, added_by, added_at)
VALUES (:collection_id, :film_id,
        (SELECT coalesce(max(position), -1) + 1 FROM collection_films WHERE collection_id = :collection_id),
        :added_by, :now)
ON CONFLICT (collection_id, film_id) DO NOTHING
"""
REMOVE_FILM = "DELETE FROM collection_films WHERE collection_id = ? AND film_id = ?"
DELETE_COLLECTION = "DELETE FROM collections WHERE id = ? AND guild_id = ?"


async def collections(db: Reader, guild_id: int) -> list[CollectionRecord]:
    """A server's collections by name, ignoring case (then by id).

    Sorted here, not by ``ORDER BY``: PostgreSQL orders text by the server's collation, SQLite by code point, and the
    list must read the same on both."""
    found = [
        CollectionRecord(int(r[0]), int(r[1]), r[2], r[3], r[4], int(r[5]), r[6])
        for r in await db.fetchall(COLLECTIONS, (guild_id,))
    ]
    return sorted(found, key=lambda record: (record.title.lower(), record.id))


async def collection_films(db: Reader, guild_id: int) -> dict[int, list[int]]:
    """collection id -> its active films in the order they were added, for a server's collections that have any."""
    films: dict[int, list[int]] = {}
    for collection_id, film_id in await db.fetchall(COLLECTION_FILMS, (guild_id,)):
        films.setdefault(int(collection_id), []).append(int(film_id))
    return films


async def count_collections(db: Reader, guild_id: int) -> int:
    return int(await db.fetchval(COUNT_COLLECTIONS, (guild_id,)))


async def count_films(db: Reader, collection_id: int) -> int:
    """How many films a collection holds, retired ones included (they count against its size)."""
    return int(await db.fetchval(COUNT_FILMS, (collection_id,)))


async def insert_collection(
    tx: Transaction, *, guild_id: int, slug: str, title: str, description: str, created_by: int, now: str
) -> int | None:
    """The new collection's id, or None when the server already has one with this slug."""
    new_id = await tx.fetchval(
        INSERT_COLLECTION,
        {
            "guild_id": guild_id,
            "slug": slug,
            "title": title,
            "description": description,
            "created_by": created_by,
            "now": now,
        },
    )
    return None if new_id is None else int(new_id)


async def add_film(tx: Transaction, *, collection_id: int, film_id: int, added_by: int, now: str) -> bool:
    """Append a film to a collection; False when it was already there."""
    added = await tx.execute(
        ADD_FILM, {"collection_id": collection_id, "film_id": film_id, "added_by": added_by, "now": now}
    )
    return added > 0


async def remove_film(db: Database, collection_id: int, film_id: int) -> bool:
    """False when the film was not in the collection."""
    return await db.execute(REMOVE_FILM, (collection_id, film_id)) > 0


async def delete_collection(db: Database, collection_id: int, guild_id: int) -> bool:
    """Delete a server's collection and (by cascade) its film list; False when it was already gone."""
    return await db.execute(DELETE_COLLECTION, (collection_id, guild_id)) > 0
