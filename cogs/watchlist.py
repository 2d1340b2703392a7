"""/watchlist and /watched: the films a member wants to see, and the manual "seen" toggles (for a member, or for the
club when a screening was cancelled or never recorded)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import watch
from bot.core.films import Film, get_films
from bot.core.watch import WatchlistPage
from bot.ui.autocomplete import film_choices
from bot.ui.checks import ensure_moderator, guild_id_of
from bot.ui.embeds import chunk_lines, club_embed, truncate
from bot.ui.paging import PageButton, page_footer, page_view
from bot.ui.replies import send_ephemeral

if TYPE_CHECKING:
    from bot.client import FilmClubBot

Interaction = discord.Interaction["FilmClubBot"]


def films_count(count: int) -> str:
    return f"{count} film{'s' if count != 1 else ''}"


def watchlist_embed(name: str, page: WatchlistPage, films: dict[int, Film]) -> discord.Embed:
    title = f"Watchlist · {truncate(name, 100)}"
    if page.count == 0:
        return club_embed(title, "Nothing on it yet. Add films with `/watchlist add`.")
    first = page.page * watch.WATCHLIST_PAGE_SIZE
    lines = []
    for number, entry in enumerate(page.entries, start=first + 1):
        film = films.get(entry.film_id)
        label = film.label if film else f"Film #{entry.film_id}"
        lines.append(f"{number}. **{label}** · added {discord.utils.format_dt(entry.added_at, 'd')}")
    embed = club_embed(title, "\n".join(chunk_lines(lines, 4000)[:1]))
    embed.set_footer(text=page_footer(page.page, page.pages, films_count(page.count)))
    return embed


class WatchlistPageButton(PageButton, prefix="filmclub:watchlist"):
    """Previous/Next on a watchlist (the key is the member's id)."""

    async def answer(self, interaction: Interaction) -> None:
        message = interaction.message
        name = "a member"
        if message and message.embeds and message.embeds[0].title:
            name = message.embeds[0].title.removeprefix("Watchlist · ")
        embed, view = await render_watchlist(interaction, int(self.key), name, self.page)
        await interaction.response.edit_message(embed=embed, view=view)


async def render_watchlist(
    interaction: Interaction, user_id: int, name: str, page_number: int
) -> tuple[discord.Embed, discord.ui.View | None]:
    db = interaction.client.db
    page = await watch.watchlist_page(db, guild_id_of(interaction), user_id, page_number)
    films = await get_films(db, [e.film_id for e in page.entries])
    view = page_view(lambda p, label, off: WatchlistPageButton(user_id, p, label, off), page.page, page.pages)
    return watchlist_embed(name, page, films), view


class Watchlist(commands.Cog):
    """Watchlists and what you've seen"""

    watchlist = app_commands.Group(name="watchlist", description="The films you want to see.", guild_only=True)
    watched = app_commands.Group(name="watched", description="Mark films as seen, or not.", guild_only=True)

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot

    @watchlist.command(name="add", description="Put a film on your watchlist.")
    @app_commands.describe(film="The film (pick from the list as you type)")
    @app_commands.autocomplete(film=film_choices)
    async def watchlist_add(self, interaction: Interaction, film: str) -> None:
        guild_id = guild_id_of(interaction)
        chosen = await self.bot.resolve_film(interaction.guild_id, film)
        added = await watch.add_to_watchlist(self.bot.db, self.bot.clock, guild_id, interaction.user.id, chosen.id)
        size = await watch.watchlist_size(self.bot.db, guild_id, interaction.user.id)
        if added:
            await send_ephemeral(interaction, f"Added **{chosen.label}** to your watchlist ({films_count(size)}).")
        else:
            await send_ephemeral(interaction, f"**{chosen.label}** is already on your watchlist ({films_count(size)}).")

    @watchlist.command(name="remove", description="Take a film off your watchlist.")
    @app_commands.describe(film="The film to take off")
    @app_commands.autocomplete(film=film_choices)
    async def watchlist_remove(self, interaction: Interaction, film: str) -> None:
        guild_id = guild_id_of(interaction)
        chosen = await self.bot.resolve_film(interaction.guild_id, film)
        if await watch.remove_from_watchlist(self.bot.db, guild_id, interaction.user.id, chosen.id):
            await send_ephemeral(interaction, f"Took **{chosen.label}** off your watchlist.")
        else:
            await send_ephemeral(interaction, f"**{chosen.label}** was not on your watchlist.")

    @watchlist.command(name="show", description="Show a watchlist (yours, or a member's).")
    @app_commands.describe(member="Whose watchlist (yours if empty)")
    async def watchlist_show(self, interaction: Interaction, member: discord.User | None = None) -> None:
        who = member or interaction.user
        embed, view = await render_watchlist(interaction, who.id, who.display_name, 0)
        if view is None:
            await interaction.response.send_message(embed=embed)
        else:
            await interaction.response.send_message(embed=embed, view=view)

    @watched.command(name="add", description="Mark a film as seen by you (or, moderators, by the club).")
    @app_commands.describe(
        film="The film you have seen",
        club="Moderators: mark it as screened by the club (e.g. a night that was not recorded)",
    )
    @app_commands.autocomplete(film=film_choices)
    async def watched_add(self, interaction: Interaction, film: str, club: bool = False) -> None:
        guild_id = guild_id_of(interaction)
        if club:
            await ensure_moderator(interaction)
        chosen = await self.bot.resolve_film(interaction.guild_id, film)
        if club:
            added = await watch.mark_club_watched(self.bot.db, self.bot.clock, guild_id, chosen.id)
            message = "Marked **{}** as watched by the club." if added else "The club has already watched **{}**."
            await send_ephemeral(interaction, message.format(chosen.label))
            return
        change = await watch.mark_seen(self.bot.db, self.bot.clock, guild_id, interaction.user.id, chosen.id)
        text = (
            f"Marked **{chosen.label}** as seen." if change.changed else f"You had already marked **{chosen.label}**."
        )
        if change.unwatchlisted:
            text += " Taken off your watchlist."
        await send_ephemeral(interaction, text)

    @watched.command(
        name="remove", description="Unmark a film as seen (moderators: for the club, e.g. a cancelled night)."
    )
    @app_commands.describe(
        film="The film to unmark",
        club="Moderators: remove it from the club's screenings (e.g. the night was cancelled)",
    )
    @app_commands.autocomplete(film=film_choices)
    async def watched_remove(self, interaction: Interaction, film: str, club: bool = False) -> None:
        guild_id = guild_id_of(interaction)
        if club:
            await ensure_moderator(interaction)
        chosen = await self.bot.resolve_film(interaction.guild_id, film)
        if club:
            removed = await watch.unmark_club_watched(self.bot.db, guild_id, chosen.id)
            message = "Removed **{}** from the club's screenings." if removed else "The club had not watched **{}**."
            await send_ephemeral(interaction, message.format(chosen.label))
            return
        change = await watch.unmark_seen(self.bot.db, guild_id, interaction.user.id, chosen.id)
        text = f"Unmarked **{chosen.label}**." if change.changed else f"**{chosen.label}** was not marked as seen."
        if change.still_seen:
            text += " Your review of it still counts as seen; `/review delete` removes it."
        await send_ephemeral(interaction, text)


async def setup(bot: FilmClubBot) -> None:
    await bot.add_cog(Watchlist(bot))
    bot.add_dynamic_items(WatchlistPageButton)
