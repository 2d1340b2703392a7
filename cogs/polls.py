"""/poll: watch-party polls with persistent voting buttons, a counted and explained result, and a chart.

The voting components are ``DynamicItem`` templates (``filmclub:poll:<id>:...``), so they keep working after a
restart. Every vote is committed to the database before the member's ephemeral confirmation is sent. Deadlines are
persisted timers; the close flips the poll and counts it in one transaction (bot.core.polls), then this cog posts
the result, disables the voting components and hands the winner to the screenings feature.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Self

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import TimestampStyle

from bot.core import polls
from bot.core import screenings as screenings_core
from bot.core.durations import parse_duration, parse_moment
from bot.core.errors import NotFoundError, PermissionDenied, UserError
from bot.core.films import Film, get_films, list_themes, resolve_film, resolve_theme
from bot.core.guilds import GuildSettings, get_settings, is_moderator
from bot.core.polls import Poll, Status, Style
from bot.core.tally import MAX_RANKS, TIE_BREAK_RULE, Method, Tally, Tie
from bot.core.timers import Timer
from bot.ui.autocomplete import film_choices, theme_choices
from bot.ui.charts import bar_chart
from bot.ui.checks import ensure_moderator, guild_id_of, member_facts
from bot.ui.embeds import add_field, chunk_lines, club_embed, truncate
from bot.ui.handoff import POLL_FROM_FILMS_PATTERN
from bot.ui.replies import report_error, send_ephemeral
from bot.ui.views import AnswersMember

if TYPE_CHECKING:
    from bot.client import FilmClubBot

log = logging.getLogger(__name__)

Interaction = discord.Interaction["FilmClubBot"]

#: Live counts are redrawn at most this often (a burst of votes costs one message edit, not one per vote).
REFRESH_DELAY = 2.0
#: Vote confirmations (ephemeral follow-ups) sent at the same time; acknowledgements are never held back.
CONFIRMATIONS_IN_FLIGHT = 4
#: ... and wait for the votes still being acknowledged for at most this long (seconds).
CONFIRMATION_HOLD = 2.0
#: Up to this many films get a button each (four rows of five); more use a select menu.
BUTTON_LIMIT = 20
FILM_SEPARATORS = re.compile(r"[;\n|]")
METHOD_CHOICES = [
    app_commands.Choice(name="Plurality: one film each (default)", value="plurality"),
    app_commands.Choice(name="Approval: every film you'd watch", value="approval"),
    app_commands.Choice(name="Ranked choice: rank up to 5 (instant runoff)", value="ranked"),
]
SOURCE_CHOICES = [
    app_commands.Choice(name="The club's watchlists (most wanted, unwatched)", value="watchlist"),
    app_commands.Choice(name="This week's picks", value="picks"),
]
METHOD_HINT = {
    Method.PLURALITY: "Vote for one film: click it. Click another to change your vote.",
    Method.APPROVAL: "Vote for every film you'd happily watch: click to add it, click again to take it back.",
    Method.RANKED: f"Rank up to {MAX_RANKS} films in order of preference with **Rank your choices**. "
    "Counted by instant runoff: the last-placed film drops out and its votes move to their next choice.",
}


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def message_link(guild_id: int, channel_id: int, message_id: int | None) -> str:
    if message_id is None:
        return f"https://discord.com/channels/{guild_id}/{channel_id}"
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def ts(moment: datetime, style: TimestampStyle = "f") -> str:
    """A Discord timestamp: every member reads it in their own timezone."""
    return discord.utils.format_dt(moment, style)


def role_ids_of(interaction: Interaction) -> set[int]:
    return member_facts(interaction)[1]


def film_label(films: dict[int, Film], film_id: int) -> str:
    film = films.get(film_id)
    return film.label if film is not None else f"film #{film_id}"


# -- rendering ------------------------------------------------------------------------------------------------------


def poll_embed(poll: Poll, films: dict[int, Film], live: Tally | None) -> discord.Embed:
    """The poll message: what to do, until when, the films (with counts when they are shown live)."""
    lines = [METHOD_HINT[poll.method] if poll.style is Style.BUTTONS else "Vote in the poll below."]
    if poll.status is Status.OPEN:
        lines.append(f"Closes {ts(poll.closes_at, 'F')} ({ts(poll.closes_at, 'R')}).")
    elif poll.status is Status.CLOSED:
        lines.append(f"**Closed** {ts(poll.closed_at or poll.closes_at, 'R')}; the result is below.")
    else:
        lines.append("**Cancelled**: this poll takes no more votes and has no result.")
    if poll.voter_role_id is not None:
        lines.append(f"Only members with the <@&{poll.voter_role_id}> role can vote.")
    counts = live.first.votes if live is not None else {}
    lines.append("")
    for candidate in poll.candidates:
        film = films.get(candidate.film_id)
        line = f"`{candidate.position:>2}` **{film_label(films, candidate.film_id)}**"
        if film is not None:
            line += f" · {film.length}"
        if live is not None:
            line += f" — {plural(counts.get(candidate.film_id, 0), 'vote')}"
        lines.append(line)
    embed = club_embed(f"🎬 {poll.title}", "\n".join(lines))
    if poll.show_counts:
        shown = "counts shown live"
        if live is not None:
            what = "first choices" if poll.method is Method.RANKED else "votes"
            shown = f"{plural(live.ballots, 'ballot')} · {what} shown live"
    else:
        shown = "counts hidden until the close"
    embed.set_footer(text=f"Poll #{poll.id} · {poll.method.label} · {shown}")
    return embed


def voting_view(poll: Poll, films: dict[int, Film], *, disabled: bool = False) -> discord.ui.View | None:
    """The poll's persistent components. Vote buttons are answered through this view, stored for the poll's message;
    everything else is a DynamicItem template (answered whatever the message)."""
    if poll.style is Style.NATIVE:
        return None
    view = discord.ui.View(timeout=None)
    control_row = 0
    if poll.method is Method.RANKED:
        view.add_item(PollAction(poll.id, "rank", label="Rank your choices", style=discord.ButtonStyle.primary))
    elif len(poll.candidates) <= BUTTON_LIMIT:
        for index, candidate in enumerate(poll.candidates):
            label = truncate(f"{candidate.position}. {film_label(films, candidate.film_id)}", 80)
            view.add_item(VoteButton(poll.id, candidate.film_id, label=label, row=index // 5))
        control_row = (len(poll.candidates) - 1) // 5 + 1
        view.add_item(PollAction(poll.id, "ballot", label="My ballot", row=control_row))
    else:
        options = [
            discord.SelectOption(
                label=truncate(f"{c.position}. {film_label(films, c.film_id)}", 100),
                value=str(c.film_id),
                description=truncate(films[c.film_id].length, 100) if c.film_id in films else None,
            )
            for c in poll.candidates
        ]
        approval = poll.method is Method.APPROVAL
        view.add_item(
            PickSelect(
                poll.id,
                options=options,
                placeholder="Choose every film you'd watch" if approval else "Choose your film",
                max_values=len(options) if approval else 1,
            )
        )
        view.add_item(PollAction(poll.id, "ballot", label="My ballot", row=1))
    if disabled:
        for child in view.children:
            inner = child.item if isinstance(child, discord.ui.DynamicItem) else child
            if isinstance(inner, discord.ui.Button | discord.ui.Select):
                inner.disabled = True
        view.stop()  # a closed poll's view answers nothing; stopped views are not stored
    elif not any(isinstance(child, VoteButton) for child in view.children):
        view.stop()  # only DynamicItems: answered by their registered templates, nothing to store
    return view


def describe_tie(tie: Tie, films: dict[int, Film], *, poll_id: int) -> str:
    """ "A and B tied; broken by higher club rating (A 4.5★, B 3★)." — every step that decided it, named."""
    names = [film_label(films, film) for film in tie.tied]
    tied = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
    details = []
    for rule, name in zip(tie.rules, tie.rule_names, strict=True):
        if rule.value == "rating":
            ratings = ", ".join(
                f"{film_label(films, film).split(' (')[0]} {'unrated' if r is None else f'{r:.1f}★'}"
                for film, r in tie.ratings
            )
            details.append(f"{name} ({ratings})")
        elif rule.value == "nomination":
            when = dict(tie.nominated_at)
            dates = ", ".join(
                f"{film_label(films, film).split(' (')[0]} {when.get(film, '')[:10]}"
                for film in tie.tied
                if film in when
            )
            details.append(f"{name} ({dates})")
        else:
            details.append(f"{name} (#{poll_id})")
    verb = "for last place" if tie.eliminating else "for first place"
    outcome = "goes out" if tie.eliminating else "wins"
    return f"{tied} tied {verb}; broken by {', then '.join(details)}: **{film_label(films, tie.chosen)}** {outcome}."


def result_embed(poll: Poll, films: dict[int, Film], result: Tally, *, note: str = "") -> discord.Embed:
    unit = "approval" if poll.method is Method.APPROVAL else "vote"
    if result.winner is None:
        embed = club_embed(f"📣 {poll.title}: no winner", "No votes were cast, so there is no winner.")
    else:
        winner = film_label(films, result.winner)
        final = result.final.votes.get(result.winner, 0)
        if poll.method is Method.RANKED:
            rounds = len(result.rounds)
            exhausted = result.final.exhausted
            summary = (
                f"**{winner}** wins in round {rounds} with {final} of {plural(result.final.active, 'ballot')} "
                f"still in play" + (f" ({exhausted} exhausted)." if exhausted else ".")
            )
        elif poll.method is Method.APPROVAL:
            summary = f"**{winner}** wins with {plural(final, 'approval')} from {plural(result.ballots, 'voter')}."
        else:
            summary = f"**{winner}** wins with {final} of {plural(result.ballots, 'vote')}."
        if result.source == "discord":
            summary += " Counted by Discord's own poll."
        lines = [summary]
        if result.tie is not None:
            lines.append("")
            lines.append("⚖️ " + describe_tie(result.tie, films, poll_id=poll.id))
        embed = club_embed(f"🏆 {poll.title}: {winner}", "\n".join(lines))
    if poll.method is Method.RANKED:
        for number, round_ in enumerate(result.rounds, start=1):
            ordered = sorted(round_.counts, key=lambda fc: -fc[1])
            parts = [f"{film_label(films, film)} — {count}" for film, count in ordered]
            if round_.exhausted:
                parts.append(f"_exhausted ballots — {round_.exhausted}_")
            if round_.eliminated:
                gone = ", ".join(film_label(films, film) for film in round_.eliminated)
                parts.append(f"➜ out: {gone}")
            if round_.tie is not None:
                parts.append("⚖️ " + describe_tie(round_.tie, films, poll_id=poll.id))
            for block_index, block in enumerate(chunk_lines(parts)):
                add_field(embed, f"Round {number}" + (" (more)" if block_index else ""), block)
    else:
        ordered = sorted(result.first.counts, key=lambda fc: -fc[1])
        total = sum(count for _film, count in ordered) or 1
        parts = [
            f"{'🏆 ' if film == result.winner else ''}{film_label(films, film)} — {plural(count, unit)} "
            f"({round(count * 100 / total)}%)"
            for film, count in ordered
        ]
        for block_index, block in enumerate(chunk_lines(parts)):
            add_field(embed, "Counts" + (" (more)" if block_index else ""), block)
    if note:
        add_field(embed, "Screening", note)
    embed.set_footer(text=f"Poll #{poll.id} · {poll.method.label} · ties: {TIE_BREAK_RULE}")
    return embed


def chart_png(poll: Poll, films: dict[int, Film], result: Tally) -> bytes:
    """Votes (first choices for ranked choice) per film, the winner in gold."""
    shown = result.first
    ordered = sorted(shown.counts, key=lambda fc: -fc[1])
    labels = [film_label(films, film) for film, _count in ordered]
    values = [float(count) for _film, count in ordered]
    highlight = [i for i, (film, _count) in enumerate(ordered) if film == result.winner]
    heading = {Method.PLURALITY: "Votes", Method.APPROVAL: "Approvals", Method.RANKED: "First choices"}[poll.method]
    return bar_chart(f"{heading}: {poll.title}", labels, values, highlight=highlight)


def ballot_lines(poll: Poll, films: dict[int, Film], choices: tuple[int, ...]) -> str:
    if not choices:
        return "_You have not voted in this poll._"
    if poll.method is Method.RANKED:
        return "\n".join(f"{rank}. {film_label(films, film)}" for rank, film in enumerate(choices, start=1))
    return "\n".join(f"• {film_label(films, film)}" for film in choices)


def ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def rank_editor(
    poll: Poll, films: dict[int, Film], choices: tuple[int, ...], note: str = ""
) -> tuple[discord.Embed, discord.ui.View]:
    """The member's own ranked ballot (ephemeral): what it holds, and controls to add, undo and clear."""
    limit = min(MAX_RANKS, len(poll.candidates))
    lines = [ballot_lines(poll, films, choices)]
    if note:
        lines.extend(["", note])
    if poll.is_open:
        lines.extend(["", f"Your ballot counts as it stands; you can change it until {ts(poll.closes_at, 'f')}."])
    embed = club_embed(f"Your ranked ballot: {poll.title}", "\n".join(lines))
    embed.set_footer(text=f"Poll #{poll.id} · rank up to {limit} films · every change is saved at once")
    view = discord.ui.View(timeout=None)
    remaining = [c for c in poll.candidates if c.film_id not in choices]
    full = len(choices) >= limit or not remaining or not poll.is_open
    options = [
        discord.SelectOption(label=truncate(film_label(films, c.film_id), 100), value=str(c.film_id))
        for c in remaining[:25]
    ] or [discord.SelectOption(label="Every film is ranked", value="0")]
    placeholder = "Your ballot is full" if full else f"Add your {ordinal(len(choices) + 1)} choice"
    view.add_item(RankSelect(poll.id, options=options, placeholder=placeholder, disabled=full))
    view.add_item(PollAction(poll.id, "undo", label="Remove last", row=1, disabled=not choices or not poll.is_open))
    view.add_item(
        PollAction(
            poll.id,
            "clear",
            label="Clear ballot",
            style=discord.ButtonStyle.danger,
            row=1,
            disabled=not choices or not poll.is_open,
        )
    )
    view.stop()
    return embed, view


def ballot_view(poll: Poll, choices: tuple[int, ...]) -> discord.ui.View | None:
    if not choices or not poll.is_open:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(PollAction(poll.id, "withdraw", label="Withdraw my vote", style=discord.ButtonStyle.danger))
    view.stop()
    return view


def selected(interaction: Interaction) -> list[int]:
    """The film ids a member chose in a select menu."""
    data: Any = interaction.data or {}
    return [int(value) for value in data.get("values", [])]


def polls_cog(interaction: Interaction) -> Polls:
    cog = interaction.client.get_cog("Polls")
    if not isinstance(cog, Polls):
        raise UserError("Polls are not available right now.")
    return cog


# -- persistent components ------------------------------------------------------------------------------------------


class VoteButton(AnswersMember, discord.ui.Button[discord.ui.View]):
    """One film's button: a vote (plurality) or a toggle (approval).

    Not a DynamicItem: the poll's view is stored for its message (when it is posted, and again for every open poll
    at start-up), so a click goes straight to this button. For a DynamicItem, discord.py would rebuild a view from the
    whole poll message on every click, which costs a burst of votes about a third more CPU.
    """

    def __init__(self, poll_id: int, film_id: int, *, label: str = "Vote", row: int | None = None) -> None:
        super().__init__(
            label=label, style=discord.ButtonStyle.secondary, custom_id=f"filmclub:poll:{poll_id}:v:{film_id}", row=row
        )
        self.poll_id = poll_id
        self.film_id = film_id

    async def answer(self, interaction: Interaction) -> None:
        await polls_cog(interaction).on_vote(interaction, self.poll_id, self.film_id)


class PickSelect(
    AnswersMember, discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"filmclub:poll:(?P<poll>\d+):pick"
):
    """The select menu used instead of buttons when a poll has more than 20 films."""

    def __init__(
        self,
        poll_id: int,
        *,
        options: list[discord.SelectOption] | None = None,
        placeholder: str | None = None,
        max_values: int = 1,
    ) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=f"filmclub:poll:{poll_id}:pick",
                options=options or [],
                placeholder=placeholder,
                min_values=1,
                max_values=max_values,
                row=0,
            )
        )
        self.poll_id = poll_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(int(match["poll"]))

    async def answer(self, interaction: Interaction) -> None:
        values = selected(interaction)
        await polls_cog(interaction).on_pick(interaction, self.poll_id, values)


class RankSelect(
    AnswersMember, discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"filmclub:poll:(?P<poll>\d+):rank-add"
):
    """In a member's ranked ballot: add the next preference."""

    def __init__(
        self,
        poll_id: int,
        *,
        options: list[discord.SelectOption] | None = None,
        placeholder: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=f"filmclub:poll:{poll_id}:rank-add",
                options=options or [],
                placeholder=placeholder,
                disabled=disabled,
                row=0,
            )
        )
        self.poll_id = poll_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(int(match["poll"]))

    async def answer(self, interaction: Interaction) -> None:
        values = selected(interaction)
        await polls_cog(interaction).on_rank_add(interaction, self.poll_id, values[0] if values else 0)


class PollAction(
    AnswersMember,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"filmclub:poll:(?P<poll>\d+):(?P<action>ballot|withdraw|rank|undo|clear)",
):
    """My ballot, Withdraw, Rank your choices, Remove last, Clear ballot."""

    def __init__(
        self,
        poll_id: int,
        action: str,
        *,
        label: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        row: int | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or action.title(),
                style=style,
                custom_id=f"filmclub:poll:{poll_id}:{action}",
                row=row,
                disabled=disabled,
            )
        )
        self.poll_id = poll_id
        self.action = action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(int(match["poll"]), match["action"])

    async def answer(self, interaction: Interaction) -> None:
        await polls_cog(interaction).on_action(interaction, self.poll_id, self.action)


class PollFromFilms(AnswersMember, discord.ui.DynamicItem[discord.ui.Button[Any]], template=POLL_FROM_FILMS_PATTERN):
    """ "Start a watch-party poll" on a /recommend or weekly-picks message: moderators get a short form."""

    def __init__(self, film_ids: list[int]) -> None:
        super().__init__(
            discord.ui.Button(
                label="Start a watch-party poll", custom_id=f"filmclub:poll-from:{','.join(map(str, film_ids))}"
            )
        )
        self.film_ids = film_ids

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls([int(x) for x in match["film_ids"].split(",")])

    async def answer(self, interaction: Interaction) -> None:
        await polls_cog(interaction).on_poll_from_films(interaction, self.film_ids)


class QuickPollModal(discord.ui.Modal, title="Start a watch-party poll"):
    """Title, deadline and method for a poll among films offered by another feature."""

    poll_title: discord.ui.TextInput[QuickPollModal] = discord.ui.TextInput(
        label="Title", custom_id="poll:title", max_length=polls.TITLE_LIMIT
    )
    deadline: discord.ui.TextInput[QuickPollModal] = discord.ui.TextInput(
        label="Deadline", custom_id="poll:deadline", default="2d", max_length=40, placeholder='"90m", "3d", "fri 20:00"'
    )
    method: discord.ui.TextInput[QuickPollModal] = discord.ui.TextInput(
        label="Method: plurality, approval or ranked",
        custom_id="poll:method",
        default="plurality",
        max_length=20,
    )

    def __init__(self, cog: Polls, film_ids: list[int], default_title: str) -> None:
        super().__init__(timeout=900)
        self.cog = cog
        self.film_ids = film_ids
        self.poll_title.default = default_title

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        await self.cog.create_from_modal(
            interaction,
            self.film_ids,
            title=self.poll_title.value,
            deadline=self.deadline.value,
            method=self.method.value,
        )

    async def on_error(self, interaction: Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await report_error(interaction, error)


def parse_method(text: str) -> Method:
    cleaned = text.strip().lower()
    for method in Method:
        if cleaned and (method.value.startswith(cleaned) or cleaned in method.label.lower()):
            return method
    if cleaned in ("irv", "instant runoff", "rcv", "ranked choice"):
        return Method.RANKED
    raise UserError("The method is plurality, approval or ranked.")


async def film_list_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete for a list of films separated by ";": completes the last one."""
    head, separator, tail = current.rpartition(";")
    prefix = f"{head.strip()}; " if separator else ""
    matches = interaction.client.titles.search(tail.strip(), limit=25)
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
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._polls: dict[int, Poll] = {}  # poll id -> poll (only its immutable parts are read from the cache)
        self._films: dict[int, dict[int, Film]] = {}
        self._refreshing: dict[int, asyncio.Task[None]] = {}
        self._confirm_slots = asyncio.Semaphore(CONFIRMATIONS_IN_FLIGHT)
        self._confirming: set[asyncio.Task[None]] = set()
        self._in_flight = 0
        self._acks_done = asyncio.Event()
        self._acks_done.set()
        super().__init__()

    async def cog_load(self) -> None:
        self.box = polls.BallotBox(self.bot.db, self.bot.clock)
        self.bot.timers.register(polls.CLOSE_TIMER, self._on_close_timer)
        self.bot.timers.register(polls.PUBLISH_TIMER, self._on_publish_timer)
        rearmed = await polls.rearm_open_polls(self.bot.db, self.bot.clock, self.bot.timers)
        if rearmed:
            log.warning("re-armed %d poll timer(s) that were missing", rearmed)
        for poll in await polls.posted_open_polls(self.bot.db):
            view = voting_view(poll, await get_films(self.bot.db, poll.film_ids))
            if view is not None and not view.is_finished() and poll.message_id is not None:
                self.bot.add_view(view, message_id=poll.message_id)

    async def cog_unload(self) -> None:
        for task in self._refreshing.values():
            task.cancel()

    # -- shared helpers ------------------------------------------------------------------------------------------------

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

    def _partial_message(self, poll: Poll, message_id: int) -> discord.PartialMessage:
        channel = self.bot.get_partial_messageable(poll.channel_id, guild_id=poll.guild_id)
        return channel.get_partial_message(message_id)

    async def _live_tally(self, poll: Poll) -> Tally | None:
        if not poll.show_counts or poll.style is Style.NATIVE:
            return None
        return await polls.current_tally(self.bot.db, poll)

    # -- posting -------------------------------------------------------------------------------------------------------

    async def publish(self, poll_id: int) -> Poll:
        """Post the poll in its channel (once: a second call finds the message and does nothing)."""
        async with self._locks[poll_id]:
            poll, films = await self.poll_and_films(poll_id, fresh=True)
            if poll.message_id is not None or poll.status is not Status.OPEN:
                return poll
            channel = self.bot.get_partial_messageable(poll.channel_id, guild_id=poll.guild_id)
            embed = poll_embed(poll, films, await self._live_tally(poll))
            if poll.style is Style.NATIVE:
                native = discord.Poll(
                    question=truncate(poll.title, 300),
                    duration=timedelta(hours=polls.native_duration_hours(self.bot.clock.now(), poll.closes_at)),
                    multiple=poll.method is Method.APPROVAL,
                )
                for candidate in poll.candidates:
                    native.add_answer(text=polls.native_answer(film_label(films, candidate.film_id)))
                message = await channel.send(embed=embed, poll=native)
            else:
                view = voting_view(poll, films)
                message = await channel.send(embed=embed, view=view or discord.utils.MISSING)
            if not await polls.attach_message(self.bot.db, poll.id, message.id):
                await message.delete()
            poll, _films = await self.poll_and_films(poll_id, fresh=True)
            log.info("poll %s posted as message %s in channel %s", poll.id, poll.message_id, poll.channel_id)
            return poll

    async def _on_publish_timer(self, timer: Timer) -> None:
        await self.publish(int(timer.payload["poll_id"]))

    def counts_changed(self, poll: Poll) -> None:
        """Redraw the live counts soon (once for a burst of votes)."""
        if not poll.show_counts or poll.message_id is None or poll.id in self._refreshing:
            return
        self._refreshing[poll.id] = asyncio.create_task(self._refresh_later(poll.id), name=f"poll-refresh-{poll.id}")

    async def _refresh_later(self, poll_id: int) -> None:
        try:
            await asyncio.sleep(REFRESH_DELAY)
            self._refreshing.pop(poll_id, None)
            async with self._locks[poll_id]:
                poll, films = await self.poll_and_films(poll_id, fresh=True)
                if poll.status is not Status.OPEN or poll.message_id is None:
                    return
                embed = poll_embed(poll, films, await self._live_tally(poll))
                await self._partial_message(poll, poll.message_id).edit(embed=embed)
        except discord.HTTPException:
            log.warning("could not refresh the counts of poll %s", poll_id, exc_info=True)
        finally:
            self._refreshing.pop(poll_id, None)

    # -- closing -------------------------------------------------------------------------------------------------------

    async def _native_counts(self, poll: Poll) -> tuple[dict[int, int], int] | None:
        """End the Discord poll (if it still runs) and read its counts; None until Discord has finalised them."""
        if poll.message_id is None:
            return {}, 0
        try:
            data: Any = await self.bot.http.end_poll(poll.channel_id, poll.message_id)
        except discord.NotFound:
            log.warning("the message of native poll %s is gone; closing it with no votes", poll.id)
            return {}, 0
        except discord.HTTPException:
            # Already expired (Discord refuses to end it twice): read the message as it is.
            data = await self.bot.http.get_message(poll.channel_id, poll.message_id)
        return native_results(poll, data.get("poll"))

    async def finish(
        self, poll_id: int, *, closed_by: int | None = None, native: tuple[dict[int, int], int] | None = None
    ) -> Poll:
        """Close the poll if it is open, then make sure its result is announced (idempotent)."""
        async with self._locks[poll_id]:
            poll, films = await self.poll_and_films(poll_id, fresh=True)
            if poll.status is Status.OPEN:
                if poll.style is Style.NATIVE:
                    native = native or await self._native_counts(poll)
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
        embed = result_embed(poll, films, result, note=note)
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
                await self._partial_message(poll, poll.message_id).edit(
                    embed=poll_embed(poll, films, result if poll.show_counts else None),
                    view=voting_view(poll, films, disabled=True),
                )
            except discord.HTTPException:
                log.warning("could not disable the voting buttons of poll %s", poll.id, exc_info=True)
        log.info("poll %s closed: winner %s", poll.id, result.winner)

    async def _plan_screening(self, poll: Poll, films: dict[int, Film], result: Tally) -> str:
        plan = poll.screening
        if plan is None or result.winner is None:
            return ""
        settings = await get_settings(self.bot.db, poll.guild_id)
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

    async def _on_close_timer(self, timer: Timer) -> None:
        await self.finish(int(timer.payload["poll_id"]))

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
            await self.finish(poll.id, native=counts)
        except Exception:
            log.exception("closing native poll %s from its final results failed; its timer will retry", poll.id)

    # -- voting --------------------------------------------------------------------------------------------------------

    async def acknowledge(self, interaction: Interaction, text: str) -> None:
        """Answer a vote: acknowledge the click at once, then confirm it in an ephemeral follow-up.

        Called only once the ballot is committed. Discord gives an interaction three seconds to be acknowledged and
        fifteen minutes for follow-ups, so under a burst of clicks the acknowledgements go first (a deferred update
        costs Discord and us the least) and the confirmations follow once the burst is acknowledged, a few at a time.
        """
        await interaction.response.defer()
        task = asyncio.create_task(self._confirm(interaction, text), name="poll-vote-confirmation")
        self._confirming.add(task)
        task.add_done_callback(self._confirming.discard)

    async def _confirm(self, interaction: Interaction, text: str) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CONFIRMATION_HOLD):
                await self._acks_done.wait()
        async with self._confirm_slots:
            try:
                await interaction.followup.send(text, ephemeral=True)
            except discord.HTTPException:
                log.warning("could not confirm a vote to member %s", interaction.user.id, exc_info=True)

    @contextlib.contextmanager
    def _acking(self) -> Iterator[None]:
        """Count a vote from its click to its acknowledgement (confirmations wait while any is in between)."""
        self._in_flight += 1
        self._acks_done.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._acks_done.set()

    async def on_vote(self, interaction: Interaction, poll_id: int, film_id: int) -> None:
        with self._acking():
            await self._vote(interaction, poll_id, film_id)

    async def _vote(self, interaction: Interaction, poll_id: int, film_id: int) -> None:
        poll, films = await self.poll_and_films(poll_id)
        receipt = await self.box.vote(
            poll=poll,
            guild_id=guild_id_of(interaction),
            user_id=interaction.user.id,
            role_ids=role_ids_of(interaction),
            film_id=film_id,
        )
        label = film_label(films, film_id)
        if poll.method is Method.APPROVAL:
            verb = "Added" if receipt.note == "added" else "Removed"
            mine = ", ".join(film_label(films, f) for f in receipt.choices) or "nothing yet"
            text = f"✅ {verb} **{label}**. You approve: {mine}."
        else:
            text = f"✅ Your vote for **{label}** is in."
        text += f" You can change it until {ts(receipt.poll.closes_at, 'f')}."
        if not poll.show_counts:
            text += " Counts stay hidden until the poll closes."
        await self.acknowledge(interaction, text)
        self.counts_changed(receipt.poll)

    async def on_pick(self, interaction: Interaction, poll_id: int, film_ids: list[int]) -> None:
        poll, films = await self.poll_and_films(poll_id)
        receipt = await polls.set_choices(
            self.bot.db,
            self.bot.clock,
            poll_id=poll_id,
            guild_id=guild_id_of(interaction),
            user_id=interaction.user.id,
            role_ids=role_ids_of(interaction),
            film_ids=film_ids,
        )
        mine = ", ".join(f"**{film_label(films, f)}**" for f in receipt.choices)
        text = f"✅ Your ballot is in: {mine}. You can change it until {ts(poll.closes_at, 'f')}."
        await self.acknowledge(interaction, text)
        self.counts_changed(receipt.poll)

    async def on_rank_add(self, interaction: Interaction, poll_id: int, film_id: int) -> None:
        _poll, films = await self.poll_and_films(poll_id)
        receipt = await polls.rank_add(
            self.bot.db,
            self.bot.clock,
            poll_id=poll_id,
            guild_id=guild_id_of(interaction),
            user_id=interaction.user.id,
            role_ids=role_ids_of(interaction),
            film_id=film_id,
        )
        note = (
            receipt.note
            or f"✅ Saved: **{film_label(films, film_id)}** is your {ordinal(len(receipt.choices))} choice."
        )
        embed, view = rank_editor(receipt.poll, films, receipt.choices, note)
        await interaction.response.edit_message(embed=embed, view=view)
        self.counts_changed(receipt.poll)

    async def on_action(self, interaction: Interaction, poll_id: int, action: str) -> None:
        poll, films = await self.poll_and_films(poll_id)
        db, clock = self.bot.db, self.bot.clock
        guild_id, user_id, role_ids = guild_id_of(interaction), interaction.user.id, role_ids_of(interaction)
        if action == "rank":
            current = await polls.eligibility(db, clock, poll_id, guild_id=guild_id, role_ids=role_ids)
            choices = await polls.ballot_of(db, poll_id, user_id)
            embed, view = rank_editor(current, films, choices)
            await interaction.response.send_message(embed=embed, view=view, ephemeral=True)
        elif action == "ballot":
            current, _ = await self.poll_and_films(poll_id, fresh=True)
            choices = await polls.ballot_of(db, poll_id, user_id)
            if current.method is Method.RANKED and current.is_open:
                embed, rank_view = rank_editor(current, films, choices)
                await interaction.response.send_message(embed=embed, view=rank_view, ephemeral=True)
                return
            embed = club_embed(f"Your ballot: {current.title}", ballot_lines(current, films, choices))
            if current.is_open:
                embed.set_footer(text="Click a film on the poll to change your vote.")
            withdraw_view = ballot_view(current, choices)
            await interaction.response.send_message(
                embed=embed, view=withdraw_view or discord.utils.MISSING, ephemeral=True
            )
        elif action == "withdraw":
            removed = await polls.withdraw(
                db, clock, poll_id=poll_id, guild_id=guild_id, user_id=user_id, role_ids=role_ids
            )
            text = "🗑️ Your vote was withdrawn." if removed else "You had no vote in this poll."
            await interaction.response.edit_message(content=text, embed=None, view=None)
            self.counts_changed(poll)
        elif action == "undo":
            receipt = await polls.rank_undo(
                db, clock, poll_id=poll_id, guild_id=guild_id, user_id=user_id, role_ids=role_ids
            )
            embed, rank_view = rank_editor(receipt.poll, films, receipt.choices, "✅ Saved: last choice removed.")
            await interaction.response.edit_message(embed=embed, view=rank_view)
            self.counts_changed(poll)
        elif action == "clear":
            await polls.withdraw(db, clock, poll_id=poll_id, guild_id=guild_id, user_id=user_id, role_ids=role_ids)
            embed, rank_view = rank_editor(poll, films, (), "✅ Saved: your ballot is empty.")
            await interaction.response.edit_message(embed=embed, view=rank_view)
            self.counts_changed(poll)

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
        modal = QuickPollModal(self, film_ids, truncate(default, polls.TITLE_LIMIT))
        await interaction.response.send_modal(modal)

    async def create_from_modal(
        self, interaction: Interaction, film_ids: list[int], *, title: str, deadline: str, method: str
    ) -> None:
        settings = await ensure_moderator(interaction)
        closes_at = parse_moment(deadline, self.bot.clock.now(), settings.timezone)
        poll = await polls.create_poll(
            self.bot.db,
            self.bot.clock,
            self.bot.timers,
            guild_id=settings.guild_id,
            channel_id=settings.polls_channel_id or _channel_id(interaction),
            creator_id=interaction.user.id,
            title=title,
            film_ids=film_ids,
            method=parse_method(method),
            closes_at=closes_at,
            voter_role_id=settings.voter_role_id,
        )
        await self._post_and_confirm(interaction, poll)

    async def _post_and_confirm(self, interaction: Interaction, poll: Poll) -> None:
        try:
            poll = await self.publish(poll.id)
        except discord.HTTPException as exc:
            await polls.cancel_poll(
                self.bot.db, self.bot.clock, self.bot.timers, poll.id, cancelled_by=interaction.user.id
            )
            raise UserError(
                f"I couldn't post the poll in <#{poll.channel_id}> ({exc.text or exc.status}); check my permissions "
                "there. Nothing was created."
            ) from exc
        await self.bot.timers.cancel(polls.PUBLISH_TIMER, str(poll.id))
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
        theme="Fill the ballot from a theme (films the club hasn't screened)",
        source="Fill the ballot from the club's watchlists or this week's picks",
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
        theme=theme_choices,
    )
    async def create(
        self,
        interaction: Interaction,
        title: app_commands.Range[str, 1, 200],
        deadline: str,
        method: str = "plurality",
        film1: str | None = None,
        film2: str | None = None,
        film3: str | None = None,
        film4: str | None = None,
        film5: str | None = None,
        films: str | None = None,
        theme: str | None = None,
        source: str | None = None,
        count: app_commands.Range[int, 2, 25] = polls.DEFAULT_SOURCE_COUNT,
        voter_role: discord.Role | None = None,
        hide_counts: bool = False,
        native: bool = False,
        screening: str | None = None,
        screening_channel: discord.VoiceChannel | discord.StageChannel | None = None,
        screening_location: app_commands.Range[str, 1, 100] | None = None,
        remind: str | None = None,
    ) -> None:
        settings = await ensure_moderator(interaction)
        db, clock = self.bot.db, self.bot.clock
        now = clock.now()
        closes_at = parse_moment(deadline, now, settings.timezone)
        film_ids = await self._candidates(
            interaction,
            settings,
            named=[f for f in (film1, film2, film3, film4, film5) if f]
            + [part for part in FILM_SEPARATORS.split(films or "") if part.strip()],
            theme=theme,
            source=source,
            count=count,
        )
        plan = None
        if screening is not None or screening_channel is not None or screening_location is not None:
            if screening is None:
                raise UserError("Give the `screening` time as well as its channel or location.")
            remind_span = timedelta(0) if remind and remind.strip() == "0" else parse_duration(remind or "1h")
            if remind_span is None:
                raise UserError('Give the reminder as a duration such as "1h" or "30m".')
            plan = polls.ScreeningPlan(
                starts_at=parse_moment(screening, now, settings.timezone),
                channel_id=screening_channel.id if screening_channel is not None else None,
                location=screening_location,
                remind_minutes=int(remind_span.total_seconds() // 60),
            )
        elif remind is not None:
            raise UserError("`remind` goes with a `screening` time.")
        poll = await polls.create_poll(
            db,
            clock,
            self.bot.timers,
            guild_id=settings.guild_id,
            channel_id=settings.polls_channel_id or _channel_id(interaction),
            creator_id=interaction.user.id,
            title=title,
            film_ids=film_ids,
            method=Method(method),
            closes_at=closes_at,
            voter_role_id=voter_role.id if voter_role is not None else settings.voter_role_id,
            show_counts=not hide_counts,
            style=Style.NATIVE if native else Style.BUTTONS,
            screening=plan,
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._post_and_confirm(interaction, poll)

    async def _candidates(
        self,
        interaction: Interaction,
        settings: GuildSettings,
        *,
        named: list[str],
        theme: str | None,
        source: str | None,
        count: int,
    ) -> list[int]:
        """Resolve the films a moderator named (each must be in the catalog, once), then add a theme's or a source's."""
        db = self.bot.db
        ids: list[int] = []
        for text in named:
            film = await resolve_film(db, self.bot.titles, text)
            if film.id in ids:
                raise UserError(f"**{film.label}** is on the list twice; each film can be a candidate once.")
            ids.append(film.id)
        extra: list[int] = []
        if theme is not None:
            chosen = resolve_theme(await list_themes(db), theme)
            extra += await polls.theme_candidates(db, settings.guild_id, chosen.slug, count, seed=str(interaction.id))
        if source == "watchlist":
            extra += await polls.watchlist_candidates(db, settings.guild_id, count)
        elif source == "picks":
            extra += await polls.picks_candidates(db, settings.guild_id)
        elif source is not None:
            raise UserError("The source is the club's watchlists or this week's picks.")
        ids += [film for film in dict.fromkeys(extra) if film not in ids]
        if not ids:
            raise UserError("Name at least two films (film1, film2 … or `films`), or choose a theme or a source.")
        polls.check_candidates(ids)
        return ids

    @app_commands.command(
        name="end", description="Close a poll now and announce the result (its creator or a moderator)."
    )
    @app_commands.describe(poll="The poll to close")
    @app_commands.autocomplete(poll=poll_choices)
    async def end(self, interaction: Interaction, poll: int) -> None:
        target = await self._managed_poll(interaction, poll)
        if not target.is_open:
            raise UserError(f"Poll #{target.id} is already {target.status.value}.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            closed = await self.finish(target.id, closed_by=interaction.user.id)
        except NativePollPending:
            await self.bot.timers.schedule(
                polls.CLOSE_TIMER, str(target.id), self.bot.clock.now(), {"poll_id": target.id}
            )
            await send_ephemeral(
                interaction, "⏳ Discord is counting its poll; the result will be posted as soon as it is final."
            )
            return
        link = message_link(closed.guild_id, closed.channel_id, closed.result_message_id)
        await send_ephemeral(interaction, f"🔒 Poll #{closed.id} is closed; the result is posted: {link}")

    @app_commands.command(
        name="cancel", description="Cancel a poll: no result, no screening (its creator or a moderator)."
    )
    @app_commands.describe(poll="The poll to cancel")
    @app_commands.autocomplete(poll=poll_choices)
    async def cancel(self, interaction: Interaction, poll: int) -> None:
        target = await self._managed_poll(interaction, poll)
        async with self._locks[target.id]:
            cancelled = await polls.cancel_poll(
                self.bot.db, self.bot.clock, self.bot.timers, target.id, cancelled_by=interaction.user.id
            )
            self._polls[cancelled.id] = cancelled
            await self.bot.timers.cancel(polls.PUBLISH_TIMER, str(cancelled.id))
        _poll, films = await self.poll_and_films(cancelled.id)
        if cancelled.message_id is not None:
            try:
                if cancelled.style is Style.NATIVE:
                    await self.bot.http.end_poll(cancelled.channel_id, cancelled.message_id)
                else:
                    await self._partial_message(cancelled, cancelled.message_id).edit(
                        embed=poll_embed(cancelled, films, None), view=voting_view(cancelled, films, disabled=True)
                    )
            except discord.HTTPException:
                log.warning("could not mark poll %s as cancelled on its message", cancelled.id, exc_info=True)
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
    async def status(self, interaction: Interaction, poll: int) -> None:
        target = await polls.guild_poll(self.bot.db, guild_id_of(interaction), poll)
        _cached, films = await self.poll_and_films(target.id)
        link = message_link(target.guild_id, target.channel_id, target.message_id)
        if target.status is Status.CLOSED and target.result is not None:
            embed = result_embed(target, films, target.result)
            embed.url = message_link(target.guild_id, target.channel_id, target.result_message_id)
        else:
            live = await self._live_tally(target)
            embed = poll_embed(target, films, live)
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


class NativePollPending(Exception):
    """Discord has not finalised a native poll's counts yet; the close timer retries (or MESSAGE_UPDATE closes it)."""

    def __init__(self, poll_id: int) -> None:
        super().__init__(f"native poll {poll_id} is not finalised yet")


def _channel_id(interaction: Interaction) -> int:
    if interaction.channel_id is None:
        raise UserError("This command only works in a server channel.")
    return interaction.channel_id


def native_results(poll: Poll, data: Any) -> tuple[dict[int, int], int] | None:
    """Film id -> votes from a Discord poll payload, once finalised; None before."""
    if not data:
        return None
    results = data.get("results") or {}
    if not results.get("is_finalized"):
        return None
    by_answer = {
        int(answer["answer_id"]): candidate.film_id
        for answer, candidate in zip(data.get("answers", []), poll.candidates, strict=False)
    }
    counts = dict.fromkeys(poll.film_ids, 0)
    for entry in results.get("answer_counts", []):
        film = by_answer.get(int(entry["id"]))
        if film is not None:
            counts[film] = int(entry.get("count", 0))
    return counts, sum(counts.values())


async def setup(bot: FilmClubBot) -> None:
    bot.add_dynamic_items(PickSelect, RankSelect, PollAction, PollFromFilms)
    await bot.add_cog(Polls(bot))
