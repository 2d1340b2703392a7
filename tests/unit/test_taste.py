"""The taste model: exact EASE in its dual form, plus recency, ratings and shared themes/people."""

from __future__ import annotations

import numpy as np

from bot.core.taste import Interaction, TasteModel, TasteParams

PLAIN = TasteParams(recency=0, rating_slope=0, feature_weight=0)


def primal_ease_scores(matrix: np.ndarray, ridge: float) -> np.ndarray:
    """Steck's closed form, the n×n way: B = I - P·diag(1/diag P), P = (XᵀX + λI)⁻¹; scores = X·B."""
    gram = matrix.T @ matrix + ridge * np.eye(matrix.shape[1])
    p = np.linalg.inv(gram)
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0.0)
    return matrix @ b


def test_dual_form_matches_the_textbook_closed_form() -> None:
    rng = np.random.default_rng(3)
    matrix = (rng.random((12, 30)) < 0.25).astype(float)
    interactions = [Interaction(user, film, None, 0.0) for user, film in zip(*np.nonzero(matrix), strict=True)]
    model = TasteModel.fit(
        interactions, films=list(range(30)), params=TasteParams(ridge=5.0, recency=0, rating_slope=0, feature_weight=0)
    )
    expected = primal_ease_scores(matrix, 5.0)
    for user in range(12):
        scores = model.scores(user)
        if scores is None:
            assert not matrix[user].any()
            continue
        unseen = matrix[user] == 0
        assert np.allclose(scores[unseen], expected[user][unseen], atol=1e-4)


def score_map(model: TasteModel, user_id: int) -> dict[int, float]:
    scores = model.scores(user_id)
    assert scores is not None
    return dict(zip(model.films.tolist(), scores.tolist(), strict=True))


def co_watchers(extra: list[Interaction]) -> list[Interaction]:
    """Ten members who watch films 1 and 2 together, and five others who watch films 3 and 4 together."""
    base = []
    for user in range(10, 20):
        base += [Interaction(user, 1, None, 0), Interaction(user, 2, None, 0)]
    for user in range(20, 25):
        base += [Interaction(user, 3, None, 0), Interaction(user, 4, None, 0)]
    return base + extra


def test_a_member_gets_what_people_who_share_their_films_watched() -> None:
    model = TasteModel.fit(co_watchers([Interaction(1, 1, 5.0, 0)]), films=[1, 2, 3, 4, 5], params=PLAIN)
    scores = score_map(model, 1)
    assert scores[2] > 0
    assert scores[3] == scores[4] == scores[5] == 0  # nothing connects film 1 to them
    assert model.scores(999) is None
    assert [b.film_id for b in model.because(1, 2)] == [1]


def test_recent_interactions_weigh_more() -> None:
    old_1_new_3 = [Interaction(1, 1, None, 100.0), Interaction(1, 3, None, 200.0)]
    model = TasteModel.fit(
        co_watchers(old_1_new_3), films=[1, 2, 3, 4], params=TasteParams(recency=1.0, feature_weight=0)
    )
    scores = score_map(model, 1)
    assert scores[4] > scores[2]  # 4 goes with 3, the newer one
    flat = TasteModel.fit(co_watchers(old_1_new_3), films=[1, 2, 3, 4], params=PLAIN)
    flat_scores = score_map(flat, 1)
    assert flat_scores[2] > flat_scores[4]  # 1 and 2 co-occur more, without recency


def test_low_ratings_pull_less_than_high_ones() -> None:
    rated = [Interaction(1, 1, 1.0, 0.0), Interaction(1, 3, 5.0, 0.0)]
    model = TasteModel.fit(co_watchers(rated), films=[1, 2, 3, 4], params=TasteParams(recency=0, feature_weight=0))
    scores = score_map(model, 1)
    assert scores[4] > scores[2]
    assert model.because(1, 4)[0].film_id == 3


def test_shared_themes_reach_films_nobody_rated() -> None:
    features = {1: ["t:live"], 2: ["t:live"], 3: ["t:road"], 4: ["t:road"], 5: ["t:live", "p:bob dylan"]}
    features |= {film: [f"t:other-{film % 2}"] for film in range(6, 12)}  # a theme on most films says little
    model = TasteModel.fit([Interaction(1, 1, 5.0, 0.0)], features, films=list(range(1, 12)))
    scores = score_map(model, 1)
    assert scores[2] > 0 and scores[5] > 0
    assert scores[3] == 0 and scores[4] == 0
    without = TasteModel.fit([Interaction(1, 1, 5.0, 0.0)], films=list(range(1, 12)))
    assert set(score_map(without, 1).values()) == {0.0} | {score_map(without, 1)[1]}


def test_similar_members_agree_on_ratings() -> None:
    ratings = []
    for film, (alice, bob, carol) in enumerate([(5, 5, 1), (4, 4.5, 2), (1, 1.5, 5), (2, 2, 4)], start=1):
        ratings += [Interaction(1, film, alice, 0), Interaction(2, film, bob, 0), Interaction(3, film, carol, 0)]
    model = TasteModel.fit(ratings, films=[1, 2, 3, 4])
    assert [user for user, _similarity in model.similar_members(1)] == [2]
    assert model.rating(2, 1) == 5 and model.rating(2, 99) is None
    assert model.interacted(1) == {1, 2, 3, 4}


def test_a_large_catalog_keeps_the_most_watched_films() -> None:
    interactions = [Interaction(user, film, None, 0) for user in range(5) for film in range(user + 1)]
    model = TasteModel.fit(interactions, films=list(range(100)), params=TasteParams(max_films=3))
    assert model.films.tolist() == [0, 1, 2]
    a_rating_beats_a_mark = [Interaction(1, 1, None, 0), Interaction(1, 1, 4.0, 5)]
    assert TasteModel.fit(a_rating_beats_a_mark, films=[1]).rating(1, 1) == 4.0


def test_only_a_session_in_progress_outweighs_the_rest_of_a_members_history() -> None:
    """Films rated in the last hour lead (the member is rating as they go); hours later, all history counts alike."""
    old_1_new_3 = [Interaction(1, 1, None, 0.0), Interaction(1, 3, None, 600.0)]
    model = TasteModel.fit(co_watchers(old_1_new_3), films=[1, 2, 3, 4], params=TasteParams(session=300.0))
    during = model.scores(1, now=700.0)  # film 3 rated 100 s ago, film 1 long before
    assert during is not None and during[3] > during[1]  # columns: films 1..4 -> 0..3; 4 goes with 3
    later = model.scores(1, now=600.0 + 7200.0)
    assert later is not None and later[1] > later[3]  # 1 and 2 co-occur more: nothing is in progress any more
    assert model.scores(1) is not None  # by default: asked right after the latest interaction
