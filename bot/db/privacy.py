"""A member's data, as stored: counted, read whole and deleted through the ownership registry (bot/db/ownership.py),
so a table added there is counted, exported and deleted here without a line changed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.db import ownership
from bot.db.database import Database, Reader, Transaction
from bot.db.ownership import Owned, Role

# Ballots are the one BALLOT table (tests/unit/test_ownership.py pins it): open polls' ballots are withdrawn, closed
# polls' kept under an anonymous id (a negative number, unique in its poll: Discord's ids are positive), cancelled
# polls' deleted.
POLLS_OF_MEMBER = """
SELECT p.id, p.status FROM ballots b JOIN polls p ON p.id = b.poll_id
WHERE p.guild_id = CAST(:guild_id AS BIGINT) AND b.user_id = CAST(:user_id AS BIGINT) ORDER BY p.id
"""
NEXT_ANONYMOUS = "SELECT COALESCE(MIN(user_id), 0) - 1 FROM ballots WHERE poll_id = ? AND user_id < 0"
ANONYMISE = "UPDATE ballots SET user_id = CAST(? AS BIGINT) WHERE poll_id = ? AND user_id = CAST(? AS BIGINT)"
WITHDRAW = "DELETE FROM ballots WHERE poll_id = ? AND user_id = CAST(? AS BIGINT)"
REVIEW_POSTS = """
SELECT channel_id, message_id FROM review_posts
WHERE guild_id = CAST(? AS BIGINT) AND user_id = CAST(? AS BIGINT) ORDER BY message_id
"""
WRITTEN_REVIEWS = """
SELECT count(*) FROM reviews WHERE guild_id = CAST(? AS BIGINT) AND user_id = CAST(? AS BIGINT) AND body IS NOT NULL
"""
FILM_TITLES = "SELECT id, title, year FROM films WHERE id IN ({})"


@dataclass(frozen=True)
class MemberRows:
    """A member's rows in one table (one member column of it), as column name → value."""

    table: str
    column: str
    role: Role
    rows: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Erased:
    """What deleting a member's data in one server did: rows deleted per table, ballots withdrawn from open polls
    (whose posted counts need redrawing) and kept anonymously in closed ones, and the public posts to take down."""

    guild_id: int
    deleted: dict[str, int]
    open_polls: tuple[int, ...]
    anonymised: int
    review_posts: tuple[tuple[int, int], ...]
    # Screenings to come that the member was to host, handed to the next volunteers (set by the core: bot.core.hosts).
    rehosted: tuple[int, ...] = ()
    # Rows about several members (a /tonight group) kept for the others, with the member taken out, per table.
    taken_out: dict[str, int] = field(default_factory=dict)


def _where(owned: Owned, column: str) -> str:
    """SQL true for the rows of ``:user_id`` in ``column`` and server ``:guild_id`` (names from the registry only)."""
    return f"{owned.guild_condition()} AND {column} = CAST(:user_id AS BIGINT)"


async def count(db: Reader, owned: Owned, column: str, guild_id: int, user_id: int) -> int:
    sql = f"SELECT count(*) FROM {owned.table} WHERE {_where(owned, column)}"  # noqa: S608 - registry names
    return int(await db.fetchval(sql, {"guild_id": guild_id, "user_id": user_id}))


async def _list_rows(db: Reader, owned: Owned, column: str, guild_id: int) -> list[tuple[int, str]]:
    """(rowid-like key, JSON list) of a table whose member ids sit in a JSON list column: tonight's groups."""
    sql = f"SELECT id, {column} FROM {owned.table} WHERE {owned.guild_condition()}"  # noqa: S608 - registry names
    return [(int(row[0]), str(row[1])) for row in await db.fetchall(sql, {"guild_id": guild_id})]


def _names(entry: object, user_id: int) -> bool:
    """Whether one entry of a JSON list column is the member: their id, or an [id, name] pair."""
    first = entry[0] if isinstance(entry, list) and entry else entry
    return isinstance(first, int) and first == user_id


def _lists_member(text: str, user_id: int) -> bool:
    """Whether a JSON list column names the member: a list of ids or of [id, name] pairs."""
    return any(_names(entry, user_id) for entry in json.loads(text))


def _without_member(text: str, user_id: int) -> str | None:
    """The JSON list without the member's entries, written as it is stored (bot.db.recommend.remember_group), so
    asking again for the members left finds the row; None when nobody else is in it."""
    left = [entry for entry in json.loads(text) if not _names(entry, user_id)]
    return json.dumps(left, ensure_ascii=False) if left else None


async def counts(db: Reader, guild_id: int, user_id: int) -> dict[tuple[str, str], int]:
    """How many rows of the member each (table, member column) holds in a server, for every role; zeros left out."""
    found: dict[tuple[str, str], int] = {}
    for owned in ownership.OWNED:
        for column in owned.members:
            n = await count(db, owned, column, guild_id, user_id)
            if n:
                found[(owned.table, column)] = n
        for column in owned.member_lists:
            n = sum(_lists_member(text, user_id) for _, text in await _list_rows(db, owned, column, guild_id))
            if n:
                found[(owned.table, column)] = n
    return found


async def rows(db: Database, guild_id: int, user_id: int) -> list[MemberRows]:
    """Every row holding the member's own data or ballot in a server, whole, with film titles beside film ids."""
    out: list[MemberRows] = []
    for owned in ownership.OWNED:
        for column, role in owned.members.items():
            if role is Role.ACTOR:
                continue
            sql = f"SELECT * FROM {owned.table} WHERE {_where(owned, column)}"  # noqa: S608 - registry names
            found = await db.fetchall(sql, {"guild_id": guild_id, "user_id": user_id})
            if found:
                names = await _column_names(db, owned.table)
                out.append(
                    MemberRows(owned.table, column, role, tuple(dict(zip(names, r, strict=True)) for r in found))
                )
        for column in owned.member_lists:
            listed = [text for _, text in await _list_rows(db, owned, column, guild_id) if _lists_member(text, user_id)]
            if listed:
                out.append(MemberRows(owned.table, column, Role.OWN, tuple({column: json.loads(t)} for t in listed)))
    return out


async def _column_names(db: Database, table: str) -> list[str]:
    return [row[0] for row in await db.fetchall(db.dialect.column_names(), (table,))]


async def written_reviews(db: Reader, guild_id: int, user_id: int) -> int:
    return int(await db.fetchval(WRITTEN_REVIEWS, (guild_id, user_id)))


async def film_titles(db: Reader, film_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(film_ids))
    if not ids:
        return {}
    found = await db.fetchall(FILM_TITLES.format(", ".join("?" * len(ids))), ids)
    return {int(r[0]): f"{r[1]} ({r[2]})" for r in found}


async def guilds_of(db: Reader, user_id: int) -> list[int]:
    """Every server where the member has own data or a ballot."""
    found: set[int] = set()
    for owned in ownership.OWNED:
        columns = [c for c, role in owned.members.items() if role is not Role.ACTOR]
        for column in columns:
            if owned.guild is not None:
                sql = f"SELECT DISTINCT {owned.guild} FROM {owned.table} WHERE {column} = CAST(? AS BIGINT)"  # noqa: S608
            else:
                assert owned.parent is not None  # noqa: S101 - the registry's rule (Owned.__post_init__)
                parent = ownership.by_name(owned.parent.table)
                sql = (
                    f"SELECT DISTINCT p.{parent.guild} FROM {owned.table} c JOIN {parent.table} p"  # noqa: S608
                    f" ON p.{owned.parent.key} = c.{owned.parent.column} WHERE c.{column} = CAST(? AS BIGINT)"
                )
            found.update(int(r[0]) for r in await db.fetchall(sql, (user_id,)) if r[0] is not None)
        if owned.member_lists and owned.guild is not None:
            for column in owned.member_lists:
                sql = f"SELECT {owned.guild}, {column} FROM {owned.table}"  # noqa: S608 - registry names
                found.update(int(r[0]) for r in await db.fetchall(sql) if _lists_member(str(r[1]), user_id))
    return sorted(found)


async def erase(tx: Transaction, guild_id: int, user_id: int) -> Erased:
    """Delete the member's own data in a server, withdraw their ballots from open (and cancelled) polls and keep those
    of closed polls under an anonymous id, so every result stands. In the caller's transaction."""
    params = {"guild_id": guild_id, "user_id": user_id}
    posts = tuple((int(r[0]), int(r[1])) for r in await tx.fetchall(REVIEW_POSTS, (guild_id, user_id)))
    open_polls: list[int] = []
    anonymised = 0
    deleted: dict[str, int] = {}
    taken_out: dict[str, int] = {}
    for poll_id, status in [(int(r[0]), str(r[1])) for r in await tx.fetchall(POLLS_OF_MEMBER, params)]:
        if status == "closed":
            anonymous = int(await tx.fetchval(NEXT_ANONYMOUS, (poll_id,)))
            anonymised += await tx.execute(ANONYMISE, (anonymous, poll_id, user_id))
        else:
            deleted["ballots"] = deleted.get("ballots", 0) + await tx.execute(WITHDRAW, (poll_id, user_id))
            if status == "open":
                open_polls.append(poll_id)
    for owned in ownership.OWNED:
        for column in owned.columns(Role.OWN):
            sql = f"DELETE FROM {owned.table} WHERE {_where(owned, column)}"  # noqa: S608 - registry names
            n = await tx.execute(sql, params)
            if n:
                deleted[owned.table] = deleted.get(owned.table, 0) + n
        for column in owned.member_lists:
            gone, kept = await _take_out(tx, owned, column, guild_id, user_id)
            if gone:
                deleted[owned.table] = deleted.get(owned.table, 0) + gone
            if kept:
                taken_out[owned.table] = taken_out.get(owned.table, 0) + kept
    return Erased(guild_id, deleted, tuple(open_polls), anonymised, posts, taken_out=taken_out)


async def _take_out(tx: Transaction, owned: Owned, column: str, guild_id: int, user_id: int) -> tuple[int, int]:
    """Take the member out of the rows of a JSON list column that name them (a /tonight group), so the others' rows
    (and the buttons naming them) keep working; a row left naming nobody is deleted, and so is one left naming
    exactly the members of another row of the server (the list is unique per server: that other row stands for
    them). Returns (rows deleted, rows kept without the member)."""
    # Names from the registry only, never from input.
    delete = f"DELETE FROM {owned.table} WHERE id = ?"  # noqa: S608
    update = f"UPDATE {owned.table} SET {column} = ? WHERE id = ?"  # noqa: S608
    rows = await _list_rows(tx, owned, column, guild_id)
    texts = {text for _, text in rows}
    gone = kept = 0
    for key, text in rows:
        if not _lists_member(text, user_id):
            continue
        left = _without_member(text, user_id)
        texts.discard(text)
        if left is None or left in texts:
            await tx.execute(delete, (key,))
            gone += 1
        else:
            await tx.execute(update, (left, key))
            texts.add(left)
            kept += 1
    return gone, kept
