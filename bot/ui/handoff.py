"""Custom ids that let one feature's message carry a button another feature answers.

A /recommend embed or a weekly-picks post offers "Start a watch-party poll" (answered by the polls cog), and a
screening's "rate it" prompt offers "Review" (answered by the reviews cog). The format lives here so that neither
cog imports the other; the answering cog registers a ``DynamicItem`` whose template is the pattern below.
"""

from __future__ import annotations

from collections.abc import Sequence

#: ``filmclub:poll-from:12,34,56``: open a watch-party poll among these film ids (2 to 25).
POLL_FROM_FILMS_PATTERN = r"filmclub:poll-from:(?P<film_ids>\d+(?:,\d+)+)"
#: ``filmclub:review:12``: open the review form for this film id.
REVIEW_FILM_PATTERN = r"filmclub:review:(?P<film_id>\d+)"

CUSTOM_ID_LIMIT = 100


def poll_from_films_id(film_ids: Sequence[int]) -> str:
    custom_id = f"filmclub:poll-from:{','.join(str(i) for i in film_ids)}"
    if len(custom_id) > CUSTOM_ID_LIMIT or len(film_ids) < 2:
        raise ValueError("a poll hand-off needs 2 or more films and must fit in 100 characters")
    return custom_id


def review_film_id(film_id: int) -> str:
    return f"filmclub:review:{film_id}"
