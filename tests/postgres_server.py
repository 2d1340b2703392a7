"""A PostgreSQL server for the tests: ``TEST_DATABASE_URL`` if set, else a throwaway one started here.

The throwaway server is a new cluster (initdb) in a temporary folder, listening on a free loopback port, with
durability off (fsync, synchronous commit: nothing here needs to survive a power cut), stopped when the tests end.
PostgreSQL refuses to run as root, so as root it runs as ``nobody``. Each test gets a database of its own, copied
from a migrated template (``CREATE DATABASE ... TEMPLATE``), which takes milliseconds where migrating takes a second.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

#: Where Debian's postgresql-NN packages put the server programs.
SERVER_PROGRAMS = Path("/usr/lib/postgresql")
NOBODY = 65534
FOLDER_PREFIX = "filmclub-pg-"
#: The pid of the test process that started a server, so that a later run can stop it if that process was killed.
OWNER_FILE = "owner.pid"


def server_bin() -> Path | None:
    """The newest installed server's bin folder (with initdb and pg_ctl), if any."""
    found = sorted(SERVER_PROGRAMS.glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name), reverse=True)
    return found[0].parent if found else None


def unavailable_reason() -> str | None:
    """Why PostgreSQL tests cannot run here, or None when they can."""
    if os.environ.get("TEST_DATABASE_URL"):
        return None
    if server_bin() is None:
        return f"PostgreSQL's server programs not found (looked in {SERVER_PROGRAMS}/*/bin; or set TEST_DATABASE_URL)"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user() -> list[str]:
    """The prefix that drops root (the server refuses it) to nobody; nothing when not root."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


@dataclass
class ThrowawayServer:
    """One cluster in a temporary folder; :meth:`stop` (also run at exit) removes it."""

    folder: Path
    port: int
    bin: Path
    stopped: bool = field(default=False)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @classmethod
    def start(cls) -> ThrowawayServer:
        programs = server_bin()
        if programs is None:
            raise RuntimeError(unavailable_reason() or "no PostgreSQL")
        sweep_abandoned(programs)
        folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX))
        (folder / OWNER_FILE).write_text(str(os.getpid()))
        if os.geteuid() == 0:
            os.chown(folder, NOBODY, NOBODY)
        run = _as_server_user()
        data = folder / "data"
        subprocess.run(
            [*run, str(programs / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync",
             "-E", "UTF8", "--locale=C.UTF-8"],
            check=True, capture_output=True,
        )  # fmt: skip
        for _attempt in range(5):  # a free port may be taken between finding it and binding it
            server = cls(folder, _free_port(), programs)
            options = (
                f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
            )
            started = subprocess.run(
                [*run, str(programs / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w",
                 "-t", "60", "start"],
                check=False, capture_output=True,
            )  # fmt: skip
            if started.returncode == 0:
                atexit.register(server.stop)
                return server
        log = (folder / "log").read_text(errors="replace")[-2000:] if (folder / "log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {log}")

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        subprocess.run(
            [*_as_server_user(), str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def sweep_abandoned(programs: Path) -> None:
    """Stop and remove the servers of test runs that were killed before they could (their owner process is gone)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*"):
        try:
            owner = int((folder / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if _alive(owner):
            continue
        ThrowawayServer(folder, 0, programs).stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """The admin URL of a server the tests may create databases on."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    server = ThrowawayServer.start()
    try:
        yield server.url
    finally:
        server.stop()


def database_url(server_url: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``server_url``."""
    base, _, _ = server_url.rpartition("/")
    return f"{base}/{name}"


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


async def create_database(server_url: str, name: str, *, template: str | None = None) -> str:
    """Create database ``name`` (a copy of ``template`` when given) and return its URL."""
    conn = await asyncpg.connect(server_url)
    try:
        suffix = f" TEMPLATE {template}" if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{suffix}')
    finally:
        await conn.close()
    return database_url(server_url, name)


async def drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
