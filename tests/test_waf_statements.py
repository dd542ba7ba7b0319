"""Does each rule statement match the requests WAF's documentation says it matches?"""

from __future__ import annotations

import pytest

from grader.aws.waf.request import WafRequest
from grader.aws.waf.statements import (
    EvalContext,
    IpSet,
    WafConfigError,
    compile_regex,
    parse_statement,
)

NS = "awswaf:111122223333:webacl:lab:"
NONE = [{"Priority": 0, "Type": "NONE"}]
LOWER = [{"Priority": 0, "Type": "LOWERCASE"}]


def req(**kw) -> WafRequest:
    kw.setdefault("client_ip", "192.0.2.10")
    return WafRequest(**kw)


def check(statement: dict, request: WafRequest, *, labels=(), **resources) -> bool:
    node = parse_statement(statement, "Statement", [])
    ctx = EvalContext(request, NS, **resources)
    for label in labels:
        ctx.add_label(label)
    return node.matches(ctx)


def byte(search: str, positional: str, field=None, transforms=NONE) -> dict:
    return {
        "ByteMatchStatement": {
            "SearchString": search,
            "FieldToMatch": field or {"SingleHeader": {"Name": "User-Agent"}},
            "TextTransformations": transforms,
            "PositionalConstraint": positional,
        }
    }


def ua(agent: str) -> WafRequest:
    return req(headers=(("User-Agent", agent),))


@pytest.mark.parametrize(
    ("positional", "agent", "expected"),
    [
        ("EXACTLY", "BadBot", True),
        ("EXACTLY", "BadBot/1.0", False),
        ("STARTS_WITH", "BadBot/1.0", True),
        ("STARTS_WITH", "xBadBot", False),
        ("ENDS_WITH", "I am BadBot", True),
        ("ENDS_WITH", "BadBot!", False),
        ("CONTAINS", "xxBadBotxx", True),
        ("CONTAINS", "badbot", False),  # case-sensitive without a transformation
        ("CONTAINS_WORD", "BadBot", True),
        ("CONTAINS_WORD", "BadBot;", True),
        ("CONTAINS_WORD", ";BadBot", True),
        ("CONTAINS_WORD", "a;BadBot;b", True),
        ("CONTAINS_WORD", "BadBot_2", False),  # underscore is part of a word
        ("CONTAINS_WORD", "BadBots", False),
        ("CONTAINS_WORD", "9BadBot", False),
    ],
)
def test_does_each_positional_constraint_match_as_documented(positional, agent, expected):
    assert check(byte("BadBot", positional), ua(agent)) is expected


def test_does_a_lowercase_transformation_run_before_the_match():
    assert check(byte("badbot", "CONTAINS", transforms=LOWER), ua("Mozilla BADBOT"))
    assert not check(byte("badbot", "CONTAINS"), ua("Mozilla BADBOT"))


def test_does_a_search_string_given_as_bytes_match_like_text():
    assert check(byte(b"BadBot", "EXACTLY"), ua("BadBot"))  # type: ignore[arg-type]


def test_does_a_url_decode_reveal_an_encoded_path():
    statement = byte(
        "/admin", "STARTS_WITH", {"UriPath": {}}, [{"Priority": 0, "Type": "URL_DECODE"}]
    )
    assert check(statement, req(uri="/%61dmin/panel"))


def test_does_a_multi_valued_field_match_when_any_value_matches():
    statement = byte("evil", "EXACTLY", {"AllQueryArguments": {}})
    assert check(statement, req(args="a=1&b=evil"))
    assert not check(statement, req(args="a=1&b=evilish"))


def test_does_a_missing_header_never_match():
    assert not check(byte("", "EXACTLY"), req())


def test_does_a_regex_search_anywhere_in_the_field():
    statement = {
        "RegexMatchStatement": {
            "RegexString": r"^/api/v[0-9]+/",
            "FieldToMatch": {"UriPath": {}},
            "TextTransformations": NONE,
        }
    }
    assert check(statement, req(uri="/api/v2/users"))
    assert not check(statement, req(uri="/static/api/v2/"))


def test_does_a_bad_regex_fail_like_waf_with_its_path():
    statement = {
        "RegexMatchStatement": {
            "RegexString": "(unclosed",
            "FieldToMatch": {"UriPath": {}},
            "TextTransformations": NONE,
        }
    }
    with pytest.raises(WafConfigError) as info:
        parse_statement(statement, "Rules[0].Statement", [])
    assert info.value.json_path == "Rules[0].Statement.RegexMatchStatement.RegexString"
    assert "Error reason:" in info.value.message


def test_does_a_regex_pattern_set_match_any_of_its_patterns():
    arn = "arn:aws:wafv2:us-east-1:111122223333:global/regexpatternset/bots/1"
    statement = {
        "RegexPatternSetReferenceStatement": {
            "ARN": arn,
            "FieldToMatch": {"SingleHeader": {"Name": "user-agent"}},
            "TextTransformations": LOWER,
        }
    }
    sets = {arn: (compile_regex("python-requests", "x"), compile_regex("^curl/", "x"))}
    assert check(statement, ua("CURL/8.1"), regex_sets=sets)
    assert check(statement, ua("python-requests/2.31"), regex_sets=sets)
    assert not check(statement, ua("Mozilla/5.0"), regex_sets=sets)


@pytest.mark.parametrize(
    ("operator", "size", "expected"),
    [
        ("EQ", 6, True),
        ("NE", 6, False),
        ("LE", 6, True),
        ("LT", 6, False),
        ("GE", 7, False),
        ("GT", 5, True),
    ],
)
def test_does_a_size_constraint_compare_with_each_operator(operator, size, expected):
    statement = {
        "SizeConstraintStatement": {
            "FieldToMatch": {"UriPath": {}},
            "ComparisonOperator": operator,
            "Size": size,
            "TextTransformations": NONE,
        }
    }
    assert check(statement, req(uri="/login")) is expected


def test_is_the_size_counted_in_bytes_after_transformations():
    statement = {
        "SizeConstraintStatement": {
            "FieldToMatch": {"UriPath": {}},
            "ComparisonOperator": "EQ",
            "Size": 3,
            "TextTransformations": LOWER,
        }
    }
    assert check(statement, req(uri="/\u00e9"))  # "/" and one two-byte character
    assert not check(statement, req(uri="/e"))


def test_does_oversize_match_make_a_body_size_rule_match():
    statement = {
        "SizeConstraintStatement": {
            "FieldToMatch": {"Body": {"OversizeHandling": "MATCH"}},
            "ComparisonOperator": "GT",
            "Size": 1_000_000,
            "TextTransformations": NONE,
        }
    }
    assert check(statement, req(body=b"x" * 20), body_limit=10)
    assert not check(statement, req(body=b"x" * 5), body_limit=10)


def geo(countries, forwarded=None) -> dict:
    body = {"CountryCodes": countries}
    if forwarded:
        body["ForwardedIPConfig"] = forwarded
    return {"GeoMatchStatement": body}


def test_does_geo_match_use_the_request_country_and_label_it():
    node = parse_statement(geo(["JP", "US"]), "Statement", [])
    ctx = EvalContext(req(country="JP"), NS)
    assert node.matches(ctx)
    assert ctx.labels == ["awswaf:clientip:geo:country:JP"]
    assert not check(geo(["JP"]), req(country="FR"))
    assert not check(geo(["JP"]), req())


def test_does_geo_match_with_a_forwarded_ip_need_the_header():
    forwarded = {"HeaderName": "X-Forwarded-For", "FallbackBehavior": "MATCH"}
    lookup = {"203.0.113.7": "JP"}.get
    with_header = req(country="US", headers=(("X-Forwarded-For", "203.0.113.7, 10.0.0.1"),))
    assert check(geo(["JP"], forwarded), with_header, geo_lookup=lookup)
    assert not check(geo(["JP"], forwarded), req(country="JP"), geo_lookup=lookup)
    garbage = req(headers=(("X-Forwarded-For", "not-an-ip"),))
    assert check(geo(["JP"], forwarded), garbage)  # FallbackBehavior MATCH
    forwarded["FallbackBehavior"] = "NO_MATCH"
    assert not check(geo(["JP"], forwarded), garbage)


IPSET = "arn:aws:wafv2:us-east-1:111122223333:global/ipset/office/1"
SETS = {IPSET: IpSet.parse(["192.0.2.0/24", "2001:db8::/32", "198.51.100.7/32"])}


def ipset(forwarded=None) -> dict:
    body = {"ARN": IPSET}
    if forwarded:
        body["IPSetForwardedIPConfig"] = forwarded
    return {"IPSetReferenceStatement": body}


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("192.0.2.200", True),
        ("192.0.3.1", False),
        ("198.51.100.7", True),
        ("198.51.100.8", False),
        ("2001:db8:1::5", True),
        ("2001:db9::5", False),
    ],
)
def test_does_an_ip_set_match_v4_and_v6_cidrs(address, expected):
    assert check(ipset(), req(client_ip=address), ip_sets=SETS) is expected


@pytest.mark.parametrize(
    ("position", "header", "expected"),
    [
        ("FIRST", "192.0.2.9, 203.0.113.1", True),
        ("FIRST", "203.0.113.1, 192.0.2.9", False),
        ("LAST", "203.0.113.1, 192.0.2.9", True),
        ("LAST", "192.0.2.9, 203.0.113.1", False),
        ("ANY", "203.0.113.1, 192.0.2.9, 203.0.113.2", True),
        ("ANY", "203.0.113.1, 203.0.113.2", False),
    ],
)
def test_does_a_forwarded_ip_position_pick_the_address(position, header, expected):
    forwarded = {
        "HeaderName": "X-Forwarded-For",
        "FallbackBehavior": "NO_MATCH",
        "Position": position,
    }
    request = req(client_ip="203.0.113.99", headers=(("x-forwarded-for", header),))
    assert check(ipset(forwarded), request, ip_sets=SETS) is expected


def test_does_a_missing_forwarded_header_skip_the_rule_whatever_the_fallback():
    forwarded = {"HeaderName": "X-Forwarded-For", "FallbackBehavior": "MATCH", "Position": "FIRST"}
    assert not check(ipset(forwarded), req(client_ip="192.0.2.1"), ip_sets=SETS)
    invalid = req(headers=(("X-Forwarded-For", "unknown"),))
    assert check(ipset(forwarded), invalid, ip_sets=SETS)


def test_does_any_position_inspect_only_the_last_ten_addresses():
    forwarded = {"HeaderName": "X-Forwarded-For", "FallbackBehavior": "NO_MATCH", "Position": "ANY"}
    chain = ", ".join(["192.0.2.1"] + ["203.0.113.1"] * 10)
    request = req(client_ip="203.0.113.99", headers=(("X-Forwarded-For", chain),))
    assert not check(ipset(forwarded), request, ip_sets=SETS)


def label(scope: str, key: str) -> dict:
    return {"LabelMatchStatement": {"Scope": scope, "Key": key}}


BOT = "awswaf:managed:aws:bot-control:bot:category:http_library"


@pytest.mark.parametrize(
    ("scope", "key", "expected"),
    [
        ("LABEL", BOT, True),
        ("LABEL", "awswaf:managed:aws:bot-control:bot:category", False),  # a namespace
        ("NAMESPACE", "awswaf:managed:aws:bot-control:bot:category:", True),
        ("NAMESPACE", "awswaf:managed:aws:bot-control:bot:category", True),
        ("NAMESPACE", "awswaf:managed:aws:bot-control:bot:cat", False),  # not a whole part
        ("LABEL", "trusted", True),  # the web ACL's own namespace is assumed
        ("LABEL", "team:trusted", False),
        ("NAMESPACE", "team", True),
        ("LABEL", "http_library", False),  # another context needs its prefix
    ],
)
def test_does_a_label_match_honour_scope_and_the_default_prefix(scope, key, expected):
    labels = (BOT, NS + "trusted", NS + "team:blue")
    assert check(label(scope, key), req(), labels=labels) is expected


def test_do_and_or_not_combine_as_logic_does():
    yes = byte("curl", "STARTS_WITH")
    no = byte("wget", "STARTS_WITH")
    request = ua("curl/8")
    assert check({"AndStatement": {"Statements": [yes, yes]}}, request)
    assert not check({"AndStatement": {"Statements": [yes, no]}}, request)
    assert check({"OrStatement": {"Statements": [no, yes]}}, request)
    assert not check({"OrStatement": {"Statements": [no, no]}}, request)
    assert check({"NotStatement": {"Statement": no}}, request)
    assert not check({"NotStatement": {"Statement": yes}}, request)


@pytest.mark.parametrize(
    ("statement", "path"),
    [
        ({}, "Rules[0].Statement"),
        ({**label("LABEL", "a"), **geo(["JP"])}, "Rules[0].Statement"),
        (
            {"NotStatement": {"Statement": {"AndStatement": {"Statements": [{}, {}]}}}},
            "Rules[0].Statement.NotStatement.Statement.AndStatement.Statements[0]",
        ),
    ],
)
def test_is_a_statement_with_none_or_two_types_refused_where_it_is(statement, path):
    with pytest.raises(WafConfigError) as info:
        parse_statement(statement, "Rules[0].Statement", [])
    assert info.value.json_path == path
    assert "none or multiple values" in info.value.message


def test_is_a_nested_managed_group_refused():
    nested = {
        "NotStatement": {
            "Statement": {
                "ManagedRuleGroupStatement": {
                    "VendorName": "AWS",
                    "Name": "AWSManagedRulesBotControlRuleSet",
                }
            }
        }
    }
    with pytest.raises(WafConfigError, match="top-level"):
        parse_statement(nested, "Rules[0].Statement", [])


def test_is_an_and_with_one_statement_refused():
    with pytest.raises(WafConfigError, match="at least two"):
        parse_statement({"AndStatement": {"Statements": [geo(["JP"])]}}, "S", [])


def test_is_a_field_to_match_with_two_parts_refused():
    statement = byte("x", "EXACTLY", {"UriPath": {}, "QueryString": {}})
    with pytest.raises(WafConfigError) as info:
        parse_statement(statement, "S", [])
    assert info.value.json_path == "S.ByteMatchStatement.FieldToMatch"


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("Sqli", "1' OR '1'='1", True),
        ("Sqli", "id=1 UNION SELECT password FROM users", True),
        ("Sqli", "a plain search for union jacks", False),
        ("Xss", "<script>alert(1)</script>", True),
        ("Xss", "<img src=x onerror=alert(1)>", True),
        ("Xss", "a script about cats", False),
    ],
)
def test_does_the_injection_model_catch_textbook_attacks_only(kind, value, expected):
    statement = {
        f"{kind}MatchStatement": {
            "FieldToMatch": {"QueryString": {}},
            "TextTransformations": NONE,
        }
    }
    assert check(statement, req(args=value)) is expected


def test_is_an_unmodelled_field_a_warning_and_never_a_match():
    warnings: list = []
    statement = byte("abc", "CONTAINS", {"JA3Fingerprint": {"FallbackBehavior": "MATCH"}})
    node = parse_statement(statement, "S", warnings)
    assert warnings and "JA3Fingerprint" in warnings[0][1]
    assert not node.matches(EvalContext(req(), NS))


def test_does_a_json_body_value_match_when_any_value_matches():
    statement = byte(
        "admin",
        "EXACTLY",
        {"JsonBody": {"MatchPattern": {"All": {}}, "MatchScope": "VALUE"}},
    )
    assert check(statement, req(body=b'{"user": "bob", "roles": ["reader", "admin"]}'))
    assert not check(statement, req(body=b'{"admin": "no"}'))  # a key, not a value
