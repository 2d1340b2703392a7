"""The database on both backends (real SQLite files, real PostgreSQL databases): migrations, transactions, what
reads see; and what only SQLite has: pragmas and online backup."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from bot.core.catalog import catalog_generation, load_catalog
from bot.core.timers import TimerService
from bot.db.database import Database, Migration, bundled_migrations, open_database
from bot.db.sqlite import SqliteDatabase
from tests.clocks import FixedClock


async def test_migrations_from_empty_reach_the_latest_version(tmp_path: Path) -> None:
    async with await open_database(tmp_path / "new.db") as db:
        applied = await db.migrate()
        assert [m.number for m in applied] == list(range(1, len(bundled_migrations("sqlite")) + 1))
        assert await db.schema_version() == len(bundled_migrations("sqlite"))
        tables = {row[0] for row in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"films", "themes", "film_themes", "guild_settings", "catalog_state"} <= tables
        assert await db.migrate() == []  # a second run has nothing to do


async def test_processes_migrating_one_empty_database_at_once_apply_each_migration_once(
    empty_db_target: str | Path,
) -> None:
    """Several bot processes start together against a new database: one migrates, the others wait for it and
    apply nothing (none fails on a table that already exists)."""
    databases = [await open_database(empty_db_target) for _ in range(4)]
    try:
        applied = await asyncio.gather(*(db.migrate() for db in databases))
        latest = len(bundled_migrations(databases[0].dialect.name))
        assert sorted(m.number for run in applied for m in run) == list(range(1, latest + 1))
        assert [await db.schema_version() for db in databases] == [latest] * 4
    finally:
        for db in databases:
            await db.close()


async def test_connection_uses_wal_foreign_keys_and_a_busy_timeout(sqlite_db: Database) -> None:
    assert (await sqlite_db.fetchval("PRAGMA journal_mode")).lower() == "wal"
    assert await sqlite_db.fetchval("PRAGMA foreign_keys") == 1
    assert await sqlite_db.fetchval("PRAGMA busy_timeout") >= 1000


async def test_a_failing_migration_leaves_the_schema_as_it_was(tmp_path: Path) -> None:
    async with await open_database(tmp_path / "club.db") as db:
        good = Migration(1, "0001_good.sql", "CREATE TABLE kept (x INTEGER);")
        bad = Migration(2, "0002_bad.sql", "CREATE TABLE half (x INTEGER); INSERT INTO missing VALUES (1);")
        with pytest.raises(sqlite3.OperationalError):
            await db.migrate([good, bad])
        assert await db.schema_version() == 1
        names = {row[0] for row in await db.fetchall("SELECT name FROM sqlite_master")}
        assert "kept" in names
        assert "half" not in names


async def test_transaction_rolls_back_when_the_block_raises(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO guild_settings (guild_id) VALUES (1)")
            raise RuntimeError("boom")
    assert await db.fetchval("SELECT count(*) FROM guild_settings") == 0
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO guild_settings (guild_id) VALUES (2)")
    assert await db.fetchval("SELECT count(*) FROM guild_settings") == 1


async def test_backup_is_a_complete_copy_while_the_database_is_open(sqlite_db: SqliteDatabase, tmp_path: Path) -> None:
    db = sqlite_db
    await db.execute("INSERT INTO guild_settings (guild_id, timezone) VALUES (42, 'Europe/Paris')")
    await db.backup(tmp_path / "copy" / "backup.db")
    with sqlite3.connect(tmp_path / "copy" / "backup.db") as copy:
        assert copy.execute("SELECT timezone FROM guild_settings WHERE guild_id = 42").fetchone() == ("Europe/Paris",)


async def test_reads_outside_a_transaction_never_see_its_uncommitted_rows(db: Database) -> None:
    """A transaction inserts and waits; a concurrent plain read must not count the row it then rolls back."""
    inserted = asyncio.Event()
    release = asyncio.Event()

    async def insert_then_roll_back() -> None:
        with contextlib.suppress(RuntimeError):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO guild_settings (guild_id) VALUES (1)")
                # Inside the transaction its own reads see its rows.
                assert await tx.fetchval("SELECT count(*) FROM guild_settings") == 1
                inserted.set()
                await release.wait()
                raise RuntimeError("changed my mind")

    writer = asyncio.create_task(insert_then_roll_back())
    await inserted.wait()
    seen_meanwhile = await db.fetchval("SELECT count(*) FROM guild_settings")
    row_meanwhile = await db.fetchone("SELECT guild_id FROM guild_settings")
    release.set()
    await writer
    assert (seen_meanwhile, row_meanwhile) == (0, None)
    assert await db.fetchval("SELECT count(*) FROM guild_settings") == 0


async def test_a_committed_write_is_visible_to_the_next_read(db: Database) -> None:
    """Reads go through their own connection; what a task committed is there when it reads next, every time."""
    for guild_id in range(1, 21):
        await db.execute("INSERT INTO guild_settings (guild_id) VALUES (?)", (guild_id,))
        assert await db.fetchval("SELECT max(guild_id) FROM guild_settings") == guild_id
        async with db.transaction() as tx:
            await tx.execute("UPDATE guild_settings SET timezone = 'Europe/Paris' WHERE guild_id = ?", (guild_id,))
        assert await db.fetchval("SELECT timezone FROM guild_settings WHERE guild_id = ?", (guild_id,)) == (
            "Europe/Paris"
        )


async def test_plain_reads_cannot_write(sqlite_db: Database) -> None:
    db = sqlite_db
    """The read connection is read-only: a write has to go through execute() or a transaction (and their lock)."""
    with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
        await db.fetchall("INSERT INTO guild_settings (guild_id) VALUES (3) RETURNING guild_id")
    assert await db.fetchval("SELECT count(*) FROM guild_settings") == 0


async def test_backup_copies_committed_data_only(sqlite_db: SqliteDatabase, tmp_path: Path) -> None:
    db = sqlite_db
    await db.execute("INSERT INTO guild_settings (guild_id) VALUES (1)")
    inserted = asyncio.Event()
    release = asyncio.Event()

    async def hold_open_transaction() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO guild_settings (guild_id) VALUES (2)")
            inserted.set()
            await release.wait()

    writer = asyncio.create_task(hold_open_transaction())
    await inserted.wait()
    # Bounded: over the shared connection, the backup waited for the open transaction for ever.
    await asyncio.wait_for(db.backup(tmp_path / "copy.db"), timeout=30)
    release.set()
    await writer
    with sqlite3.connect(tmp_path / "copy.db") as copy:
        assert copy.execute("SELECT guild_id FROM guild_settings").fetchall() == [(1,)]


async def test_a_transaction_cancelled_while_it_begins_leaves_the_connection_usable(
    db: Database, db_target: str | Path
) -> None:
    """A task cancelled at its ``BEGIN`` (a timer's handler timeout, the bot closing) must not leave the shared
    writing connection inside a transaction that nobody commits: every later write would fail or be lost."""

    async def write_in_transaction() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO guild_settings (guild_id) VALUES (1)")

    task = asyncio.create_task(write_in_transaction())
    await asyncio.sleep(0)  # the task takes the lock and waits for its BEGIN to run on the database thread
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO guild_settings (guild_id) VALUES (2)")
    await db.execute("INSERT INTO guild_settings (guild_id) VALUES (3)")
    async with await open_database(db_target) as other:  # committed: another process sees the rows
        assert [r[0] for r in await other.fetchall("SELECT guild_id FROM guild_settings ORDER BY guild_id")] == [2, 3]


#: What the previous release (migrations 0001-0006) wrote: a film of the starter catalog, settings, a pending timer,
#: reviews from Discord and from Letterboxd, a poll with a ballot, a screening, a week of picks and a collection.
PREVIOUS_RELEASE_ROWS = """
INSERT INTO themes (slug, title, description, source_file, content_hash)
VALUES ('live-on-stage', 'Live On Stage', 'Concerts.', 'themes.toml', 'h');
INSERT INTO films (id, slug, title, year, runtime, kind, blurb, source_file, content_hash)
VALUES (7, 'the-last-waltz', 'The Last Waltz', 1978, 117, 'documentary', 'The Band.', 'films.toml', 'h');
INSERT INTO film_themes (film_id, theme_slug, position) VALUES (7, 'live-on-stage', 0);
INSERT INTO catalog_state (id, content_hash, source, loaded_at) VALUES (1, 'old', 'data', '2026-01-01T00:00:00Z');
INSERT INTO guild_settings (guild_id, timezone, picks_day, picks_time) VALUES (1, 'Europe/Paris', 4, '20:00');
INSERT INTO timers (kind, key, due_at, payload, created_at)
VALUES ('polls.close', '1', '2026-01-08T20:00:00.000000Z', '{}', '2026-01-01T00:00:00.000000Z');
INSERT INTO reviews (guild_id, user_id, film_id, rating, body, source, created_at, updated_at)
VALUES (1, 10, 7, 9, 'Kept.', 'letterboxd', '2025-05-01T00:00:00.000000Z', '2025-06-01T00:00:00.000000Z'),
       (1, 11, 7, 6, NULL, 'discord', '2026-01-02T00:00:00.000000Z', '2026-01-02T00:00:00.000000Z');
INSERT INTO polls (id, guild_id, channel_id, message_id, creator_id, title, method, created_at, closes_at)
VALUES (1, 1, 100, 500, 10, 'Friday', 'plurality', '2026-01-01T00:00:00.000000Z', '2026-01-08T20:00:00.000000Z');
INSERT INTO poll_candidates (poll_id, position, film_id, nominated_at) VALUES (1, 1, 7, '2026-01-01T00:00:00Z');
INSERT INTO ballots (poll_id, user_id, choices, cast_at, updated_at) VALUES (1, 11, '[7]', 'x', 'x');
INSERT INTO screenings (id, guild_id, film_id, poll_id, channel_id, announce_channel_id, starts_at, ends_at,
                        remind_minutes, created_at)
VALUES (1, 1, 7, 1, 200, 100, '2026-01-09T20:00:00Z', '2026-01-09T22:00:00Z', 60, '2026-01-01T00:00:00Z');
INSERT INTO picks_posts (id, guild_id, week_key, theme_slug, theme_title, trigger, channel_id, claimed_at, poll_id)
VALUES (1, 1, '2026-W02', 'live-on-stage', 'Live On Stage', 'schedule', 100, '2026-01-02T19:00:00Z', 1);
INSERT INTO picks_post_films (post_id, position, film_id, reason) VALUES (1, 1, 7, 'because');
INSERT INTO collections (id, guild_id, slug, title, description, created_by, created_at)
VALUES (1, 1, 'friday', 'Friday', 'Ours.', 10, '2026-01-01T00:00:00Z');
INSERT INTO collection_films (collection_id, film_id, position, added_by, added_at) VALUES (1, 7, 1, 10, 'x');
"""
PREVIOUS_RELEASE_VERSION = 6


async def test_a_database_of_the_previous_release_upgrades_with_its_data(tmp_path: Path, catalog_dir: Path) -> None:
    """The migrations added since the previous release apply to a database it filled, keep every row, give the new
    columns their defaults, and leave a database the current code reads and loads a catalog into."""
    previous = [m for m in bundled_migrations("sqlite") if m.number <= PREVIOUS_RELEASE_VERSION]
    async with await open_database(tmp_path / "club.db") as db:
        await db.migrate(previous)
        async with db.transaction() as tx:
            for statement in PREVIOUS_RELEASE_ROWS.split(";\n"):
                if statement.strip():
                    await tx.execute(statement)
        tables = [row[0] for row in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")]
        counts = {name: await db.fetchval(f"SELECT count(*) FROM {name}") for name in tables}

        applied = await db.migrate()

        assert [m.number for m in applied] == list(
            range(PREVIOUS_RELEASE_VERSION + 1, len(bundled_migrations("sqlite")) + 1)
        )
        assert await db.schema_version() == len(bundled_migrations("sqlite"))
        kept = [name for name in tables if not name.startswith("film_search")]  # dropped since: written, never read
        assert {name: await db.fetchval(f"SELECT count(*) FROM {name}") for name in kept} == {
            name: counts[name] for name in kept
        }
        assert await db.fetchall("SELECT name FROM sqlite_master WHERE name LIKE 'film_search%'") == []
        assert await catalog_generation(db) == 0
        assert await db.fetchval("SELECT poll_wanted FROM picks_posts WHERE id = 1") == 0
        assert await db.fetchval("SELECT started_at FROM screenings WHERE id = 1") is None
        # Only the imported review is copied into what Letterboxd imports said, dated by the review.
        assert [
            tuple(row) for row in await db.fetchall("SELECT user_id, rating, body, last_on FROM letterboxd_films")
        ] == [(10, 9, "Kept.", "2025-06-01")]
        assert await db.fetchval("PRAGMA foreign_key_check") is None
        assert await db.fetchval("PRAGMA integrity_check") == "ok"

        # The current code works on it: the pending timer is there, a catalog load keeps the film's id (so its
        # reviews, ballots and picks) and bumps the generation.
        timer = await TimerService(db, FixedClock(datetime(2026, 1, 1, tzinfo=UTC))).pending("polls.close", "1")
        assert timer is not None and timer.attempts == 0
        await load_catalog(db, catalog_dir)
        assert await catalog_generation(db) == 1
        assert await db.fetchval("SELECT id FROM films WHERE slug = 'the-last-waltz'") == 7
        assert await db.fetchval("SELECT count(*) FROM reviews WHERE film_id = 7") == 2


async def test_a_commit_that_fails_rolls_back_and_leaves_the_connection_usable(
    db: Database, db_target: str | Path
) -> None:
    """A COMMIT can fail (a deferred foreign key, a full disk), and SQLite then keeps the transaction open: it must be
    rolled back, or every later write would run inside it and never be committed."""
    await db.execute("CREATE TABLE notes (film_id INTEGER REFERENCES films (id) DEFERRABLE INITIALLY DEFERRED)")
    with pytest.raises((sqlite3.IntegrityError, asyncpg.ForeignKeyViolationError)):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO notes (film_id) VALUES (999)")  # no such film: refused at COMMIT
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO guild_settings (guild_id) VALUES (1)")
    async with await open_database(db_target) as other:
        assert await other.fetchval("SELECT count(*) FROM notes") == 0
        assert [r[0] for r in await other.fetchall("SELECT guild_id FROM guild_settings")] == [1]
