"""The database wrapper on a real SQLite file: pragmas, migrations, transactions and online backup."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import pytest

from bot.db.database import Database, Migration, bundled_migrations


async def test_migrations_from_empty_reach_the_latest_version(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "new.db") as db:
        applied = await db.migrate()
        assert [m.number for m in applied] == list(range(1, len(bundled_migrations()) + 1))
        assert await db.schema_version() == len(bundled_migrations())
        tables = {row[0] for row in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"films", "themes", "film_themes", "film_search", "guild_settings", "catalog_state"} <= tables
        assert await db.migrate() == []  # a second run has nothing to do


async def test_connection_uses_wal_foreign_keys_and_a_busy_timeout(db: Database) -> None:
    assert (await db.fetchval("PRAGMA journal_mode")).lower() == "wal"
    assert await db.fetchval("PRAGMA foreign_keys") == 1
    assert await db.fetchval("PRAGMA busy_timeout") >= 1000


async def test_a_failing_migration_leaves_the_schema_as_it_was(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "club.db") as db:
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


async def test_backup_is_a_complete_copy_while_the_database_is_open(db: Database, tmp_path: Path) -> None:
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


async def test_plain_reads_cannot_write(db: Database) -> None:
    """The read connection is read-only: a write has to go through execute() or a transaction (and their lock)."""
    with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
        await db.fetchall("INSERT INTO guild_settings (guild_id) VALUES (3) RETURNING guild_id")
    assert await db.fetchval("SELECT count(*) FROM guild_settings") == 0


async def test_backup_copies_committed_data_only(db: Database, tmp_path: Path) -> None:
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


async def test_a_transaction_cancelled_while_it_begins_leaves_the_connection_usable(db: Database) -> None:
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
    with sqlite3.connect(db.path) as other:  # committed: another connection sees the rows
        assert other.execute("SELECT guild_id FROM guild_settings ORDER BY guild_id").fetchall() == [(2,), (3,)]
