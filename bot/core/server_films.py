"""The server's own films: a film the curated catalog lacks, entered by a server (a nomination, a Letterboxd import).

One set of rules for every way a film enters a server: :func:`validate` (title 1–200 characters after trimming, year
from :data:`bot.core.catalog.FIRST_FILM_YEAR` to this year + 2, an optional director of up to 100 characters) and the
duplicate rule, same normalised title and year, same TMDb or IMDb id, or same Letterboxd link, against the curated
catalog (its title index, :meth:`TitleIndex.exact`, since curated rows keep no normalised title) and the server's own
films.

:func:`add_all_in` is the one way in: it adds a batch inside the caller's transaction, checks the whole batch at once
and accounts for each entry (the film created, the film it repeats, or why it was refused). :func:`add_server_films`
is it in a transaction of its own; :func:`add_in` is it for one entry, so a nomination writes its film and itself
together or not at all; a Letterboxd import calls it in the import's one transaction.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.catalog import FIRST_FILM_YEAR
from bot.core.clock import Clock, to_db
from bot.core.details import FilmCandidate, FilmDetails
from bot.core.errors import UserError
from bot.core.search import SERVER_SLUG_PREFIX, TitleIndex
from bot.core.text import fold, normalise_title, one_line
from bot.db import films as films_db
from bot.db.database import Database, Transaction
from bot.db.films import Film

TITLE_LIMIT = 200
DIRECTOR_LIMIT = 100
YEARS_AHEAD = 2  # announced films may be nominated
BLURB_LIMIT = 1000
_IMDB_ID = re.compile(r"tt\d{5,10}")
_SLUG_WORDS = re.compile(r"[^a-z0-9]+")
#: Why :func:`add_all_in` refused an entry past its ``limit``.
SERVER_FULL = "The server already holds as many films of its own as it may."


@dataclass(frozen=True)
class ServerFilmEntry:
    """A film as a member, an import or the details provider describes it, before validation."""

    title: str
    year: int | None
    directors: tuple[str, ...] = ()
    tmdb_id: int | None = None
    imdb_id: str | None = None
    letterboxd_uri: str | None = None
    runtime: int | None = None
    blurb: str = ""


@dataclass(frozen=True)
class Added:
    """What became of one entry: ``film`` is the new server film (``created``) or the film it repeats; ``problem``
    (and no film) when the entry was refused by :func:`validate`."""

    film: Film | None
    created: bool = False
    problem: str | None = None

    @property
    def duplicate(self) -> bool:
        return self.film is not None and not self.created


def year_range(clock: Clock) -> tuple[int, int]:
    return FIRST_FILM_YEAR, clock.now().year + YEARS_AHEAD


def validate(entry: ServerFilmEntry, clock: Clock) -> ServerFilmEntry:
    """The entry cleaned (spaces trimmed, collapsed), or :class:`UserError` saying what is wrong with it."""
    return _validated(entry, clock)[0]


def _validated(entry: ServerFilmEntry, clock: Clock) -> tuple[ServerFilmEntry, str]:
    """:func:`validate`, and the title normalised (what the duplicate rule compares)."""
    title = one_line(entry.title)
    if not title:
        raise UserError("The title is empty: type the film's title.")
    if len(title) > TITLE_LIMIT:
        raise UserError(f"That title is {len(title)} characters long; a title has at most {TITLE_LIMIT}.")
    title_key = normalise_title(title)
    if not title_key:
        raise UserError("The title needs at least one letter or digit.")
    first, last = year_range(clock)
    if entry.year is None:
        raise UserError("Give the film's year, so that it can't be mistaken for another film of that title.")
    if not first <= entry.year <= last:
        raise UserError(f"The year must be between {first} and {last}.")
    directors = tuple(one_line(name) for name in entry.directors if one_line(name))
    for name in directors:
        if len(name) > DIRECTOR_LIMIT:
            raise UserError(f"A director's name has at most {DIRECTOR_LIMIT} characters.")
    imdb_id = entry.imdb_id if entry.imdb_id and _IMDB_ID.fullmatch(entry.imdb_id) else None
    tmdb_id = entry.tmdb_id if entry.tmdb_id and entry.tmdb_id > 0 else None
    runtime = entry.runtime if entry.runtime and 0 < entry.runtime < 10_000 else None
    blurb = one_line(entry.blurb)
    if len(blurb) > BLURB_LIMIT:
        blurb = blurb[: BLURB_LIMIT - 1].rstrip() + "…"
    cleaned = ServerFilmEntry(
        title, entry.year, directors, tmdb_id, imdb_id, entry.letterboxd_uri or None, runtime, blurb
    )
    return cleaned, title_key


def from_details(details: FilmDetails) -> ServerFilmEntry:
    """A server film from what the details provider said of it (runtime, directors, overview, ids)."""
    return ServerFilmEntry(
        title=details.title,
        year=details.year,
        directors=details.directors,
        tmdb_id=details.tmdb_id,
        imdb_id=details.imdb_id,
        runtime=details.runtime,
        blurb=details.overview,
    )


def from_candidate(candidate: FilmCandidate) -> ServerFilmEntry:
    """A server film from a search answer alone (when its details could not be fetched in time)."""
    return ServerFilmEntry(
        title=candidate.title, year=candidate.year, tmdb_id=candidate.tmdb_id, blurb=candidate.overview
    )


def server_slug(guild_id: int, title_key: str, year: int) -> str:
    """A slug no other film has: ``~`` (never in a curated slug), the title's words, the year, and a hash of the
    server, title and year (the title is cut to keep the slug short enough for Discord's choice values)."""
    words = _SLUG_WORDS.sub("-", fold(title_key)).strip("-")[:40].strip("-") or "film"
    digest = hashlib.sha256(f"{guild_id}|{title_key}|{year}".encode()).hexdigest()[:8]
    return f"{SERVER_SLUG_PREFIX}{words}-{year}-{digest}"


async def add_in(
    tx: Transaction, clock: Clock, curated: TitleIndex, guild_id: int, added_by: int | None, entry: ServerFilmEntry
) -> Added:
    """Add one entry (validated here) inside the caller's transaction, or find the film it repeats: :func:`add_all_in`
    for one entry.

    Raises :class:`UserError` for an invalid entry: a caller that writes more in the same transaction (a nomination)
    then writes nothing."""
    [added] = await add_all_in(tx, clock, curated, guild_id, added_by, [validate(entry, clock)])
    if added.problem is not None:
        raise UserError(added.problem)
    return added


async def add_server_films(
    db: Database,
    clock: Clock,
    curated: TitleIndex,
    guild_id: int,
    added_by: int | None,
    entries: Sequence[ServerFilmEntry],
) -> list[Added]:
    """:func:`add_all_in` in a transaction of its own."""
    async with db.transaction() as tx:
        return await add_all_in(tx, clock, curated, guild_id, added_by, entries)


async def add_all_in(
    tx: Transaction,
    clock: Clock,
    curated: TitleIndex,
    guild_id: int,
    added_by: int | None,
    entries: Sequence[ServerFilmEntry],
    *,
    limit: int | None = None,
) -> list[Added]:
    """Add many films to a server inside the caller's transaction, and account for each entry, in order: the film
    created, the film it repeats, or why it was refused (:func:`validate`, or :data:`SERVER_FULL` past ``limit``
    films of the server's own).

    Duplicates are checked for the whole batch at once, under the lock that serialises additions (a few queries
    whatever the number of entries): an entry repeats a film with the same normalised title and year (the server's,
    or the catalog's through its title index, since curated rows keep no normalised title), the same TMDb or IMDb id
    (the server's or a curated film that is not retired), or the same Letterboxd link (the server's: a film renamed on
    Letterboxd), or an earlier entry of the batch by any of these. The film repeated may be a retired server film
    (removed from the server): the caller says so rather than add it again."""
    moment = clock.now()
    outcomes: list[Added | None] = [None] * len(entries)
    valid: list[tuple[int, ServerFilmEntry, tuple[str, int]]] = []
    for position, entry in enumerate(entries):
        try:
            cleaned, title_key = _validated(entry, clock)
        except UserError as error:
            outcomes[position] = Added(None, problem=error.message)
            continue
        valid.append((position, cleaned, (title_key, _year(cleaned))))
    await films_db.lock_new_films(tx)
    titles = {key[0] for _position, _entry, key in valid}
    uris = {entry.letterboxd_uri for _position, entry, _key in valid if entry.letterboxd_uri is not None}
    tmdb_ids = {entry.tmdb_id for _position, entry, _key in valid if entry.tmdb_id is not None}
    imdb_ids = {entry.imdb_id for _position, entry, _key in valid if entry.imdb_id is not None}
    own = await films_db.server_film_keys(tx, guild_id, titles, uris) if valid else []
    twins = await films_db.films_with_ids(tx, guild_id, tmdb_ids, imdb_ids) if tmdb_ids or imdb_ids else []
    known: dict[_Key, int] = {}  # title+year / id / link -> the film already here that has it
    for twin in [*twins, *own]:
        if twin.guild_id is None and twin.retired:
            continue  # a retired curated film is gone from the catalog: nothing repeats it
        for twin_key in _keys(twin.title_key, twin.year, twin.tmdb_id, twin.imdb_id, twin.letterboxd_uri):
            known.setdefault(twin_key, twin.id)
    room = None if limit is None or not valid else limit - await films_db.count_server_films(tx, guild_id)
    fresh: list[tuple[int, ServerFilmEntry, str]] = []
    batch: dict[_Key, int] = {}  # -> position in fresh
    repeats: dict[int, int] = {}  # entry position -> film id already here
    earlier: dict[int, int] = {}  # entry position -> position in fresh
    for position, entry, (title_key, year) in valid:
        keys = _keys(title_key, year, entry.tmdb_id, entry.imdb_id, entry.letterboxd_uri)
        here = next((known[key] for key in keys if key in known), None)
        if here is None:
            here = next((found.film_id for found in curated.exact_key(title_key) if found.year == year), None)
        if here is not None:
            repeats[position] = here
            continue
        before = next((batch[key] for key in keys if key in batch), None)
        if before is not None:
            earlier[position] = before
            continue
        if room is not None:
            if room <= 0:
                outcomes[position] = Added(None, problem=SERVER_FULL)
                continue
            room -= 1
        for key in keys:
            batch[key] = len(fresh)
        fresh.append((position, entry, title_key))
    existing = await films_db.films_by_ids(tx, repeats.values()) if repeats else {}
    created = await _insert(tx, moment, guild_id, added_by, [(entry, key) for _position, entry, key in fresh])
    for position, film_id in repeats.items():
        outcomes[position] = Added(existing[film_id])
    for (position, _entry, _key), film in zip(fresh, created, strict=True):
        outcomes[position] = Added(film, created=True)
    for position, before in earlier.items():
        outcomes[position] = Added(created[before])
    return [outcome if outcome is not None else Added(None, problem="not processed") for outcome in outcomes]


_Key = tuple[str, int] | tuple[str, str]


def _keys(
    title_key: str | None, year: int, tmdb_id: int | None, imdb_id: str | None, letterboxd_uri: str | None
) -> list[_Key]:
    """What makes two films the same: normalised title and year, TMDb id, IMDb id, Letterboxd link."""
    keys: list[_Key] = []
    if title_key is not None:
        keys.append((title_key, year))
    if tmdb_id is not None:
        keys.append(("tmdb", str(tmdb_id)))
    if imdb_id is not None:
        keys.append(("imdb", imdb_id))
    if letterboxd_uri is not None:
        keys.append(("letterboxd", letterboxd_uri))
    return keys


async def _insert(
    tx: Transaction,
    moment: datetime,
    guild_id: int,
    added_by: int | None,
    entries: Sequence[tuple[ServerFilmEntry, str]],
) -> list[Film]:
    """Store validated entries (each with its normalised title) as new server films."""
    if not entries:
        return []
    rows = []
    for entry, title_key in entries:
        year = _year(entry)
        rows.append(
            films_db.NewServerFilm(
                guild_id=guild_id,
                slug=server_slug(guild_id, title_key, year),
                title=entry.title,
                title_key=title_key,
                year=year,
                added_by=added_by,
                runtime=entry.runtime or 0,
                blurb=entry.blurb,
                directors=entry.directors,
                imdb_id=entry.imdb_id,
                tmdb_id=entry.tmdb_id,
                letterboxd_uri=entry.letterboxd_uri,
            )
        )
    ids = await films_db.insert_server_films(tx, rows, to_db(moment))
    return [row.stored(film_id) for row, film_id in zip(rows, ids, strict=True)]


def _year(entry: ServerFilmEntry) -> int:
    """A validated entry's year (:func:`validate` refuses an entry without one)."""
    if entry.year is None:
        raise ValueError("validate the entry first: it has no year")
    return entry.year


def describe_duplicate(film: Film) -> str:
    """Where the film a new entry repeats comes from, as a member reads it."""
    return "this server's films" if film.is_server_film else "the catalog"
