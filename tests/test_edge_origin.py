"""The origin model: which answer a path gets, and who a personal answer was made for."""

from __future__ import annotations

import json

import pytest

from grader.aws.edge.origin import (
    DEFAULT_ORIGIN,
    UNMATCHED,
    OriginModelError,
    load_origin,
)
from grader.aws.errors import GraderError

MODEL = {
    "/api/*": {
        "status": 200,
        "headers": {"Cache-Control": "no-store"},
        "size": 512,
        "personal": True,
    },
    "/static/*.css": {
        "headers": [{"name": "Cache-Control", "value": "max-age=31536000"}],
        "size": 20000,
    },
    "/img/???.png": {"size": 100},
    "*": {"status": 200, "size": 10},
}


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/api/*", "/api/cart/items", True),  # * crosses '/'
        ("/api/*", "/API/cart", False),  # case-sensitive
        ("/api/*", "/api", False),
        ("api/*", "/api/x", True),  # the leading '/' is optional
        ("/img/???.png", "/img/cat.png", True),
        ("/img/???.png", "/img/cats.png", False),  # ? is exactly one character
        ("/a.b", "/aXb", False),  # '.' is literal
        ("/[x]*", "/[x]y", True),  # so are brackets (no character classes)
        ("*", "/anything/at/all", True),
    ],
)
def test_does_a_path_pattern_match_as_cloudfront_matches_it(pattern, path, matches):
    origin = load_origin({pattern: {"size": 1}})
    assert (origin.respond(path).status == 200) is matches


def test_does_the_first_matching_pattern_answer():
    origin = load_origin(MODEL)
    css = origin.respond("/static/site.css", "alice")
    assert css.size == 20000 and css.header("cache-control") == "max-age=31536000"
    assert css.made_for is None
    assert origin.respond("/img/cat.png").size == 100
    assert origin.respond("/other").size == 10  # the catch-all, last in the file


def test_is_a_personal_answer_made_for_the_viewer_who_asked():
    origin = load_origin(MODEL)
    alice, bob = origin.respond("/api/me", "alice"), origin.respond("/api/me", "bob")
    assert alice.made_for == "alice" and bob.made_for == "bob"
    assert alice.status == 200 and alice.header("Cache-Control") == "no-store"


def test_does_a_path_no_pattern_matches_get_a_404_without_caching_headers():
    origin = load_origin({"/only": {"size": 1}})
    assert origin.respond("/elsewhere", "alice") is UNMATCHED
    assert UNMATCHED.status == 404 and UNMATCHED.headers == () and UNMATCHED.made_for is None


def test_is_the_default_model_a_day_long_10_kb_public_answer_for_every_path():
    answer = load_origin(DEFAULT_ORIGIN).respond("/any/path.html", "alice")
    assert answer.status == 200 and answer.size == 10_240
    assert answer.header("Cache-Control") == "max-age=86400" and answer.made_for is None


@pytest.mark.parametrize(
    ("model", "json_path", "words"),
    [
        ({"/a": {"status": "OK"}}, '["/a"].status', "HTTP status code"),
        ({"/a": {"status": 99}}, '["/a"].status', "100-599"),
        ({"/a": {"size": -1}}, '["/a"].size', "0 or more"),
        ({"/a": {"personal": "yes"}}, '["/a"].personal', "true or false"),
        ({"/a": {"body": "x"}}, '["/a"].body', "not a field"),
        ({"/a": {"headers": {"Cache-Control": 60}}}, '["/a"].headers.Cache-Control', "string"),
        ({"/a": {"headers": [{"name": "X"}]}}, '["/a"].headers[0].value', "string"),
        ({"/a": {"headers": "max-age=60"}}, '["/a"].headers', "object or a list"),
        ({"/a": 200}, '["/a"]', "must be an object"),
        ({"x" * 256: {}}, f'["{"x" * 256}"]', "255"),
    ],
)
def test_is_a_wrong_origin_model_an_error_at_its_json_path(model, json_path, words):
    with pytest.raises(OriginModelError) as caught:
        load_origin(model)
    assert caught.value.json_path == json_path and words in caught.value.message


def test_does_a_file_error_name_the_file(tmp_path):
    target = tmp_path / "origin.json"
    target.write_text(json.dumps({"/a": {"size": "big"}}))
    with pytest.raises(GraderError) as caught:
        load_origin(target)
    assert str(caught.value).startswith(f'{target} at ["/a"].size: ')
    target.write_text("[1]")
    with pytest.raises(GraderError, match="should hold an object of path patterns"):
        load_origin(target)
