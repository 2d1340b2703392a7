"""A server's data when the bot leaves it, and on a moderator's request: kept for a grace period, then deleted.

When the bot is removed from a server (kicked, or the server deleted; an outage is not a removal), a persisted timer
of kind :data:`PURGE_TIMER` is armed for the end of the grace period (``GUILD_DATA_GRACE_DAYS``). The timer is the
record of the removal: it survives restarts, runs exactly once (:mod:`bot.core.timers`), and the bot coming back into
the server cancels it (:func:`server_back`), so a kick by mistake loses nothing. When it falls due, every row of the
server is deleted (:func:`purge`), in one transaction, and a log line says how many; all but the running timer
itself, which the timer service then records as done (and deletes with the other finished timers, a month on).

``/config purge`` deletes the same rows at once (:func:`purge_now`), after the moderator typed the server's name.
What belongs to a server is :mod:`bot.db.ownership`'s to say; this module never lists tables.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.clock import to_db
from bot.core.errors import UserError
from bot.core.recommend import recommender_for
from bot.core.shards import ShardSet
from bot.core.timers import Timer, TimerService
from bot.db import server_data as store
from bot.db.database import Database

log = logging.getLogger(__name__)

#: The timer kind of a removed server's purge; its key is the server's id.
PURGE_TIMER = "guild_purge"


@dataclass(frozen=True)
class Purged:
    """What a purge deleted: rows per table (tables with none left out)."""

    guild_id: int
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


async def server_removed(timers: TimerService, guild_id: int, grace: timedelta) -> datetime:
    """The bot was removed from the server: arm its purge for the end of the grace period and return when that is.
    Removed again while a purge is pending (it came back and left again): the period starts again."""
    now = timers.clock.now()
    purge_at = now + grace
    await timers.schedule(PURGE_TIMER, str(guild_id), purge_at, {"removed_at": to_db(now)}, guild_id=guild_id)
    log.info("removed from server %s: its data is kept until %s, then deleted", guild_id, to_db(purge_at))
    return purge_at


async def server_back(timers: TimerService, guild_id: int) -> bool:
    """The bot is in the server (added back, or there at start-up): cancel a pending purge; return whether there
    was one."""
    cancelled = await timers.cancel(PURGE_TIMER, str(guild_id))
    if cancelled:
        log.info("back in server %s within the grace period: its data is kept, the purge is cancelled", guild_id)
    return cancelled


async def servers_back(timers: TimerService, present: Collection[int]) -> list[int]:
    """At start-up: the servers the bot is in whose purge is pending (added back while it was down) get it cancelled
    (:func:`server_back`); which they were. One read for all of them, so a start-up writes nothing for the others."""
    pending = await timers.pending_pairs([(PURGE_TIMER, str(guild_id)) for guild_id in present])
    back = sorted(int(key) for _kind, key in pending)
    for guild_id in back:
        await server_back(timers, guild_id)
    return back


async def arm_missed_removals(
    db: Database, timers: TimerService, shards: ShardSet, present: Collection[int], grace: timedelta
) -> list[int]:
    """At start-up: servers of these shards that have data but that the bot is not in (it was removed while it was
    down, so no removal was seen) get their purge armed, the grace period counted from now; a server whose purge is
    already pending keeps it. ``present`` is every server the bot is in, available or not (an outage is no
    removal). Returns the servers armed."""
    armed = []
    for guild_id in sorted(await store.servers_with_data(db, shards.count, shards.ids) - set(present)):
        if await timers.pending(PURGE_TIMER, str(guild_id)) is None:
            await server_removed(timers, guild_id, grace)
            armed.append(guild_id)
    return armed


async def pending_purge(timers: TimerService, guild_id: int) -> datetime | None:
    """When the server's data will be deleted, if the bot was removed from it and has not come back."""
    timer = await timers.pending(PURGE_TIMER, str(guild_id))
    return None if timer is None else timer.due_at


async def purge(db: Database, guild_id: int, *, running: Timer | None = None) -> Purged:
    """Delete every row of the server in one transaction (its settings read as the defaults again, its pending
    timers are gone) and forget what this process derived from them. ``running``: the purge's own timer, when its
    handler purges; its row is left for the timer service to record as done (a run that deleted it could not be)."""
    async with db.transaction() as tx:
        rows = await store.purge(tx, guild_id, running_timer=None if running is None else running.id)
    recommender_for(db).forget(guild_id)
    purged = Purged(guild_id, rows)
    log.info("purged server %s: %d row(s) deleted from %d table(s)", guild_id, purged.total, len(rows))
    return purged


async def purge_due(db: Database, timer: Timer) -> Purged:
    """The grace period of a removed server is over (the :data:`PURGE_TIMER` handler, once the caller checked the
    bot is still not in the server): delete its data."""
    guild_id = int(timer.key)
    removed_at = timer.payload.get("removed_at")
    since = f" (removed {removed_at})" if isinstance(removed_at, str) else ""
    log.info("grace period of server %s is over%s: deleting its data", guild_id, since)
    return await purge(db, guild_id, running=timer)


def same_name(typed: str, name: str) -> bool:
    """Whether the moderator typed the server's name (spaces around it and letter case do not matter)."""
    return typed.strip().casefold() == name.strip().casefold()


def require_same_name(typed: str, name: str) -> None:
    """:func:`same_name`, or the answer that nothing was deleted."""
    if not same_name(typed, name):
        raise UserError("That is not this server's name, so nothing was deleted. Type the name exactly to confirm.")


async def purge_now(db: Database, guild_id: int, *, typed: str, name: str) -> Purged:
    """``/config purge``: delete every row of the server now, if ``typed`` is its name; otherwise nothing changes."""
    require_same_name(typed, name)
    return await purge(db, guild_id)
