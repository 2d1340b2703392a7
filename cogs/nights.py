"""The recurring screening night in Discord: the next night's scheduled event, kept by bot.core.nights.

The core decides (create, move, cancel; fills); this extension does it in Discord: it creates the undecided night's
event with a generated cover card, moves or cancels it, and notices when a moderator deletes or cancels it. A film
that fills the night takes the event over in the screenings extension (cogs.screenings, ``create_event``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord
from discord import EventStatus
from discord.ext import commands

from bot.core import nights
from bot.core.errors import UserError
from bot.core.guilds import get_settings
from bot.core.nights import Night, NightPlan, Step
from bot.core.timers import Timer
from bot.ui.cards import cover_card
from bot.ui.posts import fetch_event, find_own_event

if TYPE_CHECKING:
    from bot.client import FilmClubBot

log = logging.getLogger(__name__)

#: The line under "Film night" on an undecided night's card when no season runs.
UNDECIDED_CARD = "The film is still to be decided"


def night_options(guild: discord.Guild, night: Night, plan: NightPlan) -> dict[str, Any]:
    """The arguments of ``Guild.create_scheduled_event`` (or ``edit``) for an undecided night."""
    channel = guild.get_channel(night.channel_id)
    options: dict[str, Any] = {
        "name": nights.UNDECIDED_NAME,
        "description": nights.night_description(night, plan.season),
        "start_time": night.starts_at,
        "end_time": nights.night_end(night),
        "privacy_level": discord.PrivacyLevel.guild_only,
    }
    if isinstance(channel, discord.StageChannel):
        options.update(entity_type=discord.EntityType.stage_instance, channel=channel)
    else:
        options.update(entity_type=discord.EntityType.voice, channel=channel or discord.Object(night.channel_id))
    return options


def event_refusal(guild: discord.Guild, night: Night, exc: discord.HTTPException) -> str:
    """Why Discord would not create or edit the night's event, in words a moderator can act on (/config show)."""
    if isinstance(exc, discord.NotFound):
        return "Discord says the channel (or the event) no longer exists"
    if isinstance(exc, discord.Forbidden):
        channel = guild.get_channel(night.channel_id)
        if channel is not None:
            granted = channel.permissions_for(guild.me)
            needed = {
                "View Channel": granted.view_channel,
                "Connect": granted.connect,
                "Manage Events": granted.manage_events,
            }
            missing = [name for name, has in needed.items() if not has]
            if missing:
                return f"missing {' and '.join(missing)}"
        return f"missing a permission (Discord said: {exc.text or 'Missing Permissions'})"
    return f"Discord answered {exc.status} ({exc.text or 'no reason given'})"


def night_card(plan: NightPlan) -> bytes:
    """The undecided night's cover: "Film night", and the running season's theme (its title) or that it is open."""
    detail = plan.season[0].theme_title if plan.season is not None else UNDECIDED_CARD
    return cover_card("Film night", None, detail)


class Nights(commands.Cog):
    """The club's regular screening night."""

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def cog_load(self) -> None:
        self.bot.timers.register(nights.NIGHT_TIMER, self._on_night_timer)
        armed = await nights.rearm_nights(self.bot.db, self.bot.clock, self.bot.timers, self.bot.shard_set)
        if armed:
            log.info("armed the night timer of %d server(s) that had none pending", armed)

    async def _on_night_timer(self, timer: Timer) -> None:
        await self.keep(int(timer.payload["guild_id"]))

    async def keep(self, guild_id: int) -> None:
        """Bring the server's next night's event in line with its settings (see bot.core.nights.keep_night)."""
        async with self._locks[guild_id]:
            guild = self.bot.get_guild(guild_id)
            if guild is None:
                raise LookupError(f"server {guild_id} is not available yet")  # the timer tries again
            plan = await nights.keep_night(self.bot.db, self.bot.clock, self.bot.timers, guild_id)
            for ended in plan.cancelled:
                await self._cancel_event(guild, ended)
            night = plan.night
            if night is None:
                return
            if plan.step is Step.CREATE:
                night = await self._create(guild, night, plan)
            elif plan.step is Step.MOVE:
                await self._move(guild, night, plan)
            if night.event_id is not None:
                await self._fill_from_season(night)

    async def _create(self, guild: discord.Guild, night: Night, plan: NightPlan) -> Night:
        event = await self._find_own_event(guild, night)
        if event is None:
            options = night_options(guild, night, plan)
            cover = await asyncio.to_thread(night_card, plan)
            try:
                event = await guild.create_scheduled_event(**options, image=cover)
            except discord.HTTPException as exc:
                if exc.status >= 500:
                    raise
                log.warning("night %s: Discord refused the event: %s", night.id, exc)
                # Not recorded: the next run (a settings change, the next start-up) tries again; /config show says so.
                await nights.event_refused(self.bot.db, self.bot.clock, night.id, event_refusal(guild, night, exc))
                return night
            log.info("night %s of server %s: event %s created", night.id, guild.id, event.id)
        else:
            log.info("night %s: event %s was created before a restart; adopting it", night.id, event.id)
        await nights.record_event(self.bot.db, night.id, event.id)
        return replace(night, event_id=event.id)

    async def _find_own_event(self, guild: discord.Guild, night: Night) -> discord.ScheduledEvent | None:
        # A cancelled one (the night was off for a while) is not adopted.
        return await find_own_event(
            guild,
            self.bot.user,
            lambda event: event.status is EventStatus.scheduled and nights.is_night_event(event.description, night.id),
        )

    async def _move(self, guild: discord.Guild, night: Night, plan: NightPlan) -> None:
        event = await fetch_event(guild, night.event_id)
        if event is None or event.status is not EventStatus.scheduled:
            return
        options = night_options(guild, night, plan)
        del options["privacy_level"]
        try:
            await event.edit(**options)
        except discord.HTTPException as exc:
            if exc.status >= 500:
                raise
            log.warning("night %s: could not move event %s: %s", night.id, event.id, exc)
            await nights.event_refused(self.bot.db, self.bot.clock, night.id, event_refusal(guild, night, exc))
        else:
            log.info("night %s: event %s moved to %s", night.id, event.id, night.starts_at)
            await nights.event_accepted(self.bot.db, night)

    async def _cancel_event(self, guild: discord.Guild, night: Night) -> None:
        event = await fetch_event(guild, night.event_id)
        if event is None or event.status is not EventStatus.scheduled:
            return
        try:
            await event.cancel()
        except discord.HTTPException as exc:
            if exc.status >= 500:
                raise
            log.warning("night %s: could not cancel event %s: %s", night.id, event.id, exc)
        else:
            log.info("night %s: event %s cancelled", night.id, event.id)

    async def _fill_from_season(self, night: Night) -> None:
        settings = await get_settings(self.bot.db, night.guild_id)
        announce = settings.announcements_channel_id or night.channel_id
        try:
            screening = await nights.fill_from_season(self.bot.db, self.bot.clock, self.bot.timers, night, announce)
        except UserError as exc:
            log.warning("night %s: the season's film could not fill it: %s", night.id, exc.message)
            return
        if screening is not None:
            log.info("night %s: filled by the season's film (screening %s)", night.id, screening.id)

    # -- what moderators do in Discord ---------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_scheduled_event_update(self, _before: discord.ScheduledEvent, after: discord.ScheduledEvent) -> None:
        """Cancelled: the night is off. Its start edited while the film is undecided: the night follows (a filled
        night's event is its screening's, which cogs.screenings follows)."""
        if after.status is EventStatus.cancelled:
            await self._gone(after.id)
        elif after.status is EventStatus.scheduled:
            async with self._locks[after.guild_id]:
                night = await nights.follow_event(
                    self.bot.db, self.bot.clock, self.bot.timers, after.id, after.start_time
                )
            if night is not None:
                log.info("night %s: its event was moved in Discord to %s; the night follows", night.id, night.starts_at)

    @commands.Cog.listener()
    async def on_scheduled_event_delete(self, event: discord.ScheduledEvent) -> None:
        await self._gone(event.id)

    async def _gone(self, event_id: int) -> None:
        night = await nights.event_gone(self.bot.db, self.bot.clock, event_id)
        if night is not None:
            log.info("night %s: its event %s was deleted in Discord; not made again", night.id, event_id)


async def setup(bot: FilmClubBot) -> None:
    await bot.add_cog(Nights(bot))
