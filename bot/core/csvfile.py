"""Every CSV the bot writes goes through :func:`write_csv`, so no cell is a formula when a spreadsheet opens it.

CSV injection (OWASP, "CSV Injection"): Excel, LibreOffice and Google Sheets run a cell that begins with ``=``, ``+``,
``-`` or ``@`` (and, in some, a tab or carriage return) as a formula: ``=HYPERLINK(...)`` turns a film title into a
link to anywhere, ``+cmd|' /C calc'!A0`` asks to run a program. Members write the review text and the film titles come
from files members upload, so such a cell can reach anyone who opens the export. OWASP's remedy is applied to every
cell: one that begins with one of those characters gets a single quote in front (the spreadsheet shows the text, not
its result), and every cell is quoted.

The trade-off: a title or review that really begins with "-" or "+" (a list in a review, the film "+1") reads
``'-`` in the file. Our own importer takes the quote off again (:func:`restore_cell`), so importing our export back
matches the same films with the same text; Letterboxd's importer sees the quote, and lets the member check each match
before anything is saved.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

#: The characters that make a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> str:
    """A cell's text, with a single quote in front when a spreadsheet would otherwise run it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def restore_cell(text: str) -> str:
    """A cell as it was before :func:`neutralise_cell` (only a quote followed by a formula character is taken off,
    so "'Round Midnight" stays as it is)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 CSV with every cell quoted and neutralised; ``None`` is an empty cell."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow([neutralise_cell(column) for column in header])
    writer.writerows([neutralise_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue().encode("utf-8")
