"""A screening's generated cover card: the film's title, year and theme on a plain card, drawn with Pillow.

A scheduled event takes the film's poster as its cover when one is known (:mod:`bot.core.posters`); otherwise it gets
this card, so every screening in the server's event list looks like one. The card is 800×320 pixels, the size
Discord's client asks for when a member adds a cover to an event (the 5:2 frame it shows covers in), as a PNG well
under Discord's 10 MiB limit on image data.

Text is drawn like the charts' (:mod:`bot.ui.charts`): the bundled DejaVu Sans, then installed CJK fonts character by
character. A long title wraps onto a second line and ends with an ellipsis past it; a character no font draws (most
emoji) is left out rather than drawn as an empty box. Text meets WCAG AA contrast against the card (a test checks).
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from bot.ui.charts import Colour, Typeface, typeface

WIDTH = 800
HEIGHT = 320
SIZE = (WIDTH, HEIGHT)

CARD: Colour = (32, 34, 37)
TITLE_TEXT: Colour = (245, 245, 245)
DETAIL_TEXT: Colour = (200, 202, 205)
ACCENT: Colour = (241, 196, 15)  # the charts' gold

MARGIN = 48
STRIPE = 12
CAPTION_SIZE = 20
TITLE_SIZE = 46
DETAIL_SIZE = 26
TITLE_LINES = 2
LINE_GAP = 8
CAPTION = "FILM CLUB SCREENING"


def drawable(face: Typeface, text: str) -> str:
    """``text`` without the characters no font of ``face`` draws (most emoji), spaces tidied."""
    kept = "".join(char for char in text if any(face.covers(font, char) for font in face.fonts))
    return " ".join(kept.split())


def wrap(face: Typeface, text: str, width: float, lines: int) -> list[str]:
    """``text`` in at most ``lines`` lines of at most ``width`` pixels: broken between words, inside a word only
    when it is wider than a line (titles in Chinese or Japanese have no spaces), the last line ellipsised."""
    out: list[str] = []
    rest = text
    while rest and len(out) < lines - 1:
        if face.length(rest) <= width:
            break
        cut = len(rest)
        while cut > 1 and face.length(rest[:cut]) > width:
            cut -= 1
        space = rest.rfind(" ", 0, cut + 1)
        if space > 0:
            cut = space
        out.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        out.append(face.fit(rest, width))
    return out or [""]


def cover_card(title: str, year: int | None, detail: str | None = None) -> bytes:
    """The cover card for a film as PNG bytes (:data:`SIZE`): ``title`` large, then the year and ``detail`` (a theme,
    "this server's film") on one line under it."""
    caption_face, title_face, detail_face = typeface(CAPTION_SIZE), typeface(TITLE_SIZE), typeface(DETAIL_SIZE)
    image = Image.new("RGB", SIZE, CARD)
    canvas = ImageDraw.Draw(image)
    canvas.rectangle((0, 0, STRIPE - 1, HEIGHT - 1), fill=ACCENT)
    left = STRIPE + MARGIN
    width = WIDTH - left - MARGIN

    lines = wrap(title_face, drawable(title_face, title) or "Untitled", width, TITLE_LINES)
    details = " · ".join(part for part in (str(year) if year else "", drawable(detail_face, detail or "")) if part)
    title_height = len(lines) * TITLE_SIZE + (len(lines) - 1) * LINE_GAP
    block = CAPTION_SIZE + 18 + title_height + (18 + DETAIL_SIZE if details else 0)
    top = (HEIGHT - block) // 2

    caption_face.draw(canvas, left, top, CAPTION, ACCENT)
    y = top + CAPTION_SIZE + 18
    for line in lines:
        title_face.draw(canvas, left, y, line, TITLE_TEXT)
        y += TITLE_SIZE + LINE_GAP
    if details:
        detail_face.draw(canvas, left, y - LINE_GAP + 18, detail_face.fit(details, width), DETAIL_TEXT)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
