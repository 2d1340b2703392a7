"""How well /forme predicts what a member watches next: MovieLens ml-latest-small, leave-latest-out; prints figures.

Protocol (the one the issue quotes reference figures for): for each of the 610 users, hold out their latest rating
by timestamp (ties: the higher movieId); train on every other rating, ratings as interactions; rank every film the
user has not interacted with in training (all 9,742 films minus those); report HR@10 (the held-out film is in the
top 10) and NDCG@10 (1 / log2(rank + 1) when it is), averaged over all users. A film tied with the held-out one
counts as ranked above it when its movieId is lower. Genres and tags stand in for the catalog's themes.

Compared side by side: popularity; item-kNN (cosine similarity over all co-rating films); plain EASE (Steck 2019;
computed in its exact dual form, the same closed form as the n×n one); and the club's model,
bot.core.taste.TasteModel with its default parameters, with three ablations.

    .venv/bin/python bench/forme_eval.py

Needs ../shared/data/movielens-ml-latest-small; says so and exits 0 without it.
"""

from __future__ import annotations

import csv
import math
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.core.taste import Interaction, TasteModel, TasteParams  # noqa: E402

MOVIELENS = REPO.parent / "shared" / "data" / "movielens-ml-latest-small"
K = 10
REFERENCE = "popularity 0.043 / 0.019 · item-kNN (cosine) 0.057 / 0.026 · EASE 0.089 / 0.041"


def load() -> tuple[list[int], dict[int, list[str]], list[tuple[int, int, float, int]]]:
    """(movie ids, movie -> genre and tag features, (user, movie, stars, time) ratings)."""
    features: dict[int, list[str]] = {}
    with (MOVIELENS / "movies.csv").open(newline="", encoding="utf-8") as handle:
        for movie_id, _title, genres in list(csv.reader(handle))[1:]:
            features[int(movie_id)] = [f"g:{g}" for g in genres.split("|") if g != "(no genres listed)"]
    with (MOVIELENS / "tags.csv").open(newline="", encoding="utf-8") as handle:
        for _user, movie_id, tag, _at in list(csv.reader(handle))[1:]:
            features[int(movie_id)].append(f"t:{tag.strip().lower()}")
    with (MOVIELENS / "ratings.csv").open(newline="", encoding="utf-8") as handle:
        ratings = [(int(u), int(m), float(s), int(t)) for u, m, s, t in list(csv.reader(handle))[1:]]
    return sorted(features), features, ratings


def split(ratings: list[tuple[int, int, float, int]]) -> tuple[list[tuple[int, int, float, int]], dict[int, int]]:
    """Training ratings, and each user's held-out movie (the latest rating; ties: the higher movieId)."""
    latest: dict[int, tuple[int, int]] = {}
    for user, movie, _stars, at in ratings:
        latest[user] = max(latest.get(user, (at, movie)), (at, movie))
    held_out = {user: movie for user, (_at, movie) in latest.items()}
    return [r for r in ratings if held_out[r[0]] != r[1]], held_out


class Evaluation:
    def __init__(self, movies: list[int], train: list[tuple[int, int, float, int]], held_out: dict[int, int]):
        self.column = {movie: col for col, movie in enumerate(movies)}
        self.users = sorted(held_out)
        self.row = {user: row for row, user in enumerate(self.users)}
        self.held_out = held_out
        self.matrix = np.zeros((len(self.users), len(movies)), dtype=np.float64)
        for user, movie, _stars, _at in train:
            self.matrix[self.row[user], self.column[movie]] = 1.0

    def score(self, scores_of: Callable[[int], np.ndarray]) -> tuple[float, float, list[float]]:
        """(HR@10, NDCG@10, seconds per user to answer) for a function user -> scores over every movie column."""
        hits = gains = 0.0
        timings = []
        order = np.arange(self.matrix.shape[1])
        for user in self.users:
            started = time.perf_counter()
            scores = np.asarray(scores_of(user), dtype=np.float64).copy()
            timings.append(time.perf_counter() - started)
            scores[self.matrix[self.row[user]] > 0] = -np.inf
            target = self.column[self.held_out[user]]
            value = scores[target]
            rank = int((scores > value).sum() + ((scores == value) & (order < target)).sum())
            if rank < K:
                hits += 1
                gains += 1 / math.log2(rank + 2)
        return hits / len(self.users), gains / len(self.users), timings


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1]


def main() -> None:
    if not MOVIELENS.is_dir():
        print(f"skipped: MovieLens not found at {MOVIELENS}")
        return
    movies, features, ratings = load()
    train, held_out = split(ratings)
    evaluation = Evaluation(movies, train, held_out)
    x = evaluation.matrix
    print(
        f"MovieLens ml-latest-small: {len(evaluation.users)} users, {len(movies)} films, {len(ratings)} ratings; "
        f"{len(train)} for training, each user's latest held out"
    )
    print(f"{'model':44} {'HR@10':>6} {'NDCG@10':>8} {'fit':>8} {'answer p50 / p99':>20}")

    def report(name: str, hr: float, ndcg: float, fit: float | None = None, timings: list[float] | None = None) -> None:
        fit_text = f"{fit:6.2f} s" if fit is not None else ""
        answer = f"{percentile(timings, 50) * 1000:6.2f} / {percentile(timings, 99) * 1000:5.2f} ms" if timings else ""
        print(f"{name:44} {hr:6.3f} {ndcg:8.3f} {fit_text:>8} {answer:>20}")

    popularity = x.sum(axis=0)
    hr, ndcg, _ = evaluation.score(lambda _user: popularity)
    report("popularity", hr, ndcg)

    # Item-kNN, cosine over all co-rating films: scores = X·C with C = D^-1/2 XᵀX D^-1/2, computed as
    # (X D^-1/2 Xᵀ)(X D^-1/2) so the 9,742² similarity matrix is never built.
    started = time.perf_counter()
    scaled = x / np.sqrt(np.maximum(x.sum(axis=0), 1.0))
    knn = (scaled @ x.T) @ scaled
    fit = time.perf_counter() - started
    hr, ndcg, _ = evaluation.score(lambda user: knn[evaluation.row[user]])
    report("item-kNN (cosine)", hr, ndcg, fit)

    interactions = [Interaction(user, movie, stars, float(at)) for user, movie, stars, at in train]
    plain = TasteParams(recency=0, rating_slope=0, feature_weight=0)
    variants: list[tuple[str, TasteParams, bool]] = [
        (f"EASE (λ={plain.ridge:g}, exact dual form)", plain, False),
        ("taste model (bot/core/taste.py, defaults)", TasteParams(), True),
        ("  without recency", replace(TasteParams(), recency=0), True),
        ("  without rating weights", replace(TasteParams(), rating_slope=0), True),
        ("  without themes (genres and tags)", replace(TasteParams(), feature_weight=0), False),
    ]
    for name, params, with_features in variants:
        started = time.perf_counter()
        model = TasteModel.fit(interactions, features if with_features else None, films=movies, params=params)
        fit = time.perf_counter() - started
        columns = np.asarray([evaluation.column[int(f)] for f in model.films], dtype=np.int64)

        def scores_of(user: int, model: TasteModel = model, columns: np.ndarray = columns) -> np.ndarray:
            full = np.zeros(len(movies))
            found = model.scores(user)
            if found is not None:
                full[columns] = found
            return full

        hr, ndcg, timings = evaluation.score(scores_of)
        report(name, hr, ndcg, fit, timings)
    print(f"reference figures on this protocol (issue 7): {REFERENCE}")


if __name__ == "__main__":
    main()
