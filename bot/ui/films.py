"""How a film is shown wherever it appears (``/film``, the nominations list, polls, weekly picks): its poster, its
pages elsewhere (Letterboxd, IMDb, TMDB), where to watch it, and the attribution TMDb's terms ask for.

Everything here takes what is known and copes with what is not: a film without a TMDb or IMDb id has no links, a film
whose details were never fetched has no poster, and when the provider could not answer in time the card says so
instead of waiting. Nothing here does I/O: the caller asks ``bot.details`` (within its time budget) and hands over
the answer and the poster's URL.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

import discord

from bot.core.details import (
    TMDB_ATTRIBUTION,
    WATCH_ATTRIBUTION,
    DetailsAnswer,
    FilmDetails,
    FilmLinks,
    WatchProviders,
    film_links,
)
from bot.core.films import Film
from bot.ui.embeds import FIELD_VALUE_LIMIT, FOOTER_LIMIT, add_field, club_embed, literal, truncate

#: What a card says when the provider was asked and could not answer within the command's time budget.
DETAILS_UNAVAILABLE = "⚠️ Film details (poster, links, where to watch) could not be fetched right now; try again later."

#: ... and when it shows the details it fetched before, which may have changed since.
DETAILS_STALE = "⚠️ Film details could not be refreshed right now; these are the last ones fetched."

#: The hosts a film's own Letterboxd address may point at (it can come from a member's import file): anything else
#: is not linked, and the film's TMDb or IMDb redirect on letterboxd.com is used instead.
LETTERBOXD_HOSTS = frozenset({"letterboxd.com", "www.letterboxd.com", "boxd.it"})

#: When a command's answer must be sent, counted from the interaction's creation: Discord allows three seconds,
#: and the rest of the command (reading the club's facts, sending) needs some of them.
ANSWER_BY = 2.4
#: The most a command waits for the provider, however early it starts, and the least it tries for.
DETAILS_WAIT = (0.2, 2.0)

#: How many providers of each kind (stream, rent, buy) are named before "and N more".
PROVIDERS_SHOWN = 6


def answer_budget(created_at: datetime, now: datetime) -> float:
    """Seconds a command may wait for the film-details provider: what is left until :data:`ANSWER_BY` after the
    interaction was created, within :data:`DETAILS_WAIT`."""
    left = ANSWER_BY - max((now - created_at).total_seconds(), 0.0)
    low, high = DETAILS_WAIT
    return min(max(left, low), high)


def letterboxd_address(uri: str | None) -> str | None:
    """``uri`` when it is an https address on Letterboxd (a page or a boxd.it short link), else None."""
    if not uri:
        return None
    try:
        parts = urlsplit(uri.strip())
    except ValueError:
        return None
    if parts.scheme != "https" or (parts.hostname or "") not in LETTERBOXD_HOSTS or any(c in uri for c in "()<> \n"):
        return None
    return uri.strip()


def links_for(film: Film, details: FilmDetails | None = None) -> FilmLinks:
    """A film's pages elsewhere, from its own ids (and the provider's, for what the film lacks)."""
    return film_links(
        tmdb_id=film.tmdb_id or (details.tmdb_id if details is not None else None),
        imdb_id=film.imdb_id or (details.imdb_id if details is not None else None),
        letterboxd_uri=letterboxd_address(film.letterboxd_uri),
    )


def links_line(links: FilmLinks) -> str:
    """ "[Letterboxd](…) · [IMDb](…) · [TMDB](…)" for the links known; empty without any."""
    return " · ".join(f"[{site}]({url})" for site, url in links.as_list())


def linked_label(film: Film, details: FilmDetails | None = None) -> str:
    """ "**[Alien (1979)](https://letterboxd.com/…)**": the film's name, linked to its Letterboxd page when known."""
    links = links_for(film, details)
    if links.letterboxd is None:
        return f"**{literal(film.label)}**"
    return f"**[{literal(film.label)}]({links.letterboxd})**"


def film_entry(film: Film, details: FilmDetails | None = None, *, extra: str = "") -> str:
    """One film in a list (nominations, a poll, the picks): its linked name, ``extra`` (e.g. "117 min"), then its
    IMDb and TMDB links (Letterboxd is the name's own link)."""
    links = links_for(film, details)
    others = [f"[{site}]({url})" for site, url in links.as_list() if site != "Letterboxd"]
    parts = [linked_label(film, details), *([extra] if extra else []), *others]
    return " · ".join(parts)


def uses_details(details: Iterable[FilmDetails | None]) -> bool:
    """Whether anything the provider said is shown (then its attribution must be too)."""
    return any(item is not None for item in details)


def add_attribution(embed: discord.Embed, *, watch: bool = False) -> discord.Embed:
    """TMDb's attribution (and JustWatch's, when where to watch is shown) at the end of the embed's footer,
    keeping what the footer already says (a post's marker)."""
    notes = [TMDB_ATTRIBUTION] + ([WATCH_ATTRIBUTION] if watch else [])
    current = embed.footer.text or ""
    missing = [note for note in notes if note not in current]
    if missing:
        text = " · ".join([current, *missing]) if current else " · ".join(missing)
        embed.set_footer(text=truncate(text, FOOTER_LIMIT), icon_url=embed.footer.icon_url)
    return embed


def _providers(kind: str, names: tuple[str, ...]) -> str | None:
    if not names:
        return None
    shown = ", ".join(names[:PROVIDERS_SHOWN])
    more = len(names) - PROVIDERS_SHOWN
    return f"**{kind}:** {shown}" + (f" and {more} more" if more > 0 else "")


def watch_text(watch: WatchProviders) -> str:
    """Where to watch in one region, each kind on a line, the full list's link last."""
    lines = [
        line
        for line in (
            _providers("Stream", watch.stream),
            _providers("Rent", watch.rent),
            _providers("Buy", watch.buy),
        )
        if line
    ] or [f"Not streaming, for rent or for sale in {watch.region} as far as JustWatch knows."]
    if watch.link:
        lines.append(f"[Every option in {watch.region}]({watch.link})")
    return truncate("\n".join(lines), FIELD_VALUE_LIMIT)


def add_film_details(
    embed: discord.Embed,
    film: Film,
    answer: DetailsAnswer | None,
    *,
    poster_url: str | None = None,
    watch_region: str | None = None,
) -> discord.Embed:
    """The poster (thumbnail), links, genres, where to watch (in ``watch_region``) and attribution on a film's card;
    when the provider could not answer in time, a line saying so. ``answer`` None: no provider is configured."""
    details = answer.details if answer is not None else None
    if poster_url:
        embed.set_thumbnail(url=poster_url)
    if embed.description is None and details is not None and details.overview:
        embed.description = truncate(details.overview, 1000)
    links = links_line(links_for(film, details))
    if links:
        embed.url = links_for(film, details).letterboxd or embed.url
        add_field(embed, "Links", links)
    if details is not None and details.genres:
        add_field(embed, "Genres", ", ".join(details.genres), inline=True)
    watch = details.watch if details is not None else None
    if watch is not None and (watch_region is None or watch.region == watch_region):
        add_field(embed, f"Where to watch ({watch.region})", watch_text(watch))
    if answer is not None and answer.unavailable:
        add_field(embed, "Details", DETAILS_STALE if details is not None else DETAILS_UNAVAILABLE)
    if details is not None:
        add_attribution(embed, watch=watch is not None)
    return embed


def film_card(
    film: Film,
    answer: DetailsAnswer | None = None,
    *,
    poster_url: str | None = None,
    note: str | None = None,
) -> discord.Embed:
    """A film on its own (a nomination, a pick): its name (linked), what it is about, who made it and how long it
    runs (from the provider when the film lacks them), poster and links. ``note`` goes first (who nominated it ...)."""
    details = answer.details if answer is not None else None
    about = film.blurb or (details.overview if details is not None else "")
    description = "\n\n".join(part for part in (note, truncate(about, 600) if about else None) if part) or None
    embed = club_embed(film.label, description)
    directors = film.directors or (details.directors if details is not None else ())
    if directors:
        add_field(embed, "Directed by", ", ".join(directors), inline=True)
    runtime = details.runtime if details is not None else None
    length = f"{runtime} min" if not film.runtime and runtime else film.length
    add_field(embed, "Runtime", length, inline=True)
    return add_film_details(embed, film, answer, poster_url=poster_url)
