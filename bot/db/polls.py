"""Watch-party polls, their candidates and ballots, as stored.

A ballot's ``choices`` column is JSON text (an array of film ids) on both backends; this module encodes and decodes
it, so callers deal in tuples of ids.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from bot.db.database import Database, Reader, Row, Transaction
from bot.db.dialect import Dialect
from bot.db.shards import on_shards, shard_params


@dataclass(frozen=True)
class Candidate:
    """A film on a poll's ballot, at its position; ``nominated_at`` feeds the "earlier nomination" tie-break."""

    position: int
    film_id: int
    nominated_at: str


@dataclass(frozen=True)
class NewPoll:
    """What :func:`insert_poll` stores: times as database text, method, style and status as their names."""

    guild_id: int
    channel_id: int
    creator_id: int
    title: str
    method: str
    style: str
    show_counts: bool
    voter_role_id: int | None
    created_at: str
    closes_at: str
    screening_at: str | None
    screening_channel_id: int | None
    screening_location: str | None
    remind_minutes: int
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class PollRecord:
    """A poll as stored, with its candidates in ballot order; ``result`` is the decoded JSON tally once closed."""

    id: int
    guild_id: int
    channel_id: int
    message_id: int | None
    creator_id: int
    title: str
    method: str
    style: str
    show_counts: bool
    voter_role_id: int | None
    status: str
    created_at: str
    closes_at: str
    closed_at: str | None
    closed_by: int | None
    winner_film_id: int | None
    result: dict[str, Any] | None
    result_message_id: int | None
    screening_at: str | None
    screening_channel_id: int | None
    screening_location: str | None
    remind_minutes: int
    candidates: tuple[Candidate, ...]


class PluralityVote(NamedTuple):
    """One click on a film in a plurality poll: who, in which server, and the roles they hold (the poll may be
    limited to one). A tuple rather than a dataclass: on the hot path a batch of them is sent as is, a JSON array of
    arrays in this field order (see :func:`vote_plurality_many`)."""

    poll_id: int
    guild_id: int
    user_id: int
    film_id: int
    role_ids: tuple[int, ...]


_POLL_COLUMNS = """
p.id, p.guild_id, p.channel_id, p.message_id, p.creator_id, p.title, p.method, p.style, p.show_counts,
p.voter_role_id, p.status, p.created_at, p.closes_at, p.closed_at, p.closed_by, p.winner_film_id, p.result,
p.result_message_id, p.screening_at, p.screening_channel_id, p.screening_location, p.remind_minutes,
c.position, c.film_id, c.nominated_at
"""


def _with_candidates(polls: str, rest: str) -> str:
    """Polls with their candidates in one statement, one row per candidate (a poll's rows together, in ballot
    order): one trip for any number of polls, and the candidates always belong to the polls read. ``polls`` is the
    table or a subquery of it, ``rest`` the WHERE and ORDER BY clauses."""
    return f"SELECT {_POLL_COLUMNS} FROM {polls} p JOIN poll_candidates c ON c.poll_id = p.id {rest}"  # noqa: S608


POLL = _with_candidates("polls", "WHERE p.id = ? ORDER BY c.position")
POLL_BY_MESSAGE = _with_candidates("polls", "WHERE p.message_id = ? ORDER BY c.position")
OPEN_POLLS = _with_candidates(
    "polls", "WHERE p.guild_id = ? AND p.status = 'open' ORDER BY p.closes_at, p.id, c.position"
)
RECENT_POLLS = _with_candidates(
    "(SELECT * FROM polls WHERE guild_id = ? ORDER BY (status = 'open') DESC, id DESC LIMIT ?)",
    "ORDER BY (p.status = 'open') DESC, p.id DESC, c.position",
)
# Open polls that never had a timer of a kind (one that ran and ended counts as had): what start-up re-arms, found in
# one statement however many polls are open. A poll's timers are keyed by its id (bot.core.polls). (NOT IN an
# uncorrelated subquery: both backends read the timers once, into a hash or a temporary index.)
_NO_TIMER = "CAST(p.id AS TEXT) NOT IN (SELECT key FROM timers WHERE kind = ?)"


def _open_on_shards(shard_count: int, shard_ids: Sequence[int], *conditions: str) -> tuple[str, tuple[int, ...]]:
    """The open polls of the servers on ``shard_ids`` (and meeting ``conditions``), and the shards' parameters,
    which come first."""
    where = " AND ".join((on_shards("p.guild_id", shard_ids), "p.status = 'open'", *conditions))
    return _with_candidates("polls", f"WHERE {where} ORDER BY p.id, c.position"), shard_params(shard_count, shard_ids)


INSERT_POLL = """
INSERT INTO polls (guild_id, channel_id, creator_id, title, method, style, show_counts, voter_role_id, created_at,
                   closes_at, screening_at, screening_channel_id, screening_location, remind_minutes)
VALUES (:guild_id, :channel_id, :creator_id, :title, :method, :style, :show_counts, :voter_role_id, :created_at,
        :closes_at, :screening_at, :screening_channel_id, :screening_location, :remind_minutes)
RETURNING id
"""
INSERT_CANDIDATE = "INSERT INTO poll_candidates (poll_id, position, film_id, nominated_at) VALUES (?, ?, ?, ?)"
ATTACH_MESSAGE = "UPDATE polls SET message_id = ? WHERE id = ? AND message_id IS NULL"
MOVE_DEADLINE = "UPDATE polls SET closes_at = ? WHERE id = ? AND status = 'open'"
RESULT_MESSAGE = "UPDATE polls SET result_message_id = ? WHERE id = ?"

# Nomination: the first time anyone in the server put the film on their watchlist.
FIRST_WATCHLISTED = """
SELECT film_id, min(added_at) FROM watchlist WHERE guild_id = ? AND film_id IN ({placeholders}) GROUP BY film_id
"""
# The club's watchlist: films most members want to see, that the club has not screened yet.
CLUB_WATCHLIST = """
SELECT w.film_id, count(*) AS wanted, min(w.added_at) AS first_added
FROM watchlist w JOIN films f ON f.id = w.film_id
WHERE w.guild_id = :guild_id AND f.retired = 0 AND (f.guild_id IS NULL OR f.guild_id = :guild_id)
  AND w.film_id NOT IN (SELECT film_id FROM club_watched WHERE guild_id = :guild_id)
GROUP BY w.film_id ORDER BY wanted DESC, first_added, w.film_id LIMIT :limit
"""

# -- voting -----------------------------------------------------------------------------------------------------------
# A plurality vote is written only if the poll is open, before its deadline, the film on the ballot and the member
# allowed to vote: one statement checks every rule, and nothing is written when one fails. The primary key turns a
# second vote into a change. ``choices`` is written as the JSON text of a one-film array, '[<film id>]'.
_VOTE_RULES = """
p.status = 'open' AND p.closes_at > :now AND p.method = 'plurality' AND p.style = 'buttons'
AND (p.voter_role_id IS NULL OR {member_has_role})
AND EXISTS (SELECT 1 FROM poll_candidates c WHERE c.poll_id = p.id AND c.film_id = {film})
"""
_VOTE_UPSERT = """
ON CONFLICT (poll_id, user_id) DO UPDATE SET
    choices = excluded.choices, updated_at = excluded.updated_at, changes = ballots.changes + 1
"""


@cache
def _vote_plurality_sql(dialect: Dialect) -> str:
    """One vote (parameters ``poll_id``, ``guild_id``, ``user_id``, ``film_id``, ``choices``: the ballot's JSON text,
    ``role_ids``: a JSON array)."""
    rules = _VOTE_RULES.format(
        member_has_role=dialect.in_json_integers("p.voter_role_id", ":role_ids"), film=":film_id"
    )
    return f"""
INSERT INTO ballots (poll_id, user_id, choices, cast_at, updated_at)
SELECT p.id, CAST(:user_id AS BIGINT), CAST(:choices AS TEXT), CAST(:now AS TEXT), CAST(:now AS TEXT)
FROM polls p WHERE p.id = :poll_id AND p.guild_id = :guild_id AND {rules}
{_VOTE_UPSERT}"""  # noqa: S608 - constant fragments


@cache
def _vote_plurality_many_sql(dialect: Dialect) -> str:
    """Many votes (group commit): ``votes`` is a JSON array of :class:`PluralityVote` arrays, at most one per member
    and poll (a statement may change a row once). Its row count is the number of votes written. (No RETURNING: on
    SQLite every returned row would be one more round of the database thread taking the GIL.)"""
    columns = [(name, "JSON" if name == "role_ids" else "BIGINT") for name in PluralityVote._fields]
    rules = _VOTE_RULES.format(
        member_has_role=dialect.in_json_integers("p.voter_role_id", "v.role_ids"), film="v.film_id"
    )
    return f"""
INSERT INTO ballots (poll_id, user_id, choices, cast_at, updated_at)
SELECT p.id, v.user_id, '[' || v.film_id || ']', CAST(:now AS TEXT), CAST(:now AS TEXT)
FROM {dialect.json_rows(":votes", "v", columns)} JOIN polls p ON p.id = v.poll_id
WHERE p.guild_id = v.guild_id AND {rules}
{_VOTE_UPSERT}"""  # noqa: S608 - constant fragments


WRITTEN_AT = "SELECT 1 FROM ballots WHERE poll_id = ? AND user_id = ? AND choices = ? AND updated_at = ?"
BALLOT = "SELECT choices FROM ballots WHERE poll_id = ? AND user_id = ?"
UPSERT_BALLOT = """
INSERT INTO ballots (poll_id, user_id, choices, cast_at, updated_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (poll_id, user_id) DO UPDATE SET
    choices = excluded.choices, updated_at = excluded.updated_at, changes = ballots.changes + 1
"""
DELETE_BALLOT = "DELETE FROM ballots WHERE poll_id = ? AND user_id = ?"
BALLOTS = "SELECT choices FROM ballots WHERE poll_id = ? ORDER BY cast_at, user_id"
BALLOT_COUNT = "SELECT count(*) FROM ballots WHERE poll_id = ?"

# -- closing ----------------------------------------------------------------------------------------------------------
CLOSE = """
UPDATE polls SET status = 'closed', closed_at = :now, closed_by = :closed_by
WHERE id = :poll_id AND status = 'open'
"""
STORE_RESULT = "UPDATE polls SET result = ?, winner_film_id = ? WHERE id = ?"
CANCEL = """
UPDATE polls SET status = 'cancelled', closed_at = :now, closed_by = :closed_by
WHERE id = :poll_id AND status = 'open'
"""
# Only while it has no message: a poll that got posted meanwhile is visible and stays open.
CANCEL_UNPOSTED = CANCEL + " AND message_id IS NULL"


def _encode_choices(choices: Sequence[int]) -> str:
    """The JSON text of a ballot; a one-film ballot is '[<id>]', as the voting statements write it."""
    return json.dumps(list(choices))


def _decode_choices(text: str) -> tuple[int, ...]:
    return tuple(int(film) for film in json.loads(text))


def _polls(rows: list[Row]) -> list[PollRecord]:
    """Polls from rows of :func:`_with_candidates`: each poll's rows come together, its candidates in order. (Rows
    are unpacked by position, in ``_POLL_COLUMNS`` order: at start-up there are tens of thousands.)"""
    found: list[PollRecord] = []
    candidates: list[Candidate] = []
    for index, row in enumerate(rows):
        (
            poll_id, guild_id, channel_id, message_id, creator_id, title, method, style, show_counts, voter_role_id,
            status, created_at, closes_at, closed_at, closed_by, winner_film_id, result, result_message_id,
            screening_at, screening_channel_id, screening_location, remind_minutes,
            position, film_id, nominated_at,
        ) = row  # fmt: skip
        candidates.append(Candidate(position, film_id, nominated_at))
        if index + 1 < len(rows) and rows[index + 1][0] == poll_id:
            continue
        found.append(
            PollRecord(
                id=poll_id,
                guild_id=guild_id,
                channel_id=channel_id,
                message_id=message_id,
                creator_id=creator_id,
                title=title,
                method=method,
                style=style,
                show_counts=bool(show_counts),
                voter_role_id=voter_role_id,
                status=status,
                created_at=created_at,
                closes_at=closes_at,
                closed_at=closed_at,
                closed_by=closed_by,
                winner_film_id=winner_film_id,
                result=None if result is None else json.loads(result),
                result_message_id=result_message_id,
                screening_at=screening_at,
                screening_channel_id=screening_channel_id,
                screening_location=screening_location,
                remind_minutes=remind_minutes,
                candidates=tuple(candidates),
            )
        )
        candidates = []
    return found


async def _one_poll(db: Reader, sql: str, key: int) -> PollRecord | None:
    found = _polls(await db.fetchall(sql, (key,)))
    return found[0] if found else None


# -- polls ------------------------------------------------------------------------------------------------------------


async def insert_poll(tx: Transaction, poll: NewPoll) -> int:
    """Store the poll and its candidates; return its id."""
    values = {
        "guild_id": poll.guild_id,
        "channel_id": poll.channel_id,
        "creator_id": poll.creator_id,
        "title": poll.title,
        "method": poll.method,
        "style": poll.style,
        "show_counts": int(poll.show_counts),
        "voter_role_id": poll.voter_role_id,
        "created_at": poll.created_at,
        "closes_at": poll.closes_at,
        "screening_at": poll.screening_at,
        "screening_channel_id": poll.screening_channel_id,
        "screening_location": poll.screening_location,
        "remind_minutes": poll.remind_minutes,
    }
    poll_id = int((await tx.fetchone_write(INSERT_POLL, values))[0])
    await tx.executemany(INSERT_CANDIDATE, [(poll_id, c.position, c.film_id, c.nominated_at) for c in poll.candidates])
    return poll_id


async def poll(db: Reader, poll_id: int) -> PollRecord | None:
    return await _one_poll(db, POLL, poll_id)


async def poll_by_message(db: Reader, message_id: int) -> PollRecord | None:
    return await _one_poll(db, POLL_BY_MESSAGE, message_id)


async def open_polls(db: Reader, guild_id: int) -> list[PollRecord]:
    """The server's open polls, soonest deadline first."""
    return _polls(await db.fetchall(OPEN_POLLS, (guild_id,)))


async def open_polls_on_shards(db: Reader, shard_count: int, shard_ids: Sequence[int]) -> list[PollRecord]:
    """Every open poll in the servers of the given shards (start-up: one statement however many there are)."""
    query, params = _open_on_shards(shard_count, shard_ids)
    return _polls(await db.fetchall(query, params))


async def recent_polls(db: Reader, guild_id: int, limit: int) -> list[PollRecord]:
    """Open polls first, then the latest closed or cancelled ones; newest first within each."""
    return _polls(await db.fetchall(RECENT_POLLS, (guild_id, limit)))


async def open_polls_without_timer(
    db: Reader, kind: str, shard_count: int, shard_ids: Sequence[int], *, unposted: bool = False
) -> list[PollRecord]:
    """Open polls in the servers of the given shards (``unposted``: only those not posted yet) that never had a timer
    of ``kind``."""
    query, params = _open_on_shards(shard_count, shard_ids, *(["p.message_id IS NULL"] if unposted else []), _NO_TIMER)
    return _polls(await db.fetchall(query, (*params, kind)))


async def attach_message(db: Database, poll_id: int, message_id: int) -> bool:
    """Record the poll's message; False if it already had one."""
    return await db.execute(ATTACH_MESSAGE, (message_id, poll_id)) > 0


async def move_deadline(db: Database, poll_id: int, closes_at: str) -> bool:
    """Give the open poll a new deadline; False if it is no longer open."""
    return await db.execute(MOVE_DEADLINE, (closes_at, poll_id)) > 0


async def record_result_message(db: Database, poll_id: int, message_id: int) -> None:
    await db.execute(RESULT_MESSAGE, (message_id, poll_id))


async def first_watchlisted(db: Reader, guild_id: int, film_ids: Sequence[int]) -> dict[int, str]:
    if not film_ids:
        return {}
    query = FIRST_WATCHLISTED.format(placeholders=",".join("?" * len(film_ids)))
    return {row[0]: row[1] for row in await db.fetchall(query, (guild_id, *film_ids))}


async def club_watchlist(db: Reader, guild_id: int, limit: int) -> list[int]:
    rows = await db.fetchall(CLUB_WATCHLIST, {"guild_id": guild_id, "limit": limit})
    return [row[0] for row in rows]


# -- ballots ----------------------------------------------------------------------------------------------------------


async def vote_plurality(db: Database, vote: PluralityVote, now: str) -> bool:
    """Write one plurality vote if every rule holds (see ``_VOTE_RULES``); whether it was written."""
    values = {
        "poll_id": vote.poll_id,
        "guild_id": vote.guild_id,
        "user_id": vote.user_id,
        "role_ids": json.dumps(vote.role_ids),
        "film_id": vote.film_id,
        "choices": _encode_choices((vote.film_id,)),
        "now": now,
    }
    return await db.execute(_vote_plurality_sql(db.dialect), values) > 0


async def vote_plurality_many(db: Database, votes: Sequence[PluralityVote], now: str) -> int:
    """Write a batch of plurality votes, in the order they were cast (a member's later vote in the batch wins);
    return how many were written (short of ``len(votes)`` when some vote broke a rule). Each is committed before
    this returns.

    A member's votes in one poll go in successive rounds (their second vote of the batch in the second round...), each
    round one statement: a statement may change a row once on PostgreSQL. A burst is nearly always one round."""
    statement = _vote_plurality_many_sql(db.dialect)
    written = 0
    for batch in _rounds(votes):
        written += await db.execute(statement, {"votes": json.dumps(batch), "now": now})
    return written


def _rounds(votes: Sequence[PluralityVote]) -> Sequence[Sequence[PluralityVote]]:
    """The votes split so that no round holds two of one member in one poll, each member's in the order cast."""
    if len({(vote.poll_id, vote.user_id) for vote in votes}) == len(votes):
        return [votes]
    rounds: list[list[PluralityVote]] = []
    cast: dict[tuple[int, int], int] = {}
    for vote in votes:
        key = (vote.poll_id, vote.user_id)
        turn = cast[key] = cast.get(key, -1) + 1
        if turn == len(rounds):
            rounds.append([])
        rounds[turn].append(vote)
    return rounds


async def written_at(db: Reader, poll_id: int, user_id: int, film_id: int, now: str) -> bool:
    """Whether the member's ballot is exactly this plurality vote, written at ``now``."""
    return await db.fetchval(WRITTEN_AT, (poll_id, user_id, _encode_choices((film_id,)), now)) is not None


async def ballot(db: Reader, poll_id: int, user_id: int) -> tuple[int, ...]:
    """The member's choices, in order; empty when they have no ballot."""
    text = await db.fetchval(BALLOT, (poll_id, user_id))
    return () if text is None else _decode_choices(text)


async def save_ballot(tx: Transaction, poll_id: int, user_id: int, choices: Sequence[int], now: str) -> None:
    """Write the member's ballot (a change when they have one)."""
    await tx.execute(UPSERT_BALLOT, (poll_id, user_id, _encode_choices(choices), now, now))


async def delete_ballot(tx: Transaction, poll_id: int, user_id: int) -> bool:
    """Remove the member's ballot; whether there was one."""
    return await tx.execute(DELETE_BALLOT, (poll_id, user_id)) > 0


async def cast_ballots(db: Reader, poll_id: int) -> list[tuple[int, ...]]:
    """Every ballot's choices, in the order they were first cast."""
    return [_decode_choices(row[0]) for row in await db.fetchall(BALLOTS, (poll_id,))]


async def ballot_count(db: Reader, poll_id: int) -> int:
    return int(await db.fetchval(BALLOT_COUNT, (poll_id,)))


# -- closing ----------------------------------------------------------------------------------------------------------


async def close(tx: Transaction, poll_id: int, now: str, closed_by: int | None) -> bool:
    """Mark the poll closed if it is open; whether this call closed it."""
    return await tx.execute(CLOSE, {"now": now, "closed_by": closed_by, "poll_id": poll_id}) > 0


async def store_result(tx: Transaction, poll_id: int, result: dict[str, Any], winner_film_id: int | None) -> None:
    await tx.execute(STORE_RESULT, (json.dumps(result), winner_film_id, poll_id))


async def cancel(
    db: Database, poll_id: int, now: str, cancelled_by: int | None, *, only_unposted: bool = False
) -> bool:
    """Mark the poll cancelled if it is open (and, with ``only_unposted``, has no message yet); whether it was."""
    statement = CANCEL_UNPOSTED if only_unposted else CANCEL
    return await db.execute(statement, {"now": now, "closed_by": cancelled_by, "poll_id": poll_id}) > 0
