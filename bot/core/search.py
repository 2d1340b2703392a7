"""Typo-tolerant title search for autocomplete, answered from an in-memory candidate index.

A keystroke must answer in milliseconds even for tens of thousands of films, and must still find "The Last Waltz"
from "last walts" or "Blade Runner" from "bladerunner". So a query never scans every title: candidates come from
(1) a sorted list of normalised titles, for prefixes, and (2) an inverted index of character trigrams (of the title
with and without spaces), for misspellings; only those few hundred candidates are scored with rapidfuzz.

The trigram postings are slices of one numpy array: counting how many of a query's trigrams each title shares is one
``bincount`` over the concatenated postings, whatever their length, and the index adds no objects per trigram for
Python's garbage collector to walk (bench/recommend.py measures 36,000 films; bench/server_films.py 100 servers' own
indexes of 5,000 films each beside it).
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz
from rapidfuzz.distance import Prefix

from bot.core.text import fold, normalise_title

#: Candidates scored per query; enough that the right film is among them, few enough to stay fast.
CANDIDATES = 150
#: A trigram in more than this share of titles says little ("the", "ing") and is skipped when rarer ones exist.
COMMON_TRIGRAM_SHARE = 0.05
#: A typed title resolves to a film without being picked from the list when its similarity to the film's title (or an
#: alternative title) is at least this (rapidfuzz's ratio: 100 × (1 − edits / total length); "last walts" and "last
#: waltz" are 90) ...
CLEAR_SIMILARITY = 85.0
#: ... and at least this many points above the next film's, so that two close titles still get "did you mean".
CLEAR_MARGIN = 10.0
#: Points for a candidate that contains every word typed (as a word, or the start of one for the word being typed):
#: among equally fuzzy matches, "anvil story" prefers "Anvil! The Story of Anvil" to "A Pyromaniac's Love Story".
WORD_COVERAGE_BONUS = 8.0

#: A theme's title this close to the query (rapidfuzz WRatio) is a typo of it ("makng the albm").
THEME_TITLE_FUZZY = 70.0
#: A description mentions what was typed when each typed word is close to one of its words (:func:`_word_closeness`):
#: "backup sing" finds "Backing singers, session players ...".
THEME_DESCRIPTION_WORD = 66.0
#: A typed word and a description word this alike (rapidfuzz ratio) are the same word mistyped ...
WORD_TYPO = 75.0
#: ... and words that start with the same this-many letters (and two thirds of the typed word) share a stem:
#: "backup" and "backing".
WORD_STEM = 4
#: Shorter queries than this are not looked for in descriptions: two letters are in almost every sentence.
THEME_DESCRIPTION_MIN_LENGTH = 3

Positions = npt.NDArray[np.int32]


class ThemeMatch(enum.IntEnum):
    """How a theme matches what a member typed, best first: its title is it, starts with it, has a word starting
    with it, has it inside a word, or is a typo of it; else its description mentions it."""

    EXACT = 0
    PREFIX = 1
    WORD_START = 2
    INSIDE_WORD = 3
    FUZZY_TITLE = 4
    DESCRIPTION = 5


class Searchable(Protocol):
    """What theme search reads: curated themes and server collections both have it."""

    @property
    def slug(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...


T = TypeVar("T", bound=Searchable)


def theme_match(query: str, theme: Searchable) -> tuple[ThemeMatch, float] | None:
    """How well ``theme`` matches ``query`` (a :class:`ThemeMatch` and, within it, a closeness), or None."""
    typed, words = fold(query).strip(), normalise_title(query)
    if not typed or not words:
        return None
    title, slug = normalise_title(theme.title), theme.slug
    folded_title = " ".join(fold(theme.title).split())
    if words == title or typed == slug:
        return ThemeMatch.EXACT, 100.0
    if folded_title.startswith(typed) or title.startswith(words) or slug.startswith(typed):
        return ThemeMatch.PREFIX, 100.0 * len(words) / max(len(title), 1)
    if f" {words}" in f" {title}" or f"-{typed}" in f"-{slug}":
        return ThemeMatch.WORD_START, 100.0
    if words in title or typed in slug:
        return ThemeMatch.INSIDE_WORD, 100.0
    closeness = fuzz.WRatio(words, title)
    if closeness >= THEME_TITLE_FUZZY:
        return ThemeMatch.FUZZY_TITLE, closeness
    if len(words) >= THEME_DESCRIPTION_MIN_LENGTH and theme.description:
        described = set(normalise_title(theme.description).split())
        each = [max(_word_closeness(word, other) for other in described) for word in words.split()]
        if min(each) >= THEME_DESCRIPTION_WORD:
            return ThemeMatch.DESCRIPTION, sum(each) / len(each)
    return None


def description_excerpt(query: str, theme: Searchable, length: int = 48) -> str | None:
    """Where ``theme``'s description mentions ``query`` ("Backing singers, session players, house…"), when only
    its description matches: a member sees why a theme whose title shares nothing with the query is offered."""
    found = theme_match(query, theme)
    if found is None or found[0] is not ThemeMatch.DESCRIPTION:
        return None
    first = normalise_title(query).split()[0]
    words = theme.description.split()
    start = next(
        (i for i, word in enumerate(words) if _word_closeness(first, normalise_title(word)) >= THEME_DESCRIPTION_WORD),
        0,
    )
    text = " ".join(words[start:])
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(" ", 1)[0] if " " in text[:length] else text[: length - 1]
    return cut.rstrip(" ,.;:—-") + "…"


def _word_closeness(typed: str, word: str) -> float:
    """How surely ``word`` is the ``typed`` one (0–100): 100 when it starts with it ("sing": "singers"), else the
    better of a typo's similarity and the share of ``typed`` in a common stem ("backup": "backing", 67)."""
    if word.startswith(typed):
        return 100.0
    typo = fuzz.ratio(typed, word)
    stem = Prefix.similarity(typed, word)  # the length of the common start
    shared = 100.0 * stem / len(typed) if stem >= WORD_STEM else 0.0
    return max(typo if typo >= WORD_TYPO else 0.0, shared)


def rank_themes(themes: Sequence[T], query: str, limit: int = 25) -> list[T]:
    """Themes for what a member typed, best first: exact title, title prefix, a title word's start, inside a title
    word, a typo of the title, then themes whose description mentions it; ties keep ``themes``' order. All of them,
    in order, for an empty query."""
    if not normalise_title(query):
        return list(themes[:limit])
    scored = [(match, position) for position, theme in enumerate(themes) if (match := theme_match(query, theme))]
    scored.sort(key=lambda item: (item[0][0], -item[0][1], item[1]))
    return [themes[position] for _match, position in scored[:limit]]


#: The first character of a server film's slug: curated slugs are lower-case words and digits, never this.
SERVER_SLUG_PREFIX = "~"


@dataclass(frozen=True, slots=True)
class IndexEntry:
    film_id: int
    slug: str
    title: str
    year: int

    @property
    def label(self) -> str:
        return f"{self.title} ({self.year})"

    @property
    def is_server_film(self) -> bool:
        return self.slug.startswith(SERVER_SLUG_PREFIX)


@dataclass(frozen=True, slots=True)
class Match:
    entry: IndexEntry
    score: float
    matched: str  # the title or alternative title that matched

    @property
    def film_id(self) -> int:
        return self.entry.film_id

    @property
    def label(self) -> str:
        return self.entry.label


def _trigrams(text: str) -> set[str]:
    padded = f"  {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _word_coverage(words: list[str], key_words: list[str]) -> float:
    """Share of the typed words found in a title: whole words, or the start of one for the word still being typed."""
    found = 0
    last = len(words) - 1
    for position, word in enumerate(words):
        if word in key_words or (position == last and any(k.startswith(word) for k in key_words)):
            found += 1
    return found / len(words)


class TitleIndex:
    """Search over every active film's titles and alternative titles.

    Lean enough to keep one per server warm (bench/server_films.py: 100 servers × 5,000 films beside the catalog):
    per film only its strings and a few numbers in numpy arrays; results' :class:`IndexEntry` objects are made when
    asked for. Each title (or alternative title) is a "key": its normalised form, in a sorted list for prefixes and
    exact matches, and its trigrams as one sorted array of trigram codes with, for each, a slice of one array of key
    ids (compressed sparse rows: no Python object per trigram)."""

    def __init__(self, films: Iterable[tuple[int, str, str, int, Sequence[str]]]) -> None:
        ids: list[int] = []
        years: list[int] = []
        self._slugs: list[str] = []
        self._titles: list[str] = []
        self._keys: list[str] = []  # normalised title per key
        owner: list[int] = []  # key -> entry position
        self._names: list[str] = []  # key -> the title as written
        for film_id, slug, title, year, alt_titles in films:
            position = len(ids)
            ids.append(film_id)
            years.append(year)
            self._slugs.append(slug)
            self._titles.append(title)
            for name in dict.fromkeys([title, *alt_titles]):
                key = normalise_title(name)
                if key:
                    self._keys.append(key)
                    owner.append(position)
                    self._names.append(name)
        self._ids = np.asarray(ids, dtype=np.int64)
        self._years = np.asarray(years, dtype=np.int32)
        self._owner: Positions = np.asarray(owner, dtype=np.int32)
        by_slug = sorted(range(len(ids)), key=self._slugs.__getitem__)
        self._slug_order: Positions = np.asarray(by_slug, dtype=np.int32)
        self._sorted_slugs = [self._slugs[p] for p in by_slug]
        by_key = sorted(range(len(self._keys)), key=self._keys.__getitem__)  # stable: equal keys in key order
        self._sorted: Positions = np.asarray(by_key, dtype=np.int32)
        self._sorted_keys = [self._keys[k] for k in by_key]
        codes: list[int] = []
        owners: list[int] = []
        code_of: dict[str, int] = {}
        for key_id, key in enumerate(self._keys):
            grams = _trigrams(key) | _trigrams(key.replace(" ", ""))
            for gram in grams:
                code = code_of.get(gram)
                if code is None:
                    code = code_of[gram] = _gram_code(gram)
                codes.append(code)
            owners.extend([key_id] * len(grams))
        all_codes = np.asarray(codes, dtype=np.int64)
        order = np.argsort(all_codes, kind="stable")  # within a trigram, key ids stay ascending
        self._postings: Positions = np.asarray(owners, dtype=np.int32)[order]
        self._grams, starts, counts = np.unique(all_codes[order], return_index=True, return_counts=True)
        self._starts = starts.astype(np.int64)
        self._ends = self._starts + counts
        self._common = max(50, int(len(self._keys) * COMMON_TRIGRAM_SHARE))

    def __len__(self) -> int:
        return len(self._ids)

    def _entry(self, position: int) -> IndexEntry:
        return IndexEntry(
            int(self._ids[position]), self._slugs[position], self._titles[position], int(self._years[position])
        )

    def id_for_slug(self, slug: str) -> int | None:
        at = bisect.bisect_left(self._sorted_slugs, slug)
        if at == len(self._sorted_slugs) or self._sorted_slugs[at] != slug:
            return None
        return int(self._ids[self._slug_order[at]])

    def exact(self, title: str) -> list[IndexEntry]:
        """Films whose title or alternative title normalises to the same words as ``title``."""
        return self.exact_key(normalise_title(title))

    def exact_key(self, title_key: str) -> list[IndexEntry]:
        """:meth:`exact` for a title already normalised (:func:`bot.core.text.normalise_title`)."""
        start = bisect.bisect_left(self._sorted_keys, title_key)
        end = bisect.bisect_right(self._sorted_keys, title_key, lo=start)
        positions = dict.fromkeys(int(self._owner[k]) for k in self._sorted[start:end].tolist())
        return [self._entry(p) for p in positions]

    def search(self, query: str, limit: int = 25) -> list[Match]:
        """The best ``limit`` films for what a member typed so far, best first, one row per film."""
        text = normalise_title(query)
        if not text:
            return [Match(self._entry(int(self._owner[k])), 0.0, self._names[k]) for k in self._sorted[:limit].tolist()]
        candidates = self._prefix_candidates(text) | self._trigram_candidates(text)
        compact = text.replace(" ", "")
        words = text.split()
        best: dict[int, tuple[float, int]] = {}
        for key_id in candidates:
            key = self._keys[key_id]
            score = max(
                fuzz.WRatio(text, key),
                fuzz.ratio(compact, key.replace(" ", "")),
            )
            if key.startswith(text):
                score += 10 + 10 * len(text) / len(key)  # prefixes first, whole-title matches before partial ones
            if len(words) > 1:
                score += WORD_COVERAGE_BONUS * _word_coverage(words, key.split())
            position = int(self._owner[key_id])
            current = best.get(position)
            if current is None or score > current[0]:
                best[position] = (score, key_id)
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], self._titles[item[0]], int(self._years[item[0]])))
        return [Match(self._entry(p), score, self._names[k]) for p, (score, k) in ranked[:limit]]

    def similarities(self, query: str) -> list[tuple[IndexEntry, float]]:
        """Candidate films with the plain similarity (0–100) of their closest title to ``query``, most similar first.

        Unlike :meth:`search`'s score (tuned to order suggestions while a member types), this says how alike two
        whole titles are: the same letters in the same order, with or without spaces."""
        text = normalise_title(query)
        if not text:
            return []
        compact = text.replace(" ", "")
        best: dict[int, float] = {}
        for key_id in self._prefix_candidates(text) | self._trigram_candidates(text):
            key = self._keys[key_id]
            similarity = max(fuzz.ratio(text, key), fuzz.ratio(compact, key.replace(" ", "")))
            position = int(self._owner[key_id])
            best[position] = max(similarity, best.get(position, 0.0))
        ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))
        return [(self._entry(position), similarity) for position, similarity in ranked]

    def clear_match(self, query: str, year: int | None = None) -> IndexEntry | None:
        """The one film a mistyped title clearly means, or None when no film is close enough or two are about as
        close (then the member chooses): similarity of at least :data:`CLEAR_SIMILARITY`, and :data:`CLEAR_MARGIN`
        points above the runner-up. ``year`` (typed after the title) keeps only that year's films."""
        return _clear_match(self.similarities(query), year)

    def _prefix_candidates(self, text: str) -> set[int]:
        start = bisect.bisect_left(self._sorted_keys, text)
        found: set[int] = set()
        for offset in range(start, min(start + CANDIDATES, len(self._sorted_keys))):
            if not self._sorted_keys[offset].startswith(text):
                break
            found.add(int(self._sorted[offset]))
        return found

    def _trigram_candidates(self, text: str) -> set[int]:
        """The titles sharing the most trigrams with ``text`` (its rare trigrams, when it has any)."""
        wanted = _trigrams(text) | _trigrams(text.replace(" ", ""))
        codes = np.fromiter((_gram_code(g) for g in wanted), dtype=np.int64, count=len(wanted))
        at = np.searchsorted(self._grams, codes)
        known = at < len(self._grams)
        at = at[known]
        at = at[self._grams[at] == codes[known]]
        if not len(at):
            return set()
        sizes = self._ends[at] - self._starts[at]
        rare = at[sizes <= self._common]
        chosen = rare if len(rare) else at
        spans = zip(self._starts[chosen].tolist(), self._ends[chosen].tolist(), strict=True)
        postings = [self._postings[start:end] for start, end in spans]
        counts = np.bincount(np.concatenate(postings))
        # The CANDIDATES highest counts, found from the histogram of counts (a partition would stall on the ties):
        # every title above the threshold count, then titles at the threshold in catalog order.
        at_least = np.cumsum(np.bincount(counts)[::-1])[::-1]  # at_least[c]: titles sharing c or more trigrams
        threshold = max(1, int(np.searchsorted(-at_least, -CANDIDATES, side="right")) - 1)
        above = np.flatnonzero(counts > threshold)
        tied = np.flatnonzero(counts == threshold)[: max(0, CANDIDATES - len(above))]
        return {int(key_id) for key_id in above} | {int(key_id) for key_id in tied}


def _gram_code(gram: str) -> int:
    """A trigram as one number (21 bits a code point): trigrams sort and compare as int64s."""
    return (ord(gram[0]) << 42) | (ord(gram[1]) << 21) | ord(gram[2])


def _clear_match(similarities: Sequence[tuple[IndexEntry, float]], year: int | None) -> IndexEntry | None:
    ranked = [(entry, s) for entry, s in similarities if year is None or entry.year == year]
    if not ranked or ranked[0][1] < CLEAR_SIMILARITY:
        return None
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    return ranked[0][0] if ranked[0][1] - runner_up >= CLEAR_MARGIN else None


class ClubTitles:
    """The films one server's members can name, searched as one list: the curated catalog's index and, beside it,
    the server's own films' index (small, rebuilt when they change; the catalog's is shared by every server)."""

    def __init__(self, curated: TitleIndex, server: TitleIndex | None = None) -> None:
        self.curated = curated
        self.server = server if server is not None else TitleIndex([])

    def __len__(self) -> int:
        return len(self.curated) + len(self.server)

    def id_for_slug(self, slug: str) -> int | None:
        index = self.server if slug.startswith(SERVER_SLUG_PREFIX) else self.curated
        return index.id_for_slug(slug)

    def exact(self, title: str) -> list[IndexEntry]:
        return [*self.curated.exact(title), *self.server.exact(title)]

    def search(self, query: str, limit: int = 25) -> list[Match]:
        """:meth:`TitleIndex.search` over both, best first (ties: curated films, then by title)."""
        found = [*self.curated.search(query, limit), *self.server.search(query, limit)]
        found.sort(key=lambda m: (-m.score, m.entry.is_server_film, m.entry.title, m.entry.year))
        return found[:limit]

    def similarities(self, query: str) -> list[tuple[IndexEntry, float]]:
        found = [*self.curated.similarities(query), *self.server.similarities(query)]
        found.sort(key=lambda item: -item[1])
        return found

    def clear_match(self, query: str, year: int | None = None) -> IndexEntry | None:
        """:meth:`TitleIndex.clear_match` over both: a server film and a curated one as close count as two."""
        return _clear_match(self.similarities(query), year)
