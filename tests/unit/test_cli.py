"""The command line as a user runs it: a real subprocess, a clean environment, a temporary working directory."""

from __future__ import annotations

import os
import socket
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


def test_db_migrate_on_postgresql_names_the_database_without_its_password(
    tmp_path: Path, postgres_database_url: str
) -> None:
    with_password = postgres_database_url.replace("postgres@", "postgres:hunter2@", 1)  # trust auth ignores it
    result = cli("db", "migrate", cwd=tmp_path, DATABASE_URL=with_password)
    assert result.returncode == 0, result.stderr
    assert "PostgreSQL postgresql://postgres:***@127.0.0.1" in result.stdout
    assert "at schema version" in result.stdout
    assert "hunter2" not in result.stdout + result.stderr


def test_an_unreachable_postgresql_is_one_line_and_exit_3(tmp_path: Path) -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"postgresql://filmclub:hunter2@127.0.0.1:{port}/filmclub"
    result = cli("db", "migrate", cwd=tmp_path, DATABASE_URL=url)
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"cannot connect to PostgreSQL at postgresql://filmclub:***@127.0.0.1:{port}/filmclub" in lines[0]
    assert "DATABASE_URL" in lines[0]
    assert "hunter2" not in result.stdout + result.stderr


def test_a_database_url_that_is_not_postgresql_is_refused(tmp_path: Path) -> None:
    result = cli("db", "migrate", cwd=tmp_path, DATABASE_URL="mysql://root@localhost/club")
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr and "postgresql://" in result.stderr
