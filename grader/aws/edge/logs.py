"""Access logs: the viewer requests a distribution received, to replay through the cache.

Two shapes are read, told apart by the first line that is not blank:

- CloudFront's standard log format (``#Version`` and ``#Fields:`` header lines, then one
  tab-separated line a request; ``-`` for an empty value; the text fields URL-encoded).
  The fields are named by the ``#Fields:`` line, so any subset and order reads; without it
  the 33 standard fields are assumed in CloudFront's order.
- JSON lines with the same field names (``date``, ``time``, ``c-ip``, ``cs-uri-stem``, ...),
  values plain (not URL-encoded), plus what the course's generated logs add: ``viewer`` (who
  asked: a user or session) and ``headers`` (a list of ``{name, value}``).

Without ``date`` and ``time``, standard logging v2's ``timestamp(ms)`` (milliseconds since
the epoch) or ``timestamp`` (seconds, with up to three decimals) gives the time.

A line that cannot be read is an :class:`EdgeLogError` naming the file, the line and the
field; with ``skip_bad`` it is skipped and a warning says why. Requests come back in time
order (a stable sort: requests in the same second keep their log order).

Source of the field names and their meaning: CloudFront Developer Guide, "Standard logging
reference", section "Log file fields"
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable
from datetime import date as _date
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from grader.aws.edge.request import EdgeRequest
from grader.aws.errors import GraderError
from grader.aws.http import HeaderListError, header_pairs
from grader.aws.jsonfile import json_type, read_text

# A course's log is at most a few hundred thousand lines; anything far bigger is a mistake.
MAX_LOG_BYTES = 256 * 1024 * 1024

# The fields of a standard log line, in CloudFront's order (source: "Log file fields",
# Standard logging reference, above). Used when a file has no ``#Fields:`` line.
STANDARD_FIELDS = (
    "date",
    "time",
    "x-edge-location",
    "sc-bytes",
    "c-ip",
    "cs-method",
    "cs(Host)",
    "cs-uri-stem",
    "sc-status",
    "cs(Referer)",
    "cs(User-Agent)",
    "cs-uri-query",
    "cs(Cookie)",
    "x-edge-result-type",
    "x-edge-request-id",
    "x-host-header",
    "cs-protocol",
    "cs-bytes",
    "time-taken",
    "x-forwarded-for",
    "ssl-protocol",
    "ssl-cipher",
    "x-edge-response-result-type",
    "cs-protocol-version",
    "fle-status",
    "fle-encrypted-fields",
    "c-port",
    "time-to-first-byte",
    "x-edge-detailed-result-type",
    "sc-content-type",
    "sc-content-len",
    "sc-range-start",
    "sc-range-end",
)

# Request headers a log line records, and the header each one is (cs(Host) is the
# distribution's domain; x-host-header the Host the viewer sent, which wins when both are
# there). cs-accept-encoding and cs-accept are fields of standard logging v2; compression
# depends on Accept-Encoding, so they are read when present.
_HEADER_FIELDS = (
    ("x-host-header", "Host"),
    ("cs(Host)", "Host"),
    ("cs(User-Agent)", "User-Agent"),
    ("cs(Referer)", "Referer"),
    ("cs-accept-encoding", "Accept-Encoding"),
    ("cs-accept", "Accept"),
)

# cs-protocol's values (source: "Log file fields" above): ws and wss are WebSocket.
PROTOCOLS = frozenset({"http", "https", "ws", "wss"})

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})\Z")
_TIME = re.compile(r"(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?\Z")
_METHOD = re.compile(r"[A-Z]+\Z")
_EPOCH_SECONDS = re.compile(r"(\d+)(?:\.(\d{1,3}))?\Z")
_DAY_MS = 86_400_000
_EPOCH = _date(1970, 1, 1)


class EdgeLogError(GraderError):
    """An access log line that cannot be read: ``file:line at field: what is wrong``."""


class _FieldError(ValueError):
    """A wrong field of one line: its name (or JSON path) and what is wrong."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


def load_log(path: str | Path, *, skip_bad: bool = False) -> tuple[list[EdgeRequest], list[str]]:
    """The requests of an access log file in time order, and warnings (lines skipped)."""
    text = read_text(path, max_bytes=MAX_LOG_BYTES)
    return parse_log(text.splitlines(), str(path), skip_bad=skip_bad)


def parse_log(
    lines: Iterable[str], name: str = "<log>", *, skip_bad: bool = False
) -> tuple[list[EdgeRequest], list[str]]:
    """:func:`load_log` on lines already read; ``name`` is the file named in messages."""
    requests: list[EdgeRequest] = []
    warnings: list[str] = []
    fields: tuple[str, ...] | None = None
    shape: str | None = None  # "w3c" or "json", from the first line that is not blank
    memo = _Memo()
    wanted: list[tuple[str, int]] = []  # (field, index) of the fields a request is built from
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            if line.startswith("#"):
                if shape == "json":
                    raise _FieldError("", "a '#' header line in a JSON-lines log")
                shape = "w3c"
                if line.startswith("#Fields:"):
                    fields = tuple(line[len("#Fields:") :].split())
                    if not fields:
                        raise _FieldError("#Fields", "names no field")
                    wanted = _wanted(fields)
                continue
            if shape is None:
                shape = "json" if line.lstrip().startswith("{") else "w3c"
            source = f"{name}:{number}"
            if shape == "json":
                requests.append(_from_json_line(line, source, memo))
            else:
                values = line.rstrip("\r\n").split("\t")
                names = fields or STANDARD_FIELDS
                if len(values) != len(names):
                    expected = "the #Fields line names" if fields else "the standard format has"
                    raise _FieldError(
                        "",
                        f"the line has {len(values)} tab-separated values; {expected} "
                        f"{len(names)} fields",
                    )
                if not wanted:
                    wanted = _wanted(names)
                # A standard log's "-" is an empty value: left out, like an absent field.
                record = {k: v for k, i in wanted if (v := values[i]) != "-" and v}
                requests.append(_request(record, source, memo, encoded=True))
        except _FieldError as exc:
            error = EdgeLogError(exc.message, file=name, line=number, json_path=exc.path)
            if not skip_bad:
                raise error from None
            warnings.append(f"skipped {error}")
    requests.sort(key=_time_of)
    return requests, warnings


def _time_of(request: EdgeRequest) -> int:
    return request.time_ms


# The fields a request is built from; a standard log's others (sc-bytes, x-edge-result-type,
# ...) record what CloudFront did, which the simulator works out for itself.
_USED_FIELDS = frozenset(
    {
        "date",
        "time",
        "x-edge-location",
        "c-ip",
        "cs-method",
        "cs-uri-stem",
        "cs-uri-query",
        "cs(Cookie)",
        "cs-protocol",
        "timestamp",
        "timestamp(ms)",
        *(name for name, _ in _HEADER_FIELDS),
    }
)


def _wanted(names: tuple[str, ...]) -> list[tuple[str, int]]:
    return [(name, i) for i, name in enumerate(names) if name in _USED_FIELDS]


class _Memo:
    """Values that repeat across a log's lines, worked out once: a date's midnight, an IP
    address already checked, a URL-decoded text."""

    def __init__(self) -> None:
        self.days: dict[str, int] = {}
        self.ips: set[str] = set()
        self.decoded: dict[str, str] = {}

    def decode(self, text: str) -> str:
        found = self.decoded.get(text)
        if found is None:
            found = self.decoded[text] = unquote(text) if "%" in text else text
        return found


def _from_json_line(line: str, source: str, memo: _Memo) -> EdgeRequest:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _FieldError("", f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise _FieldError("", "the JSON is nested too deeply to read") from None
    if not isinstance(data, dict):
        raise _FieldError("", f"a log line must be a JSON object, not {json_type(data)}")
    record: dict[str, Any] = {}
    for key, value in data.items():
        if value is None or value == "-" or value == "":
            continue
        if key == "headers":
            record[key] = value
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            record[key] = str(value)  # sc-bytes, sc-status, ... may be numbers in JSON
        elif isinstance(value, str):
            record[key] = value
        else:
            raise _FieldError(key, f"must be a string, not {json_type(value)}")
    return _request(record, source, memo, encoded=False)


def _request(record: dict[str, Any], source: str, memo: _Memo, *, encoded: bool) -> EdgeRequest:
    """One request from a line's fields (absent when empty). ``encoded``: the text fields
    are URL-encoded, as in a standard log."""
    decode = memo.decode if encoded else _same
    time_ms = _time_ms(record, memo.days)
    path = record.get("cs-uri-stem")
    if path is None:
        raise _FieldError("cs-uri-stem", "is required: the path the viewer asked for")
    if not path.startswith("/"):
        raise _FieldError("cs-uri-stem", f"must start with '/', found {path!r}")
    method = record.get("cs-method") or "GET"
    if not _METHOD.match(method):
        raise _FieldError("cs-method", f"must be an HTTP method such as GET, found {method!r}")
    client_ip = record.get("c-ip") or ""
    if client_ip and client_ip not in memo.ips:
        try:
            ipaddress.ip_address(client_ip)
        except ValueError:
            raise _FieldError("c-ip", f"is not an IP address: {client_ip!r}") from None
        memo.ips.add(client_ip)
    protocol = (record.get("cs-protocol") or "https").lower()
    if protocol not in PROTOCOLS:
        raise _FieldError("cs-protocol", f"must be one of http, https, ws, wss; found {protocol!r}")

    headers: list[tuple[str, str]] = []
    seen: set[str] = set()
    for field_name, header in _HEADER_FIELDS:
        value = record.get(field_name)
        if value is not None and header not in seen:
            seen.add(header)
            headers.append((header, decode(value)))
    cookie_text = record.get("cs(Cookie)")
    if "headers" in record:
        for name, value in _json_headers(record["headers"]):
            if name.lower() == "cookie":  # cookies are their own part of a request
                if cookie_text is None:
                    cookie_text = value
                continue
            if name.lower() in ("host", "user-agent", "referer") and name.title() in seen:
                continue  # the log's own field already gave it
            headers.append((name, value))
    cookies = _cookies(decode(cookie_text)) if cookie_text else ()
    viewer = record.get("viewer") or client_ip
    return EdgeRequest(
        time_ms=time_ms,
        path=path,
        edge_location=record.get("x-edge-location") or EdgeRequest.edge_location,
        viewer=viewer,
        client_ip=client_ip,
        method=method,
        query=record.get("cs-uri-query") or "",
        headers=tuple(headers),
        cookies=cookies,
        protocol=protocol,
        source=source,
    )


def _same(text: str) -> str:
    return text


def _time_ms(record: dict[str, Any], days: dict[str, int]) -> int:
    if "date" not in record:
        # Standard logging v2's epoch fields, when a line has no date and time.
        if "timestamp(ms)" in record:
            text = record["timestamp(ms)"]
            if not text.isdigit():
                raise _FieldError(
                    "timestamp(ms)", f"must be milliseconds since the epoch, found {text!r}"
                )
            return int(text)
        if "timestamp" in record:
            text = record["timestamp"]
            seconds = _EPOCH_SECONDS.match(text)
            if not seconds:
                raise _FieldError("timestamp", f"must be seconds since the epoch, found {text!r}")
            return int(seconds[1]) * 1000 + int((seconds[2] or "0").ljust(3, "0"))
    day_text, time_text = record.get("date"), record.get("time")
    if day_text is None:
        raise _FieldError("date", "is required: the day of the request, YYYY-MM-DD (UTC)")
    if time_text is None:
        raise _FieldError("time", "is required: the time of the request, HH:MM:SS (UTC)")
    day = days.get(day_text)
    if day is None:
        m = _DATE.match(day_text)
        try:
            if not m:
                raise ValueError
            day = (_date(int(m[1]), int(m[2]), int(m[3])) - _EPOCH).days * _DAY_MS
        except ValueError:
            raise _FieldError("date", f"must be a day as YYYY-MM-DD, found {day_text!r}") from None
        days[day_text] = day
    t = _TIME.match(time_text)
    if not t or int(t[1]) > 23 or int(t[2]) > 59 or int(t[3]) > 60:
        raise _FieldError("time", f"must be a time as HH:MM:SS, found {time_text!r}")
    millis = int((t[4] or "0").ljust(3, "0"))
    return day + ((int(t[1]) * 60 + int(t[2])) * 60 + int(t[3])) * 1000 + millis


def _json_headers(value: Any) -> list[tuple[str, str]]:
    try:
        return list(header_pairs(value))
    except HeaderListError as exc:
        raise _FieldError("headers" + exc.path, exc.message) from None


def _cookies(text: str) -> tuple[tuple[str, str], ...]:
    """``a=1; b=2`` as (name, value) pairs, in order (RFC 6265, section 4.2.1)."""
    pairs = []
    for part in text.split(";"):
        part = part.strip()
        if part:
            name, _, value = part.partition("=")
            pairs.append((name.strip(), value.strip()))
    return tuple(pairs)


def request_to_json(request: EdgeRequest) -> dict[str, Any]:
    """One request as a JSON log line (the inverse of reading one)."""
    day, millis = divmod(request.time_ms, _DAY_MS)
    seconds, ms = divmod(millis, 1000)
    clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    line: dict[str, Any] = {
        "date": _date.fromordinal(_EPOCH.toordinal() + day).isoformat(),
        "time": clock + (f".{ms:03d}" if ms else ""),
        "x-edge-location": request.edge_location,
        "c-ip": request.client_ip or None,
        "cs-method": request.method,
        "cs-uri-stem": request.path,
        "cs-uri-query": request.query or None,
        "cs-protocol": request.protocol,
        "cs(Cookie)": "; ".join(f"{n}={v}" for n, v in request.cookies) or None,
        "viewer": request.viewer or None,
        "headers": [{"name": n, "value": v} for n, v in request.headers] or None,
    }
    return {k: v for k, v in line.items() if v is not None}


def write_log_jsonl(path: str | Path, requests: Iterable[EdgeRequest]) -> int:
    """Write ``requests`` as a JSON-lines access log, in the order given; the lines written."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as out:
        for request in requests:
            out.write(json.dumps(request_to_json(request), separators=(",", ":")) + "\n")
            count += 1
    return count
