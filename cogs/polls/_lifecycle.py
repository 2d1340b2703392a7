"""A poll's life in Discord once the core has stored it: posting it, redrawing its live counts, closing it and
announcing the result (with the winner's screening), and marking it cancelled.

One :class:`PollBoard` per bot. It caches what never changes about a poll (its candidates and their films), holds a
lock per poll so that posting, redrawing and closing never interleave, and starts its tasks through the bot's
:meth:`~bot.client.FilmClubBot.spawn` (kept until done, cancelled at close). The core decides; this posts and edits
messages.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections import defaultdict
from typing import TYPE_CHECKING

import discord

from bot.core import config, nights, polls
from bot.core import screenings as screenings_core
from bot.core.details import FilmDetails
from bot.core.errors import NotFoundError, UserError
from bot.core.films import Film, get_films
from bot.core.guilds import get_settings
from bot.core.polls import Poll, Status, Style
from bot.core.tally import Tally
from bot.ui.checks import bot_posting_permissions
from bot.ui.posts import find_own_post

from ._components import voting_view
from ._native import NativePollPending, end_and_count, native_poll
from ._render import chart_png, film_label, poll_embed, result_embed, ts

if TYPE_CHECKING:
    from bot.client import FilmClubBot

log = logging.getLogger(__name__)

#: Live counts are redrawn at most this often (a burst of votes costs one message edit, not one per vote).
REFRESH_DELAY = 2.0
#: How long a poll's result waits for the winner's details (its poster) before it is posted without them.
WINNER_DETAILS_BUDGET = 3.0


class PostUnrecorded(Exception):
    """Discord took a poll's post but the database could not record it (the cause is chained). The poll is visible:
    it must not be cancelled unless the post is taken down; its publish timer finds the post and records it."""

    def __init__(self, poll_id: int, message: discord.Message) -> None:
        super().__init__(f"poll {poll_id} is posted as message {message.id}, which could not be recorded")
        self.poll_id = poll_id
        self.message = message


class PollBoard:
    """Posts, redraws, closes and cancels polls in Discord, one poll at a time (a lock each)."""

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        # poll id -> poll (only its immutable parts are read from the cache; a moved deadline is refreshed by redraw)
        self._polls: dict[int, Poll] = {}
        self._films: dict[int, dict[int, Film]] = {}
        self._refreshing: dict[int, asyncio.Task[None]] = {}  # poll id -> its redraw still waiting for more votes

    def stop(self) -> None:
        """The cog is unloading: drop the redraws still waiting (the bot cancels the rest when it closes)."""
        for task in self._refreshing.values():
            task.cancel()

    # -- reading -------------------------------------------------------------------------------------------------------

    async def poll_and_films(self, poll_id: int, *, fresh: bool = False) -> tuple[Poll, dict[int, Film]]:
        poll = None if fresh else self._polls.get(poll_id)
        if poll is None:
            poll = await polls.get_poll(self.bot.db, poll_id)
            if poll is None:
                raise NotFoundError("This poll no longer exists.")
            self._polls[poll_id] = poll
        films = self._films.get(poll_id)
        if films is None:
            films = await get_films(self.bot.db, poll.film_ids)
            self._films[poll_id] = films
        return poll, films

    def partial_message(self, poll: Poll, message_id: int) -> discord.PartialMessage:
        channel = self.bot.get_partial_messageable(poll.channel_id, guild_id=poll.guild_id)
        return channel.get_partial_message(message_id)

    async def film_details(self, films: dict[int, Film]) -> dict[int, FilmDetails]:
        """What the film-details provider has cached of these films, by film id. Never asks the provider: a poll's
        message is drawn on every burst of votes and must not wait for TMDb."""
        service = self.bot.details
        by_tmdb = {film.tmdb_id: film.id for film in films.values() if film.tmdb_id}
        if not by_tmdb:
            return {}
        cached = await service.cached(list(by_tmdb))
        return {by_tmdb[tmdb_id]: found for tmdb_id, found in cached.items() if tmdb_id in by_tmdb}

    async def winner_details(self, films: dict[int, Film], result: Tally) -> tuple[FilmDetails | None, str | None]:
        """The winner's details and poster address for the result, asked for within :data:`WINNER_DETAILS_BUDGET`
        (the result waits that long at most; without them it shows the winner's links from its own ids)."""
        winner = films.get(result.winner) if result.winner is not None else None
        service = self.bot.details
        if winner is None or not service.enabled:
            return None, None
        answer = await service.for_film(winner, within=WINNER_DETAILS_BUDGET)
        if answer.details is None:
            return None, None
        return answer.details, service.poster_url(answer.details)

    async def live_tally(self, poll: Poll) -> Tally | None:
        """The counts to show while the poll runs, or None when they are hidden (or Discord shows its own)."""
        if not poll.show_counts or poll.style is Style.NATIVE:
            return None
        return await polls.current_tally(self.bot.db, poll)

    # -- posting -------------------------------------------------------------------------------------------------------

    def channel(self, guild_id: int, channel_id: int) -> discord.abc.GuildChannel | None:
        guild = self.bot.get_guild(guild_id)
        return guild.get_channel(channel_id) if guild is not None else None

    def require_postable(self, guild_id: int, channel_id: int) -> None:
        """Refuse (before anything is stored) a channel the bot knows it cannot post a poll in, naming what is
        missing. A channel not in the cache is left to Discord to judge."""
        channel = self.channel(guild_id, channel_id)
        if channel is not None:
            config.require_postable(channel.name, bot_posting_permissions(channel))

    def refusal(self, poll: Poll, exc: discord.HTTPException) -> str:
        """Why Discord would not take the poll's message, in words a moderator can act on."""
        channel = self.channel(poll.guild_id, poll.channel_id)
        where = f"#{channel.name}" if channel is not None else f"<#{poll.channel_id}>"
        if isinstance(exc, discord.NotFound):
            return f"I can't post in {where}: Discord says the channel no longer exists."
        if isinstance(exc, discord.Forbidden):
            missing = config.missing_posting_permissions(bot_posting_permissions(channel)) if channel else []
            if missing:
                return f"I can't post in {where}: missing {' and '.join(missing)}."
            return f"I can't post in {where}: Discord refused ({exc.text or 'Missing Permissions'})."
        return f"I couldn't post in {where}: Discord answered {exc.status} ({exc.text or 'no reason given'})."

    async def publish(self, poll_id: int, *, find_earlier: bool = False) -> Poll:
        """Post the poll in its channel, exactly once.

        A second call finds the message recorded and does nothing. With ``find_earlier`` (the publish timer, which
        may run after a crash between Discord taking the post and the database recording it), the bot's own post
        of the poll is first looked for in the channel, by the marker in its footer, and adopted if it is there.
        """
        async with self._locks[poll_id]:
            poll, films = await self.poll_and_films(poll_id, fresh=True)
            if poll.message_id is not None or poll.status is not Status.OPEN:
                return poll
            if find_earlier and await self._adopt_earlier_post(poll, films):
                return (await self.poll_and_films(poll_id, fresh=True))[0]
            channel = self.bot.get_partial_messageable(poll.channel_id, guild_id=poll.guild_id)
            embed = poll_embed(poll, films, await self.live_tally(poll), await self.film_details(films))
            if poll.style is Style.NATIVE:
                message = await channel.send(embed=embed, poll=native_poll(poll, films, self.bot.clock.now()))
            else:
                view = voting_view(poll, films)
                message = await channel.send(embed=embed, view=view or discord.utils.MISSING)
            try:
                attached = await polls.attach_message(self.bot.db, poll.id, message.id)
            except Exception as exc:
                raise PostUnrecorded(poll.id, message) from exc
            if not attached:
                await message.delete()
            poll, _films = await self.poll_and_films(poll_id, fresh=True)
            log.info("poll %s posted as message %s in channel %s", poll.id, poll.message_id, poll.channel_id)
            return poll

    async def _adopt_earlier_post(self, poll: Poll, films: dict[int, Film]) -> bool:
        """Record the poll's post a crash left unrecorded, if it is in the channel (or thread); whether it was."""
        guild = self.bot.get_guild(poll.guild_id)
        channel = guild.get_channel_or_thread(poll.channel_id) if guild is not None else None
        found = await find_own_post(channel, self.bot.user, poll.marker)
        if found is None:
            return False
        if await polls.attach_message(self.bot.db, poll.id, found.id):
            view = voting_view(poll, films)
            if view is not None and not view.is_finished():
                self.bot.add_view(view, message_id=found.id)  # its vote buttons answer as after any restart
            log.info("poll %s was already posted as message %s before a restart; recorded it", poll.id, found.id)
        return True

    def counts_changed(self, poll: Poll) -> None:
        """Redraw the live counts soon (once for a burst of votes)."""
        if not poll.show_counts or poll.message_id is None or poll.id in self._refreshing:
            return
        self._refreshing[poll.id] = self.bot.spawn(self._refresh_later(poll.id), name=f"poll-refresh-{poll.id}")

    async def _refresh_later(self, poll_id: int) -> None:
        try:
            await asyncio.sleep(REFRESH_DELAY)
            self._refreshing.pop(poll_id, None)
            async with self._locks[poll_id]:
                poll, films = await self.poll_and_films(poll_id, fresh=True)
                if poll.status is not Status.OPEN or poll.message_id is None:
                    return
                embed = poll_embed(poll, films, await self.live_tally(poll), await self.film_details(films))
                await self.partial_message(poll, poll.message_id).edit(embed=embed)
        except discord.HTTPException:
            log.warning("could not refresh the counts of poll %s", poll_id, exc_info=True)
        finally:
            self._refreshing.pop(poll_id, None)

    async def redraw(self, poll_id: int) -> None:
        """Redraw the poll's message from the database (its deadline moved: bot.core.polls.move_deadline), which
        also refreshes the poll kept here. A message Discord refuses to edit (deleted, say) is left as it is."""
        async with self._locks[poll_id]:
            poll, films = await self.poll_and_films(poll_id, fresh=True)
            if poll.status is not Status.OPEN or poll.message_id is None:
                return  # closed meanwhile, or still to be posted (the post shows the new deadline)
            embed = poll_embed(poll, films, await self.live_tally(poll), await self.film_details(films))
            try:
                await self.partial_message(poll, poll.message_id).edit(embed=embed)
            except discord.HTTPException as exc:
                if exc.status >= 500:
                    raise
                log.warning("could not redraw poll %s: %s", poll_id, exc)

    # -- closing -------------------------------------------------------------------------------------------------------

    async def finish(
        self, poll_id: int, *, closed_by: int | None = None, native: tuple[dict[int, int], int] | None = None
    ) -> Poll:
        """Close the poll if it is open, then make sure its result is announced (idempotent)."""
        async with self._locks[poll_id]:
            poll, films = await self.poll_and_films(poll_id, fresh=True)
            if poll.status is Status.OPEN and poll.message_id is None and await self._adopt_earlier_post(poll, films):
                poll, films = await self.poll_and_films(poll_id, fresh=True)  # posted after all, just not recorded
            if poll.status is Status.OPEN and poll.message_id is None:
                # Never posted (Discord kept refusing): nobody could vote, so there is no result to announce.
                discarded = await polls.discard_unposted(self.bot.db, self.bot.clock, self.bot.timers, poll_id)
                if discarded is not None:
                    log.warning("poll %s was never posted; cancelled at its deadline", poll_id)
                    self._polls[poll_id] = discarded
                    return discarded
                poll, films = await self.poll_and_films(poll_id, fresh=True)
            if poll.status is Status.OPEN:
                if poll.style is Style.NATIVE:
                    native = native or await end_and_count(self.bot.http, poll)
                    if native is None:
                        raise NativePollPending(poll.id)
                counts, voters = native or ({}, 0)
                poll = await polls.close_poll(
                    self.bot.db,
                    self.bot.clock,
                    poll_id,
                    closed_by=closed_by,
                    native_counts=counts,
                    native_voters=voters,
                )
                self._polls[poll_id] = poll
                await self.bot.timers.cancel(polls.CLOSE_TIMER, str(poll_id))
            if poll.status is Status.CLOSED and poll.result_message_id is None and poll.result is not None:
                await self._announce(poll, films, poll.result)
            return poll

    async def _announce(self, poll: Poll, films: dict[int, Film], result: Tally) -> None:
        note = await self._plan_screening(poll, films, result)
        png = await asyncio.to_thread(chart_png, poll, films, result)
        filename = f"poll-{poll.id}.png"
        winner, poster = await self.winner_details(films, result)
        embed = result_embed(poll, films, result, note=note, winner_details=winner, poster_url=poster)
        embed.set_image(url=f"attachment://{filename}")
        channel = self.bot.get_partial_messageable(poll.channel_id, guild_id=poll.guild_id)
        reference = (
            None
            if poll.message_id is None
            else discord.MessageReference(
                message_id=poll.message_id, channel_id=poll.channel_id, fail_if_not_exists=False
            )
        )
        message = await channel.send(
            embed=embed,
            file=discord.File(io.BytesIO(png), filename),
            reference=reference or discord.utils.MISSING,
        )
        await polls.record_result_message(self.bot.db, poll.id, message.id)
        if poll.message_id is not None and poll.style is Style.BUTTONS:
            try:
                await self.partial_message(poll, poll.message_id).edit(
                    embed=poll_embed(poll, films, result if poll.show_counts else None, await self.film_details(films)),
                    view=voting_view(poll, films, disabled=True),
                )
            except discord.HTTPException:
                log.warning("could not disable the voting buttons of poll %s", poll.id, exc_info=True)
        log.info("poll %s closed: winner %s", poll.id, result.winner)

    async def _plan_screening(self, poll: Poll, films: dict[int, Film], result: Tally) -> str:
        plan = poll.screening
        if result.winner is None:
            return ""
        settings = await get_settings(self.bot.db, poll.guild_id)
        if plan is None:
            return await self._fill_night(poll, films, result.winner, settings.announcements_channel_id)
        try:
            screening = await screenings_core.plan_screening(
                self.bot.db,
                self.bot.clock,
                self.bot.timers,
                guild_id=poll.guild_id,
                film_id=result.winner,
                starts_at=plan.starts_at,
                channel_id=plan.channel_id,
                location=plan.location,
                remind_minutes=plan.remind_minutes,
                announce_channel_id=settings.announcements_channel_id or poll.channel_id,
                poll_id=poll.id,
                created_by=poll.creator_id,
            )
        except UserError as exc:
            log.warning("poll %s: the winner's screening could not be planned: %s", poll.id, exc.message)
            return f"Not scheduled: {exc.message}"
        where = f"<#{screening.channel_id}>" if screening.channel_id else (screening.location or "")
        return (
            f"**{film_label(films, result.winner)}** screens {ts(screening.starts_at, 'F')} in {where}; "
            "the event follows."
        )

    async def _fill_night(self, poll: Poll, films: dict[int, Film], winner: int, announce: int | None) -> str:
        """A winner without a screening time of its own fills the club's next regular night, if one is open."""
        try:
            screening = await nights.fill_next_night(
                self.bot.db,
                self.bot.clock,
                self.bot.timers,
                guild_id=poll.guild_id,
                film_id=winner,
                announce_channel_id=announce or poll.channel_id,
                poll_id=poll.id,
                created_by=poll.creator_id,
            )
        except UserError as exc:
            log.warning("poll %s: the winner could not fill the screening night: %s", poll.id, exc.message)
            return f"Not scheduled: {exc.message}"
        if screening is None:
            return ""
        return (
            f"**{film_label(films, winner)}** fills the club's screening night, {ts(screening.starts_at, 'F')} in "
            f"<#{screening.channel_id}>; the event follows."
        )

    # -- cancelling ----------------------------------------------------------------------------------------------------

    async def cancel(self, poll_id: int, *, cancelled_by: int) -> Poll:
        """Cancel the poll in the core, then mark its message: no more votes, no result."""
        async with self._locks[poll_id]:
            cancelled = await polls.cancel_poll(
                self.bot.db, self.bot.clock, self.bot.timers, poll_id, cancelled_by=cancelled_by
            )
            self._polls[cancelled.id] = cancelled
            await self.bot.timers.cancel(polls.PUBLISH_TIMER, str(cancelled.id))
        _poll, films = await self.poll_and_films(cancelled.id)
        if cancelled.message_id is not None:
            try:
                if cancelled.style is Style.NATIVE:
                    await self.bot.http.end_poll(cancelled.channel_id, cancelled.message_id)
                else:
                    await self.partial_message(cancelled, cancelled.message_id).edit(
                        embed=poll_embed(cancelled, films, None, await self.film_details(films)),
                        view=voting_view(cancelled, films, disabled=True),
                    )
            except discord.HTTPException:
                log.warning("could not mark poll %s as cancelled on its message", cancelled.id, exc_info=True)
        return cancelled
