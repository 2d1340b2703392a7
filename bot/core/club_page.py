"""What a club's public web pages show, computed from the database: the club page, a film page, the catalog.

The web package only renders these records. The rules live here: members appear by name only when moderators chose
so (:attr:`WebPage.show_members`), otherwise as "a member"; a poll's live counts only when the poll shows them; a
film page only for a film the server can see (curated films, and the server's own). Nothing returned carries a
Discord id except :func:`screening_event` (the web server turns it into a redirect, never into page text).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.core import nights, seasons
from bot.core import polls as polls_core
from bot.core import reviews as reviews_core
from bot.core.clock import Clock
from bot.core.details import FilmDetails, FilmDetailsService
from bot.core.films import ClubTitles, Film, get_films, list_themes, theme_film_ids
from bot.core.guilds import get_settings
from bot.core.picks import history as picks_history
from bot.core.polls import Poll, Status, Style
from bot.core.stats import top_rated
from bot.core.tally import Tally
from bot.core.web_pages import WebPage
from bot.db import reviews as reviews_db
from bot.db import screenings as screenings_db
from bot.db.database import Database
from bot.db.films import Theme
from bot.db.screenings import Screening, ScreeningStatus

#: How a member is named when moderators keep names off the page (and when a name is unknown).
ANONYMOUS = "a member"
RECENT_REVIEWS = 10
RECENT_RESULTS = 3
PROGRAMME = 20
UPCOMING = 5
TOP_RATED = 5
FILM_REVIEWS = 50
#: The latest weekly picks count as "this week's" for this long after they were posted.
PICKS_FRESH = timedelta(days=7)
#: The search box: at most this many characters are searched, and this many films answered.
SEARCH_MAX_LENGTH = 100
SEARCH_RESULTS = 25
#: Seconds the club page may wait for TMDb for the next screening's poster (a cached one answers at once).
POSTER_BUDGET = 0.5
POSTER_SIZE = "w342"

#: Names of members of a server by user id (the bot's cache, or Discord); ids it cannot name are left out.
MemberNames = Callable[[int, Collection[int]], Awaitable[Mapping[int, str]]]


async def no_names(_guild_id: int, _user_ids: Collection[int]) -> Mapping[int, str]:
    return {}


@dataclass(frozen=True)
class FilmCard:
    """A film as pages list it: linked by our own film id, with its poster where TMDb's is known."""

    id: int
    title: str
    year: int
    poster_url: str | None = None

    @property
    def label(self) -> str:
        return f"{self.title} ({self.year})" if self.year else self.title


@dataclass(frozen=True)
class ScreeningCard:
    id: int
    film: FilmCard
    starts_at: datetime
    ends_at: datetime
    location: str | None
    #: Whether the screening has a Discord event to link to (through the web server's redirect).
    has_event: bool
    rating: reviews_core.RatingSummary | None = None


@dataclass(frozen=True)
class NightCard:
    """The club's regular night while its film is still to be decided (a poll or the season will fill it)."""

    starts_at: datetime
    ends_at: datetime
    season: str | None  # the title of the season's theme when one runs that night
    week: int | None  # and its week there, of ``weeks``
    weeks: int | None


@dataclass(frozen=True)
class PollOption:
    film: FilmCard
    votes: int | None  # None while the poll hides its counts
    share: int | None  # per cent of the votes cast
    winner: bool = False


@dataclass(frozen=True)
class PollCard:
    id: int
    title: str
    method: str
    closes_at: datetime | None
    closed_at: datetime | None
    counts_shown: bool
    counted_in_discord: bool  # a native Discord poll: its votes are in Discord until it closes
    ballots: int | None
    options: tuple[PollOption, ...]
    winner: FilmCard | None = None


@dataclass(frozen=True)
class PicksCard:
    theme_title: str
    posted_at: datetime
    films: tuple[FilmCard, ...]


@dataclass(frozen=True)
class ReviewCard:
    film: FilmCard
    author: str
    stars: float
    body: str | None
    spoiler: bool
    written_at: datetime
    edited: bool


@dataclass(frozen=True)
class RankedCard:
    film: FilmCard
    average: float
    reviews: int


@dataclass(frozen=True)
class ClubPage:
    timezone: str
    now: datetime
    next_screening: ScreeningCard | None
    #: The regular night when it comes before the next screening and its film is still to be decided.
    next_night: NightCard | None
    upcoming: tuple[ScreeningCard, ...]
    open_polls: tuple[PollCard, ...]
    results: tuple[PollCard, ...]
    picks: PicksCard | None
    programme: tuple[ScreeningCard, ...]
    top_rated: tuple[RankedCard, ...]
    reviews: tuple[ReviewCard, ...]


@dataclass(frozen=True)
class FilmPage:
    film: FilmCard
    timezone: str
    runtime: str
    directors: tuple[str, ...]
    genres: tuple[str, ...]
    overview: str
    themes: tuple[Theme, ...]
    average: float | None
    count: int
    histogram: tuple[int, ...]  # reviews per half star, 0.5 to 5
    reviews: tuple[ReviewCard, ...]
    screenings: tuple[ScreeningCard, ...]


class Posters:
    """TMDb posters for the films a page shows: the details cache only (a page never waits for TMDb), except
    :meth:`fetch` for the one film a page features."""

    def __init__(self, details: FilmDetailsService | None) -> None:
        self.details = details
        self._known: dict[int, FilmDetails] = {}

    async def load(self, films: Iterable[Film]) -> None:
        if self.details is None:
            return
        wanted = {film.tmdb_id for film in films if film.tmdb_id is not None} - set(self._known)
        if wanted:
            self._known.update(await self.details.cached(wanted))

    async def fetch(self, film: Film) -> FilmDetails | None:
        if self.details is None:
            return None
        answer = await self.details.for_film(film, within=POSTER_BUDGET)
        if answer.details is not None:
            self._known[answer.details.tmdb_id] = answer.details
            return answer.details
        return None

    def of(self, film: Film) -> FilmDetails | None:
        return None if film.tmdb_id is None else self._known.get(film.tmdb_id)

    def card(self, film: Film, details: FilmDetails | None = None) -> FilmCard:
        shown = details or self.of(film)
        url = self.details.poster_url(shown, POSTER_SIZE) if self.details is not None else None
        return FilmCard(film.id, film.title, film.year, url)


async def _authors(page: WebPage, user_ids: Collection[int], names: MemberNames) -> dict[int, str]:
    if not page.show_members or not user_ids:
        return {}
    return dict(await names(page.guild_id, user_ids))


def _review_card(review: reviews_db.Review, film: FilmCard, authors: Mapping[int, str]) -> ReviewCard:
    return ReviewCard(
        film=film,
        author=authors.get(review.user_id, ANONYMOUS),
        stars=review.stars,
        body=review.body,
        spoiler=review.spoiler,
        written_at=review.updated_at,
        edited=review.edited,
    )


def _screening_card(
    screening: Screening, films: Mapping[int, Film], posters: Posters, ratings: Mapping[int, reviews_core.RatingSummary]
) -> ScreeningCard | None:
    film = films.get(screening.film_id)
    if film is None:
        return None
    return ScreeningCard(
        id=screening.id,
        film=posters.card(film),
        starts_at=screening.starts_at,
        ends_at=screening.ends_at,
        location=screening.location,
        has_event=screening.event_id is not None,
        rating=ratings.get(film.id),
    )


async def _next_night(db: Database, guild_id: int, now: datetime, screening: Screening | None) -> NightCard | None:
    """The undecided night, when it is the next thing the club does."""
    night = await nights.next_open_night(db, guild_id, now)
    if night is None or (screening is not None and screening.starts_at <= night.starts_at):
        return None
    running = await seasons.season_at(db, guild_id, night.starts_at)
    season, week = running if running is not None else (None, None)
    return NightCard(
        starts_at=night.starts_at,
        ends_at=nights.night_end(night),
        season=None if season is None else season.theme_title,
        week=week,
        weeks=None if season is None else season.weeks,
    )


def poll_options(
    poll: Poll, tally: Tally | None, films: Mapping[int, Film], posters: Posters
) -> tuple[PollOption, ...]:
    """The poll's films with their votes (first choices for ranked choice), most first once counted; in ballot order
    without counts."""
    votes = dict(tally.first.counts) if tally is not None else {}
    total = sum(votes.values())
    winner = tally.winner if tally is not None and not poll.is_open else None  # an open poll has a leader, not a winner
    options = [
        PollOption(
            film=posters.card(films[film_id]),
            votes=votes.get(film_id, 0) if tally is not None else None,
            share=round(votes.get(film_id, 0) * 100 / total) if tally is not None and total else (0 if tally else None),
            winner=film_id == winner,
        )
        for film_id in poll.film_ids
        if film_id in films
    ]
    if tally is not None:
        options.sort(key=lambda option: -(option.votes or 0))
    return tuple(options)


async def _poll_card(db: Database, poll: Poll, films: Mapping[int, Film], posters: Posters) -> PollCard:
    native_open = poll.is_open and poll.style is Style.NATIVE
    shown = poll.show_counts or not poll.is_open
    tally = None if native_open or not shown else await polls_core.current_tally(db, poll)
    winner = films.get(poll.winner_film_id) if poll.winner_film_id is not None else None
    return PollCard(
        id=poll.id,
        title=poll.title,
        method=poll.method.label,
        closes_at=poll.closes_at if poll.is_open else None,
        closed_at=poll.closed_at,
        counts_shown=tally is not None,
        counted_in_discord=native_open,
        ballots=None if tally is None else tally.ballots,
        options=poll_options(poll, tally, films, posters),
        winner=None if winner is None else posters.card(winner),
    )


async def club_page(
    db: Database,
    clock: Clock,
    page: WebPage,
    *,
    details: FilmDetailsService | None = None,
    names: MemberNames = no_names,
) -> ClubPage:
    """Everything the club page shows, as of now."""
    guild_id = page.guild_id
    now = clock.now()
    settings = await get_settings(db, guild_id)
    upcoming = [s for s in await screenings_db.upcoming(db, guild_id) if s.ends_at > now][: UPCOMING + 1]
    programme = await screenings_db.past(db, guild_id, PROGRAMME)
    open_polls = await polls_core.open_polls(db, guild_id)
    results = [
        poll
        for poll in await polls_core.recent_polls(db, guild_id, limit=RECENT_RESULTS + len(open_polls) + 5)
        if poll.status is Status.CLOSED and poll.result is not None
    ][:RECENT_RESULTS]
    latest_picks = await picks_history(db, guild_id, limit=1)
    picks_post = next((p for p in latest_picks if p.posted_at is not None and now - p.posted_at <= PICKS_FRESH), None)
    recent = await reviews_db.recent(db, guild_id, RECENT_REVIEWS)
    best = await top_rated(db, guild_id, limit=TOP_RATED)
    ratings = await reviews_core.film_ratings(db, guild_id) if programme or upcoming else {}

    film_ids: set[int] = {s.film_id for s in [*upcoming, *programme]}
    for poll in [*open_polls, *results]:
        film_ids.update(poll.film_ids)
    if picks_post is not None:
        film_ids.update(picks_post.film_ids)
    film_ids.update(review.film_id for review in recent)
    films = await get_films(db, film_ids)
    posters = Posters(details)
    await posters.load([*films.values(), *(ranked.film for ranked in best)])

    next_card = None
    if upcoming and (featured := films.get(upcoming[0].film_id)) is not None:
        fetched = await posters.fetch(featured)
        card = _screening_card(upcoming[0], films, posters, ratings)
        if card is not None:
            next_card = replace(card, film=posters.card(featured, fetched))
    authors = await _authors(page, {review.user_id for review in recent}, names)
    return ClubPage(
        timezone=settings.timezone,
        now=now,
        next_screening=next_card,
        next_night=await _next_night(db, guild_id, now, upcoming[0] if upcoming else None),
        upcoming=tuple(card for s in upcoming[1:] if (card := _screening_card(s, films, posters, ratings)) is not None),
        open_polls=tuple([await _poll_card(db, poll, films, posters) for poll in open_polls]),
        results=tuple([await _poll_card(db, poll, films, posters) for poll in results]),
        picks=None
        if picks_post is None or picks_post.posted_at is None
        else PicksCard(
            picks_post.theme_title,
            picks_post.posted_at,
            tuple(posters.card(films[f]) for f in picks_post.film_ids if f in films),
        ),
        programme=tuple(card for s in programme if (card := _screening_card(s, films, posters, ratings)) is not None),
        top_rated=tuple(RankedCard(posters.card(r.film), r.average, r.reviews) for r in best),
        reviews=tuple(
            _review_card(review, posters.card(films[review.film_id]), authors)
            for review in recent
            if review.film_id in films
        ),
    )


async def result_chart(db: Database, guild_id: int, poll_id: int) -> polls_core.ResultChart | None:
    """The chart of a closed poll of this server: votes (first choices for ranked choice) per film, the winner
    highlighted; None for any other poll (open, cancelled, another server's, none)."""
    if not polls_core.valid_id(poll_id):
        return None
    poll = await polls_core.get_poll(db, poll_id)
    if poll is None or poll.guild_id != guild_id or poll.status is not Status.CLOSED or poll.result is None:
        return None
    return polls_core.result_chart(poll, await get_films(db, poll.film_ids), poll.result)


async def screening_event(db: Database, guild_id: int, screening_id: int) -> int | None:
    """The Discord event id of this server's screening (planned, held or past), for the "open in Discord" link."""
    if not polls_core.valid_id(screening_id):
        return None
    screening = await screenings_db.by_id(db, screening_id)
    if screening is None or screening.guild_id != guild_id or screening.status is ScreeningStatus.FAILED:
        return None
    return screening.event_id


async def visible_film(db: Database, guild_id: int, film_id: int) -> Film | None:
    if not polls_core.valid_id(film_id):
        return None
    film = (await get_films(db, [film_id])).get(film_id)
    return film if film is not None and film.visible_in(guild_id) else None


async def film_page(
    db: Database,
    page: WebPage,
    film_id: int,
    *,
    details: FilmDetailsService | None = None,
    names: MemberNames = no_names,
) -> FilmPage | None:
    """A film's page in this club: details, the club's rating and reviews, its screenings here; None for a film the
    server cannot see."""
    guild_id = page.guild_id
    film = await visible_film(db, guild_id, film_id)
    if film is None:
        return None
    posters = Posters(details)
    fetched = await posters.fetch(film)
    reviewed = await reviews_core.film_reviews(db, guild_id, film_id, per_page=FILM_REVIEWS)
    authors = await _authors(page, {review.user_id for review in reviewed.reviews}, names)
    card = posters.card(film, fetched)
    themes = {theme.slug: theme for theme in await list_themes(db)}
    settings = await get_settings(db, guild_id)
    held = [
        s
        for s in [*await screenings_db.upcoming(db, guild_id), *await screenings_db.past(db, guild_id, PROGRAMME * 5)]
        if s.film_id == film_id
    ]
    return FilmPage(
        film=card,
        timezone=settings.timezone,
        runtime=film.length,
        directors=film.directors or (fetched.directors if fetched else ()),
        genres=fetched.genres if fetched else (),
        overview=film.blurb or (fetched.overview if fetched else ""),
        themes=tuple(themes[slug] for slug in film.themes if slug in themes),
        average=reviewed.average,
        count=reviewed.count,
        histogram=reviewed.histogram,
        reviews=tuple(_review_card(review, card, authors) for review in reviewed.reviews),
        screenings=tuple(
            ScreeningCard(s.id, card, s.starts_at, s.ends_at, s.location, s.event_id is not None)
            for s in sorted(held, key=lambda s: s.starts_at)
        ),
    )


async def catalog_themes(db: Database) -> list[Theme]:
    """Every curated theme with how many films it holds, by title."""
    return await list_themes(db)


async def theme_films(db: Database, slug: str) -> tuple[Theme, list[FilmCard]] | None:
    """A curated theme and its films (catalog order); None for no such theme."""
    theme = next((t for t in await list_themes(db) if t.slug == slug), None)
    if theme is None:
        return None
    order = await theme_film_ids(db, slug)
    films = await get_films(db, order)
    return theme, [FilmCard(films[i].id, films[i].title, films[i].year) for i in order if i in films]


def search_films(titles: ClubTitles, query: str) -> list[FilmCard]:
    """The films whose titles best match what the visitor typed, with autocomplete's typo tolerance
    (:mod:`bot.core.search`); nothing for an empty query."""
    text = query.strip()[:SEARCH_MAX_LENGTH]
    if not text:
        return []
    return [FilmCard(m.entry.film_id, m.entry.title, m.entry.year) for m in titles.search(text, SEARCH_RESULTS)]
