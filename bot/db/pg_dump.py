"""``filmclub db backup`` on PostgreSQL: pg_dump when it is installed, else exactly how to run it.

DATABASE_URL is a secret, so its password is never shown and never put on a command line (other users of the machine
can read a process's arguments): pg_dump gets the URL without its password and the password in PGPASSWORD, and every
message shows the URL masked.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from bot.db.postgres import masked

# Where Debian's PostgreSQL packages put their programs when they are not on PATH: <root>/<version>/bin/pg_dump.
DEBIAN_POSTGRESQL = Path("/usr/lib/postgresql")
RESTORE_HINT = 'restore it with: pg_restore --clean --if-exists --dbname "$DATABASE_URL" {file}'


@dataclass(frozen=True)
class BackupResult:
    ok: bool
    message: str


def find_pg_dump(path: str | None = None, debian_root: Path = DEBIAN_POSTGRESQL) -> Path | None:
    """pg_dump on ``path`` (default: PATH), else the newest under Debian's ``/usr/lib/postgresql/<version>/bin``
    (pg_dump must be at least as new as the server)."""
    found = shutil.which("pg_dump", path=path)
    if found:
        return Path(found)
    versions = [p for p in debian_root.glob("*/bin/pg_dump") if re.fullmatch(r"\d+", p.parent.parent.name)]
    return max(versions, key=lambda p: int(p.parent.parent.name), default=None)


def _without_password(url: str) -> tuple[str, str | None]:
    """The URL without the password of its user part, and that password (decoded), if it had one."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    user, colon, password = userinfo.partition(":")
    if not colon:
        return url, None
    return urlunsplit(parts._replace(netloc=f"{user}{at}{host}")), unquote(password)


def instructions(url: str, destination: Path) -> str:
    """What to run by hand when pg_dump is missing (the URL stays in the environment, where the bot reads it)."""
    return (
        "pg_dump is not installed (not on PATH, nor in /usr/lib/postgresql/*/bin). Install PostgreSQL's client "
        "programs (Debian and Ubuntu: apt install postgresql-client, of the server's version or newer), then run:\n"
        f'  pg_dump --format=custom --file {destination} "$DATABASE_URL"\n'
        f"with DATABASE_URL set as for the bot ({masked(url)}); " + RESTORE_HINT.format(file=destination)
    )


async def back_up(url: str, destination: Path, pg_dump: Path | None) -> BackupResult:
    """Run ``pg_dump --format=custom --file DESTINATION URL``, or say how to when ``pg_dump`` is None."""
    if pg_dump is None:
        return BackupResult(ok=False, message=instructions(url, destination))
    bare_url, password = _without_password(url)
    environment = dict(os.environ)
    if password is not None:
        environment["PGPASSWORD"] = password
    process = await asyncio.create_subprocess_exec(
        str(pg_dump),
        "--format=custom",
        "--file",
        str(destination),
        bare_url,
        env=environment,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    shown = masked(url)
    if process.returncode != 0:
        errors = stderr.decode(errors="replace").strip()
        if password:
            errors = errors.replace(password, "***")
        return BackupResult(ok=False, message=f"pg_dump failed (exit {process.returncode}) for {shown}: {errors}")
    return BackupResult(
        ok=True, message=f"backed up {shown} to {destination} with {pg_dump}; " + RESTORE_HINT.format(file=destination)
    )
