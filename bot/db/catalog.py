"""SQL for the catalog tables: the loader's bulk writes and the reads that describe what is loaded.

Writes take the transaction :func:`load_transaction` opens, which holds the database-wide catalog lock, so two
processes (or the command line and a running bot) never load at once. Every write is an ``executemany`` so that
loading tens of thousands of films costs a handful of round trips, not one per row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NamedTuple

from pydantic_core import to_json

from bot.db.database import Database, Reader, Transaction

if TYPE_CHECKING:  # the validated entries are written as they are; only their type is needed here
    from bot.core.catalog import FilmEntry, ThemeEntry


class ThemeToStore(NamedTuple):
    """A validated theme on its way into ``themes``, with what the loader adds: its file and content hash."""

    entry: ThemeEntry
    source_file: str
    content_hash: str


class FilmToStore(NamedTuple):
    """A validated film on its way into ``films``, with what the loader adds: the internal id (new, or the one the
    slug already has), its file and content hash."""

    id: int
    entry: FilmEntry
    source_file: str
    content_hash: str


@dataclass(frozen=True)
class FilmState:
    id: int
    content_hash: str
    retired: bool


def _json(values: Sequence[str]) -> str:
    return to_json(values).decode()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


LOADED_HASH = "SELECT content_hash FROM catalog_state WHERE id = 1"
GENERATION = "SELECT generation FROM catalog_state WHERE id = 1"
SAVE_LOADED = """
INSERT INTO catalog_state (id, content_hash, source, loaded_at, generation) VALUES (1, :hash, :source, :now, :bump)
ON CONFLICT (id) DO UPDATE SET content_hash = excluded.content_hash, source = excluded.source,
                               loaded_at = excluded.loaded_at, generation = catalog_state.generation + :bump
"""
ACTIVE_COUNTS = """
SELECT (SELECT count(*) FROM films WHERE retired = 0 AND guild_id IS NULL),
       (SELECT count(*) FROM themes WHERE retired = 0)
"""


@asynccontextmanager
async def load_transaction(db: Database) -> AsyncIterator[Transaction]:
    """A transaction for loading the catalog, holding the database-wide catalog lock from its first statement to its
    end: a second load waits, then sees what the first committed."""
    async with db.transaction() as tx:
        lock = db.dialect.catalog_load_lock()
        if lock is not None:
            await tx.execute(lock)
        yield tx


async def loaded_hash(db: Reader) -> str | None:
    value = await db.fetchval(LOADED_HASH)
    return None if value is None else str(value)


async def save_loaded(tx: Transaction, content_hash: str, source: str, *, changed: bool) -> None:
    """Record the files just loaded; ``changed`` (some row was written) bumps the generation."""
    await tx.execute(SAVE_LOADED, {"hash": content_hash, "source": source, "now": _now(), "bump": int(changed)})


async def generation(db: Reader) -> int:
    value = await db.fetchval(GENERATION)
    return 0 if value is None else int(value)


async def active_counts(db: Reader) -> tuple[int, int]:
    """(films, themes) that are not retired."""
    (row,) = await db.fetchall(ACTIVE_COUNTS)
    return int(row[0]), int(row[1])


# -- themes ---------------------------------------------------------------------------------------------------------

THEME_STATE = "SELECT slug, content_hash, retired FROM themes"
UPSERT_THEME = """
INSERT INTO themes (slug, title, description, source_file, content_hash, retired, updated_at)
VALUES (?, ?, ?, ?, ?, 0, ?)
ON CONFLICT (slug) DO UPDATE SET title = excluded.title, description = excluded.description,
    source_file = excluded.source_file, content_hash = excluded.content_hash, retired = 0,
    updated_at = excluded.updated_at
"""
RETIRE_THEME = "UPDATE themes SET retired = 1, updated_at = ? WHERE slug = ?"


async def theme_state(tx: Transaction) -> dict[str, tuple[str, bool]]:
    """slug -> (content hash, retired) for every theme ever loaded."""
    rows = await tx.fetchall(THEME_STATE)
    return {row["slug"]: (row["content_hash"], bool(row["retired"])) for row in rows}


async def upsert_themes(tx: Transaction, themes: Sequence[ThemeToStore]) -> None:
    now = _now()
    await tx.executemany(
        UPSERT_THEME,
        [(t.entry.slug, t.entry.title, t.entry.description, t.source_file, t.content_hash, now) for t in themes],
    )


async def retire_themes(tx: Transaction, slugs: list[str]) -> None:
    now = _now()
    await tx.executemany(RETIRE_THEME, [(now, slug) for slug in slugs])


# -- films ----------------------------------------------------------------------------------------------------------

FILM_STATE = "SELECT id, slug, content_hash, retired FROM films WHERE guild_id IS NULL"
INSERT_FILM = """
INSERT INTO films (id, slug, title, year, runtime, kind, episodes, seasons, blurb, imdb_id, directors, featuring,
                   countries, alt_titles, prompts, tmdb_id, source_file, content_hash, retired, added_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
"""
UPDATE_FILM = """
UPDATE films SET slug = ?, title = ?, year = ?, runtime = ?, kind = ?, episodes = ?, seasons = ?, blurb = ?,
                 imdb_id = ?, directors = ?, featuring = ?, countries = ?, alt_titles = ?, prompts = ?, tmdb_id = ?,
                 source_file = ?, content_hash = ?, retired = 0, updated_at = ?
WHERE id = ?
"""
DELETE_FILM_THEMES = "DELETE FROM film_themes WHERE film_id = ?"
INSERT_FILM_THEME = "INSERT INTO film_themes (film_id, theme_slug, position) VALUES (?, ?, ?)"
RETIRE_FILM = "UPDATE films SET retired = 1, updated_at = ? WHERE id = ?"


async def next_film_id(tx: Transaction) -> int:
    """The id a new film takes: one more than any film's, curated or a server's (see films.insert_server_films)."""
    return int(await tx.fetchval("SELECT coalesce(max(id), 0) + 1 FROM films"))


async def film_state(tx: Transaction) -> dict[str, FilmState]:
    """slug -> (internal id, content hash, retired) for every curated film ever loaded (not the servers' own)."""
    rows = await tx.fetchall(FILM_STATE)
    return {row["slug"]: FilmState(row["id"], row["content_hash"], bool(row["retired"])) for row in rows}


def _film_values(film: FilmToStore) -> tuple[object, ...]:
    entry = film.entry
    return (
        entry.slug,
        entry.title,
        entry.year,
        entry.runtime,
        entry.kind,
        entry.episodes,
        entry.seasons,
        entry.blurb,
        entry.imdb_id,
        _json(entry.directors),
        _json(entry.featuring),
        _json(entry.countries),
        _json(entry.alt_titles),
        _json(entry.prompts),
        entry.tmdb_id,
        film.source_file,
        film.content_hash,
    )


async def insert_films(tx: Transaction, films: Sequence[FilmToStore]) -> None:
    now = _now()
    await tx.executemany(INSERT_FILM, [(film.id, *_film_values(film), now, now) for film in films])


async def update_films(tx: Transaction, films: Sequence[FilmToStore]) -> None:
    now = _now()
    await tx.executemany(UPDATE_FILM, [(*_film_values(film), now, film.id) for film in films])


async def clear_film_details(tx: Transaction, film_ids: list[int]) -> None:
    """Drop the theme links of changed films, before :func:`add_film_details`."""
    await tx.executemany(DELETE_FILM_THEMES, [(film_id,) for film_id in film_ids])


async def add_film_details(tx: Transaction, films: Sequence[FilmToStore]) -> None:
    """Write the theme links of new or changed films."""
    await tx.executemany(
        INSERT_FILM_THEME,
        [(film.id, slug, pos) for film in films for pos, slug in enumerate(film.entry.themes)],
    )


async def retire_films(tx: Transaction, ids: list[int]) -> None:
    """Hide films the catalog no longer lists; their rows (and whatever points at them) stay."""
    now = _now()
    await tx.executemany(RETIRE_FILM, [(now, film_id) for film_id in ids])
