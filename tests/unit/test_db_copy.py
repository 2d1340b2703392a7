"""``filmclub db copy``: a club filled through the real features goes SQLite -> PostgreSQL -> SQLite with nothing lost;
a target that holds anything is refused; what the command prints. The target is each backend in turn
(``empty_db_target``), so SQLite -> SQLite is proven too."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.core import (
    attendance,
    collections,
    config,
    hosts,
    letterboxd_follow,
    nights,
    nominations,
    picks,
    polls,
    reviews,
    screenings,
    season_polls,
    seasons,
    server_films,
    watch,
    web_pages,
)
from bot.core.catalog import load_catalog
from bot.core.details import FilmDetailsService
from bot.core.films import build_title_index, list_themes
from bot.core.guilds import get_settings
from bot.core.recommend import Recommender
from bot.core.search import ClubTitles
from bot.core.server_films import ServerFilmEntry
from bot.core.timers import TimerService
from bot.db.copy import TRIGGER_FILLED, CopyRefused, CopyReport, TableCheck, copy_database
from bot.db.database import Database, open_database
from bot.exit_codes import EXIT_FAILED, EXIT_OK
from bot.services.tmdb import TmdbClient
from tests.catalog_builder import film, theme, to_toml, write_catalog
from tests.clocks import StepClock
from tests.letterboxd_feeds import ScriptedFeed, entry, ok
from tests.letterboxd_files import LIST_HEADER, RATINGS_HEADER, club_titles, csv_bytes, import_file
from tests.tmdb_double import TmdbDouble
from tests.unit.test_cli import cli

GUILD, OTHER_GUILD = 1 << 60, 42  # a real Discord id needs 64 bits
MAYA, ALICE, BOB = 1 << 59, 11, 12
CHANNEL, VOICE = 500, 600


async def fill_club(db: Database, folder: Path, tmdb: TmdbDouble) -> None:
    """A club that has used every feature, written through the features themselves."""
    clock = StepClock()
    timers = TimerService(db, clock)
    films = [film(f"noir-{n}", title=f"Nuit {n} — «Ça tourne»", themes=["noir"]) for n in range(1, 5)]
    films += [
        film(f"road-{n}", title=f"Road {n}", year=2000, themes=["road"], directors=["Agnès Varda"]) for n in range(1, 4)
    ]
    catalog = {"themes.toml": to_toml(themes=[theme("noir"), theme("road")]), "films.toml": to_toml(films=films)}
    await load_catalog(db, write_catalog(folder, catalog))
    ids = {row["slug"]: row["id"] for row in await db.fetchall("SELECT id, slug FROM films")}

    await config.set_channel(db, clock, timers, GUILD, MAYA, config.ChannelKind.PICKS, CHANNEL)
    await config.set_channel(db, clock, timers, GUILD, MAYA, config.ChannelKind.POLLS, CHANNEL)
    await config.set_channel(db, clock, timers, GUILD, MAYA, config.ChannelKind.THREADS, CHANNEL)
    await config.set_timezone(db, clock, timers, GUILD, MAYA, "Europe/Paris")
    await config.set_picks(db, clock, timers, GUILD, MAYA, day=4, at="20:00", count=2)
    await config.set_night(
        db,
        clock,
        timers,
        GUILD,
        MAYA,
        day=5,
        at="20:30",
        channel_id=CHANNEL + 1,
        thread_after=15,
        archive_days=7,
        attendance_share=60,
    )  # the columns copy too

    await reviews.rate(db, clock, guild_id=GUILD, user_id=ALICE, film_id=ids["noir-1"], stars=4.5, body="Très bien 🎬")
    await reviews.rate(
        db, clock, guild_id=GUILD, user_id=BOB, film_id=ids["noir-1"], stars=2, body="||x||", spoiler=True
    )
    await reviews.rate(db, clock, guild_id=GUILD, user_id=BOB, film_id=ids["road-1"], stars=3.5)
    await reviews.rate(db, clock, guild_id=OTHER_GUILD, user_id=ALICE, film_id=ids["road-2"], stars=5)
    await reviews.record_post(
        db, guild_id=GUILD, user_id=ALICE, film_id=ids["noir-1"], channel_id=CHANNEL, message_id=9
    )
    await reviews.delete_review(
        db, clock, guild_id=GUILD, film_id=ids["road-1"], author_id=BOB, actor_id=MAYA, actor_is_moderator=True
    )
    await watch.add_to_watchlist(db, clock, GUILD, ALICE, ids["road-3"])
    await watch.mark_watched(db, clock, GUILD, BOB, ids["noir-2"])
    await watch.mark_club_watched(db, clock, GUILD, ids["noir-3"])
    collection = await collections.create_collection(db, clock, guild_id=GUILD, user_id=MAYA, name="Friday Noir")
    await collections.add_film(db, clock, collection=collection, film_id=ids["noir-4"], user_id=MAYA)
    await Recommender(db).remember_group(GUILD, {ALICE: "Alice", BOB: "Bob"})
    noir = next(t for t in await list_themes(db) if t.slug == "noir")
    await seasons.create_season(
        db,
        clock,
        timers,
        guild_id=GUILD,
        user_id=MAYA,
        theme=noir,
        weeks=2,
        start="3d",
        timezone="Europe/Paris",
        notes="« Nuit » first",
    )
    # A poll season in the other server, with its first week's poll opened by the week's timer (season_polls).
    await config.set_channel(db, clock, timers, OTHER_GUILD, MAYA, config.ChannelKind.POLLS, CHANNEL)
    road = next(t for t in await list_themes(db) if t.slug == "road")
    by_poll = await seasons.create_season(
        db,
        clock,
        timers,
        guild_id=OTHER_GUILD,
        user_id=MAYA,
        theme=road,
        weeks=2,
        start="1d",
        timezone="UTC",
        mode=seasons.Mode.POLL,
    )
    week_1 = await season_polls.open_week_poll(db, clock, timers, by_poll.id, 1, creator_id=MAYA)
    assert week_1.poll_id is not None
    # The regular night (0021): its event, then a film filling it.
    kept = await nights.keep_night(db, clock, timers, GUILD)
    assert kept.night is not None
    await nights.record_event(db, kept.night.id, 8050)
    filled = await nights.fill_next_night(
        db, clock, timers, guild_id=GUILD, film_id=ids["road-2"], announce_channel_id=CHANNEL
    )
    assert filled is not None

    index = await build_title_index(db)
    ratings = csv_bytes(RATINGS_HEADER, "2024-01-02,Road 3,2000,https://boxd.it/abc,4")
    assert (await import_file(db, index, "ratings.csv", ratings, guild_id=GUILD, user_id=BOB)).ratings_added == 1
    watched = csv_bytes(LIST_HEADER, "2024-01-03,Home Video,1999,https://boxd.it/d")  # not in the catalog
    added = await import_file(db, index, "watched.csv", watched, guild_id=GUILD, user_id=BOB)
    assert added.added == ("Home Video (1999)",)  # the server's own film, made by the import

    chosen = await picks.choose(db, await get_settings(db, GUILD), "2026-W10")
    assert chosen is not None
    post = await picks.claim(db, clock, chosen, trigger="now", channel_id=CHANNEL, requested_by=MAYA)
    assert post is not None
    await picks.mark_posted(db, clock, post.id, 7000)

    poll = await polls.create_poll(
        db,
        clock,
        timers,
        guild_id=GUILD,
        channel_id=CHANNEL,
        creator_id=MAYA,
        title="Friday’s film",
        film_ids=[ids["noir-2"], ids["road-2"]],
        closes_at=clock.now() + timedelta(days=1),
    )
    await polls.attach_message(db, poll.id, 8000)
    for user in (ALICE, BOB):
        await polls.vote(db, clock, poll_id=poll.id, guild_id=GUILD, user_id=user, role_ids=(), film_id=ids["noir-2"])
    await polls.close_poll(db, clock, poll.id)
    for volunteer in (ALICE, BOB):  # the host rota (0023): the screening gets Alice, who offers her turn to Bob
        await hosts.join(db, clock, GUILD, volunteer)
    screening = await screenings.plan_screening(
        db,
        clock,
        timers,
        guild_id=GUILD,
        film_id=ids["noir-2"],
        starts_at=clock.now() + timedelta(days=2),
        announce_channel_id=CHANNEL,
        channel_id=VOICE,
        poll_id=poll.id,
    )
    # Its event and discussion thread (0019's columns), with the timer that archives the thread.
    screening = await screenings.attach_event(db, clock, timers, screening.id, 8100)
    offer = await hosts.offer_swap(db, clock, GUILD, ALICE, BOB)
    assert await hosts.answer_swap(db, clock, offer.id, BOB, hosts.Answer.DECLINE) == []
    await screenings.record_thread(db, screening.id, 8200)
    await screenings.archive_thread_later(timers, screening, 8200, screening.starts_at, 3)
    # Attendance: the screening runs (the clock jumps to its start), two members come, one stays to the end.
    clock.moment = screening.starts_at
    await screenings.mark_started(db, clock, screening.id)
    await attendance.reconcile(db, clock, screening.id, [ALICE, BOB])
    await attendance.voice_moved(db, clock, BOB, VOICE, None)
    clock.moment = screening.ends_at
    running = await screenings.require_screening(db, screening.id)
    assert [a.user_id for a in await attendance.finish(db, clock, running, 50)] == [ALICE]

    # The server's own film (entered with its nomination), nominations of every kind, and TMDb's cached answers.
    settings = (await config.set_nominations(db, clock, timers, GUILD, MAYA, approval=True, limit=5)).settings
    home = await nominations.nominate_new(
        db,
        clock,
        index,
        settings,
        ServerFilmEntry("Home Movie", 2001, ("Ann Example",), tmdb_id=77),
        ALICE,
        manage_guild=False,
        role_ids=(),
    )
    assert home.created_film and home.nomination.status == "pending"
    [imported] = await server_films.add_server_films(
        db, clock, index, GUILD, BOB, [ServerFilmEntry("Imported «Film»", 1999, letterboxd_uri="https://boxd.it/x")]
    )
    assert imported.created and imported.film is not None
    banned = await nominations.nominate(db, clock, settings, imported.film.id, BOB, manage_guild=False, role_ids=())
    await nominations.decide(
        db, clock, settings, banned.nomination.id, nominations.Action.BAN, MAYA, manage_guild=True, role_ids=()
    )
    approved = await nominations.nominate(db, clock, settings, ids["road-1"], BOB, manage_guild=False, role_ids=())
    await nominations.decide(
        db, clock, settings, approved.nomination.id, nominations.Action.APPROVE, MAYA, manage_guild=True, role_ids=()
    )
    # Letterboxd, live (0027): Alice links her account with both opt-ins; her feed's entries are handled and a diary
    # post is queued for the second, new one.
    await config.set_channel(db, clock, timers, GUILD, MAYA, config.ChannelKind.DIARY, CHANNEL)
    await letterboxd_follow.link_account(db, clock, timers, GUILD, ALICE, "alice", diary=True, import_entries=True)
    # Unrated: the films are marked seen, and the reviews' count below stays the file import's.
    feed = ScriptedFeed(
        ok(entry("g1", "Road 2", 2000, rating=None)), ok(entry("g2", "Road 3", 2000, rating=None, review="Road."))
    )

    async def titles_for(guild_id: int) -> ClubTitles:
        return await club_titles(db, guild_id)

    for _ in range(2):
        await letterboxd_follow.check_feed(db, clock, feed, titles_for, GUILD, ALICE, interval=timedelta(minutes=30))
    # The club's public web page, with members' names shown.
    await web_pages.configure(db, clock, GUILD, MAYA, public=True, show_members=True)

    details = FilmDetailsService(db, clock, TmdbClient(SecretStr(tmdb.api_key), base_url=tmdb.api_base))
    try:
        assert (await details.details(77)).details is None  # TMDb has no such film: remembered as such
        assert (await details.details(348)).details is not None
        assert await details.search("Home Movie", 2001) == []
    finally:
        await details.close()


@pytest.fixture
async def club(tmp_path: Path, tmdb_double: TmdbDouble) -> Path:
    path = tmp_path / "source.db"  # not club.db: db_target[sqlite] is tmp_path / "club.db"
    async with await open_database(path) as db:
        await db.migrate()
        await fill_club(db, tmp_path / "catalog", tmdb_double)
    return path


async def copy(source: str | Path, target: str | Path) -> CopyReport:
    async with await open_database(source) as source_db, await open_database(target) as target_db:
        return await copy_database(source_db, target_db)


def digests(report: CopyReport, side: str) -> dict[str, tuple[int, str]]:
    return {check.table: (getattr(check, f"{side}_rows"), getattr(check, f"{side}_digest")) for check in report.tables}


async def test_a_club_goes_there_and_back_with_every_row(
    club: Path, empty_db_target: str | Path, tmp_path: Path
) -> None:
    there = await copy(club, empty_db_target)
    back = await copy(empty_db_target, tmp_path / "back.db")

    assert there.matches and back.matches
    empty = [check.table for check in there.tables if check.source_rows == 0]
    assert empty == [], "the club should use every table, so that the round trip proves each one"
    assert digests(back, "target") == digests(there, "source")
    async with await open_database(tmp_path / "back.db") as db:
        body = await db.fetchval("SELECT body FROM reviews WHERE guild_id = ? AND user_id = ?", (GUILD, ALICE))
        assert body == "Très bien 🎬"


async def test_new_rows_get_ids_after_the_copied_ones(club: Path, empty_db_target: str | Path) -> None:
    await copy(club, empty_db_target)
    async with await open_database(empty_db_target) as db:
        largest = await db.fetchval("SELECT max(id) FROM timers")
        row = await db.fetchone_write(
            "INSERT INTO timers (kind, key, due_at, created_at) VALUES ('test', 'x', 'then', 'now') RETURNING id"
        )
    assert row[0] == largest + 1


async def test_a_target_with_any_row_is_refused_and_left_as_it_was(
    club: Path, db: Database, db_target: str | Path
) -> None:
    await db.execute("INSERT INTO guild_settings (guild_id) VALUES (7)")

    with pytest.raises(CopyRefused, match="table guild_settings has rows"):
        await copy(club, db_target)
    assert await db.fetchval("SELECT count(*) FROM films") == 0


async def test_the_command_prints_each_table_and_refuses_a_second_copy(
    club: Path, empty_db_target: str | Path, tmp_path: Path
) -> None:
    target = str(empty_db_target)
    copied = await asyncio.to_thread(cli, "db", "copy", str(club), target, cwd=tmp_path)
    assert copied.returncode == EXIT_OK, copied.stderr
    lines = copied.stdout.splitlines()
    assert lines[0].split() == ["table", "source", "rows", "target", "rows", "sha256", "(first", "12)"]
    reviews_line = next(line.split() for line in lines if line.startswith("reviews "))
    assert reviews_line[1:3] == ["4", "4"]  # four rated, one removed, one imported from Letterboxd
    assert reviews_line[-1] == "same"
    assert lines[-1] == "every table matches"
    assert f"from SQLite {club} to " in lines[-2]
    assert lines[-2].endswith(target)

    again = await asyncio.to_thread(cli, "db", "copy", str(club), target, cwd=tmp_path)
    assert again.returncode == EXIT_FAILED
    assert "is not empty (table attendance has rows)" in again.stderr  # the first table, by name
    assert "nothing was copied" in again.stderr


def test_a_table_that_differs_is_named_and_fails_the_copy() -> None:
    report = CopyReport(
        "SQLite a.db",
        "PostgreSQL postgresql://u:***@h/db",
        (TableCheck("films", 3, 3, "a" * 64, "a" * 64), TableCheck("reviews", 3, 2, "b" * 64, "c" * 64)),
    )
    assert not report.matches
    shown = report.describe().splitlines()
    assert shown[2].split()[-2:] == ["cccccccccccc", "DIFFERENT"]
    assert shown[-1] == "MISMATCH in 1 tables: reviews"


async def test_the_tables_copied_last_are_exactly_those_triggers_fill(tmp_path: Path) -> None:
    async with await open_database(tmp_path / "schema.db") as db:
        await db.migrate()
        bodies = [row[0] for row in await db.fetchall("SELECT sql FROM sqlite_master WHERE type = 'trigger'")]
    filled = {match for body in bodies for match in re.findall(r"INSERT INTO (\w+)", body)}
    assert filled == set(TRIGGER_FILLED)
