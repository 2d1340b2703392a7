"""The server's own films: a film the curated catalog lacks, entered by a server (a nomination, a Letterboxd import).

One set of rules for every way a film enters a server: :func:`validate` (title 1–200 characters after trimming, year
1888 to this year + 2, an optional director of up to 100 characters) and the duplicate rule, same normalised title and
year, or same TMDb or IMDb id, against the curated catalog (its title index, :meth:`TitleIndex.exact`, since curated
rows keep no normalised title) and the server's own films (:func:`bot.db.films.server_film_duplicates`).

:func:`add_server_films` adds many in one transaction (an import) and accounts for each entry: the film created, the
film it repeats, or why it was refused. :func:`add_in` does the same for one entry inside a caller's transaction, so
a nomination writes its film and itself together or not at all.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.clock import Clock, to_db
from bot.core.details import FilmCandidate, FilmDetails
from bot.core.errors import UserError
from bot.core.search import SERVER_SLUG_PREFIX, TitleIndex
from bot.core.text import fold, normalise_title
from bot.db import films as films_db
from bot.db.database import Database, Reader, Transaction
from bot.db.films import Film

TITLE_LIMIT = 200
DIRECTOR_LIMIT = 100
FIRST_YEAR = 1888  # Roundhay Garden Scene
YEARS_AHEAD = 2  # announced films may be nominated
BLURB_LIMIT = 1000
_IMDB_ID = re.compile(r"tt\d{5,10}")
_SLUG_WORDS = re.compile(r"[^a-z0-9]+")


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
    return FIRST_YEAR, clock.now().year + YEARS_AHEAD


def validate(entry: ServerFilmEntry, clock: Clock) -> ServerFilmEntry:
    """The entry cleaned (spaces trimmed, collapsed), or :class:`UserError` saying what is wrong with it."""
    title = " ".join(entry.title.split())
    if not title:
        raise UserError("The title is empty: type the film's title.")
    if len(title) > TITLE_LIMIT:
        raise UserError(f"That title is {len(title)} characters long; a title has at most {TITLE_LIMIT}.")
    if not normalise_title(title):
        raise UserError("The title needs at least one letter or digit.")
    first, last = year_range(clock)
    if entry.year is None:
        raise UserError("Give the film's year, so that it can't be mistaken for another film of that title.")
    if not first <= entry.year <= last:
        raise UserError(f"The year must be between {first} and {last}.")
    directors = tuple(" ".join(name.split()) for name in entry.directors if name.strip())
    for name in directors:
        if len(name) > DIRECTOR_LIMIT:
            raise UserError(f"A director's name has at most {DIRECTOR_LIMIT} characters.")
    imdb_id = entry.imdb_id if entry.imdb_id and _IMDB_ID.fullmatch(entry.imdb_id) else None
    tmdb_id = entry.tmdb_id if entry.tmdb_id and entry.tmdb_id > 0 else None
    runtime = entry.runtime if entry.runtime and 0 < entry.runtime < 10_000 else None
    blurb = " ".join(entry.blurb.split())
    if len(blurb) > BLURB_LIMIT:
        blurb = blurb[: BLURB_LIMIT - 1].rstrip() + "…"
    return ServerFilmEntry(title, entry.year, directors, tmdb_id, imdb_id, entry.letterboxd_uri or None, runtime, blurb)


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


async def existing_film(db: Reader, curated: TitleIndex, guild_id: int, entry: ServerFilmEntry) -> Film | None:
    """The film (curated, or the server's) that a validated entry repeats, or None."""
    year = _year(entry)
    title_key = normalise_title(entry.title)
    same = await films_db.server_film_duplicates(db, guild_id, title_key, year, entry.tmdb_id, entry.imdb_id)
    if same:
        return same[0]
    for indexed in curated.exact(entry.title):
        if indexed.year == year:
            found = (await films_db.films_by_ids(db, (indexed.film_id,))).get(indexed.film_id)
            if found is not None and not found.retired:
                return found
    return None


async def add_in(
    tx: Transaction, clock: Clock, curated: TitleIndex, guild_id: int, added_by: int | None, entry: ServerFilmEntry
) -> Added:
    """Add one entry (validated here) inside the caller's transaction, or find the film it repeats.

    Raises :class:`UserError` for an invalid entry: a caller that writes more in the same transaction (a nomination)
    then writes nothing."""
    cleaned = validate(entry, clock)
    await films_db.lock_new_films(tx)
    existing = await existing_film(tx, curated, guild_id, cleaned)
    if existing is not None:
        return Added(existing)
    [film] = await _insert(tx, clock, guild_id, added_by, [cleaned])
    return Added(film, created=True)


async def add_server_films(
    db: Database,
    clock: Clock,
    curated: TitleIndex,
    guild_id: int,
    added_by: int | None,
    entries: Sequence[ServerFilmEntry],
) -> list[Added]:
    """Add many films to a server in one transaction, with :func:`validate` and the duplicate rules for each (an
    entry repeating an earlier one of the same batch gets that one's film). One :class:`Added` per entry, in order."""
    outcomes: list[Added | None] = [None] * len(entries)
    async with db.transaction() as tx:
        await films_db.lock_new_films(tx)
        fresh: list[tuple[int, ServerFilmEntry]] = []
        seen: dict[tuple[str, int] | int | str, int] = {}  # title+year / tmdb id / imdb id -> position in fresh
        repeats: list[tuple[int, int]] = []  # (entry position, position in fresh)
        for position, entry in enumerate(entries):
            try:
                cleaned = validate(entry, clock)
            except UserError as error:
                outcomes[position] = Added(None, problem=error.message)
                continue
            existing = await existing_film(tx, curated, guild_id, cleaned)
            if existing is not None:
                outcomes[position] = Added(existing)
                continue
            keys: list[tuple[str, int] | int | str] = [(normalise_title(cleaned.title), _year(cleaned))]
            keys += [key for key in (cleaned.tmdb_id, cleaned.imdb_id) if key is not None]
            earlier = next((seen[key] for key in keys if key in seen), None)
            if earlier is not None:
                repeats.append((position, earlier))
                continue
            for key in keys:
                seen[key] = len(fresh)
            fresh.append((position, cleaned))
        created = await _insert(tx, clock, guild_id, added_by, [entry for _position, entry in fresh])
    for (position, _entry), film in zip(fresh, created, strict=True):
        outcomes[position] = Added(film, created=True)
    for position, earlier in repeats:
        outcomes[position] = Added(created[earlier])
    return [outcome if outcome is not None else Added(None, problem="not processed") for outcome in outcomes]


async def _insert(
    tx: Transaction, clock: Clock, guild_id: int, added_by: int | None, entries: Sequence[ServerFilmEntry]
) -> list[Film]:
    if not entries:
        return []
    rows = []
    for entry in entries:
        year = _year(entry)
        title_key = normalise_title(entry.title)
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
    ids = await films_db.insert_server_films(tx, rows, to_db(clock.now()))
    found = await films_db.films_by_ids(tx, ids)
    return [found[film_id] for film_id in ids]


def _year(entry: ServerFilmEntry) -> int:
    """A validated entry's year (:func:`validate` refuses an entry without one)."""
    if entry.year is None:
        raise ValueError("validate the entry first: it has no year")
    return entry.year


def describe_duplicate(film: Film) -> str:
    """Where the film a new entry repeats comes from, as a member reads it."""
    return "this server's films" if film.is_server_film else "the catalog"
