"""Traffic files: web requests to replay through a web ACL, one JSON object a line.

A line is either a whole WAF log record (its ``httpRequest`` and ``timestamp`` are used, so a
learner's real logs replay as they are) or a bare ``httpRequest`` object with the
``timestamp`` beside it. Both may carry two fields WAF's logs do not have:

- ``body`` (text, sent as UTF-8) or ``bodyBase64`` (any bytes, base64): the request body,
  which WAF's ``Body`` and ``JsonBody`` inspect; WAF does not log bodies.
- ``class``: who sent the request (``human``, ``search-bot``, ``scraper``, ...), for the
  replay summary and the lab checks; WAF never sees it.

The field names and shapes are WAF's "Log fields for web ACL traffic"
(https://docs.aws.amazon.com/waf/latest/developerguide/logging-fields.html).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from grader.aws.errors import GraderError
from grader.aws.http import HeaderListError, header_pairs
from grader.aws.jsonfile import json_type, read_text
from grader.aws.waf.request import WafRequest

# A traffic file holds at most this many bytes: a lab's traffic is a few thousand lines.
MAX_TRAFFIC_BYTES = 64 * 1024 * 1024

# The httpRequest fields a line may hold, and the WafRequest field each one fills (the
# log record's names; source: the "Log fields" page above).
_STRING_FIELDS = {
    "uri": "uri",
    "args": "args",
    "httpMethod": "method",
    "httpVersion": "http_version",
    "requestId": "request_id",
}


class TrafficError(GraderError):
    """A traffic line that cannot be replayed: ``file:line at json.path: what is wrong``."""


def load_traffic(path: str | Path, *, skip_bad: bool = False) -> tuple[list[WafRequest], list[str]]:
    """The requests of a traffic file in time order (a stable sort: lines with the same
    timestamp keep their order), and warnings.

    Blank lines are skipped. A bad line is a :class:`TrafficError` naming file, line and the
    field; with ``skip_bad`` it is skipped instead and a warning names it.
    """
    text = read_text(path, max_bytes=MAX_TRAFFIC_BYTES)
    return parse_traffic(text.splitlines(), str(path), skip_bad=skip_bad)


def parse_traffic(
    lines: Iterable[str], name: str = "<traffic>", *, skip_bad: bool = False
) -> tuple[list[WafRequest], list[str]]:
    """:func:`load_traffic` on lines already read; ``name`` is the file named in messages."""
    requests: list[WafRequest] = []
    warnings: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            requests.append(parse_line(line, name, number))
        except TrafficError as exc:
            if not skip_bad:
                raise
            warnings.append(f"skipped {exc}")
    requests.sort(key=lambda r: r.timestamp_ms)
    return requests, warnings


def parse_line(line: str, name: str = "<traffic>", number: int | None = None) -> WafRequest:
    """One traffic line as a request; a TrafficError at ``name:number`` if it is wrong."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise TrafficError(
            f"not valid JSON: {exc.msg}", file=name, line=number, column=exc.colno
        ) from None
    except RecursionError:
        raise TrafficError(
            "the JSON is nested too deeply to read", file=name, line=number
        ) from None
    try:
        return request_from_json(data, source=f"{name}:{number}" if number else name)
    except _FieldError as exc:
        raise TrafficError(exc.message, file=name, line=number, json_path=exc.path) from None


def request_from_json(data: Any, *, source: str | None = None) -> WafRequest:
    """A request from a decoded traffic line (a log record or a bare httpRequest).

    Raises ValueError (a ``_FieldError`` with ``.path`` and ``.message``) when a field is
    wrong; :func:`parse_line` turns it into a TrafficError with the file and line.
    """
    if not isinstance(data, dict):
        raise _FieldError("", f"a traffic line must be a JSON object, not {_kind(data)}")
    if "httpRequest" in data:
        http = data["httpRequest"]
        prefix = "httpRequest."
        if not isinstance(http, dict):
            raise _FieldError("httpRequest", f"must be an object, not {_kind(http)}")
    else:
        http, prefix = data, ""

    client_ip = http.get("clientIp")
    if not isinstance(client_ip, str):
        raise _FieldError(
            prefix + "clientIp",
            "is required: the client's IP address, e.g. 192.0.2.10"
            if client_ip is None
            else f"must be a string, not {_kind(client_ip)}",
        )
    try:
        ipaddress.ip_address(client_ip)
    except ValueError:
        raise _FieldError(prefix + "clientIp", f"{client_ip!r} is not an IP address") from None

    values: dict[str, Any] = {}
    for key, attr in _STRING_FIELDS.items():
        value = http.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise _FieldError(prefix + key, f"must be a string, not {_kind(value)}")
        values[attr] = value
    if "uri" in values and not values["uri"].startswith("/"):
        raise _FieldError(prefix + "uri", f"{values['uri']!r} is a path; it must start with /")

    country = http.get("country")
    if country is not None and not isinstance(country, str):
        raise _FieldError(prefix + "country", f"must be a string, not {_kind(country)}")
    # WAF logs "-" when it cannot tell the country: no geo match statement matches it.
    if country in ("-", ""):
        country = None

    return WafRequest(
        client_ip=client_ip,
        headers=_headers(http.get("headers"), prefix + "headers"),
        country=country,
        body=_body(data),
        timestamp_ms=_timestamp(data),
        source=source,
        traffic_class=_traffic_class(data),
        **values,
    )


def _headers(value: Any, path: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    try:
        return header_pairs(value)
    except HeaderListError as exc:
        raise _FieldError(path + exc.path, exc.message) from None


def _body(data: dict[str, Any]) -> bytes:
    text, encoded = data.get("body"), data.get("bodyBase64")
    if text is not None and encoded is not None:
        raise _FieldError("bodyBase64", "give either body (text) or bodyBase64 (bytes), not both")
    if text is not None:
        if not isinstance(text, str):
            raise _FieldError("body", f"must be a string, not {_kind(text)}")
        return text.encode("utf-8")
    if encoded is not None:
        if not isinstance(encoded, str):
            raise _FieldError("bodyBase64", f"must be a base64 string, not {_kind(encoded)}")
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise _FieldError("bodyBase64", "is not valid base64") from None
    return b""


def _timestamp(data: dict[str, Any]) -> int:
    value = data.get("timestamp", 0)
    # bool is an int in Python; a true/false timestamp is a mistake, not 1 ms.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _FieldError(
            "timestamp", f"must be milliseconds since the epoch (an integer), not {value!r}"
        )
    return value


def _traffic_class(data: dict[str, Any]) -> str | None:
    value = data.get("class")
    if value is not None and not isinstance(value, str):
        raise _FieldError("class", f"must be a string such as 'human', not {_kind(value)}")
    return value or None


def request_to_json(request: WafRequest) -> dict[str, Any]:
    """A traffic line for ``request``: a bare httpRequest with ``timestamp`` (and ``body`` or
    ``bodyBase64``, and ``class``, when there are any); :func:`request_from_json` reads it
    back to an equal request."""
    line: dict[str, Any] = {"timestamp": request.timestamp_ms, **http_request_json(request)}
    if request.body:
        try:
            line["body"] = request.body.decode("utf-8")
        except UnicodeDecodeError:
            line["bodyBase64"] = base64.b64encode(request.body).decode("ascii")
    if request.traffic_class:
        line["class"] = request.traffic_class
    return line


def http_request_json(request: WafRequest) -> dict[str, Any]:
    """The log record's ``httpRequest`` object for ``request``."""
    http: dict[str, Any] = {
        "clientIp": request.client_ip,
        "country": request.country or "-",
        "headers": [{"name": n, "value": v} for n, v in request.headers],
        "uri": request.uri,
        "args": request.args,
        "httpVersion": request.http_version,
        "httpMethod": request.method,
    }
    if request.request_id is not None:
        http["requestId"] = request.request_id
    return http


def write_traffic(path: str | Path, requests: Iterable[WafRequest]) -> int:
    """Write ``requests`` as a traffic file (one line each, in the order given); the number of
    lines written."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as out:
        for request in requests:
            out.write(json.dumps(request_to_json(request), separators=(",", ":")) + "\n")
            count += 1
    return count


class _FieldError(ValueError):
    """A wrong field in a decoded traffic line: ``path`` (``httpRequest.headers[2].name``)
    and what is wrong."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


_kind = json_type  # the same words as every other input error
