"""The command line as a user runs it: a real subprocess, a clean environment, a temporary working directory."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.catalog_builder import film, theme, to_toml, write_catalog
from tests.conftest import REPO


def cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DISCORD_", "DATABASE_", "CATALOG_", "DEV_GUILD"))
    }
    clean["PYTHONPATH"] = str(REPO)
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        check=False,
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_without_a_token_says_what_to_do(tmp_path: Path) -> None:
    result = cli("run", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DISCORD_TOKEN" in lines[0]
    assert ".env.example" in lines[0]
    assert "Traceback" not in result.stderr


def test_token_is_read_from_dotenv_and_never_printed(tmp_path: Path) -> None:
    # An invalid DEV_GUILD_ID makes the settings fail after reading .env: the message must not echo the token.
    (tmp_path / ".env").write_text("DISCORD_TOKEN=super-secret-token-value\nDEV_GUILD_ID=not-a-number\n")
    result = cli("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "DEV_GUILD_ID" in result.stderr
    assert "super-secret-token-value" not in result.stderr + result.stdout


def test_catalog_check_reports_every_problem_and_exits_1(tmp_path: Path) -> None:
    folder = write_catalog(
        tmp_path / "cat",
        {"bad.toml": to_toml([theme("live-on-stage")], [film("one", year="x"), film("two", themes=["nope"])])},
    )
    result = cli("catalog", "check", str(folder), cwd=tmp_path)
    assert result.returncode == 1
    assert "cat/bad.toml: film 'one': field 'year'" in result.stderr
    assert "cat/bad.toml: film 'two': field 'themes': no theme 'nope'" in result.stderr
    assert "2 problems" in result.stderr


def test_catalog_check_of_the_shipped_catalog_passes(tmp_path: Path) -> None:
    result = cli("catalog", "check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("catalog ok:")


def test_catalog_load_then_migrate_then_backup(tmp_path: Path) -> None:
    folder = write_catalog(tmp_path / "cat", {"c.toml": to_toml([theme("live-on-stage")], [film("one")])})
    env = {"DATABASE_PATH": str(tmp_path / "club.db")}

    loaded = cli("catalog", "load", str(folder), cwd=tmp_path, **env)
    assert loaded.returncode == 0, loaded.stderr
    assert "1 films in 1 themes; films 1 added, 0 updated, 0 retired" in loaded.stdout
    again = cli("catalog", "load", str(folder), cwd=tmp_path, **env)
    assert "unchanged" in again.stdout

    migrated = cli("db", "migrate", cwd=tmp_path, **env)
    assert migrated.returncode == 0
    assert "none pending" in migrated.stdout

    backup = cli("db", "backup", str(tmp_path / "backup.db"), cwd=tmp_path, **env)
    assert backup.returncode == 0, backup.stderr
    with sqlite3.connect(tmp_path / "backup.db") as copy:
        assert copy.execute("SELECT slug FROM films").fetchall() == [("one",)]
    refused = cli("db", "backup", str(tmp_path / "backup.db"), cwd=tmp_path, **env)
    assert refused.returncode == 1
    assert "already exists" in refused.stderr
