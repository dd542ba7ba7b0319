"""CloudFront access logs as the cache simulator reads them: the standard (W3C) format and
JSON lines with the same field names."""

from __future__ import annotations

import json

import pytest

from grader.aws.edge.logs import (
    STANDARD_FIELDS,
    EdgeLogError,
    load_log,
    parse_log,
    write_log_jsonl,
)
from grader.aws.edge.request import EdgeRequest
from grader.aws.errors import GraderError

HEADER = ["#Version: 1.0", "#Fields: " + " ".join(STANDARD_FIELDS)]


def w3c(**values: str) -> str:
    """A standard log line: every field '-' except those given (by field name)."""
    defaults = {
        "date": "2026-12-03",
        "time": "01:42:39",
        "x-edge-location": "NRT57-P1",
        "c-ip": "192.0.2.10",
        "cs-method": "GET",
        "cs(Host)": "d111111abcdef8.cloudfront.net",
        "cs-uri-stem": "/index.html",
        "sc-status": "200",
        "cs-protocol": "https",
    }
    defaults.update({k.replace("_", "-"): v for k, v in values.items()})
    return "\t".join(defaults.get(name, "-") for name in STANDARD_FIELDS)


def test_does_a_standard_log_line_become_a_request_with_its_time_edge_and_viewer():
    (request,), warnings = parse_log([*HEADER, w3c()])
    assert warnings == []
    assert request.time_ms == 1796262159000  # 2026-12-03T01:42:39Z
    assert request.edge_location == "NRT57-P1" and request.path == "/index.html"
    assert request.client_ip == "192.0.2.10" and request.viewer == "192.0.2.10"
    assert request.header("host") == "d111111abcdef8.cloudfront.net"
    assert request.protocol == "https" and request.query == "" and request.cookies == ()


def test_are_url_encoded_text_fields_decoded_and_cookies_split():
    line = w3c(
        **{
            "cs(User-Agent)": "Mozilla/5.0%20(X11)",
            "cs(Cookie)": "session=abc;%20lang=ja",
            "x-host-header": "www.example.com",
            "cs-uri-query": "q=1&page=2",
            "cs-protocol": "http",
        }
    )
    (request,), _ = parse_log([*HEADER, line])
    assert request.header("User-Agent") == "Mozilla/5.0 (X11)"
    assert request.cookies == (("session", "abc"), ("lang", "ja"))
    assert request.header("Host") == "www.example.com"  # the viewer's Host, not cs(Host)
    assert request.query == "q=1&page=2" and request.protocol == "http"


def test_does_the_fields_line_decide_which_value_is_which():
    lines = ["#Version: 1.0", "#Fields: cs-uri-stem time date c-ip", "/a\t00:00:01\t1970-01-01\t-"]
    (request,), _ = parse_log(lines)
    assert request.path == "/a" and request.time_ms == 1000 and request.client_ip == ""


def test_does_a_log_without_a_fields_line_use_cloudfronts_standard_order():
    (request,), _ = parse_log([w3c(cs_uri_stem="/no-header")])
    assert request.path == "/no-header" and request.client_ip == "192.0.2.10"


def test_are_requests_returned_in_time_order_keeping_log_order_within_a_second():
    lines = [
        *HEADER,
        w3c(time="00:00:02", cs_uri_stem="/late"),
        w3c(time="00:00:01", cs_uri_stem="/first"),
        w3c(time="00:00:01", cs_uri_stem="/second"),
    ]
    requests, _ = parse_log(lines)
    assert [r.path for r in requests] == ["/first", "/second", "/late"]


def test_does_a_json_line_carry_viewer_headers_and_plain_values():
    line = {
        "date": "2026-12-03",
        "time": "01:42:39.250",
        "x-edge-location": "FRA56-P2",
        "c-ip": "2001:db8::1",
        "cs-method": "POST",
        "cs-uri-stem": "/api/cart",
        "cs(Cookie)": "session=a b",
        "viewer": "alice",
        "headers": [{"name": "Authorization", "value": "Bearer x%20y"}],
        "sc-bytes": 1234,
    }
    (request,), _ = parse_log([json.dumps(line)])
    assert request.time_ms == 1796262159250 and request.edge_location == "FRA56-P2"
    assert request.viewer == "alice" and request.client_ip == "2001:db8::1"
    assert request.method == "POST" and request.cookies == (("session", "a b"),)
    assert request.header("authorization") == "Bearer x%20y"  # JSON values are not decoded


def test_does_a_cookie_header_in_json_become_the_requests_cookies():
    line = {"timestamp(ms)": 5, "cs-uri-stem": "/", "headers": [{"name": "Cookie", "value": "a=1"}]}
    (request,), _ = parse_log([json.dumps(line)])
    assert request.cookies == (("a", "1"),) and request.header("Cookie") is None
    assert request.time_ms == 5


@pytest.mark.parametrize(
    ("fields", "time_ms"),
    [
        ({"timestamp(ms)": 1796262159250}, 1796262159250),
        ({"timestamp": 1796262159.25}, 1796262159250),
        ({"timestamp": "1796262159"}, 1796262159000),
        ({"timestamp": 1, "date": "1970-01-01", "time": "00:00:02"}, 2000),  # date wins
    ],
)
def test_do_v2_epoch_fields_give_the_time_when_there_is_no_date(fields, time_ms):
    (request,), _ = parse_log([json.dumps({"cs-uri-stem": "/", **fields})])
    assert request.time_ms == time_ms


@pytest.mark.parametrize(
    ("line", "field", "words"),
    [
        (w3c(time="25:00:00"), "time", "HH:MM:SS"),
        (w3c(date="03/12/2026"), "date", "YYYY-MM-DD"),
        (w3c(c_ip="not-an-ip"), "c-ip", "not an IP address"),
        (w3c(cs_uri_stem="index.html"), "cs-uri-stem", "start with '/'"),
        (w3c(cs_protocol="gopher"), "cs-protocol", "http, https"),
        (w3c(cs_method="get it"), "cs-method", "HTTP method"),
        (w3c(cs_uri_stem="-"), "cs-uri-stem", "required"),
    ],
)
def test_is_a_bad_standard_line_an_error_naming_file_line_and_field(line, field, words):
    with pytest.raises(EdgeLogError) as caught:
        parse_log([*HEADER, w3c(), line], "access.log")
    error = caught.value
    assert isinstance(error, GraderError)
    assert (error.file, error.line, error.json_path) == ("access.log", 4, field)
    assert words in error.message
    assert str(error).startswith(f"access.log:4 at {field}: ")


def test_is_a_line_with_too_few_values_an_error():
    with pytest.raises(EdgeLogError, match=r"log:3: the line has 2 tab-separated values"):
        parse_log([*HEADER, "a\tb"], "log")


@pytest.mark.parametrize(
    ("line", "path"),
    [
        ('{"cs-uri-stem": "/"', None),
        ('["/"]', None),
        ('{"cs-uri-stem": "/", "date": "2026-12-03"}', "time"),
        ('{"cs-uri-stem": "/", "timestamp": "soon"}', "timestamp"),
        ('{"cs-uri-stem": "/", "timestamp(ms)": 1.5}', "timestamp(ms)"),
        (
            '{"cs-uri-stem": "/", "timestamp(ms)": 1, "headers": [{"name": "A"}]}',
            "headers[0].value",
        ),
        ('{"cs-uri-stem": ["/"], "timestamp": 1}', "cs-uri-stem"),
    ],
)
def test_is_a_bad_json_line_an_error_naming_line_and_field(line, path):
    with pytest.raises(EdgeLogError) as caught:
        parse_log(['{"cs-uri-stem": "/", "timestamp(ms)": 1}', "", line], "log.jsonl")
    assert caught.value.line == 3 and caught.value.json_path == path


def test_does_skip_bad_skip_the_line_and_warn_where_it_was():
    requests, warnings = parse_log([*HEADER, w3c(time="later"), w3c()], "f.log", skip_bad=True)
    assert len(requests) == 1
    assert warnings == [
        "skipped f.log:3 at time: must be a time as HH:MM:SS, found 'later'",
    ]


def test_does_a_written_jsonl_log_read_back_as_the_same_requests(tmp_path):
    requests = [
        EdgeRequest(
            time_ms=1796262159250,
            path="/api/me",
            edge_location="FRA56-P2",
            viewer="bob",
            client_ip="192.0.2.7",
            method="GET",
            query="a=1",
            headers=(("Accept-Encoding", "gzip, br"), ("X-Trace", "1")),
            cookies=(("session", "s-bob"),),
            protocol="http",
        ),
        EdgeRequest(time_ms=1796262160000, path="/", viewer="192.0.2.8", client_ip="192.0.2.8"),
    ]
    target = tmp_path / "log.jsonl"
    assert write_log_jsonl(target, requests) == 2
    again, warnings = load_log(target)
    assert again == requests and warnings == []
    assert again[0].source == f"{target}:1"


def test_is_a_missing_log_file_a_grader_error(tmp_path):
    with pytest.raises(GraderError, match="no such file"):
        load_log(tmp_path / "nope.log")
