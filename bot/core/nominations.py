"""Nominations: members propose films for the club to watch; moderators approve, reject or ban them.

A film is nominated once per server (one row per film): nominating a rejected or chosen film again reopens its row as
the new nominator's, a banned film cannot be nominated again, and one already open (pending or approved) is refused
naming who nominated it. Each member may have ``nominations_limit`` open nominations (default 3); when
``nominations_approval`` is on a new nomination waits (pending) for a moderator, else it is approved at once. A
poll's winner's open nomination becomes ``chosen`` when the poll closes (:func:`bot.core.polls.close_poll`).

A film that is in neither the catalog nor the server's films is added as a server film in the same transaction as its
nomination (:func:`nominate_new`), so a refused nomination leaves no film behind.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from bot.core import server_films
from bot.core.clock import Clock, to_db
from bot.core.errors import NotFoundError, PermissionDenied, UserError
from bot.core.films import Film, get_film, get_films
from bot.core.guilds import GuildSettings, is_moderator, require_moderator
from bot.core.search import ClubTitles, IndexEntry, TitleIndex
from bot.core.server_films import ServerFilmEntry
from bot.core.text import one_line
from bot.db import nominations as store
from bot.db.database import Database, Reader, Transaction
from bot.db.nominations import Nomination

__all__ = [
    "Action",
    "Lookup",
    "Nominated",
    "Nomination",
    "NominationPage",
    "Status",
    "candidate_statuses",
    "check_title",
    "decide",
    "find_existing",
    "get_nomination",
    "list_page",
    "nominate",
    "nominate_new",
    "nominated_films",
    "require_nominator",
    "require_room",
    "statuses_for",
    "withdraw",
]

PAGE_SIZE = 10
#: A typed title this similar to a film's is offered as "did you mean" before a new film is entered.
SUGGEST_SIMILARITY = 70.0
SUGGESTIONS = 3
_YEAR_SUFFIX = re.compile(r"^(?P<title>.*?)\s*[\(\[]?(?P<year>1[89]\d\d|20\d\d)[\)\]]?\s*$")


class Status(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    BANNED = "banned"
    CHOSEN = "chosen"


OPEN = (Status.PENDING, Status.APPROVED)


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    BAN = "ban"

    @property
    def status(self) -> Status:
        return {Action.APPROVE: Status.APPROVED, Action.REJECT: Status.REJECTED, Action.BAN: Status.BANNED}[self]

    @property
    def from_statuses(self) -> tuple[Status, ...]:
        return tuple(status for status in Status if status is not self.status and status is not Status.CHOSEN) + (
            (Status.CHOSEN,) if self is Action.BAN else ()
        )


@dataclass(frozen=True)
class Nominated:
    """A nomination made: the film (``created_film`` when it was added to the server's films for it, ``duplicate``
    when the film the member described was already known), and whether it reopened an earlier nomination."""

    nomination: Nomination
    film: Film
    reopened: bool = False
    created_film: bool = False
    duplicate: bool = False


@dataclass(frozen=True)
class Lookup:
    """What /nominate's title names among the films members can already name: exactly one film (``film_id``),
    films it may mean (``suggestions``, "did you mean"), or neither (a new film)."""

    film_id: int | None = None
    suggestions: tuple[IndexEntry, ...] = ()


@dataclass(frozen=True)
class NominationPage:
    entries: list[Nomination]
    films: dict[int, Film]
    page: int
    pages: int
    count: int


# -- who may nominate -----------------------------------------------------------------------------------------------


def require_nominator(settings: GuildSettings, *, manage_guild: bool, role_ids: Collection[int]) -> None:
    """Refuse a member without the nominator role (when one is set); moderators may always nominate."""
    role = settings.nominator_role_id
    if role is None or role in role_ids or is_moderator(settings, manage_guild=manage_guild, role_ids=role_ids):
        return
    raise PermissionDenied(f"Only members with the <@&{role}> role can nominate films here.")


def check_title(title: str, year: int | None, clock: Clock) -> str:
    """The typed title, trimmed; :class:`UserError` for an empty or over-long one or a year out of range."""
    cleaned = one_line(title)
    if not cleaned:
        raise UserError("The title is empty: type the film's title.")
    if len(cleaned) > server_films.TITLE_LIMIT:
        raise UserError(
            f"That title is {len(cleaned)} characters long; a title has at most {server_films.TITLE_LIMIT}."
        )
    first, last = server_films.year_range(clock)
    if year is not None and not first <= year <= last:
        raise UserError(f"The year must be between {first} and {last}.")
    return cleaned


def find_existing(titles: ClubTitles, text: str, year: int | None) -> Lookup:
    """The film the member means among the catalog's and the server's (an autocomplete value, an exact title with
    or without its year), else the closest few ("did you mean"), else nothing: a film to enter."""
    film_id = titles.id_for_slug(text)
    if film_id is not None:
        return Lookup(film_id)
    title = text
    if year is None and (match := _YEAR_SUFFIX.match(text)) and match.group("title"):
        title, year = match.group("title"), int(match.group("year"))
    exact = [entry for entry in titles.exact(title) if year is None or entry.year == year]
    if len(exact) == 1:
        return Lookup(exact[0].film_id)
    if exact:
        return Lookup(suggestions=tuple(exact[:4]))
    close = [
        entry
        for entry, similarity in titles.similarities(title)
        if similarity >= SUGGEST_SIMILARITY and (year is None or entry.year == year)
    ]
    return Lookup(suggestions=tuple(close[:SUGGESTIONS]))


# -- nominating -----------------------------------------------------------------------------------------------------


async def nominate(
    db: Database,
    clock: Clock,
    settings: GuildSettings,
    film_id: int,
    member_id: int,
    *,
    manage_guild: bool,
    role_ids: Collection[int],
) -> Nominated:
    """Nominate a film members can already name (curated, or the server's own)."""
    require_nominator(settings, manage_guild=manage_guild, role_ids=role_ids)
    film = await get_film(db, film_id)
    if film is None or film.retired or not film.visible_in(settings.guild_id):
        raise NotFoundError("That film is not in the catalog or this server's films.")
    async with db.transaction() as tx:
        nomination, reopened = await _nominate_in(tx, clock, settings, film, member_id)
    return Nominated(nomination, film, reopened=reopened)


async def nominate_new(
    db: Database,
    clock: Clock,
    curated: TitleIndex,
    settings: GuildSettings,
    entry: ServerFilmEntry,
    member_id: int,
    *,
    manage_guild: bool,
    role_ids: Collection[int],
) -> Nominated:
    """Nominate a film described by the member (the form) or the details provider: it becomes one of the server's
    films, unless it repeats a film already known (curated or the server's), which is then the one nominated. The
    film and the nomination are written together, or (any refusal) neither."""
    require_nominator(settings, manage_guild=manage_guild, role_ids=role_ids)
    async with db.transaction() as tx:
        added = await server_films.add_in(tx, clock, curated, settings.guild_id, member_id, entry)
        if added.film is None:  # add_in raises for an invalid entry; this is only for the type checker
            raise UserError(added.problem or "That film could not be added.")
        nomination, reopened = await _nominate_in(tx, clock, settings, added.film, member_id)
    return Nominated(nomination, added.film, reopened=reopened, created_film=added.created, duplicate=added.duplicate)


async def require_room(db: Reader, settings: GuildSettings, member_id: int) -> None:
    """Refuse a member who already has as many open nominations as the server allows (checked again when the
    nomination is written; asked first so that nobody fills in a form for nothing)."""
    limit = settings.nominations_limit
    if await store.open_count(db, settings.guild_id, member_id) >= limit:
        raise UserError(
            f"You already have {limit} open nomination{'s' if limit != 1 else ''}, the most this server allows. "
            "Withdraw one (`/nominations withdraw`) or wait for the club to choose."
        )


async def _nominate_in(
    tx: Transaction, clock: Clock, settings: GuildSettings, film: Film, member_id: int
) -> tuple[Nomination, bool]:
    guild_id = settings.guild_id
    existing = await store.for_film(tx, guild_id, film.id)
    if existing is not None and existing.status == Status.BANNED:
        raise UserError(f"**{film.label}** is banned from nominations in this server.")
    if existing is not None and existing.status in OPEN:
        who = "you" if existing.member_id == member_id else f"<@{existing.member_id}>"
        raise UserError(f"**{film.label}** is already nominated (#{existing.id}, by {who}, {existing.status}).")
    await require_room(tx, settings, member_id)
    status = Status.PENDING if settings.nominations_approval else Status.APPROVED
    now = to_db(clock.now())
    if existing is None:
        inserted = await store.insert(tx, guild_id, film.id, member_id, status, now)
        if inserted is None:
            raise UserError(f"**{film.label}** was just nominated by someone else.")
        nomination_id, reopened = inserted, False
    else:
        if not await store.reopen(tx, existing.id, member_id, status, now):
            raise UserError(f"**{film.label}** was just nominated by someone else.")
        nomination_id, reopened = existing.id, True
    nomination = await store.get(tx, guild_id, nomination_id)
    if nomination is None:
        raise RuntimeError("a nomination written in this transaction is missing")
    return nomination, reopened


# -- moderation -----------------------------------------------------------------------------------------------------


async def get_nomination(db: Database, guild_id: int, nomination_id: int) -> Nomination:
    found = await store.get(db, guild_id, nomination_id)
    if found is None:
        raise NotFoundError(f"There is no nomination #{nomination_id} in this server.")
    return found


async def decide(
    db: Database,
    clock: Clock,
    settings: GuildSettings,
    nomination_id: int,
    action: Action,
    actor_id: int,
    *,
    manage_guild: bool,
    role_ids: Collection[int],
) -> Nomination:
    """Approve, reject or ban a nomination (moderators). A banned film cannot be nominated again until a moderator
    approves or rejects its nomination."""
    require_moderator(settings, manage_guild=manage_guild, role_ids=role_ids)
    current = await get_nomination(db, settings.guild_id, nomination_id)
    async with db.transaction() as tx:
        changed = await store.decide(
            tx,
            settings.guild_id,
            nomination_id,
            action.status,
            actor_id,
            to_db(clock.now()),
            [status.value for status in action.from_statuses],
        )
    if not changed:
        raise UserError(f"Nomination #{nomination_id} is already {current.status}.")
    return await get_nomination(db, settings.guild_id, nomination_id)


async def withdraw(
    db: Database,
    settings: GuildSettings,
    nomination_id: int,
    member_id: int,
    *,
    manage_guild: bool,
    role_ids: Collection[int],
) -> Nomination:
    """The nominator (or a moderator) withdraws an open nomination; the film may be nominated again later."""
    current = await get_nomination(db, settings.guild_id, nomination_id)
    if current.member_id != member_id and not is_moderator(settings, manage_guild=manage_guild, role_ids=role_ids):
        raise PermissionDenied("Only the member who nominated a film (or a moderator) can withdraw it.")
    async with db.transaction() as tx:
        removed = await store.delete_open(tx, settings.guild_id, nomination_id)
    if not removed:
        raise UserError(f"Nomination #{nomination_id} is {current.status}; only open ones can be withdrawn.")
    return current


# -- lists ----------------------------------------------------------------------------------------------------------


def statuses_for(shown: str | None) -> tuple[str, ...]:
    """What a list filter shows: ``open`` (pending and approved), one status, or everything (None, ``all``)."""
    if shown is None or shown == "all":
        return tuple(status.value for status in Status)
    if shown == "open":
        return tuple(status.value for status in OPEN)
    try:
        return (Status(shown).value,)
    except ValueError:
        raise UserError("Show all, open, pending, approved, rejected, banned or chosen nominations.") from None


async def list_page(
    db: Database, guild_id: int, shown: str | None, page: int, *, size: int = PAGE_SIZE
) -> NominationPage:
    """One page of the server's nominations, newest first (the page is clamped to those that exist)."""
    statuses = statuses_for(shown)
    total = await store.count(db, guild_id, statuses)
    pages = max(1, math.ceil(total / size))
    page = min(max(page, 0), pages - 1)
    entries = await store.page(db, guild_id, statuses, size, page * size)
    films = await get_films(db, [entry.film_id for entry in entries])
    return NominationPage(entries, films, page, pages, total)


def candidate_statuses(settings: GuildSettings) -> tuple[str, ...]:
    """The nominations a poll may take films from: approved ones, and pending ones too when approval is off."""
    if settings.nominations_approval:
        return (Status.APPROVED.value,)
    return tuple(status.value for status in OPEN)


async def nominated_films(db: Database, settings: GuildSettings, count: int) -> list[int]:
    """Up to ``count`` films with a nomination a poll may take, the longest-waiting first."""
    return await store.films_with_status(db, settings.guild_id, candidate_statuses(settings), count)
