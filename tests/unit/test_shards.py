"""Shards: Discord's routing formula, the SHARD_COUNT / SHARD_IDS / DATABASE_URL settings, and the start-up refusals
that keep SQLite to one process running every shard."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.__main__ import main
from bot.core import config, picks, polls, screenings
from bot.core.catalog import load_catalog
from bot.core.clock import Clock
from bot.core.films import active_films
from bot.core.shards import ShardSet, format_shard_ids, parse_shard_ids, shard_of
from bot.core.timers import Timer, TimerService
from bot.db.database import Database
from bot.db.exclusive import DatabaseInUse, exclusive_use
from bot.exit_codes import EXIT_USAGE
from bot.settings import Settings
from tests.catalog_builder import starter_catalog


def guild_on(shard: int, count: int, serial: int = 1) -> int:
    """A server id whose creation-time bits put it on ``shard`` of ``count``."""
    return ((serial * count + shard) << 22) | 0x3FFFFF


def settings_error(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as raised:
        Settings()
    (error,) = raised.value.errors()
    return f"{'.'.join(map(str, error['loc'])).upper()}: {error['msg']}"


def test_shard_of_is_discords_formula() -> None:
    # The snowflake of Discord's documentation: its timestamp bits, 41944705796, are 4 modulo 16.
    assert shard_of(175928847299117063, 16) == 4
    assert shard_of(guild_on(3, 8), 8) == 3
    assert shard_of(guild_on(0, 1), 1) == 0
    assert [shard_of(guild_on(s, 5, serial=7), 5) for s in range(5)] == [0, 1, 2, 3, 4]


def test_a_shard_set_owns_the_servers_of_its_shards_and_describes_itself() -> None:
    half = ShardSet(4, (0, 1))
    assert half.owns(guild_on(1, 4)) and not half.owns(guild_on(2, 4))
    assert not half.is_every_shard
    assert half.describe() == "shards 0-1 of 4"
    assert ShardSet.every().describe() == "shard 0 of 1" and ShardSet.every().is_every_shard
    assert ShardSet(8, (0, 2, 5, 6, 7)).describe() == "shards 0, 2, 5-7 of 8"
    with pytest.raises(ValueError, match="out of range"):
        ShardSet(2, (2,))


@pytest.mark.parametrize(
    ("text", "count", "expected"),
    [("0-3", 4, (0, 1, 2, 3)), ("0,2,5", 6, (0, 2, 5)), ("4-7", 8, (4, 5, 6, 7)), (" 7 , 0 - 1 ", 8, (0, 1, 7))],
)
def test_shard_ids_are_read_as_ids_and_ranges(text: str, count: int, expected: tuple[int, ...]) -> None:
    assert parse_shard_ids(text, count) == expected
    assert parse_shard_ids(format_shard_ids(expected), count) == expected


def test_settings_default_to_one_shard_and_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings()
    assert (settings.shard_count, settings.shard_ids, settings.database_url) == (1, (0,), None)
    monkeypatch.setenv("SHARD_COUNT", "4")
    assert Settings().shard_ids == (0, 1, 2, 3)  # unset SHARD_IDS: every shard
    monkeypatch.setenv("SHARD_IDS", "")
    assert Settings().shard_ids == (0, 1, 2, 3)  # empty, as in a .env line `SHARD_IDS=`
    monkeypatch.setenv("SHARD_IDS", "2-3")
    assert Settings().shards == ShardSet(4, (2, 3))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SHARD_COUNT": "4", "SHARD_IDS": "4"}, "SHARD_IDS: Value error, shard 4 is out of range: with SHARD_COUNT=4"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "2-9"}, "shard 9 is out of range"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0-999999999999"}, "shard 999999999999 is out of range"),
        ({"SHARD_COUNT": "8", "SHARD_IDS": "5-2"}, "the range '5-2' runs backwards: write 2-5"),
        ({"SHARD_COUNT": "8", "SHARD_IDS": "1,2,1"}, "shard 1 is listed twice"),
        ({"SHARD_COUNT": "8", "SHARD_IDS": "0-3,2"}, "shard 2 is listed twice"),
        ({"SHARD_COUNT": "8", "SHARD_IDS": "0,,2"}, "has an empty item"),
        ({"SHARD_COUNT": "8", "SHARD_IDS": "0,"}, "has an empty item"),
        ({"SHARD_COUNT": "8", "SHARD_IDS": "one"}, "'one' is not a shard id or a range like 0-3"),
        ({"SHARD_COUNT": "8", "SHARD_IDS": "-1"}, "'-1' is not a shard id"),
        ({"SHARD_COUNT": "8", "SHARD_IDS": "[0, 1]"}, "'[0' is not a shard id"),
        ({"SHARD_COUNT": "8", "SHARD_IDS": "0," * 600}, "characters long (at most 1000)"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT: Input should be greater than or equal to 1"),
        ({"SHARD_COUNT": "1000000"}, "SHARD_COUNT: Input should be less than or equal to 100000"),
        ({"SHARD_COUNT": "two"}, "SHARD_COUNT: Input should be a valid integer"),
    ],
)
def test_bad_shard_settings_say_what_is_wrong(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    assert message in settings_error(monkeypatch, **env)


def test_database_url_must_be_postgresql_and_stays_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://filmclub:hunter2@db.example/filmclub")
    settings = Settings()
    assert settings.database_url is not None
    assert settings.database_url.get_secret_value() == "postgresql://filmclub:hunter2@db.example/filmclub"
    assert "hunter2" not in repr(settings)
    monkeypatch.setenv("DATABASE_URL", "postgres://db.example/filmclub")  # asyncpg's other spelling
    assert Settings().database_url is not None
    monkeypatch.setenv("DATABASE_URL", "")
    assert Settings().database_url is None
    message = settings_error(monkeypatch, DATABASE_URL="mysql://filmclub:hunter2@db.example/filmclub")
    assert message == (
        "DATABASE_URL: Value error, must start with postgresql:// (it has mysql://); for SQLite leave it unset"
    )
    assert "hunter2" not in message
    assert "no scheme" in settings_error(monkeypatch, DATABASE_URL="filmclub.db")


def test_the_database_lock_admits_one_holder_and_names_it(tmp_path: Path) -> None:
    database = tmp_path / "club.db"
    with exclusive_use(database) as lock:
        assert lock == tmp_path / "club.db.lock"
        with pytest.raises(DatabaseInUse) as refused, exclusive_use(database):
            pass
        assert refused.value.holder == os.getpid()
        assert refused.value.lock_path == lock
    with exclusive_use(database):  # released when its holder let go (the kernel does it for a dead process too)
        pass


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], **env: str) -> tuple[int, str]:
    monkeypatch.setenv("DISCORD_TOKEN", "a.b.c")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["run"])
    return code, capsys.readouterr().err


def test_run_refuses_sqlite_for_only_some_shards(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, err = run_cli(monkeypatch, capsys, SHARD_COUNT="2", SHARD_IDS="0", DATABASE_PATH=str(tmp_path / "club.db"))
    assert code == EXIT_USAGE
    assert err.count("\n") == 1, err
    assert "only shard 0 of 2" in err and "SQLite serves one process" in err and "DATABASE_URL" in err
    assert not (tmp_path / "club.db").exists()


def test_run_refuses_a_second_process_on_the_sqlite_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    database = tmp_path / "club.db"
    with exclusive_use(database):
        code, err = run_cli(monkeypatch, capsys, DATABASE_PATH=str(database))
    assert code == EXIT_USAGE
    assert err.count("\n") == 1, err
    assert f"another filmclub (process {os.getpid()}) is running on {database}" in err
    assert f"{database}.lock" in err


# -- start-up covers only the servers of this process's shards --------------------------------------------------------

SHARD_0, SHARD_1 = guild_on(0, 2), guild_on(1, 2)
FIRST, SECOND = ShardSet(2, (0,)), ShardSet(2, (1,))


@pytest.fixture
async def films(db: Database, tmp_path: Path) -> list[int]:
    await load_catalog(db, starter_catalog(tmp_path / "catalog"))
    return [f.id for f in await active_films(db)]


async def test_start_up_re_arms_polls_of_its_own_shards_only(
    db: Database, clock: Clock, timers: TimerService, films: list[int]
) -> None:
    made = {
        guild: await polls.create_poll(
            db,
            clock,
            timers,
            guild_id=guild,
            channel_id=guild + 1,
            creator_id=7,
            title="Friday",
            film_ids=films[:2],
            closes_at=clock.now() + timedelta(days=2),
        )
        for guild in (SHARD_0, SHARD_1)
    }
    await db.execute("DELETE FROM timers")  # as if both processes died before arming them
    assert await polls.rearm_open_polls(db, clock, timers, SECOND) == 2  # close and publish
    assert await timers.pending(polls.CLOSE_TIMER, str(made[SHARD_1].id)) is not None
    assert await timers.pending(polls.CLOSE_TIMER, str(made[SHARD_0].id)) is None  # shard 0's process re-arms it
    assert await polls.rearm_open_polls(db, clock, timers, FIRST) == 2
    assert await timers.pending(polls.CLOSE_TIMER, str(made[SHARD_0].id)) is not None

    await db.execute("UPDATE polls SET message_id = id + 1000")
    assert [p.guild_id for p in await polls.posted_open_polls(db, FIRST)] == [SHARD_0]
    assert [p.guild_id for p in await polls.posted_open_polls(db, ShardSet.every(2))] == [SHARD_0, SHARD_1]


async def test_start_up_schedules_weekly_picks_of_its_own_shards_only(
    db: Database, clock: Clock, timers: TimerService, films: list[int]
) -> None:
    del films
    for guild in (SHARD_0, SHARD_1):
        await config.set_channel(db, clock, timers, guild, 7, config.ChannelKind.PICKS, guild + 1)
        await config.set_picks(db, clock, timers, guild, 7, day=4, at="20:00")
    await db.execute("DELETE FROM timers")
    assert await picks.ensure_scheduled(db, clock, timers, SECOND) == 1
    assert [t.payload["guild_id"] for t in await pending_of(db, timers, picks.TIMER_KIND)] == [SHARD_1]
    assert await picks.ensure_scheduled(db, clock, timers, ShardSet.every(2)) == 1  # shard 0's, now


async def test_start_up_re_arms_screenings_of_its_own_shards_only(
    db: Database, clock: Clock, timers: TimerService, films: list[int]
) -> None:
    planned = {
        guild: await screenings.plan_screening(
            db,
            clock,
            timers,
            guild_id=guild,
            film_id=films[0],
            starts_at=clock.now() + timedelta(days=1),
            announce_channel_id=guild + 1,
            location="the back room",
        )
        for guild in (SHARD_0, SHARD_1)
    }
    await db.execute("DELETE FROM timers")
    assert await screenings.rearm_screenings(db, clock, timers, FIRST) == 1
    assert await timers.pending(screenings.EVENT_TIMER, str(planned[SHARD_0].id)) is not None
    assert await timers.pending(screenings.EVENT_TIMER, str(planned[SHARD_1].id)) is None


async def pending_of(db: Database, timers: TimerService, kind: str) -> list[Timer]:
    keys = [row[0] for row in await db.fetchall("SELECT key FROM timers WHERE kind = ? ORDER BY key", (kind,))]
    found = [await timers.pending(kind, key) for key in keys]
    return [timer for timer in found if timer is not None]
