"""/theme list and /theme show (the catalog's themes and this server's collections), and /collection for
moderators: a server's own themes, which /recommend, /surprise, /forme and theme autocomplete use like curated ones.

Paging buttons are ``DynamicItem`` templates (``filmclub:theme:...``) that re-read their page, so they keep working
after a restart and always show current data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import collections
from bot.core.collections import Collection
from bot.core.films import search_themes
from bot.core.recommend import PAGE_SIZE_THEME, ThemeListPage, ThemePage, recommender_for, theme_key
from bot.ui.autocomplete import (
    CHOICE_NAME_LIMIT,
    CHOICES_LIMIT,
    film_choices,
    theme_choice_name,
    theme_or_collection_choices,
)
from bot.ui.checks import ensure_moderator, guild_id_of
from bot.ui.embeds import chunk_lines, club_embed, truncate
from bot.ui.paging import PageButton, page_footer, page_view
from bot.ui.replies import send_ephemeral

if TYPE_CHECKING:
    from bot.client import FilmClubBot

Interaction = discord.Interaction["FilmClubBot"]


def _films(count: int) -> str:
    return f"{count} film{'s' if count != 1 else ''}"


# -- rendering -----------------------------------------------------------------------------------------------------


def theme_list_embed(page: ThemeListPage) -> discord.Embed:
    embed = club_embed("Themes", "Use one with `/recommend theme:`, `/theme show` or `/surprise`.")
    lines = []
    for theme in page.themes:
        where = " · server collection" if theme.is_collection else ""
        lines.append(f"**{theme.title}** — {_films(theme.film_count)}{where}")
    embed.description = "\n".join([embed.description or "", "", *chunk_lines(lines, 3800)[:1]])
    embed.set_footer(text=page_footer(page.page, page.pages, f"{page.total} themes"))
    return embed


def theme_page_embed(page: ThemePage) -> discord.Embed:
    theme = page.theme
    title = f"{theme.title} (server collection)" if theme.is_collection else theme.title
    body = [theme.description, ""]
    if page.lines:
        first = page.page * PAGE_SIZE_THEME
        body += [f"{number}. {line}" for number, line in enumerate(page.lines, start=first + 1)]
    else:
        body.append(
            "No films yet." + (" A moderator can add some with `/collection add`." if theme.is_collection else "")
        )
    embed = club_embed(title, "\n".join(chunk_lines(body, 4000)[:1]))
    embed.set_footer(text=page_footer(page.page, page.pages, _films(page.total)))
    return embed


async def render_theme(interaction: Interaction, key: str, page: int) -> tuple[discord.Embed, discord.ui.View | None]:
    engine = recommender_for(interaction.client.db)
    guild_id = guild_id_of(interaction)
    theme = await engine.theme_from_key(guild_id, key)
    shown = await engine.theme_page(guild_id, theme, page)
    view = page_view(lambda p, label, off: ThemePageButton(key, p, label, off), shown.page, shown.pages)
    return theme_page_embed(shown), view


async def render_theme_list(interaction: Interaction, page: int) -> tuple[discord.Embed, discord.ui.View | None]:
    shown = await recommender_for(interaction.client.db).theme_list(guild_id_of(interaction), page)
    view = page_view(lambda p, label, off: ThemeListButton(None, p, label, off), shown.page, shown.pages)
    return theme_list_embed(shown), view


class ThemePageButton(PageButton, prefix="filmclub:theme:page", key="[^:]+"):
    """Previous/Next on /theme show (the key is the theme's slug, or a collection's key)."""

    async def answer(self, interaction: Interaction) -> None:
        embed, view = await render_theme(interaction, self.key, self.page)
        await interaction.response.edit_message(embed=embed, view=view)


class ThemeListButton(PageButton, prefix="filmclub:theme:list", key=None):
    """Previous/Next on /theme list."""

    async def answer(self, interaction: Interaction) -> None:
        embed, view = await render_theme_list(interaction, self.page)
        await interaction.response.edit_message(embed=embed, view=view)


# -- autocomplete ------------------------------------------------------------------------------------------------


async def collection_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """This server's collections only (for /collection add, remove and delete)."""
    if interaction.guild_id is None:
        return []
    themes = [t for t in await recommender_for(interaction.client.db).themes(interaction.guild_id) if t.is_collection]
    return [
        app_commands.Choice(name=truncate(theme_choice_name(t), CHOICE_NAME_LIMIT), value=t.slug)
        for t in search_themes(themes, current, limit=CHOICES_LIMIT)
    ]


# -- the cog -------------------------------------------------------------------------------------------------------


class Themes(commands.Cog):
    """Themes and server collections"""

    theme = app_commands.Group(
        name="theme", description="The catalog's themes and this server's collections.", guild_only=True
    )
    collection = app_commands.Group(
        name="collection",
        description="Moderators: this server's own themes, used like curated ones.",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: FilmClubBot) -> None:
        self.bot = bot

    @theme.command(name="list", description="Every theme, with how many films each holds.")
    async def theme_list(self, interaction: Interaction) -> None:
        embed, view = await render_theme_list(interaction, 0)
        await send_with_view(interaction, embed, view)

    @theme.command(name="show", description="A theme's description and its films, page by page.")
    @app_commands.describe(theme="A theme or server collection (pick from the list as you type)")
    @app_commands.autocomplete(theme=theme_or_collection_choices)
    async def theme_show(self, interaction: Interaction, theme: str) -> None:
        chosen = await recommender_for(interaction.client.db).resolve_theme(guild_id_of(interaction), theme)
        embed, view = await render_theme(interaction, theme_key(chosen), 0)
        await send_with_view(interaction, embed, view)

    async def _collection(self, interaction: Interaction, text: str) -> Collection:
        found = await collections.list_collections(self.bot.db, guild_id_of(interaction))
        return collections.resolve_collection(found, text)

    @collection.command(name="create", description="Moderators: start a new collection (a theme for this server).")
    @app_commands.describe(name="What to call it (2-80 characters)", description="A sentence or two about it")
    async def collection_create(
        self,
        interaction: Interaction,
        name: app_commands.Range[str, 1, 100],
        description: app_commands.Range[str, 1, 1000] | None = None,
    ) -> None:
        await ensure_moderator(interaction)
        created = await collections.create_collection(
            self.bot.db,
            self.bot.clock,
            guild_id=guild_id_of(interaction),
            user_id=interaction.user.id,
            name=name,
            description=description,
        )
        await send_ephemeral(
            interaction, f"Created the collection **{created.title}**. Add films with `/collection add`."
        )

    @collection.command(name="add", description="Moderators: add a film to one of this server's collections.")
    @app_commands.describe(collection="The collection", film="The film to add (pick from the list as you type)")
    @app_commands.autocomplete(collection=collection_choices, film=film_choices)
    async def collection_add(self, interaction: Interaction, collection: str, film: str) -> None:
        await ensure_moderator(interaction)
        chosen = await self._collection(interaction, collection)
        picked = await self.bot.resolve_film(interaction.guild_id, film)
        added = await collections.add_film(
            self.bot.db, self.bot.clock, collection=chosen, film_id=picked.id, user_id=interaction.user.id
        )
        size = len(chosen.film_ids) + int(added)
        if added:
            text = f"Added **{picked.label}** to **{chosen.title}** ({_films(size)})."
        else:
            text = f"**{picked.label}** is already in **{chosen.title}**."
        await send_ephemeral(interaction, text)

    @collection.command(name="remove", description="Moderators: take a film out of one of this server's collections.")
    @app_commands.describe(collection="The collection", film="The film to take out")
    @app_commands.autocomplete(collection=collection_choices, film=film_choices)
    async def collection_remove(self, interaction: Interaction, collection: str, film: str) -> None:
        await ensure_moderator(interaction)
        chosen = await self._collection(interaction, collection)
        picked = await self.bot.resolve_film(interaction.guild_id, film)
        if await collections.remove_film(self.bot.db, collection=chosen, film_id=picked.id):
            text = f"Took **{picked.label}** out of **{chosen.title}** ({_films(len(chosen.film_ids) - 1)} left)."
        else:
            text = f"**{picked.label}** was not in **{chosen.title}**."
        await send_ephemeral(interaction, text)

    @collection.command(name="delete", description="Moderators: delete one of this server's collections.")
    @app_commands.describe(collection="The collection to delete (its films stay in the catalog)")
    @app_commands.autocomplete(collection=collection_choices)
    async def collection_delete(self, interaction: Interaction, collection: str) -> None:
        await ensure_moderator(interaction)
        chosen = await self._collection(interaction, collection)
        await collections.delete_collection(self.bot.db, collection=chosen)
        await send_ephemeral(
            interaction, f"Deleted the collection **{chosen.title}** ({_films(len(chosen.film_ids))} were in it)."
        )


async def send_with_view(interaction: Interaction, embed: discord.Embed, view: discord.ui.View | None) -> None:
    if view is None:
        await interaction.response.send_message(embed=embed)
    else:
        await interaction.response.send_message(embed=embed, view=view)


async def setup(bot: FilmClubBot) -> None:
    await bot.add_cog(Themes(bot))
    bot.add_dynamic_items(ThemePageButton, ThemeListButton)
