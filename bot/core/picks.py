"""Weekly picks: choosing the week's films, and posting them exactly once per server and week.

Choosing
    The week's theme is the one after last post's theme in the server's rotation (the curated themes and server
    collections a moderator listed, in that order, or every curated theme by title). A listed theme or collection
    that no longer exists (retired from the catalog, or a collection deleted since) is skipped with a log line; if
    none of them is left, every curated theme is used, so deleting a collection never stops the weekly picks. A theme
    is passed over when fewer films than asked for are eligible; if none has enough, the one with the most eligible
    films is used. A film is eligible when it is not retired, was not
    in this server's picks in the 12 weeks before, and the club has not watched it. Films are ranked by a score that
    favours what members rated well (the club rating of bot.core.score, as for recommendations and /club stats) and
    what is on members' watchlists (+0.5 per watchlist, up to 6); equal scores are ordered by a hash of the server,
    the week and the film, so a preview shows exactly what the post will, and different weeks vary.

Exactly once
    Each week has one claim row (unique per server and ISO week in the server's timezone), written in the same
    transaction as the chosen films and before anything is posted. The timer of a slot that finds its week claimed
    and posted does nothing; one that finds it claimed but not yet posted (a crash or failure between the two) posts
    the recorded picks, after the adapter has checked the channel for a post it made before crashing. A slot missed
    while the bot was down is caught up at start-up if it is within the grace window, and skipped with a log line
    otherwise. ``/picks now`` claims the current week, so that week's slot then does nothing (beyond opening a
    watch-party poll that failed), and the next post is the following week's (:func:`next_post_slot`).

    The watch-party poll is part of the week: whether it is wanted is fixed by the claim, and the poll row and the
    claim's note of it are written in one transaction (:func:`open_watch_party_poll`), so a slot that finds its
    week posted opens the missing poll, and never a second one. A timer of a schedule changed since does nothing,
    except re-plan the schedule when a crash came before the change's own re-plan.
"""

from __future__ import annotations

import enum
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core import polls, schedule, seasons
from bot.core.clock import Clock, from_db, to_db
from bot.core.collections import list_collections, themes_for
from bot.core.errors import UserError
from bot.core.films import Film, Theme, get_films, theme_film_ids
from bot.core.guilds import GuildSettings, get_settings
from bot.core.reviews import RatingSummary, film_ratings
from bot.core.score import PRIOR_STARS, club_rating_of_average
from bot.core.shards import ShardSet
from bot.core.timers import TimerService
from bot.core.watch import club_watched, watchlist_counts
from bot.db import guilds as guilds_db
from bot.db import picks as picks_db
from bot.db.database import Database, Transaction
from bot.db.picks import PicksPost

# PicksPost is a stored record (bot.db.picks), named here for the cogs.
__all__ = [
    "CATCH_UP_AFTER",
    "DEFAULT_GRACE",
    "NO_REPEAT_WEEKS",
    "PROMPTS_PER_FILM",
    "STALE_CLAIM",
    "TIMER_KIND",
    "WATCHLIST_BONUS",
    "WATCHLIST_CAP",
    "WATCH_PARTY_POLL_HOURS",
    "Pick",
    "Picks",
    "PicksPost",
    "SlotDecision",
    "SlotOutcome",
    "begin_slot",
    "choose",
    "claim",
    "claim_now",
    "claimed_post",
    "ensure_scheduled",
    "get_post",
    "history",
    "latest_picks",
    "log",
    "mark_posted",
    "next_open_slot",
    "next_post_slot",
    "open_watch_party_poll",
    "picks_of",
    "preview",
    "reason",
    "recently_picked",
    "release",
    "reschedule",
    "rotate",
    "scheduled_slot",
    "score",
    "theme_films",
    "theme_rotation",
    "timer_key",
    "week_taken",
]


log = logging.getLogger(__name__)

TIMER_KIND = "picks.weekly"
NO_REPEAT_WEEKS = 12
DEFAULT_GRACE = timedelta(hours=24)
#: A slot that runs later than this after its time (the bot was down) is a catch-up.
CATCH_UP_AFTER = timedelta(minutes=1)
#: A claim still unposted after this long is abandoned (the timer's retries take under 8 minutes in all).
STALE_CLAIM = timedelta(minutes=15)
WATCHLIST_BONUS = 0.5
WATCHLIST_CAP = 6
PROMPTS_PER_FILM = 2


@dataclass(frozen=True)
class Pick:
    film: Film
    reason: str

    @property
    def prompts(self) -> tuple[str, ...]:
        return self.film.prompts[:PROMPTS_PER_FILM]


@dataclass(frozen=True)
class Picks:
    """A week's picks: what is (or would be) posted."""

    guild_id: int
    week_key: str
    theme: Theme
    picks: tuple[Pick, ...]

    @property
    def film_ids(self) -> list[int]:
        return [pick.film.id for pick in self.picks]


class SlotOutcome(enum.Enum):
    POST = "post"  # claimed just now: post it
    RESUME = "resume"  # claimed earlier but not posted (crash or failure): post it unless it is already there
    DONE = "done"  # this week is already posted (by the schedule or /picks now)
    FINISH = "finish"  # this week is posted, but the watch-party poll it was claimed with is not open yet: open it
    LATE = "late"  # the bot was down past the grace window: skipped
    NOTHING = "nothing"  # no eligible film in any theme: skipped
    STALE = "stale"  # a timer from a schedule that was since changed
    OFF = "off"  # weekly picks are switched off or incomplete


@dataclass(frozen=True)
class SlotDecision:
    outcome: SlotOutcome
    settings: GuildSettings
    post: PicksPost | None = None
    picks: Picks | None = None


# -- choosing -------------------------------------------------------------------------------------------------------


def score(rating: RatingSummary | None, watchlisted: int) -> float:
    stars = PRIOR_STARS if rating is None else club_rating_of_average(rating.average, rating.count)
    return stars + WATCHLIST_BONUS * min(watchlisted, WATCHLIST_CAP)


def reason(rating: RatingSummary | None, watchlisted: int) -> str:
    """Why a film is picked, in a member's words."""
    parts = []
    if rating is not None:
        parts.append(f"rated {rating.average:.1f}★ by {rating.count} member{'s' if rating.count != 1 else ''}")
    if watchlisted:
        parts.append(f"on {watchlisted} watchlist{'s' if watchlisted != 1 else ''}")
    if not parts:
        return "Fresh for the club: nobody here has rated it yet."
    text = " and ".join(parts)
    return text[0].upper() + text[1:] + "."


def _tiebreak(guild_id: int, week: str, film_id: int) -> int:
    digest = hashlib.sha256(f"{guild_id}:{week}:{film_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def rotate(rotation: list[Theme], last_slug: str | None) -> list[Theme]:
    """The rotation starting after ``last_slug`` (from the top when it is not in the rotation)."""
    slugs = [theme.slug for theme in rotation]
    if last_slug not in slugs:
        return list(rotation)
    start = slugs.index(last_slug) + 1
    return rotation[start:] + rotation[:start]


async def theme_rotation(db: Database, settings: GuildSettings) -> list[Theme]:
    """The configured themes and collections that still exist, in the configured order; every curated theme by
    title if none is set, or if none of those set is left."""
    themes = await themes_for(db, settings.guild_id)
    curated = [theme for theme in themes if not theme.is_collection]
    if not settings.picks_themes:
        return curated
    by_slug = {theme.slug: theme for theme in themes}
    rotation = [by_slug[slug] for slug in settings.picks_themes if slug in by_slug]
    gone = [slug for slug in settings.picks_themes if slug not in by_slug]
    if gone:
        log.warning(
            "weekly picks of guild %s skip %s: no longer a theme or collection of the server%s",
            settings.guild_id,
            ", ".join(gone),
            "" if rotation else "; none of the listed ones is left, so every theme is used",
        )
    return rotation or curated


async def theme_films(db: Database, guild_id: int, theme: Theme) -> list[int]:
    """The active films of a curated theme, or of one of the server's collections."""
    if theme.collection_id is None:
        return await theme_film_ids(db, theme.slug)
    found = [c for c in await list_collections(db, guild_id) if c.id == theme.collection_id]
    return list(found[0].film_ids) if found else []


async def recently_picked(db: Database, guild_id: int, week: str) -> set[int]:
    """Films of this server's picks in ``week`` and the 12 weeks before it."""
    weeks = [week, *schedule.weeks_before(week, NO_REPEAT_WEEKS)]
    return await picks_db.films_in_weeks(db, guild_id, weeks)


async def _season_plan(db: Database, guild_id: int, at: datetime | None) -> tuple[Theme, int | None, str] | None:
    """While a season runs at ``at``: (its theme, its film of the week or None, that film's reason). The film of the
    week is a fixed season's, or a poll season's winner of the week once its poll closed
    (:func:`bot.core.seasons.film_of_the_week`)."""
    running = await seasons.season_at(db, guild_id, at) if at is not None else None
    if running is None:
        return None
    season, week = running
    theme = next((t for t in await themes_for(db, guild_id) if t.slug == season.theme_slug), None)
    if theme is None:
        log.warning(
            "the season of guild %s is on %s, no longer a theme; picks use the rotation", guild_id, season.theme_slug
        )
        return None
    film_id = await seasons.film_of_the_week(db, season, week)
    return theme, film_id, f"The season's film for week {week} of {season.weeks}"


async def choose(db: Database, settings: GuildSettings, week: str, at: datetime | None = None) -> Picks | None:
    """The picks for ``week`` (``None`` when no theme has an eligible film).

    While a season runs at ``at`` (the slot, or now), the picks are on the season's theme alone, and the season's film
    of the week (a fixed running order's, or the winner of a poll season's closed poll of the week) comes first,
    whether or not it was picked lately or watched."""
    guild_id = settings.guild_id
    last = await picks_db.last_theme(db, guild_id)
    excluded = await recently_picked(db, guild_id, week) | await club_watched(db, guild_id)
    plan = await _season_plan(db, guild_id, at)
    rotation = [plan[0]] if plan is not None else rotate(await theme_rotation(db, settings), last)
    programmed = plan[1] if plan is not None else None
    best: tuple[Theme, list[int]] | None = None
    for theme in rotation:
        eligible = [film_id for film_id in await theme_films(db, guild_id, theme) if film_id not in excluded]
        if programmed is not None:
            eligible = [programmed, *(film_id for film_id in eligible if film_id != programmed)]
        if len(eligible) >= settings.picks_count:
            best = (theme, eligible)
            break
        if eligible and (best is None or len(eligible) > len(best[1])):
            best = (theme, eligible)
    if best is None:
        return None
    theme, eligible = best
    ratings = await film_ratings(db, guild_id)
    watchlists = await watchlist_counts(db, guild_id)
    ranked = sorted(
        eligible,
        key=lambda film_id: (
            -score(ratings.get(film_id), watchlists.get(film_id, 0)),
            _tiebreak(guild_id, week, film_id),
        ),
    )
    if programmed is not None:
        ranked = [programmed, *(film_id for film_id in ranked if film_id != programmed)]
    ranked = ranked[: settings.picks_count]
    films = await get_films(db, ranked)
    picks = tuple(
        Pick(
            films[film_id],
            plan[2]
            if plan is not None and film_id == programmed
            else reason(ratings.get(film_id), watchlists.get(film_id, 0)),
        )
        for film_id in ranked
    )
    return Picks(guild_id, week, theme, picks)


# -- claims ---------------------------------------------------------------------------------------------------------


async def claimed_post(db: Database, guild_id: int, week: str) -> PicksPost | None:
    return await picks_db.post_for_week(db, guild_id, week)


async def get_post(db: Database, post_id: int) -> PicksPost | None:
    return await picks_db.post_by_id(db, post_id)


async def claim(
    db: Database,
    clock: Clock,
    picks: Picks,
    *,
    trigger: str,
    channel_id: int,
    slot_at: datetime | None = None,
    requested_by: int | None = None,
    poll_wanted: bool = False,
) -> PicksPost | None:
    """Claim the week and record its films in one transaction; ``None`` if the week was already claimed.

    ``poll_wanted`` fixes, with the claim, whether this week opens a watch-party poll: a retry after a crash opens
    the one the week was claimed with, whatever the setting says by then.
    """
    values = {
        "guild_id": picks.guild_id,
        "week_key": picks.week_key,
        "theme_slug": picks.theme.slug,
        "theme_title": picks.theme.title,
        "trigger": trigger,
        "slot_at": to_db(slot_at) if slot_at else None,
        "requested_by": requested_by,
        "channel_id": channel_id,
        "claimed_at": to_db(clock.now()),
        "poll_wanted": int(poll_wanted),
    }
    async with db.transaction() as tx:
        post_id = await picks_db.claim(tx, values, [(pick.film.id, pick.reason) for pick in picks.picks])
    return None if post_id is None else await get_post(db, post_id)


async def mark_posted(db: Database, clock: Clock, post_id: int, message_id: int) -> None:
    await picks_db.mark_posted(db, post_id, message_id, to_db(clock.now()))


async def release(db: Database, post_id: int) -> None:
    """Give a claim back after its post failed (``/picks now``): the week can be posted again."""
    await picks_db.release(db, post_id)


async def picks_of(db: Database, post: PicksPost) -> Picks:
    """What a claimed post shows, rebuilt from the recorded films and reasons (to post it again after a crash)."""
    recorded = await picks_db.post_films(db, post.id)
    films = await get_films(db, [pick.film_id for pick in recorded])
    themes = {theme.slug: theme for theme in await themes_for(db, post.guild_id)}
    theme = themes.get(post.theme_slug, Theme(post.theme_slug, post.theme_title, "", 0))
    picks = tuple(Pick(films[pick.film_id], pick.reason) for pick in recorded if pick.film_id in films)
    return Picks(post.guild_id, post.week_key, theme, picks)


async def history(db: Database, guild_id: int, limit: int = 10) -> list[PicksPost]:
    """The latest claimed weeks, newest first."""
    return await picks_db.recent_posts(db, guild_id, limit)


async def latest_picks(db: Database, guild_id: int) -> list[int]:
    """The film ids of the server's most recent weekly post, in order ([] before the first one)."""
    return await picks_db.latest_posted_films(db, guild_id)


# -- the schedule -----------------------------------------------------------------------------------------------------


def timer_key(guild_id: int, week: str) -> str:
    return f"{guild_id}:{week}"


def _slot_rule(settings: GuildSettings) -> tuple[ZoneInfo, int, time]:
    if settings.picks_day is None or settings.picks_time is None:
        raise ValueError("the weekly picks schedule is incomplete")
    return schedule.zone(settings.timezone), settings.picks_day, schedule.parse_time(settings.picks_time)


def week_taken(post: PicksPost | None, now: datetime) -> bool:
    """Whether a week's claim stands: posted, or claimed recently enough that its timer may still be posting it.

    A claim left unposted for longer (its timer gave up, or a schedule change cancelled it) no longer blocks the
    week: the week's slot resumes it and ``/picks now`` replaces it.
    """
    return post is not None and (post.posted or now - post.claimed_at < STALE_CLAIM)


async def next_open_slot(db: Database, settings: GuildSettings, after: datetime, now: datetime) -> datetime:
    """The first slot after ``after`` whose week is not taken yet (``/picks now`` may have taken this one)."""
    tz, day, at = _slot_rule(settings)
    slot = schedule.next_slot(after, tz, day, at)
    for _ in range(3):
        if not week_taken(await claimed_post(db, settings.guild_id, schedule.week_key(slot, tz)), now):
            break
        slot = schedule.next_slot(slot, tz, day, at)
    return slot


async def _schedule(db: Database, clock: Clock, timers: TimerService, settings: GuildSettings, slot: datetime) -> None:
    week = schedule.week_key(slot, schedule.zone(settings.timezone))
    key = timer_key(settings.guild_id, week)
    payload = {"guild_id": settings.guild_id, "slot_at": to_db(slot)}
    await timers.schedule(TIMER_KIND, key, slot, payload, guild_id=settings.guild_id)
    await picks_db.save_schedule(db, settings.guild_id, key, to_db(slot), week, to_db(clock.now()))
    log.info("weekly picks for guild %s scheduled at %s (week %s)", settings.guild_id, to_db(slot), week)


async def scheduled_slot(db: Database, guild_id: int) -> datetime | None:
    """The slot the pending timer is for (it may belong to a week already taken: see :func:`next_post_slot`)."""
    pending = await picks_db.schedule_of(db, guild_id)
    return None if pending is None else from_db(pending.slot_at)


async def next_post_slot(db: Database, clock: Clock, settings: GuildSettings) -> datetime | None:
    """When the next weekly post will actually be made (``None`` without a schedule).

    The pending timer's slot, unless its week is already taken (``/picks now`` posted it): that slot will do
    nothing, so the next one whose week is free. ``/picks preview`` and ``/config show`` both say this one.
    """
    if not settings.picks_scheduled:
        return None
    now = clock.now()
    slot = await scheduled_slot(db, settings.guild_id)
    if slot is None:
        return await next_open_slot(db, settings, now, now)
    week = schedule.week_key(slot, schedule.zone(settings.timezone))
    if not week_taken(await claimed_post(db, settings.guild_id, week), now):
        return slot
    return await next_open_slot(db, settings, slot, now)


async def reschedule(db: Database, clock: Clock, timers: TimerService, guild_id: int) -> datetime | None:
    """After a configuration change: replace the pending slot with the new schedule's next one (or none)."""
    pending = await picks_db.schedule_of(db, guild_id)
    if pending is not None:
        await timers.cancel(TIMER_KIND, pending.timer_key)
    settings = await get_settings(db, guild_id)
    if not settings.picks_scheduled:
        await picks_db.delete_schedule(db, guild_id)
        return None
    slot = await next_open_slot(db, settings, clock.now(), clock.now())
    await _schedule(db, clock, timers, settings, slot)
    return slot


async def ensure_scheduled(
    db: Database, clock: Clock, timers: TimerService, shards: ShardSet, grace: timedelta = DEFAULT_GRACE
) -> int:
    """At start-up: give every server of this process's shards with a schedule a pending timer; return how many were
    (re)created.

    A server whose timer is still pending keeps it (an overdue one runs as soon as the timers start). One without
    (its last timer gave up, or the database was restored) gets the first unclaimed slot since ``now - grace``, so
    a slot missed within the grace window is still caught up.
    """
    created = 0
    for guild_id in await guilds_db.scheduled_without_pending_slot(db, TIMER_KIND, shards.count, shards.ids):
        settings = await get_settings(db, guild_id)
        await _schedule(
            db, clock, timers, settings, await next_open_slot(db, settings, clock.now() - grace, clock.now())
        )
        created += 1
    return created


async def begin_slot(
    db: Database,
    clock: Clock,
    timers: TimerService,
    guild_id: int,
    slot_at: datetime,
    grace: timedelta,
    *,
    started_at: datetime | None = None,
) -> SlotDecision:
    """What a slot's timer should do. Schedules the following slot first, so one failed week never stops the rest.

    ``started_at`` is when this bot process started: a slot before it was missed while the bot was down.
    """
    settings = await get_settings(db, guild_id)
    if not settings.picks_scheduled:
        log.info("weekly picks for guild %s are off; slot %s does nothing", guild_id, to_db(slot_at))
        return SlotDecision(SlotOutcome.OFF, settings)
    tz, day, at = _slot_rule(settings)
    if not schedule.is_slot(slot_at, tz, day, at):
        if await scheduled_slot(db, guild_id) == slot_at:  # the change's re-plan never ran (a crash came between)
            log.info("slot %s of guild %s is from an older schedule; re-planning", to_db(slot_at), guild_id)
            await reschedule(db, clock, timers, guild_id)
        else:
            log.info("slot %s of guild %s is from an older schedule; ignoring it", to_db(slot_at), guild_id)
        return SlotDecision(SlotOutcome.STALE, settings)
    await _schedule(db, clock, timers, settings, schedule.next_slot(slot_at, tz, day, at))
    week = schedule.week_key(slot_at, tz)
    late = clock.now() - slot_at
    existing = await claimed_post(db, guild_id, week)
    if existing is not None and existing.posted:
        if existing.poll_wanted and existing.poll_id is None:
            log.info("weekly picks for guild %s week %s were posted without their poll; opening it", guild_id, week)
            return SlotDecision(SlotOutcome.FINISH, settings, post=existing, picks=await picks_of(db, existing))
        log.info("weekly picks for guild %s week %s were already posted; nothing to do", guild_id, week)
        return SlotDecision(SlotOutcome.DONE, settings, post=existing)
    if late > grace:
        log.warning(
            "skipping weekly picks for guild %s week %s: the slot was %.1f hours ago, past the %g-hour grace window",
            guild_id,
            week,
            late / timedelta(hours=1),
            grace / timedelta(hours=1),
        )
        return SlotDecision(SlotOutcome.LATE, settings, post=existing)
    if existing is not None:
        return SlotDecision(SlotOutcome.RESUME, settings, post=existing, picks=await picks_of(db, existing))
    picks = await choose(db, settings, week, slot_at)
    if picks is None:
        log.warning("skipping weekly picks for guild %s week %s: no eligible film in any theme", guild_id, week)
        return SlotDecision(SlotOutcome.NOTHING, settings)
    missed = (started_at is not None and slot_at < started_at) or late > CATCH_UP_AFTER
    trigger = "catch-up" if missed else "schedule"
    channel_id = settings.picks_channel_id or 0  # set: picks_scheduled checked it
    post = await claim(
        db, clock, picks, trigger=trigger, channel_id=channel_id, slot_at=slot_at, poll_wanted=settings.picks_poll
    )
    if post is None:  # claimed meanwhile (e.g. /picks now at the same moment)
        return SlotDecision(SlotOutcome.DONE, settings, post=await claimed_post(db, guild_id, week))
    return SlotDecision(SlotOutcome.POST, settings, post=post, picks=picks)


async def claim_now(db: Database, clock: Clock, guild_id: int, user_id: int) -> tuple[PicksPost, Picks]:
    """``/picks now``: claim the current week (in the server's timezone) for an immediate post."""
    settings = await get_settings(db, guild_id)
    if settings.picks_channel_id is None:
        raise UserError("Set a picks channel first: `/config channel kind:picks`.")
    week = schedule.week_key(clock.now(), schedule.zone(settings.timezone))
    existing = await claimed_post(db, guild_id, week)
    if week_taken(existing, clock.now()):
        raise UserError(f"This week's picks ({week}) are already taken care of; see `/picks history`.")
    if existing is not None:  # a claim whose post never happened: give the week back, then pick afresh
        log.info("replacing weekly picks %s of guild %s, claimed but never posted", existing.id, guild_id)
        await release(db, existing.id)
    picks = await choose(db, settings, week, clock.now())
    if picks is None:
        raise UserError("No film is left to pick: every theme's films were picked lately or watched by the club.")
    post = await claim(
        db,
        clock,
        picks,
        trigger="now",
        channel_id=settings.picks_channel_id,
        requested_by=user_id,
        poll_wanted=settings.picks_poll,
    )
    if post is None:
        raise UserError(f"This week's picks ({week}) were just posted; see `/picks history`.")
    return post, picks


async def preview(db: Database, clock: Clock, guild_id: int) -> tuple[Picks | None, datetime | None]:
    """What the next post would show, and when it is due (``None`` when no schedule is set)."""
    settings = await get_settings(db, guild_id)
    tz = schedule.zone(settings.timezone)
    slot = await next_post_slot(db, clock, settings)
    at = slot or clock.now()
    if slot is None and await claimed_post(db, guild_id, schedule.week_key(at, tz)) is not None:
        at += schedule.WEEK
    return await choose(db, settings, schedule.week_key(at, tz), at), slot


# -- the watch-party poll -------------------------------------------------------------------------------------------

WATCH_PARTY_POLL_HOURS = 48


async def open_watch_party_poll(
    db: Database, clock: Clock, timers: TimerService, post: PicksPost, picks: Picks, *, creator_id: int
) -> int | None:
    """Open the watch-party poll among a post's picks, exactly once, when the week was claimed with one.

    The poll goes to the polls channel (or the picks channel) and closes after 48 hours; the polls feature posts it.
    The poll and the post's note of it are stored in one transaction, so calling this again (the slot's timer after
    a failure or a crash) finds the poll already opened, makes sure its timers are armed, and returns it. Returns the
    poll id, or ``None`` when the week was claimed without a poll or has too few films for one.
    """
    settings = await get_settings(db, post.guild_id)
    if not post.poll_wanted or len(picks.film_ids) < 2:
        return None
    poll_id = await picks_db.poll_of(db, post.id)
    if poll_id is not None:
        existing = await polls.get_poll(db, poll_id)
        if existing is not None and existing.is_open:  # a crash may have come before its timers were armed
            publish = existing.message_id is None
            await polls.arm_timers(
                timers, poll_id, existing.closes_at, clock.now(), guild_id=existing.guild_id, publish=publish
            )
        log.info("the watch-party poll of weekly picks %s is poll %s, already opened", post.id, poll_id)
        return poll_id

    async def record(tx: Transaction, poll_id: int) -> None:
        if not await picks_db.set_poll(tx, post.id, poll_id):
            raise RuntimeError(f"weekly picks {post.id} already have their watch-party poll")  # rolls this one back

    poll = await polls.create_poll(
        db,
        clock,
        timers,
        guild_id=post.guild_id,
        channel_id=settings.polls_channel_id or post.channel_id,
        creator_id=creator_id,
        title=f"Watch party: {picks.theme.title}",
        film_ids=picks.film_ids,
        closes_at=clock.now() + timedelta(hours=WATCH_PARTY_POLL_HOURS),
        voter_role_id=settings.voter_role_id,
        record=record,
    )
    return poll.id
