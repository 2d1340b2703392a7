"""``filmclub catalog enrich``: TMDb ids proposed for the curated films that have none, as a report to review, and
written into the catalog files only when asked (``--write``).

A film gets a proposal only when TMDb leaves no doubt: its title (or original or alternative title) and year (one
year either way, for festival and release dates) match exactly one TMDb film whose directors include one of the
film's; the same year beats a neighbouring one. Two such films, a director who differs, a TMDb entry without
directors, or an id another film already has: reported, never written. Series are skipped (TMDb keeps them apart from
films, under other ids).

Writing edits the TOML text in place: a ``tmdb_id = N`` line goes after the film's ``imdb`` line (or its ``year``
line), with the same indentation, so comments and layout stay as the curators left them. The files are checked again
afterwards, and restored if the result is not the catalog expected.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from bot.core.catalog import SERIES_KINDS, Catalog, FilmEntry, read_catalog
from bot.core.details import DetailsRefused, DetailsSource, DetailsUnavailable, FilmCandidate
from bot.core.errors import CatalogInvalid
from bot.core.text import fold, normalise_title

log = logging.getLogger(__name__)

#: Candidates whose directors are checked (each a details request); more than this matching one title and year is
#: already too many to choose from.
MAX_CHECKED = 5
#: Films looked up at once (the client's rate limit keeps TMDb's pace).
CONCURRENCY = 4


class Verdict(StrEnum):
    MATCH = "match"
    AMBIGUOUS = "ambiguous"
    DOUBTFUL = "doubtful"
    NOT_FOUND = "not found"
    TAKEN = "taken"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class Proposal:
    """What enrich found for one film: a ``tmdb_id`` only for :attr:`Verdict.MATCH` (and :attr:`Verdict.TAKEN`, the
    id another film has)."""

    slug: str
    file: str  # relative to the catalog's folder
    verdict: Verdict
    tmdb_id: int | None = None
    reason: str = ""
    candidates: tuple[FilmCandidate, ...] = ()

    def describe(self, shown_file: str | None = None) -> str:
        where = f"{shown_file or self.file}: film '{self.slug}'"
        if self.verdict is Verdict.MATCH:
            return f"{where}: tmdb_id = {self.tmdb_id} ({self.reason})"
        listed = ", ".join(f"{candidate.tmdb_id} {candidate.label}" for candidate in self.candidates)
        return f"{where}: {self.verdict}: {self.reason}" + (f" [{listed}]" if listed else "")


@dataclass
class EnrichReport:
    """Every film's proposal, and how many films already had an id."""

    proposals: list[Proposal] = field(default_factory=list)
    already: int = 0

    @property
    def matches(self) -> list[Proposal]:
        return [proposal for proposal in self.proposals if proposal.verdict is Verdict.MATCH]

    def counts(self) -> Counter[Verdict]:
        return Counter(proposal.verdict for proposal in self.proposals)

    def summary(self) -> str:
        counts = self.counts()
        parts = [f"{counts[Verdict.MATCH]} ids proposed"] + [
            f"{counts[verdict]} {verdict}" for verdict in Verdict if verdict is not Verdict.MATCH and counts[verdict]
        ]
        return f"{', '.join(parts)}; {self.already} films already have one"


def _person(name: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", fold(name)).split())


def _titles(entry: FilmEntry) -> set[str]:
    return {normalise_title(title) for title in (entry.title, *entry.alt_titles)}


def _same_film(candidate: FilmCandidate, titles: set[str], year: int) -> bool:
    named = normalise_title(candidate.title) in titles or (
        bool(candidate.original_title) and normalise_title(candidate.original_title) in titles
    )
    return named and candidate.year is not None and abs(candidate.year - year) <= 1


async def propose(entry: FilmEntry, file: str, source: DetailsSource) -> Proposal:
    """The proposal for one film (see the module for the rules). Raises :class:`DetailsRefused` (a bad key: every
    other film would fail the same way); any other failure of the source is a :attr:`Verdict.FAILED` proposal."""
    if entry.kind in SERIES_KINDS:
        return Proposal(entry.slug, file, Verdict.SKIPPED, reason=f"a {entry.kind}: TMDb keeps series apart")
    try:
        return await _propose(entry, file, source)
    except DetailsRefused:
        raise
    except DetailsUnavailable as error:
        return Proposal(entry.slug, file, Verdict.FAILED, reason=f"TMDb did not answer ({error})")


async def _propose(entry: FilmEntry, file: str, source: DetailsSource) -> Proposal:
    titles = _titles(entry)
    found: list[FilmCandidate] = []
    for query in (entry.title, *entry.alt_titles):  # the title, else the other titles members know it by
        found = [c for c in await source.search(query, None) if _same_film(c, titles, entry.year)]
        if found:
            break
    if not found:  # a title common enough to push this film off the first page: narrow by year
        found = [c for c in await source.search(entry.title, entry.year) if _same_film(c, titles, entry.year)]
    if not found:
        return Proposal(entry.slug, file, Verdict.NOT_FOUND, reason="no TMDb film with this title and year")
    same_year = [candidate for candidate in found if candidate.year == entry.year]
    pool = same_year or found
    if len(pool) > MAX_CHECKED:
        return Proposal(
            entry.slug, file, Verdict.AMBIGUOUS, reason=f"{len(pool)} TMDb films match", candidates=tuple(pool)
        )
    wanted = {_person(name) for name in entry.directors}
    agreeing: list[tuple[FilmCandidate, tuple[str, ...]]] = []
    others: list[str] = []
    for candidate in pool:
        details = await source.details(candidate.tmdb_id)
        directors = details.directors if details is not None else ()
        if wanted & {_person(name) for name in directors}:
            agreeing.append((candidate, directors))
        else:
            others.append(", ".join(directors) or "no director listed")
    if len(agreeing) == 1:
        [(chosen, directors)] = agreeing
        return Proposal(
            entry.slug, file, Verdict.MATCH, chosen.tmdb_id, f"{chosen.label}; {', '.join(directors)}", (chosen,)
        )
    if agreeing:
        candidates = tuple(candidate for candidate, _directors in agreeing)
        return Proposal(
            entry.slug, file, Verdict.AMBIGUOUS, reason=f"{len(agreeing)} TMDb films match", candidates=candidates
        )
    return Proposal(
        entry.slug,
        file,
        Verdict.DOUBTFUL,
        reason=f"title and year match but TMDb's director differs ({'; '.join(others)})",
        candidates=tuple(pool),
    )


async def propose_ids(
    catalog: Catalog,
    source: DetailsSource,
    *,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    concurrency: int = CONCURRENCY,
) -> EnrichReport:
    """Proposals for every film of ``catalog`` without a ``tmdb_id`` (the first ``limit`` of them), in catalog order.
    ``progress(done, total)`` is called as films are done."""
    lacking = [film for film in catalog.films if film.tmdb_id is None]
    if limit is not None:
        lacking = lacking[:limit]
    report = EnrichReport(already=sum(1 for film in catalog.films if film.tmdb_id is not None))
    gate = asyncio.Semaphore(concurrency)
    done = 0

    async def one(entry: FilmEntry) -> Proposal:
        nonlocal done
        async with gate:
            proposal = await propose(entry, catalog.film_files[entry.slug], source)
        done += 1
        if progress is not None:
            progress(done, len(lacking))
        return proposal

    tasks = [asyncio.create_task(one(entry)) for entry in lacking]
    try:
        proposals = await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
    report.proposals = _without_clashes(list(proposals), catalog)
    return report


def _without_clashes(proposals: list[Proposal], catalog: Catalog) -> list[Proposal]:
    """A proposed id that another film already has, or that two films were proposed, is :attr:`Verdict.TAKEN`."""
    owners = {film.tmdb_id: film.slug for film in catalog.films if film.tmdb_id is not None}
    proposed = Counter(proposal.tmdb_id for proposal in proposals if proposal.verdict is Verdict.MATCH)
    checked: list[Proposal] = []
    for proposal in proposals:
        if proposal.verdict is not Verdict.MATCH or proposal.tmdb_id is None:
            checked.append(proposal)
            continue
        if proposal.tmdb_id in owners:
            reason = f"TMDb film {proposal.tmdb_id} ({proposal.reason}) is already '{owners[proposal.tmdb_id]}'"
        elif proposed[proposal.tmdb_id] > 1:
            reason = f"TMDb film {proposal.tmdb_id} ({proposal.reason}) was proposed for several films"
        else:
            checked.append(proposal)
            continue
        taken = Proposal(proposal.slug, proposal.file, Verdict.TAKEN, proposal.tmdb_id, reason, proposal.candidates)
        checked.append(taken)
    return checked


# -- writing


_FILM_HEADER = re.compile(r"^\s*\[\[\s*film\s*\]\]\s*(#.*)?$")
_ANY_HEADER = re.compile(r"^\s*\[\[?\s*[A-Za-z_][\w.-]*\s*\]\]?\s*(#.*)?$")
_ID = re.compile(r"""^\s*id\s*=\s*(["'])([^"']+)\1\s*(#.*)?$""")
_KEY = re.compile(r"^(\s*)(year|imdb|tmdb_id)\s*=")


def insert_ids(text: str, ids: Mapping[str, int]) -> tuple[str, set[str]]:
    """``text`` (one catalog file) with a ``tmdb_id = N`` line added to each ``[[film]]`` whose ``id`` is in ``ids``
    and that has no ``tmdb_id`` yet: after its ``imdb`` line, else its ``year`` line. Returns the text and the ids of
    the films written; everything else is left byte for byte."""
    lines = text.splitlines(keepends=True)
    inserts: dict[int, str] = {}  # line index to insert after -> the line
    written: set[str] = set()
    block: dict[str, int] | None = None  # within a [[film]]: "year"/"imdb"/"tmdb_id" -> line index
    slug: str | None = None
    in_string: str | None = None  # the quotes of a multi-line string being read

    def close_block() -> None:
        if block is None or slug is None or slug not in ids or "tmdb_id" in block:
            return
        anchor = block.get("imdb", block.get("year"))
        if anchor is None:
            return
        indent = lines[anchor][: len(lines[anchor]) - len(lines[anchor].lstrip())]
        inserts[anchor] = f"{indent}tmdb_id = {ids[slug]}"
        written.add(slug)

    for index, line in enumerate(lines):
        if in_string is not None:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        for quotes in ('"""', "'''"):
            if line.count(quotes) % 2 == 1:
                in_string = quotes
                break
        if _FILM_HEADER.match(line):
            close_block()
            block, slug = {}, None
            continue
        if _ANY_HEADER.match(line):
            close_block()
            block, slug = None, None
            continue
        if block is None:
            continue
        if match := _ID.match(line):
            slug = match.group(2)
        elif (match := _KEY.match(line)) and match.group(2) not in block:
            block[match.group(2)] = index
    close_block()

    ending = "\r\n" if "\r\n" in text else "\n"
    out: list[str] = []
    for index, line in enumerate(lines):
        unbroken = index in inserts and not line.endswith(("\n", "\r"))  # the file's last line, without a break
        out.append(line + ending if unbroken else line)
        if index in inserts:
            out.append(inserts[index] + ending)
    return "".join(out), written


class WriteFailed(Exception):
    """Writing the ids would have left the catalog invalid or other than expected; every file was put back."""


@dataclass(frozen=True)
class WriteResult:
    files: tuple[str, ...]
    written: int


def write_ids(catalog_path: Path, proposals: Iterable[Proposal]) -> WriteResult:
    """Write the :attr:`Verdict.MATCH` proposals into the catalog files; check the catalog afterwards and put every
    file back as it was if it is not valid, or does not carry exactly the ids written."""
    root = catalog_path if catalog_path.is_dir() else catalog_path.parent
    by_file: dict[str, dict[str, int]] = {}
    for proposal in proposals:
        if proposal.verdict is Verdict.MATCH and proposal.tmdb_id is not None:
            by_file.setdefault(proposal.file, {})[proposal.slug] = proposal.tmdb_id
    originals: dict[Path, str] = {}
    expected: dict[str, int] = {}
    try:
        for name, ids in sorted(by_file.items()):
            path = root / name
            text = path.read_bytes().decode("utf-8")
            updated, written = insert_ids(text, ids)
            if not written:
                continue
            originals[path] = text
            _replace(path, updated)
            expected.update({slug: ids[slug] for slug in written})
        try:
            catalog = read_catalog(catalog_path)
        except CatalogInvalid as error:
            raise WriteFailed(f"the files would no longer be a valid catalog ({error})") from error
        found = {film.slug: film.tmdb_id for film in catalog.films if film.slug in expected}
        if found != expected:
            missing = sorted(slug for slug in expected if found.get(slug) != expected[slug])
            raise WriteFailed(f"the files would not carry the ids written for {', '.join(missing)}")
    except (WriteFailed, OSError):
        for path, text in originals.items():
            _replace(path, text)
        raise
    return WriteResult(tuple(sorted(str(path.relative_to(root)) for path in originals)), len(expected))


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file beside it: a crash leaves the old file or the new one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(text.encode("utf-8"))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
