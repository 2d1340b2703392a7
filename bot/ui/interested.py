"""Who clicked Interested on a screening's Discord event, remembered briefly: "I was there" asks on every click, and a
burst of clicks after a screening should cost Discord one read, not one each.

A remembered list answers yes for :data:`REMEMBER` seconds. A member it does not name causes one fresh read before
the answer is no (they may have clicked Interested since); clicks waiting on the same event share a read that began
after they came. So a member who takes their interest back may still count for up to :data:`REMEMBER` seconds.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import discord

#: How long a read of an event's interested members is trusted for a yes, in seconds.
REMEMBER = 60.0

Read = Callable[[], Awaitable[frozenset[int]]]


@dataclass(frozen=True)
class _Read:
    at: float  # when the read was started (the clock's seconds), for how long it is trusted
    ticket: int  # its place among questions and reads: it knows of every click made before questions with lower ones
    members: frozenset[int]


class InterestedMembers:
    """Per event id, the members Discord last said were interested, and when that read began."""

    def __init__(self, remember: float = REMEMBER, clock: Callable[[], float] = time.monotonic) -> None:
        self.remember = remember
        self.clock = clock
        self._reads: dict[int, _Read] = {}
        self._tickets = itertools.count()
        self._locks: dict[int, asyncio.Lock] = {}

    async def includes(self, guild: discord.Guild, event_id: int, user_id: int) -> bool:
        """Whether the member clicked Interested on the server's event (an event gone: nobody did)."""
        return await self.check(event_id, user_id, lambda: _read_interested(guild, event_id))

    async def check(self, event_id: int, user_id: int, read: Read) -> bool:
        """Whether ``user_id`` is among the event's interested members: from a remembered read when it names them,
        else from a read begun after this question (``read`` asks Discord)."""
        asked = next(self._tickets)
        self._forget_old(self.clock())
        known = self._reads.get(event_id)
        if known is not None and user_id in known.members:
            return True
        lock = self._locks.setdefault(event_id, asyncio.Lock())
        async with lock:
            known = self._reads.get(event_id)
            if known is not None and (user_id in known.members or known.ticket > asked):
                return user_id in known.members  # a read that began after the question, or one naming them
            at, ticket = self.clock(), next(self._tickets)
            known = _Read(at, ticket, await read())
            self._reads[event_id] = known
        return user_id in known.members

    def _forget_old(self, now: float) -> None:
        for event_id in [e for e, known in self._reads.items() if now - known.at > self.remember]:
            del self._reads[event_id]
        for event_id in [e for e, lock in self._locks.items() if e not in self._reads and not lock.locked()]:
            del self._locks[event_id]


async def _read_interested(guild: discord.Guild, event_id: int) -> frozenset[int]:
    try:
        event = guild.get_scheduled_event(event_id) or await guild.fetch_scheduled_event(event_id)
        return frozenset([user.id async for user in event.users(limit=None)])
    except discord.NotFound:
        return frozenset()
