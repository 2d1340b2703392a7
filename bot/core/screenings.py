"""Screenings: a film shown to the club at a set time, as a Discord scheduled event with a reminder and a
"rate it" prompt afterwards.

Persisted timers carry a screening, so a restart loses none of it (:func:`rearm_screenings` re-arms any that are
missing at start-up):

- :data:`EVENT_TIMER`, due at once: the screenings cog creates the Discord scheduled event and announces it;
- :data:`REMIND_TIMER`, ``remind_minutes`` before the start: the members interested in the event are reminded;
- :data:`START_TIMER`, at the start: the Discord event is moved to active, so members' clients show it as live;
- :data:`AFTER_TIMER`, at the end: the event is moved to completed, the film is marked watched for the club and
  members are asked to rate it.

The last three are armed together, all or nothing, once the event exists (:func:`attach_event`). Their key names
the screening and the times they were armed for (:func:`step_key`), so when a moderator moves the event in
Discord, :func:`move_screening` arms new timers instead of rewriting the one that noticed the move while it runs.

A screening comes from ``/screening schedule`` or from a poll's winner (:func:`plan_screening` with ``poll_id``;
one screening per poll, so a close that runs twice schedules once). What a moderator typed for either is read and
checked by :func:`read_screening_plan`, against one clock reading, into a :class:`ScreeningPlan`:

- the start (``when``): still ahead, at most a year ahead (:data:`START`);
- the length: from 1 second to 3 days (:data:`LENGTH`; the default, the film's runtime plus :data:`DISCUSSION`,
  is always inside it: the catalog caps runtimes at 3,000 minutes; a server's own film whose running time is unknown
  counts :data:`UNKNOWN_RUNTIME`);
- the reminder: from 0 (at the start) to 1 week before (:data:`REMINDER`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum

from bot.core import films as films_core
from bot.core import hosts
from bot.core.clock import Clock, to_db
from bot.core.durations import YEAR, Span, Window, describe_duration, parse_moment, read_duration
from bot.core.errors import NotFoundError, UserError
from bot.core.shards import ShardSet
from bot.core.text import one_line
from bot.core.timers import TimerService
from bot.core.watch import mark_club_watched
from bot.db import screenings as screenings_db
from bot.db.database import Database, Reader, Transaction
from bot.db.screenings import Screening, ScreeningStatus

# Screening and ScreeningStatus are stored records (bot.db.screenings), named here for the cogs.
__all__ = [
    "AFTER_TIMER",
    "DEFAULT_REMIND_MINUTES",
    "DISCUSSION",
    "EVENT_DESCRIPTION_LIMIT",
    "EVENT_FALLBACK",
    "EVENT_TIMER",
    "GENERAL_PROMPTS",
    "LENGTH",
    "LOCATION_LIMIT",
    "REMINDER",
    "REMIND_TIMER",
    "START",
    "START_TIMER",
    "STEP_TIMERS",
    "THREAD_AFTER",
    "THREAD_ARCHIVE",
    "THREAD_ARCHIVE_TIMER",
    "THREAD_OPEN_TIMER",
    "TOLERANCE",
    "UNKNOWN_RUNTIME",
    "EventPhase",
    "EventState",
    "Followed",
    "Screening",
    "ScreeningPlan",
    "ScreeningStatus",
    "abandon",
    "announcement_footer",
    "announcement_marker",
    "archive_thread_later",
    "attach_event",
    "cancel_screening",
    "check_plan",
    "complete",
    "event_description",
    "event_marker",
    "follow_event",
    "get_screening",
    "guild_screening",
    "is_current",
    "is_event_of",
    "mark_announced",
    "mark_failed",
    "mark_reminded",
    "mark_started",
    "mark_thread_archived",
    "move_screening",
    "open_thread_later",
    "plan_screening",
    "rating_marker",
    "read_screening_plan",
    "rearm_screenings",
    "record_thread",
    "require_screening",
    "running_time",
    "screening_for_event",
    "screening_for_poll",
    "step_key",
    "steps",
    "thread_marker",
    "thread_name",
    "thread_prompts",
    "thread_seed_marker",
    "upcoming",
    "with_host_line",
]

EVENT_TIMER = "screenings.event"
REMIND_TIMER = "screenings.remind"
START_TIMER = "screenings.start"
AFTER_TIMER = "screenings.after"
STEP_TIMERS = (REMIND_TIMER, START_TIMER, AFTER_TIMER)
#: Due when a screening's discussion thread is to be archived (keyed by the screening's id).
THREAD_ARCHIVE_TIMER = "screenings.thread_archive"

#: When a command creates the event itself, its event timer waits this long before trying in its stead.
EVENT_FALLBACK = timedelta(seconds=30)
#: After the film's running time, this long for the discussion before the "rate it" prompt.
DISCUSSION = timedelta(minutes=15)
#: A film whose running time is unknown (a server's own film without details) is screened as if it ran this long.
UNKNOWN_RUNTIME = timedelta(minutes=120)
DEFAULT_REMIND_MINUTES = 60
LOCATION_LIMIT = 100
START = Window("The screening", timedelta(0), YEAR)
LENGTH = Span("The length", timedelta(seconds=1), timedelta(days=3))
REMINDER = Span("The reminder", timedelta(0), timedelta(weeks=1))
#: How long a discussion thread stays open (THREAD_ARCHIVE_DAYS, checked by the settings against this range).
THREAD_ARCHIVE = Span("The thread's life", timedelta(days=1), timedelta(days=30))
#: When the discussion thread opens, in minutes after the start (``/config screenings thread_after:``).
THREAD_AFTER = Span("The thread's delay", timedelta(0), timedelta(minutes=240))
#: Due when a screening's discussion thread is to open, when the server opens it after the start (keyed by the id).
THREAD_OPEN_TIMER = "screenings.thread_open"
#: Discord's limit on a thread's name.
THREAD_NAME_LIMIT = 100
#: For a film without curated prompts (a server's own film): a few questions that suit any film.
GENERAL_PROMPTS = (
    "Which scene will stay with you, and why?",
    "Did the ending work for you? What would you have changed?",
    "Who or what would you recommend this film to?",
)


def running_time(film: films_core.Film) -> timedelta:
    """How long the film runs: its runtime, or :data:`UNKNOWN_RUNTIME` when that is unknown (0)."""
    return timedelta(minutes=film.runtime) if film.runtime else UNKNOWN_RUNTIME


@dataclass(frozen=True)
class ScreeningPlan:
    """When and where a film will be screened, read and checked but not stored yet (a poll keeps one for its
    winner). ``length`` None: the film's runtime plus :data:`DISCUSSION`."""

    starts_at: datetime
    channel_id: int | None = None
    location: str | None = None
    remind_minutes: int = DEFAULT_REMIND_MINUTES
    length: timedelta | None = None


def check_plan(plan: ScreeningPlan, now: datetime) -> ScreeningPlan:
    """Every rule a screening's time and place follow, in one place; ``now`` is the reading the input was read
    against (or the moment a poll's winner is scheduled). Raises :class:`UserError`; returns ``plan`` with its
    location tidied."""
    location = one_line(plan.location) if plan.location else None
    if (plan.channel_id is None) == (location is None):
        raise UserError("Give the screening either a voice or stage channel, or a location (not both).")
    if location is not None and len(location) > LOCATION_LIMIT:
        raise UserError(f"Locations can be at most {LOCATION_LIMIT} characters.")
    START.check(plan.starts_at, now)
    if plan.length is not None:
        LENGTH.check_seconds(plan.length.total_seconds())
    REMINDER.check_seconds(plan.remind_minutes * 60.0)
    return ScreeningPlan(plan.starts_at, plan.channel_id, location, plan.remind_minutes, plan.length)


def read_screening_plan(
    now: datetime,
    timezone: str,
    *,
    when: str,
    channel_id: int | None = None,
    location: str | None = None,
    length: str | None = None,
    remind: str | None = None,
) -> ScreeningPlan:
    """A screening's options as a moderator typed them (``when`` "fri 20:00", ``length`` "2h", ``remind`` "30m" or
    "0"), read in the server's ``timezone`` and checked against this one ``now``. Bad input raises
    :class:`UserError` naming the allowed range."""
    plan = ScreeningPlan(
        starts_at=parse_moment(when, now, timezone, within=START),
        channel_id=channel_id,
        location=location,
        remind_minutes=(
            DEFAULT_REMIND_MINUTES if remind is None else int(read_duration(remind, REMINDER).total_seconds() // 60)
        ),
        length=None if length is None else read_duration(length, LENGTH),
    )
    return check_plan(plan, now)


async def get_screening(db: Reader, screening_id: int) -> Screening | None:
    return await screenings_db.by_id(db, screening_id)


async def require_screening(db: Reader, screening_id: int) -> Screening:
    """The screening with that id, wherever it is; :class:`NotFoundError` if there is none."""
    return await _require(db, screening_id)


async def _require(db: Reader, screening_id: int) -> Screening:
    screening = await get_screening(db, screening_id)
    if screening is None:
        raise NotFoundError(f"There is no screening #{screening_id}.")
    return screening


async def guild_screening(db: Reader, guild_id: int, screening_id: int) -> Screening:
    screening = await get_screening(db, screening_id)
    if screening is None or screening.guild_id != guild_id:
        raise NotFoundError(f"There is no screening #{screening_id} in this server.")
    return screening


async def screening_for_poll(db: Reader, poll_id: int) -> Screening | None:
    return await screenings_db.by_poll(db, poll_id)


async def screening_for_event(db: Reader, event_id: int) -> Screening | None:
    return await screenings_db.by_event(db, event_id)


async def upcoming(db: Reader, guild_id: int) -> list[Screening]:
    return await screenings_db.upcoming(db, guild_id)


async def plan_screening(
    db: Database,
    clock: Clock,
    timers: TimerService,
    *,
    guild_id: int,
    film_id: int,
    starts_at: datetime,
    announce_channel_id: int,
    channel_id: int | None = None,
    location: str | None = None,
    length: timedelta | None = None,
    remind_minutes: int = DEFAULT_REMIND_MINUTES,
    poll_id: int | None = None,
    created_by: int | None = None,
    now: datetime | None = None,
    event_due: datetime | None = None,
    record: Callable[[Transaction, int], Awaitable[None]] | None = None,
) -> Screening:
    """Store a screening and arm the timer that creates its Discord event; bad input raises :class:`UserError`.

    ``record(tx, screening_id)`` runs in the transaction that stores the screening: what it raises rolls the
    screening back, so a caller that binds it to something else (a night, bot.core.nights) leaves nothing behind
    when the binding fails.

    ``length`` defaults to the film's running time plus :data:`DISCUSSION`. With ``poll_id``, a second call for the
    same poll returns the first screening. ``now`` is the clock reading the input was read against (see
    :func:`read_screening_plan`); without it, the clock is read here. The event timer is due at ``event_due``
    (default: at once); a caller that creates the event itself passes a later time, so the timer is only the
    safety net and does not race it.
    """
    now = clock.now() if now is None else now
    film = await films_core.get_film(db, film_id)
    if film is None or film.retired or not film.visible_in(guild_id):
        raise NotFoundError(f"Film #{film_id} is not in the catalog.")
    plan = check_plan(ScreeningPlan(starts_at, channel_id, location, remind_minutes, length), now)
    span = plan.length if plan.length is not None else running_time(film) + DISCUSSION
    values = {
        "guild_id": guild_id,
        "film_id": film_id,
        "poll_id": poll_id,
        "created_by": created_by,
        "channel_id": plan.channel_id,
        "location": plan.location,
        "announce_channel_id": announce_channel_id,
        "starts_at": to_db(plan.starts_at),
        "ends_at": to_db(plan.starts_at + span),
        "remind_minutes": plan.remind_minutes,
        "created_at": to_db(now),
    }
    async with db.transaction() as tx:
        existing = None if poll_id is None else await screenings_db.by_poll(tx, poll_id)
        if existing is not None:
            return existing
        screening_id = await screenings_db.insert(tx, values)
        await hosts.assign_host(tx, guild_id, screening_id)
        if record is not None:
            await record(tx, screening_id)
    due = now if event_due is None else max(now, event_due)
    await timers.schedule(EVENT_TIMER, str(screening_id), due, {"screening_id": screening_id}, guild_id=guild_id)
    return await _require(db, screening_id)


class EventPhase(IntEnum):
    """A Discord scheduled event's status (Discord's own numbers)."""

    SCHEDULED = 1
    ACTIVE = 2
    COMPLETED = 3
    CANCELLED = 4


@dataclass(frozen=True)
class EventState:
    """The screening's Discord event as it is now, which a moderator may have changed in Discord."""

    phase: EventPhase
    starts_at: datetime
    ends_at: datetime | None


class Followed(StrEnum):
    """What became of a screening after comparing it with its event."""

    UNCHANGED = "unchanged"  # the step due now runs
    CANCELLED = "cancelled"  # deleted or cancelled in Discord before it started: the screening is off
    MOVED = "moved"  # moved in Discord: the screening moved with it, its steps re-armed for the new times


#: Event times Discord reports this close to ours are the same time (Discord keeps milliseconds; we keep microseconds).
TOLERANCE = timedelta(seconds=1)


async def follow_event(
    db: Database, clock: Clock, timers: TimerService, screening: Screening, event: EventState | None
) -> Followed:
    """Follow what a moderator did to the event in Discord (``event`` None: deleted) before a step acts on it."""
    if event is None and screening.started_at is not None:
        return Followed.UNCHANGED  # deleted once it had started: the screening still happened
    if event is None or event.phase is EventPhase.CANCELLED:
        await cancel_screening(db, timers, screening.id)
        return Followed.CANCELLED
    ends_at = event.ends_at or event.starts_at + (screening.ends_at - screening.starts_at)
    moved = abs(event.starts_at - screening.starts_at) > TOLERANCE or abs(ends_at - screening.ends_at) > TOLERANCE
    if moved and event.phase in (EventPhase.SCHEDULED, EventPhase.ACTIVE):
        await move_screening(db, clock, timers, screening.id, event.starts_at, ends_at)
        return Followed.MOVED
    return Followed.UNCHANGED


def step_key(screening: Screening) -> str:
    """The key of a scheduled screening's step timers: its id and the times they were armed for."""
    return f"{screening.id}@{to_db(screening.starts_at)}/{to_db(screening.ends_at)}"


def is_current(screening: Screening, key: str) -> bool:
    """Whether a step timer with ``key`` is one the scheduled screening still runs: not one armed for times the
    event has since been moved from (it may already be running when the move cancels it)."""
    return screening.status is ScreeningStatus.SCHEDULED and key in (step_key(screening), str(screening.id))


def steps(screening: Screening, now: datetime) -> list[tuple[str, datetime]]:
    """The step timers a scheduled screening still needs, with when each is due (a late one at once).

    Raises :class:`UserError` if the stored values cannot carry a screening (a row written before the ranges were
    checked, e.g. a reminder 999999 weeks ahead): better refused than a screening that silently loses its night.
    """
    REMINDER.check_seconds(screening.remind_minutes * 60.0)
    if screening.ends_at <= screening.starts_at:
        raise UserError("A screening has to end after it starts.")
    due: list[tuple[str, datetime]] = []
    if screening.reminded_at is None:
        due.append((REMIND_TIMER, max(now, screening.remind_at)))
    if screening.started_at is None:
        due.append((START_TIMER, max(now, screening.starts_at)))
    due.append((AFTER_TIMER, screening.ends_at))
    return due


async def _arm_steps(timers: TimerService, screening: Screening, now: datetime) -> None:
    payload = {"screening_id": screening.id}
    for kind, due_at in steps(screening, now):
        await timers.schedule(kind, step_key(screening), due_at, payload, guild_id=screening.guild_id)


async def _cancel_steps(timers: TimerService, screening: Screening) -> None:
    for kind in STEP_TIMERS:
        await timers.cancel(kind, step_key(screening))
        await timers.cancel(kind, str(screening.id))  # keyed by id alone before step keys existed


async def attach_event(db: Database, clock: Clock, timers: TimerService, screening_id: int, event_id: int) -> Screening:
    """The Discord event exists: remember it and arm the reminder, start and after-screening timers, all or nothing.

    Every step is checked before anything is written; if a write fails midway, the screening is marked failed and
    the timers already armed are cancelled, then the error is raised (the caller deletes the Discord event).
    """
    screening = await _require(db, screening_id)
    now = clock.now()
    steps(screening, now)  # refuses before writing anything
    try:
        if not await screenings_db.attach_event(db, screening_id, event_id):
            return await _require(db, screening_id)  # attached already (a re-run): its timers are armed
        screening = await _require(db, screening_id)
        await _arm_steps(timers, screening, now)
    except Exception:
        await abandon(db, timers, screening_id)
        raise
    return screening


async def abandon(db: Database, timers: TimerService, screening_id: int) -> None:
    """The screening could not be set up: mark it failed (its host gets their turn back, as for a cancellation) and
    cancel every timer it has."""
    now = timers.clock.now()
    await _call_off(db, now, screening_id, lambda tx: screenings_db.fail(tx, screening_id, to_db(now)))
    screening = await get_screening(db, screening_id)
    await timers.cancel(EVENT_TIMER, str(screening_id))
    if screening is not None:
        await _cancel_steps(timers, screening)


async def mark_announced(db: Database, clock: Clock, screening_id: int) -> bool:
    """Record that the announcement step is done; False if it already was (a re-run must not announce twice)."""
    return await screenings_db.mark_announced(db, screening_id, to_db(clock.now()))


async def mark_failed(db: Database, clock: Clock, screening_id: int) -> None:
    """The screening cannot be set up (its film or server is gone): failed, its host's turn given back."""
    now = clock.now()
    await _call_off(db, now, screening_id, lambda tx: screenings_db.fail(tx, screening_id, to_db(now)))


async def _call_off(
    db: Database, now: datetime, screening_id: int, write: Callable[[Transaction], Awaitable[bool]]
) -> bool:
    """Cancel or fail a screening with ``write``, in one transaction with what that means for the host rota: a host
    whose turn was still to come gets it back (:func:`bot.core.hosts.give_turn_back_in`), and swap offers of its
    turn still open are void. Returns what ``write`` did."""
    async with db.transaction() as tx:
        before = await screenings_db.by_id(tx, screening_id)
        if before is not None and before.host_id is not None:
            await hosts.give_turn_back_in(tx, now, before.guild_id, before.host_id, screening_id)
        changed = await write(tx)
        if changed:
            await hosts.void_swaps_in(tx, screening_id)
    return changed


async def mark_started(db: Database, clock: Clock, screening_id: int) -> bool:
    """Record that the event was started (or found started); False if it already was. Its host's turn can no longer
    be swapped: offers of it still open are void."""
    async with db.transaction() as tx:
        started = await screenings_db.mark_started(tx, screening_id, to_db(clock.now()))
        if started:
            await hosts.void_swaps_in(tx, screening_id)
    return started


async def move_screening(
    db: Database, clock: Clock, timers: TimerService, screening_id: int, starts_at: datetime, ends_at: datetime
) -> Screening:
    """A moderator moved the Discord event: follow it, and arm the steps still to come for the new times."""
    screening = await _require(db, screening_id)
    if (starts_at, ends_at) == (screening.starts_at, screening.ends_at) or ends_at <= starts_at:
        return screening
    await _cancel_steps(timers, screening)
    await screenings_db.move(db, screening_id, to_db(starts_at), to_db(ends_at), to_db(clock.now()))
    moved = await _require(db, screening_id)
    if moved.status is ScreeningStatus.SCHEDULED:
        await _arm_steps(timers, moved, clock.now())
    return moved


async def rearm_screenings(db: Database, clock: Clock, timers: TimerService, shards: ShardSet) -> int:
    """Give every unfinished screening of this process's shards the timers for its next steps that it never got;
    return how many were armed.

    Covers a crash between two steps (the event created but its timers not yet armed, say). Each step's handler
    is idempotent and records that it ran, so a timer armed twice does its work once. A timer that already ran and
    ended (failed for good, say) is not armed again: that would give it fresh attempts at every restart.
    """
    now = clock.now()
    wanted: list[tuple[str, str, datetime, Screening]] = []
    for screening in await screenings_db.unfinished(db, shards.count, shards.ids):
        if screening.status is ScreeningStatus.PLANNED:
            due = [(EVENT_TIMER, str(screening.id), now)]
        else:
            try:
                due = [(kind, step_key(screening), at) for kind, at in steps(screening, now)]
            except UserError:
                await abandon(db, timers, screening.id)
                continue
            if screening.needs_announcement:
                due.append((EVENT_TIMER, str(screening.id), now))  # its re-run posts the announcement
        wanted.extend((kind, key, at, screening) for kind, key, at in due)
    armed = await timers.ever_armed([(kind, key) for kind, key, _at, _screening in wanted])
    missing = [(kind, key, at, screening) for kind, key, at, screening in wanted if (kind, key) not in armed]
    for kind, key, at, screening in missing:
        payload = {"screening_id": screening.id}
        await timers.schedule(kind, key, at, payload, guild_id=screening.guild_id)
    return len(missing)


async def mark_reminded(db: Database, clock: Clock, screening_id: int) -> bool:
    """Record that the reminder went out; False if it already had (a re-run timer must not remind twice)."""
    return await screenings_db.mark_reminded(db, screening_id, to_db(clock.now()))


async def complete(db: Database, clock: Clock, screening_id: int) -> bool:
    """The screening happened: the club has watched the film. False if it was already completed (or cancelled)."""
    screening = await get_screening(db, screening_id)
    if screening is None or screening.status is not ScreeningStatus.SCHEDULED:
        return False
    reference = f"event:{screening.event_id}" if screening.event_id else f"screening:{screening.id}"
    await mark_club_watched(db, clock, screening.guild_id, screening.film_id, source="screening", reference=reference)
    return await screenings_db.complete(db, screening_id, to_db(clock.now()))


async def cancel_screening(db: Database, timers: TimerService, screening_id: int) -> bool:
    """Call the screening off (False: it already was, or it is over); its timers are cancelled. A host whose turn it
    was still to come gets it back, and open swap offers of it are void, in the same transaction (:func:`_call_off`)."""
    now = timers.clock.now()
    changed = await _call_off(db, now, screening_id, lambda tx: screenings_db.cancel(tx, screening_id, to_db(now)))
    await timers.cancel(EVENT_TIMER, str(screening_id))
    screening = await get_screening(db, screening_id)
    if screening is not None:
        await _cancel_steps(timers, screening)
    return changed


#: Discord's limit on a scheduled event's description.
EVENT_DESCRIPTION_LIMIT = 1000


def event_marker(screening_id: int) -> str:
    """The last line of the screening's event description: it names the screening, so that a retry after a crash
    between Discord creating the event and the bot recording it finds that event instead of creating a second."""
    return f"Screening #{screening_id}"


def is_event_of(description: str | None, screening_id: int) -> bool:
    """Whether an event's description carries the marker of this screening (a whole line: #1 is not #12)."""
    return event_marker(screening_id) in (description or "").splitlines()


def announcement_marker(screening_id: int) -> str:
    """The start of the footer of the screening's announcement, which a re-run looks for before posting it again
    (the " · " keeps #1 from matching #12; the words keep it apart from the "rate it" prompt's)."""
    return f"Screening #{screening_id} · members who click Interested"


def announcement_footer(screening_id: int, remind_minutes: int) -> str:
    """The announcement's footer: its :func:`announcement_marker`, then when the reminder comes."""
    when = f"{describe_duration(timedelta(minutes=remind_minutes))} before" if remind_minutes else "when it starts"
    return f"{announcement_marker(screening_id)} are reminded {when}"


def rating_marker(screening_id: int) -> str:
    """The footer of the screening's "rate it" prompt, which a retry looks for before posting it again."""
    return f"Screening #{screening_id} · after the screening"


def event_description(film: films_core.Film, screening_id: int, *, poll_title: str | None = None) -> str:
    """The scheduled event's description, from the catalog, ending with the screening's :func:`event_marker`
    (kept whole when the rest is shortened to Discord's 1000 characters)."""
    people = ", ".join(film.directors)
    lines = [film.blurb, "", f"{film.label} · {film.length} · directed by {people}"]
    if film.featuring:
        lines.append("With " + ", ".join(film.featuring[:6]))
    if poll_title:
        lines.append(f"Chosen by the club in the poll “{poll_title}”.")
    text = "\n".join(lines)
    marker = "\n\n" + event_marker(screening_id)
    room = EVENT_DESCRIPTION_LIMIT - len(marker)
    if len(text) > room:
        text = text[: room - 1].rstrip() + "…"
    return text + marker


HOST_PREFIX = "Hosted by "


def with_host_line(description: str, host: str | None) -> str:
    """The event description with its host line (``host``: the member's name as shown; None: no host) just above
    the last line (the screening's marker), replacing any host line it had; the text above is shortened to keep
    within Discord's 1000 characters."""
    lines = [line for line in description.split("\n") if not line.startswith(HOST_PREFIX)]
    head, marker = "\n".join(lines[:-1]).rstrip(), lines[-1]
    tail = ("\n" + HOST_PREFIX + host if host else "") + "\n\n" + marker
    room = EVENT_DESCRIPTION_LIMIT - len(tail)
    if len(head) > room:
        head = head[: room - 1].rstrip() + "…"
    return head + tail


# -- the discussion thread --------------------------------------------------------------------------------------------


def thread_prompts(film: films_core.Film) -> tuple[str, ...]:
    """The questions the screening's thread opens with: the film's curated prompts, or :data:`GENERAL_PROMPTS`."""
    return film.prompts or GENERAL_PROMPTS


def thread_name(film: films_core.Film) -> str:
    """The thread's name (Discord: at most 100 characters)."""
    name = f"Discussion: {film.label}"
    return name if len(name) <= THREAD_NAME_LIMIT else name[: THREAD_NAME_LIMIT - 1].rstrip() + "…"


def thread_marker(screening_id: int) -> str:
    """The footer of the thread's starter post: a retry after a crash finds that post and the thread that shares its
    id, instead of opening a second thread (the words keep it apart from the other posts' markers)."""
    return f"Screening #{screening_id} · discussion thread"


def thread_seed_marker(screening_id: int) -> str:
    """The footer of the thread's first post (prompts and the Rate it button), which a retry looks for."""
    return f"Screening #{screening_id} · spoilers"


async def record_thread(db: Database, screening_id: int, thread_id: int) -> bool:
    """Remember the screening's thread; False if it had one already (a re-run keeps the first)."""
    return await screenings_db.set_thread(db, screening_id, thread_id)


async def archive_thread_later(
    timers: TimerService, screening: Screening, thread_id: int, opened_at: datetime, days: int
) -> None:
    """Arm the timer that archives the thread ``days`` after it opened (a persisted timer: a restart keeps it).
    ``days`` outside :data:`THREAD_ARCHIVE` raises :class:`UserError`."""
    THREAD_ARCHIVE.check_seconds(days * 86400.0)
    due = opened_at + timedelta(days=days)
    payload = {"screening_id": screening.id, "thread_id": thread_id}
    await timers.schedule(THREAD_ARCHIVE_TIMER, str(screening.id), due, payload, guild_id=screening.guild_id)


async def open_thread_later(timers: TimerService, screening: Screening, minutes: int) -> datetime:
    """Arm the timer that opens the screening's thread ``minutes`` after its start (a persisted timer, armed once per
    screening: a second call keeps it). Returns when it is due; ``minutes`` outside :data:`THREAD_AFTER` raises
    :class:`UserError`."""
    THREAD_AFTER.check_seconds(minutes * 60.0)
    due = screening.starts_at + timedelta(minutes=minutes)
    key = (THREAD_OPEN_TIMER, str(screening.id))
    if not await timers.ever_armed([key]):
        payload = {"screening_id": screening.id}
        await timers.schedule(THREAD_OPEN_TIMER, str(screening.id), due, payload, guild_id=screening.guild_id)
    return due


async def mark_thread_archived(db: Database, clock: Clock, screening_id: int) -> bool:
    return await screenings_db.mark_thread_archived(db, screening_id, to_db(clock.now()))
