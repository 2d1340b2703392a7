"""The tools run the way the READMEs say: ``python3 tools/factcheck.py``, with whatever ``python3`` the shell has."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

#: The interpreter this virtual environment was made from: it has none of the project's dependencies, and ``-S``
#: keeps any site-packages it may have out of reach.
BARE_PYTHON = [getattr(sys, "_base_executable", sys.executable), "-S"]


def project_copy(root: Path, *, with_venv: bool) -> Path:
    """A checkout with tools/factcheck.py and the bot package, and optionally a .venv (this test run's one)."""
    (root / "tools").mkdir(parents=True)
    shutil.copy(REPO / "tools" / "factcheck.py", root / "tools" / "factcheck.py")
    (root / "bot").symlink_to(REPO / "bot")
    if with_venv:
        (root / ".venv").symlink_to(Path(sys.prefix))
    return root


def run_factcheck(root: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Without reference data the check skips (exit 0) once its imports succeeded: all this test is about."""
    no_reference = tmp_path / "no-reference-data"
    return subprocess.run(
        [*BARE_PYTHON, str(root / "tools" / "factcheck.py"), "--shared", str(no_reference)],
        cwd=root,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_factcheck_runs_with_a_python_outside_the_virtual_environment(tmp_path: Path) -> None:
    result = run_factcheck(project_copy(tmp_path / "checkout", with_venv=True), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout.startswith("skipped: "), result.stdout


def test_factcheck_without_the_projects_environment_says_how_to_run_it_in_one_line(tmp_path: Path) -> None:
    result = run_factcheck(project_copy(tmp_path / "checkout", with_venv=False), tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("factcheck: needs the project's dependencies"), lines
    assert ".venv/bin/pip install" in lines[0]
