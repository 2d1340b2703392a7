"""Club statistics (/club stats) and member profiles (/profile).

Top rated ranks by the club rating (:mod:`bot.core.score`, the same as recommendations and weekly picks), so that
one enthusiastic review cannot top the chart. Equal ratings go to the film with more reviews, then to the title in
alphabetical order. "Most reviewed" ties go to the higher average, then the title.

A member's favourite themes are ranked by the same shrunk average, within their own ratings: each theme's mean of
the member's stars, pulled towards the member's overall mean by :data:`THEME_PRIOR_FILMS` imaginary films.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import watch
from bot.core.films import Film, get_films
from bot.core.reviews import Review, member_reviews
from bot.core.score import PRIOR_HALF_STARS, PRIOR_REVIEWS, club_rating, shrunk_average
from bot.db import stats as sql
from bot.db.database import Database

THEME_PRIOR_FILMS = 2
TOP = 5
RECENT = 5


@dataclass(frozen=True)
class RankedFilm:
    film: Film
    reviews: int
    average: float
    score: float  # the club rating (bot.core.score), which orders "top rated"; members see ``average``


@dataclass(frozen=True)
class ActiveMember:
    user_id: int
    reviews: int
    average: float


@dataclass(frozen=True)
class ThemeCount:
    slug: str
    title: str
    films: int


@dataclass(frozen=True)
class ClubStats:
    reviews: int
    reviewers: int
    films_reviewed: int
    average: float | None
    top_rated: tuple[RankedFilm, ...]
    most_reviewed: tuple[RankedFilm, ...]
    most_active: tuple[ActiveMember, ...]
    screenings: int
    themes_watched: tuple[ThemeCount, ...]


@dataclass(frozen=True)
class FavouriteTheme:
    slug: str
    title: str
    films: int
    average: float
    score: float


@dataclass(frozen=True)
class Profile:
    user_id: int
    reviews: int
    average: float | None
    favourite_themes: tuple[FavouriteTheme, ...]
    recent: tuple[Review, ...]
    watchlist: int
    seen: int


async def _leaders(db: Database, query: str, params: dict[str, int], limit: int) -> list[tuple[int, int, int]]:
    """The first ``limit`` films by ``query``'s order, plus every film tied with the last of them: titles break
    those ties, and titles are only read for the few films shown."""
    rows = [(int(f), int(n), int(h)) for f, n, h in await db.fetchall(query, {**params, "limit": limit})]
    if len(rows) == limit:
        _film, reviews, half = rows[-1]
        tied = await db.fetchall(sql.TIED, (params["guild_id"], reviews, half))
        rows.extend((int(f), int(n), int(h)) for f, n, h in tied if int(f) not in {r[0] for r in rows})
    return rows


async def club_stats(db: Database, guild_id: int, limit: int = TOP) -> ClubStats:
    """The club's numbers: top rated (by club rating), most reviewed, most active members and the themes it screened.

    Everything is read from the running totals with ORDER BY ... LIMIT, so the cost grows with the number of films
    reviewed, not of reviews, and only the films shown are loaded."""
    totals = await db.fetchone(sql.CLUB_TOTALS, {"guild_id": guild_id})
    films_reviewed, reviews, half_total, reviewers, screenings = (int(v) for v in totals) if totals else (0,) * 5
    average = half_total / 2 / reviews if reviews else None
    top_rows: list[tuple[int, int, int]] = []
    count_rows: list[tuple[int, int, int]] = []
    if reviews:
        params = {"guild_id": guild_id, "prior_reviews": PRIOR_REVIEWS, "prior_half_stars": PRIOR_HALF_STARS}
        top_rows = await _leaders(db, sql.TOP_RATED, params, limit)
        count_rows = await _leaders(db, sql.MOST_REVIEWED, {"guild_id": guild_id}, limit)
    films = await get_films(db, {row[0] for row in top_rows} | {row[0] for row in count_rows})

    def ranked(rows: list[tuple[int, int, int]]) -> list[RankedFilm]:
        return [RankedFilm(films[f], n, h / 2 / n, club_rating(h / 2, n)) for f, n, h in rows if f in films]

    top = sorted(ranked(top_rows), key=lambda r: (-r.score, -r.reviews, r.film.title.casefold(), r.film.year))
    most = sorted(ranked(count_rows), key=lambda r: (-r.reviews, -r.average, r.film.title.casefold(), r.film.year))
    active_rows = await db.fetchall(sql.MOST_ACTIVE, (guild_id, limit))
    themes = await db.fetchall(sql.THEMES_WATCHED, (guild_id, limit))
    return ClubStats(
        reviews=reviews,
        reviewers=reviewers,
        films_reviewed=films_reviewed,
        average=average,
        top_rated=tuple(top[:limit]),
        most_reviewed=tuple(most[:limit]),
        most_active=tuple(ActiveMember(int(u), int(n), int(h) / 2 / int(n)) for u, n, h in active_rows),
        screenings=screenings,
        themes_watched=tuple(ThemeCount(slug, title, int(n)) for slug, title, n in themes),
    )


async def member_profile(db: Database, guild_id: int, user_id: int) -> Profile:
    """A member's reviews, average given, favourite themes, recent reviews, watchlist size and films seen."""
    page = await member_reviews(db, guild_id, user_id, page=0, per_page=RECENT)
    favourites: list[FavouriteTheme] = []
    if page.average is not None:
        for slug, title, n, half in await db.fetchall(sql.MEMBER_THEMES, (guild_id, user_id)):
            mean = int(half) / 2 / int(n)
            score = shrunk_average(int(half) / 2, int(n), page.average, THEME_PRIOR_FILMS)
            favourites.append(FavouriteTheme(slug, title, int(n), mean, score))
        favourites.sort(key=lambda t: (-round(t.score, 9), -t.films, t.title.casefold()))
    return Profile(
        user_id=user_id,
        reviews=page.count,
        average=page.average,
        favourite_themes=tuple(favourites[:3]),
        recent=page.reviews,
        watchlist=await watch.watchlist_size(db, guild_id, user_id),
        seen=await watch.seen_count(db, guild_id, user_id),
    )
