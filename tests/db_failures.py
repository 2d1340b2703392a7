"""A write the database itself refuses, on either backend: how a test stops the bot half-way, as a full disk or a
crash between two statements would, without touching the code under test.

``async with refusing(db, "INSERT ON timers", when="NEW.kind = 'screenings.after'"):`` makes every matching row
write fail (a ``BEFORE`` trigger, SQLite's ``RAISE(ABORT, ...)`` or a PL/pgSQL ``RAISE EXCEPTION``) until the block
ends. What the code under test then sees is one of :data:`REFUSED`, carrying ``message``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from bot.db.database import Database

#: What a refused write raises: SQLite's constraint error, or PostgreSQL's error from ``RAISE EXCEPTION``.
REFUSED = (sqlite3.IntegrityError, asyncpg.RaiseError)

_NAME = "test_refusal"


@asynccontextmanager
async def refusing(
    db: Database, event: str, *, when: str | None = None, message: str = "refused"
) -> AsyncIterator[None]:
    """Refuse ``event`` (a trigger's event and table, e.g. ``"UPDATE OF poll_id ON picks_posts"``) for rows
    matching ``when`` (an SQL condition on ``NEW``, the same on both backends) while the block runs."""
    if "'" in message:
        raise ValueError("the message goes into SQL text: no quotes")
    table = event.rsplit(" ON ", 1)[1]
    if db.dialect.is_postgres:
        await db.execute(
            f"CREATE FUNCTION {_NAME}() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN RAISE EXCEPTION '{message}'; END $$"
        )
        condition = f"WHEN ({when})" if when else ""
        await db.execute(f"CREATE TRIGGER {_NAME} BEFORE {event} FOR EACH ROW {condition} EXECUTE FUNCTION {_NAME}()")
        drop = [f"DROP TRIGGER {_NAME} ON {table}", f"DROP FUNCTION {_NAME}()"]
    else:
        condition = f"WHEN {when}" if when else ""
        await db.execute(
            f"CREATE TRIGGER {_NAME} BEFORE {event} {condition} BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
        drop = [f"DROP TRIGGER {_NAME}"]
    try:
        yield
    finally:
        for statement in drop:
            await db.execute(statement)
