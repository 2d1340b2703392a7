"""A member's data: what the bot keeps about them (/privacy show), all of it as JSON (/privacy export), and deleting it
(/privacy delete), in one server or, from a direct message, in every server at once.

Where a member's data lives comes from the ownership registry (bot/db/ownership.py) alone. Deleting removes the
member's own rows (reviews and ratings, watchlist, seen films, Letterboxd imports, nominations, attendance, the host
rota, their public review posts' records) and takes them out of /tonight's groups (a group left with nobody else
goes); ballots in open polls are withdrawn and in closed polls kept without the member's id, so no result changes.
What the member did for the server (a poll they opened, a nomination they decided as a moderator) is the server's
record and stays; the export counts those.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from bot.core import hosts
from bot.core.clock import Clock, to_db
from bot.core.web_pages import WebPage, web_page
from bot.db import ownership
from bot.db import privacy as store
from bot.db.database import Database
from bot.db.ownership import Role
from bot.db.privacy import Erased

__all__ = [
    "EXPORT_FORMAT",
    "HIDDEN",
    "KINDS",
    "Erased",
    "Kind",
    "MemberData",
    "delete",
    "export",
    "export_name",
    "member_data",
    "servers_with_data",
]

# What a member reads for each (table, member column) holding their data; one line each, in this order. A table
# the registry gains later is still counted and exported under its own name until it gets a label here.
KINDS: dict[tuple[str, str], str] = {
    ("reviews", "user_id"): "ratings and reviews",
    ("review_posts", "user_id"): "public review posts",
    ("review_removals", "user_id"): "reviews removed by moderators (kept with their text)",
    ("letterboxd_films", "user_id"): "films imported from Letterboxd",
    ("letterboxd_links", "user_id"): "your linked Letterboxd account",
    ("letterboxd_entries", "user_id"): "diary entries read from your Letterboxd feed",
    ("watchlist", "user_id"): "films on your watchlist",
    ("member_watched", "user_id"): "films marked as seen",
    ("ballots", "user_id"): "poll ballots",
    ("nominations", "member_id"): "nominations",
    ("attendance", "user_id"): "screenings attended",
    ("attendance_intervals", "user_id"): "voice-channel times at screenings",
    ("host_volunteers", "user_id"): "place on the host rota",
    ("tonight_groups", "members"): "/tonight groups naming you",
}
# Counted with another line (the review totals follow the reviews).
HIDDEN = frozenset({("review_member_totals", "user_id")})

EXPORT_FORMAT = 1


@dataclass(frozen=True)
class Kind:
    label: str
    count: int
    role: Role


@dataclass(frozen=True)
class MemberData:
    """What the bot keeps about a member in one server: counts per kind, reviews with text among the ratings, the
    server records naming them (kept on deletion), and the club page that may show their reviews."""

    guild_id: int
    kinds: tuple[Kind, ...]
    written_reviews: int
    records: int
    page: WebPage

    @property
    def empty(self) -> bool:
        return not self.kinds


def _label(key: tuple[str, str]) -> str:
    return KINDS.get(key, f"{key[0].replace('_', ' ')} ({key[1].replace('_', ' ')})")


def _order(key: tuple[str, str]) -> tuple[int, str, str]:
    known = list(KINDS)
    return (known.index(key) if key in known else len(known), *key)


async def member_data(db: Database, guild_id: int, user_id: int) -> MemberData:
    found = await store.counts(db, guild_id, user_id)
    roles = {(o.table, c): r for o in ownership.OWNED for c, r in o.members.items()}
    kinds = tuple(
        Kind(_label(key), n, roles.get(key, Role.OWN))
        for key, n in sorted(found.items(), key=lambda item: _order(item[0]))
        if key not in HIDDEN and roles.get(key, Role.OWN) is not Role.ACTOR
    )
    records = sum(n for key, n in found.items() if roles.get(key) is Role.ACTOR)
    written = await store.written_reviews(db, guild_id, user_id) if ("reviews", "user_id") in found else 0
    return MemberData(guild_id, kinds, written, records, await web_page(db, guild_id))


async def servers_with_data(db: Database, user_id: int) -> list[int]:
    """Every server where the bot keeps a member's data (for a direct message, which is in no server)."""
    return await store.guilds_of(db, user_id)


def _jsonable(value: object) -> object:
    # Discord's ids exceed what JavaScript's numbers hold exactly: ids (and every large integer) go out as text.
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)
    return value


async def export(db: Database, clock: Clock, guild_ids: Iterable[int], user_id: int) -> bytes:
    """Everything the bot keeps about a member in those servers, as a UTF-8 JSON document: per server, per table,
    the rows whole (film ids with their titles), and how many server records name them."""
    servers = []
    for guild_id in guild_ids:
        parts = await store.rows(db, guild_id, user_id)
        titles = await store.film_titles(db, (r["film_id"] for p in parts for r in p.rows if "film_id" in r))
        data: dict[str, list[dict[str, object]]] = {}
        for part in parts:
            entries = data.setdefault(part.table, [])
            for row in part.rows:
                entry = {name: _jsonable(value) for name, value in row.items()}
                if isinstance(row.get("film_id"), int) and row["film_id"] in titles:
                    entry["film"] = titles[row["film_id"]]
                entries.append(entry)
        summary = await member_data(db, guild_id, user_id)
        servers.append(
            {
                "server_id": str(guild_id),
                "data": data,
                "server_records_naming_you": summary.records,
                "club_page_public": summary.page.public,
                "club_page_shows_member_names": summary.page.public and summary.page.show_members,
            }
        )
    document = {
        "format": EXPORT_FORMAT,
        "member_id": str(user_id),
        "exported_at": to_db(clock.now()),
        "servers": servers,
    }
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")


def export_name(user_id: int, now: datetime) -> str:
    return f"filmclub-data-{user_id}-{now:%Y%m%d}.json"


async def delete(db: Database, clock: Clock, guild_ids: Iterable[int], user_id: int) -> list[Erased]:
    """Delete a member's data in those servers, all in one transaction: nothing half-deleted stays. A host leaves the
    rota as with /host leave (their screenings to come go to the next volunteers). Returns, per server, what went and
    what the caller must still do on Discord (redraw open polls, take down review posts, rewrite events' hosts)."""
    done: list[Erased] = []
    async with db.transaction() as tx:
        for guild_id in guild_ids:
            rehosted = await hosts.drop_volunteer_in(tx, clock, guild_id, user_id) or []
            erased = await store.erase(tx, guild_id, user_id)
            done.append(replace(erased, rehosted=tuple(rehosted)))
    return done
