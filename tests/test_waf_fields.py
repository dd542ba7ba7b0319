"""Which parts of a request does each FieldToMatch hand to a statement?"""

from __future__ import annotations

import json

import pytest

from grader.aws.waf.fields import (
    BODY_LIMIT_DEFAULT,
    Extracted,
    body_limit,
    extract,
    parse_field,
)
from grader.aws.waf.request import WafRequest

REQUEST = WafRequest(
    client_ip="192.0.2.10",
    uri="/login",
    method="POST",
    args="user=Alice&next=%2Fhome&User=bob",
    headers=(
        ("Host", "example.com"),
        ("User-Agent", "curl/8.0"),
        ("Cookie", "session=abc; theme=dark"),
        ("X-Forwarded-For", "203.0.113.7, 10.0.0.1"),
    ),
    body=b'{"user": {"name": "alice", "roles": ["admin", 7]}, "remember": true}',
)


def values(spec: dict, request: WafRequest = REQUEST, limit: int = BODY_LIMIT_DEFAULT):
    return extract(parse_field(spec), request, limit)


def test_do_the_simple_fields_give_the_request_parts_as_they_are():
    assert values({"UriPath": {}}).values == ("/login",)
    assert values({"QueryString": {}}).values == ("user=Alice&next=%2Fhome&User=bob",)
    assert values({"Method": {}}).values == ("POST",)


def test_is_a_single_header_found_whatever_the_case_of_its_name():
    assert values({"SingleHeader": {"Name": "user-agent"}}).values == ("curl/8.0",)
    assert values({"SingleHeader": {"Name": "Referer"}}).values == ()


def test_does_a_single_query_argument_ignore_name_case_and_keep_values_raw():
    assert values({"SingleQueryArgument": {"Name": "USER"}}).values == ("Alice", "bob")
    assert values({"SingleQueryArgument": {"Name": "next"}}).values == ("%2Fhome",)


def test_do_all_query_arguments_give_every_value_but_no_name():
    assert values({"AllQueryArguments": {}}).values == ("Alice", "%2Fhome", "bob")


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("KEY", ("session", "theme")),
        ("VALUE", ("abc", "dark")),
        ("ALL", ("session", "abc", "theme", "dark")),
    ],
)
def test_do_cookies_give_keys_values_or_both_by_match_scope(scope, expected):
    spec = {
        "Cookies": {
            "MatchPattern": {"All": {}},
            "MatchScope": scope,
            "OversizeHandling": "CONTINUE",
        }
    }
    assert values(spec).values == expected


def test_do_included_and_excluded_headers_narrow_the_headers_ignoring_case():
    included = {
        "Headers": {
            "MatchPattern": {"IncludedHeaders": ["user-agent", "HOST"]},
            "MatchScope": "VALUE",
            "OversizeHandling": "CONTINUE",
        }
    }
    assert values(included).values == ("example.com", "curl/8.0")
    excluded = {
        "Headers": {
            "MatchPattern": {"ExcludedHeaders": ["cookie", "x-forwarded-for"]},
            "MatchScope": "KEY",
            "OversizeHandling": "CONTINUE",
        }
    }
    assert values(excluded).values == ("Host", "User-Agent")


def test_are_cookie_names_case_sensitive_in_included_cookies():
    spec = {
        "Cookies": {
            "MatchPattern": {"IncludedCookies": ["Session"]},
            "MatchScope": "VALUE",
            "OversizeHandling": "CONTINUE",
        }
    }
    assert values(spec).values == ()


@pytest.mark.parametrize(
    ("handling", "expected"),
    [("MATCH", Extracted(forced=True)), ("NO_MATCH", Extracted(forced=False))],
)
def test_does_oversize_handling_decide_for_a_body_over_the_limit(handling, expected):
    big = WafRequest(client_ip="192.0.2.1", body=b"a" * 20)
    assert values({"Body": {"OversizeHandling": handling}}, big, limit=10) == expected
    assert values({"Body": {"OversizeHandling": handling}}, big, limit=20).values == ("a" * 20,)


def test_does_continue_inspect_only_the_first_bytes_of_an_oversize_body():
    big = WafRequest(client_ip="192.0.2.1", body=b"0123456789EVIL")
    assert values({"Body": {"OversizeHandling": "CONTINUE"}}, big, limit=10).values == (
        "0123456789",
    )


def test_are_too_many_headers_oversize():
    many = WafRequest(client_ip="192.0.2.1", headers=tuple((f"h{i}", "v") for i in range(201)))
    spec = {
        "Headers": {"MatchPattern": {"All": {}}, "MatchScope": "KEY", "OversizeHandling": "MATCH"}
    }
    assert values(spec, many).forced is True
    spec["Headers"]["OversizeHandling"] = "CONTINUE"
    assert len(values(spec, many).values) == 200


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("KEY", ("user", "name", "roles", "remember")),
        ("VALUE", ("alice", "admin", "7", "true")),
    ],
)
def test_does_a_json_body_give_keys_or_values_of_the_whole_document(scope, expected):
    spec = {"JsonBody": {"MatchPattern": {"All": {}}, "MatchScope": scope}}
    assert values(spec).values == expected


def test_do_included_paths_read_only_the_pointed_parts():
    spec = {
        "JsonBody": {
            "MatchPattern": {"IncludedPaths": ["/user/roles/0", "/missing"]},
            "MatchScope": "VALUE",
        }
    }
    assert values(spec).values == ("admin",)


@pytest.mark.parametrize(
    ("fallback", "expected"),
    [
        ("EVALUATE_AS_STRING", Extracted(("{not json",))),
        ("MATCH", Extracted(forced=True)),
        ("NO_MATCH", Extracted(forced=False)),
        (None, Extracted()),
    ],
)
def test_does_invalid_json_follow_the_fallback_behavior(fallback, expected):
    broken = WafRequest(client_ip="192.0.2.1", body=b"{not json")
    body = {"MatchPattern": {"All": {}}, "MatchScope": "VALUE"}
    if fallback:
        body["InvalidFallbackBehavior"] = fallback
    assert values({"JsonBody": body}, broken) == expected


def test_is_a_json_body_over_the_limit_handled_before_parsing():
    doc = json.dumps({"k": "v" * 50}).encode()
    spec = {
        "JsonBody": {"MatchPattern": {"All": {}}, "MatchScope": "ALL", "OversizeHandling": "MATCH"}
    }
    assert values(spec, WafRequest(client_ip="192.0.2.1", body=doc), limit=16).forced is True


@pytest.mark.parametrize(
    ("scope", "resource", "association", "expected"),
    [
        ("CLOUDFRONT", None, None, 16 * 1024),
        ("REGIONAL", None, None, 8 * 1024),
        ("REGIONAL", "API_GATEWAY", None, 16 * 1024),
        (
            "CLOUDFRONT",
            None,
            {"RequestBody": {"CLOUDFRONT": {"DefaultSizeInspectionLimit": "KB_64"}}},
            64 * 1024,
        ),
        (
            "REGIONAL",
            "APPLICATION_LOAD_BALANCER",
            {"RequestBody": {"API_GATEWAY": {"DefaultSizeInspectionLimit": "KB_64"}}},
            8 * 1024,
        ),
    ],
)
def test_is_the_body_limit_the_documented_one_per_resource(scope, resource, association, expected):
    assert body_limit(scope, resource, association) == expected
