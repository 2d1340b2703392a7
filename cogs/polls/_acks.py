"""Answering votes under a burst: acknowledge every click at once, confirm each vote a little later.

Discord gives an interaction three seconds to be acknowledged and fifteen minutes for follow-ups. So a vote is
acknowledged (a deferred update, the cheapest answer for Discord and for us) as soon as its ballot is committed, and
the member's ephemeral confirmation waits until the burst in flight is acknowledged, then goes out a few at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot.core.polls import Spawn

if TYPE_CHECKING:
    from bot.client import FilmClubBot

    Interaction = discord.Interaction[FilmClubBot]

log = logging.getLogger(__name__)

#: Vote confirmations (ephemeral follow-ups) sent at the same time; acknowledgements are never held back.
CONFIRMATIONS_IN_FLIGHT = 4
#: ... and wait for the votes still being acknowledged for at most this long (seconds).
CONFIRMATION_HOLD = 2.0


class VoteAcknowledger:
    """Acknowledges votes first and confirms them after, each confirmation a task the bot keeps (and cancels when it
    closes)."""

    def __init__(self, spawn: Spawn) -> None:
        self._spawn = spawn
        self._confirm_slots = asyncio.Semaphore(CONFIRMATIONS_IN_FLIGHT)
        self._in_flight = 0
        self._acks_done = asyncio.Event()
        self._acks_done.set()

    @contextlib.contextmanager
    def acking(self) -> Iterator[None]:
        """Count a vote from its click to its acknowledgement (confirmations wait while any is in between)."""
        self._in_flight += 1
        self._acks_done.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._acks_done.set()

    async def acknowledge(self, interaction: Interaction, text: str) -> None:
        """Answer a vote (called only once its ballot is committed): defer now, confirm ``text`` in a follow-up."""
        await interaction.response.defer()
        self._spawn(self._confirm(interaction, text), name="poll-vote-confirmation")

    async def _confirm(self, interaction: Interaction, text: str) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CONFIRMATION_HOLD):
                await self._acks_done.wait()
        async with self._confirm_slots:
            try:
                await interaction.followup.send(text, ephemeral=True)
            except (discord.HTTPException, aiohttp.ClientError):
                # The vote is saved either way; only its confirmation is lost (Discord refused it, or the
                # connection dropped). Caught here: nothing awaits this task to hear of it.
                log.warning("could not confirm a vote to member %s", interaction.user.id, exc_info=True)
