"""SQL for watch-party polls, their candidates and ballots."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.db.database import Database, Reader, Transaction
from bot.db.shards import on_shards, shard_params

_POLL_COLUMNS = """
id, guild_id, channel_id, message_id, creator_id, title, method, style, show_counts, voter_role_id, status,
created_at, closes_at, closed_at, closed_by, winner_film_id, result, result_message_id,
screening_at, screening_channel_id, screening_location, remind_minutes
"""

INSERT_POLL = """
INSERT INTO polls (guild_id, channel_id, creator_id, title, method, style, show_counts, voter_role_id, created_at,
                   closes_at, screening_at, screening_channel_id, screening_location, remind_minutes)
VALUES (:guild_id, :channel_id, :creator_id, :title, :method, :style, :show_counts, :voter_role_id, :created_at,
        :closes_at, :screening_at, :screening_channel_id, :screening_location, :remind_minutes)
RETURNING id
"""
INSERT_CANDIDATE = "INSERT INTO poll_candidates (poll_id, position, film_id, nominated_at) VALUES (?, ?, ?, ?)"
# The f-strings below join constant SQL fragments; values always go through placeholders.
POLL = f"SELECT {_POLL_COLUMNS} FROM polls WHERE id = ?"  # noqa: S608
POLL_BY_MESSAGE = f"SELECT {_POLL_COLUMNS} FROM polls WHERE message_id = ?"  # noqa: S608
OPEN_POLLS = f"SELECT {_POLL_COLUMNS} FROM polls WHERE guild_id = ? AND status = 'open' ORDER BY closes_at, id"  # noqa: S608
OPEN_POLLS_ON_SHARDS = f"SELECT {_POLL_COLUMNS} FROM polls WHERE status = 'open' AND {{on_shards}} ORDER BY id"  # noqa: S608
RECENT_POLLS = f"""
SELECT {_POLL_COLUMNS} FROM polls WHERE guild_id = ? ORDER BY (status = 'open') DESC, id DESC LIMIT ?
"""  # noqa: S608
CANDIDATES = "SELECT position, film_id, nominated_at FROM poll_candidates WHERE poll_id = ? ORDER BY position"
ATTACH_MESSAGE = "UPDATE polls SET message_id = ? WHERE id = ? AND message_id IS NULL"
RESULT_MESSAGE = "UPDATE polls SET result_message_id = ? WHERE id = ?"

# Nomination: the first time anyone in the server put the film on their watchlist.
FIRST_WATCHLISTED = """
SELECT film_id, min(added_at) FROM watchlist WHERE guild_id = ? AND film_id IN ({placeholders}) GROUP BY film_id
"""
# The club's watchlist: films most members want to see, that the club has not screened yet.
CLUB_WATCHLIST = """
SELECT w.film_id, count(*) AS wanted, min(w.added_at) AS first_added
FROM watchlist w JOIN films f ON f.id = w.film_id
WHERE w.guild_id = :guild_id AND f.retired = 0
  AND w.film_id NOT IN (SELECT film_id FROM club_watched WHERE guild_id = :guild_id)
GROUP BY w.film_id ORDER BY wanted DESC, first_added, w.film_id LIMIT :limit
"""

# -- voting -----------------------------------------------------------------------------------------------------------
# A plurality vote in one statement: the poll must be open, before its deadline, the film on the ballot and the member
# allowed to vote; the primary key turns a second vote into a change. Nothing is written when a condition fails.
VOTE_PLURALITY = """
INSERT INTO ballots (poll_id, user_id, choices, cast_at, updated_at)
SELECT p.id, :user_id, json_array(:film_id), :now, :now FROM polls p
WHERE p.id = :poll_id AND p.guild_id = :guild_id AND p.status = 'open' AND p.closes_at > :now
  AND p.method = 'plurality' AND p.style = 'buttons'
  AND (p.voter_role_id IS NULL OR p.voter_role_id IN (SELECT value FROM json_each(:role_ids)))
  AND EXISTS (SELECT 1 FROM poll_candidates c WHERE c.poll_id = p.id AND c.film_id = :film_id)
ON CONFLICT (poll_id, user_id) DO UPDATE SET
    choices = excluded.choices, updated_at = excluded.updated_at, changes = changes + 1
"""
# The same rules for many votes at once (group commit): ``votes`` is a JSON array of {p: poll, g: guild, u: user,
# f: film, r: [role ids]}, in the order they were cast (a member's later vote in the batch wins). Its row count is the
# number of votes written: when it falls short, some vote broke a rule, and the batch is replayed one vote at a time.
# (No RETURNING: every returned row would be one more round of the database thread taking the GIL.)
VOTE_PLURALITY_MANY = """
INSERT INTO ballots (poll_id, user_id, choices, cast_at, updated_at)
SELECT p.id, json_extract(v.value, '$.u'), json_array(json_extract(v.value, '$.f')), :now, :now
FROM json_each(:votes) AS v JOIN polls p ON p.id = json_extract(v.value, '$.p')
WHERE p.guild_id = json_extract(v.value, '$.g') AND p.status = 'open' AND p.closes_at > :now
  AND p.method = 'plurality' AND p.style = 'buttons'
  AND (p.voter_role_id IS NULL OR p.voter_role_id IN (SELECT value FROM json_each(v.value, '$.r')))
  AND EXISTS (SELECT 1 FROM poll_candidates c WHERE c.poll_id = p.id AND c.film_id = json_extract(v.value, '$.f'))
ORDER BY v.key
ON CONFLICT (poll_id, user_id) DO UPDATE SET
    choices = excluded.choices, updated_at = excluded.updated_at, changes = changes + 1
"""
WRITTEN_AT = "SELECT 1 FROM ballots WHERE poll_id = ? AND user_id = ? AND choices = json_array(?) AND updated_at = ?"
BALLOT = "SELECT choices FROM ballots WHERE poll_id = ? AND user_id = ?"
UPSERT_BALLOT = """
INSERT INTO ballots (poll_id, user_id, choices, cast_at, updated_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (poll_id, user_id) DO UPDATE SET
    choices = excluded.choices, updated_at = excluded.updated_at, changes = changes + 1
"""
DELETE_BALLOT = "DELETE FROM ballots WHERE poll_id = ? AND user_id = ?"
BALLOTS = "SELECT user_id, choices FROM ballots WHERE poll_id = ? ORDER BY cast_at, user_id"
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


async def insert_poll(tx: Transaction, values: dict[str, Any], candidates: Sequence[tuple[int, int, str]]) -> int:
    poll_id = int((await tx.fetchone_write(INSERT_POLL, values))[0])
    await tx.executemany(INSERT_CANDIDATE, [(poll_id, pos, film, when) for pos, film, when in candidates])
    return poll_id


async def open_polls_on_shards(db: Reader, shard_count: int, shard_ids: Sequence[int]) -> list[Any]:
    """Every open poll in the servers of the given shards."""
    query = OPEN_POLLS_ON_SHARDS.format(on_shards=on_shards("guild_id", shard_ids))
    return list(await db.fetchall(query, shard_params(shard_count, shard_ids)))


async def poll_row(db: Reader, poll_id: int) -> Any:
    return await db.fetchone(POLL, (poll_id,))


async def candidates(db: Reader, poll_id: int) -> list[tuple[int, int, str]]:
    return [(row[0], row[1], row[2]) for row in await db.fetchall(CANDIDATES, (poll_id,))]


async def first_watchlisted(db: Reader, guild_id: int, film_ids: Sequence[int]) -> dict[int, str]:
    if not film_ids:
        return {}
    query = FIRST_WATCHLISTED.format(placeholders=",".join("?" * len(film_ids)))
    return {row[0]: row[1] for row in await db.fetchall(query, (guild_id, *film_ids))}


async def club_watchlist(db: Reader, guild_id: int, limit: int) -> list[int]:
    rows = await db.fetchall(CLUB_WATCHLIST, {"guild_id": guild_id, "limit": limit})
    return [row[0] for row in rows]


async def vote_plurality(
    db: Database, *, poll_id: int, guild_id: int, user_id: int, role_ids: str, film_id: int, now: str
) -> bool:
    values = {
        "poll_id": poll_id,
        "guild_id": guild_id,
        "user_id": user_id,
        "role_ids": role_ids,
        "film_id": film_id,
        "now": now,
    }
    return await db.execute(VOTE_PLURALITY, values) > 0


async def ballot(db: Reader, poll_id: int, user_id: int) -> str | None:
    value = await db.fetchval(BALLOT, (poll_id, user_id))
    return None if value is None else str(value)


async def ballots(db: Reader, poll_id: int) -> list[tuple[int, str]]:
    return [(row[0], row[1]) for row in await db.fetchall(BALLOTS, (poll_id,))]


async def vote_plurality_many(db: Database, votes: str, now: str) -> int:
    """Write a batch of plurality votes in one statement (its own transaction, committed before this returns);
    return how many were written."""
    return await db.execute(VOTE_PLURALITY_MANY, {"votes": votes, "now": now})


async def written_at(db: Reader, poll_id: int, user_id: int, film_id: int, now: str) -> bool:
    """Whether the member's ballot is exactly this vote, written at ``now``."""
    return await db.fetchval(WRITTEN_AT, (poll_id, user_id, film_id, now)) is not None
