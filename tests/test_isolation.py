"""The tests depend on nothing of the caller's: not the developer's ``.env``, not setting variables in the shell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SHIPPED_CATALOG, environment_variables
from tests.conftest import REPO
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.harness import BotProcess
from tests.tmdb_double import TmdbDouble

#: A value for every setting that would break the tests if it reached them.
HOSTILE = {
    "DISCORD_TOKEN": "hostile-token",
    "DATABASE_PATH": "/nonexistent/hostile.db",
    "DATABASE_URL": "postgresql://hostile:hostile@192.0.2.1:1/hostile",
    "CATALOG_PATH": "/nonexistent/hostile-catalog",
    "DEV_GUILD_ID": "1",
    "SYNC_COMMANDS": "false",
    "GUILD_READY_TIMEOUT": "59",
    "LOG_LEVEL": "CRITICAL",
    "PICKS_GRACE_HOURS": "0",
    "THREAD_ARCHIVE_DAYS": "29",
    "ATTENDANCE_SHARE": "10",
    "GUILD_DATA_GRACE_DAYS": "0.001",
    "LETTERBOXD_INTERVAL": "5",
    "DISCORD_TIMEOUT": "0.001",
    "DISCORD_API_BASE_URL": "http://127.0.0.1:9/hostile",
    "SHARD_COUNT": "7",
    "SHARD_IDS": "3",
    "TMDB_API_KEY": "hostile-tmdb-key",
    "TMDB_API_BASE_URL": "http://127.0.0.1:9/hostile-tmdb",
    "TMDB_IMAGE_BASE_URL": "http://127.0.0.1:9/hostile-images",
    "WATCH_REGION": "ZZ",
    "LETTERBOXD_BASE_URL": "http://127.0.0.1:9/hostile-letterboxd",
    "WEB_PORT": "9",
    "WEB_HOST": "192.0.2.1",
    "WEB_BASE_URL": "http://hostile.invalid",
    "WEB_RATE_LIMIT": "1",
}


def test_every_setting_has_a_hostile_value() -> None:
    assert set(HOSTILE) == set(environment_variables())


def test_the_bot_process_environment_pins_every_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in HOSTILE.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PYTHONPATH", "/nonexistent/hostile")
    monkeypatch.setenv("SOMETHING_FROM_THE_CALLERS_SHELL", "hostile")
    fake = FakeDiscord()
    bot = BotProcess(fake, tmp_path, kind="real")

    env = bot.environment()

    assert set(environment_variables()) <= set(env)
    leaked = {name: env[name] for name in HOSTILE if env[name] == HOSTILE[name]}
    assert leaked == {}
    assert env["PICKS_GRACE_HOURS"] == "24.0"  # the bot's default, whatever the caller's shell says
    assert env["THREAD_ARCHIVE_DAYS"] == "3"
    assert env["ATTENDANCE_SHARE"] == "50"
    assert env["GUILD_DATA_GRACE_DAYS"] == "30.0"
    assert env["LETTERBOXD_INTERVAL"] == "30"
    assert env["CATALOG_PATH"] == str(SHIPPED_CATALOG)
    assert env["DATABASE_PATH"] == str(tmp_path / "club.db")
    assert env["PYTHONPATH"] == str(REPO)
    assert "SOMETHING_FROM_THE_CALLERS_SHELL" not in env  # built from scratch, not from a copy of os.environ
    assert env["TMDB_API_KEY"] == ""  # no provider unless the test brings the double
    assert env["TMDB_API_BASE_URL"] == "https://api.themoviedb.org/3"
    assert env["LETTERBOXD_BASE_URL"] == "https://letterboxd.com/"
    assert env["WEB_PORT"] == ""  # no web server unless the test asks for one
    assert env["WEB_HOST"] == "127.0.0.1"
    assert env["WEB_BASE_URL"] == ""
    assert env["WEB_RATE_LIMIT"] == "120"


async def test_a_bot_launched_with_the_tmdb_double_is_pointed_at_it(tmdb_double: TmdbDouble, tmp_path: Path) -> None:
    bot = BotProcess(FakeDiscord(), tmp_path, kind="real", tmdb=tmdb_double)

    env = bot.environment()

    assert env["TMDB_API_KEY"] == tmdb_double.api_key
    assert env["TMDB_API_BASE_URL"] == tmdb_double.api_base
    assert env["TMDB_IMAGE_BASE_URL"] == tmdb_double.image_base
    assert env["WATCH_REGION"] == "US"


def test_a_test_session_ignores_the_callers_dotenv_and_setting_variables(tmp_path: Path) -> None:
    """A pytest run from a folder whose ``.env`` and shell set every setting to something hostile still passes tests
    that build Settings() (the architecture test loads the catalog; the settings test checks the defaults)."""
    (tmp_path / ".env").write_text("".join(f"{name}={value}\n" for name, value in HOSTILE.items()))
    env = {**os.environ, **HOSTILE, "PYTHONPATH": str(REPO)}
    selected = [
        f"{REPO}/tests/test_architecture.py::test_command_names_are_unique_and_described",
        f"{REPO}/tests/unit/test_settings.py::test_defaults_and_environment",
    ]
    pytest = [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [*pytest, "-c", f"{REPO}/pyproject.toml", "--rootdir", str(REPO), *selected],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "2 passed" in result.stdout, result.stdout[-3000:]
