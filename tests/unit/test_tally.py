"""The counting rules, checked by hand: plurality, approval, instant runoff (eliminations, transfers, exhausted
ballots) and ties broken by a named rule (club rating, then nomination, then a draw seeded by the poll id)."""

from __future__ import annotations

import json

import pytest

from bot.core.errors import UserError
from bot.core.tally import (
    FilmRating,
    Method,
    Tally,
    Tie,
    TieBreakFacts,
    TieRule,
    approval,
    break_tie,
    from_counts,
    instant_runoff,
    parse_method,
    plurality,
    tally,
)

A, B, C, D, E = 1, 2, 3, 4, 5
NO_FACTS = TieBreakFacts(ratings={}, nominated_at={}, seed=7)


def facts(
    ratings: dict[int, tuple[float, int]] | None = None, nominated: dict[int, str] | None = None, seed: int = 7
) -> TieBreakFacts:
    """Tie-break facts from (plain average, number of reviews) per rated film."""
    rated = {film: FilmRating(average, reviews) for film, (average, reviews) in (ratings or {}).items()}
    return TieBreakFacts(ratings=rated, nominated_at=nominated or {}, seed=seed)


# -- plurality ------------------------------------------------------------------------------------------------------


def test_plurality_counts_one_vote_per_ballot_and_the_most_votes_win() -> None:
    result = plurality([A, B, C], [[A], [B], [A], [C], [A]], NO_FACTS)
    assert result.winner == A
    assert result.tie is None
    assert result.ballots == 5
    assert result.first.votes == {A: 3, B: 1, C: 1}
    assert len(result.rounds) == 1


def test_plurality_ignores_choices_that_are_not_candidates_and_empty_ballots() -> None:
    result = plurality([A, B], [[A], [D], [], [B, A], [B]], NO_FACTS)
    assert result.first.votes == {A: 1, B: 2}
    assert result.ballots == 3
    assert result.winner == B


def test_no_votes_means_no_winner() -> None:
    result = plurality([A, B], [], NO_FACTS)
    assert result.winner is None
    assert result.tie is None
    assert result.first.votes == {A: 0, B: 0}


# -- approval -------------------------------------------------------------------------------------------------------


def test_approval_counts_every_approved_film_once_per_ballot() -> None:
    result = approval([A, B, C], [[A, B], [B, C], [B], [A, A, C]], NO_FACTS)
    assert result.first.votes == {A: 2, B: 3, C: 2}
    assert result.winner == B
    assert result.ballots == 4
    assert result.method is Method.APPROVAL


# -- instant runoff -------------------------------------------------------------------------------------------------


def test_a_first_round_majority_wins_at_once() -> None:
    result = instant_runoff([A, B, C], [[A, B], [A], [A, C], [B], [C]], NO_FACTS)
    assert result.winner == A
    assert len(result.rounds) == 1


def test_eliminations_transfer_ballots_until_a_majority() -> None:
    # Round 1: A 4, B 3, C 2 -> C out; its ballots go to B (2) -> B 5 of 9 wins.
    ballots = [[A]] * 4 + [[B, A]] * 3 + [[C, B]] * 2
    result = instant_runoff([A, B, C], ballots, NO_FACTS)
    assert [r.votes for r in result.rounds] == [{A: 4, B: 3, C: 2}, {A: 4, B: 5}]
    assert result.rounds[0].eliminated == (C,)
    assert result.winner == B
    assert result.tie is None


def test_exhausted_ballots_leave_the_count_and_the_majority_is_of_ballots_still_in_play() -> None:
    # Round 1: A 3, B 2, C 2, D 1 -> D out (its ballot has no next choice: exhausted).
    # Round 2: A 3, B 2, C 2 (1 exhausted) -> B and C tie for last; C is unrated, B rated: C goes.
    # C's ballots: one to A, one exhausted. Round 3: A 4, B 2 of 6 in play (2 exhausted) -> A wins.
    ballots = [[A]] * 3 + [[B]] * 2 + [[C, A], [C]] + [[D]]
    result = instant_runoff([A, B, C, D], ballots, facts(ratings={B: (3.0, 1)}))
    votes = [r.votes for r in result.rounds]
    assert votes == [{A: 3, B: 2, C: 2, D: 1}, {A: 3, B: 2, C: 2}, {A: 4, B: 2}]
    assert [r.exhausted for r in result.rounds] == [0, 1, 2]
    assert result.rounds[1].tie is not None
    assert result.rounds[1].tie.eliminating
    assert result.rounds[1].tie.chosen == C
    assert result.rounds[1].tie.rules == (TieRule.RATING,)
    assert result.rounds[2].active == 6
    assert result.winner == A


def test_films_with_no_first_choices_drop_out_together() -> None:
    ballots = [[A, C]] * 3 + [[B, D]] * 2 + [[E, B]] * 2
    result = instant_runoff([A, B, C, D, E], ballots, facts(ratings={B: (4.0, 1), E: (2.0, 1)}))
    assert result.rounds[0].eliminated == (C, D)
    assert result.rounds[0].tie is None
    # B and E tie for last; E has the lower club rating and goes; its ballots give B a majority (4 of 7).
    assert result.rounds[1].votes == {A: 3, B: 2, E: 2}
    assert result.rounds[1].eliminated == (E,)
    assert result.rounds[2].votes == {A: 3, B: 4}
    assert result.winner == B


def test_a_tie_between_the_last_two_is_broken_by_the_rule_and_named() -> None:
    result = instant_runoff([A, B], [[A], [B]], facts(ratings={A: (3.5, 1), B: (4.0, 1)}))
    assert result.winner == B
    assert result.tie is not None
    assert not result.tie.eliminating
    assert result.tie.tied == (A, B)
    assert result.tie.rule_names == ["higher club rating"]


def test_three_way_tie_eliminates_one_and_transfers_instead_of_guessing_a_winner() -> None:
    # A, B, C one first choice each; C is the latest nomination -> C out; C's ballot goes to A.
    ballots = [[A], [B], [C, A]]
    nominated = {A: "2026-01-01", B: "2026-01-01", C: "2026-02-01"}
    result = instant_runoff([A, B, C], ballots, facts(nominated=nominated))
    assert result.rounds[0].eliminated == (C,)
    assert result.rounds[0].tie is not None
    assert result.rounds[0].tie.rule_names == ["later nomination"]
    assert result.winner == A
    assert result.tie is None


def test_ranked_with_no_ballots_has_no_winner() -> None:
    result = instant_runoff([A, B, C], [], NO_FACTS)
    assert result.winner is None
    assert len(result.rounds) == 1


# -- ties -----------------------------------------------------------------------------------------------------------


def test_plurality_tie_goes_to_the_higher_club_rating() -> None:
    result = plurality([A, B, C], [[A], [B], [C], [A], [B]], facts(ratings={A: (3.0, 2), B: (4.5, 2)}))
    assert result.winner == B
    assert result.tie is not None
    assert result.tie.tied == (A, B)
    assert result.tie.rules == (TieRule.RATING,)
    # The tie keeps what members read: each film's plain average and number of reviews.
    assert dict(result.tie.ratings) == {A: 3.0, B: 4.5}
    assert dict(result.tie.reviews) == {A: 2, B: 2}


def test_ten_good_reviews_beat_one_perfect_review_in_a_tie() -> None:
    """The tie-break ranks by the one club rating (bot.core.score.club_rating), not the plain average: ten 4.5★
    reviews (club rating 4.15) beat a single 5★ (3.5), whichever way the tie runs."""
    ratings = {A: (5.0, 1), B: (4.5, 10)}
    win = plurality([A, B], [[A], [B]], facts(ratings=ratings))
    assert win.winner == B
    assert win.tie is not None and win.tie.rules == (TieRule.RATING,)
    assert win.tie.rule_names == ["higher club rating"]
    out = break_tie([A, B], facts(ratings=ratings), eliminating=True)
    assert out.chosen == A
    assert out.rule_names == ["lower club rating"]


def test_an_unrated_film_sits_at_three_stars_as_everywhere_else() -> None:
    # A single 1★ review ranks below a film nobody rated (3★); a single 5★ above it.
    assert break_tie([A, B], facts(ratings={A: (1.0, 1)}), eliminating=False).chosen == B
    assert break_tie([A, B], facts(ratings={A: (1.0, 1)}), eliminating=True).chosen == A
    assert break_tie([A, B], facts(ratings={A: (5.0, 1)}), eliminating=False).chosen == A
    assert break_tie([A, B], facts(ratings={A: (5.0, 1)}), eliminating=True).chosen == B


def test_equal_club_ratings_go_to_the_film_with_more_reviews() -> None:
    # 4★ from three reviews and 5★ from one both have a club rating of 3.5: as in /club stats, more reviews rank
    # higher, and this is still the club-rating step (no fall-through to the nomination).
    tie = break_tie(
        [A, B],
        facts(ratings={A: (5.0, 1), B: (4.0, 3)}, nominated={A: "2026-01-01", B: "2026-02-01"}),
        eliminating=False,
    )
    assert tie.chosen == B
    assert tie.rules == (TieRule.RATING,)
    # A single 3★ review equals an unrated film's 3★, and outranks it on reviews.
    assert break_tie([A, B], facts(ratings={A: (3.0, 1)}), eliminating=True).chosen == B


def test_a_tie_stored_by_the_previous_release_still_loads() -> None:
    """Results stored before the tie kept review counts have only plain averages: they load with no counts."""
    stored = {"tied": [A, B], "chosen": B, "rules": ["rating"], "eliminating": False, "ratings": [[A, 3.0], [B, 4.5]]}
    tie = Tie.from_json(stored)
    assert tie.chosen == B and tie.rules == (TieRule.RATING,)
    assert dict(tie.ratings) == {A: 3.0, B: 4.5}
    assert tie.reviews == ()
    assert tie.nominated_at == ()


def test_equal_ratings_fall_through_to_the_earlier_nomination() -> None:
    tie = break_tie(
        [A, B, C],
        facts(
            ratings={A: (4.0, 2), B: (4.0, 2), C: (2.0, 1)},
            nominated={A: "2026-03-02", B: "2026-01-15", C: "2025-01-01"},
        ),
        eliminating=False,
    )
    assert tie.chosen == B
    assert tie.rules == (TieRule.RATING, TieRule.NOMINATION)
    assert tie.rule_names == ["higher club rating", "earlier nomination"]


def test_a_full_tie_is_a_draw_seeded_by_the_poll_id_and_reproducible() -> None:
    first = break_tie([A, B, C], facts(seed=12), eliminating=False)
    again = break_tie([C, B, A], facts(seed=12), eliminating=False)
    assert first.rules == (TieRule.DRAW,)
    assert first.chosen == again.chosen
    assert first.rule_names == ["a draw seeded by the poll id"]
    # Different polls draw differently (for some seed); every draw picks one of the tied.
    chosen = {break_tie([A, B, C], facts(seed=seed), eliminating=False).chosen for seed in range(30)}
    assert chosen == {A, B, C}


def test_native_counts_give_the_same_result_shape() -> None:
    result = from_counts(Method.PLURALITY, [A, B, C], {A: 2, B: 5}, NO_FACTS, voters=7)
    assert result.winner == B
    assert result.source == "discord"
    assert result.first.votes == {A: 2, B: 5, C: 0}
    with pytest.raises(ValueError, match="ranked"):
        from_counts(Method.RANKED, [A, B], {A: 1}, NO_FACTS, voters=1)


def test_a_tally_survives_json_unchanged() -> None:
    ballots = [[A]] * 3 + [[B]] * 2 + [[C, A], [C]] + [[D]]
    result = tally(Method.RANKED, [A, B, C, D], ballots, facts(ratings={B: (3.0, 1)}))
    assert Tally.from_json(json.loads(json.dumps(result.to_json()))) == result


@pytest.mark.parametrize(
    ("typed", "method"),
    [
        ("a", Method.APPROVAL),  # once plurality: "a" is a letter of "plurality"
        ("appr", Method.APPROVAL),
        ("ra", Method.RANKED),  # once plurality too
        ("r", Method.RANKED),
        ("p", Method.PLURALITY),
        (" Plurality ", Method.PLURALITY),
        ("ranked choice", Method.RANKED),
        ("instant runoff", Method.RANKED),
        ("Runoff", Method.RANKED),
        ("IRV", Method.RANKED),
        ("rcv", Method.RANKED),
    ],
)
def test_a_typed_method_is_read_by_the_name_it_starts(typed: str, method: Method) -> None:
    assert parse_method(typed) is method


@pytest.mark.parametrize("typed", ["", "  ", "x", "lur", "al", "votes"])
def test_a_method_that_names_none_is_refused(typed: str) -> None:
    with pytest.raises(UserError, match="plurality, approval or ranked"):
        parse_method(typed)
