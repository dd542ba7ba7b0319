"""Traffic files: JSON lines of WAF log records or bare httpRequest objects."""

from __future__ import annotations

import base64
import json

import pytest

from grader.aws.errors import GraderError
from grader.aws.waf.request import WafRequest
from grader.aws.waf.traffic import (
    TrafficError,
    load_traffic,
    parse_traffic,
    request_from_json,
    write_traffic,
)

BARE = {
    "timestamp": 1700000000000,
    "clientIp": "192.0.2.10",
    "country": "JP",
    "headers": [{"name": "Host", "value": "shop.example"}, {"name": "User-Agent", "value": "x"}],
    "uri": "/login",
    "args": "next=%2F",
    "httpVersion": "HTTP/2.0",
    "httpMethod": "POST",
    "requestId": "req-1",
}


def write_lines(tmp_path, *lines):
    path = tmp_path / "traffic.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return path


def test_does_a_bare_http_request_line_give_every_field():
    request = request_from_json({**BARE, "body": "user=a", "class": "human"})
    assert request == WafRequest(
        client_ip="192.0.2.10",
        uri="/login",
        method="POST",
        args="next=%2F",
        headers=(("Host", "shop.example"), ("User-Agent", "x")),
        country="JP",
        http_version="HTTP/2.0",
        body=b"user=a",
        timestamp_ms=1700000000000,
        request_id="req-1",
    )
    assert request.traffic_class == "human"


def test_is_a_whole_log_record_read_through_its_http_request_and_timestamp():
    http = {k: v for k, v in BARE.items() if k != "timestamp"}
    record = {"timestamp": 5, "formatVersion": 1, "action": "ALLOW", "httpRequest": http}
    request = request_from_json(record)
    assert request.timestamp_ms == 5 and request.uri == "/login" and request.method == "POST"


def test_is_a_binary_body_given_as_base64():
    raw = bytes(range(256))
    line = {"clientIp": "192.0.2.1", "bodyBase64": base64.b64encode(raw).decode()}
    assert request_from_json(line).body == raw


def test_does_an_unknown_country_dash_mean_no_country():
    assert request_from_json({"clientIp": "2001:db8::1", "country": "-"}).country is None


def test_are_blank_lines_skipped_and_requests_sorted_stably_by_time(tmp_path):
    path = write_lines(
        tmp_path,
        {"clientIp": "192.0.2.1", "timestamp": 30, "requestId": "c"},
        "",
        "   ",
        {"clientIp": "192.0.2.2", "timestamp": 10, "requestId": "a"},
        {"clientIp": "192.0.2.3", "timestamp": 30, "requestId": "d"},
        {"clientIp": "192.0.2.4", "timestamp": 10, "requestId": "b"},
    )
    requests, warnings = load_traffic(path)
    assert [r.request_id for r in requests] == ["a", "b", "c", "d"]
    assert warnings == []


@pytest.mark.parametrize(
    ("line", "json_path", "words"),
    [
        ({"uri": "/"}, "clientIp", "is required"),
        ({"clientIp": "999.1.1.1"}, "clientIp", "not an IP address"),
        ({"clientIp": "192.0.2.1", "headers": {"Host": "x"}}, "headers", "list of {name, value}"),
        (
            {"httpRequest": {"clientIp": "192.0.2.1", "headers": [{"name": "A", "value": 1}]}},
            "httpRequest.headers[0].value",
            "must be a string",
        ),
        ({"clientIp": "192.0.2.1", "uri": "login"}, "uri", "must start with /"),
        ({"clientIp": "192.0.2.1", "timestamp": "noon"}, "timestamp", "milliseconds"),
        ({"clientIp": "192.0.2.1", "timestamp": True}, "timestamp", "milliseconds"),
        ({"clientIp": "192.0.2.1", "bodyBase64": "!!"}, "bodyBase64", "not valid base64"),
        ({"clientIp": "192.0.2.1", "body": "a", "bodyBase64": "YQ=="}, "bodyBase64", "not both"),
        ({"httpRequest": []}, "httpRequest", "must be an object"),
    ],
)
def test_does_a_bad_line_name_file_line_and_field(tmp_path, line, json_path, words):
    path = write_lines(tmp_path, {"clientIp": "192.0.2.9"}, line)
    with pytest.raises(TrafficError) as caught:
        load_traffic(path)
    error = caught.value
    assert isinstance(error, GraderError) and error.exit_code == 2
    assert (error.file, error.line, error.json_path) == (str(path), 2, json_path)
    assert words in str(error) and str(error).startswith(f"{path}:2 at {json_path}: ")


def test_is_a_line_that_is_not_json_or_not_an_object_an_error_at_its_line(tmp_path):
    with pytest.raises(TrafficError, match=r"traffic\.jsonl:3:2: not valid JSON"):
        load_traffic(write_lines(tmp_path, {"clientIp": "192.0.2.9"}, "", "{oops"))
    with pytest.raises(TrafficError, match=r":1: a traffic line must be a JSON object"):
        parse_traffic(["[1, 2]"], "t.jsonl")


def test_does_skip_bad_skip_the_line_with_a_warning_naming_file_and_line(tmp_path):
    path = write_lines(tmp_path, {"clientIp": "192.0.2.9"}, {"clientIp": 7}, "{")
    requests, warnings = load_traffic(path, skip_bad=True)
    assert [r.client_ip for r in requests] == ["192.0.2.9"]
    assert len(warnings) == 2
    assert f"{path}:2 at clientIp" in warnings[0] and f"{path}:3" in warnings[1]


def test_is_a_missing_traffic_file_a_grader_error(tmp_path):
    with pytest.raises(GraderError, match="no such file"):
        load_traffic(tmp_path / "none.jsonl")


def test_does_write_traffic_read_back_to_the_same_requests(tmp_path):
    requests = [
        WafRequest(
            client_ip="198.51.100.7",
            uri="/api/items",
            method="PUT",
            args="a=1&b=2",
            headers=(("Cookie", "a=1"), ("cookie", "b=2")),
            country="DE",
            body=b'{"k": "v"}',
            timestamp_ms=2000,
            request_id="r2",
            traffic_class="scraper",
        ),
        WafRequest(client_ip="2001:db8::5", body=b"\xff\x00binary", timestamp_ms=1000),
    ]
    path = tmp_path / "out.jsonl"
    assert write_traffic(path, requests) == 2
    back, _ = load_traffic(path)
    assert back == sorted(requests, key=lambda r: r.timestamp_ms)
    assert [r.traffic_class for r in back] == [None, "scraper"]
    assert "bodyBase64" in path.read_text().splitlines()[1]
