"""Letterboxd, live, as stored: members' links to their Letterboxd accounts (per server, with the opt-ins and the
state of following their feed) and every diary entry handled, by its guid."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from bot.db.database import Database, Reader, Row, Transaction, placeholders


@dataclass(frozen=True)
class Link:
    guild_id: int
    user_id: int
    username: str
    diary: bool
    import_entries: bool
    linked_at: str
    etag: str | None
    last_modified: str | None
    last_checked: str | None
    failures: int
    last_error: str | None
    told_failing: bool
    entries_imported: int
    primed: bool


@dataclass(frozen=True)
class HandledEntry:
    guid: str
    fingerprint: str
    revision: int
    film_id: int | None
    imported: bool  # whether its newest content went into the club (the link's import was on when it was handled)


@dataclass(frozen=True)
class PendingPost:
    guild_id: int
    user_id: int
    guid: str
    post: str  # the diary post's content, as JSON text (bot.core.letterboxd_follow encodes and decodes it)


_LINK_COLUMNS = """guild_id, user_id, username, diary, import_entries, linked_at, etag, last_modified, last_checked,
failures, last_error, told_failing, entries_imported, primed"""

GET_LINK = f"SELECT {_LINK_COLUMNS} FROM letterboxd_links WHERE guild_id = ? AND user_id = ?"  # noqa: S608
LINKED_MEMBERS = "SELECT user_id FROM letterboxd_links WHERE guild_id = ? ORDER BY user_id"
LINKS = f"SELECT {_LINK_COLUMNS} FROM letterboxd_links ORDER BY guild_id, user_id"  # noqa: S608
# Linking again (another name) starts over: the validators and the state of the old feed mean nothing for the new one.
LINK = """
INSERT INTO letterboxd_links (guild_id, user_id, username, diary, import_entries, linked_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (guild_id, user_id) DO UPDATE SET
    username = excluded.username, diary = excluded.diary, import_entries = excluded.import_entries,
    linked_at = excluded.linked_at, etag = NULL, last_modified = NULL, last_checked = NULL, failures = 0,
    last_error = NULL, told_failing = 0, primed = 0
"""
SET_OPTIONS = "UPDATE letterboxd_links SET diary = ?, import_entries = ? WHERE guild_id = ? AND user_id = ?"
UNLINK = "DELETE FROM letterboxd_links WHERE guild_id = ? AND user_id = ?"
FORGET_ENTRIES = "DELETE FROM letterboxd_entries WHERE guild_id = ? AND user_id = ?"
# The validators are kept only while the import is as the check found it: import turned on during the check means
# the next check reads the whole feed again, to import what this one took in without importing.
CHECKED = """
UPDATE letterboxd_links SET etag = CASE WHEN import_entries = ? THEN ? ELSE NULL END,
    last_modified = CASE WHEN import_entries = ? THEN ? ELSE NULL END, last_checked = ?, failures = 0,
    last_error = NULL, told_failing = 0, primed = 1, entries_imported = entries_imported + ?
WHERE guild_id = ? AND user_id = ? AND username = ?
"""
# Import turned on: the next read is not conditional (an unchanged feed would answer 304, and nothing be imported).
FORGET_VALIDATORS = "UPDATE letterboxd_links SET etag = NULL, last_modified = NULL WHERE guild_id = ? AND user_id = ?"
FAILED = """
UPDATE letterboxd_links SET last_checked = ?, failures = failures + 1, last_error = ?
WHERE guild_id = ? AND user_id = ? AND username = ?
"""
# Compare-and-set: whoever flips it tells the member; nobody else does.
TELL_FAILING = """
UPDATE letterboxd_links SET told_failing = 1 WHERE guild_id = ? AND user_id = ? AND told_failing = 0 AND failures > 0
"""
HANDLED = """
SELECT guid, fingerprint, revision, film_id, imported FROM letterboxd_entries WHERE guild_id = ? AND user_id = ?
"""
INSERT_ENTRY = """
INSERT INTO letterboxd_entries
    (guild_id, user_id, guid, fingerprint, revision, film_id, pending_post, seen_at, imported)
VALUES (CAST(? AS BIGINT), CAST(? AS BIGINT), ?, ?, 0, ?, ?, ?, ?)
ON CONFLICT (guild_id, user_id, guid) DO NOTHING
"""
UPDATE_ENTRY = """
UPDATE letterboxd_entries SET fingerprint = ?, revision = revision + 1, film_id = ?, imported = ?
WHERE guild_id = ? AND user_id = ? AND guid = ? AND fingerprint = ?
"""
# Compare-and-set: an entry handled without import, imported now as it was then (unchanged since).
MARK_IMPORTED = """
UPDATE letterboxd_entries SET imported = 1, film_id = ?
WHERE guild_id = ? AND user_id = ? AND guid = ? AND fingerprint = ? AND imported = 0
"""
NOT_IMPORTED = "SELECT COUNT(*) FROM letterboxd_entries WHERE guild_id = ? AND user_id = ? AND imported = 0"
PENDING_POSTS = """
SELECT guild_id, user_id, guid, pending_post FROM letterboxd_entries
WHERE guild_id = ? AND user_id = ? AND pending_post IS NOT NULL ORDER BY seen_at, guid
"""
# Compare-and-set: the one process that takes a post sends it; nobody sends it twice.
TAKE_POST = """
UPDATE letterboxd_entries SET pending_post = NULL
WHERE guild_id = ? AND user_id = ? AND guid = ? AND pending_post IS NOT NULL
"""
RETURN_POST = """
UPDATE letterboxd_entries SET pending_post = ? WHERE guild_id = ? AND user_id = ? AND guid = ? AND pending_post IS NULL
"""
COUNT_ENTRIES = "SELECT COUNT(*) FROM letterboxd_entries WHERE guild_id = ? AND user_id = ?"


def _link(row: Row) -> Link:
    return Link(
        int(row[0]),
        int(row[1]),
        str(row[2]),
        bool(row[3]),
        bool(row[4]),
        str(row[5]),
        row[6],
        row[7],
        row[8],
        int(row[9]),
        row[10],
        bool(row[11]),
        int(row[12]),
        bool(row[13]),
    )


async def get_link(db: Reader, guild_id: int, user_id: int) -> Link | None:
    row = await db.fetchone(GET_LINK, (guild_id, user_id))
    return None if row is None else _link(row)


async def linked_members(db: Reader, guild_id: int) -> list[int]:
    """The members with a Letterboxd account linked in the server."""
    return [int(row[0]) for row in await db.fetchall(LINKED_MEMBERS, (guild_id,))]


async def all_links(db: Reader) -> list[Link]:
    return [_link(row) for row in await db.fetchall(LINKS)]


async def link(
    tx: Transaction, guild_id: int, user_id: int, username: str, *, diary: bool, import_entries: bool, now: str
) -> None:
    await tx.execute(LINK, (guild_id, user_id, username, int(diary), int(import_entries), now))


async def set_options(tx: Transaction, guild_id: int, user_id: int, *, diary: bool, import_entries: bool) -> None:
    await tx.execute(SET_OPTIONS, (int(diary), int(import_entries), guild_id, user_id))


async def forget_validators(tx: Transaction, guild_id: int, user_id: int) -> None:
    """Make the next read of the feed unconditional."""
    await tx.execute(FORGET_VALIDATORS, (guild_id, user_id))


async def unlink(tx: Transaction, guild_id: int, user_id: int) -> bool:
    """Remove the link and what was handled of its feed (the reviews an import wrote stay); whether there was one."""
    removed = await tx.execute(UNLINK, (guild_id, user_id))
    await tx.execute(FORGET_ENTRIES, (guild_id, user_id))
    return removed > 0


async def forget_entries(tx: Transaction, guild_id: int, user_id: int) -> None:
    await tx.execute(FORGET_ENTRIES, (guild_id, user_id))


async def checked(
    tx: Transaction,
    link: Link,
    *,
    etag: str | None,
    last_modified: str | None,
    now: str,
    imported: int,
) -> bool:
    """Record a successful check of the feed ``link`` names (as the check found it: its ``import_entries``); False
    when the member re-linked or unlinked meanwhile."""
    importing = int(link.import_entries)
    params = (importing, etag, importing, last_modified, now, imported, link.guild_id, link.user_id, link.username)
    return await tx.execute(CHECKED, params) > 0


async def failed(db: Database, link: Link, *, error: str, now: str) -> None:
    await db.execute(FAILED, (now, error[:500], link.guild_id, link.user_id, link.username))


async def take_telling(db: Database, guild_id: int, user_id: int) -> bool:
    """Whether this caller is the one to tell the member their feed keeps failing (once per run of failures)."""
    return await db.execute(TELL_FAILING, (guild_id, user_id)) > 0


async def handled(
    db: Reader, guild_id: int, user_id: int, guids: Collection[str] | None = None
) -> dict[str, HandledEntry]:
    """The member's handled entries by guid; with ``guids``, only those (a check asks for the entries its feed holds,
    so its cost does not grow with every film the member ever logged)."""
    if guids is None:
        rows = list(await db.fetchall(HANDLED, (guild_id, user_id)))
    else:
        wanted, rows = sorted(guids), []
        for start in range(0, len(wanted), 400):
            chunk = wanted[start : start + 400]
            query = f"{HANDLED.strip()} AND guid IN ({placeholders(len(chunk))})"
            rows.extend(await db.fetchall(query, (guild_id, user_id, *chunk)))
    return {
        str(r[0]): HandledEntry(str(r[0]), str(r[1]), int(r[2]), None if r[3] is None else int(r[3]), bool(r[4]))
        for r in rows
    }


async def insert_entries(
    tx: Transaction,
    guild_id: int,
    user_id: int,
    entries: Iterable[tuple[str, str, int | None, str | None]],
    now: str,
    *,
    imported: bool,
) -> None:
    """Record entries as handled: (guid, fingerprint, film id, the diary post to send or None), and whether they were
    imported."""
    await tx.executemany(
        INSERT_ENTRY,
        [
            (guild_id, user_id, guid, fingerprint, film_id, post, now, int(imported))
            for guid, fingerprint, film_id, post in entries
        ],
    )


async def update_entry(
    tx: Transaction,
    guild_id: int,
    user_id: int,
    guid: str,
    *,
    old: str,
    new: str,
    film_id: int | None,
    imported: bool,
) -> bool:
    """An edited entry: its new fingerprint, one more revision, whether it was imported; False when another check
    recorded the edit first."""
    return await tx.execute(UPDATE_ENTRY, (new, film_id, int(imported), guild_id, user_id, guid, old)) > 0


async def mark_imported(
    tx: Transaction, guild_id: int, user_id: int, guid: str, *, fingerprint: str, film_id: int | None
) -> bool:
    """An entry handled without import, imported now; False when another check did it first (or it changed since)."""
    return await tx.execute(MARK_IMPORTED, (film_id, guild_id, user_id, guid, fingerprint)) > 0


async def count_not_imported(db: Reader, guild_id: int, user_id: int) -> int:
    """Entries handled while the link's import was off (or edited then), not imported since."""
    return int(await db.fetchval(NOT_IMPORTED, (guild_id, user_id)))


async def pending_posts(db: Reader, guild_id: int, user_id: int) -> list[PendingPost]:
    rows = await db.fetchall(PENDING_POSTS, (guild_id, user_id))
    return [PendingPost(int(r[0]), int(r[1]), str(r[2]), str(r[3])) for r in rows]


async def take_post(db: Database, post: PendingPost) -> bool:
    return await db.execute(TAKE_POST, (post.guild_id, post.user_id, post.guid)) > 0


async def return_post(db: Database, post: PendingPost) -> None:
    await db.execute(RETURN_POST, (post.post, post.guild_id, post.user_id, post.guid))


async def count_entries(db: Reader, guild_id: int, user_id: int) -> int:
    return int(await db.fetchval(COUNT_ENTRIES, (guild_id, user_id)))
