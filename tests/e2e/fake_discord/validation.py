"""The subset of Discord's request validation that bots trip over: limits on messages, embeds, components,
modals, autocomplete choices, application commands and image data. Errors come back as Discord's 50035
"Invalid Form Body".
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from typing import Any

from PIL import Image, UnidentifiedImageError

from .world import JSON

_NAME = re.compile(r"^[-_'\w]{1,32}$")


class FormErrors:
    def __init__(self) -> None:
        self.items: list[tuple[str, str, str]] = []

    def add(self, path: str, code: str, message: str) -> None:
        self.items.append((path, code, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def payload(self) -> JSON:
        tree: JSON = {}
        for path, code, message in self.items:
            node = tree
            for part in [p for p in path.split(".") if p]:
                node = node.setdefault(part, {})
            node.setdefault("_errors", []).append({"code": code, "message": message})
        return {"code": 50035, "message": "Invalid Form Body", "errors": tree}

    def summary(self) -> str:
        return "; ".join(f"{path or '<body>'}: {message}" for path, _, message in self.items)


def _max_len(errors: FormErrors, path: str, value: Any, limit: int) -> int:
    if value is None:
        return 0
    text = str(value)
    if len(text) > limit:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    return len(text)


def validate_embeds(errors: FormErrors, embeds: list[JSON], prefix: str = "embeds") -> None:
    if len(embeds) > 10:
        errors.add(prefix, "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        path = f"{prefix}.{i}"
        total += _max_len(errors, f"{path}.title", embed.get("title"), 256)
        total += _max_len(errors, f"{path}.description", embed.get("description"), 4096)
        fields = embed.get("fields") or []
        if len(fields) > 25:
            errors.add(f"{path}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for j, field in enumerate(fields):
            if not str(field.get("name", "")).strip() or not str(field.get("value", "")).strip():
                errors.add(f"{path}.fields.{j}", "BASE_TYPE_REQUIRED", "This field is required")
            total += _max_len(errors, f"{path}.fields.{j}.name", field.get("name"), 256)
            total += _max_len(errors, f"{path}.fields.{j}.value", field.get("value"), 1024)
        total += _max_len(errors, f"{path}.footer.text", (embed.get("footer") or {}).get("text"), 2048)
        total += _max_len(errors, f"{path}.author.name", (embed.get("author") or {}).get("name"), 256)
        for key in ("url",):
            url = embed.get(key)
            if url is not None and not str(url).startswith(("http://", "https://")):
                errors.add(f"{path}.{key}", "URL_TYPE_INVALID_URL", "Not a well formed URL.")
    if total > 6000:
        errors.add(prefix, "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


def validate_components(errors: FormErrors, components: list[JSON], *, v2: bool, prefix: str = "components") -> None:
    if not v2 and len(components) > 5:
        errors.add(prefix, "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    seen: set[str] = set()

    def visit(comp: JSON, path: str) -> None:
        kind = comp.get("type")
        custom_id = comp.get("custom_id")
        if custom_id is not None:
            _max_len(errors, f"{path}.custom_id", custom_id, 100)
            if custom_id in seen:
                errors.add(
                    f"{path}.custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
                )
            seen.add(custom_id)
        if kind == 1:
            children = comp.get("components") or []
            if not children:
                errors.add(f"{path}.components", "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length.")
            if len(children) > 5:
                errors.add(f"{path}.components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
            has_select = any(c.get("type") in (3, 5, 6, 7, 8) for c in children)
            if has_select and len(children) > 1:
                errors.add(
                    f"{path}.components",
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                    "The specified component exceeds the maximum width",
                )
        if kind == 2:
            _max_len(errors, f"{path}.label", comp.get("label"), 80)
            style = comp.get("style")
            if style == 5 and not comp.get("url"):
                errors.add(f"{path}.url", "BASE_TYPE_REQUIRED", "This field is required")
            if style not in (5, 6) and custom_id is None:
                errors.add(f"{path}.custom_id", "BASE_TYPE_REQUIRED", "This field is required")
            if comp.get("label") is None and comp.get("emoji") is None and style != 6:
                errors.add(f"{path}", "BUTTON_COMPONENT_REQUIRES_LABEL_OR_EMOJI", "A label or an emoji is required")
        if kind == 3:
            options = comp.get("options") or []
            if not options or len(options) > 25:
                errors.add(f"{path}.options", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length.")
            values = [o.get("value") for o in options]
            if len(set(values)) != len(values):
                errors.add(
                    f"{path}.options", "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED", "Option values must be unique"
                )
            for k, option in enumerate(options):
                _max_len(errors, f"{path}.options.{k}.label", option.get("label"), 100)
                _max_len(errors, f"{path}.options.{k}.value", option.get("value"), 100)
                _max_len(errors, f"{path}.options.{k}.description", option.get("description"), 100)
            _max_len(errors, f"{path}.placeholder", comp.get("placeholder"), 150)
        for key in ("components",):
            for k, child in enumerate(comp.get(key) or []):
                visit(child, f"{path}.{key}.{k}")
        for key in ("accessory", "component"):
            if isinstance(comp.get(key), dict):
                visit(comp[key], f"{path}.{key}")

    for i, comp in enumerate(components):
        visit(comp, f"{prefix}.{i}")


def validate_message(
    body: JSON, *, creating: bool, file_count: int, prefix: str = "", has_existing: bool = False
) -> FormErrors:
    errors = FormErrors()
    _max_len(errors, f"{prefix}content", body.get("content"), 2000)
    embeds = body.get("embeds") or []
    validate_embeds(errors, embeds, f"{prefix}embeds")
    v2 = bool((body.get("flags") or 0) & (1 << 15))
    validate_components(errors, body.get("components") or [], v2=v2, prefix=f"{prefix}components")
    if v2 and (body.get("content") or embeds):
        errors.add(
            f"{prefix}content",
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' and 'embeds' fields cannot be used when using MessageFlags.IS_COMPONENTS_V2",
        )
    if creating and not has_existing:
        empty = not (
            body.get("content")
            or embeds
            or body.get("components")
            or body.get("poll")
            or body.get("sticker_ids")
            or file_count
        )
        if empty:
            errors.add("", "50006", "Cannot send an empty message")
    poll = body.get("poll")
    if poll is not None:
        answers = poll.get("answers") or []
        if not 1 <= len(answers) <= 10:
            errors.add(f"{prefix}poll.answers", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 10 in length.")
        _max_len(errors, f"{prefix}poll.question.text", (poll.get("question") or {}).get("text"), 300)
        for i, answer in enumerate(answers):
            _max_len(
                errors, f"{prefix}poll.answers.{i}.poll_media.text", (answer.get("poll_media") or {}).get("text"), 55
            )
        duration = poll.get("duration", 24)
        if not 1 <= float(duration) <= 768:
            errors.add(f"{prefix}poll.duration", "NUMBER_TYPE_MAX", "Duration must be between 1 and 768 hours")
    return errors


def validate_modal(data: JSON) -> FormErrors:
    errors = FormErrors()
    _max_len(errors, "data.title", data.get("title"), 45)
    if not data.get("title"):
        errors.add("data.title", "BASE_TYPE_REQUIRED", "This field is required")
    _max_len(errors, "data.custom_id", data.get("custom_id"), 100)
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        errors.add("data.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
    for i, comp in enumerate(components):
        inner = comp.get("components") or ([comp["component"]] if comp.get("component") else [])
        for field in inner:
            if field.get("type") == 4:
                label = field.get("label") or comp.get("label")
                _max_len(errors, f"data.components.{i}.label", label, 45)
                if field.get("style") not in (1, 2):
                    errors.add(f"data.components.{i}.style", "BASE_TYPE_CHOICES", "Value must be one of {1, 2}.")
    return errors


def validate_choices(data: JSON) -> FormErrors:
    errors = FormErrors()
    choices = data.get("choices")
    if choices is None:
        errors.add("data.choices", "BASE_TYPE_REQUIRED", "This field is required")
        return errors
    if len(choices) > 25:
        errors.add("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for i, choice in enumerate(choices):
        name = choice.get("name")
        if not name:
            errors.add(f"data.choices.{i}.name", "BASE_TYPE_REQUIRED", "This field is required")
        _max_len(errors, f"data.choices.{i}.name", name, 100)
        if isinstance(choice.get("value"), str):
            _max_len(errors, f"data.choices.{i}.value", choice.get("value"), 100)
    return errors


def validate_commands(commands: list[JSON]) -> FormErrors:
    errors = FormErrors()
    if len(commands) > 100:
        errors.add("", "APPLICATION_COMMANDS_TOO_MANY", "Maximum number of application commands reached (100)")
    seen: set[tuple[str, int]] = set()

    def check_options(options: list[JSON], path: str, depth: int) -> None:
        if len(options) > 25:
            errors.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        optional_seen = False
        names: set[str] = set()
        for i, option in enumerate(options):
            opath = f"{path}.{i}"
            name = str(option.get("name", ""))
            if not _NAME.match(name) or name != name.lower():
                errors.add(f"{opath}.name", "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}")
            if name in names:
                errors.add(
                    f"{opath}.name", "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Option names must be unique"
                )
            names.add(name)
            description = str(option.get("description", ""))
            if not 1 <= len(description) <= 100:
                errors.add(f"{opath}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
            kind = option.get("type")
            if kind in (1, 2):
                if depth >= (2 if kind == 2 else 3):
                    errors.add(f"{opath}.type", "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Subcommands nest too deep")
                check_options(option.get("options") or [], f"{opath}.options", depth + 1)
                continue
            if option.get("required"):
                if optional_seen:
                    errors.add(
                        f"{opath}.required",
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                optional_seen = True
            choices = option.get("choices") or []
            if len(choices) > 25:
                errors.add(f"{opath}.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            if choices and option.get("autocomplete"):
                errors.add(
                    f"{opath}.autocomplete",
                    "APPLICATION_COMMAND_AUTOCOMPLETE_INCOMPATIBLE",
                    "Autocomplete cannot be enabled on options with choices",
                )

    for i, command in enumerate(commands):
        kind = int(command.get("type", 1))
        name = str(command.get("name", ""))
        key = (name, kind)
        if key in seen:
            errors.add(
                f"{i}.name", "APPLICATION_COMMANDS_DUPLICATE_NAME", f"Application command names must be unique: {name}"
            )
        seen.add(key)
        if kind == 1:
            if not _NAME.match(name) or name != name.lower():
                errors.add(f"{i}.name", "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}")
            if not 1 <= len(str(command.get("description", ""))) <= 100:
                errors.add(f"{i}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
            check_options(command.get("options") or [], f"{i}.options", 1)
        elif not 1 <= len(name) <= 32:
            errors.add(f"{i}.name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
    return errors


# -- image data (a scheduled event's cover, an avatar, an icon) -----------------------------------------------------

#: The image types Discord takes as image data (a data URI), as their MIME types and Pillow's format names.
IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
#: The largest image Discord takes as image data (decoded): "File cannot be larger than 10240.0 kb."
IMAGE_MAX_BYTES = 10 * 1024 * 1024
_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+);base64,(?P<payload>[A-Za-z0-9+/=\s]*)$", re.DOTALL)


def read_image_data(errors: FormErrors, path: str, value: Any) -> tuple[str, bytes] | None:
    """The (MIME type, bytes) of image data as Discord checks it: a ``data:image/...;base64,...`` URI of a PNG,
    JPEG, GIF or WebP image that really is one (decoded, as Discord does) and at most 10 MiB. Anything else adds
    Discord's error at ``path`` (IMAGE_INVALID, or BINARY_TYPE_MAX_SIZE) and gives None."""
    match = _DATA_URI.match(value) if isinstance(value, str) else None
    if match is None or match["mime"] not in IMAGE_TYPES:
        errors.add(path, "IMAGE_INVALID", "Invalid image data")
        return None
    try:
        data = base64.b64decode(match["payload"], validate=False)
    except (binascii.Error, ValueError):
        errors.add(path, "IMAGE_INVALID", "Invalid image data")
        return None
    if len(data) > IMAGE_MAX_BYTES:
        errors.add(path, "BINARY_TYPE_MAX_SIZE", f"File cannot be larger than {IMAGE_MAX_BYTES / 1024:.1f} kb.")
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        errors.add(path, "IMAGE_INVALID", "Invalid image data")
        return None
    if kind not in IMAGE_TYPES.values():
        errors.add(path, "IMAGE_INVALID", "Invalid image data")
        return None
    return match["mime"], data
