"""The READMEs name only files that exist: a reader who follows one must find it."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO

DOCS = ["README.md", "data/README.md", "tests/README.md"]
#: A path inside the repository, as the READMEs write them (``data/music-stage.toml``, ``tools/factcheck.py``).
REPO_PATH = re.compile(r"(?<![\w/.-])((?:\.ci|bench|bot|cogs|data|deploy|tests|tools)/[\w./@-]*\w)")
#: Files the reader creates: benchmark outputs.
CREATED = ("bench/out/",)


@pytest.mark.parametrize("doc", DOCS)
def test_every_file_a_readme_names_exists(doc: str) -> None:
    text = (REPO / doc).read_text(encoding="utf-8")
    named = {match.group(1) for match in REPO_PATH.finditer(text)}
    missing = sorted(path for path in named if not path.startswith(CREATED) and not (REPO / path).exists())
    assert missing == []
