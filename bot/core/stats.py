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
from bot.core.attendance import MemberAttendance, member_attendance, top_attendees
from bot.core.films import Film, get_films
from bot.core.reviews import Review, member_reviews
from bot.core.score import PRIOR_HALF_STARS, PRIOR_REVIEWS, club_rating, shrunk_average
from bot.db import stats as store
from bot.db.database import Database
from bot.db.reviews import FilmTotals
from bot.db.stats import ThemeCount

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
    #: The members who attended the most screenings (member, screenings attended and current streak).
    regulars: tuple[tuple[int, MemberAttendance], ...] = ()


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
    attendance: MemberAttendance


async def _with_ties(db: Database, guild_id: int, leaders: list[FilmTotals], limit: int) -> list[FilmTotals]:
    """The first ``limit`` films of a ranking, plus every film tied with the last of them: titles break those ties,
    and titles are only read for the few films shown."""
    if len(leaders) == limit:
        last = leaders[-1]
        shown = {t.film_id for t in leaders}
        tied = await store.tied(db, guild_id, last.reviews, last.half_stars)
        leaders = leaders + [t for t in tied if t.film_id not in shown]
    return leaders


def _ranked(rows: list[FilmTotals], films: dict[int, Film]) -> list[RankedFilm]:
    return [
        RankedFilm(films[t.film_id], t.reviews, t.half_stars / 2 / t.reviews, club_rating(t.half_stars / 2, t.reviews))
        for t in rows
        if t.film_id in films
    ]


async def top_rated(db: Database, guild_id: int, limit: int = TOP) -> tuple[RankedFilm, ...]:
    """The club's ``limit`` best films by club rating (the web page shows this list alone, so it is read alone).
    Ties go to the title, then the year, then the film id: the same order on every backend."""
    best = await store.top_rated(
        db, guild_id, prior_reviews=PRIOR_REVIEWS, prior_half_stars=PRIOR_HALF_STARS, limit=limit
    )
    rows = await _with_ties(db, guild_id, best, limit)
    films = await get_films(db, {t.film_id for t in rows})
    top = sorted(
        _ranked(rows, films), key=lambda r: (-r.score, -r.reviews, r.film.title.casefold(), r.film.year, r.film.id)
    )
    return tuple(top[:limit])


async def club_stats(db: Database, guild_id: int, limit: int = TOP) -> ClubStats:
    """The club's numbers: top rated (by club rating), most reviewed, most active members and the themes it screened.

    Everything is read from the running totals with ORDER BY ... LIMIT, so the cost grows with the number of films
    reviewed, not of reviews, and only the films shown are loaded."""
    totals = await store.club_totals(db, guild_id)
    top: tuple[RankedFilm, ...] = ()
    count_rows: list[FilmTotals] = []
    if totals.reviews:
        top = await top_rated(db, guild_id, limit)
        count_rows = await _with_ties(db, guild_id, await store.most_reviewed(db, guild_id, limit), limit)
    films = await get_films(db, {t.film_id for t in count_rows})
    most = sorted(
        _ranked(count_rows, films),
        key=lambda r: (-r.reviews, -r.average, r.film.title.casefold(), r.film.year, r.film.id),
    )
    active = await store.most_active(db, guild_id, limit)
    themes = sorted(await store.themes_watched(db, guild_id), key=lambda t: (-t.films, t.title, t.slug))
    return ClubStats(
        reviews=totals.reviews,
        reviewers=totals.members,
        films_reviewed=totals.films,
        average=totals.half_stars / 2 / totals.reviews if totals.reviews else None,
        top_rated=top,
        most_reviewed=tuple(most[:limit]),
        most_active=tuple(ActiveMember(m.user_id, m.reviews, m.half_stars / 2 / m.reviews) for m in active),
        screenings=totals.screenings,
        themes_watched=tuple(themes[:limit]),
        regulars=tuple(await top_attendees(db, guild_id, limit)),
    )


async def member_profile(db: Database, guild_id: int, user_id: int) -> Profile:
    """A member's reviews, average given, favourite themes, recent reviews, watchlist size and films seen."""
    page = await member_reviews(db, guild_id, user_id, page=0, per_page=RECENT)
    favourites: list[FavouriteTheme] = []
    if page.average is not None:
        for theme in await store.member_themes(db, guild_id, user_id):
            mean = theme.half_stars / 2 / theme.films
            score = shrunk_average(theme.half_stars / 2, theme.films, page.average, THEME_PRIOR_FILMS)
            favourites.append(FavouriteTheme(theme.slug, theme.title, theme.films, mean, score))
        favourites.sort(key=lambda t: (-round(t.score, 9), -t.films, t.title.casefold(), t.slug))
    return Profile(
        user_id=user_id,
        reviews=page.count,
        average=page.average,
        favourite_themes=tuple(favourites[:3]),
        recent=page.reviews,
        watchlist=await watch.watchlist_size(db, guild_id, user_id),
        seen=await watch.seen_count(db, guild_id, user_id),
        attendance=await member_attendance(db, guild_id, user_id),
    )
