"""Votes: what the poll's buttons and menus do for the member who clicked them, once the core has saved the ballot.

Every handler here is called by a component (see ``_components``): it asks the core to record the change (the
core checks every rule), answers the member, and asks the board to redraw the live counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.core import polls
from bot.core.tally import Method
from bot.ui.checks import guild_id_of, member_facts
from bot.ui.embeds import club_embed

from ._acks import VoteAcknowledger
from ._components import ballot_view, rank_editor
from ._lifecycle import PollBoard
from ._render import ballot_lines, film_label, ordinal, ts

if TYPE_CHECKING:
    from bot.client import FilmClubBot

    Interaction = discord.Interaction[FilmClubBot]


def role_ids_of(interaction: Interaction) -> set[int]:
    return member_facts(interaction)[1]


class VotingDesk:
    """Records votes through the core and answers the member: a burst of plurality clicks through the ballot box
    and the acknowledger; menus, ranked ballots and withdrawals directly."""

    def __init__(self, bot: FilmClubBot, board: PollBoard) -> None:
        self._db = bot.db
        self._clock = bot.clock
        self._board = board
        self._box = polls.BallotBox(bot.db, bot.clock, spawn=bot.spawn)
        self._acks = VoteAcknowledger(bot.spawn)

    async def on_vote(self, interaction: Interaction, poll_id: int, film_id: int) -> None:
        with self._acks.acking():
            await self._vote(interaction, poll_id, film_id)

    async def _vote(self, interaction: Interaction, poll_id: int, film_id: int) -> None:
        poll, films = await self._board.poll_and_films(poll_id)
        receipt = await self._box.vote(
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
        await self._acks.acknowledge(interaction, text)
        self._board.counts_changed(receipt.poll)

    async def on_pick(self, interaction: Interaction, poll_id: int, film_ids: list[int]) -> None:
        poll, films = await self._board.poll_and_films(poll_id)
        receipt = await polls.set_choices(
            self._db,
            self._clock,
            poll_id=poll_id,
            guild_id=guild_id_of(interaction),
            user_id=interaction.user.id,
            role_ids=role_ids_of(interaction),
            film_ids=film_ids,
        )
        mine = ", ".join(f"**{film_label(films, f)}**" for f in receipt.choices)
        text = f"✅ Your ballot is in: {mine}. You can change it until {ts(poll.closes_at, 'f')}."
        await self._acks.acknowledge(interaction, text)
        self._board.counts_changed(receipt.poll)

    async def on_rank_add(self, interaction: Interaction, poll_id: int, film_id: int) -> None:
        _poll, films = await self._board.poll_and_films(poll_id)
        receipt = await polls.rank_add(
            self._db,
            self._clock,
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
        self._board.counts_changed(receipt.poll)

    async def on_action(self, interaction: Interaction, poll_id: int, action: str) -> None:
        poll, films = await self._board.poll_and_films(poll_id)
        db, clock = self._db, self._clock
        guild_id, user_id, role_ids = guild_id_of(interaction), interaction.user.id, role_ids_of(interaction)
        if action == "rank":
            current = await polls.eligibility(db, clock, poll_id, guild_id=guild_id, role_ids=role_ids)
            choices = await polls.ballot_of(db, poll_id, user_id)
            embed, view = rank_editor(current, films, choices)
            await interaction.response.send_message(embed=embed, view=view, ephemeral=True)
        elif action == "ballot":
            current, _ = await self._board.poll_and_films(poll_id, fresh=True)
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
            self._board.counts_changed(poll)
        elif action == "undo":
            receipt = await polls.rank_undo(
                db, clock, poll_id=poll_id, guild_id=guild_id, user_id=user_id, role_ids=role_ids
            )
            embed, rank_view = rank_editor(receipt.poll, films, receipt.choices, "✅ Saved: last choice removed.")
            await interaction.response.edit_message(embed=embed, view=rank_view)
            self._board.counts_changed(poll)
        elif action == "clear":
            await polls.withdraw(db, clock, poll_id=poll_id, guild_id=guild_id, user_id=user_id, role_ids=role_ids)
            embed, rank_view = rank_editor(poll, films, (), "✅ Saved: your ballot is empty.")
            await interaction.response.edit_message(embed=embed, view=rank_view)
            self._board.counts_changed(poll)
