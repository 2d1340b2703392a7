"""Counting ballots: plurality, approval and ranked choice (instant runoff), with ties broken by a named rule.

Pure functions over plain values: a candidate is a film id, a ballot is a sequence of film ids (one for plurality, a
set for approval, an order of preference for ranked choice). Nothing here reads the database or the clock, so every
count can be checked by hand in the unit tests.

Ties are never announced as wins. When candidates tie (for first place, or for last place in an instant-runoff
round), the rule is applied in order and the result names the steps that decided it:

1. the higher club rating (:func:`bot.core.score.club_rating`, the one rating recommendations, weekly picks and
   ``/club stats`` rank by: every film counts as if it also had three 3★ reviews, so ten 4.5★ reviews beat a single
   5★ one, and a film nobody rated sits at 3★ like everywhere else; equal club ratings go to the film with more
   reviews, as in ``/club stats``),
2. the earlier nomination (when a member of the server first put the film on their watchlist, else the poll's
   creation time),
3. a draw seeded by the poll id (reproducible: the same poll always draws the same way).

For an elimination the same rule runs the other way round: the lower rating, then the later nomination, then the draw
picks who goes.

A tie keeps each tied film's plain average and number of reviews, what members can check for themselves, so the
announcement shows those rather than the club rating itself (see :data:`bot.core.score.RANKING_NOTE`).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.core.errors import UserError
from bot.core.score import club_rating_of_average


class Method(StrEnum):
    PLURALITY = "plurality"
    APPROVAL = "approval"
    RANKED = "ranked"

    @property
    def label(self) -> str:
        names = {"plurality": "Plurality", "approval": "Approval", "ranked": "Ranked choice (instant runoff)"}
        return names[self.value]


def parse_method(text: str) -> Method:
    """The counting method a moderator typed in the quick-poll form: a prefix of its name ("rank", "a"), whole words
    of its label ("instant runoff"), or a usual abbreviation ("irv", "rcv")."""
    cleaned = " ".join(text.lower().replace("(", " ").replace(")", " ").split())
    if cleaned:
        # A prefix of a name first, for every method: "a" is approval, "ra" ranked (both letters of "plurality").
        for method in Method:
            if method.value.startswith(cleaned):
                return method
        for method in Method:
            label = " ".join(method.label.lower().replace("(", " ").replace(")", " ").split())
            if f" {cleaned} " in f" {label} ":  # whole words of its label: "instant runoff", "choice"
                return method
    if cleaned in ("irv", "rcv"):
        return Method.RANKED
    raise UserError("The method is plurality, approval or ranked.")


class TieRule(StrEnum):
    RATING = "rating"
    NOMINATION = "nomination"
    DRAW = "draw"


#: How each rule reads in a result, for a win and for an elimination.
RULE_FOR_WIN = {
    TieRule.RATING: "higher club rating",
    TieRule.NOMINATION: "earlier nomination",
    TieRule.DRAW: "a draw seeded by the poll id",
}
RULE_FOR_ELIMINATION = {
    TieRule.RATING: "lower club rating",
    TieRule.NOMINATION: "later nomination",
    TieRule.DRAW: "a draw seeded by the poll id",
}
TIE_BREAK_RULE = "higher club rating, then earlier nomination, then a draw seeded by the poll id"
MAX_RANKS = 5


@dataclass(frozen=True)
class FilmRating:
    """What the server's members rated a film: their plain average and how many reviews it is from."""

    average: float
    reviews: int

    @property
    def club_rating(self) -> float:
        """The one club rating (:func:`bot.core.score.club_rating`): the tie-break ranks by it."""
        return club_rating_of_average(self.average, self.reviews)


#: A film nobody in the server rated: its club rating is the prior's 3★, like everywhere else.
UNRATED = FilmRating(average=0.0, reviews=0)


@dataclass(frozen=True)
class TieBreakFacts:
    """What the tie-break reads: members' ratings (unrated films absent), nomination times (sortable text), seed."""

    ratings: Mapping[int, FilmRating]
    nominated_at: Mapping[int, str]
    seed: int


@dataclass(frozen=True)
class Tie:
    """How a tie was broken: who tied, who was chosen (the winner, or the one eliminated) and by which steps."""

    tied: tuple[int, ...]
    chosen: int
    rules: tuple[TieRule, ...]
    eliminating: bool
    #: Each tied film's plain average (None: unrated), for the announcement; ranked by the club rating.
    ratings: tuple[tuple[int, float | None], ...] = ()
    nominated_at: tuple[tuple[int, str], ...] = ()
    #: Each tied film's number of reviews. Empty in ties stored before the club rating decided (plain averages only).
    reviews: tuple[tuple[int, int], ...] = ()

    @property
    def rule_names(self) -> list[str]:
        names = RULE_FOR_ELIMINATION if self.eliminating else RULE_FOR_WIN
        return [names[rule] for rule in self.rules]

    def to_json(self) -> dict[str, Any]:
        return {
            "tied": list(self.tied),
            "chosen": self.chosen,
            "rules": [str(rule) for rule in self.rules],
            "eliminating": self.eliminating,
            "ratings": [[film, rating] for film, rating in self.ratings],
            "nominated_at": [[film, when] for film, when in self.nominated_at],
            "reviews": [[film, count] for film, count in self.reviews],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tie:
        return cls(
            tied=tuple(data["tied"]),
            chosen=int(data["chosen"]),
            rules=tuple(TieRule(rule) for rule in data["rules"]),
            eliminating=bool(data["eliminating"]),
            ratings=tuple((int(f), None if r is None else float(r)) for f, r in data.get("ratings", [])),
            nominated_at=tuple((int(f), str(w)) for f, w in data.get("nominated_at", [])),
            reviews=tuple((int(f), int(n)) for f, n in data.get("reviews", [])),
        )


@dataclass(frozen=True)
class Round:
    """One count: votes per candidate still in the running (in ballot order), and what happened next."""

    counts: tuple[tuple[int, int], ...]
    exhausted: int = 0
    eliminated: tuple[int, ...] = ()
    tie: Tie | None = None

    @property
    def votes(self) -> dict[int, int]:
        return dict(self.counts)

    @property
    def active(self) -> int:
        """Ballots counted for someone in this round (ranked choice: those not exhausted)."""
        return sum(count for _film, count in self.counts)

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": [[film, count] for film, count in self.counts],
            "exhausted": self.exhausted,
            "eliminated": list(self.eliminated),
            "tie": None if self.tie is None else self.tie.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Round:
        return cls(
            counts=tuple((int(f), int(c)) for f, c in data["counts"]),
            exhausted=int(data.get("exhausted", 0)),
            eliminated=tuple(int(f) for f in data.get("eliminated", [])),
            tie=None if data.get("tie") is None else Tie.from_json(data["tie"]),
        )


@dataclass(frozen=True)
class Tally:
    """The outcome of a poll: every round (one for plurality and approval), the winner and any tie it took."""

    method: Method
    candidates: tuple[int, ...]
    ballots: int
    rounds: tuple[Round, ...]
    winner: int | None
    tie: Tie | None = None
    source: str = "ballots"  # or "discord": counts read from a native Discord poll
    notes: tuple[str, ...] = field(default=())

    @property
    def final(self) -> Round:
        return self.rounds[-1]

    @property
    def first(self) -> Round:
        return self.rounds[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "method": str(self.method),
            "candidates": list(self.candidates),
            "ballots": self.ballots,
            "rounds": [r.to_json() for r in self.rounds],
            "winner": self.winner,
            "tie": None if self.tie is None else self.tie.to_json(),
            "source": self.source,
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tally:
        return cls(
            method=Method(data["method"]),
            candidates=tuple(int(f) for f in data["candidates"]),
            ballots=int(data["ballots"]),
            rounds=tuple(Round.from_json(r) for r in data["rounds"]),
            winner=None if data.get("winner") is None else int(data["winner"]),
            tie=None if data.get("tie") is None else Tie.from_json(data["tie"]),
            source=str(data.get("source", "ballots")),
            notes=tuple(data.get("notes", [])),
        )


# -- tie-break -------------------------------------------------------------------------------------------------------


def break_tie(tied: Sequence[int], facts: TieBreakFacts, *, eliminating: bool) -> Tie:
    """Pick one of ``tied`` (the winner, or with ``eliminating`` the one to drop) by the club's tie-break rule."""
    if len(tied) < 2:
        raise ValueError("a tie needs at least two candidates")
    remaining = list(tied)
    rules: list[TieRule] = []

    # 1. The club rating (an unrated film at 3★), then more reviews, the order of /club stats.
    def rating_key(film: int) -> tuple[float, int]:
        rating = facts.ratings.get(film, UNRATED)
        return rating.club_rating, rating.reviews

    values = {rating_key(film) for film in remaining}
    if len(values) > 1:
        target = min(values) if eliminating else max(values)
        remaining = [film for film in remaining if rating_key(film) == target]
        rules.append(TieRule.RATING)
    # 2. Nomination time.
    if len(remaining) > 1:
        times = {facts.nominated_at.get(film, "") for film in remaining}
        if len(times) > 1:
            target_time = max(times) if eliminating else min(times)
            remaining = [film for film in remaining if facts.nominated_at.get(film, "") == target_time]
            rules.append(TieRule.NOMINATION)
    # 3. A draw, seeded by the poll id: reproducible, and not the moderator's choice.
    if len(remaining) > 1:
        remaining = [random.Random(f"filmclub-poll-{facts.seed}").choice(sorted(remaining))]
        rules.append(TieRule.DRAW)
    return Tie(
        tied=tuple(tied),
        chosen=remaining[0],
        rules=tuple(rules),
        eliminating=eliminating,
        ratings=tuple((film, None if (rated := facts.ratings.get(film)) is None else rated.average) for film in tied),
        nominated_at=tuple((film, facts.nominated_at.get(film, "")) for film in tied),
        reviews=tuple((film, facts.ratings.get(film, UNRATED).reviews) for film in tied),
    )


def _single_round(
    method: Method,
    candidates: Sequence[int],
    counts: Mapping[int, int],
    ballots: int,
    facts: TieBreakFacts,
    source: str,
) -> Tally:
    ordered = tuple((film, int(counts.get(film, 0))) for film in candidates)
    round_ = Round(ordered)
    top = max((count for _film, count in ordered), default=0)
    if top == 0:
        return Tally(method, tuple(candidates), ballots, (round_,), None, None, source)
    leaders = [film for film, count in ordered if count == top]
    if len(leaders) == 1:
        return Tally(method, tuple(candidates), ballots, (round_,), leaders[0], None, source)
    tie = break_tie(leaders, facts, eliminating=False)
    return Tally(method, tuple(candidates), ballots, (round_,), tie.chosen, tie, source)


def _valid(ballot: Iterable[int], allowed: set[int]) -> list[int]:
    """A ballot's choices that are candidates, each once, in order."""
    seen: list[int] = []
    for film in ballot:
        if film in allowed and film not in seen:
            seen.append(film)
    return seen


def plurality(candidates: Sequence[int], ballots: Iterable[Sequence[int]], facts: TieBreakFacts) -> Tally:
    """One vote per ballot (its first choice); most votes wins."""
    allowed = set(candidates)
    counts = dict.fromkeys(candidates, 0)
    cast = 0
    for ballot in ballots:
        choices = _valid(ballot, allowed)
        if choices:
            counts[choices[0]] += 1
            cast += 1
    return _single_round(Method.PLURALITY, candidates, counts, cast, facts, "ballots")


def approval(candidates: Sequence[int], ballots: Iterable[Sequence[int]], facts: TieBreakFacts) -> Tally:
    """Each ballot approves any number of films; most approvals wins."""
    allowed = set(candidates)
    counts = dict.fromkeys(candidates, 0)
    cast = 0
    for ballot in ballots:
        choices = _valid(ballot, allowed)
        if choices:
            cast += 1
            for film in choices:
                counts[film] += 1
    return _single_round(Method.APPROVAL, candidates, counts, cast, facts, "ballots")


def from_counts(
    method: Method, candidates: Sequence[int], counts: Mapping[int, int], facts: TieBreakFacts, *, voters: int
) -> Tally:
    """A plurality or approval result from counts alone (a native Discord poll reports counts, not ballots)."""
    if method is Method.RANKED:
        raise ValueError("ranked choice needs the ballots, not counts")
    return _single_round(method, candidates, counts, voters, facts, "discord")


def instant_runoff(candidates: Sequence[int], ballots: Iterable[Sequence[int]], facts: TieBreakFacts) -> Tally:
    """Ranked choice: count first choices; until a film has more than half of the ballots still in play, drop the
    last-placed film and move its ballots to their next choice still running. A ballot whose choices have all been
    dropped is *exhausted* and no longer counts towards the majority.

    Films with no votes at all are dropped together (dropping them one by one moves no ballot, so it changes
    nothing). A tie for last place is broken by the rule above; a tie between the last two decides the winner by it.
    """
    allowed = set(candidates)
    valid = [choices for choices in (_valid(b, allowed) for b in ballots) if choices]
    continuing = list(candidates)
    rounds: list[Round] = []
    while True:
        running = set(continuing)
        counts = dict.fromkeys(continuing, 0)
        exhausted = 0
        for choices in valid:
            choice = next((film for film in choices if film in running), None)
            if choice is None:
                exhausted += 1
            else:
                counts[choice] += 1
        ordered = tuple((film, counts[film]) for film in continuing)
        active = sum(counts.values())
        if active == 0:
            rounds.append(Round(ordered, exhausted))
            return Tally(Method.RANKED, tuple(candidates), len(valid), tuple(rounds), None)
        top = max(counts.values())
        leaders = [film for film in continuing if counts[film] == top]
        if top * 2 > active:
            rounds.append(Round(ordered, exhausted))
            return Tally(Method.RANKED, tuple(candidates), len(valid), tuple(rounds), leaders[0])
        if len(continuing) == len(leaders) == 2:
            tie = break_tie(leaders, facts, eliminating=False)
            rounds.append(Round(ordered, exhausted))
            return Tally(Method.RANKED, tuple(candidates), len(valid), tuple(rounds), tie.chosen, tie)
        zero = [film for film in continuing if counts[film] == 0]
        elimination_tie: Tie | None = None
        if zero:
            eliminated = tuple(zero)
        else:
            low = min(counts.values())
            lowest = [film for film in continuing if counts[film] == low]
            if len(lowest) == 1:
                eliminated = (lowest[0],)
            else:
                elimination_tie = break_tie(lowest, facts, eliminating=True)
                eliminated = (elimination_tie.chosen,)
        rounds.append(Round(ordered, exhausted, eliminated, elimination_tie))
        continuing = [film for film in continuing if film not in eliminated]


def tally(method: Method, candidates: Sequence[int], ballots: Iterable[Sequence[int]], facts: TieBreakFacts) -> Tally:
    if method is Method.PLURALITY:
        return plurality(candidates, ballots, facts)
    if method is Method.APPROVAL:
        return approval(candidates, ballots, facts)
    return instant_runoff(candidates, ballots, facts)
