"""Builds INTERACTION_CREATE ``data`` the way Discord's client does, from the command tree the bot synced.

Values are given as Python objects (``FakeMember``, ``FakeRole``, ``FakeChannel``, ``Upload``, ...); options are
typed and validated against the recorded tree, and ``resolved`` is filled in for snowflake options.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .store import StoredAttachment, StoredMessage, walk_components
from .world import JSON, FakeChannel, FakeGuild, FakeMember, FakeRole, FakeUser


class OptionType:
    SUB_COMMAND = 1
    SUB_COMMAND_GROUP = 2
    STRING = 3
    INTEGER = 4
    BOOLEAN = 5
    USER = 6
    CHANNEL = 7
    ROLE = 8
    MENTIONABLE = 9
    NUMBER = 10
    ATTACHMENT = 11


class ComponentType:
    ACTION_ROW = 1
    BUTTON = 2
    STRING_SELECT = 3
    TEXT_INPUT = 4
    USER_SELECT = 5
    ROLE_SELECT = 6
    MENTIONABLE_SELECT = 7
    CHANNEL_SELECT = 8
    SECTION = 9
    TEXT_DISPLAY = 10
    LABEL = 18
    FILE_UPLOAD = 19


class InteractionBuildError(ValueError):
    """The test asked for something Discord's client would not let a member do."""


@dataclass(frozen=True)
class Upload:
    """A file a member attaches to an attachment option (or a modal file upload)."""

    filename: str
    data: bytes
    content_type: str | None = None


Entity = FakeMember | FakeUser | FakeRole | FakeChannel


class Resolver:
    """Turns entities into option values plus ``resolved`` entries."""

    def __init__(
        self,
        guild: FakeGuild | None,
        store_upload: Callable[[Upload], StoredAttachment],
        channel_permissions: Callable[[FakeMember, FakeChannel], int],
        member_of: Callable[[FakeUser], FakeMember | None],
        invoker: FakeMember | None = None,
    ) -> None:
        self.guild = guild
        self.invoker = invoker
        self._store_upload = store_upload
        self._channel_permissions = channel_permissions
        self._member_of = member_of
        self.resolved: JSON = {}

    def _bucket(self, name: str) -> JSON:
        bucket: JSON = self.resolved.setdefault(name, {})
        return bucket

    def user(self, value: Any) -> str:
        if isinstance(value, FakeMember):
            member: FakeMember | None = value
            user = value.user
        elif isinstance(value, FakeUser):
            user = value
            member = self._member_of(value)
        else:
            raise InteractionBuildError(f"expected a member or user, got {value!r}")
        self._bucket("users")[str(user.id)] = user.payload()
        if member is not None and self.guild is not None:
            perms = self.guild.permissions_for(member)
            self._bucket("members")[str(user.id)] = member.payload(include_user=False, permissions=perms)
        return str(user.id)

    def role(self, value: Any) -> str:
        if not isinstance(value, FakeRole):
            raise InteractionBuildError(f"expected a role, got {value!r}")
        self._bucket("roles")[str(value.id)] = value.payload()
        return str(value.id)

    def channel(self, value: Any, *, allowed_types: list[int] | None = None) -> str:
        if not isinstance(value, FakeChannel):
            raise InteractionBuildError(f"expected a channel, got {value!r}")
        if allowed_types and value.type not in allowed_types:
            raise InteractionBuildError(
                f"channel {value.name} has type {value.type}; the option allows {allowed_types}"
            )
        payload = value.payload()
        payload["permissions"] = str(self._channel_permissions_for_invoker(value))
        self._bucket("channels")[str(value.id)] = {
            key: payload[key]
            for key in (
                "id",
                "name",
                "type",
                "permissions",
                "parent_id",
                "guild_id",
                "nsfw",
                "flags",
                "topic",
                "position",
            )
            if key in payload
        }
        return str(value.id)

    def _channel_permissions_for_invoker(self, channel: FakeChannel) -> int:
        if self.invoker is None:
            return 0
        return self._channel_permissions(self.invoker, channel)

    def mentionable(self, value: Any) -> str:
        if isinstance(value, FakeRole):
            return self.role(value)
        return self.user(value)

    def attachment(self, value: Any) -> str:
        if not isinstance(value, Upload):
            raise InteractionBuildError(f"an attachment option takes Upload(filename, data), got {value!r}")
        stored = self._store_upload(value)
        self._bucket("attachments")[str(stored.id)] = stored.payload()
        return str(stored.id)


# -- application commands --------------------------------------------------------------------------


def find_command(commands: list[JSON], path: str, *, kind: int = 1) -> tuple[JSON, list[JSON], JSON]:
    """Resolve "/config channel" to (top-level command, [subcommand group?, subcommand], leaf)."""
    parts = path.strip().lstrip("/").split()
    if not parts:
        raise InteractionBuildError("empty command path")
    top = next((c for c in commands if c["name"] == parts[0] and c.get("type", 1) == kind), None)
    if top is None:
        names = sorted("/" + c["name"] for c in commands if c.get("type", 1) == kind)
        raise InteractionBuildError(f"the bot did not sync /{parts[0]}; synced commands: {names}")
    chain: list[JSON] = []
    node = top
    for part in parts[1:]:
        sub = next(
            (
                o
                for o in node.get("options", [])
                if o["name"] == part and o["type"] in (OptionType.SUB_COMMAND, OptionType.SUB_COMMAND_GROUP)
            ),
            None,
        )
        if sub is None:
            subs = [o["name"] for o in node.get("options", []) if o["type"] in (1, 2)]
            raise InteractionBuildError(f"/{' '.join(parts)}: no subcommand {part!r} (has {subs})")
        chain.append(sub)
        node = sub
    nested = [o["name"] for o in node.get("options", []) if o["type"] in (1, 2)]
    if nested:
        raise InteractionBuildError(f"/{' '.join(parts)} is a group; pick one of its subcommands: {nested}")
    return top, chain, node


def _pick_choice(definition: JSON, value: Any) -> Any:
    choices: list[JSON] = definition.get("choices") or []
    if not choices:
        return value
    for choice in choices:
        if value == choice["value"]:
            return choice["value"]
    for choice in choices:
        if value == choice["name"]:
            return choice["value"]
    allowed = [c["value"] for c in choices]
    raise InteractionBuildError(f"option {definition['name']!r}: {value!r} is not one of the choices {allowed}")


def _check_range(definition: JSON, value: float) -> None:
    low, high = definition.get("min_value"), definition.get("max_value")
    if low is not None and value < low:
        raise InteractionBuildError(f"option {definition['name']!r}: {value} is below min_value {low}")
    if high is not None and value > high:
        raise InteractionBuildError(f"option {definition['name']!r}: {value} is above max_value {high}")


def convert_option(definition: JSON, value: Any, resolver: Resolver, *, focused: bool = False) -> JSON:
    kind = definition["type"]
    name = definition["name"]
    option: JSON = {"name": name, "type": kind}
    if focused:
        option["value"] = str(value)
        option["focused"] = True
        return option
    if kind == OptionType.STRING:
        if not isinstance(value, str):
            raise InteractionBuildError(f"option {name!r} is a string option, got {value!r}")
        text = str(_pick_choice(definition, value))
        low, high = definition.get("min_length"), definition.get("max_length")
        if low is not None and len(text) < low:
            raise InteractionBuildError(f"option {name!r}: shorter than min_length {low}")
        if high is not None and len(text) > high:
            raise InteractionBuildError(f"option {name!r}: longer than max_length {high}")
        option["value"] = text
    elif kind == OptionType.INTEGER:
        picked = _pick_choice(definition, value)
        if isinstance(picked, bool) or not isinstance(picked, int):
            raise InteractionBuildError(f"option {name!r} is an integer option, got {value!r}")
        _check_range(definition, picked)
        option["value"] = picked
    elif kind == OptionType.NUMBER:
        picked = _pick_choice(definition, value)
        if isinstance(picked, bool) or not isinstance(picked, int | float):
            raise InteractionBuildError(f"option {name!r} is a number option, got {value!r}")
        _check_range(definition, float(picked))
        option["value"] = picked
    elif kind == OptionType.BOOLEAN:
        if not isinstance(value, bool):
            raise InteractionBuildError(f"option {name!r} is a boolean option, got {value!r}")
        option["value"] = value
    elif kind == OptionType.USER:
        option["value"] = resolver.user(value)
    elif kind == OptionType.CHANNEL:
        option["value"] = resolver.channel(value, allowed_types=definition.get("channel_types"))
    elif kind == OptionType.ROLE:
        option["value"] = resolver.role(value)
    elif kind == OptionType.MENTIONABLE:
        option["value"] = resolver.mentionable(value)
    elif kind == OptionType.ATTACHMENT:
        option["value"] = resolver.attachment(value)
    else:
        raise InteractionBuildError(f"option {name!r} has unsupported type {kind}")
    return option


def build_command_data(
    commands: list[JSON],
    path: str,
    values: dict[str, Any],
    resolver: Resolver,
    *,
    focused: str | None = None,
) -> JSON:
    top, chain, leaf = find_command(commands, path)
    definitions: dict[str, JSON] = {o["name"]: o for o in leaf.get("options", [])}
    unknown = sorted(set(values) - set(definitions))
    if unknown:
        raise InteractionBuildError(f"{path}: unknown option(s) {unknown}; the synced command has {list(definitions)}")
    if focused is not None:
        if focused not in definitions:
            raise InteractionBuildError(f"{path}: no option {focused!r} to focus")
        if not definitions[focused].get("autocomplete"):
            raise InteractionBuildError(f"{path}: option {focused!r} does not have autocomplete enabled")
    missing = [n for n, d in definitions.items() if d.get("required") and n not in values and n != focused]
    if missing and focused is None:
        raise InteractionBuildError(f"{path}: missing required option(s) {missing}")
    options = [
        convert_option(definition, values[name], resolver, focused=(name == focused))
        for name, definition in definitions.items()
        if name in values
    ]
    for sub in reversed(chain):
        options = [{"name": sub["name"], "type": sub["type"], "options": options}]
    data: JSON = {"id": str(top["id"]), "name": top["name"], "type": top.get("type", 1), "options": options}
    if top.get("guild_id") is not None:  # only guild commands carry guild_id in data
        data["guild_id"] = str(top["guild_id"])
    if resolver.resolved:
        data["resolved"] = resolver.resolved
    return data


# -- message components ----------------------------------------------------------------------------


def find_component(message: StoredMessage, target: str) -> JSON:
    """Find a button or select by custom_id first, then by label or placeholder."""
    comps = [c for c in walk_components(message.components) if not c.get("_option")]
    for key in ("custom_id", "label", "placeholder"):
        for comp in comps:
            if comp.get("type") in (ComponentType.ACTION_ROW, ComponentType.LABEL):
                continue
            if comp.get(key) == target:
                return comp
    available = [c.get("label") or c.get("placeholder") or c.get("custom_id") for c in comps if c.get("custom_id")]
    raise InteractionBuildError(f"message {message.id} has no component {target!r}; clickable: {available}")


def button_data(comp: JSON) -> JSON:
    if comp.get("type") != ComponentType.BUTTON:
        raise InteractionBuildError(f"component {comp.get('custom_id')!r} is not a button")
    if comp.get("disabled"):
        raise InteractionBuildError(f"button {comp.get('label') or comp.get('custom_id')!r} is disabled")
    if "custom_id" not in comp:
        raise InteractionBuildError("link and premium buttons do not create interactions")
    return {"custom_id": comp["custom_id"], "component_type": ComponentType.BUTTON}


def select_data(comp: JSON, values: list[Any], resolver: Resolver) -> JSON:
    kind = comp.get("type")
    if kind not in (3, 5, 6, 7, 8):
        raise InteractionBuildError(f"component {comp.get('custom_id')!r} is not a select menu")
    if comp.get("disabled"):
        raise InteractionBuildError(f"select {comp.get('custom_id')!r} is disabled")
    low = comp.get("min_values", 1)
    high = comp.get("max_values", 1)
    if not low <= len(values) <= high:
        raise InteractionBuildError(f"select {comp['custom_id']!r} takes {low}..{high} values, got {len(values)}")
    data: JSON = {"custom_id": comp["custom_id"], "component_type": kind}
    if kind == ComponentType.STRING_SELECT:
        picked: list[str] = []
        for value in values:
            option = next((o for o in comp.get("options", []) if value in (o["value"], o["label"])), None)
            if option is None:
                offered = [o["value"] for o in comp.get("options", [])]
                raise InteractionBuildError(f"select {comp['custom_id']!r}: {value!r} is not an option ({offered})")
            picked.append(option["value"])
        data["values"] = picked
    else:
        convert = {5: resolver.user, 6: resolver.role, 7: resolver.mentionable, 8: resolver.channel}[kind]
        data["values"] = [convert(v) for v in values]
        data["resolved"] = resolver.resolved
    return data


# -- modals -----------------------------------------------------------------------------------------


def _modal_fields(components: list[JSON]) -> Iterator[tuple[JSON, str | None, JSON]]:
    """Yield (field, label, wrapper) for every input of a modal, in either the row or the Label layout."""
    for top in components:
        if top.get("type") == ComponentType.ACTION_ROW:
            for child in top.get("components", []):
                yield child, child.get("label"), top
        elif top.get("type") == ComponentType.LABEL:
            yield top["component"], top.get("label"), top


def modal_submit_data(modal: JSON, values: dict[str, Any], resolver: Resolver) -> JSON:
    """Fill the modal the bot sent; ``values`` keys are custom_ids or labels."""
    used: set[str] = set()

    def value_for(field: JSON, label: str | None) -> Any:
        for key in (field.get("custom_id"), label):
            if key is not None and key in values:
                used.add(key)
                return values[key]
        return None

    def submitted(field: JSON, label: str | None) -> JSON:
        kind = field.get("type")
        base: JSON = {"type": kind, "custom_id": field.get("custom_id")}
        if "id" in field:
            base["id"] = field["id"]
        given = value_for(field, label)
        name = label or field.get("custom_id")
        if kind == ComponentType.TEXT_INPUT:
            text = given if given is not None else field.get("value", "")
            if not isinstance(text, str):
                raise InteractionBuildError(f"modal field {name!r} takes text, got {text!r}")
            if field.get("required", True) and not text:
                raise InteractionBuildError(f"modal field {name!r} is required")
            if text and len(text) < field.get("min_length", 0):
                raise InteractionBuildError(f"modal field {name!r} is shorter than {field['min_length']}")
            if len(text) > field.get("max_length", 4000):
                raise InteractionBuildError(f"modal field {name!r} is longer than {field['max_length']}")
            base["value"] = text
        elif kind == ComponentType.FILE_UPLOAD:
            uploads = given if isinstance(given, list) else ([given] if given is not None else [])
            base["values"] = [resolver.attachment(u) for u in uploads]
        elif kind in (3, 5, 6, 7, 8):
            chosen = given if isinstance(given, list) else ([given] if given is not None else [])
            if field.get("required", True) and not chosen:
                raise InteractionBuildError(f"modal select {name!r} is required")
            inner = select_data(
                {**field, "min_values": 0 if not chosen else field.get("min_values", 1)}, chosen, resolver
            )
            base["values"] = inner["values"]
        else:
            raise InteractionBuildError(f"modal field type {kind} is not supported by the double")
        return base

    components: list[JSON] = []
    for top in modal.get("components", []):
        if top.get("type") == ComponentType.ACTION_ROW:
            row: JSON = {"type": 1, "components": [submitted(c, c.get("label")) for c in top.get("components", [])]}
            if "id" in top:
                row["id"] = top["id"]
            components.append(row)
        elif top.get("type") == ComponentType.LABEL:
            wrapped: JSON = {"type": ComponentType.LABEL, "component": submitted(top["component"], top.get("label"))}
            if "id" in top:
                wrapped["id"] = top["id"]
            components.append(wrapped)
        elif top.get("type") == ComponentType.TEXT_DISPLAY:
            components.append({"type": ComponentType.TEXT_DISPLAY, "id": top.get("id")})
    unknown = sorted(set(values) - used)
    if unknown:
        fields = [(f.get("custom_id"), label) for f, label, _ in _modal_fields(modal.get("components", []))]
        raise InteractionBuildError(f"modal {modal.get('custom_id')!r} has no field(s) {unknown}; fields: {fields}")
    data: JSON = {"custom_id": modal["custom_id"], "components": components}
    if resolver.resolved:
        data["resolved"] = resolver.resolved
    return data
