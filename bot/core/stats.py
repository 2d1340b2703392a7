"""Club statistics (/club stats) and member profiles (/profile).

Top rated uses a Bayesian average, so that one enthusiastic review cannot top the chart: every film starts with
``C`` imaginary reviews at the club's mean rating ``m``, and its score is ``(C·m + sum of its stars) / (C + n)``.
``C`` is the median number of reviews per reviewed film (rounded), and at least :data:`MIN_PRIOR_REVIEWS`: a film
needs about as many reviews as a typical film before its own average dominates. Ties go to the film with more
reviews, then to the title in alphabetical order. "Most reviewed" ties go to the higher average, then the title.

A member's favourite themes are ranked the same way, within their own ratings: each theme's mean of the member's
stars, pulled towards the member's overall mean by :data:`THEME_PRIOR_FILMS` imaginary films.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import watch
from bot.core.films import Film, get_films
from bot.core.reviews import Review, member_reviews
from bot.db import stats as sql
from bot.db.database import Database

MIN_PRIOR_REVIEWS = 3
THEME_PRIOR_FILMS = 2
TOP = 5
RECENT = 5


@dataclass(frozen=True)
class RankedFilm:
    film: Film
    reviews: int
    average: float
    score: float  # the Bayesian average (equal to ``average`` in "most reviewed")


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
    prior_reviews: int  # C in the Bayesian average
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


def bayesian(total_stars: float, count: int, prior_mean: float, prior_count: float) -> float:
    """The average of ``count`` ratings summing to ``total_stars``, after ``prior_count`` ratings of ``prior_mean``."""
    return (prior_count * prior_mean + total_stars) / (prior_count + count)


async def _median_reviews(db: Database, guild_id: int, films: int) -> float:
    """The median number of reviews per reviewed film (read along the index, not by loading every film)."""
    even = films % 2 == 0
    rows = await db.fetchall(sql.MIDDLE_BY_COUNT, (guild_id, 2 if even else 1, (films - 1) // 2))
    return sum(int(row[0]) for row in rows) / len(rows)


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
    """The club's numbers: top rated (Bayesian), most reviewed, most active members and the themes it screened.

    Everything is read from the running totals with ORDER BY ... LIMIT, so the cost grows with the number of films
    reviewed, not of reviews, and only the films shown are loaded."""
    totals = await db.fetchone(sql.CLUB_TOTALS, {"guild_id": guild_id})
    films_reviewed, reviews, half_total, reviewers, screenings = (int(v) for v in totals) if totals else (0,) * 5
    average = half_total / 2 / reviews if reviews else None
    prior = max(MIN_PRIOR_REVIEWS, round(await _median_reviews(db, guild_id, films_reviewed))) if reviews else 0
    top_rows: list[tuple[int, int, int]] = []
    count_rows: list[tuple[int, int, int]] = []
    if reviews:
        params = {"guild_id": guild_id, "c": prior, "h": half_total, "n": reviews}
        top_rows = await _leaders(db, sql.TOP_RATED, params, limit)
        count_rows = await _leaders(db, sql.MOST_REVIEWED, {"guild_id": guild_id}, limit)
    films = await get_films(db, {row[0] for row in top_rows} | {row[0] for row in count_rows})

    def ranked(rows: list[tuple[int, int, int]]) -> list[RankedFilm]:
        return [
            RankedFilm(films[f], n, h / 2 / n, (prior * half_total + reviews * h) / (2 * reviews * (prior + n)))
            for f, n, h in rows
            if f in films
        ]

    top = sorted(ranked(top_rows), key=lambda r: (-r.score, -r.reviews, r.film.title.casefold(), r.film.year))
    most = sorted(ranked(count_rows), key=lambda r: (-r.reviews, -r.average, r.film.title.casefold(), r.film.year))
    active_rows = await db.fetchall(sql.MOST_ACTIVE, (guild_id, limit))
    themes = await db.fetchall(sql.THEMES_WATCHED, (guild_id, limit))
    return ClubStats(
        reviews=reviews,
        reviewers=reviewers,
        films_reviewed=films_reviewed,
        average=average,
        prior_reviews=prior,
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
            score = bayesian(int(half) / 2, int(n), page.average, THEME_PRIOR_FILMS)
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
