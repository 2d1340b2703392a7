"""Members who left a server: the one place that knows which features keep something for a member there, and asks
each to let go when the member leaves.

A feature registers (:meth:`Leavers.register`) who it follows in a server (the host rota: its volunteers; Letterboxd:
the linked members) and what leaving means to it (off the rota; unlinked). The Discord side (cogs/members.py) has one
listener (a member removed: every feature lets go) and one pass per server at start-up (:meth:`Leavers.sweep`: each
member any feature follows is looked up once, however many features follow them), and a feature may report a leaver
it found itself (:meth:`Leavers.member_left`: Letterboxd, when a diary post's author is not in the server any more).

A server's followed members are checked one lookup at a time, at most one every :data:`LOOKUP_INTERVAL` seconds in
the whole process (:class:`Pacer`): a server with thousands of linked members costs a steady trickle of requests in
the background at start-up, never a burst (discord.py would queue a burst behind Discord's rate limits, but then the
bot's own commands would wait behind it too).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: The shortest time between two member lookups of a start-up pass, over every server of the process: 4 a second,
#: under a tenth of what Discord allows a bot (50 requests a second), so commands keep their share.
LOOKUP_INTERVAL = 0.25

#: Who a feature follows in a server (member ids).
Followed = Callable[[int], Awaitable[Collection[int]]]
#: What leaving means to a feature: ``(guild id, user id)``; whether it had anything of the member's to let go.
Left = Callable[[int, int], Awaitable[bool]]
#: Whether a member is in a server, asked of Discord: True, False (gone: "unknown member"), None (unknown: ask later).
IsMember = Callable[[int], Awaitable[bool | None]]


@dataclass(frozen=True)
class Feature:
    name: str
    followed: Followed
    left: Left


class Pacer:
    """At most one go every ``interval`` seconds, shared by every caller (``clock`` and ``sleep`` are for tests)."""

    def __init__(
        self,
        interval: float = LOOKUP_INTERVAL,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._last: float | None = None

    async def wait(self) -> None:
        async with self._lock:
            if self._last is not None:
                wait = self._last + self.interval - self._clock()
                if wait > 0:
                    await self._sleep(wait)
            self._last = self._clock()


@dataclass(frozen=True)
class Sweep:
    """What a start-up pass over one server did."""

    followed: int  # members some feature follows there
    looked_up: int  # of which asked of Discord (not known to be there without asking)
    gone: list[int]  # who had left (every feature let go of them)
    unknown: int  # lookups that failed (kept as they are: the next pass asks again)


class Leavers:
    """The features that keep something for a member, and what each does when the member leaves."""

    def __init__(self, pacer: Pacer | None = None) -> None:
        self._features: dict[str, Feature] = {}
        self._pacer = pacer or Pacer()
        self._sweeping: set[int] = set()

    def register(self, name: str, followed: Followed, left: Left) -> None:
        """A feature (by name; registering again replaces it, as a reloaded extension does)."""
        self._features[name] = Feature(name, followed, left)

    @property
    def features(self) -> list[str]:
        return sorted(self._features)

    async def followed(self, guild_id: int) -> list[int]:
        """Every member some feature follows in the server, each once."""
        members: set[int] = set()
        for feature in self._features.values():
            members.update(await feature.followed(guild_id))
        return sorted(members)

    async def member_left(self, guild_id: int, user_id: int) -> list[str]:
        """The member left the server: every feature lets go of them. The names of those that had something."""
        let_go = [feature.name for feature in list(self._features.values()) if await feature.left(guild_id, user_id)]
        if let_go:
            log.info("guild %s: member %s left the server; let go by %s", guild_id, user_id, ", ".join(let_go))
        return let_go

    async def sweep(self, guild_id: int, *, cached: Callable[[int], bool], lookup: IsMember) -> Sweep | None:
        """Check every member the features follow in the server, and let go of those who left: ``cached`` (the
        members the bot already sees there) first, then ``lookup`` (Discord), paced (see the module). None when a
        pass over this server is already running (a server that becomes available again after an outage while the
        first pass still runs)."""
        if guild_id in self._sweeping:
            return None
        self._sweeping.add(guild_id)
        try:
            followed = await self.followed(guild_id)
            gone: list[int] = []
            looked_up = unknown = 0
            for user_id in followed:
                if cached(user_id):
                    continue
                await self._pacer.wait()
                looked_up += 1
                present = await lookup(user_id)
                if present is None:
                    unknown += 1
                elif not present:
                    gone.append(user_id)
                    await self.member_left(guild_id, user_id)
            return Sweep(len(followed), looked_up, gone, unknown)
        finally:
            self._sweeping.discard(guild_id)
