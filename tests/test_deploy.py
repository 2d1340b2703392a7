"""The example systemd unit: it parses, it is hardened as the README says, and its paths are the README's."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import pytest

from bot.exit_codes import EXIT_FAILED, EXIT_UNREACHABLE, EXIT_USAGE
from tests.conftest import REPO

UNIT = REPO / "deploy" / "filmclub.service"
SHARDS_UNIT = REPO / "deploy" / "filmclub@.service"


def service_section(unit: Path = UNIT) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string(unit.read_text(encoding="utf-8"))
    assert {"Unit", "Service", "Install"} <= set(parser.sections())
    return dict(parser["Service"])


def test_the_shard_unit_runs_its_instance_shards_hardened_like_the_single_unit() -> None:
    """filmclub@0-3 runs shards 0-3: the instance name becomes SHARD_IDS; everything else is the single unit's,
    less the SQLite file (the data is in PostgreSQL)."""
    single, sharded = service_section(), service_section(SHARDS_UNIT)
    assert sharded["Environment"] == "SHARD_IDS=%i"
    assert "ReadWritePaths" not in sharded
    ignored = {"Environment", "ReadWritePaths"}
    assert {k: v for k, v in sharded.items() if k not in ignored} == {
        k: v for k, v in single.items() if k not in ignored
    }


def test_the_readme_explains_running_at_scale() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^### Running at scale\n(.*?)(?=^## )", readme, flags=re.M | re.S)
    assert match, "README.md has no 'Running at scale' section"
    section = match.group(1)
    for needed in ("deploy/filmclub@.service", "filmclub@0-3", "SHARD_COUNT", "SHARD_IDS", "DATABASE_URL", "db copy"):
        assert needed in section, f"'Running at scale' does not mention {needed}"


def readme_service_section() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^### Running it as a service\n(.*?)(?=^#)", readme, flags=re.M | re.S)
    assert match, "README.md has no 'Running it as a service' section"
    return match.group(1)


def test_the_unit_runs_the_bot_as_its_own_user_hardened() -> None:
    service = service_section()
    assert service["User"] == "filmclub"
    assert service["ExecStart"].endswith("/filmclub run")
    assert service["Restart"] == "on-failure"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["ProtectHome"] == "yes"
    database = PurePosixPath(service["Environment"].removeprefix("DATABASE_PATH="))
    assert str(database.parent) in service["ReadWritePaths"].split(), "the database folder must stay writable"
    assert service["WorkingDirectory"] == str(database.parent)
    no_retry = {int(code) for code in service["RestartPreventExitStatus"].split()}
    assert EXIT_USAGE in no_retry
    assert EXIT_UNREACHABLE not in no_retry and EXIT_FAILED not in no_retry


def test_the_readme_describes_the_same_paths() -> None:
    service = service_section()
    section = readme_service_section()
    assert "deploy/filmclub.service" in section
    assert "journalctl -u filmclub" in section
    install_dir = service["ExecStart"].split("/.venv/")[0]
    for path in (service["WorkingDirectory"], service["EnvironmentFile"], service["ReadWritePaths"], install_dir):
        assert path in section, f"{path} (from the unit) is not in the README's service section"
    assert f"{install_dir}/.venv/bin/filmclub" in section


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize(("source", "installed"), [(UNIT, "filmclub.service"), (SHARDS_UNIT, "filmclub@0-3.service")])
def test_systemd_accepts_the_unit(tmp_path: Path, source: Path, installed: str) -> None:
    """``systemd-analyze verify`` with ExecStart pointed at a stand-in (the real path exists only once installed)."""
    stand_in = tmp_path / "filmclub"
    stand_in.write_text("#!/bin/sh\n")
    stand_in.chmod(0o755)
    unit = tmp_path / installed
    text = source.read_text(encoding="utf-8")
    executable = service_section(source)["ExecStart"].split()[0]
    unit.write_text(text.replace(f"ExecStart={executable}", f"ExecStart={stand_in}"), encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # unknown keys and bad values are only warnings
