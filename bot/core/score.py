"""The club rating of a film: the one way the bot ranks films by what members rated.

Recommendations, weekly picks and ``/club stats`` all rank by it, so a film that leads one of them for its ratings
leads them all.

A film's plain average says little when few members rated it: one 5★ review is one member's enthusiasm, not the
club's verdict. So the club rating is a *shrunk* (Bayesian) average: the film's own reviews plus
:data:`PRIOR_REVIEWS` imaginary reviews of :data:`PRIOR_STARS`, an ordinary film::

    club rating = (PRIOR_REVIEWS × PRIOR_STARS + the sum of its stars) / (PRIOR_REVIEWS + its number of reviews)

A film nobody rated sits at 3★; each review moves it towards its own average, and after a dozen reviews the
imaginary ones barely count. In plain words (:data:`RANKING_NOTE`): every film counts as if it also had three 3★
reviews.

Why a fixed 3★ and not the club's own mean: in a club that rates generously (a 4.3★ mean) the mean would pull a single
review up to 4.3★, ahead of films that several members rated 4★. Why three: with three, one review, even 5★, scores
3.5, which a film with three or more reviews averaging 4★ or more reaches or beats (and equal ratings go to the film
with more reviews), so one review never outranks a film three members liked; fewer imaginary reviews would let it.

Members never see the club rating itself: lists show the plain average and the number of reviews ("4.2★ average from
3 reviews") and explain the order once, with :data:`RANKING_NOTE`.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import numpy.typing as npt

#: The imaginary reviews every film starts with ...
PRIOR_REVIEWS = 3
#: ... each of this many stars: the middle of the scale, an ordinary film.
PRIOR_STARS = 3.0
#: The imaginary reviews' sum in half stars (the unit reviews are stored in), for ranking in SQL with exact integers.
PRIOR_HALF_STARS = round(2 * PRIOR_STARS * PRIOR_REVIEWS)
#: How a ranked list explains its order to members, once (in a footer).
RANKING_NOTE = (
    f"Ranked as if every film also had {PRIOR_REVIEWS} reviews of {PRIOR_STARS:g}★, so a film needs several good "
    "reviews to rank high: one review, even 5★, never outranks a film whose three or more reviews average 4★ or more."
)

Stars = TypeVar("Stars", float, npt.NDArray[np.float64])


def shrunk_average(total_stars: Stars, count: Stars, prior_mean: float, prior_weight: float) -> Stars:
    """The average of ``count`` ratings summing to ``total_stars`` after ``prior_weight`` more ratings of
    ``prior_mean``: few ratings stay near ``prior_mean``, many are their own average. Works on arrays too."""
    return (prior_weight * prior_mean + total_stars) / (prior_weight + count)


def club_rating(total_stars: Stars, reviews: Stars) -> Stars:
    """A film's club rating from the sum of its stars and its number of reviews (3★ for a film nobody rated)."""
    return shrunk_average(total_stars, reviews, PRIOR_STARS, PRIOR_REVIEWS)


def club_rating_of_average(average: float, reviews: int) -> float:
    """The club rating of a film known by its plain average and number of reviews (what ``film_ratings`` gives).

    Reviews are whole half stars, so the sum of stars is rebuilt exactly by rounding: equal ratings compare equal
    wherever they are ranked (weekly picks, poll tie-breaks), although the average itself is inexact."""
    return club_rating(round(2 * average * reviews) / 2, float(reviews))
