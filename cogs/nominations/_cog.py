"""The /nominate and /nominations commands, the list's paging buttons and the nomination autocomplete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import nominations
from bot.core.films import get_film
from bot.core.nominations import Action, Status
from bot.core.text import fold
from bot.ui.autocomplete import film_choices
from bot.ui.checks import guild_id_of
from bot.ui.embeds import add_field, club_embed, truncate
from bot.ui.paging import PageButton, page_view
from bot.ui.replies import report_error, send_ephemeral

from ._asking import FORM_ID, SuggestionsView, new_film, nominate_entry, nominate_known, read_form, settings_and_facts
from ._render import list_embed

if TYPE_CHECKING:
    from bot.client import FilmClubBot

Interaction = discord.Interaction["FilmClubBot"]

SHOW_CHOICES = [
    app_commands.Choice(name="All (newest first)", value="all"),
    app_commands.Choice(name="Open: pending and approved", value="open"),
    *(app_commands.Choice(name=status.value.title(), value=status.value) for status in Status),
]


async def render_list(interaction: Interaction, shown: str, page_number: int) -> tuple[discord.Embed, Any]:
    bot = interaction.client
    page = await nominations.list_page(bot.db, guild_id_of(interaction), shown, page_number)
    tmdb_ids = [film.tmdb_id for film in page.films.values() if film.tmdb_id is not None]
    details = await bot.details.cached(tmdb_ids) if tmdb_ids else {}
    view = page_view(lambda p, label, off: NominationsPage(shown, p, label, off), page.page, page.pages)
    return list_embed(page, shown, details), view


class NominationsPage(PageButton, prefix="filmclub:nominations", key=r"[a-z]+"):
    """Previous/Next on /nominations list (the key is what the list shows: all, open or a status)."""

    async def answer(self, interaction: Interaction) -> None:
        embed, view = await render_list(interaction, self.key, self.page)
        await interaction.response.edit_message(embed=embed, view=view)


# -- autocomplete ---------------------------------------------------------------------------------------------------


async def nomination_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[int]]:
    """The server's nominations whose film or number matches what was typed, newest first."""
    if interaction.guild_id is None:
        return []
    page = await nominations.list_page(interaction.client.db, interaction.guild_id, "all", 0, size=200)
    typed = fold(current.strip().lstrip("#"))
    choices = []
    for entry in page.entries:
        film = page.films.get(entry.film_id)
        label = film.label if film else f"Film #{entry.film_id}"
        if typed and typed not in fold(label) and not str(entry.id).startswith(typed):
            continue
        name = f"#{entry.id} {truncate(label, 70)} · {entry.status}"
        choices.append(app_commands.Choice(name=name, value=entry.id))
        if len(choices) == 25:
            break
    return choices


# -- the cog ----------------------------------------------------------------------------------------------------------


class Nominations(commands.Cog):
    """Nominations"""

    group = app_commands.Group(
        name="nominations", description="The films members proposed, and moderating them.", guild_only=True
    )

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_interaction(self, interaction: Interaction) -> None:
        """The nominate form's submissions."""
        if interaction.type is not discord.InteractionType.modal_submit or not interaction.data:
            return
        if interaction.data.get("custom_id") != FORM_ID:
            return
        try:
            await nominate_entry(interaction, read_form(interaction.data))
        except Exception as exc:
            await report_error(interaction, exc)

    @app_commands.command(name="nominate", description="Propose a film for the club to watch: any film.")
    @app_commands.describe(title="The film's title (pick from the list, or type any film)", year="The year it came out")
    @app_commands.autocomplete(title=film_choices)
    @app_commands.guild_only()
    async def nominate(self, interaction: Interaction, title: str, year: int | None = None) -> None:
        settings, manage_guild, role_ids = await settings_and_facts(interaction)
        nominations.require_nominator(settings, manage_guild=manage_guild, role_ids=role_ids)
        cleaned = nominations.check_title(title, year, self.bot.clock)
        titles = await self.bot.titles_for(interaction.guild_id)
        found = nominations.find_existing(titles, cleaned, year)
        if found.film_id is not None:
            await nominate_known(interaction, found.film_id)
        elif found.suggestions:
            view = SuggestionsView(interaction.user.id, cleaned, year, found.suggestions)
            await interaction.response.send_message(
                f"Did you mean one of these? If not, choose “No, another film” to nominate {truncate(cleaned, 80)!r}.",
                view=view,
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        else:
            await new_film(interaction, cleaned, year)

    @group.command(name="list", description="The club's nominations, newest first: who nominated, and their status.")
    @app_commands.describe(show="Which nominations (all by default)")
    @app_commands.choices(show=SHOW_CHOICES)
    async def list_nominations(self, interaction: Interaction, show: str = "all") -> None:
        nominations.statuses_for(show)  # refuses a value that is not a choice
        embed, view = await render_list(interaction, show, 0)
        if view is None:
            await interaction.response.send_message(embed=embed, allowed_mentions=discord.AllowedMentions.none())
        else:
            await interaction.response.send_message(
                embed=embed, view=view, allowed_mentions=discord.AllowedMentions.none()
            )

    async def _decide(self, interaction: Interaction, nomination: int, action: Action) -> None:
        settings, manage_guild, role_ids = await settings_and_facts(interaction)
        decided = await nominations.decide(
            self.bot.db,
            self.bot.clock,
            settings,
            nomination,
            action,
            interaction.user.id,
            manage_guild=manage_guild,
            role_ids=role_ids,
        )
        film = await get_film(self.bot.db, decided.film_id)
        label = film.label if film else f"Film #{decided.film_id}"
        after = {
            Action.APPROVE: "It can go on a poll now (`/poll create source:nominations`).",
            Action.REJECT: "It can be nominated again later.",
            Action.BAN: "It cannot be nominated again unless a moderator approves or rejects it.",
        }[action]
        embed = club_embed(f"Nomination #{decided.id} {decided.status}", f"**{label}** · by <@{decided.member_id}>")
        add_field(embed, "What now", after)
        await send_ephemeral(interaction, embed=embed)

    @group.command(name="approve", description="Moderators: approve a nomination (it can go on a poll).")
    @app_commands.describe(nomination="The nomination (its number, or pick from the list)")
    @app_commands.autocomplete(nomination=nomination_choices)
    async def approve(self, interaction: Interaction, nomination: int) -> None:
        await self._decide(interaction, nomination, Action.APPROVE)

    @group.command(name="reject", description="Moderators: reject a nomination (it may be nominated again).")
    @app_commands.describe(nomination="The nomination (its number, or pick from the list)")
    @app_commands.autocomplete(nomination=nomination_choices)
    async def reject(self, interaction: Interaction, nomination: int) -> None:
        await self._decide(interaction, nomination, Action.REJECT)

    @group.command(name="ban", description="Moderators: ban a nominated film (it cannot be nominated again).")
    @app_commands.describe(nomination="The nomination (its number, or pick from the list)")
    @app_commands.autocomplete(nomination=nomination_choices)
    async def ban(self, interaction: Interaction, nomination: int) -> None:
        await self._decide(interaction, nomination, Action.BAN)

    @group.command(name="withdraw", description="Withdraw your nomination (moderators: anyone's).")
    @app_commands.describe(nomination="The nomination (its number, or pick from the list)")
    @app_commands.autocomplete(nomination=nomination_choices)
    async def withdraw(self, interaction: Interaction, nomination: int) -> None:
        settings, manage_guild, role_ids = await settings_and_facts(interaction)
        gone = await nominations.withdraw(
            self.bot.db, settings, nomination, interaction.user.id, manage_guild=manage_guild, role_ids=role_ids
        )
        film = await get_film(self.bot.db, gone.film_id)
        label = film.label if film else f"Film #{gone.film_id}"
        await send_ephemeral(interaction, f"Withdrew nomination #{gone.id}: **{label}**.")
