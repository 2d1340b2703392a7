"""Seasons: a club's multi-week series on one theme (a curated theme or one of the server's collections).

Rules:
- A season runs from 1 to 52 weeks (a season longer than a year is refused) and starts at a moment read in the
  server's timezone that is still ahead and at most a year away (see bot.core.durations).
- Its running order (:class:`Mode`) is fixed when it is made: ``fixed`` (one of the theme's films a week, in the
  theme's order, so the theme needs a film for every week), ``poll`` (each week a poll among the theme's films, so it
  needs at least two) or ``picks`` (the weekly picks on the theme).
- Programme notes are optional and at most :data:`NOTES_MAX` characters.
- A server has at most one current season (running, or still to come); a moderator can end it (or cancel it before it
  starts). Who may create or end one (moderators) is checked by the caller with bot.core.guilds.require_moderator.
- Week ``n`` runs from ``start + 7 * (n - 1)`` days for seven days; :func:`progress` says where the club is.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.clock import Clock, from_db, to_db
from bot.core.collections import collection_id_of
from bot.core.durations import YEAR, Window, parse_moment
from bot.core.errors import NotFoundError, UserError
from bot.core.films import Film, Theme, get_films, theme_film_ids
from bot.db import collections as collection_store
from bot.db import seasons as store
from bot.db.database import Database

WEEKS_MIN, WEEKS_MAX = 1, 52
NOTES_MAX = 500
WEEK = timedelta(days=7)
START = Window("The season's start", timedelta(0), YEAR)


class Mode(enum.StrEnum):
    FIXED = "fixed"
    POLL = "poll"
    PICKS = "picks"

    @property
    def described(self) -> str:
        return {
            Mode.FIXED: "a fixed film each week",
            Mode.POLL: "a poll each week among the theme's films",
            Mode.PICKS: "the weekly picks on the theme",
        }[self]


class State(enum.StrEnum):
    UPCOMING = "upcoming"
    RUNNING = "running"
    FINISHED = "finished"
    ENDED = "ended"  # ended or cancelled early by a moderator


@dataclass(frozen=True)
class Season:
    id: int
    guild_id: int
    theme_slug: str
    theme_title: str
    mode: Mode
    weeks: int
    starts_at: datetime
    ends_at: datetime
    notes: str
    created_by: int
    ended_at: datetime | None
    film_ids: tuple[int, ...]  # by week, for a fixed running order

    def week_starts(self, week: int) -> datetime:
        return self.starts_at + WEEK * (week - 1)

    def film_of_week(self, week: int) -> int | None:
        return self.film_ids[week - 1] if self.mode is Mode.FIXED and 1 <= week <= len(self.film_ids) else None


@dataclass(frozen=True)
class Progress:
    """Where the club is in a season at one moment: ``week`` is the running week (0 when none is)."""

    state: State
    week: int
    weeks: int

    @property
    def text(self) -> str:
        if self.state is State.RUNNING:
            return f"week {self.week} of {self.weeks}"
        return {
            State.UPCOMING: f"starts soon · {self.weeks} weeks",
            State.FINISHED: "finished",
            State.ENDED: "ended early",
        }[self.state]


@dataclass(frozen=True)
class SeasonPage:
    """What /season show renders: the season, where the club is, and its fixed films by id."""

    season: Season
    progress: Progress
    films: dict[int, Film]


def progress(season: Season, now: datetime) -> Progress:
    """Where the club is in ``season`` at ``now``."""
    if season.ended_at is not None and season.ended_at <= now:
        return Progress(State.ENDED, 0, season.weeks)
    if now < season.starts_at:
        return Progress(State.UPCOMING, 0, season.weeks)
    if now >= season.ends_at:
        return Progress(State.FINISHED, 0, season.weeks)
    week = int((now - season.starts_at) // WEEK) + 1
    return Progress(State.RUNNING, week, season.weeks)


def _season(record: store.SeasonRecord) -> Season:
    return Season(
        id=record.id,
        guild_id=record.guild_id,
        theme_slug=record.theme_slug,
        theme_title=record.theme_title,
        mode=Mode(record.mode),
        weeks=record.weeks,
        starts_at=from_db(record.starts_at),
        ends_at=from_db(record.ends_at),
        notes=record.notes,
        created_by=record.created_by,
        ended_at=None if record.ended_at is None else from_db(record.ended_at),
        film_ids=record.film_ids,
    )


def check_weeks(weeks: int) -> int:
    if weeks > WEEKS_MAX:
        raise UserError(
            f"A season runs {WEEKS_MIN} to {WEEKS_MAX} weeks; {weeks} weeks is longer than a year. Split it in two."
        )
    if weeks < WEEKS_MIN:
        raise UserError(f"A season runs {WEEKS_MIN} to {WEEKS_MAX} weeks.")
    return weeks


def clean_notes(notes: str | None) -> str:
    text = (notes or "").strip()
    if len(text) > NOTES_MAX:
        raise UserError(f"Keep the programme notes under {NOTES_MAX} characters; yours have {len(text)}.")
    return text


async def _theme_films(db: Database, guild_id: int, theme: Theme) -> list[int]:
    collection_id = theme.collection_id or collection_id_of(theme.slug)
    if collection_id is not None:
        return (await collection_store.collection_films(db, guild_id)).get(collection_id, [])
    return await theme_film_ids(db, theme.slug)


async def create_season(
    db: Database,
    clock: Clock,
    *,
    guild_id: int,
    user_id: int,
    theme: Theme,
    weeks: int,
    start: str,
    timezone: str,
    mode: Mode = Mode.FIXED,
    notes: str | None = None,
) -> Season:
    """Programme a season; every check comes before the one transaction that stores it (nothing half-written)."""
    check_weeks(weeks)
    text = clean_notes(notes)
    now = clock.now()
    starts_at = parse_moment(start, now, timezone, within=START)
    film_ids = await _theme_films(db, guild_id, theme)
    chosen: list[int] = []
    if mode is Mode.FIXED:
        if len(film_ids) < weeks:
            raise UserError(
                f"{theme.title} has {len(film_ids)} film(s); a fixed running order of {weeks} weeks needs one a week."
                " Choose fewer weeks, or the poll or picks mode."
            )
        chosen = film_ids[:weeks]
    elif mode is Mode.POLL and len(film_ids) < 2:
        raise UserError(f"{theme.title} has fewer than two films; a weekly poll needs at least two to choose from.")
    elif not film_ids:
        raise UserError(f"{theme.title} has no films yet; add some before programming a season on it.")
    ends_at = starts_at + WEEK * weeks
    async with db.transaction() as tx:
        if await store.current_seasons(tx, guild_id, to_db(now)):
            raise UserError("This server already has a season running or programmed; end it with `/season end` first.")
        season_id = await store.insert_season(
            tx,
            {
                "guild_id": guild_id,
                "theme_slug": theme.slug,
                "theme_title": theme.title,
                "mode": mode.value,
                "weeks": weeks,
                "starts_at": to_db(starts_at),
                "ends_at": to_db(ends_at),
                "notes": text,
                "created_by": user_id,
                "created_at": to_db(now),
            },
            chosen,
        )
    return Season(
        season_id,
        guild_id,
        theme.slug,
        theme.title,
        mode,
        weeks,
        starts_at,
        ends_at,
        text,
        user_id,
        None,
        tuple(chosen),
    )


async def current_season(db: Database, clock: Clock, guild_id: int) -> Season | None:
    """The server's season that is running or still to come, if any."""
    found = await store.current_seasons(db, guild_id, to_db(clock.now()))
    return _season(found[0]) if found else None


async def season_at(db: Database, guild_id: int, moment: datetime) -> tuple[Season, int] | None:
    """The season running at ``moment`` and its week there (what the weekly picks follow); None when none is."""
    record = await store.season_at(db, guild_id, to_db(moment))
    if record is None:
        return None
    season = _season(record)
    return season, progress(season, moment).week


async def season_page(db: Database, clock: Clock, guild_id: int) -> SeasonPage:
    season = await current_season(db, clock, guild_id)
    if season is None:
        raise NotFoundError("No season is running or programmed. Moderators can start one with `/season create`.")
    films = await get_films(db, season.film_ids)
    return SeasonPage(season, progress(season, clock.now()), films)


async def end_season(db: Database, clock: Clock, *, guild_id: int, user_id: int) -> Season:
    """End the running season (or cancel the one still to come); the season as it was."""
    season = await current_season(db, clock, guild_id)
    if season is None or not await store.end_season(db, season.id, to_db(clock.now()), user_id):
        raise NotFoundError("No season is running or programmed, so there is nothing to end.")
    return season
