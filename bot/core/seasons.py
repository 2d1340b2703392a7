"""Seasons: a club's multi-week series on one theme (a curated theme or one of the server's collections).

Rules:
- A season runs from 1 to 52 weeks (a season longer than a year is refused) and starts at a moment read in the
  server's timezone that is still ahead and at most a year away (see bot.core.durations).
- Its running order (:class:`Mode`) is fixed when it is made: ``fixed`` (one of the theme's films a week, in the
  theme's order, so the theme needs a film for every week), ``poll`` (each week a poll among the theme's films, so it
  needs at least two) or ``picks`` (the weekly picks on the theme).
- Programme notes are optional and at most :data:`NOTES_MAX` characters.
- A server has at most one current season (running, or still to come), which the database enforces (bot.db.seasons):
  two moderators (or two processes) creating one at once get one season, and the other the same human error. A
  moderator can end it (or cancel it before it starts). Who may create or end one (moderators) is checked by the
  caller with bot.core.guilds.require_moderator.
- Week ``n`` runs from ``start + 7 * (n - 1)`` days for seven days; :func:`progress` says where the club is.

A poll season's weekly polls (opened by bot.core.season_polls) are each due by a persisted timer (:data:`POLL_TIMER`,
one per season week, armed one week ahead by the week before, and re-armed at start-up by
:func:`ensure_poll_timers`). Week ``n``'s poll closes :data:`NIGHT_LEAD` before the club's regular screening night in
that week (``/config screenings``), or at the week's start when no night is set, and opens :data:`POLL_SPAN` before it
closes (:func:`week_poll_times`, read again when the timer fires, so a night changed since moves it). A night that
moves while its week's poll is open moves the poll's close with it (bot.core.season_polls.follow_night).

The club's undecided nights (bot.core.nights) show the running season's theme and week (their Discord event, the
calendar feed): programming or ending a season raises the revision of the open nights it covers, so the calendar
feed's SEQUENCE rises with the description it changed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.core import schedule
from bot.core.clock import Clock, from_db, to_db
from bot.core.collections import collection_id_of
from bot.core.durations import YEAR, Window, parse_moment
from bot.core.errors import NotFoundError, UserError
from bot.core.films import Film, Theme, get_films, theme_film_ids
from bot.core.guilds import GuildSettings, get_settings
from bot.core.shards import ShardSet
from bot.core.text import printable
from bot.core.timers import TimerService
from bot.db import collections as collection_store
from bot.db import nights as nights_db
from bot.db import picks as picks_db
from bot.db import seasons as store
from bot.db.database import Database

WEEKS_MIN, WEEKS_MAX = 1, 52
NOTES_MAX = 500
WEEK = timedelta(days=7)
START = Window("The season's start", timedelta(0), YEAR)
#: The weekly picks posts read for a picks season's page, beyond one a week (posts made with /picks now as well).
PICKS_LOOKBACK = 8
#: The timer that opens a poll season's poll of a week (key: "<season id>:<week>").
POLL_TIMER = "seasons.poll"
#: How long a season's weekly poll is open,
POLL_SPAN = timedelta(days=3)
#: and how long before the week's screening night it closes (at the week's start when the club has no regular night).
NIGHT_LEAD = timedelta(hours=2)
ALREADY = "This server already has a season running or programmed; end it with `/season end` first."


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
class WeekEntry:
    """One week on the season page: what it had, or what it will have.

    ``film_id`` is the week's fixed film, or its poll's winner; a poll season's week has its poll (``poll_id``,
    ``poll_status`` "open", "closed" or "cancelled", ``poll_closes_at``) once the bot opened it, else when it opens
    (``poll_opens_at``) or why it has none (``skipped``); a picks season's week has the films of the weekly picks
    claimed during it (``picks``)."""

    week: int
    starts_at: datetime
    film_id: int | None = None
    poll_id: int | None = None
    poll_status: str | None = None
    poll_closes_at: datetime | None = None
    poll_opens_at: datetime | None = None
    skipped: str = ""
    picks: tuple[int, ...] = ()


@dataclass(frozen=True)
class SeasonPage:
    """What /season show renders: the season, where the club is, each week, the next week to come (None in the last
    week), and every film the weeks name, by id."""

    season: Season
    progress: Progress
    films: dict[int, Film]
    weeks: tuple[WeekEntry, ...] = ()
    next: WeekEntry | None = None


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


def poll_channel(settings: GuildSettings) -> int | None:
    """Where a poll season's polls are posted: the polls channel, else the picks channel, else the announcements."""
    return settings.polls_channel_id or settings.picks_channel_id or settings.announcements_channel_id


def check_weeks(weeks: int) -> int:
    if weeks > WEEKS_MAX:
        raise UserError(
            f"A season runs {WEEKS_MIN} to {WEEKS_MAX} weeks; {weeks} weeks is longer than a year. Split it in two."
        )
    if weeks < WEEKS_MIN:
        raise UserError(f"A season runs {WEEKS_MIN} to {WEEKS_MAX} weeks.")
    return weeks


def clean_notes(notes: str | None) -> str:
    text = printable(notes or "").strip()
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
    timers: TimerService,
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
    if await store.current_seasons(db, guild_id, to_db(now)):  # said first; checked again when storing
        raise UserError(ALREADY)
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
    elif mode is Mode.POLL and poll_channel(await get_settings(db, guild_id)) is None:
        raise UserError("A poll season needs a channel for its polls: set one with `/config channel kind:polls`.")
    elif not film_ids:
        raise UserError(f"{theme.title} has no films yet; add some before programming a season on it.")
    ends_at = starts_at + WEEK * weeks
    async with db.transaction() as tx:
        if await store.current_seasons(tx, guild_id, to_db(now)):
            raise UserError(ALREADY)
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
        if season_id is None:  # another process stored one meanwhile: the database kept it to one
            raise UserError(ALREADY)
        # The undecided nights it runs on now show its theme and week: a new revision for calendars to pick up.
        await nights_db.touch_open(tx, guild_id, to_db(starts_at), to_db(ends_at), to_db(now))
    season = Season(
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
    if mode is Mode.POLL:
        await arm_week_poll(db, timers, season, 1)
    return season


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


async def film_of_the_week(db: Database, season: Season, week: int) -> int | None:
    """The season's film of ``week`` once it is decided: a fixed running order's film, or the winner of a poll
    season's poll of that week once it closed with one; None otherwise (a picks season, a poll still open, cancelled
    or without a winner, a week without a poll). The weekly picks put it first."""
    if season.mode is Mode.POLL:
        found = (await store.week_polls(db, season.id)).get(week)
        return found.winner_film_id if found is not None and found.status == "closed" else None
    return season.film_of_week(week)


async def _weeks(db: Database, season: Season) -> list[WeekEntry]:
    """Each week of the season with what it had (or will have)."""
    entries = [
        WeekEntry(week, season.week_starts(week), film_id=season.film_of_week(week))
        for week in range(1, season.weeks + 1)
    ]
    if season.mode is Mode.POLL:
        handled = await store.week_polls(db, season.id)
        settings = await get_settings(db, season.guild_id)
        for index, entry in enumerate(entries):
            found = handled.get(entry.week)
            if found is None:
                entries[index] = replace(entry, poll_opens_at=week_poll_times(season, entry.week, settings).opens_at)
                continue
            entries[index] = replace(
                entry,
                film_id=found.winner_film_id,
                poll_id=found.poll_id,
                poll_status=found.status,
                poll_closes_at=None if found.closes_at is None else from_db(found.closes_at),
                skipped=found.skipped or "",
            )
    elif season.mode is Mode.PICKS:
        posts = await picks_db.recent_posts(db, season.guild_id, season.weeks + PICKS_LOOKBACK)
        for index, entry in enumerate(entries):
            during = [
                post for post in posts if entry.starts_at <= (post.slot_at or post.claimed_at) < entry.starts_at + WEEK
            ]
            if during:
                entries[index] = replace(entry, picks=min(during, key=lambda post: post.claimed_at).film_ids)
    return entries


async def season_page(db: Database, clock: Clock, guild_id: int) -> SeasonPage:
    season = await current_season(db, clock, guild_id)
    if season is None:
        raise NotFoundError("No season is running or programmed. Moderators can start one with `/season create`.")
    where = progress(season, clock.now())
    weeks = await _weeks(db, season)
    ids = {film_id for entry in weeks for film_id in (*entry.picks, entry.film_id) if film_id is not None}
    films = await get_films(db, sorted(ids))
    following = where.week + 1 if where.state is State.RUNNING else 1
    upcoming = weeks[following - 1] if following <= season.weeks else None
    return SeasonPage(season, where, films, tuple(weeks), upcoming)


async def end_season(db: Database, clock: Clock, timers: TimerService, *, guild_id: int, user_id: int) -> Season:
    """End the running season (or cancel the one still to come), with its weekly polls' timers still pending (the
    polls already open run their course); the season as it was."""
    season = await current_season(db, clock, guild_id)
    now = to_db(clock.now())
    async with db.transaction() as tx:
        if season is None or not await store.end_season(tx, season.id, now, user_id):
            raise NotFoundError("No season is running or programmed, so there is nothing to end.")
        # The undecided nights it would have run on no longer show its theme: a new revision (calendar feed).
        await nights_db.touch_open(tx, guild_id, now, to_db(season.ends_at), now)
    if season.mode is Mode.POLL:
        for week in range(1, season.weeks + 1):
            await timers.cancel(POLL_TIMER, poll_timer_key(season.id, week))
    return season


# -- a poll season's weekly polls ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PollTimes:
    """When a poll season's poll of a week opens and closes, and the screening night it is for (None: no regular
    night is set, and the poll closes at the week's start)."""

    opens_at: datetime
    closes_at: datetime
    night: datetime | None


def night_after(settings: GuildSettings, after: datetime) -> datetime | None:
    """The club's first regular night (day and time in the server's timezone, DST-proof: bot.core.schedule) strictly
    after ``after``; None when no night day and time are set."""
    if settings.night_day is None or settings.night_time is None:
        return None
    at = schedule.parse_time(settings.night_time)
    return schedule.next_slot(after, schedule.zone(settings.timezone), settings.night_day, at)


def week_night(season: Season, week: int, settings: GuildSettings) -> datetime | None:
    """The club's regular screening night in the season's ``week`` (the first one at or after the week's start), or
    None when no night is set."""
    return night_after(settings, season.week_starts(week) - timedelta(microseconds=1))


def week_poll_times(season: Season, week: int, settings: GuildSettings) -> PollTimes:
    night = week_night(season, week, settings)
    closes_at = season.week_starts(week) if night is None else night - NIGHT_LEAD
    return PollTimes(closes_at - POLL_SPAN, closes_at, night)


def poll_timer_key(season_id: int, week: int) -> str:
    return f"{season_id}:{week}"


async def arm_week_poll(db: Database, timers: TimerService, season: Season, week: int) -> datetime:
    """Arm the timer that opens the season's poll of ``week`` (moving it if armed); when it is due."""
    times = week_poll_times(season, week, await get_settings(db, season.guild_id))
    payload = {"season_id": season.id, "week": week}
    key = poll_timer_key(season.id, week)
    await timers.schedule(POLL_TIMER, key, times.opens_at, payload, guild_id=season.guild_id)
    return times.opens_at


async def get_season(db: Database, season_id: int) -> Season | None:
    record = await store.season_by_id(db, season_id)
    return None if record is None else _season(record)


async def ensure_poll_timers(db: Database, clock: Clock, timers: TimerService, shards: ShardSet) -> int:
    """At start-up: give every current poll season of this process's shards the timer of its next unhandled week,
    when none of its unhandled weeks has one pending (a crash between storing a season and arming its first timer);
    return how many were armed. A week whose timer already ran and ended without handling the week (it failed for
    good) is not armed again, so it is not retried at every restart."""
    armed = 0
    for record in await store.poll_seasons(db, to_db(clock.now()), shards.count, shards.ids):
        season = _season(record)
        handled = await store.week_polls(db, season.id)
        remaining = [week for week in range(1, season.weeks + 1) if week not in handled]
        pairs = [(POLL_TIMER, poll_timer_key(season.id, week)) for week in remaining]
        if not pairs or await timers.pending_pairs(pairs):
            continue
        ever = await timers.ever_armed(pairs)
        week = next((w for w, pair in zip(remaining, pairs, strict=True) if pair not in ever), None)
        if week is not None:
            await arm_week_poll(db, timers, season, week)
            armed += 1
    return armed
