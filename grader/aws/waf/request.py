"""One web request as AWS WAF sees it, in the shape of WAF's own log records.

Traffic files (and a learner's real WAF logs) hold each request as a log record's
``httpRequest`` object: ``clientIp``, ``country``, ``headers`` as a list of
``{name, value}``, ``uri``, ``args``, ``httpVersion``, ``httpMethod``, ``requestId``, plus
the record's ``timestamp`` in milliseconds and an optional ``body``. This module holds the
request the engine works on; every other part of the engine reads requests only through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grader.aws.http import first_header, header_values


@dataclass(frozen=True)
class WafRequest:
    """A request: where it came from, what it asked for, and when (milliseconds since epoch).

    ``uri`` is the path only (WAF's ``UriPath``); ``args`` is the raw query string without
    the ``?`` (WAF's ``QueryString``); ``headers`` keep their order, case and duplicates, as
    WAF's ``Headers`` and ``SingleHeader`` inspect them.
    """

    client_ip: str
    uri: str = "/"
    method: str = "GET"
    args: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    country: str | None = None
    http_version: str = "HTTP/1.1"
    body: bytes = b""
    timestamp_ms: int = 0
    request_id: str | None = None
    # Where the request sits in its traffic file (for messages), not part of the request.
    source: str | None = field(default=None, compare=False)
    # The traffic file's label for who sent it ("human", "scraper", ...): for replay
    # summaries and lab checks, never seen by WAF.
    traffic_class: str | None = field(default=None, compare=False)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (names are case-insensitive), or None."""
        return first_header(self.headers, name)

    def header_values(self, name: str) -> list[str]:
        """Every value of header ``name``, in order."""
        return header_values(self.headers, name)

    @property
    def user_agent(self) -> str | None:
        return self.header("user-agent")
