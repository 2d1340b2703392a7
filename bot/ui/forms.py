"""Reading a submitted modal: forms are answered from their custom id in a cog's ``on_interaction`` (so a form opened
before a restart still works), which reads the fields from the raw submission."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def submitted_values(data: Any) -> dict[str, str | list[str]]:
    """custom_id -> what was entered in every field of a modal submission, in action rows or in labels: a text
    input's value, a select's chosen values."""
    return dict(_fields((data or {}).get("components")))


def submitted_fields(data: Any) -> dict[str, str]:
    """custom_id -> value of every text input in a modal submission."""
    return {custom_id: value for custom_id, value in submitted_values(data).items() if isinstance(value, str)}


def _fields(components: Any) -> Iterator[tuple[str, str | list[str]]]:
    for component in components or []:
        if not isinstance(component, dict):
            continue
        if "custom_id" in component and "values" in component:
            yield str(component["custom_id"]), [str(value) for value in component["values"] or []]
        elif "custom_id" in component and "value" in component:
            yield str(component["custom_id"]), str(component.get("value") or "")
        yield from _fields(component.get("components"))
        if isinstance(component.get("component"), dict):
            yield from _fields([component["component"]])
