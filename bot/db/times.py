"""How a moment is stored: one text form on both backends, which sorts as text and compares the same everywhere.

Storage owns the encoding, so bot/db's records carry ``datetime`` values and nothing above it parses database text.
"""

from __future__ import annotations

from datetime import UTC, datetime


def to_db(moment: datetime) -> str:
    """The one text form of a moment in the database: UTC ISO-8601 to the microsecond, which sorts as text."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db(text: str) -> datetime:
    """A stored moment, aware and in UTC."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def maybe_from_db(text: str | None) -> datetime | None:
    """A stored moment that may be unset."""
    return None if text is None else from_db(text)
