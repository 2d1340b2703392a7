"""Fact-check the catalog's years, directors and runtimes against public reference data.

Usage (from the repository root, with any ``python3``: without the project's dependencies it runs itself again with
the project's ``.venv``, or says in one line how to create it and exits 2)::

    python3 tools/factcheck.py [--catalog data] [--shared ../shared/data] [--exceptions FILE] [--verbose]

Every catalog film is looked up by normalised title (and its ``alt_titles``) within a year either way in four
reference sets, read from the shared data folder beside the project (documented in its README):

========== ===================================================== =================================
source     file                                                  gives
========== ===================================================== =================================
TMDb       tmdb-movies-udacity-cleaned/tmdb-movies.csv           title, year, directors, runtime
OMDb       movielens-omdb-soundtracks/imbd-movies-...-small.csv  title, year, directors
MovieLens  movielens-ml-latest-small/movies.csv                  title (+ alternative titles), year
Wikipedia  wikipedia-movie-data/movies-*.json                    title, year, "directed by ..." prose
========== ===================================================== =================================

Each field is compared with the most preferred source (in that order) that matched and has the field: the year must
be equal, the reference's directors must all be in the catalog's list (compared as normalised names, so
"D. A. Pennebaker" is "D.A. Pennebaker"), and the runtime within five minutes (not checked for series). A
disagreement recorded in ``tools/factcheck_exceptions.toml`` with a reason is shown as accepted and does not count.

Exit status: 0 when every disagreement is explained (or the reference folder is absent, which is reported as
skipped), 1 when some are not, 2 when the exceptions file cannot be read or the catalog does not validate (the
films that are valid on their own are still checked and reported, so content can be fact-checked while in progress).
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import re
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NoReturn

REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECT_VENV = REPO_ROOT / ".venv"
if str(REPO_ROOT) not in sys.path:  # run as ``python tools/factcheck.py``: make ``bot`` importable
    sys.path.insert(0, str(REPO_ROOT))


def _run_in_the_project_environment(missing: ModuleNotFoundError) -> NoReturn:
    """``python3 tools/factcheck.py`` from a Python without the project's dependencies (the system one): run again
    with the project's virtual environment, or, without one, say in one line how to get it."""
    venv_python = PROJECT_VENV / "bin" / "python"
    if venv_python.is_file() and Path(sys.prefix).resolve() != PROJECT_VENV.resolve():
        os.execv(venv_python, [str(venv_python), str(Path(__file__).resolve()), *sys.argv[1:]])  # noqa: S606
    print(
        f"factcheck: needs the project's dependencies ({missing.name} is missing): run "
        "`python3 -m venv .venv && .venv/bin/pip install -q -e .` in the repository, then `python3 tools/factcheck.py`",
        file=sys.stderr,
    )
    sys.exit(2)


try:
    from pydantic import ValidationError

    from bot.core.catalog import SERIES_KINDS, FilmEntry, catalog_files, read_catalog
    from bot.core.errors import CatalogInvalid
    from bot.core.text import fold, normalise_title
except ModuleNotFoundError as missing_dependency:
    _run_in_the_project_environment(missing_dependency)

DEFAULT_CATALOG = REPO_ROOT / "data"
DEFAULT_SHARED = REPO_ROOT.parent / "shared" / "data"
DEFAULT_EXCEPTIONS = REPO_ROOT / "tools" / "factcheck_exceptions.toml"

TMDB = "TMDb"
OMDB = "OMDb"
MOVIELENS = "MovieLens"
WIKIPEDIA = "Wikipedia"
#: Preference order: the first matched source that has a field is the one the field is checked against.
SOURCES: tuple[str, ...] = (TMDB, OMDB, MOVIELENS, WIKIPEDIA)

TMDB_FILE = "tmdb-movies-udacity-cleaned/tmdb-movies.csv"
OMDB_FILE = "movielens-omdb-soundtracks/imbd-movies-soundtracks-movielens-small.csv"
MOVIELENS_FILE = "movielens-ml-latest-small/movies.csv"
WIKIPEDIA_DIR = "wikipedia-movie-data"

YEAR_SLACK = 1  # a reference record this many years either side still matches (the difference is reported)
RUNTIME_TOLERANCE = 5  # minutes
FIELDS = ("year", "directors", "runtime")


# -- reference records ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefRecord:
    """One film in one reference source. Empty ``directors`` and ``None`` runtime mean "the source does not say"."""

    source: str
    title: str
    year: int
    directors: tuple[str, ...] = ()
    runtime: int | None = None
    alt_titles: tuple[str, ...] = ()
    kind: str | None = None  # "movie", "series" or "episode" where the source says
    ref: str = ""  # where to find it in the source, e.g. "movieId 5385"
    movielens_id: str | None = None  # MovieLens and OMDb records share MovieLens ids

    def describe(self) -> str:
        return f'{self.source} "{self.title}" ({self.year}{", " + self.ref if self.ref else ""})'


#: MovieLens moves articles of every language to the end ("Jetée, La", "Avventura, L'"); English ones are handled
#: by ``normalise_title``, these are put back in front.
_TRAILING_FOREIGN_ARTICLE = re.compile(
    r"^(?P<rest>.+),\s*(?P<article>l'|l’|la|le|les|il|lo|gli|el|los|las|der|die|das|den|det|het|de|os|as|o|un|une)$",
    re.IGNORECASE,
)


def _title_keys(titles: Iterable[str]) -> set[str]:
    keys = set()
    for title in titles:
        keys.add(normalise_title(title))
        moved = _TRAILING_FOREIGN_ARTICLE.match(title.strip())
        if moved:
            article = moved.group("article")
            space = "" if article.endswith(("'", "’")) else " "
            keys.add(normalise_title(article + space + moved.group("rest")))
    keys.discard("")
    return keys


def _loose_keys(titles: Iterable[str]) -> set[str]:
    """Keys for the parts of a "Main: Subtitle" title, for a second, stricter round of matching."""
    keys: set[str] = set()
    for title in titles:
        head, colon, tail = title.partition(":")
        if colon:
            keys |= _title_keys([head, tail])
    return keys - _title_keys(titles)


class Reference:
    """Reference records of every source, indexed by normalised title (and by colon-separated title parts)."""

    def __init__(self, records: Iterable[RefRecord], notes: Sequence[str] = ()) -> None:
        self.counts: Counter[str] = Counter()
        self.notes = list(notes)
        self._exact: dict[str, dict[str, list[RefRecord]]] = {source: {} for source in SOURCES}
        self._loose: dict[str, dict[str, list[RefRecord]]] = {source: {} for source in SOURCES}
        self._by_movielens_id: dict[tuple[str, str], RefRecord] = {}
        for record in records:
            self.counts[record.source] += 1
            if record.movielens_id:
                self._by_movielens_id.setdefault((record.source, record.movielens_id), record)
            titles = [record.title, *record.alt_titles]
            exact = self._exact.setdefault(record.source, {})
            for key in _title_keys(titles):
                exact.setdefault(key, []).append(record)
            loose = self._loose.setdefault(record.source, {})
            for key in _loose_keys(titles):
                loose.setdefault(key, []).append(record)

    def lookup(self, source: str, keys: Iterable[str], *, loose: bool = False) -> list[RefRecord]:
        index = (self._loose if loose else self._exact).get(source, {})
        found: dict[int, RefRecord] = {}
        for key in keys:
            for record in index.get(key, ()):
                found.setdefault(id(record), record)
        return list(found.values())

    def by_movielens_id(self, source: str, movielens_id: str | None) -> RefRecord | None:
        return self._by_movielens_id.get((source, movielens_id)) if movielens_id else None

    def describe(self) -> str:
        return "; ".join(f"{source} {self.counts[source]:,}" for source in SOURCES if self.counts[source])


# -- reading the reference files ------------------------------------------------------------------------------------


def _mojibake_byte(char: str) -> int | None:
    """The byte a character stands for when UTF-8 was misread as Windows-1252 (or Latin-1)."""
    if ord(char) < 256:
        return ord(char)
    try:
        return char.encode("cp1252")[0]
    except UnicodeEncodeError:
        return None


_CONTINUATION = "".join(
    sorted({char for char in map(chr, range(0x80, 0x2200)) if (byte := _mojibake_byte(char)) and 0x80 <= byte <= 0xBF})
)
_MOJIBAKE = re.compile(f"[\u00c2-\u00f4][{re.escape(_CONTINUATION)}]{{1,3}}")


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 read as Windows-1252/Latin-1: "GonzÃ¡lez" -> "González", "Jonas Ã…kerlund" -> "Jonas Åkerlund".

    Each misread sequence is repaired on its own, so one whose byte was lost in the file (a lone "Ã") does not stop
    the others; a sequence that does not decode is kept as it is.
    """
    if text.isascii():
        return text

    def fix(match: re.Match[str]) -> str:
        raw = bytes(_mojibake_byte(char) or 0 for char in match.group())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return match.group()

    return _MOJIBAKE.sub(fix, text)


def _int(text: str | None) -> int | None:
    match = re.match(r"\s*(\d{1,4})", text or "")
    return int(match.group(1)) if match else None


def _split_people(text: str, separator: str = "|") -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(separator) if name.strip())


def load_tmdb(path: Path) -> list[RefRecord]:
    """One record per film: the file has a row per (film, genre), so rows are grouped on title+year+director+runtime."""
    seen: dict[tuple[str, str, str, str], RefRecord] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            key = (row["original_title"], row["release_year"], row["director"], row["runtime"])
            year = _int(row["release_year"])
            if key in seen or year is None or not row["original_title"].strip():
                continue
            runtime = _int(row["runtime"])
            seen[key] = RefRecord(
                source=TMDB,
                title=repair_mojibake(row["original_title"]).strip(),
                year=year,
                directors=_split_people(repair_mojibake(row["director"])),
                runtime=runtime or None,
                ref=f"line {line}",
            )
    return list(seen.values())


def _literal_list(text: str) -> list[str]:
    try:
        value = ast.literal_eval(text) if text.strip() else []
    except (ValueError, SyntaxError):
        return [text] if text.strip() else []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value] if isinstance(value, list | tuple) else []


def load_omdb(path: Path) -> list[RefRecord]:
    records = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            year = _int(row["Year"])
            if year is None or not row["Title"].strip():
                continue
            directors = tuple(name.strip() for name in _literal_list(row["Director(s)"]) if name.strip() != "N/A")
            kinds = _literal_list(row.get("Type", ""))
            records.append(
                RefRecord(
                    source=OMDB,
                    title=row["Title"].strip(),
                    year=year,
                    directors=directors,
                    kind=kinds[0] if kinds else None,
                    ref=row.get("id", "") or f"movieId {row['movieId']}",
                    movielens_id=row.get("movieId") or None,
                )
            )
    return records


_MOVIELENS_YEAR = re.compile(r"\s*\((\d{4})(?:\s*[-–]\s*\d{0,4})?\)\s*$")


def parse_movielens_title(text: str) -> tuple[str, tuple[str, ...], int | None]:
    """ "20 Feet from Stardom (Twenty Feet from Stardom) (2013)" -> main title, alternative titles, year."""
    text = text.strip()
    year = None
    match = _MOVIELENS_YEAR.search(text)
    if match:
        year = int(match.group(1))
        text = text[: match.start()].rstrip()
    alternatives: list[str] = []
    while text.endswith(")"):
        depth = 0
        start = -1
        for index in range(len(text) - 1, -1, -1):
            if text[index] == ")":
                depth += 1
            elif text[index] == "(":
                depth -= 1
                if depth == 0:
                    start = index
                    break
        if start <= 0:  # unbalanced, or the whole title is in parentheses
            break
        inner = text[start + 1 : -1].strip()
        inner = re.sub(r"^a\.k\.a\.\s*", "", inner, flags=re.IGNORECASE)
        if inner:
            alternatives.insert(0, inner)
        text = text[:start].rstrip()
    return text, tuple(alternatives), year


def load_movielens(path: Path) -> list[RefRecord]:
    records = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            title, alternatives, year = parse_movielens_title(row["title"])
            if year is None or not title:
                continue
            records.append(
                RefRecord(
                    source=MOVIELENS,
                    title=title,
                    year=year,
                    alt_titles=alternatives,
                    ref=f"movieId {row['movieId']}",
                    movielens_id=row["movieId"],
                )
            )
    return records


_DIRECTED_BY = re.compile(
    r"\b(?:co-)?directed(?:\s+and\s+\w+)?\s+by\s+|\bby\s+directors?\s+|\b(?:documentary|concert)\s+film\s+by\s+",
    re.IGNORECASE,
)
_INITIALS = re.compile(r"^(?:[A-Z]\.)+$")
_PARTICLES = frozenset({"de", "da", "del", "della", "der", "den", "di", "du", "la", "le", "van", "von", "dos", "das"})
_SUFFIXES = frozenset({"Jr.", "Sr.", "Jr", "Sr", "II", "III", "St.", "Mr.", "Dr."})
#: Words after which the capitalised words read so far were a description, not a name ("Hong Kong director John Woo").
_ROLE_WORDS = frozenset({"director", "directors", "filmmaker", "filmmakers", "actor", "actress", "cinematographer"})


def directors_from_extract(extract: str) -> tuple[str, ...]:
    """The names after the first "directed by" / "by director" in a Wikipedia lead, or ``()`` when unclear.

    "directed by D. W. Griffith and starring ..." gives ("D. W. Griffith",); "directed by Albert and David Maysles"
    gives ("Albert Maysles", "David Maysles"). A name is a run of capitalised words and initials; the list stops at
    the first other word or at the end of the sentence.
    """
    match = _DIRECTED_BY.search(extract)
    if not match:
        return ()
    names: list[list[str]] = []
    current: list[str] = []

    def flush() -> None:
        while current and current[-1].lower() in _PARTICLES:
            current.pop()
        if current:
            names.append(current.copy())
        current.clear()

    for raw in extract[match.end() : match.end() + 200].split():
        word = raw.rstrip(',;:!?)"”')
        comma = word != raw and raw[len(word)] in ",;"
        sentence_end = False
        if word.endswith(("'s", "’s")):
            word, sentence_end = word[:-2], True
        if word.endswith(".") and not _INITIALS.match(word) and word not in _SUFFIXES:
            word, sentence_end = word[:-1], True
        if word in ("and", "&"):
            flush()
            if not names:
                break
            continue
        if word in _ROLE_WORDS:
            current.clear()
            continue
        name_word = _INITIALS.match(word) or word in _SUFFIXES or (word[:1].isupper() and word[:1].isalpha())
        if not name_word and not (current and word.lower() in _PARTICLES):
            break
        current.append(word)
        if comma:
            flush()
        if sentence_end:
            break
    flush()
    for index, name in enumerate(names[:-1]):  # "Albert and David Maysles": lend the surname to a lone first name
        if len(name) == 1 and len(names[index + 1]) > 1:
            name.append(names[index + 1][-1])
    return tuple(" ".join(name) for name in names if len(name) > 1)


def load_wikipedia(folder: Path) -> list[RefRecord]:
    records = []
    for path in sorted(folder.glob("movies-*.json")):
        with path.open(encoding="utf-8") as handle:
            entries = json.load(handle)
        for entry in entries:
            title, year = entry.get("title"), entry.get("year")
            if not isinstance(title, str) or not isinstance(year, int) or not title.strip():
                continue
            extract = entry.get("extract")
            directors = directors_from_extract(extract) if isinstance(extract, str) else ()
            href = entry.get("href")
            # The lists file a film under its US release year; an article titled "X (2008 film)" states its own year.
            article_year = re.search(r"_\((\d{4})_(?:[a-z]+_)?film\)$", href) if isinstance(href, str) else None
            if article_year:
                year = int(article_year.group(1))
            records.append(
                RefRecord(
                    source=WIKIPEDIA,
                    title=title.strip(),
                    year=year,
                    directors=directors,
                    ref=f"wiki/{href}" if isinstance(href, str) and href else path.name,
                )
            )
    return records


def load_reference(shared: Path) -> Reference:
    """Read every reference source found under ``shared``; a missing source is noted and left out."""
    records: list[RefRecord] = []
    notes: list[str] = []
    files = (
        (TMDB, shared / TMDB_FILE, load_tmdb),
        (OMDB, shared / OMDB_FILE, load_omdb),
        (MOVIELENS, shared / MOVIELENS_FILE, load_movielens),
        (WIKIPEDIA, shared / WIKIPEDIA_DIR, load_wikipedia),
    )
    for source, path, loader in files:
        if not path.exists():
            notes.append(f"{source} left out: {path} not found")
            continue
        records.extend(loader(path))
    return Reference(records, notes)


# -- matching and checking ------------------------------------------------------------------------------------------


def normalise_person(name: str) -> str:
    """A key for a name: folded, no punctuation, initials run together ("D. A. Pennebaker" gives "da pennebaker")."""
    tokens = re.split(r"\W+", re.sub(r"['’‘`´]", "", fold(name)))
    words: list[str] = []
    initials = ""
    for token in tokens:
        if len(token) == 1:
            initials += token
            continue
        if initials:
            words.append(initials)
            initials = ""
        if token:
            words.append(token)
    if initials:
        words.append(initials)
    return " ".join(words)


def _person_short_key(key: str) -> tuple[str, str]:
    words = [word for word in key.split() if word not in ("jr", "sr", "ii", "iii")] or key.split() or [""]
    return words[0][:1], words[-1]


def same_person(a: str, b: str) -> bool:
    """Equal normalised names, or the same first initial and surname ("Mark Miceli" is "Mark Aldo Miceli")."""
    key_a, key_b = normalise_person(a), normalise_person(b)
    return key_a == key_b or _person_short_key(key_a) == _person_short_key(key_b)


def directors_disagree(catalog: Sequence[str], reference: Sequence[str]) -> bool:
    """True when the lists share no one, or the reference names someone the catalog lacks."""
    if not reference:
        return False
    missing = [name for name in reference if not any(same_person(name, ours) for ours in catalog)]
    return bool(missing)  # when they share no one, every reference name is missing


def _kind_fits(film: FilmEntry, record: RefRecord) -> bool:
    if record.kind is None:
        return True
    return (record.kind == "series") == (film.kind in SERIES_KINDS)


def _shares_director(film: FilmEntry, record: RefRecord) -> bool:
    return any(same_person(ours, theirs) for ours in film.directors for theirs in record.directors)


@dataclass(frozen=True)
class Match:
    record: RefRecord
    how: str = "title"  # or "title part" (one side of "Main: Subtitle"), or "MovieLens id" (joined OMDb/MovieLens)


def match_in_source(film: FilmEntry, reference: Reference, source: str) -> Match | None:
    """The best record for ``film`` in one source: same normalised title (or alt title), year within ±1.

    A series only matches a record that is a series, shares a director, or (naming no director) has the same year.
    Candidates are ranked by shared director (a namesake of another year is another film), then year difference,
    then series-vs-film fit. When no whole title matches, a title part before or after a colon may ("Truth or Dare"
    / "Madonna: Truth or Dare"), but only with a shared director: "Fullmetal Alchemist: Brotherhood" is not the
    film "Brotherhood".
    """
    titles = [film.title, *film.alt_titles]
    keys = _title_keys(titles)

    def near(records: Iterable[RefRecord]) -> list[RefRecord]:
        found = [record for record in records if abs(record.year - film.year) <= YEAR_SLACK]
        if film.kind in SERIES_KINDS:  # the sources are mostly films: a namesake film is another work
            found = [
                record
                for record in found
                if record.kind == "series"
                or _shares_director(film, record)
                or (not record.directors and record.year == film.year)
            ]
        return found

    def rank(record: RefRecord) -> tuple[int, int, int]:
        return (not _shares_director(film, record), abs(record.year - film.year), not _kind_fits(film, record))

    candidates = near(reference.lookup(source, keys))
    if candidates:
        return Match(min(candidates, key=rank))
    loose = near([*reference.lookup(source, keys, loose=True), *reference.lookup(source, _loose_keys(titles))])
    loose = [record for record in loose if _shares_director(film, record)]
    if loose:
        return Match(min(loose, key=rank), how="title part")
    return None


def match_film(film: FilmEntry, reference: Reference) -> dict[str, Match]:
    """The film's match in every source that has it, in preference order."""
    matches = {}
    for source in SOURCES:
        found = match_in_source(film, reference, source)
        if found is not None:
            matches[source] = found
    # OMDb rows carry their MovieLens id: a film one of the two found by title is the same film in the other.
    for source, other in ((OMDB, MOVIELENS), (MOVIELENS, OMDB)):
        if source not in matches and other in matches:
            joined = reference.by_movielens_id(source, matches[other].record.movielens_id)
            if joined is not None:
                matches[source] = Match(joined, how="MovieLens id")
    return {source: matches[source] for source in SOURCES if source in matches}


@dataclass(frozen=True)
class Disagreement:
    film_id: str
    file: str
    field: str
    catalog: str
    reference: str
    source: str
    record: RefRecord
    others: tuple[str, ...] = ()  # what the other matched sources say about the same field
    accepted: str | None = None  # the recorded reason, when an exception covers it

    def describe(self) -> str:
        text = f"{self.film_id}: {self.field}: catalog {self.catalog}; {self.source} {self.reference}"
        text += f" [{self.record.describe()}]"
        if self.others:
            text += f" (also: {'; '.join(self.others)})"
        return text


def _people(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "-"


def check_film(film: FilmEntry, file: str, matches: dict[str, Match]) -> list[Disagreement]:
    """Compare one film with its matches: year, directors and (not for series) runtime, each against the preferred
    source that has the field."""
    found: list[Disagreement] = []
    ordered = [(source, matches[source].record) for source in SOURCES if source in matches]
    if not ordered:
        return found

    source, record = ordered[0]
    if record.year != film.year:
        others = tuple(f"{other} {rec.year}" for other, rec in ordered[1:])
        found.append(Disagreement(film.slug, file, "year", str(film.year), str(record.year), source, record, others))

    with_directors = [(source, rec) for source, rec in ordered if rec.directors]
    if with_directors:
        source, record = with_directors[0]
        if directors_disagree(film.directors, record.directors):
            others = tuple(f"{other} {_people(rec.directors)}" for other, rec in with_directors[1:])
            found.append(
                Disagreement(
                    film.slug,
                    file,
                    "directors",
                    _people(film.directors),
                    _people(record.directors),
                    source,
                    record,
                    others,
                )
            )

    with_runtime = [(source, rec, rec.runtime) for source, rec in ordered if rec.runtime]
    if film.kind not in SERIES_KINDS and with_runtime:
        source, record, runtime = with_runtime[0]
        if abs(runtime - film.runtime) > RUNTIME_TOLERANCE:
            others = tuple(f"{other} {minutes} min" for other, _rec, minutes in with_runtime[1:])
            found.append(
                Disagreement(
                    film.slug, file, "runtime", f"{film.runtime} min", f"{runtime} min", source, record, others
                )
            )
    return found


# -- exceptions -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FactException:
    """A recorded, reasoned disagreement: the catalog is right and the reference is not."""

    film: str
    field: str
    reason: str
    source: str | None = None  # optional: only excuse the disagreement with this source


class ExceptionsInvalid(ValueError):
    """The exceptions file cannot be used; the message lists every problem."""


def parse_exceptions(document: dict[str, object], shown: str = "exceptions") -> list[FactException]:
    problems: list[str] = []
    entries: list[FactException] = []
    for key in document:
        if key != "exception":
            problems.append(f"{shown}: unknown section '{key}'; use [[exception]] blocks")
    raw_entries = document.get("exception", [])
    if not isinstance(raw_entries, list):
        raise ExceptionsInvalid(f"{shown}: 'exception' must be written as [[exception]] blocks")
    for number, raw in enumerate(raw_entries, start=1):
        where = f"{shown}: exception #{number}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: must be a table")
            continue
        unknown = set(raw) - {"film", "field", "reason", "source"}
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        values = {name: raw.get(name) for name in ("film", "field", "reason")}
        if any(not isinstance(value, str) or not value.strip() for value in values.values()):
            problems.append(f"{where}: film, field and reason are required text")
            continue
        source = raw.get("source")
        if source is not None and source not in SOURCES:
            problems.append(f"{where}: source must be one of {', '.join(SOURCES)}")
            continue
        if values["field"] not in FIELDS:
            problems.append(f"{where}: field must be one of {', '.join(FIELDS)}")
            continue
        entries.append(
            FactException(
                str(values["film"]).strip(),
                str(values["field"]),
                str(values["reason"]).strip(),
                source if isinstance(source, str) else None,
            )
        )
    if problems:
        raise ExceptionsInvalid("\n".join(problems))
    return entries


def load_exceptions(path: Path) -> list[FactException]:
    """The recorded exceptions; none when the file does not exist."""
    if not path.exists():
        return []
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ExceptionsInvalid(f"{path}: not valid TOML: {exc}") from exc
    return parse_exceptions(document, str(path))


def _covers(exception: FactException, disagreement: Disagreement) -> bool:
    return (
        exception.film == disagreement.film_id
        and exception.field == disagreement.field
        and exception.source in (None, disagreement.source)
    )


# -- the whole catalog ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilmResult:
    film: FilmEntry
    file: str
    matches: dict[str, Match]
    disagreements: list[Disagreement]

    @property
    def source(self) -> str | None:
        return next(iter(self.matches), None)


@dataclass
class Report:
    results: list[FilmResult]
    unused_exceptions: list[FactException] = field(default_factory=list)

    @property
    def checked(self) -> int:
        return len(self.results)

    @property
    def matched(self) -> list[FilmResult]:
        return [result for result in self.results if result.matches]

    @property
    def unmatched(self) -> list[FilmResult]:
        return [result for result in self.results if not result.matches]

    def all_disagreements(self) -> Iterator[Disagreement]:
        for result in self.results:
            yield from result.disagreements

    @property
    def open(self) -> list[Disagreement]:
        return [item for item in self.all_disagreements() if item.accepted is None]

    @property
    def accepted(self) -> list[Disagreement]:
        return [item for item in self.all_disagreements() if item.accepted is not None]

    @property
    def exit_code(self) -> int:
        return 1 if self.open else 0


def check_catalog(
    films: Sequence[FilmEntry],
    film_files: dict[str, str],
    reference: Reference,
    exceptions: Sequence[FactException] = (),
) -> Report:
    """Match and check every film; mark the disagreements an exception explains."""
    results = []
    used: set[int] = set()
    for film in films:
        file = film_files.get(film.slug, "?")
        matches = match_film(film, reference)
        disagreements = []
        for item in check_film(film, file, matches):
            for index, exception in enumerate(exceptions):
                if _covers(exception, item):
                    item = replace(item, accepted=exception.reason)  # noqa: PLW2901
                    used.add(index)
                    break
            disagreements.append(item)
        results.append(FilmResult(film, file, matches, disagreements))
    unused = [exception for index, exception in enumerate(exceptions) if index not in used]
    return Report(results, unused)


def _by_file(items: Iterable[Disagreement]) -> dict[str, list[Disagreement]]:
    grouped: dict[str, list[Disagreement]] = {}
    for item in items:
        grouped.setdefault(item.file, []).append(item)
    return dict(sorted(grouped.items()))


def format_report(report: Report, *, verbose: bool = False) -> list[str]:
    lines = [f"titles checked: {report.checked}"]
    by_source = Counter(result.source for result in report.matched)
    per_source = ", ".join(f"{source} {by_source[source]}" for source in SOURCES if by_source[source])
    lines.append(
        f"titles matched in the reference: {len(report.matched)}"
        + (f" (best source: {per_source})" if per_source else "")
        + f"; not found: {len(report.unmatched)}"
    )
    files: dict[str, list[FilmResult]] = {}
    for result in report.results:
        files.setdefault(result.file, []).append(result)
    if len(files) > 1:
        lines.append("by file:")
        for file, results in sorted(files.items()):
            items = [item for result in results for item in result.disagreements]
            open_count = sum(item.accepted is None for item in items)
            lines.append(
                f"  {file}: {len(results)} checked, {sum(bool(result.matches) for result in results)} matched, "
                f"{open_count} disagreement{'s' if open_count != 1 else ''}, {len(items) - open_count} accepted"
            )
    if verbose:
        for result in report.matched:
            found = "; ".join(
                match.record.describe() + (f" [by {match.how}]" if match.how != "title" else "")
                for match in result.matches.values()
            )
            lines.append(f"  {result.film.slug} ({result.file}): {found}")
        if report.unmatched:
            lines.append("not found in the reference:")
            lines.extend(
                f"  {result.film.slug} ({result.file}): {result.film.title!r} {result.film.year}, {result.film.kind}"
                for result in report.unmatched
            )
    if report.open:
        lines.append(f"disagreements: {len(report.open)}")
        for file, items in _by_file(report.open).items():
            lines.append(f"  {file}")
            lines.extend(f"    {item.describe()}" for item in items)
    else:
        lines.append("disagreements: none")
    if report.accepted:
        lines.append(f"accepted (recorded in the exceptions file): {len(report.accepted)}")
        for file, items in _by_file(report.accepted).items():
            lines.append(f"  {file}")
            for item in items:
                lines.append(f"    {item.describe()}")
                lines.append(f"      accepted: {item.accepted}")
    known = {result.film.slug for result in report.results}
    for exception in report.unused_exceptions:
        why = "matches no current disagreement" if exception.film in known else "names a film not in the catalog"
        lines.append(f"note: the exception for {exception.film!r} ({exception.field}) {why}; remove it if obsolete")
    lines.append(
        f"summary: {report.checked} titles checked, {len(report.matched)} matched, "
        f"{len(report.open)} unexplained disagreement{'s' if len(report.open) != 1 else ''}, "
        f"{len(report.accepted)} accepted -> {'FAIL' if report.open else 'OK'}"
    )
    return lines


# -- command line ---------------------------------------------------------------------------------------------------


def read_films_leniently(path: Path) -> tuple[list[FilmEntry], dict[str, str]]:
    """Every ``[[film]]`` block that is valid on its own, for fact-checking a catalog that does not yet pass
    ``catalog check`` (an unknown theme, say); blocks that do not validate, and repeated ids, are left out."""
    films: list[FilmEntry] = []
    film_files: dict[str, str] = {}
    for file in catalog_files(path):
        try:
            with file.open("rb") as handle:
                document = tomllib.load(handle)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue
        blocks = document.get("film", [])
        for raw in blocks if isinstance(blocks, list) else []:
            try:
                film = FilmEntry.model_validate(raw)
            except ValidationError:
                continue
            if film.slug not in film_files:
                film_files[film.slug] = _display(file)
                films.append(film)
    return films, film_files


def _display(path: Path) -> str:
    """Relative to the working directory when below it, as the catalog's own messages show files."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


def _shown(path: Path) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return relative if len(relative) < len(str(path)) else str(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="factcheck", description="Check catalog years, directors and runtimes against the shared reference data."
    )
    parser.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG, help="catalog folder or file (default: data)")
    parser.add_argument(
        "--shared", type=Path, default=DEFAULT_SHARED, help="reference data folder (default: ../shared/data)"
    )
    parser.add_argument("--exceptions", type=Path, default=DEFAULT_EXCEPTIONS, help="recorded exceptions (TOML)")
    parser.add_argument("--verbose", "-v", action="store_true", help="list every match and every title not found")
    args = parser.parse_args(argv)

    shared: Path = args.shared
    if not shared.is_dir():
        print(f"skipped: {_shown(shared)} not found (the fact-check needs the shared reference data)")
        return 0
    try:
        exceptions = load_exceptions(args.exceptions)
    except ExceptionsInvalid as exc:
        print(f"cannot fact-check: {exc}", file=sys.stderr)
        return 2
    catalog_path = Path(args.catalog)
    invalid = False
    try:
        catalog = read_catalog(catalog_path)
        root = catalog_path if catalog_path.is_dir() else catalog_path.parent  # catalog.film_files: relative to it
        films, film_files = catalog.films, {slug: _display(root / name) for slug, name in catalog.film_files.items()}
    except CatalogInvalid as exc:
        invalid = True
        print(f"warning: {exc} (run `filmclub catalog check`); checking the films that are valid on their own:")
        for error in exc.errors:
            print(f"  {error}")
        films, film_files = read_films_leniently(catalog_path) if catalog_path.exists() else ([], {})
        if not films:
            print("cannot fact-check: no valid films")
            return 2

    started = time.perf_counter()
    reference = load_reference(shared)
    loaded = time.perf_counter() - started
    print(f"fact-check of {_shown(catalog_path)} against {_shown(shared)}")
    print(f"reference: {reference.describe() or 'no records'} (loaded in {loaded:.1f} s)")
    for note in reference.notes:
        print(f"note: {note}")
    report = check_catalog(films, film_files, reference, exceptions)
    for line in format_report(report, verbose=args.verbose):
        print(line)
    if invalid:
        print("the catalog itself is invalid (see the warning above): exit status 2")
        return 2
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
