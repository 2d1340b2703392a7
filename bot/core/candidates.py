"""The films on a new poll's ballot: the ones a moderator named, then a theme's or a source's.

This module sits above both features it reads from: it may import :mod:`bot.core.polls` (the candidate limits) and
:mod:`bot.core.picks` (this week's picks), while :mod:`bot.core.polls` imports neither it nor the picks. Weekly picks
open their own poll through :func:`bot.core.polls.create_poll`, so the dependency between the two runs one way.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from enum import StrEnum

from bot.core import films as films_core
from bot.core import nominations as nominations_core
from bot.core import picks as picks_core
from bot.core.collections import collection_id_of, list_collections, themes_for
from bot.core.errors import UserError
from bot.core.films import resolve_film, resolve_theme
from bot.core.guilds import get_settings
from bot.core.polls import DEFAULT_SOURCE_COUNT, MAX_CANDIDATES, MIN_CANDIDATES, check_candidates
from bot.core.search import ClubTitles
from bot.core.watch import club_watched, watchlist_counts
from bot.db import polls as polls_db
from bot.db.database import Database

#: What separates the films typed into one option: "Alien; Heat", one a line, or "Alien | Heat".
FILM_SEPARATORS = re.compile(r"[;\n|]")


class Source(StrEnum):
    WATCHLIST = "watchlist"  # the club's most wanted, unwatched films
    PICKS = "picks"  # this week's picks
    NOMINATIONS = "nominations"  # approved nominations (pending ones too when approval is off)


def split_films(text: str | None) -> list[str]:
    """The films typed into one option, each as typed (blank parts dropped)."""
    return [part for part in FILM_SEPARATORS.split(text or "") if part.strip()]


async def resolve_candidates(
    db: Database,
    titles: ClubTitles,
    guild_id: int,
    *,
    named: Sequence[str],
    theme: str | None = None,
    source: str | None = None,
    count: int = DEFAULT_SOURCE_COUNT,
    seed: str = "",
) -> list[int]:
    """Resolve the films a moderator named (each must be in the catalog, once), then add a theme's or a source's.

    Raises :class:`UserError` with the member-facing reason when the ballot would be empty, too short or too long.
    """
    if not MIN_CANDIDATES <= count <= MAX_CANDIDATES:
        raise UserError(f"Take between {MIN_CANDIDATES} and {MAX_CANDIDATES} films from a theme or a source.")
    ids: list[int] = []
    for text in named:
        film = await resolve_film(db, titles, text, guild_id=guild_id)
        if film.id in ids:
            raise UserError(f"**{film.label}** is on the list twice; each film can be a candidate once.")
        ids.append(film.id)
    extra: list[int] = []
    if theme is not None:
        # The curated themes and this server's collections, as /recommend and /theme offer them.
        chosen = resolve_theme(await themes_for(db, guild_id), theme)
        extra += await theme_candidates(db, guild_id, chosen.slug, count, seed=seed)
    if source == Source.WATCHLIST:
        extra += await watchlist_candidates(db, guild_id, count)
    elif source == Source.PICKS:
        extra += await picks_candidates(db, guild_id)
    elif source == Source.NOMINATIONS:
        extra += await nomination_candidates(db, guild_id, count)
    elif source is not None:
        raise UserError("The source is the club's watchlists, this week's picks or the nominations.")
    ids += [film for film in dict.fromkeys(extra) if film not in ids]
    if not ids:
        raise UserError("Name at least two films (film1, film2 … or `films`), or choose a theme or a source.")
    check_candidates(ids)
    return ids


async def watchlist_candidates(db: Database, guild_id: int, count: int = DEFAULT_SOURCE_COUNT) -> list[int]:
    """The films most members have on their watchlists, that the club has not screened yet."""
    films = await polls_db.club_watchlist(db, guild_id, count)
    if len(films) < MIN_CANDIDATES:
        raise UserError(
            "The club's watchlists don't hold enough unwatched films for a poll yet; name the films instead."
        )
    return films


async def theme_candidates(
    db: Database, guild_id: int, slug: str, count: int = DEFAULT_SOURCE_COUNT, *, seed: str = ""
) -> list[int]:
    """``count`` films of a theme (or of a server collection, slug ``@<id>``) the club has not screened: the most
    watchlisted first, the rest drawn at random."""
    in_theme = await theme_films(db, guild_id, slug)
    watched = await club_watched(db, guild_id)
    wanted = await watchlist_counts(db, guild_id)
    unseen = [film for film in in_theme if film not in watched] or in_theme
    rng = random.Random(f"{guild_id}:{slug}:{seed}")
    shuffled = rng.sample(unseen, len(unseen))
    shuffled.sort(key=lambda film: -wanted.get(film, 0))
    chosen = shuffled[:count]
    if len(chosen) < MIN_CANDIDATES:
        raise UserError("That theme doesn't have enough films for a poll.")
    return sorted(chosen, key=in_theme.index)


async def theme_films(db: Database, guild_id: int, slug: str) -> list[int]:
    """The active films of a curated theme in catalog order, or of this server's collection in the order added."""
    collection_id = collection_id_of(slug)
    if collection_id is None:
        return await films_core.theme_film_ids(db, slug)
    for collection in await list_collections(db, guild_id):
        if collection.id == collection_id:
            return list(collection.film_ids)
    return []


async def picks_candidates(db: Database, guild_id: int) -> list[int]:
    """This week's picks (from the weekly-picks feature)."""
    films = [int(film) for film in dict.fromkeys(await picks_core.latest_picks(db, guild_id))]
    if len(films) < MIN_CANDIDATES:
        raise UserError("There are no weekly picks to vote on yet; name the films instead.")
    return films[:MAX_CANDIDATES]


async def nomination_candidates(db: Database, guild_id: int, count: int = DEFAULT_SOURCE_COUNT) -> list[int]:
    """The nominated films a poll may take (approved; pending too when the server does not ask for approval), the
    longest-waiting first."""
    settings = await get_settings(db, guild_id)
    films = await nominations_core.nominated_films(db, settings, count)
    if len(films) < MIN_CANDIDATES:
        waiting = " approved" if settings.nominations_approval else ""
        raise UserError(
            f"There are not enough{waiting} nominations for a poll yet (at least {MIN_CANDIDATES}); "
            "`/nominate` a film or name the films instead."
        )
    return films
