"""The configuration change history: one row per setting changed, with who changed it and when."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.db.database import Reader, Transaction

INSERT_CHANGE = """
INSERT INTO config_history (guild_id, user_id, changed_at, setting, old_value, new_value)
VALUES (:guild_id, :user_id, :changed_at, :setting, :old_value, :new_value)
"""
LATEST_CHANGES = """
SELECT id, user_id, changed_at, setting, old_value, new_value FROM config_history
WHERE guild_id = ? ORDER BY id DESC LIMIT ?
"""


@dataclass(frozen=True)
class StoredChange:
    """One history entry as stored: values as the history's text (``None`` = unset), the time as database text."""

    id: int
    user_id: int
    changed_at: str
    setting: str
    old_value: str | None
    new_value: str | None


async def record_changes(
    tx: Transaction,
    guild_id: int,
    user_id: int,
    changed_at: str,
    changes: Iterable[tuple[str, str | None, str | None]],
) -> None:
    """Add one entry per ``(setting, old value, new value)``, in the transaction that changes the settings."""
    await tx.executemany(
        INSERT_CHANGE,
        [
            {
                "guild_id": guild_id,
                "user_id": user_id,
                "changed_at": changed_at,
                "setting": setting,
                "old_value": old,
                "new_value": new,
            }
            for setting, old, new in changes
        ],
    )


async def latest_changes(db: Reader, guild_id: int, limit: int) -> list[StoredChange]:
    """The server's latest entries, newest first."""
    rows = await db.fetchall(LATEST_CHANGES, (guild_id, limit))
    return [StoredChange(int(r["id"]), int(r["user_id"]), r["changed_at"], r["setting"], r[4], r[5]) for r in rows]
