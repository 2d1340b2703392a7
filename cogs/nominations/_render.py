"""How nominations are shown: the card a nominator reads, one line per nomination in the list."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.core import nominations, server_films
from bot.core.details import DetailsAnswer, FilmDetails
from bot.core.films import Film
from bot.core.guilds import GuildSettings
from bot.core.nominations import Nominated, Nomination, Status
from bot.ui.autocomplete import SERVER_FILM_MARK
from bot.ui.embeds import chunk_lines, club_embed, truncate
from bot.ui.films import add_attribution, film_card, film_entry
from bot.ui.paging import page_footer

if TYPE_CHECKING:
    from bot.client import FilmClubBot

STATUS_TEXT = {
    Status.PENDING: "⏳ pending",
    Status.APPROVED: "✅ approved",
    Status.REJECTED: "✖ rejected",
    Status.BANNED: "⛔ banned",
    Status.CHOSEN: "🎬 chosen",
}


def status_text(status: str) -> str:
    try:
        return STATUS_TEXT[Status(status)]
    except ValueError:
        return status


def nominated_embed(
    bot: FilmClubBot, made: Nominated, settings: GuildSettings, answer: DetailsAnswer | None, *, note: str = ""
) -> discord.Embed:
    """What the member who nominated reads: what became of the nomination, then the film's card (poster, links)."""
    film = made.film
    lines = []
    if made.duplicate:
        lines.append(f"That film is already in {server_films.describe_duplicate(film)}, so that is the one nominated.")
    elif made.created_film:
        lines.append("It is now one of this server's films: members can review it, add it to watchlists, vote on it.")
    if made.nomination.status == Status.PENDING:
        lines.append("It waits for a moderator's approval before it can go on a poll.")
    else:
        lines.append("It can go on the next poll (`/poll create source:nominations`).")
    if made.reopened:
        lines.append("It had been nominated before; this nomination is yours now.")
    if note:
        lines.append(note)
    details = answer.details if answer is not None else None
    embed = film_card(film, answer, poster_url=bot.details.poster_url(details), note="\n".join(lines))
    embed.title = truncate(f"Nominated: {film.label}", 256)
    limit = settings.nominations_limit
    footer = f"Nomination #{made.nomination.id} · members may have {limit} open at a time"
    embed.set_footer(text=" · ".join([footer, embed.footer.text]) if embed.footer.text else footer)
    return embed


async def known_details(bot: FilmClubBot, film: Film) -> DetailsAnswer | None:
    """What the cache knows of a film (no network: the answer must not wait), or None."""
    if film.tmdb_id is None:
        return None
    found = await bot.details.cached([film.tmdb_id])
    return DetailsAnswer(found[film.tmdb_id]) if film.tmdb_id in found else None


def nomination_line(entry: Nomination, films: dict[int, Film], details: dict[int, FilmDetails]) -> str:
    """ "`#12` **[Alien (1979)](…)** · IMDb · TMDB · ✅ approved · by @Alice · 2 days ago" """
    film = films.get(entry.film_id)
    when = discord.utils.format_dt(entry.created_at, "R")
    about = f"{status_text(entry.status)} · by <@{entry.member_id}> · {when}"
    if film is None:
        return f"`#{entry.id}` Film #{entry.film_id} · {about}"
    mark = SERVER_FILM_MARK.removeprefix(" · ") if film.is_server_film else ""
    known = details.get(film.tmdb_id) if film.tmdb_id is not None else None
    return f"`#{entry.id}` {film_entry(film, known, extra=mark)} · {about}"


def list_embed(page: nominations.NominationPage, shown: str, details: dict[int, FilmDetails]) -> discord.Embed:
    heading = "Nominations" if shown == "all" else f"Nominations · {shown}"
    if not page.entries:
        return club_embed(heading, "None yet. Members propose films with `/nominate`.")
    lines = [nomination_line(entry, page.films, details) for entry in page.entries]
    embed = club_embed(heading, chunk_lines(lines, 4000)[0])
    embed.set_footer(text=page_footer(page.page, page.pages, f"{page.count} nomination{'s' * (page.count != 1)}"))
    if details:
        add_attribution(embed)
    return embed
