"""The curated catalog: reading and validating the TOML files in ``data/``, and loading them into the database.

Reading is pure (files in, a :class:`Catalog` or :class:`CatalogInvalid` with every problem out); loading is one
transaction that upserts by stable id, retires what the files no longer list, and is skipped entirely when the files
have not changed since the last load. Loads are global writes that any process (or the command line) may start, so
each holds the database's catalog lock for its transaction. The format is documented for moderators in
``data/README.md``.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Self, get_args

import rtoml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from bot.core.errors import CatalogError, CatalogInvalid
from bot.core.text import did_you_mean, normalise_title
from bot.db import catalog as store
from bot.db.database import Database

log = logging.getLogger(__name__)

#: Bumped whenever the way files become rows changes, so that an old hash no longer counts as "unchanged".
#: 2: rows name their file relative to the catalog folder, no longer to the working directory.
LOADER_VERSION = "2"

#: The earliest year of any film, curated or a server's own: Janssen's Passage de Vénus (1874).
FIRST_FILM_YEAR = 1874
#: TMDb's movie ids are positive and (at about 1.5 million in 2026) far below this.
MAX_TMDB_ID = 100_000_000
SERIES_KINDS = frozenset({"series", "docuseries"})
Kind = Literal[
    "documentary",
    "concert film",
    "biopic",
    "fiction feature",
    "animated feature",
    "essay film",
    "short",
    "series",
    "docuseries",
]
KINDS: tuple[str, ...] = get_args(Kind)

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=80, strict=True)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, strict=True)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$", strict=True)]
Prompt = Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=300, strict=True)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ThemeEntry(_Entry):
    """A ``[[theme]]`` block."""

    slug: Slug
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=80, strict=True)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=40, max_length=800, strict=True)]


class FilmEntry(_Entry):
    """A ``[[film]]`` block: a film, or a series with its episode count and total running time.

    This validated entry is what the loader writes to the database; :class:`bot.core.films.Film` is what reads give
    back. Fields carry the same names in both: the catalog's ``id`` key is the film's ``slug`` (the database's ``id``
    is the internal number everything points at), and its ``imdb`` key is ``imdb_id``.
    """

    slug: Slug = Field(alias="id")
    title: Name
    year: StrictInt
    directors: list[Name] = Field(min_length=1)
    runtime: StrictInt = Field(ge=1, le=3000)
    kind: Kind
    countries: list[CountryCode] = Field(min_length=1)
    themes: list[Slug] = Field(min_length=1)
    blurb: Annotated[str, StringConstraints(strip_whitespace=True, min_length=40, max_length=400, strict=True)]
    prompts: list[Prompt] = Field(min_length=2, max_length=3)
    alt_titles: list[Name] = Field(default_factory=list)
    featuring: list[Name] = Field(default_factory=list)
    imdb_id: Annotated[str, StringConstraints(pattern=r"^tt\d{7,10}$", strict=True)] | None = Field(
        default=None, alias="imdb"
    )
    episodes: StrictInt | None = Field(default=None, ge=1, le=5000)
    seasons: StrictInt | None = Field(default=None, ge=1, le=100)
    tmdb_id: StrictInt | None = Field(default=None, ge=1, le=MAX_TMDB_ID)

    @model_validator(mode="after")
    def _check_consistency(self, info: ValidationInfo) -> Self:
        latest = info.context["latest_year"] if info.context else datetime.now(UTC).year + 2
        if not FIRST_FILM_YEAR <= self.year <= latest:
            raise _FieldProblem("year", f"must be between {FIRST_FILM_YEAR} and {latest}")
        if self.kind in SERIES_KINDS and self.episodes is None:
            raise _FieldProblem("episodes", f"a {self.kind} needs its number of episodes")
        if self.kind not in SERIES_KINDS and (self.episodes is not None or self.seasons is not None):
            raise _FieldProblem("episodes", f"only a series or docuseries has episodes, not a {self.kind}")
        if self.seasons is not None and self.episodes is not None and self.seasons > self.episodes:
            raise _FieldProblem("seasons", "cannot be more than the number of episodes")
        for name, values in (("themes", self.themes), ("directors", self.directors), ("countries", self.countries)):
            if len(set(values)) != len(values):
                repeated = next(value for value, count in Counter(values).items() if count > 1)
                raise _FieldProblem(name, f"lists {repeated!r} more than once")
        return self


class _FieldProblem(ValueError):
    """A cross-field rule broke; names the field so the report can point at it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field_name = field_name
        self.message = message


@dataclass(frozen=True)
class Catalog:
    """A validated catalog: every theme and film, and the file each came from (relative to the catalog's folder, so
    that the same catalog is the same wherever it is loaded from)."""

    source: Path
    content_hash: str
    themes: list[ThemeEntry]
    films: list[FilmEntry]
    theme_files: dict[str, str] = field(default_factory=dict)
    film_files: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadSummary:
    """What a load changed; ``skipped`` when the files were byte-for-byte the ones loaded last time."""

    skipped: bool
    films_active: int
    themes_active: int
    films_added: int = 0
    films_updated: int = 0
    films_retired: int = 0
    themes_added: int = 0
    themes_updated: int = 0
    themes_retired: int = 0

    def describe(self) -> str:
        if self.skipped:
            return f"catalog unchanged: {self.films_active} films in {self.themes_active} themes (nothing to do)"
        return (
            f"catalog loaded: {self.films_active} films in {self.themes_active} themes; "
            f"films {self.films_added} added, {self.films_updated} updated, {self.films_retired} retired; "
            f"themes {self.themes_added} added, {self.themes_updated} updated, {self.themes_retired} retired"
        )


# -- reading --------------------------------------------------------------------------------------------------------


def catalog_files(path: Path) -> list[Path]:
    """The TOML files a catalog path stands for: the file itself, or every ``*.toml`` below a folder, sorted."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*.toml") if p.is_file())
    return [path]


def _root(path: Path) -> Path:
    """The folder a catalog's file names are relative to: the catalog folder, or a single file's folder."""
    return path if path.is_dir() else path.parent


def _source_name(file: Path, root: Path) -> str:
    """A file's name as stored: relative to the catalog's folder, whatever the working directory."""
    return file.relative_to(root).as_posix()


def catalog_hash(path: Path) -> str:
    """A hash of the files' names and bytes (and the loader version): cheap enough to run at every start-up."""
    digest = hashlib.sha256(f"loader {LOADER_VERSION}\n".encode())
    root = _root(path)
    for file in catalog_files(path):
        digest.update(_source_name(file, root).encode() + b"\0")
        digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def _display(file: Path) -> str:
    """The path as a moderator would type it, for error messages: relative to the working directory when the file is
    below it. (Never stored: rows name their file with :func:`_source_name`.)"""
    try:
        relative = os.path.relpath(file)
    except ValueError:  # another drive on Windows
        return str(file)
    return str(file) if relative.startswith("..") else relative


def _field_path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_FRIENDLY = {
    "missing": "is missing (it is required)",
    "extra_forbidden": "is not a known field (check the spelling against data/README.md)",
}
_PATTERN_HINTS = {
    "countries": "must be a two-letter country code in capitals, such as US or GB",
    "themes": "must be a theme slug: lowercase words joined by dashes",
    "id": "must be lowercase words joined by dashes, such as the-last-waltz",
    "slug": "must be lowercase words joined by dashes, such as live-on-stage",
    "imdb": "must be an IMDb id such as tt0077838",
}
_RANGE_HINTS = {
    "tmdb_id": "must be a TMDb movie id: a whole number such as 348 (the number in themoviedb.org/movie/348)",
}


def _validation_errors(file: str, entry: str, exc: ValidationError) -> list[CatalogError]:
    errors = []
    for problem in exc.errors():
        ctx_error = problem.get("ctx", {}).get("error")
        if isinstance(ctx_error, _FieldProblem):
            errors.append(CatalogError(file, entry, ctx_error.field_name, ctx_error.message))
            continue
        message = _FRIENDLY.get(problem["type"], problem["msg"])
        if problem["type"] == "string_pattern_mismatch" and problem["loc"]:
            message = _PATTERN_HINTS.get(str(problem["loc"][0]), message)
        if problem["loc"] and str(problem["loc"][0]) in _RANGE_HINTS:
            message = _RANGE_HINTS[str(problem["loc"][0])]
        if problem["type"] == "literal_error" and problem["loc"] == ("kind",):
            message = f"must be one of: {', '.join(KINDS)}"
        errors.append(CatalogError(file, entry, _field_path(problem["loc"]) or None, message))
    return errors


def _entry_label(kind: str, raw: object, key: str, index: int) -> str:
    if isinstance(raw, dict):
        for name in (key, "title"):
            value = raw.get(name)
            if isinstance(value, str) and value.strip():
                return f"{kind} '{value.strip()}'"
    return f"{kind} #{index + 1}"


def read_catalog(path: Path | str) -> Catalog:
    """Read and validate every catalog file under ``path``; raise :class:`CatalogInvalid` listing all problems."""
    path = Path(path)
    errors: list[CatalogError] = []
    if not path.exists():
        raise CatalogInvalid([CatalogError(_display(path), None, None, "does not exist")])
    files = catalog_files(path)
    if not files:
        raise CatalogInvalid([CatalogError(_display(path), None, None, "holds no .toml catalog files")])

    context = {"latest_year": datetime.now(UTC).year + 2}
    root = _root(path)
    themes: list[ThemeEntry] = []
    films: list[FilmEntry] = []
    theme_files: dict[str, str] = {}  # slug -> file, relative to the root (stored)
    film_files: dict[str, str] = {}
    shown_files: dict[str, str] = {}  # the same file as error messages name it
    film_labels: dict[str, str] = {}
    for file in files:
        shown = _display(file)
        source = _source_name(file, root)
        shown_files[source] = shown
        try:
            document = rtoml.loads(file.read_text(encoding="utf-8"))
        except rtoml.TomlParsingError as exc:
            errors.append(CatalogError(shown, None, None, f"is not valid TOML: {exc}"))
            continue
        except UnicodeDecodeError:
            errors.append(CatalogError(shown, None, None, "is not UTF-8 text"))
            continue
        for key in document:
            if key not in ("theme", "film"):
                errors.append(CatalogError(shown, None, key, "is not a known section; use [[theme]] or [[film]]"))
        for index, raw in enumerate(_blocks(document, "theme", shown, errors)):
            label = _entry_label("theme", raw, "slug", index)
            try:
                theme = ThemeEntry.model_validate(raw)
            except ValidationError as exc:
                errors.extend(_validation_errors(shown, label, exc))
                continue
            if theme.slug in theme_files:
                first = shown_files[theme_files[theme.slug]]
                errors.append(CatalogError(shown, label, "slug", f"is already used in {first}"))
                continue
            theme_files[theme.slug] = source
            themes.append(theme)
        for index, raw in enumerate(_blocks(document, "film", shown, errors)):
            label = _entry_label("film", raw, "id", index)
            try:
                film = FilmEntry.model_validate(raw, context=context)
            except ValidationError as exc:
                errors.extend(_validation_errors(shown, label, exc))
                continue
            if film.slug in film_files:
                first = shown_files[film_files[film.slug]]
                errors.append(CatalogError(shown, label, "id", f"is already used in {first}"))
                continue
            film_files[film.slug] = source
            film_labels[film.slug] = label
            films.append(film)

    film_shown = {slug: shown_files[source] for slug, source in film_files.items()}
    errors.extend(_cross_check(themes, films, film_shown, film_labels))
    if errors:
        raise CatalogInvalid(errors)
    return Catalog(path, catalog_hash(path), themes, films, theme_files, film_files)


def _blocks(document: dict[str, Any], key: str, shown: str, errors: list[CatalogError]) -> list[Any]:
    blocks = document.get(key, [])
    if not isinstance(blocks, list):
        errors.append(CatalogError(shown, None, key, f"must be written as [[{key}]] blocks"))
        return []
    return blocks


def _cross_check(
    themes: list[ThemeEntry], films: list[FilmEntry], film_files: dict[str, str], labels: dict[str, str]
) -> list[CatalogError]:
    """Rules that span entries: known themes, unique title + year, unique TMDb id (``film_files``: slug -> file as
    shown)."""
    errors: list[CatalogError] = []
    known = {theme.slug for theme in themes}
    seen: dict[tuple[str, int], str] = {}
    tmdb_ids: dict[int, str] = {}
    for film in films:
        if film.tmdb_id is not None:
            if film.tmdb_id in tmdb_ids:
                message = f"{film.tmdb_id} is already the TMDb id of '{tmdb_ids[film.tmdb_id]}'"
                errors.append(CatalogError(film_files[film.slug], labels[film.slug], "tmdb_id", message))
            else:
                tmdb_ids[film.tmdb_id] = film.slug
        for slug in film.themes:
            if slug not in known:
                hint = did_you_mean(slug, known, limit=1)
                suffix = f"; did you mean '{hint[0]}'?" if hint else ""
                message = f"no theme '{slug}'{suffix}"
                errors.append(CatalogError(film_files[film.slug], labels[film.slug], "themes", message))
        key = (normalise_title(film.title), film.year)
        if key in seen:
            errors.append(
                CatalogError(
                    film_files[film.slug],
                    labels[film.slug],
                    "title",
                    f"'{film.title}' ({film.year}) is already in the catalog as '{seen[key]}'",
                )
            )
        else:
            seen[key] = film.slug
    return errors


# -- loading --------------------------------------------------------------------------------------------------------


def _entry_hash(entry: BaseModel, source_file: str) -> str:
    """Changes whenever any field or the entry's file changes (fields serialise in declaration order, under the
    names the catalog files use). An unset ``tmdb_id`` is left out, so a film's hash is what it was before the field
    existed, and adding the field to the format rewrote no row."""
    unset = {"tmdb_id"} if getattr(entry, "tmdb_id", 0) is None else None
    dumped = entry.model_dump_json(by_alias=True, exclude=unset)
    return hashlib.sha256(dumped.encode() + b"\0" + source_file.encode()).hexdigest()


async def load_catalog(db: Database, path: Path | str, *, force: bool = False) -> LoadSummary:
    """Validate the files and bring the database in line with them, all or nothing.

    Skipped (no parsing at all) when the files hash to what was loaded last; ``force`` loads regardless.
    """
    path = Path(path)
    if not force and path.exists() and await store.loaded_hash(db) == catalog_hash(path):
        films, themes = await store.active_counts(db)
        return LoadSummary(skipped=True, films_active=films, themes_active=themes)
    catalog = read_catalog(path)
    return await apply_catalog(db, catalog, force=force)


async def apply_catalog(db: Database, catalog: Catalog, *, force: bool = False) -> LoadSummary:
    """Upsert a validated catalog in one transaction; retire what it no longer lists.

    The transaction holds the catalog lock, and under it a catalog that is already the loaded one is skipped
    (unless ``force``): of two processes loading the same new files at once, one loads them and the other finds them
    loaded. A load that changes any row also bumps the catalog generation, which tells every running bot to rebuild
    what it derived from the catalog (see :func:`catalog_generation`).
    """
    themes = {
        theme.slug: store.ThemeToStore(
            theme, catalog.theme_files[theme.slug], _entry_hash(theme, catalog.theme_files[theme.slug])
        )
        for theme in catalog.themes
    }
    async with store.load_transaction(db) as tx:
        if not force and await store.loaded_hash(tx) == catalog.content_hash:
            films_active, themes_active = await store.active_counts(tx)
            return LoadSummary(skipped=True, films_active=films_active, themes_active=themes_active)
        theme_state = await store.theme_state(tx)
        new_themes = [stored for slug, stored in themes.items() if slug not in theme_state]
        changed_themes = [
            stored
            for slug, stored in themes.items()
            if slug in theme_state and theme_state[slug] != (stored.content_hash, False)
        ]
        gone_themes = [slug for slug, (_h, retired) in theme_state.items() if slug not in themes and not retired]
        await store.upsert_themes(tx, [*new_themes, *changed_themes])
        await store.retire_themes(tx, gone_themes)

        film_state = await store.film_state(tx)
        next_id = await store.next_film_id(tx)  # past server films' ids too: they share the table
        added: list[store.FilmToStore] = []
        updated: list[store.FilmToStore] = []
        for film in catalog.films:
            source_file = catalog.film_files[film.slug]
            content_hash = _entry_hash(film, source_file)
            state = film_state.get(film.slug)
            if state is None:
                added.append(store.FilmToStore(next_id, film, source_file, content_hash))
                next_id += 1
            elif state.content_hash != content_hash or state.retired:
                updated.append(store.FilmToStore(state.id, film, source_file, content_hash))
        listed = {film.slug for film in catalog.films}
        retired_ids = [state.id for slug, state in film_state.items() if slug not in listed and not state.retired]

        await store.insert_films(tx, added)
        await store.update_films(tx, updated)
        await store.clear_film_details(tx, [stored.id for stored in updated])
        await store.add_film_details(tx, [*added, *updated])
        await store.retire_films(tx, retired_ids)
        changed = any((new_themes, changed_themes, gone_themes, added, updated, retired_ids))
        await store.save_loaded(tx, catalog.content_hash, str(catalog.source.resolve()), changed=changed)
        films_active, themes_active = await store.active_counts(tx)

    summary = LoadSummary(
        skipped=False,
        films_active=films_active,
        themes_active=themes_active,
        films_added=len(added),
        films_updated=len(updated),
        films_retired=len(retired_ids),
        themes_added=len(new_themes),
        themes_updated=len(changed_themes),
        themes_retired=len(gone_themes),
    )
    log.info("%s", summary.describe())
    return summary


async def catalog_generation(db: Database) -> int:
    """A number that every load changing the catalog's rows increases (0 before the first load): a running bot
    compares it, cheaply, to the one its title index and caches were built from."""
    return await store.generation(db)


async def catalog_size(db: Database) -> tuple[int, int]:
    """(films, themes) members can be recommended: everything loaded and not retired."""
    return await store.active_counts(db)
