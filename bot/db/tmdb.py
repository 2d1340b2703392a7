"""TMDb's answers as cached: a film's details by TMDb id (``tmdb_details``) and title searches by their normalised
query (``tmdb_searches``), each kept with the moment it was fetched and the moment it goes stale.

Storage keeps the answers as JSON text it does not read (bot.core.details encodes and decodes them); an expired entry
is kept too, to show when TMDb cannot be reached, until :func:`forget_expired` removes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.db.database import Database, Reader, Transaction, placeholders
from bot.db.times import from_db, to_db


@dataclass(frozen=True)
class CachedAnswer:
    """One cached answer: its JSON text, when it was fetched, and until when it is fresh."""

    payload: str
    fetched_at: datetime
    expires_at: datetime

    def fresh(self, now: datetime) -> bool:
        return now < self.expires_at


#: Ids per ``IN (...)`` list: well under SQLite's limit of bound parameters.
_CHUNK = 500

DETAILS = "SELECT tmdb_id, details, fetched_at, expires_at FROM tmdb_details WHERE tmdb_id IN ({ids})"
STORE_DETAILS = """
INSERT INTO tmdb_details (tmdb_id, details, fetched_at, expires_at) VALUES (?, ?, ?, ?)
ON CONFLICT (tmdb_id) DO UPDATE SET details = excluded.details, fetched_at = excluded.fetched_at,
    expires_at = excluded.expires_at
"""
SEARCH = "SELECT results, fetched_at, expires_at FROM tmdb_searches WHERE query_key = ?"
STORE_SEARCH = """
INSERT INTO tmdb_searches (query_key, results, fetched_at, expires_at) VALUES (?, ?, ?, ?)
ON CONFLICT (query_key) DO UPDATE SET results = excluded.results, fetched_at = excluded.fetched_at,
    expires_at = excluded.expires_at
"""
FORGET_DETAILS = "DELETE FROM tmdb_details WHERE expires_at < ?"
FORGET_SEARCHES = "DELETE FROM tmdb_searches WHERE expires_at < ?"
COUNTS = "SELECT (SELECT count(*) FROM tmdb_details) AS details, (SELECT count(*) FROM tmdb_searches) AS searches"


async def cached_details(db: Reader, tmdb_ids: Iterable[int]) -> dict[int, CachedAnswer]:
    """The cached details of those films (fresh or not), by TMDb id; films never fetched are absent."""
    wanted = sorted(set(tmdb_ids))
    found: dict[int, CachedAnswer] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = await db.fetchall(DETAILS.format(ids=placeholders(len(chunk))), chunk)
        for row in rows:
            found[int(row[0])] = CachedAnswer(row[1], from_db(row[2]), from_db(row[3]))
    return found


async def store_details(
    db: Database | Transaction, tmdb_id: int, payload: str, fetched_at: datetime, expires_at: datetime
) -> None:
    """Keep (or replace) what TMDb said of a film."""
    await db.execute(STORE_DETAILS, (tmdb_id, payload, to_db(fetched_at), to_db(expires_at)))


async def cached_search(db: Reader, query_key: str) -> CachedAnswer | None:
    """The cached answer to a search (fresh or not), or None."""
    row = await db.fetchone(SEARCH, (query_key,))
    return None if row is None else CachedAnswer(row[0], from_db(row[1]), from_db(row[2]))


async def store_search(
    db: Database | Transaction, query_key: str, payload: str, fetched_at: datetime, expires_at: datetime
) -> None:
    """Keep (or replace) TMDb's answer to a search."""
    await db.execute(STORE_SEARCH, (query_key, payload, to_db(fetched_at), to_db(expires_at)))


async def forget_expired(db: Database, before: datetime) -> int:
    """Remove answers that went stale before ``before``; return how many."""
    async with db.transaction() as tx:
        removed = await tx.execute(FORGET_DETAILS, (to_db(before),))
        removed += await tx.execute(FORGET_SEARCHES, (to_db(before),))
    return removed


async def cache_sizes(db: Reader) -> tuple[int, int]:
    """How many films' details and how many searches are cached."""
    row = await db.fetchone(COUNTS)
    return (0, 0) if row is None else (int(row[0]), int(row[1]))
