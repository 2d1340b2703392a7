"""Autocomplete callbacks shared by every command that takes a film or a theme."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.core.films import Theme, list_themes, search_themes
from bot.core.recommend import recommender_for
from bot.core.search import description_excerpt
from bot.ui.embeds import truncate

if TYPE_CHECKING:
    from bot.client import FilmClubBot

CHOICES_LIMIT = 25
CHOICE_NAME_LIMIT = 100
#: After a server film's name in a list of films: members see which films their server entered itself.
SERVER_FILM_MARK = " · this server's film"


async def film_choices(interaction: discord.Interaction[FilmClubBot], current: str) -> list[app_commands.Choice[str]]:
    """Up to 25 films for what the member typed, the server's own marked as such; the value is the film's slug,
    which commands re-validate."""
    titles = await interaction.client.titles_for(interaction.guild_id)
    matches = titles.search(current, limit=CHOICES_LIMIT)
    choices = []
    for match in matches:
        name = match.label if match.matched == match.entry.title else f"{match.label} — “{match.matched}”"
        mark = SERVER_FILM_MARK if match.entry.is_server_film else ""
        name = truncate(name, CHOICE_NAME_LIMIT - len(mark)) + mark
        choices.append(app_commands.Choice(name=name, value=match.entry.slug))
    return choices


async def theme_choices(interaction: discord.Interaction[FilmClubBot], current: str) -> list[app_commands.Choice[str]]:
    themes = search_themes(await list_themes(interaction.client.db), current, limit=CHOICES_LIMIT)
    return [
        app_commands.Choice(name=truncate(theme_choice_name(t, current), CHOICE_NAME_LIMIT), value=t.slug)
        for t in themes
    ]


async def theme_or_collection_choices(
    interaction: discord.Interaction[FilmClubBot], current: str
) -> list[app_commands.Choice[str]]:
    """Curated themes and this server's collections, closest first; the value is the theme's slug (``@id`` for a
    collection), which the recommending commands re-validate."""
    if interaction.guild_id is None:
        return []
    engine = recommender_for(interaction.client.db)
    themes = await engine.search_themes(interaction.guild_id, current, limit=CHOICES_LIMIT)
    return [
        app_commands.Choice(name=truncate(theme_choice_name(t, current), CHOICE_NAME_LIMIT), value=t.slug)
        for t in themes
    ]


def theme_choice_name(theme: Theme, typed: str = "") -> str:
    """ "On the Road (21 films)"; when only the description matched what was typed, the words that did:
    "The Unsung (23 films) · “Backing singers, session players…”"."""
    films = f"{theme.film_count} film{'s' if theme.film_count != 1 else ''}"
    name = f"{theme.title} (server collection · {films})" if theme.is_collection else f"{theme.title} ({films})"
    excerpt = description_excerpt(typed, theme) if typed else None
    return f"{name} · “{excerpt}”" if excerpt else name
