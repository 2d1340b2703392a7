"""Reading a submitted modal: forms are answered from their custom id in a cog's ``on_interaction`` (so a form opened
before a restart still works), which reads the fields from the raw submission."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def submitted_fields(data: Any) -> dict[str, str]:
    """custom_id -> value of every text input in a modal submission, in action rows or in labels."""
    return dict(_text_inputs((data or {}).get("components")))


def _text_inputs(components: Any) -> Iterator[tuple[str, str]]:
    for component in components or []:
        if not isinstance(component, dict):
            continue
        if "value" in component and "custom_id" in component:
            yield str(component["custom_id"]), str(component.get("value") or "")
        yield from _text_inputs(component.get("components"))
        if isinstance(component.get("component"), dict):
            yield from _text_inputs([component["component"]])
