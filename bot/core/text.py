"""Text helpers: what members type made safe to store (:func:`printable`), title normalisation and "did you mean".

One normalisation serves the catalog's duplicate check, title search, the fact-checker and imports, so that
"Dont Look Back", "Don't Look Back" and "dont look back" are the same key everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from rapidfuzz import fuzz, process

_ARTICLES = ("the", "a", "an")
_TRAILING_ARTICLE = re.compile(r",\s*(the|a|an)$")
_APOSTROPHES = re.compile(r"['’‘`´]")
_NON_WORD = re.compile(r"[^\w]+")
#: Control characters but tab and newline: invisible in Discord, refused by PostgreSQL (NUL), never worth storing.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def printable(text: str) -> str:
    """Member text without control characters (keeping tabs and newlines), so both backends store the same thing:
    PostgreSQL refuses a NUL in text that SQLite would keep."""
    return _CONTROL.sub("", text)


def one_line(text: str) -> str:
    """Member text on one line: :func:`printable`, with every run of whitespace one space, trimmed."""
    return " ".join(printable(text).split())


def fold(text: str) -> str:
    """Casefold and strip accents: "Bjørk Café" -> "bjørk cafe" (letters without a decomposition stay as they are)."""
    if text.isascii():  # nothing to decompose (most titles): the same answer, several times faster
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalise_title(title: str) -> str:
    """A matching key for a title: folded, no punctuation, ``&`` as "and", no leading or trailing English article.

    "The Last Waltz", "Last Waltz, The" and "the last waltz!" all give "last waltz"; "Don't Look Back" gives
    "dont look back".
    """
    text = fold(title).strip()
    text = _TRAILING_ARTICLE.sub("", text)
    text = text.replace("&", " and ")
    text = _APOSTROPHES.sub("", text)
    words = _NON_WORD.sub(" ", text).split()
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


def did_you_mean(word: str, options: Iterable[str], *, limit: int = 3, cutoff: float = 60.0) -> list[str]:
    """The options closest to ``word`` (best first), for "no theme named X — did you mean ...?" replies."""
    choices = list(options)
    if not choices or not word.strip():
        return []
    matches = process.extract(fold(word), choices, scorer=fuzz.WRatio, processor=fold, limit=limit, score_cutoff=cutoff)
    return [choice for choice, _score, _index in matches]
