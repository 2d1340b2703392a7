"""The /poll commands, the timers and gateway events of polls, and the hand-off form: parse, ask the core, answer.

Posting, redrawing and closing live in :class:`~cogs.polls._lifecycle.PollBoard`; what a click on the poll does in
:class:`~cogs.polls._voting.VotingDesk`; the films of a new poll are resolved by :mod:`bot.core.candidates`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import candidates, polls
from bot.core.errors import PermissionDenied, UserError
from bot.core.films import get_films
from bot.core.guilds import get_settings, is_moderator
from bot.core.polls import Poll, Status, Style
from bot.core.tally import Method, parse_method
from bot.core.timers import Timer
from bot.ui.autocomplete import film_choices, theme_or_collection_choices
from bot.ui.checks import ensure_moderator, ensure_screening_channel, guild_id_of, member_facts
from bot.ui.embeds import add_field, chunk_lines, club_embed, truncate
from bot.ui.replies import report_error, send_ephemeral

from ._components import QuickPollAnswers, QuickPollForm, read_quick_poll_form, voting_view
from ._lifecycle import PollBoard, PostUnrecorded
from ._native import NativePollPending, native_results
from ._render import ballot_lines, message_link, plural, poll_embed, result_embed, ts
from ._voting import VotingDesk

if TYPE_CHECKING:
    from bot.client import FilmClubBot

log = logging.getLogger(__name__)

Interaction = discord.Interaction["FilmClubBot"]

METHOD_CHOICES = [
    app_commands.Choice(name="Plurality: one film each (default)", value="plurality"),
    app_commands.Choice(name="Approval: every film you'd watch", value="approval"),
    app_commands.Choice(name="Ranked choice: rank up to 5 (instant runoff)", value="ranked"),
]
SOURCE_CHOICES = [
    app_commands.Choice(name="The club's watchlists (most wanted, unwatched)", value="watchlist"),
    app_commands.Choice(name="This week's picks", value="picks"),
    app_commands.Choice(name="The club's nominations (approved ones)", value="nominations"),
]


#: What a moderator may type for a time or a duration ("fri 20:00", "2026-06-05 20:00", "1h30m"): plenty, not a page.
MOMENT_TEXT_LIMIT = 100
#: A poll's number as a command option: Discord enforces the range on the client, the core again on the server.
PollNumber = app_commands.Range[int, 1, polls.POLL_NUMBER_MAX]


def _channel_id(interaction: Interaction) -> int:
    if interaction.channel_id is None:
        raise UserError("This command only works in a server channel.")
    return interaction.channel_id


async def film_list_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete for a list of films separated by ";": completes the last one."""
    head, separator, tail = current.rpartition(";")
    prefix = f"{head.strip()}; " if separator else ""
    matches = (await interaction.client.titles_for(interaction.guild_id)).search(tail.strip(), limit=25)
    choices = []
    for match in matches:
        value = prefix + match.entry.slug
        if len(value) > 100:
            continue
        name = prefix + match.label
        choices.append(app_commands.Choice(name=name if len(name) <= 100 else "…" + name[-99:], value=value))
    return choices


async def poll_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[int]]:
    if interaction.guild_id is None:
        return []
    found = await polls.recent_polls(interaction.client.db, interaction.guild_id, limit=50)
    text = current.strip().lower().lstrip("#")
    choices = []
    for poll in found:
        name = f"#{poll.id} {poll.title} ({poll.status.value})"
        if not text or text in name.lower():
            choices.append(app_commands.Choice(name=truncate(name, 100), value=poll.id))
    return choices[:25]


# -- the cog --------------------------------------------------------------------------------------------------------


class Polls(commands.GroupCog, group_name="poll", group_description="Watch-party polls: vote on what to screen."):
    """Watch-party polls"""

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot
        self.board = PollBoard(bot)
        super().__init__()

    async def cog_load(self) -> None:
        self.voting = VotingDesk(self.bot, self.board)
        self.bot.timers.register(polls.CLOSE_TIMER, self._on_close_timer)
        self.bot.timers.register(polls.PUBLISH_TIMER, self._on_publish_timer)
        self.bot.timers.register(polls.REDRAW_TIMER, self._on_redraw_timer)
        rearmed = await polls.rearm_open_polls(self.bot.db, self.bot.clock, self.bot.timers, self.bot.shard_set)
        if rearmed:
            log.warning("re-armed %d poll timer(s) that were missing", rearmed)
        for poll in await polls.posted_open_polls(self.bot.db, self.bot.shard_set):
            view = voting_view(poll, await get_films(self.bot.db, poll.film_ids))
            if view is not None and not view.is_finished() and poll.message_id is not None:
                self.bot.add_view(view, message_id=poll.message_id)

    async def cog_unload(self) -> None:
        self.board.stop()

    async def _on_publish_timer(self, timer: Timer) -> None:
        """Post a poll another feature created (or a crash left unposted), unless a crash came after Discord took
        the post: then the post is found in the channel and recorded. A channel Discord refuses for good (no
        permission, gone) cancels the poll at once: it would stay invisible; other errors are retried."""
        poll_id = int(timer.payload["poll_id"])
        try:
            await self.board.publish(poll_id, find_earlier=True)
        except (discord.Forbidden, discord.NotFound) as exc:
            poll, _films = await self.board.poll_and_films(poll_id, fresh=True)
            if await polls.discard_unposted(self.bot.db, self.bot.clock, self.bot.timers, poll_id) is not None:
                log.warning("poll %s cancelled: %s", poll_id, self.board.refusal(poll, exc))

    async def _on_redraw_timer(self, timer: Timer) -> None:
        await self.board.redraw(int(timer.payload["poll_id"]))

    async def _on_close_timer(self, timer: Timer) -> None:
        await self.board.finish(int(timer.payload["poll_id"]))

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """Discord finalised a native poll (its results arrive in a MESSAGE_UPDATE): close ours with its counts."""
        data: Any = payload.data
        results = (data.get("poll") or {}).get("results") or {}
        if not results.get("is_finalized"):
            return
        poll = await polls.poll_by_message(self.bot.db, payload.message_id)
        if poll is None or poll.style is not Style.NATIVE or poll.status is not Status.OPEN:
            return
        counts = native_results(poll, data.get("poll"))
        try:
            await self.board.finish(poll.id, native=counts)
        except Exception:
            log.exception("closing native poll %s from its final results failed; its timer will retry", poll.id)

    # -- hand-off from other features ----------------------------------------------------------------------------------

    async def on_poll_from_films(self, interaction: Interaction, film_ids: list[int]) -> None:
        guild_id = guild_id_of(interaction)
        settings = await get_settings(self.bot.db, guild_id)
        manage_guild, role_ids = member_facts(interaction)
        if not is_moderator(settings, manage_guild=manage_guild, role_ids=role_ids):
            role = f" or the <@&{settings.moderator_role_id}> role" if settings.moderator_role_id else ""
            raise PermissionDenied(
                f"Only moderators start watch-party polls (Manage Server{role}). Ask one to click this button."
            )
        polls.check_candidates(film_ids)
        films = await get_films(self.bot.db, film_ids)
        titles = [films[f].title for f in film_ids if f in films]
        default = "Watch party: " + (", ".join(titles[:-1]) + f" or {titles[-1]}?" if len(titles) > 1 else "")
        await interaction.response.send_modal(QuickPollForm(film_ids, truncate(default, polls.TITLE_LIMIT)))

    @commands.Cog.listener()
    async def on_interaction(self, interaction: Interaction) -> None:
        """Answer the quick-poll form from its custom id, so that it works even if the bot restarted after
        sending it (discord.py only answers the modals it still holds)."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        answers = read_quick_poll_form(interaction.data)
        if answers is None:
            return
        try:
            await self.create_from_form(interaction, answers)
        except Exception as exc:
            await report_error(interaction, exc)  # logged under the form's custom id, filmclub:poll-form:…

    async def create_from_form(self, interaction: Interaction, answers: QuickPollAnswers) -> None:
        settings = await ensure_moderator(interaction)
        now = self.bot.clock.now()
        closes_at = polls.read_deadline(answers.deadline, now, settings.timezone)
        method = parse_method(answers.method)
        channel_id = settings.polls_channel_id or _channel_id(interaction)
        self.board.require_postable(settings.guild_id, channel_id)
        poll = await polls.create_poll(
            self.bot.db,
            self.bot.clock,
            self.bot.timers,
            guild_id=settings.guild_id,
            channel_id=channel_id,
            creator_id=interaction.user.id,
            title=answers.title,
            film_ids=answers.film_ids,
            method=method,
            closes_at=closes_at,
            voter_role_id=settings.voter_role_id,
            now=now,
            publish_timer=False,  # posted right below, and the moderator hears if Discord refuses
        )
        await self._post_and_confirm(interaction, poll)

    async def _post_and_confirm(self, interaction: Interaction, poll: Poll) -> None:
        """Post the poll the moderator just created and give them its link; if Discord refuses the message, cancel
        the poll (no invisible poll stays open, no timer with it) and tell them why."""
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
        except Exception:
            await polls.discard_unposted(
                self.bot.db, self.bot.clock, self.bot.timers, poll.id, cancelled_by=interaction.user.id
            )
            raise
        try:
            poll = await self.board.publish(poll.id)
        except PostUnrecorded as exc:
            log.error("%s", exc, exc_info=exc.__cause__)
            try:
                await exc.message.delete()  # taken down: the poll is as unposted as the database says, and cancelled
            except discord.HTTPException:
                await self.bot.timers.schedule(
                    polls.PUBLISH_TIMER,
                    str(poll.id),
                    self.bot.clock.now(),
                    {"poll_id": poll.id},
                    guild_id=poll.guild_id,
                )
                raise UserError(
                    f"Poll #{poll.id} is posted in <#{poll.channel_id}>, but I couldn't record it yet; "
                    "I'll try again shortly."
                ) from exc
            await polls.discard_unposted(
                self.bot.db, self.bot.clock, self.bot.timers, poll.id, cancelled_by=interaction.user.id
            )
            raise UserError(
                f"Discord took poll #{poll.id}, but I couldn't record it, so I took it down again and cancelled it. "
                "Please try again in a moment."
            ) from exc
        except Exception as exc:
            await polls.discard_unposted(
                self.bot.db, self.bot.clock, self.bot.timers, poll.id, cancelled_by=interaction.user.id
            )
            if isinstance(exc, discord.HTTPException):
                refusal = self.board.refusal(poll, exc)
                raise UserError(f"{refusal} The poll is cancelled; nothing was posted.") from exc
            raise
        link = message_link(poll.guild_id, poll.channel_id, poll.message_id)
        await send_ephemeral(
            interaction,
            f"📊 Poll #{poll.id} **{poll.title}** is open in <#{poll.channel_id}> until {ts(poll.closes_at, 'F')}: "
            f"{link}",
        )

    # -- commands ------------------------------------------------------------------------------------------------------

    @app_commands.command(name="create", description="Start a watch-party poll among films (moderators).")
    @app_commands.describe(
        title="What the club is voting on, e.g. “Friday's screening”",
        deadline='When voting closes: "90m", "3d", "2w", "fri 20:00" or "2026-06-05 20:00" (server time)',
        method="How votes are counted (default: plurality)",
        film1="A film on the ballot",
        film2="A film on the ballot",
        film3="A film on the ballot",
        film4="A film on the ballot",
        film5="A film on the ballot",
        films="More films, separated by ; (up to 25 in all)",
        theme="Fill the ballot from a theme or a server collection (films the club hasn't screened)",
        source="Fill the ballot from the club's watchlists, this week's picks or the nominations",
        count="How many films to take from the theme or source (default 5)",
        voter_role="Only members with this role may vote (default: the server's voter role, if set)",
        hide_counts="Hide the counts until the poll closes (default: shown live)",
        native="Use Discord's own poll (up to 10 films; plurality or approval)",
        screening="Schedule the winner's screening at this time (needs a channel or location)",
        screening_channel="The voice or stage channel of the screening",
        screening_location="Or a place outside Discord for the screening",
        remind="Remind interested members this long before the screening (default 1h)",
    )
    @app_commands.choices(method=METHOD_CHOICES, source=SOURCE_CHOICES)
    @app_commands.autocomplete(
        film1=film_choices,
        film2=film_choices,
        film3=film_choices,
        film4=film_choices,
        film5=film_choices,
        films=film_list_choices,
        theme=theme_or_collection_choices,
    )
    async def create(
        self,
        interaction: Interaction,
        title: app_commands.Range[str, 1, 200],
        deadline: app_commands.Range[str, 1, MOMENT_TEXT_LIMIT],
        method: str = "plurality",
        film1: str | None = None,
        film2: str | None = None,
        film3: str | None = None,
        film4: str | None = None,
        film5: str | None = None,
        films: str | None = None,
        theme: str | None = None,
        source: str | None = None,
        count: app_commands.Range[int, polls.MIN_CANDIDATES, polls.MAX_CANDIDATES] = polls.DEFAULT_SOURCE_COUNT,
        voter_role: discord.Role | None = None,
        hide_counts: bool = False,
        native: bool = False,
        screening: app_commands.Range[str, 1, MOMENT_TEXT_LIMIT] | None = None,
        screening_channel: discord.VoiceChannel | discord.StageChannel | None = None,
        screening_location: app_commands.Range[str, 1, 100] | None = None,
        remind: app_commands.Range[str, 1, MOMENT_TEXT_LIMIT] | None = None,
    ) -> None:
        settings = await ensure_moderator(interaction)
        ensure_screening_channel(screening_channel)
        now = self.bot.clock.now()  # the one reading the deadline, the screening and the poll are checked against
        style = Style.NATIVE if native else Style.BUTTONS
        closes_at = polls.read_deadline(deadline, now, settings.timezone, style=style)
        film_ids = await candidates.resolve_candidates(
            self.bot.db,
            await self.bot.titles_for(settings.guild_id),
            settings.guild_id,
            named=[f for f in (film1, film2, film3, film4, film5) if f] + candidates.split_films(films),
            theme=theme,
            source=source,
            count=count,
            seed=str(interaction.id),
        )
        plan = polls.screening_plan(
            starts=screening,
            channel_id=screening_channel.id if screening_channel is not None else None,
            location=screening_location,
            remind=remind,
            now=now,
            timezone=settings.timezone,
        )
        channel_id = settings.polls_channel_id or _channel_id(interaction)
        self.board.require_postable(settings.guild_id, channel_id)
        poll = await polls.create_poll(
            self.bot.db,
            self.bot.clock,
            self.bot.timers,
            guild_id=settings.guild_id,
            channel_id=channel_id,
            creator_id=interaction.user.id,
            title=title,
            film_ids=film_ids,
            method=Method(method),
            closes_at=closes_at,
            voter_role_id=voter_role.id if voter_role is not None else settings.voter_role_id,
            show_counts=not hide_counts,
            style=style,
            screening=plan,
            now=now,
            publish_timer=False,  # posted right below, and the moderator hears if Discord refuses
        )
        await self._post_and_confirm(interaction, poll)

    @app_commands.command(
        name="end", description="Close a poll now and announce the result (its creator or a moderator)."
    )
    @app_commands.describe(poll="The poll to close")
    @app_commands.autocomplete(poll=poll_choices)
    async def end(self, interaction: Interaction, poll: PollNumber) -> None:
        target = await self._managed_poll(interaction, poll)
        if not target.is_open:
            raise UserError(f"Poll #{target.id} is already {target.status.value}.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            closed = await self.board.finish(target.id, closed_by=interaction.user.id)
        except NativePollPending:
            await self.bot.timers.schedule(
                polls.CLOSE_TIMER,
                str(target.id),
                self.bot.clock.now(),
                {"poll_id": target.id},
                guild_id=target.guild_id,
            )
            await send_ephemeral(
                interaction, "⏳ Discord is counting its poll; the result will be posted as soon as it is final."
            )
            return
        if closed.status is Status.CANCELLED:  # Discord never took its post: nobody could vote, there is no result
            await send_ephemeral(
                interaction, f"🚫 Poll #{closed.id} was never posted (Discord refused it), so it is cancelled instead."
            )
            return
        link = message_link(closed.guild_id, closed.channel_id, closed.result_message_id)
        await send_ephemeral(interaction, f"🔒 Poll #{closed.id} is closed; the result is posted: {link}")

    @app_commands.command(
        name="cancel", description="Cancel a poll: no result, no screening (its creator or a moderator)."
    )
    @app_commands.describe(poll="The poll to cancel")
    @app_commands.autocomplete(poll=poll_choices)
    async def cancel(self, interaction: Interaction, poll: PollNumber) -> None:
        target = await self._managed_poll(interaction, poll)
        cancelled = await self.board.cancel(target.id, cancelled_by=interaction.user.id)
        await send_ephemeral(interaction, f"🚫 Poll #{cancelled.id} **{cancelled.title}** is cancelled.")

    async def _managed_poll(self, interaction: Interaction, poll_id: int) -> Poll:
        guild_id = guild_id_of(interaction)
        poll = await polls.guild_poll(self.bot.db, guild_id, poll_id)
        settings = await get_settings(self.bot.db, guild_id)
        manage_guild, role_ids = member_facts(interaction)
        polls.require_manager(
            poll,
            user_id=interaction.user.id,
            is_moderator=is_moderator(settings, manage_guild=manage_guild, role_ids=role_ids),
        )
        return poll

    @app_commands.command(
        name="status", description="A poll's counts so far (if shown) or its result, and your ballot."
    )
    @app_commands.describe(poll="The poll")
    @app_commands.autocomplete(poll=poll_choices)
    async def status(self, interaction: Interaction, poll: PollNumber) -> None:
        target = await polls.guild_poll(self.bot.db, guild_id_of(interaction), poll)
        _cached, films = await self.board.poll_and_films(target.id)
        link = message_link(target.guild_id, target.channel_id, target.message_id)
        if target.status is Status.CLOSED and target.result is not None:
            embed = result_embed(target, films, target.result)
            embed.url = message_link(target.guild_id, target.channel_id, target.result_message_id)
        else:
            live = await self.board.live_tally(target)
            embed = poll_embed(target, films, live, await self.board.film_details(films))
            embed.url = link
            if target.is_open and live is None:
                ballots = await polls.ballot_count(self.bot.db, target.id)
                add_field(embed, "Ballots", f"{plural(ballots, 'ballot')} so far; counts stay hidden until the close.")
        if target.style is Style.BUTTONS:
            choices = await polls.ballot_of(self.bot.db, target.id, interaction.user.id)
            add_field(embed, "Your ballot", ballot_lines(target, films, choices))
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="list", description="The open polls in this server.")
    async def list_open(self, interaction: Interaction) -> None:
        guild_id = guild_id_of(interaction)
        open_ = await polls.open_polls(self.bot.db, guild_id)
        if not open_:
            await interaction.response.send_message(
                "No polls are open. Moderators start one with `/poll create`.", ephemeral=True
            )
            return
        lines = []
        for poll in open_:
            ballots = await polls.ballot_count(self.bot.db, poll.id) if poll.style is Style.BUTTONS else None
            link = message_link(poll.guild_id, poll.channel_id, poll.message_id)
            extra = f" · {plural(ballots, 'ballot')}" if ballots is not None else " · Discord poll"
            lines.append(
                f"**#{poll.id}** [{truncate(poll.title, 80)}]({link}) — {plural(len(poll.candidates), 'film')} · "
                f"{poll.method.value} · closes {ts(poll.closes_at, 'R')}{extra}"
            )
        embed = club_embed("Open polls", None)
        for index, block in enumerate(chunk_lines(lines)):
            add_field(embed, "Polls" + (" (more)" if index else ""), block)
        await interaction.response.send_message(embed=embed, ephemeral=True)
