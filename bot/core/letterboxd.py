"""Letterboxd: import a member's export (the zip, or one of its CSV files, in any order) and export their reviews and
seen films as a CSV that Letterboxd's own importer accepts: what they did in the club (nothing duplicated there), or
everything (a backup, which the importer here reads back).

The export's files and quirks (see ``../shared/data/README.md``): UTF-8 CSV, one header row, quoted fields that may
hold commas, quotes and newlines; ratings 0.5 to 5 in half steps or empty; a Year that may be empty; review text with
a little HTML. Films are matched to the catalog and to the server's own films by normalised title (and alternative
titles) and year, never by the ``Letterboxd URI`` (in diary and reviews files it names the log entry, not the film).

Every row of the file is accounted for: it names a film of the catalog, one of the server's own films, a film this
import adds as the server's own, or it is skipped for a reason the member is told (:class:`Skip`):
- A film that matches nothing becomes the server's own film (title, year, and its Letterboxd link from watched.csv,
  ratings.csv or watchlist.csv, whose URIs name films), unless the member chose ``unmatched: skip``. It follows the
  rules of every server film (bot.core.server_films: a title of 1 to 200 characters with a letter or digit, a year
  from 1874 to two years ahead, no second film with the same title and year, or TMDb or IMDb id, in the server or the
  catalog); a film renamed on Letterboxd is found by its link; imports stop adding at :data:`MAX_SERVER_FILMS`.
- A row without a year matches the one film of its title (the catalog's, the server's, or one this import adds), and
  is skipped when there are several or none; a row whose Year is not a year is skipped.
- The films are added in the import's one transaction: a failure leaves neither films nor anything else behind.

Import rules:
- Everything is read and checked before anything is written, and everything is written in one transaction: a
  malformed file imports nothing, and the member is told which line is wrong.
- Size limits apply before reading: the attachment's declared size, then each zip member's declared size and
  compression ratio (a zip bomb is refused before a byte is inflated), then the number of rows.
- Files may come together (the zip) or one at a time, in any order: what they say about a film is kept per member
  (``letterboxd_films``) and merged, so the result never depends on the order or on which files came first, and
  importing any of them again changes nothing.
- A film's rating comes from its newest rated entry. "Newest" is by the dates the files carry (:func:`entry_key`):
  the Date column (when the entry was logged, or the rating set, on Letterboxd) first; on the same day ratings.csv
  (the current rating) beats reviews.csv, which beats diary.csv; then the Watched Date; then the line.
- Its text comes from the newest review that has text; a file without text never erases it. Text longer than a
  review allows is shortened.
- A review needs a rating here: text without one waits (the film counts as watched) until a file gives a rating.
- Imported text is not a spoiler, unless it comes from our own backup's Spoiler column.
- An imported review is dated by the export: created at the first date the files give the film, updated at the last.
  It is never marked edited (that mark is for reviews replaced on Discord).
- An import never overwrites a review written on Discord; it updates reviews an earlier import wrote.
- Diary, review and watched entries mark the film as seen, watchlist entries put it on the watchlist, each at the
  earliest date the files give; what a member or a screening recorded is left alone.
"""

from __future__ import annotations

import asyncio
import csv
import html
import io
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import PurePosixPath

from bot.core import server_films
from bot.core.catalog import FIRST_FILM_YEAR
from bot.core.clock import Clock, from_db, to_db
from bot.core.csvfile import restore_cell, write_csv
from bot.core.errors import UserError
from bot.core.reviews import MAX_REVIEW_LENGTH
from bot.core.search import ClubTitles, IndexEntry, TitleIndex
from bot.core.server_films import ServerFilmEntry
from bot.core.text import normalise_title
from bot.db import letterboxd as store
from bot.db import reviews as reviews_store
from bot.db.database import Database, Transaction
from bot.db.letterboxd import ImportedReview, LetterboxdFilm, Mark

#: The largest attachment accepted, by the size Discord declares (checked before downloading).
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: The most we inflate out of a zip, by the sizes its directory declares (checked before extracting).
MAX_UNCOMPRESSED_BYTES = 40 * 1024 * 1024
#: A member compressed more than this is refused; CSV text compresses about 5:1, zip bombs by 1000:1 and more.
MAX_COMPRESSION_RATIO = 100
#: Members below this size are too small for their ratio to matter.
RATIO_FLOOR_BYTES = 64 * 1024
MAX_ZIP_ENTRIES = 5000
MAX_ROWS = 100_000

EXPORT_COLUMNS = ("Title", "Year", "Rating", "WatchedDate", "Review")
#: Columns Letterboxd's importer matches a film by before its title and year (https://letterboxd.com/about/importing-data/):
#: written when the film has them (a server film an import added has its Letterboxd link).
EXPORT_URI_COLUMN, EXPORT_TMDB_COLUMN, EXPORT_IMDB_COLUMN = "LetterboxdURI", "tmdbID", "imdbID"
EXPORT_ID_COLUMNS = (EXPORT_URI_COLUMN, EXPORT_TMDB_COLUMN, EXPORT_IMDB_COLUMN)


class ImportRejected(UserError):
    """The file is not something we can import; nothing from it was imported."""


class Kind(StrEnum):
    RATINGS = "ratings.csv"
    REVIEWS = "reviews.csv"
    DIARY = "diary.csv"
    WATCHLIST = "watchlist.csv"
    WATCHED = "watched.csv"
    FILMCLUB = "a filmclub export"  # our own /letterboxd export, read back (a backup restored, or re-imported)


#: The files of a Letterboxd export that we read, in the order a zip's are read (fixed, so results never depend on
#: the order inside the zip).
LETTERBOXD_FILES = (Kind.RATINGS, Kind.REVIEWS, Kind.DIARY, Kind.WATCHLIST, Kind.WATCHED)

_REQUIRED: dict[Kind, frozenset[str]] = {
    Kind.RATINGS: frozenset({"Date", "Name", "Year", "Rating"}),
    Kind.REVIEWS: frozenset({"Date", "Name", "Year", "Rating", "Review", "Watched Date"}),
    Kind.DIARY: frozenset({"Date", "Name", "Year", "Rating", "Watched Date"}),
    Kind.WATCHLIST: frozenset({"Date", "Name", "Year"}),
    Kind.WATCHED: frozenset({"Date", "Name", "Year"}),
    Kind.FILMCLUB: frozenset(EXPORT_COLUMNS),
}
#: Folders of an export whose files share names with the ones we read but must not be imported.
_SKIPPED_FOLDERS = frozenset({"deleted", "orphaned", "likes", "lists"})
_YEAR = re.compile(r"^\d{4}$")
_FILM_URI = re.compile(r"^https://(?:boxd\.it/[A-Za-z0-9]{1,16}|letterboxd\.com/film/[a-z0-9-]{1,120}/?)$")
_IMDB_ID = re.compile(r"^tt\d{5,10}$")
#: Letterboxd's column for a film's link; in diary and reviews files it names the log entry instead, so only these
#: kinds' links are kept (and our export's, whose LetterboxdURI is always the film's).
URI_COLUMN, TMDB_COLUMN, IMDB_COLUMN = "Letterboxd URI", "tmdbID", "imdbID"
_FILM_URIS = frozenset({Kind.RATINGS, Kind.WATCHED, Kind.WATCHLIST, Kind.FILMCLUB})


@dataclass(frozen=True)
class Entry:
    """One row of an export file, checked."""

    kind: Kind
    line: int
    name: str
    year: int | None
    rating: int | None  # half stars, 1 to 10
    body: str | None
    logged: date | None  # the "Date" column: when it was logged or added
    watched: date | None  # the "Watched Date" column
    spoiler: bool = False  # the text hides a spoiler (only our backup says so: Letterboxd's export does not)
    uri: str | None = None  # the film's Letterboxd page (only files whose URIs name films: not diary or reviews)
    tmdb_id: int | None = None  # only our own export carries these
    imdb_id: str | None = None
    bad_year: str | None = None  # the Year cell when it is not a year (then ``year`` is None and the row is skipped)

    @property
    def label(self) -> str:
        if self.bad_year is not None:
            return f"{self.name} ({self.bad_year})"
        return f"{self.name} ({self.year})" if self.year else self.name

    @property
    def where(self) -> str:
        """Where the row is: "diary.csv, line 12"."""
        return f"{self.kind.value if self.kind is not Kind.FILMCLUB else 'the filmclub export'}, line {self.line}"


@dataclass(frozen=True)
class ParsedExport:
    files: tuple[str, ...]  # the export files read, e.g. ("ratings.csv", "watchlist.csv")
    entries: tuple[Entry, ...]
    shortened: int  # reviews cut to the length a review may have here


class Unmatched(StrEnum):
    """What an import does with a row that matches no film here."""

    ADD = "add"  # the film becomes the server's own (the default)
    SKIP = "skip"


class Skip(StrEnum):
    """Why a row was skipped: it names no film here, and none could be added."""

    AMBIGUOUS = "ambiguous"
    NOT_ADDED = "not-added"
    NO_YEAR = "no-year"
    BAD_YEAR = "bad-year"
    YEAR_RANGE = "year-range"
    LONG_TITLE = "long-title"
    NO_LETTERS = "no-letters"
    SERVER_FULL = "server-full"
    REMOVED = "removed"
    REFUSED = "refused"  # any other rule of bot.core.server_films.validate


#: The most films of its own a server may reach through imports, so that one member's export of tens of thousands of
#: films cannot swamp a server's searches (nominations add one at a time, past it).
MAX_SERVER_FILMS = 10_000

#: Why a row was skipped, in words for the member (the reply and its report file).
SKIP_REASONS: dict[Skip, str] = {
    Skip.AMBIGUOUS: "several films here have that title (and year)",
    Skip.NOT_ADDED: "not here, and you chose not to add films (`unmatched: skip`)",
    Skip.NO_YEAR: "no year in the file, and no film here has that title",
    Skip.BAD_YEAR: "its Year is not a year",
    Skip.YEAR_RANGE: f"its year is before {FIRST_FILM_YEAR} or more than {server_films.YEARS_AHEAD} years ahead",
    Skip.LONG_TITLE: f"its title is longer than {server_films.TITLE_LIMIT} characters",
    Skip.NO_LETTERS: "its title has no letters or digits",
    Skip.SERVER_FULL: f"this server already holds {MAX_SERVER_FILMS:,} films of its own",
    Skip.REMOVED: "a film of that title and year was removed from this server",
    Skip.REFUSED: "it breaks a rule of the server's films",
}


@dataclass(frozen=True)
class SkippedFilm:
    """A film an import skipped: how the file names it, why, how many rows name it, and where the first is."""

    label: str
    reason: Skip
    rows: int
    first: str  # "diary.csv, line 12"


@dataclass(frozen=True)
class Count:
    """Distinct films, and the rows of the file that name them."""

    films: int = 0
    rows: int = 0


@dataclass(frozen=True)
class ImportResult:
    files: tuple[str, ...]
    rows: int = 0  # rows read; each is counted in exactly one of catalog, server, added and skipped
    catalog: Count = Count()  # matched a curated film
    server: Count = Count()  # matched one of the server's own films (an earlier import's, a nomination's)
    added: tuple[str, ...] = ()  # films this import added as the server's own, "Title (Year)", in file order
    added_rows: int = 0
    skipped: tuple[SkippedFilm, ...] = ()  # in file order
    ratings_added: int = 0
    ratings_updated: int = 0
    ratings_unchanged: int = 0
    kept_discord: int = 0  # the member already reviewed these on Discord; left alone
    with_text: int = 0  # of the reviews added or updated, those with text
    without_rating: int = 0  # review text without a rating: counted as seen only
    watched_added: int = 0
    watchlist_added: int = 0
    redated: int = 0  # seen or watchlist entries an earlier import wrote, given an earlier date
    shortened: int = 0

    @property
    def matched(self) -> int:
        """Distinct films already here that the file names (the catalog's and the server's own)."""
        return self.catalog.films + self.server.films

    @property
    def skipped_rows(self) -> int:
        return sum(film.rows for film in self.skipped)

    def skipped_by_reason(self) -> dict[Skip, list[SkippedFilm]]:
        """The skipped films grouped by reason, reasons in the order :class:`Skip` lists them."""
        grouped: dict[Skip, list[SkippedFilm]] = {}
        for film in sorted(self.skipped, key=lambda f: list(Skip).index(f.reason)):
            grouped.setdefault(film.reason, []).append(film)
        return grouped

    @property
    def changed(self) -> bool:
        return bool(
            self.added
            or self.ratings_added
            or self.ratings_updated
            or self.watched_added
            or self.watchlist_added
            or self.redated
        )


@dataclass(frozen=True)
class ExportFile:
    filename: str
    data: bytes
    rows: int


# -- reading files ------------------------------------------------------------------------------------------------


def check_upload(filename: str, size: int) -> None:
    """Refuse an attachment by its declared name and size, before downloading it."""
    if size > MAX_UPLOAD_BYTES:
        raise ImportRejected(
            f"That file is {size / 1024 / 1024:.1f} MB; imports are limited to {MAX_UPLOAD_BYTES // 1024 // 1024} MB. "
            "Upload the export zip as Letterboxd made it, or just its ratings.csv, reviews.csv, diary.csv or "
            "watchlist.csv."
        )
    if not filename.lower().endswith((".zip", ".csv")):
        raise ImportRejected(
            "Upload the .zip Letterboxd gave you (Settings → Data → Export your data), or one of its CSV files."
        )


def parse_upload(filename: str, data: bytes) -> ParsedExport:
    """Read an upload: a Letterboxd export zip or one of its CSV files. Raises :class:`ImportRejected`."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportRejected(f"That file is larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MB.")
    if data[:4] == b"PK\x03\x04" or (filename.lower().endswith(".zip") and data[:4] == b"PK\x05\x06"):
        return _parse_zip(data)
    if filename.lower().endswith(".zip"):
        raise ImportRejected(f"{_shown(filename)} is not a valid zip file.")
    text = _decode(filename, data)
    kind = _kind_of(filename, _header(filename, text))
    entries, shortened = _parse_csv(filename, kind, text, budget=MAX_ROWS)
    return ParsedExport((kind.value,), tuple(entries), shortened)


def _shown(name: str) -> str:
    """A file name as it may be quoted back to the member: short, and without anything that could format."""
    cleaned = re.sub(r"[^\w.\- ()]", "_", PurePosixPath(name).name)
    return cleaned[:80] or "The file"


def _parse_zip(data: bytes) -> ParsedExport:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportRejected(
            "That is not a valid zip file. Upload the export zip exactly as Letterboxd made it."
        ) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise ImportRejected(f"That zip holds {len(infos)} files; a Letterboxd export holds far fewer.")
        chosen: dict[Kind, zipfile.ZipInfo] = {}
        for info in infos:
            kind = _zip_kind(info)
            if kind is not None and kind not in chosen:
                chosen[kind] = info
        if not chosen:
            raise ImportRejected(
                "That zip has none of Letterboxd's files (ratings.csv, reviews.csv, diary.csv, watchlist.csv). "
                "Upload the export zip exactly as Letterboxd made it."
            )
        declared = 0
        for info in chosen.values():
            if info.flag_bits & 0x1:
                raise ImportRejected("That zip is password-protected; upload the export as Letterboxd made it.")
            declared += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > RATIO_FLOOR_BYTES and ratio > MAX_COMPRESSION_RATIO:
                raise ImportRejected(
                    f"{_shown(info.filename)} in that zip inflates {ratio:.0f} times; that is not a Letterboxd "
                    "export, so nothing was read from it."
                )
        if declared > MAX_UNCOMPRESSED_BYTES:
            raise ImportRejected(
                f"That zip would unpack to {declared / 1024 / 1024:.0f} MB; imports are limited to "
                f"{MAX_UNCOMPRESSED_BYTES // 1024 // 1024} MB of CSV."
            )
        entries: list[Entry] = []
        shortened = 0
        for kind in LETTERBOXD_FILES:
            if kind not in chosen:
                continue
            info = chosen[kind]
            try:
                with archive.open(info) as member:
                    raw = member.read(info.file_size + 1)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise ImportRejected(f"{kind.value} in that zip is damaged; nothing was imported.") from exc
            if len(raw) > info.file_size:  # the directory lied about the size
                raise ImportRejected(f"{kind.value} in that zip is larger than it claims; nothing was imported.")
            text = _decode(kind.value, raw)
            header = _header(kind.value, text, allow_empty=True)
            if header is not None:
                _check_columns(kind.value, kind, header)
                rows, cut = _parse_csv(kind.value, kind, text, budget=MAX_ROWS - len(entries))
                entries.extend(rows)
                shortened += cut
    return ParsedExport(tuple(k.value for k in LETTERBOXD_FILES if k in chosen), tuple(entries), shortened)


def _zip_kind(info: zipfile.ZipInfo) -> Kind | None:
    """The export file a zip member is, if it is one we read: at the top, or inside one folder the zip was made from."""
    if info.is_dir():
        return None
    parts = PurePosixPath(info.filename.replace("\\", "/")).parts
    if len(parts) > 2 or (len(parts) == 2 and parts[0].lower() in _SKIPPED_FOLDERS):
        return None
    try:
        kind = Kind(parts[-1].lower())
    except ValueError:
        return None
    return kind if kind in LETTERBOXD_FILES else None


def _decode(name: str, data: bytes) -> str:
    if b"\x00" in data:
        raise ImportRejected(f"{_shown(name)} is not a CSV file (it holds binary data).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(f"{_shown(name)} is not UTF-8 text, so it is not a Letterboxd CSV.") from exc
    return text


def _header(name: str, text: str, *, allow_empty: bool = False) -> list[str] | None:
    if not text.strip():
        if allow_empty:
            return None
        raise ImportRejected(f"{_shown(name)} is empty.")
    try:
        first = next(csv.reader(io.StringIO(text, newline=""), strict=True))
    except (csv.Error, StopIteration) as exc:
        raise ImportRejected(f"{_shown(name)} is not a CSV file.") from exc
    return [column.strip() for column in first]


def _kind_of(filename: str, header: list[str] | None) -> Kind:
    columns = set(header or [])
    lowered = PurePosixPath(filename).name.lower()
    if "Name" not in columns and {"Title", "Year", "WatchedDate"} <= columns:
        _check_columns(filename, Kind.FILMCLUB, header or [])
        return Kind.FILMCLUB
    if "Name" not in columns or "Year" not in columns:
        raise ImportRejected(
            f"{_shown(filename)} is not one of Letterboxd's export files: it needs the columns Name and Year "
            "(upload ratings.csv, reviews.csv, diary.csv or watchlist.csv from the export)."
        )
    if "Review" in columns:
        kind = Kind.REVIEWS
    elif "Rating" in columns and "Watched Date" in columns:
        kind = Kind.DIARY
    elif "Rating" in columns:
        kind = Kind.RATINGS
    elif "watchlist" in lowered:
        kind = Kind.WATCHLIST
    elif "watched" in lowered:
        kind = Kind.WATCHED
    else:
        raise ImportRejected(
            f"{_shown(filename)} could be watchlist.csv or watched.csv; upload it under its name from the export."
        )
    _check_columns(filename, kind, header or [])
    return kind


def _check_columns(name: str, kind: Kind, header: list[str]) -> None:
    missing = sorted(_REQUIRED[kind] - set(header))
    if missing:
        raise ImportRejected(f"{_shown(name)} is missing the column(s) {', '.join(missing)}; nothing was imported.")


def _parse_csv(name: str, kind: Kind, text: str, *, budget: int) -> tuple[list[Entry], int]:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    entries: list[Entry] = []
    shortened = 0
    shown = _shown(name)
    try:
        if reader.fieldnames is not None:
            reader.fieldnames = [column.strip() for column in reader.fieldnames]
        for row in reader:
            line = reader.line_num
            if None in row:
                raise ImportRejected(f"{shown}, line {line}: more columns than the header; nothing was imported.")
            if any(value is None for value in row.values()):
                raise ImportRejected(f"{shown}, line {line}: fewer columns than the header; nothing was imported.")
            if len(entries) >= budget:
                raise ImportRejected(f"That export has more than {MAX_ROWS:,} rows; nothing was imported.")
            fields = _from_our_export(row) if kind is Kind.FILMCLUB else row
            body = None
            if kind in (Kind.REVIEWS, Kind.FILMCLUB):
                raw = fields.get("Review") or ""
                body = (html_to_text(raw) if kind is Kind.REVIEWS else raw.strip()) or None
                if body is not None and len(body) > MAX_REVIEW_LENGTH:
                    body = body[: MAX_REVIEW_LENGTH - 1].rstrip() + "…"
                    shortened += 1
            year, bad_year = _year(fields.get("Year") or "")
            entries.append(
                Entry(
                    kind=kind,
                    line=line,
                    name=_name(shown, line, fields.get("Name") or ""),
                    year=year,
                    rating=_rating(shown, line, fields.get("Rating") or ""),
                    body=body,
                    logged=_date(shown, line, "Date", fields.get("Date") or ""),
                    watched=_date(shown, line, "Watched Date", fields.get("Watched Date") or ""),
                    spoiler=body is not None and fields.get(SPOILER_COLUMN) == SPOILER_MARK,
                    uri=_film_uri(fields.get(URI_COLUMN) or "") if kind in _FILM_URIS else None,
                    tmdb_id=_tmdb_id(fields.get(TMDB_COLUMN) or ""),
                    imdb_id=_imdb_id(fields.get(IMDB_COLUMN) or ""),
                    bad_year=bad_year,
                )
            )
    except csv.Error as exc:
        raise ImportRejected(f"{shown}, line {reader.line_num}: not valid CSV ({exc}); nothing was imported.") from exc
    return entries, shortened


def _from_our_export(row: dict[str, str]) -> dict[str, str]:
    """A row of our own export in the columns of Letterboxd's review files, its cells restored (they were neutralised
    against spreadsheet formulas, see bot.core.csvfile). The watched date dates the entry."""
    return {
        "Name": restore_cell(row["Title"]),
        "Year": row["Year"],
        "Rating": row["Rating"],
        "Date": row["WatchedDate"],
        "Watched Date": row["WatchedDate"],
        "Review": restore_cell(row["Review"]),
        SPOILER_COLUMN: row.get(SPOILER_COLUMN, ""),  # backups made before the column have none
        # exports made before these columns have none
        URI_COLUMN: restore_cell(row.get(EXPORT_URI_COLUMN) or ""),
        TMDB_COLUMN: row.get(EXPORT_TMDB_COLUMN) or "",
        IMDB_COLUMN: row.get(EXPORT_IMDB_COLUMN) or "",
    }


def _name(shown: str, line: int, value: str) -> str:
    name = value.strip()
    if not name:
        raise ImportRejected(f"{shown}, line {line}: the Name is empty; nothing was imported.")
    return name[:300]


def _year(value: str) -> tuple[int | None, str | None]:
    """The year, or (when the cell is not empty and not a year) None and the cell, shortened, for the account."""
    text = value.strip()
    if not text:
        return None, None
    if not _YEAR.match(text):
        return None, " ".join(text.split())[:20]
    return int(text), None


def _film_uri(value: str) -> str | None:
    """A film's Letterboxd link as its files write it (a boxd.it short link or a letterboxd.com/film/ page); anything
    else is dropped, so a server film never links elsewhere."""
    text = value.strip()
    return text if _FILM_URI.match(text) else None


def _tmdb_id(value: str) -> int | None:
    text = value.strip()
    return int(text) if text.isascii() and text.isdigit() and 0 < len(text) <= 10 and int(text) > 0 else None


def _imdb_id(value: str) -> str | None:
    text = value.strip()
    return text if _IMDB_ID.match(text) else None


def _rating(shown: str, line: int, value: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    try:
        doubled = float(text) * 2
    except ValueError:
        doubled = -1.0
    if not 1 <= doubled <= 10 or doubled != int(doubled):
        raise ImportRejected(
            f"{shown}, line {line}: rating {text[:20]!r} is not 0.5 to 5 stars in half steps; nothing was imported."
        )
    return int(doubled)


def _date(shown: str, line: int, column: str, value: str) -> date | None:
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ImportRejected(
            f"{shown}, line {line}: {column} {text[:20]!r} is not a date like 2024-05-31; nothing was imported."
        ) from exc


_HIDDEN = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_PARAGRAPH_END = re.compile(r"</p\s*>", re.IGNORECASE)
_SPACE_AROUND_BREAKS = re.compile(r"[ \t]*\n[ \t]*")
_QUOTE = re.compile(r"<blockquote[^>]*>(.*?)</blockquote>", re.IGNORECASE | re.DOTALL)
_BOLD = re.compile(r"</?(?:b|strong)>", re.IGNORECASE)
_ITALIC = re.compile(r"</?(?:i|em)>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_text(text: str) -> str:
    """Letterboxd's review HTML as plain text with Discord markdown: bold, italics and quotes kept, links and other
    tags reduced to their text, paragraphs separated by a blank line; scripts and styles dropped with their content.
    Spaces at the start and end of lines go."""
    text = text.replace("\r\n", "\n")
    text = _HIDDEN.sub("", text)
    text = _BREAK.sub("\n", text)
    text = _PARAGRAPH_END.sub("\n\n", text)
    text = _QUOTE.sub(lambda m: "\n".join(f"> {line}" for line in m.group(1).strip().splitlines()), text)
    text = _BOLD.sub("**", text)
    text = _ITALIC.sub("*", text)
    text = _TAG.sub("", text)
    text = _SPACE_AROUND_BREAKS.sub("\n", html.unescape(text))
    return _BLANK_LINES.sub("\n\n", text).strip()


# -- matching and importing ------------------------------------------------------------------------------------------


FilmKey = tuple[str, int]
"""A film an import may add as the server's own: its normalised title and its year."""
Target = IndexEntry | FilmKey | Skip
"""What a row names: a film already here, a film the import would add, or nothing (and why)."""


def _find(index: TitleIndex | ClubTitles, name: str, year: int | None) -> IndexEntry | Skip | None:
    """The film already here that a row names (see :func:`match_film`); :attr:`Skip.AMBIGUOUS` when several could be
    meant, None when none has that title (or none a year close enough)."""
    candidates = {entry.film_id: entry for entry in index.exact(name)}
    if not candidates:
        return None
    if year is None:
        return next(iter(candidates.values())) if len(candidates) == 1 else Skip.AMBIGUOUS
    for distance in (0, 1):
        close = [entry for entry in candidates.values() if abs(entry.year - year) == distance]
        if len(close) == 1:
            return close[0]
        if len(close) > 1:
            return Skip.AMBIGUOUS
    return None


def match_film(index: TitleIndex | ClubTitles, name: str, year: int | None) -> int | None:
    """The film (the catalog's, or with :class:`ClubTitles` the server's own) an export row names: same normalised
    title (or alternative title) and year; a year off by one when that is the only candidate (festival and release
    years differ); any year when the row has none and only one film has that title. Anything ambiguous stays
    unmatched."""
    found = _find(index, name, year)
    return found.film_id if isinstance(found, IndexEntry) else None


@dataclass(frozen=True)
class NewFilm:
    """A film an import would add as the server's own, from the first row that names it (links from any row)."""

    title: str
    year: int
    letterboxd_uri: str | None = None
    tmdb_id: int | None = None
    imdb_id: str | None = None

    @property
    def label(self) -> str:
        return f"{self.title} ({self.year})"

    def completed_by(self, other: NewFilm) -> NewFilm:
        """This film with the links it lacks taken from another row naming it."""
        return replace(
            self,
            letterboxd_uri=self.letterboxd_uri or other.letterboxd_uri,
            tmdb_id=self.tmdb_id or other.tmdb_id,
            imdb_id=self.imdb_id or other.imdb_id,
        )


def tidy_title(name: str) -> str:
    """A title as a server film keeps it: control characters and runs of spaces or line breaks made single spaces."""
    return " ".join("".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in name).split())


def new_film(entry: Entry, clock: Clock) -> tuple[FilmKey, NewFilm] | Skip:
    """The server film a row that matched nothing would add, or why it cannot: the rules of every server film
    (:func:`bot.core.server_films.validate`), each broken one named."""
    if entry.bad_year is not None:
        return Skip.BAD_YEAR
    if entry.year is None:
        return Skip.NO_YEAR
    title = tidy_title(entry.name)
    first, last = server_films.year_range(clock)
    if len(title) > server_films.TITLE_LIMIT:
        return Skip.LONG_TITLE
    if not normalise_title(title):
        return Skip.NO_LETTERS
    if not first <= entry.year <= last:
        return Skip.YEAR_RANGE
    try:
        valid = server_films.validate(
            ServerFilmEntry(title, entry.year, tmdb_id=entry.tmdb_id, imdb_id=entry.imdb_id, letterboxd_uri=entry.uri),
            clock,
        )
    except UserError:
        return Skip.REFUSED
    key = (normalise_title(valid.title), entry.year)
    return key, NewFilm(valid.title, entry.year, valid.letterboxd_uri, valid.tmdb_id, valid.imdb_id)


@dataclass(frozen=True)
class Matching:
    """What each row of an upload names (one target per entry, in order), and the films the import would add."""

    targets: tuple[Target, ...]
    new: dict[FilmKey, NewFilm]


def match_entries(
    parsed: ParsedExport,
    index: TitleIndex | ClubTitles,
    *,
    unmatched: Unmatched,
    clock: Clock,
    pinned: Mapping[int, IndexEntry] | None = None,
) -> Matching:
    """Match every row to a film here (:func:`match_film`); a row that matches none names a film to add (unless
    ``unmatched`` is skip), or is skipped with its reason. A row without a year then takes the one film of its title
    that the import adds, when there is exactly one. ``pinned``: rows (by position) whose film is already known (a
    feed entry's TMDb id named it), matched before their title is looked at."""
    targets: list[Target] = []
    new: dict[FilmKey, NewFilm] = {}
    finds: dict[tuple[str, int | None], IndexEntry | Skip | None] = {}  # a film's rows in several files: one look-up
    for position, entry in enumerate(parsed.entries):
        found: IndexEntry | Skip | None = None
        if pinned is not None and position in pinned:
            found = pinned[position]
        elif entry.bad_year is None:
            asked = (entry.name, entry.year)
            found = finds[asked] if asked in finds else finds.setdefault(asked, _find(index, *asked))
        if found is not None:
            targets.append(found)
        elif unmatched is Unmatched.SKIP:
            targets.append(Skip.BAD_YEAR if entry.bad_year is not None else Skip.NOT_ADDED)
        else:
            made = new_film(entry, clock)
            if isinstance(made, Skip):
                targets.append(made)
                continue
            key, film = made
            new[key] = new[key].completed_by(film) if key in new else film
            targets.append(key)
    by_title: dict[str, list[FilmKey]] = {}
    for key in new:
        by_title.setdefault(key[0], []).append(key)
    for position, (entry, target) in enumerate(zip(parsed.entries, targets, strict=True)):
        if target is Skip.NO_YEAR:
            keys = by_title.get(normalise_title(tidy_title(entry.name)), [])
            if len(keys) == 1:
                targets[position] = keys[0]
            elif len(keys) > 1:
                targets[position] = Skip.AMBIGUOUS
    return Matching(tuple(targets), new)


@dataclass(frozen=True)
class _Found:
    """Where a film the import would add went: a film already here (found again in the transaction: another import
    added it meanwhile, or it has the same TMDb or IMDb id or Letterboxd link), or a new film."""

    film_id: int
    added: bool
    curated: bool = False


@dataclass(frozen=True)
class _At:
    """A clock stopped at the import's moment: the films it adds are dated like everything else it writes."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment


async def add_server_films(
    tx: Transaction,
    clock: Clock,
    index: TitleIndex | ClubTitles,
    *,
    guild_id: int,
    user_id: int,
    films: dict[FilmKey, NewFilm],
) -> dict[FilmKey, _Found | Skip]:
    """Add the films (validated by :func:`new_film`) as the server's own, in the import's transaction, and say where
    each went: :func:`bot.core.server_films.add_all_in`, its duplicate rules applied to every film at once. A film it
    finds already here is that film; a removed one is not added again; the server holds at most
    :data:`MAX_SERVER_FILMS`."""
    if not films:
        return {}
    curated = index.curated if isinstance(index, ClubTitles) else index
    entries = [
        ServerFilmEntry(
            film.title, film.year, tmdb_id=film.tmdb_id, imdb_id=film.imdb_id, letterboxd_uri=film.letterboxd_uri
        )
        for film in films.values()
    ]
    outcomes = await server_films.add_all_in(tx, clock, curated, guild_id, user_id, entries, limit=MAX_SERVER_FILMS)
    created = {added.film.id for added in outcomes if added.created and added.film is not None}
    found: dict[FilmKey, _Found | Skip] = {}
    for key, added in zip(films, outcomes, strict=True):
        if added.film is None:
            found[key] = Skip.SERVER_FULL if added.problem == server_films.SERVER_FULL else Skip.REFUSED
        elif added.film.id in created:  # new, or an earlier film of this import with the same id or link
            found[key] = _Found(added.film.id, added=True)
        elif added.film.retired:
            found[key] = Skip.REMOVED
        else:
            found[key] = _Found(added.film.id, added=False, curated=not added.film.is_server_film)
    return found


@dataclass
class _FilmPlan:
    """What Letterboxd files say about one catalog film: this upload's, or merged with what earlier imports said.

    Every field merges in a way that ignores order (the larger key, the earlier or later date), so importing files
    one at a time, in any order, ends where importing them together does."""

    rating: int | None = None
    rating_key: str | None = None
    body: str | None = None
    body_key: str | None = None
    body_spoiler: bool = False  # the text hides a spoiler
    first_on: str | None = None  # the earliest date any file gives the film (ISO)
    last_on: str | None = None  # the latest
    seen: date | None = None  # the earliest it was logged or watched
    seen_any: bool = False
    watchlisted: date | None = None
    watchlist_any: bool = False

    def take_rating(self, rating: int | None, key: str | None) -> None:
        if rating is not None and key is not None and (self.rating_key is None or key > self.rating_key):
            self.rating, self.rating_key = rating, key

    def take_body(self, body: str | None, key: str | None, spoiler: bool = False) -> None:
        if body is not None and key is not None and (self.body_key is None or key > self.body_key):
            self.body, self.body_key, self.body_spoiler = body, key, spoiler

    def take_dates(self, first: str | None, last: str | None) -> None:
        if first is not None and (self.first_on is None or first < self.first_on):
            self.first_on = first
        if last is not None and (self.last_on is None or last > self.last_on):
            self.last_on = last

    def merged_into(self, stored: _FilmPlan | None) -> _FilmPlan:
        """This upload's plan merged with what earlier imports stored (rating, text and dates)."""
        merged = _FilmPlan(**vars(stored)) if stored is not None else _FilmPlan()
        merged.take_rating(self.rating, self.rating_key)
        merged.take_body(self.body, self.body_key, self.body_spoiler)
        merged.take_dates(self.first_on, self.last_on)
        return merged

    @classmethod
    def from_stored(cls, film: LetterboxdFilm) -> _FilmPlan:
        return cls(
            film.rating, film.rating_key, film.body, film.body_key, film.body_spoiler, film.first_on, film.last_on
        )

    def stored(self, film_id: int) -> LetterboxdFilm:
        """What is kept of the plan between imports."""
        return LetterboxdFilm(
            film_id,
            self.rating,
            self.rating_key,
            self.body,
            self.body_key,
            self.body_spoiler,
            self.first_on,
            self.last_on,
        )


_NO_DAY = "0001-01-01"
#: On the same day, ratings.csv holds the film's current rating, then a review's, then a diary entry's.
_RANK = {Kind.RATINGS: 2, Kind.REVIEWS: 1, Kind.DIARY: 0}
#: Kinds whose dates say when the member logged, rated or watched the film (a watchlist date says neither).
_DATED = frozenset({Kind.RATINGS, Kind.REVIEWS, Kind.DIARY, Kind.WATCHED, Kind.FILMCLUB})


def entry_key(entry: Entry) -> str:
    """How new an entry is, as text that sorts: its Date (when it was logged or rated on Letterboxd), then the file
    (ratings.csv before reviews.csv before diary.csv: the same day's current rating wins), then its Watched Date,
    then its line. The newest rated entry gives a film's rating; the newest review its text."""
    logged = entry.logged.isoformat() if entry.logged else _NO_DAY
    watched = entry.watched.isoformat() if entry.watched else _NO_DAY
    return f"{logged}|{_RANK.get(entry.kind, 0)}|{watched}|{entry.line:08d}"


def plan_films(entries: Iterable[tuple[Entry, int]]) -> dict[int, _FilmPlan]:
    """Merge what the rows say about each film (rows paired with the film each names)."""
    plans: dict[int, _FilmPlan] = {}
    for entry, film_id in entries:
        plan = plans.setdefault(film_id, _FilmPlan())
        key = entry_key(entry)
        plan.take_rating(entry.rating, key)
        plan.take_body(entry.body, key, entry.spoiler)
        if entry.kind in _DATED:
            for moment in (entry.logged, entry.watched):
                if moment is not None:
                    plan.take_dates(moment.isoformat(), moment.isoformat())
        # our export's rated rows are reviews, which count as seen already; its unrated rows are films marked seen
        if entry.kind in (Kind.DIARY, Kind.REVIEWS, Kind.WATCHED) or (
            entry.kind is Kind.FILMCLUB and entry.rating is None
        ):
            plan.seen_any = True
            moment = entry.watched or entry.logged
            if moment is not None and (plan.seen is None or moment < plan.seen):
                plan.seen = moment
        if entry.kind is Kind.WATCHLIST:
            plan.watchlist_any = True
            if entry.logged is not None and (plan.watchlisted is None or entry.logged < plan.watchlisted):
                plan.watchlisted = entry.logged
    return plans


class _Where(StrEnum):
    CATALOG = "catalog"
    SERVER = "server"
    ADDED = "added"


@dataclass
class _Account:
    """Where every row went: the film it names and how (or why it was skipped), tallied for the reply."""

    pairs: list[tuple[Entry, int]]
    film_of: list[int | None]  # per row of the upload, the film it went to (None: skipped)
    films: dict[_Where, set[int]]
    rows: Counter[_Where]
    added: dict[int, str]  # film id -> label, in file order
    skipped: dict[tuple[str, Skip], SkippedFilm]

    @classmethod
    def of(cls, parsed: ParsedExport, matching: Matching, found: dict[FilmKey, _Found | Skip]) -> _Account:
        account = cls([], [], {where: set() for where in _Where}, Counter(), {}, {})
        for entry, target in zip(parsed.entries, matching.targets, strict=True):
            outcome: tuple[int, _Where] | Skip
            if isinstance(target, IndexEntry):
                outcome = target.film_id, _Where.SERVER if target.is_server_film else _Where.CATALOG
            elif isinstance(target, Skip):
                outcome = target
            else:
                went = found[target]
                if isinstance(went, Skip):
                    outcome = went
                else:
                    where = _Where.ADDED if went.added else _Where.CATALOG if went.curated else _Where.SERVER
                    outcome = went.film_id, where
                    if went.added:
                        account.added.setdefault(went.film_id, matching.new[target].label)
            if isinstance(outcome, Skip):
                label = entry.label
                seen = account.skipped.get((label, outcome))
                account.skipped[label, outcome] = SkippedFilm(
                    label, outcome, (seen.rows if seen else 0) + 1, seen.first if seen else entry.where
                )
                account.film_of.append(None)
                continue
            film_id, where = outcome
            account.pairs.append((entry, film_id))
            account.film_of.append(film_id)
            account.films[where].add(film_id)
            account.rows[where] += 1
        return account

    def count(self, where: _Where) -> Count:
        return Count(len(self.films[where]), self.rows[where])


def _moment(day: date | str | None, fallback: str) -> str:
    if day is None:
        return fallback
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return to_db(datetime(day.year, day.month, day.day, tzinfo=UTC))


async def import_export(
    db: Database,
    clock: Clock,
    index: TitleIndex | ClubTitles,
    *,
    guild_id: int,
    user_id: int,
    filename: str,
    data: bytes,
    unmatched: Unmatched = Unmatched.ADD,
) -> ImportResult:
    """Import a member's Letterboxd export (zip or CSV bytes) into one server; see the module's rules."""
    parsed = await asyncio.to_thread(parse_upload, filename, data)
    return await apply_import(db, clock, index, guild_id=guild_id, user_id=user_id, parsed=parsed, unmatched=unmatched)


async def apply_import(
    db: Database,
    clock: Clock,
    index: TitleIndex | ClubTitles,
    *,
    guild_id: int,
    user_id: int,
    parsed: ParsedExport,
    unmatched: Unmatched = Unmatched.ADD,
) -> ImportResult:
    moment = clock.now()
    matching = await asyncio.to_thread(  # a hundred milliseconds for a big export: not on the event loop
        match_entries, parsed, index, unmatched=unmatched, clock=clock
    )
    async with db.transaction() as tx:
        applied = await apply_in(
            tx, moment, index, guild_id=guild_id, user_id=user_id, parsed=parsed, matching=matching
        )
    return applied.result


@dataclass(frozen=True)
class Applied:
    """What an import did, and the film each row of the upload went to (None: skipped), in the upload's order."""

    result: ImportResult
    films: tuple[int | None, ...]


async def apply_in(
    tx: Transaction,
    moment: datetime,
    index: TitleIndex | ClubTitles,
    *,
    guild_id: int,
    user_id: int,
    parsed: ParsedExport,
    matching: Matching,
) -> Applied:
    """Write an import (its rows matched by :func:`match_entries`) in the caller's transaction: the file import's
    one, or a feed check's (bot.core.letterboxd_follow), which records the entries it handled with it."""
    now = to_db(moment)
    tally: Counter[str] = Counter()
    found = await add_server_films(tx, _At(moment), index, guild_id=guild_id, user_id=user_id, films=matching.new)
    account = _Account.of(parsed, matching, found)
    plans = plan_films(account.pairs)
    existing = {r.film_id: r for r in await reviews_store.member_reviews(tx, guild_id, user_id)}
    stored = {f.film_id: _FilmPlan.from_stored(f) for f in await store.letterboxd_films(tx, guild_id, user_id)}
    watched = await store.watched_marks(tx, guild_id, user_id)
    listed = await store.watchlist_marks(tx, guild_id, user_id)
    staged: list[LetterboxdFilm] = []
    inserts: list[ImportedReview] = []
    updates: list[ImportedReview] = []
    seen_marks: dict[int, str] = {}
    listed_marks: dict[int, str] = {}
    for film_id, plan in sorted(plans.items()):
        merged = plan.merged_into(stored.get(film_id))
        if merged.stored(film_id) != stored.get(film_id, _FilmPlan()).stored(film_id):
            staged.append(merged.stored(film_id))
        current = existing.get(film_id)
        if merged.rating is not None:
            review = ImportedReview(
                film_id=film_id,
                rating=merged.rating,
                body=merged.body,
                spoiler=merged.body is not None and merged.body_spoiler,
                created_at=_moment(merged.first_on, to_db(current.created_at) if current else now),
                updated_at=_moment(merged.last_on, to_db(current.updated_at) if current else now),
            )
            if current is None:
                inserts.append(review)
                tally["ratings_added"] += 1
                tally["with_text"] += merged.body is not None
            elif current.source != "letterboxd":
                tally["kept_discord"] += 1
            elif (
                current.rating,
                current.body,
                current.spoiler,
                to_db(current.created_at),
                to_db(current.updated_at),
                current.edited,
            ) == (review.rating, review.body, review.spoiler, review.created_at, review.updated_at, False):
                tally["ratings_unchanged"] += 1
            else:
                updates.append(review)
                tally["ratings_updated"] += 1
                tally["with_text"] += merged.body is not None
        elif merged.body is not None:
            tally["without_rating"] += 1
        if plan.seen_any:
            _queue_earliest(seen_marks, tally, watched.get(film_id), film_id, plan.seen, now, "watched_added")
        if plan.watchlist_any:
            _queue_earliest(listed_marks, tally, listed.get(film_id), film_id, plan.watchlisted, now, "watchlist_added")
    await store.save_letterboxd_films(tx, guild_id, user_id, staged)
    await store.insert_reviews(tx, guild_id, user_id, inserts)
    await store.update_reviews(tx, guild_id, user_id, updates)
    await store.mark_watched(tx, guild_id, user_id, seen_marks)
    await store.add_to_watchlist(tx, guild_id, user_id, listed_marks)
    result = ImportResult(
        files=parsed.files,
        rows=len(parsed.entries),
        catalog=account.count(_Where.CATALOG),
        server=account.count(_Where.SERVER),
        added=tuple(account.added.values()),
        added_rows=account.rows[_Where.ADDED],
        skipped=tuple(account.skipped.values()),
        ratings_added=tally["ratings_added"],
        ratings_updated=tally["ratings_updated"],
        ratings_unchanged=tally["ratings_unchanged"],
        kept_discord=tally["kept_discord"],
        with_text=tally["with_text"],
        without_rating=tally["without_rating"],
        watched_added=tally["watched_added"],
        watchlist_added=tally["watchlist_added"],
        redated=tally["redated"],
        shortened=parsed.shortened,
    )
    return Applied(result, tuple(account.film_of))


def _queue_earliest(
    marks: dict[int, str],
    tally: Counter[str],
    current: Mark | None,
    film_id: int,
    day: date | None,
    now: str,
    added: str,
) -> None:
    """Queue a seen or watchlist mark: a new one (counted as ``added``), or an earlier date for one an import wrote
    (never one the member or a screening wrote; counted as redated). The earliest date wins whatever the order of the
    imports."""
    at = _moment(day, now)
    if current is None:
        marks[film_id] = at
        tally[added] += 1
    elif current.source == "letterboxd" and at < current.at:
        marks[film_id] = at
        tally["redated"] += 1


# -- exporting -------------------------------------------------------------------------------------------------------


def _stars(rating: int) -> str:
    return f"{rating / 2:g}"


class ExportScope(StrEnum):
    """What an export holds."""

    CLUB = "club"  # what the member did in the club: for Letterboxd's importer, which then duplicates nothing
    EVERYTHING = "everything"  # their reviews and seen films wherever they came from: a backup


EXPORT_FILE_PREFIX = {ExportScope.CLUB: "filmclub-for-letterboxd", ExportScope.EVERYTHING: "filmclub-backup"}
#: The backup says where each row came from, and which review text hides a spoiler ("yes"); Letterboxd's importer
#: ignores columns it does not know.
SOURCE_COLUMN = "Source"
SPOILER_COLUMN, SPOILER_MARK = "Spoiler", "yes"


async def export_csv(
    db: Database, clock: Clock, *, guild_id: int, user_id: int, scope: ExportScope = ExportScope.CLUB
) -> ExportFile:
    """The member's reviews and seen films as a CSV in Letterboxd's import format (Title, Year, Rating, WatchedDate,
    Review, and the LetterboxdURI, tmdbID and imdbID Letterboxd matches a film by first, where the film has them).
    ``CLUB`` holds what they did here (reviews written on Discord, films marked seen or screened), so importing it
    into Letterboxd duplicates nothing; ``EVERYTHING`` adds what came from Letterboxd, with a Source
    column saying which is which and a Spoiler column: a backup, which ``/letterboxd import`` reads back with the
    spoiler flags (Letterboxd's own files have none)."""
    rows = await store.export_rows(db, guild_id, user_id, everything=scope is ExportScope.EVERYTHING)
    if not rows:
        if scope is ExportScope.CLUB and await store.export_rows(db, guild_id, user_id, everything=True):
            raise UserError(
                "Everything you have here came from Letterboxd, so there is nothing new to send back. "
                "Choose `what: Everything` for a backup."
            )
        raise UserError(
            "Nothing to export yet: review films with `/review add` or mark them with `/watched add` first."
        )
    header = (
        EXPORT_COLUMNS
        + EXPORT_ID_COLUMNS
        + ((SOURCE_COLUMN, SPOILER_COLUMN) if scope is ExportScope.EVERYTHING else ())
    )
    lines = []
    for row in rows:
        line = [
            row.title,
            row.year,
            "" if row.rating is None else _stars(row.rating),
            from_db(row.watched_at).date().isoformat(),
            row.body or "",
            row.letterboxd_uri or "",
            "" if row.tmdb_id is None else str(row.tmdb_id),
            row.imdb_id or "",
        ]
        if scope is ExportScope.EVERYTHING:
            source = "letterboxd" if row.source == "letterboxd" else "club"
            line += [source, SPOILER_MARK if row.spoiler and row.body else ""]
        lines.append(line)
    stamp = clock.now().date().isoformat()
    return ExportFile(f"{EXPORT_FILE_PREFIX[scope]}-{stamp}.csv", write_csv(header, lines), len(rows))


def import_report(result: ImportResult) -> bytes:
    """Every film the import added and every row it skipped (with why and where), for the member to keep."""
    lines = [f"Letterboxd import: {result.rows:,} rows read from {', '.join(result.files)}."]
    lines.append(f"{result.catalog.films:,} films matched the catalog ({result.catalog.rows:,} rows).")
    if result.server.rows:
        lines.append(f"{result.server.films:,} films were already this server's own ({result.server.rows:,} rows).")
    if result.added:
        lines += [
            "",
            f"Added as this server's films: {len(result.added):,} ({result.added_rows:,} rows)",
            *result.added,
        ]
    for reason, films in result.skipped_by_reason().items():
        rows = sum(film.rows for film in films)
        lines += ["", f"Skipped, {SKIP_REASONS[reason]}: {rows:,} rows"]
        lines += [
            f"{film.label} ({film.first}{f', and {film.rows - 1:,} more rows' if film.rows > 1 else ''})"
            for film in films
        ]
    return ("\n".join(lines) + "\n").encode("utf-8")
