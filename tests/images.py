"""Small real images for tests (posters, event covers), made with Pillow so every decoder takes them."""

from __future__ import annotations

import base64
import io

from PIL import Image

#: Pillow's format name for each MIME type Discord takes as image data.
FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}


def image_bytes(content_type: str = "image/jpeg", size: tuple[int, int] = (20, 30), colour: str = "#c0392b") -> bytes:
    """A plain image of one colour, encoded as ``content_type`` (a poster is 2:3)."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=FORMATS[content_type])
    return out.getvalue()


def data_uri(data: bytes, content_type: str) -> str:
    """Image data as Discord takes it: ``data:image/png;base64,...``."""
    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"
