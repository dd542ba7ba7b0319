"""One viewer request as CloudFront's standard access log records it, and the origin's
answer, the two things the cache simulator works on.

A log line (the W3C fields of CloudFront's standard logs, or JSON lines with the same field
names) becomes an :class:`EdgeRequest`; the origin model (per path: headers, whether the
answer depends on who asks, size) answers with an :class:`OriginResponse`. Every other part
of the engine reads requests only through these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grader.aws.http import first_header


@dataclass(frozen=True)
class EdgeRequest:
    """A viewer's request at one edge location, at ``time_ms`` (milliseconds since epoch).

    ``path`` is the URI path (``cs-uri-stem``), ``query`` the raw query string without ``?``
    (``cs-uri-query``, empty for none); ``headers`` keep their order and case; ``cookies``
    are (name, value) pairs as the viewer sent them. ``viewer`` identifies who asked (a user
    or session; the log's ``c-ip`` when nothing better is known): the simulator uses it to
    find a response served to someone other than the viewer it was made for.
    """

    time_ms: int
    path: str
    edge_location: str = "NRT57-P1"
    viewer: str = ""
    client_ip: str = ""
    method: str = "GET"
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    cookies: tuple[tuple[str, str], ...] = ()
    protocol: str = "https"
    # Where the request sits in its log (for messages), not part of the request.
    source: str | None = field(default=None, compare=False)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        return first_header(self.headers, name)


@dataclass(frozen=True)
class OriginResponse:
    """What the origin answers: status, headers (Cache-Control, Expires, Vary, ...), size
    in bytes, and ``made_for``: the viewer the body was made for when it is personal (a
    page that greets a user, an answer that depends on the Authorization header), or None
    when every viewer gets the same body."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    size: int = 0
    made_for: str | None = None

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        return first_header(self.headers, name)
