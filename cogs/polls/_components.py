"""The poll's components: the persistent vote buttons and menus, a member's ranked-ballot editor, and the hand-off
button and form through which another feature's films become a poll.

Every custom id starts ``filmclub:poll:<id>:`` (or ``filmclub:poll-from:`` for the hand-off), so the components keep
working after a restart: vote buttons through the poll message's stored view, everything else as ``DynamicItem``
templates registered in :func:`cogs.polls.setup`. The components parse what was clicked and call the cog.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self, cast

import discord

from bot.core import polls
from bot.core.errors import UserError
from bot.core.films import Film
from bot.core.polls import Poll, Style
from bot.core.tally import MAX_RANKS, Method
from bot.ui.embeds import club_embed, truncate
from bot.ui.forms import submitted_fields
from bot.ui.handoff import POLL_FROM_FILMS_PATTERN
from bot.ui.views import AnswersMember

from ._render import ballot_lines, film_label, ordinal, ts

if TYPE_CHECKING:
    from bot.client import FilmClubBot

    from ._cog import Polls

    Interaction = discord.Interaction[FilmClubBot]

#: Up to this many films get a button each (four rows of five); more use a select menu.
BUTTON_LIMIT = 20


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
    """The film ids a member chose in a select menu (our options' values are film ids; anything else is refused)."""
    data: Any = interaction.data or {}
    values = [str(value) for value in data.get("values", [])]
    if not all(value.isascii() and value.isdigit() for value in values):
        raise UserError("That film is not on this poll's ballot.")
    return [int(value) for value in values]


def polls_cog(interaction: Interaction) -> Polls:
    """The loaded polls cog, which every component hands its click to (looked up, not imported: it imports us)."""
    cog = interaction.client.get_cog("Polls")
    if cog is None:
        raise UserError("Polls are not available right now.")
    return cast("Polls", cog)


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
        await polls_cog(interaction).voting.on_vote(interaction, self.poll_id, self.film_id)


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
        await polls_cog(interaction).voting.on_pick(interaction, self.poll_id, values)


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
        await polls_cog(interaction).voting.on_rank_add(interaction, self.poll_id, values[0] if values else 0)


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
        await polls_cog(interaction).voting.on_action(interaction, self.poll_id, self.action)


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


#: The quick-poll form's custom id carries the films, so its submission is understood whenever it comes, a restart of
#: the bot in between included: ``filmclub:poll-form:12,34,56`` (as long as the button that opened it, which fits).
POLL_FORM_PATTERN = re.compile(r"filmclub:poll-form:(?P<film_ids>\d+(?:,\d+)+)")
TITLE_FIELD = "poll:title"
DEADLINE_FIELD = "poll:deadline"
METHOD_FIELD = "poll:method"


def poll_form_id(film_ids: list[int]) -> str:
    return f"filmclub:poll-form:{','.join(map(str, film_ids))}"


class QuickPollForm(discord.ui.Modal, title="Start a watch-party poll"):
    """Title, deadline and method for a poll among films another feature offered.

    Only sent, never kept: discord.py forgets a modal when the bot restarts, so the cog answers every submission
    from its custom id (:func:`read_quick_poll_form`) rather than through this instance.
    """

    poll_title: discord.ui.TextInput[QuickPollForm] = discord.ui.TextInput(
        label="Title", custom_id=TITLE_FIELD, max_length=polls.TITLE_LIMIT
    )
    deadline: discord.ui.TextInput[QuickPollForm] = discord.ui.TextInput(
        label="Deadline", custom_id=DEADLINE_FIELD, default="2d", max_length=40, placeholder='"90m", "3d", "fri 20:00"'
    )
    method: discord.ui.TextInput[QuickPollForm] = discord.ui.TextInput(
        label="Method: plurality, approval or ranked",
        custom_id=METHOD_FIELD,
        default="plurality",
        max_length=20,
    )

    def __init__(self, film_ids: list[int], default_title: str) -> None:
        super().__init__(timeout=None, custom_id=poll_form_id(film_ids))
        self.poll_title.default = default_title
        self.stop()  # not stored by discord.py: the submission is answered by Polls.on_interaction


@dataclass(frozen=True)
class QuickPollAnswers:
    """What a moderator submitted in the quick-poll form, as typed."""

    film_ids: list[int]
    title: str
    deadline: str
    method: str


def read_quick_poll_form(data: Any) -> QuickPollAnswers | None:
    """The quick-poll form's answers from a modal submission's data; None when the submission is another form."""
    match = POLL_FORM_PATTERN.fullmatch(str((data or {}).get("custom_id", "")))
    if match is None:
        return None
    values = submitted_fields(data)
    return QuickPollAnswers(
        film_ids=[int(x) for x in match["film_ids"].split(",")],
        title=values.get(TITLE_FIELD, ""),
        deadline=values.get(DEADLINE_FIELD, ""),
        method=values.get(METHOD_FIELD, ""),
    )
