"""The taste model behind /forme and /tonight: what a member will probably want to watch next.

It is EASE (Steck 2019, "Embarrassingly Shallow Autoencoders"), a closed-form ridge regression that learns, for
every film, how much each other film a member interacted with predicts it, with three additions:

- **Side information** ("collective EASE"): every theme and person (director or featured artist) shared by two or
  more films becomes an extra pseudo-member who "watched" those films, with weight ``feature_weight``. Films
  sharing themes and people with what a member liked then score even when nobody in the club rated them yet.
- **A session in progress**: what a member rated within ``session`` seconds of asking (they are rating as they go)
  weighs the most, the k-th newest of those ``exp(-k / recency)``; everything older weighs ``long_term`` of the
  newest, all alike. Weighing a member's whole history by rank (``session`` = infinity, the issue-7 default) looked
  better when the held-out film was the last of a MovieLens rating burst, but only because its burst-mates were in
  training: holding out whole sessions, it lost to plain EASE. Taste does not drift by the rating.
- **Ratings**: an interaction weighs ``1 + rating_slope * (stars - the member's mean)``, at least ``weight_floor``:
  films rated low pull their neighbours up much less than films rated high. A film watched but not rated counts 1.

Members, not films, set the cost. EASE needs ``P = (XᵀX + λI)⁻¹`` over films (n×n); with the Woodbury identity
``P = (I - Xᵀ K X) / λ`` where ``K = (XXᵀ + λI)⁻¹`` is m×m over members and feature rows. A club has tens to a few
hundred members and up to 10,000 films, so fitting costs O(m²n) (well under a second for a club, about a second for
MovieLens' 610 users × 9,700 films) instead of an n×n inverse (30 s and 800 MB at 10,000 films), and nothing n×n is
ever stored. A member's scores are ``s_j = (x K X)_j / (1 - Σ_r (KX)_rj X_rj)`` for the weighted interaction row
``x``: one m×n product, a few milliseconds.

bench/forme_eval.py measures it on MovieLens (HR@10 / NDCG@10, holding out each user's latest rating, and their
latest session) against popularity, item-kNN and EASE with and without recency. Plain Python and numpy: no discord,
no database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float64]
Matrix = npt.NDArray[np.float32]

#: Mean agreement (1 = the same stars on every shared film) from which two members count as having similar taste.
AGREEMENT = 0.75
#: How many of a member's most recent films :meth:`TasteModel.because` looks through.
BECAUSE_FILMS = 200
_CHUNK = 2048  # films per block when computing diag(P) at fit time, to bound the temporary m×chunk matrix


@dataclass(frozen=True)
class Interaction:
    """A member rated (``stars``) or watched without rating (``stars`` None) a film at ``at`` (Unix seconds)."""

    user_id: int
    film_id: int
    stars: float | None
    at: float


@dataclass(frozen=True)
class TasteParams:
    """The model's knobs; the defaults are the ones bench/forme_eval.py reports."""

    ridge: float = 300.0  # λ: larger trusts co-occurrence less
    recency: float = 10.0  # the k-th newest interaction of a session in progress weighs exp(-k / recency); 0: off
    session: float = 3600.0  # seconds before "now" that count as a session in progress; math.inf: all history
    long_term: float = 0.02  # what every older interaction weighs (the newest one weighs 1)
    rating_slope: float = 0.25  # weight = 1 + slope * (stars - member's mean stars); 0 treats ratings as interactions
    weight_floor: float = 0.1  # ... but never below this (a low rating still says "this is my kind of film")
    feature_weight: float = 0.3  # α: how much a shared theme or person counts, against one member's interaction
    max_features: int = 1000  # the most frequent features kept (each costs a row)
    max_films: int = 10_000  # the films the model ranks; beyond that, the most interacted-with


@dataclass(frozen=True)
class Because:
    """Why a film was recommended: the member's own films that predict it most, with their stars."""

    film_id: int
    stars: float | None
    weight: float


class TasteModel:
    """A fitted model for one server. Build with :meth:`fit`; ask with :meth:`scores`, :meth:`because`."""

    def __init__(
        self,
        films: npt.NDArray[np.int64],
        members: list[int],
        columns: _SparseColumns,
        k: Matrix,
        denominator: Vector,
        rows: dict[int, tuple[npt.NDArray[np.int64], Vector, Vector]],
        ratings: dict[int, dict[int, float]],
        params: TasteParams,
    ) -> None:
        self.films = films
        self.column = {int(film_id): col for col, film_id in enumerate(films.tolist())}
        self.members = members
        self._x = columns
        self._k = k
        self._denominator = denominator
        self._rows = rows
        self._ratings = ratings
        self.params = params
        # Stars by film (rows are member positions), for finding members who agree with one member.
        member_row = {user_id: row for row, user_id in enumerate(members)}
        rated = np.zeros((len(members), len(films)), dtype=np.float32)
        for user_id, by_film in ratings.items():
            for film_id, stars in by_film.items():
                rated[member_row[user_id], self.column[film_id]] = stars
        self._rated = _SparseColumns.of(rated)

    # -- fitting --------------------------------------------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        interactions: Iterable[Interaction],
        features: Mapping[int, Iterable[str]] | None = None,
        *,
        films: Sequence[int] | None = None,
        params: TasteParams | None = None,
    ) -> TasteModel:
        """Fit on a server's interactions. ``films`` are the films to rank (all of them when it has at most
        ``max_films``; otherwise the most interacted-with); ``features`` maps a film to its themes and people."""
        params = params or TasteParams()
        seen: dict[tuple[int, int], Interaction] = {}
        for item in interactions:
            key = (item.user_id, item.film_id)
            current = seen.get(key)
            if current is None or (current.stars is None and item.stars is not None):  # a rating beats a mark
                seen[key] = item
        universe = _universe(seen.values(), films, params.max_films)
        column = {film_id: col for col, film_id in enumerate(universe)}
        kept = [item for item in seen.values() if item.film_id in column]
        members = sorted({item.user_id for item in kept})
        member_row = {user_id: row for row, user_id in enumerate(members)}
        feature_rows = _feature_rows(features or {}, column, params.max_features)

        m, n = len(members) + len(feature_rows), len(universe)
        x = np.zeros((m, n), dtype=np.float32)
        for item in kept:
            x[member_row[item.user_id], column[item.film_id]] = 1.0
        for offset, cols in enumerate(feature_rows):
            x[len(members) + offset, cols] = params.feature_weight
        gram = (x @ x.T).astype(np.float64)
        gram[np.diag_indices_from(gram)] += params.ridge
        k = np.linalg.inv(gram).astype(np.float32)
        denominator = np.empty(n, dtype=np.float64)  # λ·diag(P) = 1 - x_jᵀ K x_j, in (0, 1]
        for start in range(0, n, _CHUNK):
            block = x[:, start : start + _CHUNK]
            denominator[start : start + _CHUNK] = 1.0 - np.einsum("ij,ij->j", k @ block, block, dtype=np.float64)

        by_member: dict[int, list[Interaction]] = {}
        for item in kept:
            by_member.setdefault(item.user_id, []).append(item)
        rows: dict[int, tuple[npt.NDArray[np.int64], Vector, Vector]] = {}
        ratings: dict[int, dict[int, float]] = {}
        for user_id, items in by_member.items():
            rows[user_id] = _member_row(items, column, params)
            ratings[user_id] = {item.film_id: item.stars for item in items if item.stars is not None}
        sparse = _SparseColumns.of(x)
        return cls(np.asarray(universe, dtype=np.int64), members, sparse, k, denominator, rows, ratings, params)

    # -- asking ---------------------------------------------------------------------------------------------------

    def knows(self, user_id: int) -> bool:
        return user_id in self._rows

    def interacted(self, user_id: int) -> set[int]:
        """The films a member rated or watched, as the model saw them."""
        return set(self.recent(user_id))

    def recent(self, user_id: int, limit: int | None = None) -> list[int]:
        """The films a member rated or watched, newest first."""
        row = self._rows.get(user_id)
        return [] if row is None else self.films[row[0][:limit]].tolist()

    def rating(self, user_id: int, film_id: int) -> float | None:
        return self._ratings.get(user_id, {}).get(film_id)

    def weights(self, user_id: int, now: float | None = None) -> tuple[npt.NDArray[np.int64], Vector] | None:
        """A member's weighted interaction row (columns newest first, weights) as of ``now`` (Unix seconds; by
        default the moment of their latest interaction), or None if the model has nothing on them."""
        row = self._rows.get(user_id)
        if row is None:
            return None
        cols, weights, times = row
        params = self.params
        if params.recency > 0:
            moment = float(times[0]) if now is None else now
            in_progress = (moment - times) <= params.session
            decay = np.exp(-np.arange(len(cols), dtype=np.float64) / params.recency) * in_progress
            weights = weights * (params.long_term + (1.0 - params.long_term) * decay)
        return cols, weights

    def scores(self, user_id: int, now: float | None = None) -> Vector | None:
        """Relevance of every film in :attr:`films` for a member as of ``now`` (higher is better), or None if the
        model has nothing on them. Films they interacted with get meaningless scores: callers drop them."""
        row = self.weights(user_id, now)
        if row is None:
            return None
        cols, weights = row
        mix = self._x.times_columns(cols, weights)  # X·x: the member's weighted films, per row of X
        # einsum, not BLAS: a matrix-vector product this small is faster single-threaded, and BLAS threads
        # spinning for a core that another process holds cost milliseconds at the 99th percentile.
        return self._x.row_combination(np.einsum("i,ij->j", mix, self._k)) / self._denominator

    def because(self, user_id: int, film_id: int, limit: int = 2, now: float | None = None) -> list[Because]:
        """The member's films that contribute most to ``film_id``'s score, largest first (positive ones only)."""
        row = self.weights(user_id, now)
        target = self.column.get(film_id)
        if row is None or target is None:
            return []
        cols, weights = row[0][:BECAUSE_FILMS], row[1][:BECAUSE_FILMS]  # newest first: the rest weigh ~nothing
        # Contribution of film i to film j: w_i · (X[:, i]ᵀ K X[:, j]) / denominator_j, for i ≠ j.
        rows, values = self._x.column(target)
        through = np.einsum("ij,j->i", self._k[:, rows], values.astype(np.float32)).astype(np.float64)  # K X[:, j]
        pull = self._x.dot_columns(cols, through) * weights / self._denominator[target]
        found: list[Because] = []
        for index in np.argsort(-pull, kind="stable")[: limit + 1].tolist():
            other, value = int(self.films[cols[index]]), float(pull[index])
            if value > 0 and other != film_id and len(found) < limit:
                found.append(Because(other, self.rating(user_id, other), value))
        return found

    def similar_members(self, user_id: int, limit: int = 10) -> list[tuple[int, float]]:
        """Members whose ratings agree with this member's, most alike first.

        Agreement on a shared film is ``1 - |difference| / 4.5`` (1 for the same stars, 0 for ½★ against 5★); a
        member is alike when the mean agreement is at least :data:`AGREEMENT`, and the similarity is that mean
        shrunk by how few films they share (one film in common proves less than ten).
        """
        mine = self._ratings.get(user_id)
        if not mine:
            return []
        cols = np.asarray([self.column[f] for f in mine], dtype=np.int64)
        stars = np.asarray(list(mine.values()), dtype=np.float64)
        entries, owner = self._rated.entries(cols)
        others = self._rated.rows[entries]
        difference = np.abs(self._rated.values[entries] - stars[owner])
        count = len(self.members)
        shared = np.bincount(others, minlength=count)
        total = np.bincount(others, weights=difference, minlength=count)
        found = []
        for row in np.flatnonzero(shared).tolist():
            other = self.members[row]
            agreement = 1.0 - float(total[row]) / (4.5 * int(shared[row]))
            if other != user_id and agreement >= AGREEMENT:
                found.append((other, agreement * int(shared[row]) / (int(shared[row]) + 2)))
        found.sort(key=lambda pair: (-pair[1], pair[0]))
        return found[:limit]

    def ratings_by(self, user_id: int) -> dict[int, float]:
        return dict(self._ratings.get(user_id, {}))


def _universe(items: Iterable[Interaction], films: Sequence[int] | None, limit: int) -> list[int]:
    counts = Counter(item.film_id for item in items)
    if films is not None and len(films) <= limit:
        return sorted(set(films))
    allowed = set(films) if films is not None else None
    ranked = sorted((f for f in counts if allowed is None or f in allowed), key=lambda f: (-counts[f], f))
    return sorted(ranked[:limit])


def _feature_rows(
    features: Mapping[int, Iterable[str]], column: Mapping[int, int], limit: int
) -> list[npt.NDArray[np.int64]]:
    """Column lists of the features shared by 2 or more films (and by at most half of them), most frequent first."""
    films_of: dict[str, list[int]] = {}
    for film_id, names in features.items():
        col = column.get(film_id)
        if col is not None:
            for name in set(names):
                films_of.setdefault(name, []).append(col)
    ceiling = max(2, len(column) // 2)
    useful = [(name, cols) for name, cols in films_of.items() if 2 <= len(cols) <= ceiling]
    useful.sort(key=lambda pair: (-len(pair[1]), pair[0]))
    return [np.asarray(sorted(cols), dtype=np.int64) for _name, cols in useful[:limit]]


def _member_row(
    items: list[Interaction], column: Mapping[int, int], params: TasteParams
) -> tuple[npt.NDArray[np.int64], Vector, Vector]:
    """One member's interactions newest first, as (columns, rating weights, times); recency is applied when asked
    (:meth:`TasteModel.weights`), since it depends on when the member asks."""
    rated = [item.stars for item in items if item.stars is not None]
    mean = sum(rated) / len(rated) if rated else 0.0
    newest_first = sorted(items, key=lambda item: (-item.at, item.film_id))
    cols = np.asarray([column[item.film_id] for item in newest_first], dtype=np.int64)
    weights = np.ones(len(newest_first), dtype=np.float64)
    times = np.asarray([item.at for item in newest_first], dtype=np.float64)
    if params.rating_slope:
        factor = [
            1.0 if item.stars is None else max(params.weight_floor, 1.0 + params.rating_slope * (item.stars - mean))
            for item in newest_first
        ]
        weights *= np.asarray(factor, dtype=np.float64)
    return cols, weights, times


class _SparseColumns:
    """X (members and feature rows × films) by column: a member's scores touch only the non-zero entries."""

    def __init__(
        self, indptr: npt.NDArray[np.int64], rows: npt.NDArray[np.int64], values: Vector, shape: tuple[int, int]
    ):
        self.indptr = indptr
        self.rows = rows
        self.values = values
        self.shape = shape
        self.cols = np.repeat(np.arange(shape[1], dtype=np.int64), np.diff(indptr))

    @classmethod
    def of(cls, dense: Matrix) -> _SparseColumns:
        cols, rows = np.nonzero(dense.T)  # column-major order
        indptr = np.zeros(dense.shape[1] + 1, dtype=np.int64)
        np.cumsum(np.bincount(cols, minlength=dense.shape[1]), out=indptr[1:])
        values = dense[rows, cols].astype(np.float64)
        return cls(indptr, rows.astype(np.int64), values, (dense.shape[0], dense.shape[1]))

    def column(self, col: int) -> tuple[npt.NDArray[np.int64], Vector]:
        start, end = self.indptr[col], self.indptr[col + 1]
        return self.rows[start:end], self.values[start:end]

    def entries(self, cols: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(entry positions, which of ``cols`` each belongs to) for the non-zero entries of those columns."""
        starts, ends = self.indptr[cols], self.indptr[cols + 1]
        lengths = ends - starts
        owner = np.repeat(np.arange(len(cols), dtype=np.int64), lengths)
        offsets = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return np.repeat(starts, lengths) + offsets, owner

    def times_columns(self, cols: npt.NDArray[np.int64], weights: Vector) -> npt.NDArray[np.float32]:
        """X[:, cols] @ weights, an m-vector."""
        entries, owner = self.entries(cols)
        mix = np.bincount(self.rows[entries], weights=self.values[entries] * weights[owner], minlength=self.shape[0])
        return mix.astype(np.float32)

    def row_combination(self, z: npt.NDArray[np.float32]) -> Vector:
        """zᵀ X, an n-vector."""
        combined = np.bincount(self.cols, weights=z[self.rows] * self.values, minlength=self.shape[1])
        return combined.astype(np.float64)

    def dot_columns(self, cols: npt.NDArray[np.int64], v: Vector) -> Vector:
        """X[:, c] · v for each c in ``cols``."""
        entries, owner = self.entries(cols)
        dots = np.bincount(owner, weights=self.values[entries] * v[self.rows[entries]], minlength=len(cols))
        return dots.astype(np.float64)
