"""``filmclub db backup`` with DATABASE_URL: pg_dump makes a restorable dump, or the command says how to make one; the
URL's password is never shown."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot.db.pg_dump import back_up, find_pg_dump
from tests.unit.test_cli import cli


def with_password(url: str) -> str:
    """The URL with a password (the tests' servers trust local users, so any password connects)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.username}:s3cret%40pw@{parts.hostname}:{parts.port}"))


async def test_backup_runs_pg_dump_and_the_dump_restores(postgres_database_url: str, tmp_path: Path) -> None:
    pg_dump = find_pg_dump()
    if pg_dump is None:
        pytest.skip("pg_dump is not installed")
    url = with_password(postgres_database_url)

    dump = tmp_path / "club.dump"
    backup = await asyncio.to_thread(cli, "db", "backup", str(dump), cwd=tmp_path, DATABASE_URL=url)

    assert backup.returncode == 0, backup.stderr
    assert "postgres:***@" in backup.stdout
    assert "s3cret" not in backup.stdout + backup.stderr
    restore = [str(pg_dump.with_name("pg_restore")), "--list", str(dump)]
    listing = await asyncio.to_thread(subprocess.run, restore, capture_output=True, text=True, check=True)
    assert "TABLE public films" in listing.stdout


async def test_a_failing_pg_dump_is_reported_without_the_password(tmp_path: Path) -> None:
    pg_dump = find_pg_dump()
    if pg_dump is None:
        pytest.skip("pg_dump is not installed")
    url = "postgresql://someone:s3cret%40pw@127.0.0.1:1/nowhere"  # nothing listens on port 1

    result = await back_up(url, tmp_path / "club.dump", pg_dump)

    assert not result.ok
    assert result.message.startswith("pg_dump failed (exit 1) for postgresql://someone:***@127.0.0.1:1/nowhere: ")
    assert "s3cret" not in result.message


async def test_without_pg_dump_the_command_to_run_is_shown(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    missing = find_pg_dump(path=str(tmp_path / "bin"), debian_root=tmp_path / "usr-lib-postgresql")
    assert missing is None
    dump = tmp_path / "club.dump"

    result = await back_up("postgresql://filmclub:s3cret%40pw@db.example:5432/club", dump, missing)

    assert not result.ok
    lines = result.message.splitlines()
    assert lines[0].startswith("pg_dump is not installed (not on PATH, nor in /usr/lib/postgresql/*/bin).")
    assert lines[1] == f'  pg_dump --format=custom --file {dump} "$DATABASE_URL"'
    assert "(postgresql://filmclub:***@db.example:5432/club)" in lines[2]
    assert "s3cret" not in result.message
    assert not dump.exists()


def test_pg_dump_is_found_in_debians_folder_when_not_on_path(tmp_path: Path) -> None:
    for version in ("13", "15", "9"):
        program = tmp_path / "lib" / version / "bin" / "pg_dump"
        program.parent.mkdir(parents=True)
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)
    (tmp_path / "empty").mkdir()

    assert find_pg_dump(path=str(tmp_path / "empty"), debian_root=tmp_path / "lib") == (
        tmp_path / "lib" / "15" / "bin" / "pg_dump"
    )
