"""Validate a Slack message made of Block Kit blocks against Slack's documented shapes and limits.

``validate(message)`` returns every problem as a ``Problem`` (a JSON path such as
``blocks[2].elements[0].text.text`` and what is wrong there); an empty list means Slack's
``chat.postMessage`` would take the blocks as they are. ``check(message)`` raises
``BlockKitError`` with the first problems instead.

Sources, and how sure each limit is: Slack's "Reference: blocks" page (api.slack.com/
reference/block-kit/blocks, the block list and "up to 50 blocks in each message", actions'
25 elements, block_id's 255 characters) was read through the project's documentation
search; the element and composition-object limits (button text 75, action_id 255, value
2000, url 3000, style primary|danger; section text 3000, fields 10 of 2000; header 150;
context 10 elements) were confirmed in libraries that quote Slack's reference field by
field (slack-messaging, slack-blocks, rSlack), not on Slack's own pages; the confirmation
dialog's limits (title 100, text 300, confirm/deny 30) and image limits (url 3000, alt
text 2000) are from memory of that reference. Slack enforces more than its pages say
(a total size, ``msg_blocks_too_long``): passing here is necessary, not sufficient.

Only the blocks and elements a notification uses are known (``BLOCKS``, ``ELEMENTS``):
a type outside them is refused as unknown, as is a key a block or object does not have,
so that a typo (``"acessory"``) fails here instead of silently in Slack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import GraderError
from ..jsonfile import json_type

# Slack's limits (see the module docstring for where each comes from).
MAX_BLOCKS = 50
MAX_BLOCK_ID = 255
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_ACTION_ID = 255
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_ALT_TEXT = 2000
MAX_IMAGE_TITLE = 2000
MAX_ACCESSIBILITY_LABEL = 75
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30
MAX_TEXT = 3000  # any text object
BUTTON_STYLES = ("primary", "danger")
TEXT_TYPES = ("plain_text", "mrkdwn")

# The keys of a message payload besides its blocks (chat.postMessage's arguments that shape
# the message; channel and thread are where it goes).
MESSAGE_KEYS = frozenset(
    {"blocks", "text", "mrkdwn", "channel", "thread_ts", "reply_broadcast", "unfurl_links",
     "unfurl_media", "username", "icon_emoji", "icon_url", "metadata"}
)  # fmt: skip


class BlockKitError(GraderError):
    """A message Slack would refuse; the message lists the problems with their JSON paths."""


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path or "(message)", message))

    def keys(self, obj: dict[str, Any], path: str, allowed: set[str], what: str) -> None:
        for key in obj:
            if key not in allowed:
                self.add(
                    _join(path, key),
                    f"{what} has no key {key!r} (its keys: {', '.join(sorted(allowed))})",
                )

    def string(
        self, obj: dict[str, Any], key: str, path: str, limit: int | None, *, required: bool
    ) -> str | None:
        where = _join(path, key)
        if key not in obj:
            if required:
                self.add(where, "is required")
            return None
        value = obj[key]
        if not isinstance(value, str):
            self.add(where, f"must be a string, not {_kind(value)}")
            return None
        if not value:
            self.add(where, "must not be empty")
        elif limit is not None and len(value) > limit:
            self.add(where, f"is {len(value)} characters; the most Slack takes is {limit}")
        return value

    def boolean(self, obj: dict[str, Any], key: str, path: str) -> None:
        if key in obj and not isinstance(obj[key], bool):
            self.add(_join(path, key), f"must be true or false, not {_kind(obj[key])}")

    def obj(self, value: Any, path: str, what: str) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.add(path, f"{what} must be an object, not {_kind(value)}")
            return None
        return value

    def array(self, value: Any, path: str, limit: int, what: str) -> list[Any]:
        if not isinstance(value, list):
            self.add(path, f"must be an array of {what}, not {_kind(value)}")
            return []
        if not value:
            self.add(path, f"must hold at least one of {what}")
        elif len(value) > limit:
            self.add(path, f"holds {len(value)} {what}; the most Slack takes is {limit}")
        return value

    # ------------------------------------------------------------ composition objects

    def text(
        self,
        value: Any,
        path: str,
        limit: int = MAX_TEXT,
        *,
        types: tuple[str, ...] = TEXT_TYPES,
    ) -> None:
        """A text object: ``{"type": "plain_text"|"mrkdwn", "text": ...}``; ``types`` is
        what this place allows (a header, a button's label: plain_text only)."""
        obj = self.obj(value, path, "a text object")
        if obj is None:
            return
        kind = obj.get("type")
        if kind not in TEXT_TYPES:
            self.add(
                _join(path, "type"), f"is {kind!r}; a text object is one of {_names(TEXT_TYPES)}"
            )
            return
        if kind not in types:
            self.add(
                _join(path, "type"),
                f"is {kind!r}, but here Slack takes only {_names(types)} (no markdown)",
            )
        extra = {"emoji"} if kind == "plain_text" else {"verbatim"}
        self.keys(obj, path, {"type", "text"} | extra, f"a {kind} text object")
        self.string(obj, "text", path, limit, required=True)
        for key in extra:
            self.boolean(obj, key, path)

    def confirm(self, value: Any, path: str) -> None:
        obj = self.obj(value, path, "a confirmation dialog")
        if obj is None:
            return
        self.keys(obj, path, {"title", "text", "confirm", "deny", "style"}, "a confirmation dialog")
        for key, limit, types in (
            ("title", MAX_CONFIRM_TITLE, ("plain_text",)),
            ("text", MAX_CONFIRM_TEXT, TEXT_TYPES),
            ("confirm", MAX_CONFIRM_BUTTON, ("plain_text",)),
            ("deny", MAX_CONFIRM_BUTTON, ("plain_text",)),
        ):
            if key not in obj:
                self.add(_join(path, key), "is required")
            else:
                self.text(obj[key], _join(path, key), limit, types=types)
        self.style(obj, path)

    def style(self, obj: dict[str, Any], path: str) -> None:
        if "style" in obj and obj["style"] not in BUTTON_STYLES:
            self.add(
                _join(path, "style"),
                f"is {obj['style']!r}; it is one of {_names(BUTTON_STYLES)} (leave it out for "
                "the default look)",
            )

    # ------------------------------------------------------------ elements

    def element(self, value: Any, path: str, allowed: tuple[str, ...]) -> None:
        obj = self.obj(value, path, "an element")
        if obj is None:
            return
        kind = obj.get("type")
        if kind not in allowed:
            self.add(
                _join(path, "type"),
                f"is {kind!r}; this validator knows, here, {_names(allowed)}",
            )
            return
        ELEMENTS[kind](self, obj, path)

    def button(self, obj: dict[str, Any], path: str) -> None:
        self.keys(
            obj,
            path,
            {"type", "text", "action_id", "url", "value", "style", "confirm",
             "accessibility_label"},
            "a button",
        )  # fmt: skip
        if "text" not in obj:
            self.add(_join(path, "text"), "is required")
        else:
            self.text(obj["text"], _join(path, "text"), MAX_BUTTON_TEXT, types=("plain_text",))
        self.string(obj, "action_id", path, MAX_ACTION_ID, required=False)
        self.string(obj, "url", path, MAX_URL, required=False)
        self.string(obj, "value", path, MAX_BUTTON_VALUE, required=False)
        self.string(obj, "accessibility_label", path, MAX_ACCESSIBILITY_LABEL, required=False)
        self.style(obj, path)
        if "confirm" in obj:
            self.confirm(obj["confirm"], _join(path, "confirm"))

    def image_element(self, obj: dict[str, Any], path: str) -> None:
        self.keys(obj, path, {"type", "image_url", "alt_text"}, "an image element")
        self.string(obj, "image_url", path, MAX_URL, required=True)
        self.string(obj, "alt_text", path, MAX_ALT_TEXT, required=True)

    # ------------------------------------------------------------ blocks

    def block(self, value: Any, path: str) -> None:
        obj = self.obj(value, path, "a block")
        if obj is None:
            return
        kind = obj.get("type")
        if kind not in BLOCKS:
            self.add(
                _join(path, "type"),
                f"is {kind!r}; the block types known here are {_names(tuple(BLOCKS))}",
            )
            return
        self.string(obj, "block_id", path, MAX_BLOCK_ID, required=False)
        BLOCKS[kind](self, obj, path)

    def section(self, obj: dict[str, Any], path: str) -> None:
        self.keys(
            obj, path, {"type", "block_id", "text", "fields", "accessory", "expand"}, "a section"
        )
        if "text" not in obj and "fields" not in obj:
            self.add(path, "a section needs text, fields, or both")
        if "text" in obj:
            self.text(obj["text"], _join(path, "text"), MAX_SECTION_TEXT)
        if "fields" in obj:
            fields = self.array(obj["fields"], _join(path, "fields"), MAX_FIELDS, "text objects")
            for i, field in enumerate(fields):
                self.text(field, f"{path}.fields[{i}]", MAX_FIELD_TEXT)
        if "accessory" in obj:
            self.element(obj["accessory"], _join(path, "accessory"), ("button", "image"))
        self.boolean(obj, "expand", path)

    def header(self, obj: dict[str, Any], path: str) -> None:
        self.keys(obj, path, {"type", "block_id", "text"}, "a header")
        if "text" not in obj:
            self.add(_join(path, "text"), "is required")
        else:
            self.text(obj["text"], _join(path, "text"), MAX_HEADER_TEXT, types=("plain_text",))

    def divider(self, obj: dict[str, Any], path: str) -> None:
        self.keys(obj, path, {"type", "block_id"}, "a divider")

    def context(self, obj: dict[str, Any], path: str) -> None:
        self.keys(obj, path, {"type", "block_id", "elements"}, "a context block")
        elements = self.array(
            obj.get("elements"), _join(path, "elements"), MAX_CONTEXT_ELEMENTS,
            "text objects or images",
        )  # fmt: skip
        for i, element in enumerate(elements):
            where = f"{path}.elements[{i}]"
            if isinstance(element, dict) and element.get("type") == "image":
                self.image_element(element, where)
            else:
                self.text(element, where)

    def actions(self, obj: dict[str, Any], path: str) -> None:
        self.keys(obj, path, {"type", "block_id", "elements"}, "an actions block")
        elements = self.array(
            obj.get("elements"), _join(path, "elements"), MAX_ACTIONS_ELEMENTS, "elements"
        )
        seen: dict[str, int] = {}
        for i, element in enumerate(elements):
            self.element(element, f"{path}.elements[{i}]", ("button",))
            action_id = element.get("action_id") if isinstance(element, dict) else None
            if isinstance(action_id, str):
                if action_id in seen:
                    self.add(
                        f"{path}.elements[{i}].action_id",
                        f"{action_id!r} is also elements[{seen[action_id]}]'s; an action_id "
                        "is unique within its block",
                    )
                seen.setdefault(action_id, i)

    def image(self, obj: dict[str, Any], path: str) -> None:
        self.keys(
            obj, path, {"type", "block_id", "image_url", "alt_text", "title"}, "an image block"
        )
        self.string(obj, "image_url", path, MAX_URL, required=True)
        self.string(obj, "alt_text", path, MAX_ALT_TEXT, required=True)
        if "title" in obj:
            self.text(obj["title"], _join(path, "title"), MAX_IMAGE_TITLE, types=("plain_text",))

    def message(self, value: Any) -> None:
        obj = self.obj(value, "", "a message")
        if obj is None:
            return
        self.keys(obj, "", set(MESSAGE_KEYS), "a message")
        if "text" in obj and not isinstance(obj["text"], str):
            self.add(
                "text",
                f"must be a string (the notification's plain text), not {_kind(obj['text'])}",
            )
        blocks = self.array(obj.get("blocks"), "blocks", MAX_BLOCKS, "blocks")
        ids: dict[str, int] = {}
        for i, block in enumerate(blocks):
            self.block(block, f"blocks[{i}]")
            block_id = block.get("block_id") if isinstance(block, dict) else None
            if isinstance(block_id, str):
                if block_id in ids:
                    self.add(
                        f"blocks[{i}].block_id",
                        f"{block_id!r} is also blocks[{ids[block_id]}]'s; a block_id is unique "
                        "in its message",
                    )
                ids.setdefault(block_id, i)


BLOCKS: dict[str, Callable[[_Checker, dict[str, Any], str], None]] = {
    "section": _Checker.section,
    "header": _Checker.header,
    "divider": _Checker.divider,
    "context": _Checker.context,
    "actions": _Checker.actions,
    "image": _Checker.image,
}
ELEMENTS: dict[str, Callable[[_Checker, dict[str, Any], str], None]] = {
    "button": _Checker.button,
    "image": _Checker.image_element,
}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _names(items: tuple[str, ...]) -> str:
    return ", ".join(repr(i) for i in items)


_kind = json_type  # "an object", "a string", ...: the words every engine uses


def validate(message: Any) -> list[Problem]:
    """Every problem of ``message`` (a ``{"blocks": [...]}`` payload), in document order."""
    checker = _Checker()
    checker.message(message)
    return checker.problems


def check(message: Any, *, limit: int = 5) -> None:
    """Raise ``BlockKitError`` listing the first ``limit`` problems, if there are any."""
    problems = validate(message)
    if problems:
        shown = "; ".join(str(p) for p in problems[:limit])
        more = len(problems) - limit
        raise BlockKitError(shown + (f"; and {more} more" if more > 0 else ""))


def texts(message: Any, *, fallback: bool = True) -> list[str]:
    """Every string a reader sees in the message (text objects, button labels, alt texts,
    and the fallback ``text`` unless ``fallback=False``: with blocks, Slack shows it only in
    notifications), for checking what a message says."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in TEXT_TYPES and isinstance(node.get("text"), str):
                found.append(node["text"])
            for key, value in node.items():
                if key == "alt_text" and isinstance(value, str):
                    found.append(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    if fallback and isinstance(message, dict) and isinstance(message.get("text"), str):
        found.append(message["text"])
    walk(message.get("blocks") if isinstance(message, dict) else None)
    return found


def buttons(message: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every button of the message's blocks with its JSON path."""
    out: list[tuple[str, dict[str, Any]]] = []
    blocks = message.get("blocks") if isinstance(message, dict) else None
    for i, block in enumerate(blocks if isinstance(blocks, list) else []):
        if not isinstance(block, dict):
            continue
        if block.get("type") == "actions" and isinstance(block.get("elements"), list):
            for j, element in enumerate(block["elements"]):
                if isinstance(element, dict) and element.get("type") == "button":
                    out.append((f"blocks[{i}].elements[{j}]", element))
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") == "button":
            out.append((f"blocks[{i}].accessory", accessory))
    return out
