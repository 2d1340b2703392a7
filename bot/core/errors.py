"""Errors that carry the message a member or a moderator should read.

The command tree turns :class:`UserError` into a short ephemeral reply; the CLI turns :class:`CatalogInvalid` into one
line per problem. Anything else is a bug: logged with its traceback, and the member is told something went wrong.
"""

from __future__ import annotations

from dataclasses import dataclass


class FilmClubError(Exception):
    """Base class for errors this project raises on purpose."""


class UserError(FilmClubError):
    """Something a member asked for cannot be done; ``message`` says why, in words a member understands."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(UserError):
    """A film, theme or other named thing does not exist (the message usually offers a "did you mean")."""


class PermissionDenied(UserError):
    """The member lacks the role or permission the action needs; checked server-side, whatever Discord showed."""


@dataclass(frozen=True)
class CatalogError:
    """One problem in the catalog files, located by file, entry and field so a moderator can find it."""

    file: str
    entry: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        parts = [self.file]
        if self.entry is not None:
            parts.append(self.entry)
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        return ": ".join([*parts, self.message])


class CatalogInvalid(FilmClubError):
    """The catalog has one or more problems; all of them are listed so they can be fixed in one pass."""

    def __init__(self, errors: list[CatalogError]) -> None:
        self.errors = errors
        super().__init__(f"the catalog has {len(errors)} problem{'s' if len(errors) != 1 else ''}")
