"""Block Kit validation: does each of Slack's limits let a message at the limit through and
refuse one over it, naming the JSON path; are unknown types and keys, and markdown where
Slack takes only plain text, refused?"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from grader.aws.siem import blockkit
from grader.aws.siem.blockkit import BlockKitError, buttons, check, texts, validate


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def button(text: str = "Yes", **more: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain(text), "action_id": "yes", "value": "v", **more}


def message(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"text": "fallback", "blocks": list(blocks)}


def good() -> dict[str, Any]:
    """A message that uses every kind of block and element the validator knows."""
    return message(
        {"type": "header", "text": plain("Alert")},
        {"type": "section", "block_id": "who", "text": mrkdwn("*who*"),
         "fields": [mrkdwn("a"), plain("b")], "accessory": button()},
        {"type": "divider"},
        {"type": "context", "elements": [mrkdwn("c"),
                                          {"type": "image", "image_url": "https://x/y.png",
                                           "alt_text": "flag"}]},
        {"type": "image", "image_url": "https://x/y.png", "alt_text": "map", "title": plain("t")},
        {"type": "actions", "elements": [
            button("Yes", style="primary"),
            {**button("No", style="danger"), "action_id": "no",
             "confirm": {"title": plain("Sure?"), "text": mrkdwn("It was not you?"),
                         "confirm": plain("Not me"), "deny": plain("Back")}},
        ]},
    )  # fmt: skip


def test_a_message_using_every_known_block_is_valid():
    assert validate(good()) == []
    check(good())


# (what, the message with n of something, the path the n+1-th breaks, the limit)
def blocks_n(n: int) -> dict[str, Any]:
    return message(*[{"type": "divider"} for _ in range(n)])


def section_text(n: int) -> dict[str, Any]:
    return message({"type": "section", "text": mrkdwn("x" * n)})


def fields_n(n: int) -> dict[str, Any]:
    return message({"type": "section", "fields": [plain("f")] * n})


def field_text(n: int) -> dict[str, Any]:
    return message({"type": "section", "fields": [plain("x" * n)]})


def header_text(n: int) -> dict[str, Any]:
    return message({"type": "header", "text": plain("x" * n)})


def actions_n(n: int) -> dict[str, Any]:
    return message(
        {"type": "actions", "elements": [{**button(), "action_id": f"a{i}"} for i in range(n)]}
    )


def button_text(n: int) -> dict[str, Any]:
    return message({"type": "actions", "elements": [button("x" * n)]})


def action_id(n: int) -> dict[str, Any]:
    return message({"type": "actions", "elements": [{**button(), "action_id": "x" * n}]})


def button_value(n: int) -> dict[str, Any]:
    return message({"type": "actions", "elements": [{**button(), "value": "x" * n}]})


def context_n(n: int) -> dict[str, Any]:
    return message({"type": "context", "elements": [plain("c")] * n})


def block_id(n: int) -> dict[str, Any]:
    return message({"type": "divider", "block_id": "x" * n})


LIMITS: list[tuple[str, Callable[[int], dict[str, Any]], int, str]] = [
    ("50 blocks per message", blocks_n, 50, "blocks"),
    ("section text 3000", section_text, 3000, "blocks[0].text.text"),
    ("10 fields", fields_n, 10, "blocks[0].fields"),
    ("field text 2000", field_text, 2000, "blocks[0].fields[0].text"),
    ("header text 150", header_text, 150, "blocks[0].text.text"),
    ("25 elements in actions", actions_n, 25, "blocks[0].elements"),
    ("button text 75", button_text, 75, "blocks[0].elements[0].text.text"),
    ("action_id 255", action_id, 255, "blocks[0].elements[0].action_id"),
    ("button value 2000", button_value, 2000, "blocks[0].elements[0].value"),
    ("10 context elements", context_n, 10, "blocks[0].elements"),
    ("block_id 255", block_id, 255, "blocks[0].block_id"),
]


@pytest.mark.parametrize(("make", "limit", "path"), [x[1:] for x in LIMITS],
                         ids=[x[0] for x in LIMITS])  # fmt: skip
def test_each_limit_passes_at_the_limit_and_fails_one_over_naming_the_path(make, limit, path):
    assert validate(make(limit)) == []
    problems = validate(make(limit + 1))
    assert [p.path for p in problems] == [path]
    assert str(limit) in problems[0].message


def test_the_limits_are_slacks_documented_numbers():
    assert (blockkit.MAX_BLOCKS, blockkit.MAX_SECTION_TEXT, blockkit.MAX_HEADER_TEXT) == (
        50, 3000, 150,
    )  # fmt: skip
    assert (blockkit.MAX_FIELDS, blockkit.MAX_FIELD_TEXT, blockkit.MAX_ACTIONS_ELEMENTS) == (
        10, 2000, 25,
    )  # fmt: skip


def broken(change: Callable[[dict[str, Any]], None]) -> list[str]:
    msg = copy.deepcopy(good())
    change(msg)
    return [str(p) for p in validate(msg)]


def test_a_button_style_other_than_primary_or_danger_is_refused():
    found = broken(lambda m: m["blocks"][5]["elements"][0].update(style="warning"))
    assert found == [
        "blocks[5].elements[0].style: is 'warning'; it is one of 'primary', 'danger' "
        "(leave it out for the default look)"
    ]


@pytest.mark.parametrize(
    ("where", "path"),
    [
        (lambda m: m["blocks"][0]["text"], "blocks[0].text.type"),  # header
        (lambda m: m["blocks"][5]["elements"][0]["text"], "blocks[5].elements[0].text.type"),
        (lambda m: m["blocks"][4]["title"], "blocks[4].title.type"),  # image title
        (lambda m: m["blocks"][5]["elements"][1]["confirm"]["title"],
         "blocks[5].elements[1].confirm.title.type"),
    ],
    ids=["header", "button label", "image title", "confirm title"],
)  # fmt: skip
def test_markdown_where_slack_takes_only_plain_text_is_refused(where, path):
    found = broken(lambda m: where(m).update(type="mrkdwn"))
    assert len(found) == 1 and found[0].startswith(f"{path}: is 'mrkdwn'")


def test_markdown_is_taken_where_slack_allows_it():
    msg = message({"type": "section", "text": mrkdwn("*bold*"), "fields": [mrkdwn("_i_")]},
                  {"type": "context", "elements": [mrkdwn("`code`")]})  # fmt: skip
    assert validate(msg) == []


def test_an_unknown_block_type_is_refused_with_the_known_ones():
    found = broken(lambda m: m["blocks"].append({"type": "table"}))
    assert len(found) == 1 and found[0].startswith("blocks[6].type: is 'table'; the block types")


def test_an_unknown_key_is_refused_where_it_is():
    found = broken(lambda m: m["blocks"][1].update(acessory={}))
    assert found == [
        "blocks[1].acessory: a section has no key 'acessory' (its keys: accessory, block_id, "
        "expand, fields, text, type)"
    ]
    assert broken(lambda m: m.update(attachments=[]))[0].startswith("attachments: a message has")
    found = broken(lambda m: m["blocks"][5]["elements"][0].update(colour="red"))
    assert found[0].startswith("blocks[5].elements[0].colour: a button has no key")


def test_an_element_a_block_does_not_take_is_refused():
    found = broken(lambda m: m["blocks"][5]["elements"].append({"type": "image"}))
    assert found == ["blocks[5].elements[2].type: is 'image'; this validator knows, here, 'button'"]


def test_missing_and_empty_parts_are_named():
    assert broken(lambda m: m.pop("blocks")) == ["blocks: must be an array of blocks, not null"]
    assert broken(lambda m: m.update(blocks=[])) == ["blocks: must hold at least one of blocks"]
    assert broken(lambda m: m["blocks"][0]["text"].update(text="")) == [
        "blocks[0].text.text: must not be empty"
    ]
    assert broken(lambda m: m["blocks"][1].pop("text") and m["blocks"][1].pop("fields")) == [
        "blocks[1]: a section needs text, fields, or both"
    ]
    assert broken(lambda m: m["blocks"][5]["elements"][0].pop("text")) == [
        "blocks[5].elements[0].text: is required"
    ]


def test_ids_that_must_be_unique_are():
    assert broken(lambda m: m["blocks"][2].update(block_id="who")) == [
        "blocks[2].block_id: 'who' is also blocks[1]'s; a block_id is unique in its message"
    ]
    found = broken(lambda m: m["blocks"][5]["elements"][1].update(action_id="yes"))
    assert found[0].startswith("blocks[5].elements[1].action_id: 'yes' is also elements[0]'s")


def test_values_of_the_wrong_json_type_are_named():
    assert validate("hello")[0].message == "a message must be an object, not a string"
    assert broken(lambda m: m["blocks"][1].update(expand="yes")) == [
        "blocks[1].expand: must be true or false, not a string"
    ]
    assert broken(lambda m: m.update(text=3)) == [
        "text: must be a string (the notification's plain text), not a number"
    ]


def test_check_raises_with_the_first_problems_and_a_count_of_the_rest():
    msg = message(*[{"type": "header", "text": mrkdwn("x")} for _ in range(7)])
    with pytest.raises(BlockKitError) as caught:
        check(msg, limit=2)
    assert str(caught.value).count("blocks[") == 2 and "and 5 more" in str(caught.value)


def test_texts_and_buttons_list_what_a_reader_sees_and_can_press():
    seen = texts(good())
    assert {"fallback", "Alert", "*who*", "a", "b", "Yes", "No", "flag", "map"} <= set(seen)
    assert "fallback" not in texts(good(), fallback=False)  # Slack shows it only in notifications
    assert [path for path, _ in buttons(good())] == [
        "blocks[1].accessory", "blocks[5].elements[0]", "blocks[5].elements[1]",
    ]  # fmt: skip
