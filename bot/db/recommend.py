"""What recommendations read: the catalog in bulk, change counters, and members' interactions with their times."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from bot.db.database import Database, Reader


@dataclass(frozen=True)
class Versions:
    """The loaded catalog's generation (as text, "" before any load) and a server's change counters (0 before any
    change): a recommendation cache is fresh while these are what it was built from."""

    catalog: str
    ratings: int
    watching: int
    collections: int
    server_films: int = 0  # the server's own films' version (bot.db.films.server_films_version)


class SnapshotFilm(NamedTuple):
    """An active film as the recommendation snapshot holds it."""

    id: int
    title: str
    year: int
    runtime: int
    kind: str
    directors: tuple[str, ...]
    featuring: tuple[str, ...]


@dataclass(frozen=True)
class MemberInteraction:
    """A member's rating of a film (``stars``), or a film they marked watched without rating it (``stars`` None),
    with when it last changed (as stored)."""

    user_id: int
    film_id: int
    stars: float | None
    at: str


# One row whatever exists: the loaded catalog's identity and the server's change counters (0 before any change).
VERSIONS = """
SELECT (SELECT CAST(generation AS TEXT) FROM catalog_state WHERE id = 1),
       coalesce(v.ratings, 0), coalesce(v.watching, 0), coalesce(v.collections, 0),
       coalesce((SELECT s.version FROM server_film_versions s WHERE s.guild_id = :guild_id), 0)
FROM (SELECT 1 AS one) AS one_row LEFT JOIN recommend_versions v ON v.guild_id = :guild_id
"""

SNAPSHOT_FILMS = """
SELECT id, title, year, runtime, kind, directors, featuring FROM films
WHERE retired = 0 AND guild_id IS NULL ORDER BY id
"""
# One server's own films (never another's): they join the curated snapshot for that server only.
SERVER_SNAPSHOT_FILMS = """
SELECT id, title, year, runtime, kind, directors, featuring FROM films
WHERE guild_id = ? AND retired = 0 ORDER BY id
"""
# What TMDb said of the films a server's members can name (curated ones and the server's own) whose details are cached.
FILM_DETAILS = """
SELECT f.id, d.details FROM films f JOIN tmdb_details d ON d.tmdb_id = f.tmdb_id
WHERE f.retired = 0 AND f.tmdb_id IS NOT NULL AND (f.guild_id IS NULL OR f.guild_id = ?)
ORDER BY f.id
"""
SNAPSHOT_FILM_THEMES = """
SELECT ft.film_id, ft.theme_slug FROM film_themes ft
JOIN films f ON f.id = ft.film_id JOIN themes t ON t.slug = ft.theme_slug
WHERE f.retired = 0 AND t.retired = 0
ORDER BY ft.film_id, ft.position
"""

# Ratings (in half stars, with when they were last changed) and films marked watched without a rating: the taste
# model's input.
INTERACTIONS = """
SELECT user_id, film_id, rating, updated_at FROM reviews WHERE guild_id = :guild_id
UNION ALL
SELECT w.user_id, w.film_id, NULL, w.watched_at FROM member_watched w
WHERE w.guild_id = :guild_id
  AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.guild_id = w.guild_id AND r.user_id = w.user_id
                  AND r.film_id = w.film_id)
"""

# /tonight's groups, kept so a page button can name one by id (migration 0010); asking again reuses the row.
REMEMBER_GROUP = """
INSERT INTO tonight_groups (guild_id, members) VALUES (?, ?)
ON CONFLICT (guild_id, members) DO UPDATE SET members = excluded.members
RETURNING id
"""
GROUP = "SELECT members FROM tonight_groups WHERE guild_id = ? AND id = ?"


async def versions(db: Reader, guild_id: int) -> Versions:
    """One primary-key read: cheap enough before every request."""
    row = await db.fetchone(VERSIONS, {"guild_id": guild_id})
    if row is None:  # pragma: no cover - the query always returns one row
        return Versions("", 0, 0, 0)
    return Versions(row[0] or "", int(row[1]), int(row[2]), int(row[3]), int(row[4]))


async def snapshot_films(db: Reader) -> list[SnapshotFilm]:
    """Every active film, in order of id."""
    return [
        SnapshotFilm(int(r[0]), r[1], int(r[2]), int(r[3]), r[4], tuple(json.loads(r[5])), tuple(json.loads(r[6])))
        for r in await db.fetchall(SNAPSHOT_FILMS)
    ]


async def server_snapshot_films(db: Reader, guild_id: int) -> list[SnapshotFilm]:
    """One server's own active films, in order of id."""
    return [
        SnapshotFilm(int(r[0]), r[1], int(r[2]), int(r[3]), r[4], tuple(json.loads(r[5])), tuple(json.loads(r[6])))
        for r in await db.fetchall(SERVER_SNAPSHOT_FILMS, (guild_id,))
    ]


class CachedDetails(NamedTuple):
    """A film's cached details from the film-details provider, as stored (``tmdb_details``; text that
    bot.core.details decodes)."""

    film_id: int
    payload: str


async def cached_film_details(db: Reader, guild_id: int) -> list[CachedDetails]:
    """The cached details (fresh or expired) of the films members of ``guild_id`` can name: the curated catalog's
    and the server's own, never another server's."""
    return [CachedDetails(int(r[0]), str(r[1])) for r in await db.fetchall(FILM_DETAILS, (guild_id,))]


async def snapshot_film_themes(db: Reader) -> list[tuple[int, str]]:
    """(film id, theme slug) for active films in active themes, each film's themes in catalog order."""
    return [(int(r[0]), str(r[1])) for r in await db.fetchall(SNAPSHOT_FILM_THEMES)]


async def interactions(db: Reader, guild_id: int) -> list[MemberInteraction]:
    """Every rating in a server, and every film marked watched by a member who did not rate it."""
    return [
        MemberInteraction(int(r[0]), int(r[1]), None if r[2] is None else int(r[2]) / 2, r[3])
        for r in await db.fetchall(INTERACTIONS, {"guild_id": guild_id})
    ]


async def remember_group(db: Database, guild_id: int, members: Mapping[int, str]) -> int:
    """The id of the row holding this group (user id -> display name, in order), made if new."""
    members_json = json.dumps([[user_id, name] for user_id, name in members.items()], ensure_ascii=False)
    row = await db.fetchone_write(REMEMBER_GROUP, (guild_id, members_json))
    return int(row[0])


async def group(db: Reader, guild_id: int, group_id: int) -> dict[int, str] | None:
    """The group :func:`remember_group` gave ``group_id`` to in this server; None if there is none."""
    row = await db.fetchone(GROUP, (guild_id, group_id))
    if row is None:
        return None
    return {int(user_id): str(name) for user_id, name in json.loads(row[0])}
