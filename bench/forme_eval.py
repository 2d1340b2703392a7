"""How well /forme predicts what a member watches next, on MovieLens ml-latest-small, under two protocols.

Protocols (each user's held-out ratings are the "next" films; everything else of every user trains the model):

- **latest rating**: each user's latest rating by timestamp (ties: the higher movieId), as the issue-7 figures did.
  MovieLens users rate in bursts ("sessions"), so the held-out film's session mates, rated seconds earlier, are in
  training: a model that weighs the last few interactions heavily learns that artefact, not taste.
- **latest session**: every rating within an hour of the user's latest one; users left with fewer than
  :data:`MIN_TRAINING` training ratings (everything in one session) are not scored, since no model can rank for
  them, but all their ratings train the model.

Ranking: every film the user has not interacted with in training (all 9,742 films minus those); ties go to the lower
movieId. HR@10 is the share of users with a held-out film in their top 10; NDCG@10 is binary-relevance NDCG over the
held-out films (the sum of 1 / log2(rank + 2) over those in the top 10, divided by the best possible sum).

Features (the catalog's themes and people stand in): MovieLens genres, and tags, **except tags a user created at or
after the start of their own held-out ratings** (a tag written in the held-out session would leak it).

Compared: popularity; item-kNN (cosine); EASE (Steck 2019, exact dual form) with and without the same recency
weighting as the taste model; the taste model (bot.core.taste.TasteModel) with its defaults; and, with --explore,
other settings. Differences against both EASE baselines come with a 95% paired bootstrap interval over users
(:data:`BOOTSTRAP` resamples): an interval that excludes 0 is a difference the split can tell apart.

    .venv/bin/python bench/forme_eval.py [--explore]

About 30 s on 2 cores (each model fits once per protocol; --explore about a minute). Needs
../shared/data/movielens-ml-latest-small; says so and exits 0 without it.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.core.taste import Interaction, TasteModel, TasteParams  # noqa: E402

MOVIELENS = REPO.parent / "shared" / "data" / "movielens-ml-latest-small"
K = 10
SESSION = 3600  # seconds: ratings this close to a user's latest one belong to the same sitting
MIN_TRAINING = 5
BOOTSTRAP = 2000
SEED = 11

Rating = tuple[int, int, float, int]  # user, movie, stars, unix time
Tag = tuple[int, int, str, int]  # user, movie, tag, unix time
Vector = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Data:
    movies: list[int]
    genres: dict[int, list[str]]
    tags: list[Tag]
    ratings: list[Rating]


@dataclass(frozen=True)
class Split:
    name: str
    train: list[Rating]
    held_out: dict[int, set[int]]  # user -> movies
    start: dict[int, int]  # user -> their first held-out rating's time: "now" when asking, and the tags' cutoff


def load() -> Data:
    genres: dict[int, list[str]] = {}
    with (MOVIELENS / "movies.csv").open(newline="", encoding="utf-8") as handle:
        for movie_id, _title, names in list(csv.reader(handle))[1:]:
            genres[int(movie_id)] = [f"g:{g}" for g in names.split("|") if g != "(no genres listed)"]
    with (MOVIELENS / "tags.csv").open(newline="", encoding="utf-8") as handle:
        tags = [(int(u), int(m), tag.strip().lower(), int(t)) for u, m, tag, t in list(csv.reader(handle))[1:]]
    with (MOVIELENS / "ratings.csv").open(newline="", encoding="utf-8") as handle:
        ratings = [(int(u), int(m), float(s), int(t)) for u, m, s, t in list(csv.reader(handle))[1:]]
    return Data(sorted(genres), genres, tags, ratings)


def latest_rating_split(ratings: list[Rating]) -> Split:
    """Each user's latest rating (ties: the higher movieId) held out."""
    latest: dict[int, tuple[int, int]] = {}
    for user, movie, _stars, at in ratings:
        latest[user] = max(latest.get(user, (at, movie)), (at, movie))
    held_out = {user: {movie} for user, (_at, movie) in latest.items()}
    train = [r for r in ratings if r[1] not in held_out[r[0]]]
    return Split("latest rating", train, held_out, {user: at for user, (at, _movie) in latest.items()})


def latest_session_split(ratings: list[Rating]) -> Split:
    """Each user's ratings within :data:`SESSION` seconds of their latest held out."""
    latest: dict[int, int] = {}
    for user, _movie, _stars, at in ratings:
        latest[user] = max(latest.get(user, at), at)
    cutoff = {user: at - SESSION for user, at in latest.items()}
    held_out: dict[int, set[int]] = {}
    start: dict[int, int] = {}
    train: list[Rating] = []
    for user, movie, stars, at in ratings:
        if at >= cutoff[user]:
            held_out.setdefault(user, set()).add(movie)
            start[user] = min(start.get(user, at), at)
        else:
            train.append((user, movie, stars, at))
    trained: dict[int, int] = {}
    for user, *_ in train:
        trained[user] = trained.get(user, 0) + 1
    kept = {user: movies for user, movies in held_out.items() if trained.get(user, 0) >= MIN_TRAINING}
    train += [r for r in ratings if r[0] not in kept and r[1] in held_out[r[0]]]  # not scored: all of it trains
    return Split("latest session", train, kept, {user: at for user, at in start.items() if user in kept})


def features_for(data: Data, split: Split) -> dict[int, list[str]]:
    """Genres, and the tags each user wrote before their held-out ratings started."""
    features = {movie: list(names) for movie, names in data.genres.items()}
    for user, movie, tag, at in data.tags:
        if at < split.start.get(user, math.inf):
            features[movie].append(f"t:{tag}")
    return features


class Evaluation:
    def __init__(self, movies: list[int], split: Split) -> None:
        self.column = {movie: col for col, movie in enumerate(movies)}
        self.users = sorted(split.held_out)
        self.row = {user: row for row, user in enumerate(self.users)}
        self.targets = [np.asarray([self.column[m] for m in split.held_out[u]], dtype=np.int64) for u in self.users]
        self.matrix = np.zeros((len(self.users), len(movies)), dtype=np.float64)
        for user, movie, _stars, _at in split.train:
            if user in self.row:
                self.matrix[self.row[user], self.column[movie]] = 1.0
        self.discount = 1.0 / np.log2(np.arange(K) + 2.0)

    def score(self, scores_of: Callable[[int], Vector]) -> tuple[Vector, Vector]:
        """(hit, NDCG@10) per user, for a function user -> scores over every movie column."""
        hits = np.zeros(len(self.users))
        gains = np.zeros(len(self.users))
        order = np.arange(self.matrix.shape[1])
        for index, user in enumerate(self.users):
            scores = np.asarray(scores_of(user), dtype=np.float64).copy()
            scores[self.matrix[index] > 0] = -np.inf
            top = np.lexsort((order, -scores))[:K]
            relevant = np.isin(top, self.targets[index])
            hits[index] = float(relevant.any())
            ideal = self.discount[: min(K, len(self.targets[index]))].sum()
            gains[index] = float(self.discount[relevant].sum() / ideal)
        return hits, gains


def paired_interval(ours: Vector, theirs: Vector, rng: np.random.Generator) -> tuple[float, float, float]:
    """Mean difference and its 95% paired bootstrap interval over users."""
    difference = ours - theirs
    samples = rng.integers(0, len(difference), size=(BOOTSTRAP, len(difference)))
    means = difference[samples].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(difference.mean()), float(low), float(high)


def taste_scores(
    params: TasteParams,
    interactions: list[Interaction],
    features: Mapping[int, list[str]] | None,
    movies: list[int],
    now: Mapping[int, int],
) -> tuple[Callable[[int], Vector], float]:
    """A fitted model as a function user -> scores over every movie, asked at the user's ``now``; and its fit time."""
    started = time.perf_counter()
    model = TasteModel.fit(interactions, features, films=movies, params=params)
    fit = time.perf_counter() - started
    column = {movie: col for col, movie in enumerate(movies)}
    columns = np.asarray([column[int(f)] for f in model.films], dtype=np.int64)

    def scores_of(user: int) -> Vector:
        full = np.zeros(len(movies))
        found = model.scores(user, now=float(now[user]))
        if found is not None:
            full[columns] = found
        return full

    return scores_of, fit


BASELINE_RIDGE = 200.0  # plain EASE's and EASE + recency's best λ here, of 100, 200, 300 and 400
PLAIN = TasteParams(ridge=BASELINE_RIDGE, recency=0, rating_slope=0, feature_weight=0)


def whole_history(params: TasteParams) -> TasteParams:
    """The same model with recency by rank over a member's whole history: the issue-7 weighting."""
    return replace(params, session=math.inf, long_term=0.0)


BASELINES = ("EASE", "EASE + recency")


def variants(explore: bool) -> list[tuple[str, TasteParams, bool]]:
    """(name, parameters, with genres and tags) of every model scored beyond popularity and item-kNN."""
    ease_recency = whole_history(replace(PLAIN, recency=10.0))
    defaults = TasteParams()
    found = [
        ("EASE", PLAIN, False),
        ("EASE + recency", ease_recency, False),
        ("taste model (defaults)", defaults, True),
        ("issue-7 defaults (before)", whole_history(replace(defaults, ridge=BASELINE_RIDGE)), True),
    ]
    if explore:
        found += [
            ("  without recency", replace(defaults, recency=0), True),
            ("  without rating weights", replace(defaults, rating_slope=0), True),
            ("  without genres and tags", replace(defaults, feature_weight=0), False),
        ]
        for ridge, long_term in ((200.0, 0.03), (300.0, 0.01), (400.0, 0.02)):
            found.append(
                (
                    f"  ridge {ridge:g}, long term {long_term:g}",
                    replace(defaults, ridge=ridge, long_term=long_term),
                    True,
                )
            )
    return found


def run(data: Data, split: Split, explore: bool, rng: np.random.Generator) -> None:
    evaluation = Evaluation(data.movies, split)
    x = evaluation.matrix
    held = sum(len(t) for t in evaluation.targets)
    print(f"\n## {split.name}: {len(evaluation.users)} users, {held} held-out ratings, {len(split.train)} training")
    print(f"{'model':36} {'HR@10':>6} {'NDCG@10':>8} {'fit':>7}   NDCG@10 difference vs EASE · vs EASE + recency")
    results: dict[str, tuple[Vector, Vector]] = {}

    def report(name: str, hits: Vector, gains: Vector, fit: float | None = None) -> None:
        results[name] = (hits, gains)
        fit_text = f"{fit:5.1f} s" if fit is not None else ""
        against = []
        if all(b in results for b in BASELINES) and name not in BASELINES:
            for baseline in BASELINES:
                mean, low, high = paired_interval(gains, results[baseline][1], rng)
                against.append(f"{mean:+.3f} [{low:+.3f}, {high:+.3f}]")
        print(f"{name:36} {hits.mean():6.3f} {gains.mean():8.3f} {fit_text:>7}   {' · '.join(against)}")

    popularity = x.sum(axis=0)
    report("popularity", *evaluation.score(lambda _user: popularity))
    # Item-kNN, cosine over all co-rating films: X·C with C = D^-1/2 XᵀX D^-1/2, as (X D^-1/2 Xᵀ)(X D^-1/2).
    started = time.perf_counter()
    scaled = x / np.sqrt(np.maximum(x.sum(axis=0), 1.0))
    knn = (scaled @ x.T) @ scaled
    fit = time.perf_counter() - started
    report("item-kNN (cosine)", *evaluation.score(lambda user: knn[evaluation.row[user]]), fit)

    interactions = [Interaction(user, movie, stars, float(at)) for user, movie, stars, at in split.train]
    features = features_for(data, split)
    kept = sum(name.startswith("t:") for names in features.values() for name in names)
    print(f"tags in the features: {kept} of {len(data.tags)} (the rest were written at or after a held-out rating)")
    for name, params, with_features in variants(explore):
        scores_of, fit = taste_scores(
            params, interactions, features if with_features else None, data.movies, split.start
        )
        report(name, *evaluation.score(scores_of), fit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--explore", action="store_true", help="also score ablations and other recency settings")
    args = parser.parse_args()
    if not MOVIELENS.is_dir():
        print(f"skipped: MovieLens not found at {MOVIELENS}")
        return
    data = load()
    print(f"MovieLens ml-latest-small: {len(data.movies)} films, {len(data.ratings)} ratings, {len(data.tags)} tags")
    print(f"taste model defaults: {TasteParams()}")
    rng = np.random.default_rng(SEED)
    for split in (latest_rating_split(data.ratings), latest_session_split(data.ratings)):
        run(data, split, args.explore, rng)
    print("\n[low, high]: 95% paired bootstrap interval of the mean difference over users; excluding 0 means real.")


if __name__ == "__main__":
    main()
