"""Watch-party polls: creating them, casting and changing ballots, closing them with a counted, explained result.

Rules the database enforces, not just this code: one ballot per member per poll (primary key), a vote only while the
poll is open and before its deadline (checked in the same statement or transaction that writes the ballot), and a
close that flips the status and reads the ballots in one transaction, so every vote acknowledged before the close is
counted and none after it. A vote is committed before the member is told it was recorded.

Deadlines are persisted timers (kind :data:`CLOSE_TIMER`, key = poll id). A poll is posted to Discord by the polls
cog; :func:`create_poll` also schedules a :data:`PUBLISH_TIMER` due at once, so a poll created by another feature (or
left unposted by a crash) is posted as soon as the bot runs its timers. Posting is exactly once: the poll's message
carries :attr:`Poll.marker`, and the publish timer first looks for the bot's own post with that marker (a crash may
have come after Discord took the message but before :func:`attach_message` recorded it), and adopts it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from bot.core import films as films_core
from bot.core import screenings as screenings_core
from bot.core import tally as counting
from bot.core.clock import Clock, from_db, to_db
from bot.core.durations import Window, parse_moment
from bot.core.errors import NotFoundError, PermissionDenied, UserError
from bot.core.reviews import film_ratings
from bot.core.screenings import ScreeningPlan
from bot.core.shards import ShardSet
from bot.core.tally import MAX_RANKS, FilmRating, Method, Tally, TieBreakFacts
from bot.core.text import one_line
from bot.core.timers import TimerService
from bot.db import nominations as nominations_db
from bot.db import polls as polls_db
from bot.db.database import Database, Reader, Transaction
from bot.db.polls import Candidate, PluralityVote

CLOSE_TIMER = "polls.close"
PUBLISH_TIMER = "polls.publish"
#: Redraws a posted poll's message after its deadline moved (:func:`move_deadline`).
REDRAW_TIMER = "polls.redraw"

#: Every id we store (polls, films, members, channels, messages) is an SQLite INTEGER, a signed 64-bit number; an id
#: outside 1..ID_MAX (from a forged custom id or option) names nothing, and is refused before any query.
ID_MAX = 2**63 - 1
#: Poll numbers as members type them in /poll end|cancel|status: Discord's integer options stop at 2**53.
POLL_NUMBER_MAX = 2**53
MIN_CANDIDATES = 2
MAX_CANDIDATES = 25
NATIVE_MAX_CANDIDATES = 10
NATIVE_ANSWER_LIMIT = 55
TITLE_LIMIT = 200
MIN_DURATION = timedelta(seconds=3)
MAX_DURATION = timedelta(weeks=12)
#: Discord's own polls last whole hours, at most 32 days.
NATIVE_MAX_DURATION = timedelta(days=32)
DEFAULT_SOURCE_COUNT = 5
#: How long a batch of votes may wait for more of the same burst before it is written (see BallotBox).
GATHER_LIMIT = 0.01
#: A vote within this long of the last batch is part of a burst, and waits BURST_GATHER for the rest of it.
BURST_WINDOW = 0.05
BURST_GATHER = 0.003


class Status(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Style(StrEnum):
    BUTTONS = "buttons"  # our own components; every ballot is stored
    NATIVE = "native"  # a Discord poll; Discord keeps the votes, we read the final counts


@dataclass(frozen=True)
class Poll:
    id: int
    guild_id: int
    channel_id: int
    message_id: int | None
    creator_id: int
    title: str
    method: Method
    style: Style
    show_counts: bool
    voter_role_id: int | None
    status: Status
    created_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    closed_by: int | None
    winner_film_id: int | None
    result: Tally | None
    result_message_id: int | None
    screening: ScreeningPlan | None
    candidates: tuple[Candidate, ...]

    @property
    def film_ids(self) -> list[int]:
        return [c.film_id for c in self.candidates]

    @property
    def is_open(self) -> bool:
        return self.status is Status.OPEN

    @property
    def marker(self) -> str:
        """The start of the poll message's footer: it names the poll, so that a post a crash left unrecorded is found
        in the channel and adopted rather than posted again. (The result's footer starts the same way, but a result
        exists only once the poll is closed, and only an open poll is ever posted.)"""
        return f"Poll #{self.id} · "


@dataclass(frozen=True)
class VoteReceipt:
    """What a member's ballot holds after a vote: the films, in their order (ranked) or as chosen."""

    poll: Poll
    choices: tuple[int, ...]
    note: str = ""


def _poll(record: polls_db.PollRecord) -> Poll:
    screening = None
    if record.screening_at is not None:
        screening = ScreeningPlan(
            from_db(record.screening_at),
            record.screening_channel_id,
            record.screening_location,
            record.remind_minutes,
        )
    return Poll(
        id=record.id,
        guild_id=record.guild_id,
        channel_id=record.channel_id,
        message_id=record.message_id,
        creator_id=record.creator_id,
        title=record.title,
        method=Method(record.method),
        style=Style(record.style),
        show_counts=record.show_counts,
        voter_role_id=record.voter_role_id,
        status=Status(record.status),
        created_at=from_db(record.created_at),
        closes_at=from_db(record.closes_at),
        closed_at=None if record.closed_at is None else from_db(record.closed_at),
        closed_by=record.closed_by,
        winner_film_id=record.winner_film_id,
        result=None if record.result is None else Tally.from_json(record.result),
        result_message_id=record.result_message_id,
        screening=screening,
        candidates=record.candidates,
    )


def valid_id(value: int) -> bool:
    """Whether ``value`` can be one of our ids at all (see :data:`ID_MAX`)."""
    return 1 <= value <= ID_MAX


def shown_number(value: int) -> str:
    """A number a member sent, short enough to quote back."""
    text = str(value)
    return text if len(text) <= 20 else text[:19] + "…"


async def get_poll(db: Reader, poll_id: int) -> Poll | None:
    if not valid_id(poll_id):
        return None
    record = await polls_db.poll(db, poll_id)
    return None if record is None else _poll(record)


async def _require(db: Reader, poll_id: int) -> Poll:
    poll = await get_poll(db, poll_id)
    if poll is None:
        raise NotFoundError(f"There is no poll #{shown_number(poll_id)}.")
    return poll


async def guild_poll(db: Reader, guild_id: int, poll_id: int) -> Poll:
    """The poll with that number in this server, or a member-facing "not found"."""
    poll = await get_poll(db, poll_id)
    if poll is None or poll.guild_id != guild_id:
        raise NotFoundError(
            f"There is no poll #{shown_number(poll_id)} in this server. `/poll list` shows the open ones."
        )
    return poll


async def poll_by_message(db: Reader, message_id: int) -> Poll | None:
    record = await polls_db.poll_by_message(db, message_id)
    return None if record is None else _poll(record)


async def open_polls(db: Reader, guild_id: int) -> list[Poll]:
    return [_poll(record) for record in await polls_db.open_polls(db, guild_id)]


async def recent_polls(db: Reader, guild_id: int, limit: int = 25) -> list[Poll]:
    """Open polls first (soonest deadline last among them), then the latest closed ones: for autocomplete."""
    return [_poll(record) for record in await polls_db.recent_polls(db, guild_id, limit)]


# -- creating -------------------------------------------------------------------------------------------------------


def check_candidates(film_ids: Sequence[int], *, style: Style = Style.BUTTONS) -> None:
    """Refuse ids that name no film, duplicates, too few or too many candidates, with a member-facing message."""
    if not all(valid_id(film_id) for film_id in film_ids):
        raise NotFoundError("A film on this list is not in the catalog (any more).")
    if len(set(film_ids)) != len(film_ids):
        raise UserError("A film is on the list twice; each film can be a candidate once.")
    limit = NATIVE_MAX_CANDIDATES if style is Style.NATIVE else MAX_CANDIDATES
    if len(film_ids) < MIN_CANDIDATES:
        raise UserError(f"A poll needs at least {MIN_CANDIDATES} films; this one has {len(film_ids)}.")
    if len(film_ids) > limit:
        what = "Discord's own polls take" if style is Style.NATIVE else "A poll takes"
        raise UserError(f"{what} at most {limit} films; this one has {len(film_ids)}.")


async def create_poll(
    db: Database,
    clock: Clock,
    timers: TimerService,
    *,
    guild_id: int,
    channel_id: int,
    creator_id: int,
    title: str,
    film_ids: Sequence[int],
    method: Method | str = Method.PLURALITY,
    closes_at: datetime,
    voter_role_id: int | None = None,
    show_counts: bool = True,
    style: Style | str = Style.BUTTONS,
    screening: ScreeningPlan | None = None,
    now: datetime | None = None,
    publish_timer: bool = True,
    record: Callable[[Transaction, int], Awaitable[None]] | None = None,
) -> Poll:
    """Validate and store a poll among ``film_ids`` (catalog ids, in ballot order) and arm its timers.

    ``record(tx, poll_id)`` runs in the transaction that stores the poll: a feature that opens polls on its own
    (weekly picks) notes the poll there, so a crash can never leave the poll without the note or the note without it.

    The poll is posted in ``channel_id`` by the polls cog: at once through the publish timer, or, with
    ``publish_timer=False``, by the caller itself (the /poll command, which tells the moderator if Discord refuses;
    a poll a crash left unposted gets its publish timer back at start-up, :func:`rearm_open_polls`). Raises
    :class:`UserError` for bad input, and then nothing is written. ``now`` is the one
    clock reading the deadline and the screening were read against (see :func:`read_deadline`); the clock is read
    here only when the caller computed the deadline without one.
    """
    method, style = Method(method), Style(style)
    now = clock.now() if now is None else now
    title = one_line(title)
    if not title:
        raise UserError("Give the poll a title.")
    if len(title) > TITLE_LIMIT:
        raise UserError(f"Poll titles can be at most {TITLE_LIMIT} characters.")
    ids = list(film_ids)
    check_candidates(ids, style=style)
    found = await films_core.get_films(db, ids)
    for film_id in ids:
        film = found.get(film_id)
        if film is None or film.retired or not film.visible_in(guild_id):
            raise NotFoundError(f"Film #{film_id} is not in the catalog.")
    deadline_window(style).check(closes_at, now)
    if style is Style.NATIVE:
        if method is Method.RANKED:
            raise UserError("Discord's own polls can't do ranked choice; use the button style for that.")
        if voter_role_id is not None:
            raise UserError("Discord's own polls can't be limited to a role; use the button style for that.")
        if not show_counts:
            raise UserError("Discord's own polls always show the counts to voters; use the button style to hide them.")
    if screening is not None:
        screening = check_screening(screening, now=now, after=closes_at)
    first_seen = await polls_db.first_watchlisted(db, guild_id, ids)
    created = to_db(now)
    new = polls_db.NewPoll(
        guild_id=guild_id,
        channel_id=channel_id,
        creator_id=creator_id,
        title=title,
        method=str(method),
        style=str(style),
        show_counts=show_counts,
        voter_role_id=voter_role_id,
        created_at=created,
        closes_at=to_db(closes_at),
        screening_at=None if screening is None else to_db(screening.starts_at),
        screening_channel_id=None if screening is None else screening.channel_id,
        screening_location=None if screening is None else screening.location,
        remind_minutes=60 if screening is None else screening.remind_minutes,
        candidates=tuple(
            Candidate(position, film, min(first_seen.get(film, created), created))
            for position, film in enumerate(ids, start=1)
        ),
    )
    async with db.transaction() as tx:
        poll_id = await polls_db.insert_poll(tx, new)
        if record is not None:
            await record(tx, poll_id)
    await arm_timers(timers, poll_id, closes_at, now, guild_id=guild_id, publish=publish_timer)
    return await _require(db, poll_id)


def deadline_window(style: Style | str = Style.BUTTONS) -> Window:
    """How far ahead a poll may close: at least :data:`MIN_DURATION`, at most :data:`MAX_DURATION` (Discord's own
    polls: :data:`NATIVE_MAX_DURATION`)."""
    longest = NATIVE_MAX_DURATION if Style(style) is Style.NATIVE else MAX_DURATION
    return Window("The deadline", MIN_DURATION, longest)


def read_deadline(text: str, now: datetime, timezone: str, *, style: Style | str = Style.BUTTONS) -> datetime:
    """The deadline a moderator typed ("90m", "fri 20:00"), read and checked against this one clock reading (pass the
    same ``now`` to :func:`create_poll`, so "3s" is exactly the three-second minimum and accepted)."""
    return parse_moment(text, now, timezone, within=deadline_window(style))


def screening_plan(
    *,
    starts: str | None,
    channel_id: int | None,
    location: str | None,
    remind: str | None,
    now: datetime,
    timezone: str,
) -> ScreeningPlan | None:
    """The winner's screening a moderator asked for with a new poll (``None`` when they asked for none), read against
    the same ``now`` as the poll's deadline.

    ``starts`` and ``remind`` are what they typed; the time needs a channel or a location, and ``remind`` goes with
    a time ("0" for no reminder, one hour when left out). The ranges are the screenings feature's own.
    """
    if starts is None and channel_id is None and location is None:
        if remind is not None:
            raise UserError("`remind` goes with a `screening` time.")
        return None
    if starts is None:
        raise UserError("Give the `screening` time as well as its channel or location.")
    return screenings_core.read_screening_plan(
        now, timezone, when=starts, channel_id=channel_id, location=location, remind=remind
    )


def check_screening(plan: ScreeningPlan, *, now: datetime, after: datetime) -> ScreeningPlan:
    """The screenings feature's rules, and one of ours: the winner's screening starts after the poll closes."""
    plan = screenings_core.check_plan(plan, now)
    if plan.starts_at <= after:
        raise UserError("The screening has to start after the poll closes.")
    return plan


async def arm_timers(
    timers: TimerService, poll_id: int, closes_at: datetime, now: datetime, *, guild_id: int, publish: bool
) -> None:
    await timers.schedule(CLOSE_TIMER, str(poll_id), closes_at, {"poll_id": poll_id}, guild_id=guild_id)
    if publish:
        await timers.schedule(PUBLISH_TIMER, str(poll_id), now, {"poll_id": poll_id}, guild_id=guild_id)


async def move_deadline(
    db: Database, clock: Clock, timers: TimerService, poll_id: int, closes_at: datetime
) -> Poll | None:
    """Move an open poll's deadline, and its close timer with it; the poll as it is now. Never into the past: a
    deadline already gone is now, and the poll closes at once. A posted poll's message, which shows the deadline, is
    redrawn by a :data:`REDRAW_TIMER` due now. None when the poll is not open, or is Discord's own (Discord fixed its
    length when it was posted)."""
    now = clock.now()
    poll = await get_poll(db, poll_id)
    if poll is None or poll.status is not Status.OPEN or poll.style is Style.NATIVE:
        return None
    closes_at = max(closes_at, now, poll.created_at + MIN_DURATION)  # a poll's deadline comes after its creation
    if not await polls_db.move_deadline(db, poll_id, to_db(closes_at)):
        return None  # closed or cancelled meanwhile
    payload = {"poll_id": poll_id}
    await timers.schedule(CLOSE_TIMER, str(poll_id), closes_at, payload, guild_id=poll.guild_id)
    await timers.schedule(REDRAW_TIMER, str(poll_id), now, payload, guild_id=poll.guild_id)
    return await get_poll(db, poll_id)


async def rearm_open_polls(db: Database, clock: Clock, timers: TimerService, shards: ShardSet) -> int:
    """Give every open poll of this process's shards the close timer (and an unposted one the publish timer) it never
    got; return how many were armed. Covers a crash between storing a poll and scheduling its timers, and a poll
    /poll create stored but did not record as posted (it schedules no publish timer). A timer that already ran and
    ended (failed for good, say) is not armed again: that would give it fresh attempts at every restart."""
    rearmed = 0
    for poll in await polls_db.open_polls_without_timer(db, CLOSE_TIMER, shards.count, shards.ids):
        await timers.schedule(
            CLOSE_TIMER, str(poll.id), from_db(poll.closes_at), {"poll_id": poll.id}, guild_id=poll.guild_id
        )
        rearmed += 1
    for poll in await polls_db.open_polls_without_timer(db, PUBLISH_TIMER, shards.count, shards.ids, unposted=True):
        await timers.schedule(PUBLISH_TIMER, str(poll.id), clock.now(), {"poll_id": poll.id}, guild_id=poll.guild_id)
        rearmed += 1
    return rearmed


async def posted_open_polls(db: Database, shards: ShardSet) -> list[Poll]:
    """Every open poll that has been posted, in the servers of this process's shards: their vote buttons are
    re-registered at start-up."""
    records = await polls_db.open_polls_on_shards(db, shards.count, shards.ids)
    return [_poll(record) for record in records if record.message_id is not None]


async def attach_message(db: Database, poll_id: int, message_id: int) -> bool:
    """Remember the message the poll was posted as; False if it already had one (posted twice: delete the new one)."""
    return await polls_db.attach_message(db, poll_id, message_id)


async def record_result_message(db: Database, poll_id: int, message_id: int) -> None:
    await polls_db.record_result_message(db, poll_id, message_id)


# -- voting ---------------------------------------------------------------------------------------------------------


def _refusal(poll: Poll | None, now: datetime, *, guild_id: int, role_ids: Collection[int]) -> UserError | None:
    """Why a member may not vote in ``poll`` right now, or None if they may."""
    if poll is None or poll.guild_id != guild_id:
        return NotFoundError("This poll no longer exists.")
    if poll.status is Status.CANCELLED:
        return UserError("This poll was cancelled, so it takes no more votes.")
    if poll.status is Status.CLOSED or poll.closes_at <= now:
        return UserError("This poll has closed; the result is (or will shortly be) posted under it.")
    if poll.voter_role_id is not None and poll.voter_role_id not in role_ids:
        return PermissionDenied(f"Only members with the <@&{poll.voter_role_id}> role can vote in this poll.")
    if poll.style is Style.NATIVE:
        return UserError("Vote in Discord's own poll on the message.")
    return None


def _check_film(poll: Poll, film_id: int) -> None:
    if film_id not in poll.film_ids:
        raise UserError("That film is not on this poll's ballot.")


async def _open_for(
    db: Reader, clock: Clock, poll_id: int, *, guild_id: int, role_ids: Collection[int], method: Method | None = None
) -> Poll:
    poll = await get_poll(db, poll_id)
    refusal = _refusal(poll, clock.now(), guild_id=guild_id, role_ids=role_ids)
    if refusal is not None or poll is None:
        raise refusal or NotFoundError("This poll no longer exists.")
    if method is not None and poll.method is not method:
        raise UserError(f"This poll uses {poll.method.label.lower()} voting.")
    return poll


async def vote(
    db: Database,
    clock: Clock,
    *,
    poll_id: int,
    guild_id: int,
    user_id: int,
    role_ids: Collection[int],
    film_id: int,
    poll: Poll | None = None,
) -> VoteReceipt:
    """A click on a film: plurality replaces the member's vote; approval toggles the film in their ballot.

    ``poll`` may be passed when the caller already has it (only its method and candidates are read from it; every
    rule is checked again against the database).
    """
    if poll is None or poll.method is Method.PLURALITY:
        ballot = PluralityVote(poll_id, guild_id, user_id, film_id, tuple(sorted(role_ids)))
        recorded = await polls_db.vote_plurality(db, ballot, to_db(clock.now()))
        if recorded:
            return VoteReceipt(poll or await _require(db, poll_id), (film_id,))
        current = await _open_for(db, clock, poll_id, guild_id=guild_id, role_ids=role_ids)
        if current.method is Method.PLURALITY:
            _check_film(current, film_id)
            raise UserError("Your vote could not be recorded; please try again.")
        poll = current
    if poll.method is Method.APPROVAL:
        return await toggle_approval(
            db, clock, poll_id=poll_id, guild_id=guild_id, user_id=user_id, role_ids=role_ids, film_id=film_id
        )
    raise UserError("This poll is ranked: use “Rank your choices” to fill in your ballot.")


class Spawn(Protocol):
    """Starts a task its owner keeps until it ends and cancels when it closes (:meth:`FilmClubBot.spawn`)."""

    def __call__(self, coro: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]: ...


class BallotBox:
    """Group commit for plurality votes: votes that arrive while a batch is being written go into the next one.

    Under a burst of clicks this turns hundreds of single-row transactions into a few multi-row ones (each a single
    statement that checks every rule, see :func:`bot.db.polls.vote_plurality_many`); a lone vote is written at once.
    Each caller is answered only after the transaction holding its vote has committed. Other methods, and any vote
    the batch refused (to find out why), go through :func:`vote`.
    """

    def __init__(self, db: Database, clock: Clock, *, spawn: Spawn) -> None:
        """``spawn`` starts the writer task in its owner's keeping (the bot's :meth:`spawn`), so that it is cancelled
        and awaited when the bot closes, before the database is."""
        self._db = db
        self._clock = clock
        self._spawn = spawn
        self._pending: list[tuple[PluralityVote, asyncio.Future[bool]]] = []
        self._writing: list[tuple[PluralityVote, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._last_write = float("-inf")

    async def vote(
        self,
        *,
        poll: Poll,
        guild_id: int,
        user_id: int,
        role_ids: Collection[int],
        film_id: int,
    ) -> VoteReceipt:
        if poll.method is not Method.PLURALITY or poll.style is not Style.BUTTONS:
            return await vote(
                self._db,
                self._clock,
                poll_id=poll.id,
                guild_id=guild_id,
                user_id=user_id,
                role_ids=role_ids,
                film_id=film_id,
                poll=poll,
            )
        entry = PluralityVote(poll.id, guild_id, user_id, film_id, tuple(sorted(role_ids)))
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if self._writer is None or self._writer.done():
            self._writer = self._spawn(self._write(), name="filmclub-ballot-box")
            self._writer.add_done_callback(self._abandon)
        self._pending.append((entry, done))
        if await done:
            return VoteReceipt(poll, (film_id,))
        # Refused: the single-vote path finds (and raises) the reason, or records it if the poll changed meanwhile.
        return await vote(
            self._db,
            self._clock,
            poll_id=poll.id,
            guild_id=guild_id,
            user_id=user_id,
            role_ids=role_ids,
            film_id=film_id,
        )

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            # While a burst is still arriving, let it join this batch: every batch is a trip to the database thread,
            # which a busy event loop (and a busy machine) makes slow. A lone vote is written at once.
            deadline = loop.time() + GATHER_LIMIT
            if loop.time() - self._last_write < BURST_WINDOW:
                await asyncio.sleep(BURST_GATHER)
            seen = -1
            while len(self._pending) != seen and loop.time() < deadline:
                seen = len(self._pending)
                await asyncio.sleep(0)
            batch = self._writing = self._pending
            self._pending = []
            try:
                outcomes = await self._write_batch([entry for entry, _done in batch])
            except Exception as exc:
                self._writing = []
                for _entry, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            self._writing = []  # (left in place when cancelled, for _abandon)
            self._last_write = loop.time()
            for (_entry, done), written in zip(batch, outcomes, strict=True):
                if not done.done():
                    done.set_result(written)

    def _abandon(self, writer: asyncio.Task[None]) -> None:
        """The writer ended: a vote it never answered (it was cancelled at shut-down) is cancelled, not left waiting."""
        if writer is not self._writer:
            return
        for _entry, done in [*self._writing, *(self._pending if writer.cancelled() else [])]:
            done.cancel()

    async def _write_batch(self, entries: list[PluralityVote]) -> list[bool]:
        """Write the batch; which votes were written (all of them, unless some vote broke a rule)."""
        now = to_db(self._clock.now())
        if await polls_db.vote_plurality_many(self._db, entries, now) == len(entries):
            return [True] * len(entries)
        # Some vote was refused: replay the batch one vote at a time, in order, to learn which. A vote the batch
        # wrote but the replay refuses (the poll closed in between) was recorded all the same: say so.
        outcomes = []
        for entry in entries:
            written = await polls_db.vote_plurality(self._db, entry, to_db(self._clock.now()))
            outcomes.append(
                written or await polls_db.written_at(self._db, entry.poll_id, entry.user_id, entry.film_id, now)
            )
        return outcomes


async def toggle_approval(
    db: Database, clock: Clock, *, poll_id: int, guild_id: int, user_id: int, role_ids: Collection[int], film_id: int
) -> VoteReceipt:
    async with db.transaction() as tx:
        poll = await _open_for(tx, clock, poll_id, guild_id=guild_id, role_ids=role_ids, method=Method.APPROVAL)
        _check_film(poll, film_id)
        current = list(await polls_db.ballot(tx, poll_id, user_id))
        if film_id in current:
            current.remove(film_id)
            note = "removed"
        else:
            current.append(film_id)
            note = "added"
        choices = tuple(f for f in poll.film_ids if f in current)
        await _write_ballot(tx, poll_id, user_id, choices, to_db(clock.now()))
    return VoteReceipt(poll, choices, note)


async def set_choices(
    db: Database,
    clock: Clock,
    *,
    poll_id: int,
    guild_id: int,
    user_id: int,
    role_ids: Collection[int],
    film_ids: Sequence[int],
) -> VoteReceipt:
    """Replace the member's ballot with ``film_ids`` (from a select menu): one film for plurality, any for approval."""
    async with db.transaction() as tx:
        poll = await _open_for(tx, clock, poll_id, guild_id=guild_id, role_ids=role_ids)
        if poll.method is Method.RANKED:
            raise UserError("This poll is ranked: use “Rank your choices” to fill in your ballot.")
        for film_id in film_ids:
            _check_film(poll, film_id)
        if poll.method is Method.PLURALITY and len(set(film_ids)) != 1:
            raise UserError("Pick exactly one film in this poll.")
        wanted = set(film_ids)
        choices = tuple(f for f in poll.film_ids if f in wanted)
        await _write_ballot(tx, poll_id, user_id, choices, to_db(clock.now()))
    return VoteReceipt(poll, choices)


async def rank_add(
    db: Database, clock: Clock, *, poll_id: int, guild_id: int, user_id: int, role_ids: Collection[int], film_id: int
) -> VoteReceipt:
    """Add ``film_id`` as the member's next preference in a ranked poll (at most :data:`MAX_RANKS`)."""
    async with db.transaction() as tx:
        poll = await _open_for(tx, clock, poll_id, guild_id=guild_id, role_ids=role_ids, method=Method.RANKED)
        _check_film(poll, film_id)
        current = list(await polls_db.ballot(tx, poll_id, user_id))
        if film_id in current:
            return VoteReceipt(poll, tuple(current), "That film is already on your ballot.")
        if len(current) >= min(MAX_RANKS, len(poll.candidates)):
            return VoteReceipt(poll, tuple(current), f"Your ballot already ranks {len(current)} films.")
        current.append(film_id)
        await _write_ballot(tx, poll_id, user_id, tuple(current), to_db(clock.now()))
    return VoteReceipt(poll, tuple(current))


async def rank_undo(
    db: Database, clock: Clock, *, poll_id: int, guild_id: int, user_id: int, role_ids: Collection[int]
) -> VoteReceipt:
    """Take the member's last preference off their ranked ballot (the ballot goes when it is empty)."""
    async with db.transaction() as tx:
        poll = await _open_for(tx, clock, poll_id, guild_id=guild_id, role_ids=role_ids, method=Method.RANKED)
        current = list(await polls_db.ballot(tx, poll_id, user_id))
        if current:
            current.pop()
        await _write_ballot(tx, poll_id, user_id, tuple(current), to_db(clock.now()))
    return VoteReceipt(poll, tuple(current))


async def withdraw(
    db: Database, clock: Clock, *, poll_id: int, guild_id: int, user_id: int, role_ids: Collection[int]
) -> bool:
    """Remove the member's ballot while the poll is open; return whether there was one."""
    async with db.transaction() as tx:
        await _open_for(tx, clock, poll_id, guild_id=guild_id, role_ids=role_ids)
        return await polls_db.delete_ballot(tx, poll_id, user_id)


async def _write_ballot(tx: Transaction, poll_id: int, user_id: int, choices: tuple[int, ...], now: str) -> None:
    """An empty ballot is no ballot: it is removed, so it is neither counted nor shown."""
    if choices:
        await polls_db.save_ballot(tx, poll_id, user_id, choices, now)
    else:
        await polls_db.delete_ballot(tx, poll_id, user_id)


async def ballot_of(db: Reader, poll_id: int, user_id: int) -> tuple[int, ...]:
    """The member's ballot (empty if they have not voted)."""
    return await polls_db.ballot(db, poll_id, user_id)


async def eligibility(db: Reader, clock: Clock, poll_id: int, *, guild_id: int, role_ids: Collection[int]) -> Poll:
    """The poll, if the member may vote in it now; otherwise the member-facing reason is raised."""
    return await _open_for(db, clock, poll_id, guild_id=guild_id, role_ids=role_ids)


# -- counting and closing -------------------------------------------------------------------------------------------


async def tie_break_facts(db: Database, poll: Poll) -> TieBreakFacts:
    """What breaks a tie in this poll: the server's ratings of its films (ranked by the one club rating, see
    :func:`bot.core.tally.break_tie`), when each was nominated, and the poll id for the final draw."""
    ratings = await film_ratings(db, poll.guild_id)
    return TieBreakFacts(
        ratings={
            film: FilmRating(average=ratings[film].average, reviews=ratings[film].count)
            for film in poll.film_ids
            if film in ratings
        },
        nominated_at={c.film_id: c.nominated_at for c in poll.candidates},
        seed=poll.id,
    )


async def current_tally(db: Database, poll: Poll) -> Tally:
    """The count as it stands (for live counts and /poll status); the closed result once the poll is closed."""
    if poll.result is not None:
        return poll.result
    facts = await tie_break_facts(db, poll)
    return counting.tally(poll.method, poll.film_ids, await polls_db.cast_ballots(db, poll.id), facts)


async def ballot_count(db: Reader, poll_id: int) -> int:
    return await polls_db.ballot_count(db, poll_id)


async def close_poll(
    db: Database,
    clock: Clock,
    poll_id: int,
    *,
    closed_by: int | None = None,
    native_counts: dict[int, int] | None = None,
    native_voters: int = 0,
) -> Poll:
    """Close the poll (if it is still open) and store its result; idempotent: a closed poll is returned as it is.

    The status flips and the ballots are read in one transaction, so the count holds exactly the votes that were
    acknowledged before the close. For a native Discord poll, ``native_counts`` (film id -> votes) are Discord's
    final counts.
    """
    poll = await get_poll(db, poll_id)
    if poll is None:
        raise NotFoundError(f"There is no poll #{shown_number(poll_id)}.")
    if poll.status is not Status.OPEN:
        return poll
    facts = await tie_break_facts(db, poll)
    async with db.transaction() as tx:
        if await polls_db.close(tx, poll_id, to_db(clock.now()), closed_by):
            if poll.style is Style.NATIVE:
                result = counting.from_counts(
                    poll.method, poll.film_ids, native_counts or {}, facts, voters=native_voters
                )
            else:
                cast = await polls_db.cast_ballots(tx, poll_id)
                result = counting.tally(poll.method, poll.film_ids, cast, facts)
            await polls_db.store_result(tx, poll_id, result.to_json(), result.winner)
            if result.winner is not None:  # the club chose the film: its open nomination is done
                await nominations_db.mark_chosen(tx, poll.guild_id, result.winner, to_db(clock.now()))
    return await _require(db, poll_id)


async def cancel_poll(
    db: Database, clock: Clock, timers: TimerService, poll_id: int, *, cancelled_by: int | None
) -> Poll:
    """Cancel an open poll: no result, no screening, no timer left; its ballots are kept but never counted.

    ``cancelled_by`` is None when no one did: the poll could not be posted (see :func:`discard_unposted`).
    """
    changed = await polls_db.cancel(db, poll_id, to_db(clock.now()), cancelled_by)
    poll = await get_poll(db, poll_id)
    if poll is None:
        raise NotFoundError(f"There is no poll #{shown_number(poll_id)}.")
    if not changed:
        raise UserError(f"Poll #{poll_id} is already {poll.status.value}.")
    await timers.cancel(CLOSE_TIMER, str(poll_id))
    await timers.cancel(PUBLISH_TIMER, str(poll_id))
    return poll


async def discard_unposted(
    db: Database, clock: Clock, timers: TimerService, poll_id: int, *, cancelled_by: int | None = None
) -> Poll | None:
    """Cancel a poll that Discord refused to post, so that no invisible poll stays open (and no timer with it).

    Returns the cancelled poll; None if it was posted or is no longer open meanwhile (then there is nothing to undo).
    """
    if not await polls_db.cancel(db, poll_id, to_db(clock.now()), cancelled_by, only_unposted=True):
        return None
    await timers.cancel(CLOSE_TIMER, str(poll_id))
    await timers.cancel(PUBLISH_TIMER, str(poll_id))
    return await get_poll(db, poll_id)


def require_manager(poll: Poll, *, user_id: int, is_moderator: bool) -> None:
    """Ending or cancelling a poll is for its creator and the moderators."""
    if user_id != poll.creator_id and not is_moderator:
        raise PermissionDenied("Only the member who started this poll, or a moderator, can do that.")


def native_answer(label: str) -> str:
    """A film's label cut to Discord's 55 characters for a poll answer."""
    return label if len(label) <= NATIVE_ANSWER_LIMIT else label[: NATIVE_ANSWER_LIMIT - 1].rstrip() + "…"


def native_duration_hours(now: datetime, closes_at: datetime) -> int:
    """Discord's poll duration in whole hours, rounded up so that our own deadline (which expires it) comes first."""
    seconds = (closes_at - now).total_seconds()
    return max(1, min(int(NATIVE_MAX_DURATION.total_seconds() // 3600), -(-int(seconds) // 3600)))


@dataclass(frozen=True)
class ResultChart:
    """What a closed poll's results chart shows, for Discord's result post and the club's web page to draw alike
    (:func:`bot.ui.charts.bar_chart`): votes (first choices for ranked choice) per film, most first, the winner
    highlighted."""

    title: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    highlight: tuple[int, ...]


_CHART_HEADINGS = {Method.PLURALITY: "Votes", Method.APPROVAL: "Approvals", Method.RANKED: "First choices"}


def result_chart(poll: Poll, films: dict[int, films_core.Film], result: Tally) -> ResultChart:
    ordered = sorted(result.first.counts, key=lambda fc: -fc[1])
    return ResultChart(
        title=f"{_CHART_HEADINGS[poll.method]}: {poll.title}",
        labels=tuple(films[f].label if f in films else "a film no longer listed" for f, _n in ordered),
        values=tuple(float(n) for _f, n in ordered),
        highlight=tuple(i for i, (f, _n) in enumerate(ordered) if f == result.winner),
    )
