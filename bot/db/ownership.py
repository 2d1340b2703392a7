"""Who owns each row: the one place that says, for every table, which server and which members its rows belong to.

A member's data (``/privacy show``, ``export``, ``delete``) and a server's data (the purge after the bot is removed,
``/config purge``) are both found through this registry, never through a second list. Every table of the schema is
classified here, as owned by a server (:data:`OWNED`) or as shared by all servers (:data:`SHARED`):
tests/unit/test_ownership.py reads the real schema of both backends and fails on a table classified nowhere, so a
new table cannot be forgotten. Adding one is one line in :data:`OWNED` (or :data:`SHARED`).

A server's rows are found by its guild column, or, for a child table without one, through its parent (a ballot
through its poll). A member's id sits in columns of three kinds (:class:`Role`):

- ``OWN``: the row is the member's own data (a review, a watchlist entry, an attendance); deleted on request;
- ``BALLOT``: a vote; withdrawn from open polls, kept without the member's id in closed ones so results stand;
- ``ACTOR``: the member did something for the server (created a poll, decided a nomination, changed a setting); the
  row is the server's record and stays, and a member's export lists how many there are.

:data:`OWNED` is in an order that deletes children before their parents, so a server's purge can walk it as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum


class Role(Enum):
    """What a member-id column means for that member's data."""

    OWN = "own"
    BALLOT = "ballot"
    ACTOR = "actor"


@dataclass(frozen=True)
class Parent:
    """A child table's way to its server: ``column`` points at ``table.key``, and ``table`` has the guild column."""

    column: str
    table: str
    key: str = "id"


@dataclass(frozen=True)
class Owned:
    """A table whose rows belong to one server each.

    ``guild``: the column holding the server's id (NULL allowed where ``shared_when_null``: such rows are shared by
    every server, e.g. the curated catalog's films). ``parent``: for a table without a guild column, the parent row
    that has it. ``members``: the columns holding a member's id, and what each means.
    """

    table: str
    guild: str | None = "guild_id"
    parent: Parent | None = None
    members: Mapping[str, Role] = field(default_factory=dict)
    shared_when_null: bool = False
    # Member ids inside a JSON array column rather than a column of their own (the row is about several members).
    member_lists: tuple[str, ...] = ()
    # SQL true for a row still in use; the others only record what finished (a done timer, kept a while to debug
    # with) and alone do not make a server one with data to purge. None: every row is in use.
    in_use: str | None = None

    def __post_init__(self) -> None:
        if (self.guild is None) == (self.parent is None):
            raise ValueError(f"{self.table}: a table reaches its server by a guild column or a parent, exactly one")

    def guild_condition(self, alias: str = "") -> str:
        """SQL true for this table's rows of the server passed as the parameter ``:guild_id``."""
        prefix = f"{alias}." if alias else ""
        if self.guild is not None:
            return f"{prefix}{self.guild} = CAST(:guild_id AS BIGINT)"
        if self.parent is None or (parent := by_name(self.parent.table)).guild is None:
            raise ValueError(f"{self.table}: no way to its server")  # pragma: no cover - __post_init__, the test
        # Names from this module's constants only, never from input.
        return (
            f"{prefix}{self.parent.column} IN (SELECT {self.parent.key} FROM {parent.table}"  # noqa: S608
            f" WHERE {parent.guild} = CAST(:guild_id AS BIGINT))"
        )

    def columns(self, role: Role) -> tuple[str, ...]:
        return tuple(column for column, each in self.members.items() if each is role)


OWN, BALLOT, ACTOR = Role.OWN, Role.BALLOT, Role.ACTOR

# Every table holding a server's data, children before parents. One line per table.
OWNED: tuple[Owned, ...] = (
    # Polls and what hangs off them.
    Owned("ballots", guild=None, parent=Parent("poll_id", "polls"), members={"user_id": BALLOT}),
    Owned("poll_candidates", guild=None, parent=Parent("poll_id", "polls")),
    Owned("season_polls", guild=None, parent=Parent("season_id", "seasons")),
    Owned("season_films", guild=None, parent=Parent("season_id", "seasons")),
    Owned("seasons", members={"created_by": ACTOR, "ended_by": ACTOR}),
    Owned("picks_post_films", guild=None, parent=Parent("post_id", "picks_posts")),
    Owned("picks_posts", members={"requested_by": ACTOR}),
    Owned("picks_schedule"),
    # Screenings and what hangs off them.
    Owned("attendance_intervals", guild=None, parent=Parent("screening_id", "screenings"), members={"user_id": OWN}),
    Owned("attendance", members={"user_id": OWN}),
    Owned("host_swaps", members={"from_user": ACTOR, "to_user": ACTOR}),
    Owned("host_volunteers", members={"user_id": OWN}),
    Owned("screening_nights"),
    Owned("screenings", members={"created_by": ACTOR, "host_id": ACTOR}),
    Owned("polls", members={"creator_id": ACTOR, "closed_by": ACTOR}),
    # A member's films: reviews (and their derived totals, kept by triggers), watchlist, seen, Letterboxd imports.
    Owned("review_posts", members={"user_id": OWN}),
    Owned("review_removals", members={"user_id": OWN, "removed_by": ACTOR}),
    Owned("reviews", members={"user_id": OWN}),
    Owned("review_member_totals", members={"user_id": OWN}),
    Owned("review_film_totals"),
    Owned("review_guild_totals"),
    Owned("watchlist", members={"user_id": OWN}),
    Owned("member_watched", members={"user_id": OWN}),
    Owned("letterboxd_films", members={"user_id": OWN}),
    # Letterboxd, live: the entries read from a linked member's feed, then the link itself.
    Owned("letterboxd_entries", members={"user_id": OWN}),
    Owned("letterboxd_links", members={"user_id": OWN}),
    Owned("club_watched"),
    Owned("nominations", members={"member_id": OWN, "decided_by": ACTOR}),
    # Collections, recommendations, settings, the web page.
    Owned("collection_films", guild=None, parent=Parent("collection_id", "collections"), members={"added_by": ACTOR}),
    Owned("collections", members={"created_by": ACTOR}),
    Owned("tonight_groups", member_lists=("members",)),
    Owned("recommend_versions"),
    Owned("server_film_versions"),
    Owned("config_history", members={"user_id": ACTOR}),
    Owned("web_pages"),
    Owned("guild_settings"),
    Owned("timers", shared_when_null=True, in_use="done_at IS NULL"),
    # A server's own films (NULL: the curated catalog, shared); last, as every film reference above points here.
    Owned("films", members={"added_by": ACTOR}, shared_when_null=True),
)

# Tables shared by every server: the curated catalog and caches of public data. No member's id is in them.
SHARED: frozenset[str] = frozenset({"catalog_state", "film_themes", "themes", "tmdb_details", "tmdb_searches"})

_BY_NAME = {owned.table: owned for owned in OWNED}


def by_name(table: str) -> Owned:
    return _BY_NAME[table]


def member_tables(role: Role) -> tuple[tuple[Owned, str], ...]:
    """Every (table, column) holding a member's id in ``role``, in :data:`OWNED`'s order."""
    return tuple((owned, column) for owned in OWNED for column in owned.columns(role))
