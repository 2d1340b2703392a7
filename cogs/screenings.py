"""/screening: a film shown to the club as a Discord scheduled event, with a reminder and a "rate it" prompt.

The reminder is a message in the screening's announcement channel that mentions the members who clicked
"Interested" on the event (fetched from Discord when it is due); the "rate it" prompt mentions the members recorded
as attending (bot.core.attendance). Those mentions are the only pings this bot sends: each message carries an explicit
``AllowedMentions(users=[...])`` naming exactly those members, nothing else.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn, Self

import discord
from discord import EventStatus, app_commands
from discord.ext import commands
from discord.utils import TimestampStyle

from bot.core import attendance as attendance_core
from bot.core import config, nights, screenings
from bot.core import polls as polls_core
from bot.core.durations import describe_duration
from bot.core.errors import UserError
from bot.core.films import Film, get_film
from bot.core.guilds import get_settings
from bot.core.posters import card_theme, event_cover
from bot.core.screenings import EventPhase, EventState, Followed, Screening, ScreeningStatus
from bot.core.timers import Timer
from bot.ui.autocomplete import film_choices
from bot.ui.cards import cover_card
from bot.ui.checks import ensure_moderator, ensure_screening_channel, guild_id_of
from bot.ui.embeds import add_field, chunk_lines, club_embed, truncate
from bot.ui.handoff import review_film_id
from bot.ui.hosts import host_greeting, with_host
from bot.ui.interested import InterestedMembers
from bot.ui.posts import fetch_event, find_own_event, find_own_post
from bot.ui.replies import send_ephemeral
from bot.ui.views import AnswersMember

if TYPE_CHECKING:
    from bot.client import FilmClubBot

log = logging.getLogger(__name__)

Interaction = discord.Interaction["FilmClubBot"]

#: Discord accepts at most 100 users in allowed_mentions; keep each reminder well under that.
MENTIONS_PER_MESSAGE = 80
#: Discord's limit on a message's content.
CONTENT_LIMIT = 2000


def reminder_messages(first: str, then: str, user_ids: list[int]) -> list[tuple[str, list[int]]]:
    """The reminder's messages: ``first`` (then ``then``) followed by as many of the members' mentions as fit in
    Discord's 2000 characters (at most :data:`MENTIONS_PER_MESSAGE`), with the members each one pings. A message
    Discord refuses as too long would lose the whole reminder."""
    messages: list[tuple[str, list[int]]] = []
    head, length = truncate(first, 1000), 0
    chunk: list[int] = []
    for user_id in user_ids:
        mention = f" <@{user_id}>"
        if chunk and (len(chunk) == MENTIONS_PER_MESSAGE or len(head) + length + len(mention) > CONTENT_LIMIT):
            messages.append((head + "\n" + " ".join(f"<@{u}>" for u in chunk), chunk))
            head, chunk, length = truncate(then, 1000), [], 0
        chunk.append(user_id)
        length += len(mention)
    if chunk or not messages:
        messages.append((head + ("\n" + " ".join(f"<@{u}>" for u in chunk) if chunk else ""), chunk))
    return messages


def event_url(guild_id: int, event_id: int) -> str:
    return f"https://discord.com/events/{guild_id}/{event_id}"


def ts(moment: datetime, style: TimestampStyle = "f") -> str:
    """A Discord timestamp: every member reads it in their own timezone."""
    return discord.utils.format_dt(moment, style)


def where(screening: Screening) -> str:
    return f"<#{screening.channel_id}>" if screening.channel_id is not None else f"**{screening.location}**"


def link_view(label: str, url: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label=label, url=url))
    view.stop()
    return view


def rate_view(film_id: int) -> discord.ui.View:
    """The "Rate it" button; the reviews feature answers its custom id (bot.ui.handoff.review_film_id)."""
    view = discord.ui.View(timeout=None)
    view.add_item(
        discord.ui.Button(label="Rate it", style=discord.ButtonStyle.primary, custom_id=review_film_id(film_id))
    )
    view.stop()  # answered by the reviews cog's DynamicItem, not by this instance
    return view


def screening_embed(screening: Screening, film: Film | None, *, title: str) -> discord.Embed:
    embed = club_embed(title, film.blurb if film is not None else None)
    add_field(embed, "When", f"{ts(screening.starts_at, 'F')} ({ts(screening.starts_at, 'R')})", inline=True)
    add_field(embed, "Where", where(screening), inline=True)
    if film is not None:
        facts = [film.label, film.length, ", ".join(film.directors)]
        add_field(embed, "Film", " · ".join(fact for fact in facts if fact), inline=True)
    if screening.event_id is not None:
        embed.url = event_url(screening.guild_id, screening.event_id)
    embed.set_footer(text=screenings.announcement_footer(screening.id, screening.remind_minutes))
    return embed


def card_detail(film: Film, poll_title: str | None, theme_title: str | None) -> str | None:
    """The line under the title on a generated cover: "this server's film", else the poll that chose it, else the
    theme's title (the running season's, or the film's first theme's)."""
    if film.is_server_film:
        return "this server's film"
    if poll_title:
        return poll_title
    return theme_title


def event_options(guild: discord.Guild, screening: Screening, film: Film, poll_title: str | None) -> dict[str, Any]:
    """The arguments of ``Guild.create_scheduled_event`` for a screening."""
    options: dict[str, Any] = {
        "name": truncate(film.label, 100),
        "description": screenings.event_description(film, screening.id, poll_title=poll_title),
        "start_time": screening.starts_at,
        "end_time": screening.ends_at,
        "privacy_level": discord.PrivacyLevel.guild_only,
    }
    if screening.channel_id is not None:
        channel = guild.get_channel(screening.channel_id)
        if isinstance(channel, discord.StageChannel):
            options.update(entity_type=discord.EntityType.stage_instance, channel=channel)
        else:
            options.update(
                entity_type=discord.EntityType.voice, channel=channel or discord.Object(screening.channel_id)
            )
    else:
        options.update(entity_type=discord.EntityType.external, location=screening.location)
    return options


#: Discord's error code when a message already has a thread.
THREAD_ALREADY_CREATED = 160004


def thread_starter_embed(screening: Screening, film: Film) -> discord.Embed:
    """The post in the channel that the discussion thread opens from."""
    embed = club_embed(f"💬 {film.label}: the screening has started", "Talk about it in the thread below.")
    embed.set_footer(text=screenings.thread_marker(screening.id))
    return embed


def thread_seed_embed(screening: Screening, film: Film) -> discord.Embed:
    """The thread's first post: a spoiler warning, the discussion prompts and (with it) the Rate it button."""
    embed = club_embed(
        f"⚠️ Spoilers ahead for {film.label}",
        "This thread discusses the whole film, ending included. Come back once you've seen it.",
    )
    add_field(embed, "To talk about", "\n".join(f"• {prompt}" for prompt in screenings.thread_prompts(film)))
    embed.set_footer(text=screenings.thread_seed_marker(screening.id))
    return embed


WAS_THERE_PATTERN = r"filmclub:was-there:(?P<screening_id>[0-9]+)"


class WasThereButton(AnswersMember, discord.ui.DynamicItem[discord.ui.Button[Any]], template=WAS_THERE_PATTERN):
    """ "I was there", under the start notice of a screening outside Discord: the member is recorded as attending."""

    def __init__(self, screening_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="I was there", style=discord.ButtonStyle.success, custom_id=f"filmclub:was-there:{screening_id}"
            )
        )
        self.screening_id = screening_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(int(match["screening_id"]))

    async def answer(self, interaction: discord.Interaction[Any]) -> None:
        bot: FilmClubBot = interaction.client
        guild_id = guild_id_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)  # Discord may be asked who is interested

        async def interested(screening: Screening) -> bool:
            return await _interested_in(interaction, screening, interaction.user.id)

        added = await attendance_core.was_there(
            bot.db, bot.clock, guild_id, self.screening_id, interaction.user.id, interested=interested
        )
        if added:
            await send_ephemeral(interaction, "✅ Noted: you were there. The film is marked watched for you.")
        else:
            await send_ephemeral(interaction, "You are already on the list for this screening.")


async def _interested_in(interaction: discord.Interaction[Any], screening: Screening, user_id: int) -> bool:
    """Whether the member clicked Interested on the screening's Discord event (an event gone: nobody did), from the
    screenings cog's briefly remembered reads (bot.ui.interested)."""
    cog = interaction.client.get_cog("Screenings")
    if interaction.guild is None or screening.event_id is None or not isinstance(cog, Screenings):
        return False
    return await cog.interested.includes(interaction.guild, screening.event_id, user_id)


def was_there_view(screening_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(WasThereButton(screening_id))
    view.stop()  # answered by the registered DynamicItem
    return view


class ScreeningNotScheduled(UserError):
    """The screening could not be set up; nothing of it was kept, and the message says why."""


class Screenings(
    commands.GroupCog, group_name="screening", group_description="Screenings: scheduled watch parties for a film."
):
    """Screenings"""

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        #: Who clicked Interested on events, remembered briefly for "I was there".
        self.interested = InterestedMembers()
        super().__init__()

    async def cog_load(self) -> None:
        self.bot.timers.register(screenings.EVENT_TIMER, self._on_event_timer)
        self.bot.timers.register(screenings.REMIND_TIMER, self._on_remind_timer)
        self.bot.timers.register(screenings.START_TIMER, self._on_start_timer)
        self.bot.timers.register(screenings.AFTER_TIMER, self._on_after_timer)
        self.bot.timers.register(screenings.THREAD_ARCHIVE_TIMER, self._on_archive_timer)
        self.bot.timers.register(screenings.THREAD_OPEN_TIMER, self._on_thread_open_timer)
        rearmed = await screenings.rearm_screenings(self.bot.db, self.bot.clock, self.bot.timers, self.bot.shard_set)
        if rearmed:
            log.warning("re-armed %d screening timer(s) that were missing", rearmed)

    # -- the scheduled event ----------------------------------------------------------------------------------------

    async def create_event(self, screening_id: int) -> Screening:
        """Create the Discord scheduled event, arm its timers and announce it: all of it, or none of it.

        Raises :class:`ScreeningNotScheduled` (a :class:`UserError` with the reason) when the screening cannot be
        set up; the reason is also posted in the announcement channel. A re-run finds the event; if a crash came
        before the announcement was recorded, it posts the announcement unless it finds it in the channel.
        """
        async with self._locks[screening_id]:
            screening = await screenings.require_screening(self.bot.db, screening_id)
            if screening.needs_announcement:
                await self._announce(screening, await get_film(self.bot.db, screening.film_id))
                return screening
            if screening.status is not ScreeningStatus.PLANNED or screening.event_id:
                return screening
            film = await get_film(self.bot.db, screening.film_id)
            guild = self.bot.get_guild(screening.guild_id)
            if film is None or guild is None:
                await screenings.mark_failed(self.bot.db, self.bot.clock, screening.id)
                log.warning("screening %s: film or server is gone; not scheduled", screening.id)
                return screening
            try:
                screenings.steps(screening, self.bot.clock.now())  # refused before the event is created
            except UserError as exc:
                await self._not_scheduled(screening, film, exc.message)
            poll_title = None
            if screening.poll_id is not None:
                poll = await polls_core.get_poll(self.bot.db, screening.poll_id)
                poll_title = poll.title if poll is not None else None
            try:
                event = await self._night_event(guild, screening, film, poll_title)
                if event is None:
                    event = await self._find_own_event(guild, screening.id)
                if event is None:
                    event = await self._create_with_cover(guild, screening, film, poll_title)
                else:
                    log.info("screening %s: event %s exists; it is the screening's", screening.id, event.id)
            except discord.HTTPException as exc:
                if exc.status >= 500:
                    raise  # Discord hiccup: the timer tries again
                log.warning("screening %s: Discord refused the event: %s", screening.id, exc)
                await self._not_scheduled(
                    screening,
                    film,
                    f"Discord refused the event ({exc.text or exc.status}); I need the Create Events and Manage "
                    "Events permissions",
                )
            try:
                screening = await screenings.attach_event(
                    self.bot.db, self.bot.clock, self.bot.timers, screening.id, event.id
                )
            except Exception as exc:
                # The timers could not all be armed: the event must not stay behind without them.
                log.exception("screening %s: arming its timers failed; deleting event %s", screening.id, event.id)
                await self._delete_event(event)
                reason = exc.message if isinstance(exc, UserError) else "I couldn't save its reminder and timers"
                await self._not_scheduled(screening, film, reason)
            log.info("screening %s: event %s created", screening.id, event.id)
            await self._announce(screening, film)
            return screening

    async def _cover(self, screening: Screening, film: Film, poll_title: str | None) -> bytes:
        """The event's cover: the film's poster, or a generated card (title, year, theme's title) when none is known."""
        cover = await event_cover(self.bot.details, film)
        if cover is None:
            theme_title = await card_theme(self.bot.db, screening.guild_id, film, screening.starts_at)
            detail = card_detail(film, poll_title, theme_title)
            cover = await asyncio.to_thread(cover_card, film.title, film.year, detail)
        return cover

    async def _night_event(
        self, guild: discord.Guild, screening: Screening, film: Film, poll_title: str | None
    ) -> discord.ScheduledEvent | None:
        """When the screening fills the club's regular night (bot.core.nights), that night's existing event, edited to
        be the screening's (name, description, times, cover); None otherwise, or when that event is gone."""
        night = await nights.night_for_screening(self.bot.db, screening.id)
        event = None if night is None else await fetch_event(guild, night.event_id)
        if event is None or event.status is not EventStatus.scheduled:
            return None
        options = event_options(guild, screening, film, poll_title)
        options["description"] = await with_host(guild, screening, options["description"])
        edits = {key: options[key] for key in ("name", "description", "start_time", "end_time")}
        try:
            return await event.edit(**edits, image=await self._cover(screening, film, poll_title))
        except discord.HTTPException as exc:
            if exc.status >= 500:
                raise
            log.warning("screening %s: Discord refused the night's event with its cover (%s)", screening.id, exc)
        return await event.edit(**edits)

    async def _create_with_cover(
        self, guild: discord.Guild, screening: Screening, film: Film, poll_title: str | None
    ) -> discord.ScheduledEvent:
        """Create the event with the film's poster as its cover, or a generated card (title, year, theme) when no
        poster is known. The cover is a nicety: when Discord refuses the event with it (a 4xx), the failure is logged
        and the event is created without it."""
        options = event_options(guild, screening, film, poll_title)
        options["description"] = await with_host(guild, screening, options["description"])
        cover = await self._cover(screening, film, poll_title)
        try:
            return await guild.create_scheduled_event(**options, image=cover)
        except discord.HTTPException as exc:
            if exc.status >= 500:
                raise
            log.warning(
                "screening %s: Discord refused the event with its cover (%s); creating it without", screening.id, exc
            )
        return await guild.create_scheduled_event(**options)

    async def _announce(self, screening: Screening, film: Film | None) -> None:
        """Post the screening's announcement once, then record it. A Discord hiccup is raised (the event timer,
        still pending, runs it again); a refusal is logged: the event and its timers stand, members find it in the
        server's event list."""
        if await self._own_post_exists(screening, screenings.announcement_marker(screening.id), "announcement"):
            await self._announced(screening)
            return
        url = event_url(screening.guild_id, screening.event_id or 0)
        label = film.label if film is not None else f"film #{screening.film_id}"
        embed = screening_embed(screening, film, title=f"🎟️ Screening: {label}")
        try:
            await self._post(
                screening.announce_channel_id,
                content=f"Click **Interested** on the event to get a reminder: {url}",
                embed=embed,
                view=link_view("Event", url),
            )
        except discord.HTTPException as exc:
            if exc.status >= 500:
                raise
            log.warning("screening %s: could not post the announcement", screening.id, exc_info=True)
        await self._announced(screening)

    async def _announced(self, screening: Screening) -> None:
        await screenings.mark_announced(self.bot.db, self.bot.clock, screening.id)
        log.info("screening %s: announcement recorded", screening.id)

    async def _not_scheduled(self, screening: Screening, film: Film, reason: str) -> NoReturn:
        """Nothing of the screening stays: it is marked failed, its timers cancelled, the channel told why."""
        await screenings.abandon(self.bot.db, self.bot.timers, screening.id)
        message = f"I couldn't schedule the screening of **{film.label}**: {reason.rstrip('.')}. Nothing was created."
        try:
            await self._post(screening.announce_channel_id, content=f"⚠️ {message}")
        except discord.HTTPException:
            log.warning("screening %s: could not post why it was not scheduled", screening.id, exc_info=True)
        raise ScreeningNotScheduled(message)

    async def _find_own_event(self, guild: discord.Guild, screening_id: int) -> discord.ScheduledEvent | None:
        """The event this bot created for the screening before a crash kept it from recording it, if any."""
        return await find_own_event(
            guild, self.bot.user, lambda event: screenings.is_event_of(event.description, screening_id)
        )

    async def _delete_event(self, event: discord.ScheduledEvent) -> None:
        try:
            await event.delete()
        except discord.NotFound:
            pass
        except discord.HTTPException:
            log.warning("could not delete event %s", event.id, exc_info=True)

    async def _post(self, channel_id: int, **kwargs: Any) -> discord.Message:
        channel = self.bot.get_partial_messageable(channel_id)
        return await channel.send(**kwargs)

    async def _on_event_timer(self, timer: Timer) -> None:
        try:
            await self.create_event(int(timer.payload["screening_id"]))
        except ScreeningNotScheduled as exc:
            log.info("screening %s not scheduled: %s", timer.payload["screening_id"], exc.message)

    # -- the event as it is in Discord --------------------------------------------------------------------------------

    async def _fetch_event(self, screening: Screening) -> discord.ScheduledEvent | None:
        """The screening's Discord event as it is now; None if it was deleted (or the server is gone)."""
        guild = self.bot.get_guild(screening.guild_id)
        return None if guild is None else await fetch_event(guild, screening.event_id)

    async def _follow(self, screening: Screening, event: discord.ScheduledEvent | None) -> bool:
        """Follow what a moderator did to the event in Discord; True if the step due now should still run."""
        state = None
        if event is not None:
            state = EventState(EventPhase(event.status.value), event.start_time, event.end_time)
        followed = await screenings.follow_event(self.bot.db, self.bot.clock, self.bot.timers, screening, state)
        if followed is Followed.MOVED:
            log.info("screening %s: its event was moved in Discord to %s", screening.id, event and event.start_time)
        elif followed is Followed.CANCELLED:
            log.info("screening %s: its event was deleted or cancelled in Discord; cancelled", screening.id)
            film = await get_film(self.bot.db, screening.film_id)
            label = film.label if film is not None else f"film #{screening.film_id}"
            how = "deleted" if event is None else "cancelled"
            try:
                await self._post(
                    screening.announce_channel_id,
                    content=f"🚫 The screening of **{label}** {ts(screening.starts_at, 'f')} is off: its event was "
                    f"{how} in Discord.",
                )
            except discord.HTTPException:
                log.warning("screening %s: could not post that it is off", screening.id, exc_info=True)
        return followed is Followed.UNCHANGED

    @commands.Cog.listener()
    async def on_scheduled_event_update(self, _before: discord.ScheduledEvent, after: discord.ScheduledEvent) -> None:
        """A moderator changed the event in Discord: follow it now, not only when the next step is due."""
        await self._event_changed(after.id, after)

    @commands.Cog.listener()
    async def on_scheduled_event_delete(self, event: discord.ScheduledEvent) -> None:
        await self._event_changed(event.id, None)

    async def _event_changed(self, event_id: int, event: discord.ScheduledEvent | None) -> None:
        found = await screenings.screening_for_event(self.bot.db, event_id)
        if found is None:
            return
        async with self._locks[found.id]:
            screening = await screenings.get_screening(self.bot.db, found.id)
            if screening is not None and screening.status is ScreeningStatus.SCHEDULED:
                await self._follow(screening, event)

    async def _set_status(self, screening: Screening, event: discord.ScheduledEvent, status: EventStatus) -> None:
        """Move the event to ``status`` (active, or completed through active), unless it is there already."""
        try:
            if event.status is EventStatus.scheduled:
                event = await event.start()
            if status is EventStatus.completed and event.status is EventStatus.active:
                await event.end()
        except discord.HTTPException as exc:
            if exc.status >= 500:
                raise  # Discord hiccup: the timer tries again
            log.warning("screening %s: could not set event %s to %s: %s", screening.id, event.id, status.name, exc)

    # -- the start ----------------------------------------------------------------------------------------------------

    async def start(self, screening_id: int, key: str) -> None:
        """At the start time: the event goes live in members' clients (once; a moderator may have started it)."""
        async with self._locks[screening_id]:
            screening = await screenings.get_screening(self.bot.db, screening_id)
            if screening is None or not screenings.is_current(screening, key) or screening.started_at:
                return
            event = await self._fetch_event(screening)
            if not await self._follow(screening, event) or event is None:
                return
            await self._set_status(screening, event, EventStatus.active)
            # Before the start is recorded: a crash in between re-runs this timer, which finds the thread (or the
            # thread's timer, armed once).
            rules = await self._rules(screening.guild_id)
            if rules.thread_after_minutes:
                due = await screenings.open_thread_later(self.bot.timers, screening, rules.thread_after_minutes)
                log.info("screening %s: its discussion thread opens at %s", screening.id, due)
            else:
                await self.open_thread(screening)
            await screenings.mark_started(self.bot.db, self.bot.clock, screening.id)
            log.info("screening %s: event %s started", screening.id, event.id)
            await self._take_register(screening)

    # -- attendance ---------------------------------------------------------------------------------------------------

    def _voice_channels(self, guild: discord.Guild) -> dict[int, list[int]]:
        """channel -> the members in it now, as Discord last reported (no member cache needed)."""
        me = self.bot.user.id if self.bot.user is not None else 0
        channels = [*guild.voice_channels, *guild.stage_channels]
        return {c.id: [user_id for user_id in c.voice_states if user_id != me] for c in channels}

    async def _take_register(self, screening: Screening) -> None:
        """The screening started: whoever already sits in its channel is present from now. Outside Discord, members
        say they were there with a button."""
        if screening.channel_id is None:
            film = await get_film(self.bot.db, screening.film_id)
            label = film.label if film is not None else f"film #{screening.film_id}"
            await self._post(
                screening.announce_channel_id,
                content=f"🎬 **{label}** has started at {where(screening)}. Were you there? Click below.",
                view=was_there_view(screening.id),
            )
            return
        guild = self.bot.get_guild(screening.guild_id)
        if guild is None:
            return
        here = self._voice_channels(guild).get(screening.channel_id, [])
        await attendance_core.reconcile(self.bot.db, self.bot.clock, screening.id, here)

    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        if member.bot:
            return
        await attendance_core.voice_moved(
            self.bot.db,
            self.bot.clock,
            member.id,
            before.channel.id if before.channel is not None else None,
            after.channel.id if after.channel is not None else None,
        )

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        """At start-up (and after an outage) match running screenings' registers with who is in their channels."""
        changed = await attendance_core.reconcile_guild(
            self.bot.db, self.bot.clock, guild.id, self._voice_channels(guild)
        )
        if changed:
            log.info("guild %s: %d attendance stretch(es) reconciled with the voice channels", guild.id, changed)

    async def _on_start_timer(self, timer: Timer) -> None:
        await self.start(int(timer.payload["screening_id"]), timer.key)

    # -- the discussion thread ----------------------------------------------------------------------------------------

    async def open_thread(self, screening: Screening) -> None:
        """Open the screening's discussion thread, once, and arm its archiving: in the server's threads channel
        (``/config channel kind:threads``), or else the screening's announcement channel.

        The thread starts from a post of the bot's that carries :func:`screenings.thread_marker`, and takes that
        post's id (as Discord does). A re-run after a crash finds the post; Discord then refuses a second thread on
        it (160004), and the thread is the post's id: never two threads for one screening. Missing permissions are
        logged and told to moderators in the channel when the bot can post there; a Discord hiccup is raised (the
        start timer runs again)."""
        if screening.thread_id is not None:
            await self._archive_later(screening, screening.thread_id)
            return
        film = await get_film(self.bot.db, screening.film_id)
        guild = self.bot.get_guild(screening.guild_id)
        settings = await get_settings(self.bot.db, screening.guild_id)
        channel_id = settings.threads_channel_id or screening.announce_channel_id
        channel = guild.get_channel(channel_id) if guild is not None else None
        if film is None or guild is None or not isinstance(channel, discord.TextChannel):
            log.warning("screening %s: no text channel to open its discussion thread in", screening.id)
            return
        granted = channel.permissions_for(guild.me)
        if not (granted.create_public_threads and granted.send_messages and granted.send_messages_in_threads):
            await self._no_thread(screening, channel, film, "Create Public Threads, Send Messages in Threads")
            return
        try:
            starter = await find_own_post(channel, self.bot.user, screenings.thread_marker(screening.id))
            if starter is None:
                starter = await channel.send(embed=thread_starter_embed(screening, film))
            try:
                thread_id = (
                    await starter.create_thread(name=screenings.thread_name(film), auto_archive_duration=10080)
                ).id
            except discord.HTTPException as exc:
                if exc.code != THREAD_ALREADY_CREATED:
                    raise
                thread_id = starter.id  # opened before a restart: a message's thread has the message's id
                log.info("screening %s: thread %s was opened before a restart; adopting it", screening.id, thread_id)
            await self._seed_thread(guild, screening, film, thread_id)
        except discord.HTTPException as exc:
            if exc.status >= 500:
                raise
            await self._no_thread(screening, channel, film, f"Discord said: {exc.text or exc.status}")
            return
        await screenings.record_thread(self.bot.db, screening.id, thread_id)
        log.info("screening %s: discussion thread %s opened", screening.id, thread_id)
        await self._archive_later(screening, thread_id)

    async def _seed_thread(self, guild: discord.Guild, screening: Screening, film: Film, thread_id: int) -> None:
        """The thread's first post (spoiler warning, prompts, Rate it), unless a run before a restart posted it."""
        thread = guild.get_thread(thread_id) or await guild.fetch_channel(thread_id)
        marker = screenings.thread_seed_marker(screening.id)
        if isinstance(thread, discord.Thread) and await find_own_post(thread, self.bot.user, marker) is not None:
            return
        messageable = thread if isinstance(thread, discord.Thread) else self.bot.get_partial_messageable(thread_id)
        greeting, mentions = host_greeting(screening)
        await messageable.send(
            greeting, embed=thread_seed_embed(screening, film), view=rate_view(film.id), allowed_mentions=mentions
        )

    async def _no_thread(self, screening: Screening, channel: discord.TextChannel, film: Film, why: str) -> None:
        log.warning("screening %s: could not open its discussion thread in #%s: %s", screening.id, channel.name, why)
        if not channel.permissions_for(channel.guild.me).send_messages:
            return
        try:
            await channel.send(
                f"⚠️ Moderators: I couldn't open the discussion thread for **{film.label}** here ({why}). "
                "Give me Create Public Threads and Send Messages in Threads in this channel."
            )
        except discord.HTTPException:
            log.warning("screening %s: could not say why there is no thread", screening.id, exc_info=True)

    async def _rules(self, guild_id: int) -> config.ScreeningRules:
        """The server's screening options (``/config screenings``), the bot-wide settings where it set none."""
        return config.screening_rules(
            await get_settings(self.bot.db, guild_id),
            archive_days=self.bot.settings.thread_archive_days,
            attendance_share=self.bot.settings.attendance_share,
        )

    async def _archive_later(self, screening: Screening, thread_id: int) -> None:
        """Archive the thread the server's number of days after it opened (at the start + ``thread_after``)."""
        rules = await self._rules(screening.guild_id)
        opened = screening.starts_at + timedelta(minutes=rules.thread_after_minutes)
        await screenings.archive_thread_later(self.bot.timers, screening, thread_id, opened, rules.thread_archive_days)

    async def _on_thread_open_timer(self, timer: Timer) -> None:
        """``thread_after`` minutes after the start: open the thread, unless the screening was called off."""
        screening_id = int(timer.payload["screening_id"])
        async with self._locks[screening_id]:
            screening = await screenings.get_screening(self.bot.db, screening_id)
            if screening is None or screening.status not in (ScreeningStatus.SCHEDULED, ScreeningStatus.DONE):
                return
            await self.open_thread(screening)

    async def archive_thread(self, screening_id: int, thread_id: int) -> None:
        """The thread's days are over: archive it (a thread already gone is taken as archived)."""
        try:
            thread = await self.bot.fetch_channel(thread_id)
            if isinstance(thread, discord.Thread) and not thread.archived:
                await thread.edit(archived=True)
        except discord.NotFound:
            log.info("screening %s: thread %s is gone; nothing to archive", screening_id, thread_id)
        except discord.HTTPException as exc:
            if exc.status >= 500:
                raise
            log.warning("screening %s: could not archive thread %s: %s", screening_id, thread_id, exc)
            return
        await screenings.mark_thread_archived(self.bot.db, self.bot.clock, screening_id)
        log.info("screening %s: thread %s archived", screening_id, thread_id)

    async def _on_archive_timer(self, timer: Timer) -> None:
        await self.archive_thread(int(timer.payload["screening_id"]), int(timer.payload["thread_id"]))

    # -- the reminder -----------------------------------------------------------------------------------------------

    async def remind(self, screening_id: int, key: str) -> None:
        async with self._locks[screening_id]:
            screening = await screenings.get_screening(self.bot.db, screening_id)
            if screening is None or not screenings.is_current(screening, key) or screening.reminded_at:
                return
            film = await get_film(self.bot.db, screening.film_id)
            label = film.label if film is not None else f"film #{screening.film_id}"
            event = await self._fetch_event(screening)
            if not await self._follow(screening, event) or event is None:
                return
            try:
                interested = [user.id async for user in event.users(limit=None)]
            except discord.NotFound:
                interested = []
            starts = f"{ts(screening.starts_at, 'R')} ({ts(screening.starts_at, 't')})"
            text = f"⏰ **{label}** starts {starts} in {where(screening)}."
            url = event_url(screening.guild_id, screening.event_id or 0)
            for content, chunk in reminder_messages(f"{text} {url}", text, interested):
                await self._post(
                    screening.announce_channel_id,
                    content=content,
                    # The one place this bot pings: exactly the members who asked to be reminded.
                    allowed_mentions=discord.AllowedMentions(
                        everyone=False, roles=False, users=[discord.Object(user_id) for user_id in chunk]
                    ),
                )
            await screenings.mark_reminded(self.bot.db, self.bot.clock, screening.id)
            log.info("screening %s: reminded %d member(s)", screening.id, len(interested))

    async def _on_remind_timer(self, timer: Timer) -> None:
        await self.remind(int(timer.payload["screening_id"]), timer.key)

    # -- after the screening ------------------------------------------------------------------------------------------

    async def after(self, screening_id: int, key: str) -> None:
        async with self._locks[screening_id]:
            screening = await screenings.get_screening(self.bot.db, screening_id)
            if screening is None or not screenings.is_current(screening, key):
                return
            event = await self._fetch_event(screening)
            if not await self._follow(screening, event):
                return
            if event is not None:
                await self._set_status(screening, event, EventStatus.completed)
                await screenings.mark_started(self.bot.db, self.bot.clock, screening.id)
            rules = await self._rules(screening.guild_id)
            came = await attendance_core.finish(self.bot.db, self.bot.clock, screening, rules.attendance_share)
            film = await get_film(self.bot.db, screening.film_id)
            marker = screenings.rating_marker(screening.id)
            if film is not None and not await self._own_post_exists(screening, marker, "prompt"):
                embed = club_embed(
                    f"🎞️ How was {film.label}?",
                    "The club has watched it. Rate it and share a few words; your rating helps the next pick.",
                )
                if film.prompts:
                    add_field(embed, "To talk about", "\n".join(f"• {prompt}" for prompt in film.prompts))
                embed.set_footer(text=screenings.rating_marker(screening.id))
                pinged = [a.user_id for a in came[:MENTIONS_PER_MESSAGE]]
                more = f" and {len(came) - len(pinged)} more" if len(came) > len(pinged) else ""
                await self._post(
                    screening.announce_channel_id,
                    content=("Thanks for coming, " + " ".join(f"<@{u}>" for u in pinged) + more) if pinged else None,
                    embed=embed,
                    view=rate_view(film.id),
                    # The attendees, and nobody else: the prompt to rate the film they just watched.
                    allowed_mentions=discord.AllowedMentions(
                        everyone=False, roles=False, users=[discord.Object(u) for u in pinged]
                    ),
                )
            await screenings.complete(self.bot.db, self.bot.clock, screening.id)
            log.info("screening %s: done; the club has watched film %s", screening.id, screening.film_id)

    async def _own_post_exists(self, screening: Screening, marker: str, what: str) -> bool:
        """Whether the screening's post with ``marker`` (its announcement, its "rate it" prompt) is in the channel
        already: posted just before a crash kept it from being recorded, so the retry does not post it twice."""
        guild = self.bot.get_guild(screening.guild_id)
        channel = guild.get_channel_or_thread(screening.announce_channel_id) if guild is not None else None
        found = await find_own_post(channel, self.bot.user, marker)
        if found is not None:
            log.info("screening %s: its %s was posted before a restart (message %s)", screening.id, what, found.id)
        return found is not None

    async def _on_after_timer(self, timer: Timer) -> None:
        await self.after(int(timer.payload["screening_id"]), timer.key)

    # -- commands ---------------------------------------------------------------------------------------------------

    @app_commands.command(name="schedule", description="Schedule a screening as a Discord event (moderators).")
    @app_commands.describe(
        film="The film to screen",
        when='When it starts, up to a year ahead: "fri 20:00", "2026-06-05 20:30" (server time) or "3d"',
        channel="The voice or stage channel (or give a location)",
        location="A place outside Discord (instead of a channel)",
        length="How long the event lasts, up to 3 days (default: the film's runtime, 2 h if unknown, + 15 min)",
        remind="Remind interested members this long before, up to 1 week (default 1h; 0: at the start)",
    )
    @app_commands.autocomplete(film=film_choices)
    async def schedule(
        self,
        interaction: Interaction,
        film: str,
        when: str,
        channel: discord.VoiceChannel | discord.StageChannel | None = None,
        location: app_commands.Range[str, 1, 100] | None = None,
        length: str | None = None,
        remind: str | None = None,
    ) -> None:
        settings = await ensure_moderator(interaction)
        ensure_screening_channel(channel)
        chosen = await self.bot.resolve_film(interaction.guild_id, film)
        if interaction.channel_id is None:
            raise UserError("This command only works in a server channel.")
        now = self.bot.clock.now()
        plan = screenings.read_screening_plan(
            now,
            settings.timezone,
            when=when,
            channel_id=channel.id if channel is not None else None,
            location=location,
            length=length,
            remind=remind,
        )
        screening = await screenings.plan_screening(
            self.bot.db,
            self.bot.clock,
            self.bot.timers,
            guild_id=settings.guild_id,
            film_id=chosen.id,
            starts_at=plan.starts_at,
            channel_id=plan.channel_id,
            location=plan.location,
            length=plan.length,
            remind_minutes=plan.remind_minutes,
            announce_channel_id=settings.announcements_channel_id or interaction.channel_id,
            created_by=interaction.user.id,
            now=now,
            event_due=now + screenings.EVENT_FALLBACK,  # this command creates the event itself, just below
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            # A refusal (ScreeningNotScheduled) reaches the moderator through the tree's error reply.
            screening = await self.create_event(screening.id)
        except discord.HTTPException as exc:
            if exc.status < 500:
                raise
            # Discord had a hiccup: the event timer stays armed and tries again shortly.
            log.warning("screening %s: setting up the event failed; the timer retries", screening.id, exc_info=True)
            await send_ephemeral(
                interaction,
                f"⏳ Screening #{screening.id}: Discord didn't answer, so I'll set the event up in a moment and "
                f"announce it in <#{screening.announce_channel_id}>.",
            )
            return
        await self.bot.timers.cancel(screenings.EVENT_TIMER, str(screening.id))
        if screening.status is not ScreeningStatus.SCHEDULED or screening.event_id is None:
            await send_ephemeral(
                interaction, f"⚠️ Screening #{screening.id} could not be scheduled; nothing was created."
            )
            return
        await send_ephemeral(
            interaction,
            f"🎟️ Screening #{screening.id}: **{chosen.label}** {ts(screening.starts_at, 'F')} in {where(screening)}: "
            f"{event_url(screening.guild_id, screening.event_id)}",
        )

    @app_commands.command(name="list", description="The club's upcoming screenings.")
    async def list_upcoming(self, interaction: Interaction) -> None:
        guild_id = guild_id_of(interaction)
        found = await screenings.upcoming(self.bot.db, guild_id)
        if not found:
            await interaction.response.send_message("No screenings are scheduled.", ephemeral=True)
            return
        lines = []
        for screening in found:
            film = await get_film(self.bot.db, screening.film_id)
            label = film.label if film is not None else f"film #{screening.film_id}"
            link = f" · [event]({event_url(guild_id, screening.event_id)})" if screening.event_id else ""
            lines.append(f"**#{screening.id}** {label} — {ts(screening.starts_at, 'F')} in {where(screening)}{link}")
        embed = club_embed("Upcoming screenings")
        for index, block in enumerate(chunk_lines(lines)):
            add_field(embed, "Screenings" + (" (more)" if index else ""), block)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="attendance", description="Who came to a screening (default: the latest).")
    @app_commands.describe(screening="The screening number (default: the latest that ended)")
    async def attendance(
        self, interaction: Interaction, screening: app_commands.Range[int, 1, 2**53] | None = None
    ) -> None:
        guild_id = guild_id_of(interaction)
        target, came = await attendance_core.attendance_of(self.bot.db, guild_id, screening)
        film = await get_film(self.bot.db, target.film_id)
        label = film.label if film is not None else f"film #{target.film_id}"
        lines = [
            f"<@{a.user_id}> — {describe_duration(timedelta(seconds=a.seconds)) if a.seconds else 'was there'}"
            for a in came
        ]
        embed = club_embed(
            f"Who came: {label}", f"Screening #{target.id}, {ts(target.starts_at, 'F')} in {where(target)}"
        )
        if not lines:
            add_field(embed, "Attendance", "Nobody was recorded as attending.")
        for index, block in enumerate(chunk_lines(lines)):
            add_field(embed, f"{len(came)} attended" + (" (more)" if index else ""), block)
        await interaction.response.send_message(embed=embed, allowed_mentions=discord.AllowedMentions.none())

    @app_commands.command(name="cancel", description="Cancel a screening and its Discord event (moderators).")
    @app_commands.describe(screening="The screening number (see /screening list)")
    async def cancel(self, interaction: Interaction, screening: int) -> None:
        settings = await ensure_moderator(interaction)
        target = await screenings.guild_screening(self.bot.db, settings.guild_id, screening)
        if not await screenings.cancel_screening(self.bot.db, self.bot.timers, target.id):
            raise UserError(f"Screening #{target.id} is already {target.status.value}.")
        event = await self._fetch_event(target)
        if event is not None:
            try:
                if event.status is EventStatus.scheduled:
                    await event.cancel()
                elif event.status is EventStatus.active:
                    await event.end()  # a running event can only be ended
            except discord.HTTPException:
                log.warning("could not cancel the event of screening %s", target.id, exc_info=True)
        await send_ephemeral(interaction, f"🚫 Screening #{target.id} is cancelled.")


async def setup(bot: FilmClubBot) -> None:
    await bot.add_cog(Screenings(bot))
    bot.add_dynamic_items(WasThereButton)
