"""Letterboxd export files for tests, built in memory the way Letterboxd writes them, and the real export.

One place for the column headers and the CSV and zip builders, so the import, export and merge tests upload the same
kind of file, and for finding the real export in ``../shared/data``.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from bot.core import letterboxd
from bot.core.clock import Clock
from bot.core.films import ServerTitles, build_title_index
from bot.core.search import ClubTitles, TitleIndex
from bot.db.database import Database
from tests.clocks import StepClock

RATINGS_HEADER = "Date,Name,Year,Letterboxd URI,Rating"
REVIEWS_HEADER = "Date,Name,Year,Letterboxd URI,Rating,Rewatch,Review,Tags,Watched Date"
DIARY_HEADER = "Date,Name,Year,Letterboxd URI,Rating,Rewatch,Tags,Watched Date"
LIST_HEADER = "Date,Name,Year,Letterboxd URI"

#: The folder of a real member's export (public, with its quirks) in the shared datasets.
REAL_EXPORT = "letterboxd-export-patrickmjones"


def csv_bytes(header: str, *rows: str, bom: bool = False, crlf: bool = False) -> bytes:
    """A CSV file as Letterboxd ships it: UTF-8, a header line, one line a row (``bom``/``crlf`` as Excel saves it)."""
    ending = "\r\n" if crlf else "\n"
    text = ending.join([header, *rows]) + ending
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def zip_bytes(files: dict[str, bytes], *, level: int = 6) -> bytes:
    """A deflated zip of ``{path inside the zip: bytes}``; ``level`` 1 to 9 trades size for speed (bomb tests)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


async def import_file(
    db: Database,
    index: TitleIndex | ClubTitles,
    filename: str,
    data: bytes,
    *,
    guild_id: int,
    user_id: int,
    clock: Clock | None = None,
    unmatched: letterboxd.Unmatched = letterboxd.Unmatched.ADD,
) -> letterboxd.ImportResult:
    """Import one upload as /letterboxd import does; by default on a fresh clock that moves on at every reading, so
    nothing may depend on when a file was imported. Pass the server's titles (:func:`club_titles`) for the films it
    has of its own to be matched by title; the import finds those of the same title and year anyway."""
    return await letterboxd.import_export(
        db,
        clock or StepClock(),
        index,
        guild_id=guild_id,
        user_id=user_id,
        filename=filename,
        data=data,
        unmatched=unmatched,
    )


async def club_titles(db: Database, guild_id: int) -> ClubTitles:
    """What the bot's ``titles_for`` gives: the curated catalog's index and the server's own films', fresh."""
    return await ServerTitles(db).for_guild(await build_title_index(db), guild_id)


def real_export(shared_data: Path) -> Path:
    """The real export's folder, or a skip that says where it was looked for."""
    folder = shared_data / REAL_EXPORT
    if not folder.is_dir():
        pytest.skip(f"the Letterboxd export is not at {folder}")
    return folder
