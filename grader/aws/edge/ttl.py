"""How long CloudFront keeps an origin response, and whether it compresses it.

:func:`cache_seconds` applies a cache policy's ``MinTTL``/``DefaultTTL``/``MaxTTL`` to the
origin's ``Cache-Control`` and ``Expires`` headers, the status code and the request method;
:func:`compression_applies` checks the documented conditions for edge compression. Both work
on the API's dict shapes and the engine's :class:`OriginResponse`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime

from grader.aws.edge.cachekey import compression_enabled
from grader.aws.edge.request import EdgeRequest, OriginResponse

# The longest max-age CloudFront honours: 100 years. Source: "Manage how long content stays
# in the cache (expiration)", Using headers to control cache duration (Expiration.html).
MAX_AGE_CEILING = 3_153_600_000

# Directives that make CloudFront skip caching when MinTTL is 0, and cache for MinTTL
# otherwise. Source: Expiration.html, table row "Origin adds Cache-Control: no-cache,
# no-store, and/or private directives to the object".
NO_CACHE_DIRECTIVES = frozenset({"no-cache", "no-store", "private"})

# Methods CloudFront can cache: GET and HEAD always, OPTIONS when CachedMethods says so.
# Source: "Request and response behavior for custom origins", HTTP methods ("CloudFront does
# not cache responses to requests that use the other methods").
ALWAYS_CACHED_METHODS = frozenset({"GET", "HEAD"})
DEFAULT_CACHED_METHODS = ("GET", "HEAD")

# Error responses. Source: "How CloudFront processes and caches HTTP 4xx and 5xx status codes
# from your origin" (HTTPStatusCodes.html): these are always cached ...
ALWAYS_CACHED_ERRORS = frozenset({404, 405, 414, 500, 501, 502, 503, 504})
# ... these only when the origin sends Cache-Control max-age or s-maxage ...
ERRORS_CACHED_WITH_MAX_AGE = frozenset({400, 403, 412, 415})
# ... and for the greater of the error caching minimum TTL (10 seconds unless the
# distribution's CustomErrorResponses set ErrorCachingMinTTL) and that max-age/s-maxage.
DEFAULT_ERROR_CACHING_MIN_TTL = 10

# Compression. Source: "Serve compressed files" (ServingCompressedFiles.html), Conditions for
# compression and File types that CloudFront compresses.
COMPRESSIBLE_MIN_BYTES = 1_000
COMPRESSIBLE_MAX_BYTES = 10_000_000
COMPRESSIBLE_TYPES = frozenset(
    {
        "application/dash+xml",
        "application/eot",
        "application/font",
        "application/font-sfnt",
        "application/javascript",
        "application/json",
        "application/opentype",
        "application/otf",
        "application/pkcs7-mime",
        "application/protobuf",
        "application/rss+xml",
        "application/truetype",
        "application/ttf",
        "application/vnd.apple.mpegurl",
        "application/vnd.ms-fontobject",
        "application/xhtml+xml",
        "application/xml",
        "application/x-font-opentype",
        "application/x-font-truetype",
        "application/x-font-ttf",
        "application/x-httpd-cgi",
        "application/x-javascript",
        "application/x-mpegurl",
        "application/x-opentype",
        "application/x-otf",
        "application/x-perl",
        "application/x-ttf",
        "font/eot",
        "font/opentype",
        "font/otf",
        "font/ttf",
        "image/svg+xml",
        "text/css",
        "text/csv",
        "text/html",
        "text/javascript",
        "text/js",
        "text/plain",
        "text/richtext",
        "text/tab-separated-values",
        "text/xml",
        "text/x-component",
        "text/x-java-source",
        "text/x-script",
        "vnd.apple.mpegurl",
    }
)


def cache_control(response: OriginResponse) -> dict[str, str | None]:
    """The response's Cache-Control directives, names lower-cased, values unquoted (None for
    a directive without a value); several Cache-Control headers count as one list."""
    directives: dict[str, str | None] = {}
    for name, value in response.headers:
        if name.lower() != "cache-control":
            continue
        for part in value.split(","):
            key, sep, arg = part.strip().partition("=")
            key = key.strip().lower()
            if key and key not in directives:
                directives[key] = arg.strip().strip('"') if sep else None
    return directives


def _seconds(value: str | None) -> int | None:
    """A delta-seconds argument, or None when it is missing or not a number (then the
    directive is ignored)."""
    if value is None or not value.strip().isdigit():
        return None
    return min(int(value), MAX_AGE_CEILING)


def _expires_in(value: str, now_ms: int) -> int:
    """Whole seconds from ``now_ms`` to an ``Expires`` date; 0 for a date in the past or one
    that cannot be read (RFC 9111 section 5.3: an invalid Expires means already expired)."""
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return 0
    if when.tzinfo is None:
        return 0
    return max(0, int(when.timestamp() - now_ms / 1000))


def _ttls(cache_policy: Mapping) -> tuple[int, int, int]:
    """(MinTTL, DefaultTTL, MaxTTL), with the API's defaults: DefaultTTL 86400 (or MinTTL
    when larger), MaxTTL 31536000 (or DefaultTTL when larger). Source: CachePolicyConfig in
    the CloudFront API reference."""
    min_ttl = int(cache_policy.get("MinTTL", 0))
    default_ttl = int(cache_policy.get("DefaultTTL", max(86_400, min_ttl)))
    max_ttl = int(cache_policy.get("MaxTTL", max(31_536_000, default_ttl)))
    return min_ttl, default_ttl, max_ttl


def origin_ttl(response: OriginResponse, *, now_ms: int) -> int | None:
    """The lifetime the origin asks for: ``s-maxage`` (which wins over ``max-age``), else
    ``max-age`` (which wins over ``Expires``), else ``Expires``; None when it sends none.
    Source: Expiration.html."""
    directives = cache_control(response)
    for name in ("s-maxage", "max-age"):
        seconds = _seconds(directives.get(name))
        if seconds is not None:
            return seconds
    expires = response.header("Expires")
    if expires is not None:
        return _expires_in(expires, now_ms)
    return None


def _error_seconds(response: OriginResponse, error_caching_min_ttl: int) -> int | None:
    """Seconds a 4xx/5xx response stays cached, or None (see the tables above)."""
    directives = cache_control(response)
    asked = [_seconds(directives.get(name)) for name in ("s-maxage", "max-age")]
    header_ttl = next((seconds for seconds in asked if seconds is not None), None)
    if response.status in ERRORS_CACHED_WITH_MAX_AGE:
        if header_ttl is None:
            return None
    elif response.status not in ALWAYS_CACHED_ERRORS:
        return None
    return max(error_caching_min_ttl, header_ttl or 0) or None


def cache_seconds(
    cache_policy: Mapping,
    response: OriginResponse,
    *,
    now_ms: int,
    method: str = "GET",
    cached_methods: Iterable[str] = DEFAULT_CACHED_METHODS,
    error_caching_min_ttl: int = DEFAULT_ERROR_CACHING_MIN_TTL,
) -> int | None:
    """How many seconds CloudFront keeps ``response``, or None when it does not cache it.

    A TTL of 0 is None too: CloudFront then goes back to the origin for every request.

    The rows of the table in "Manage how long content stays in the cache (expiration)":

    - no Cache-Control max-age/s-maxage and no Expires: DefaultTTL (MinTTL = 0), or the greater
      of MinTTL and DefaultTTL (MinTTL > 0);
    - max-age, s-maxage (which wins over max-age) or Expires (which max-age wins over): that
      lifetime, at most MaxTTL and at least MinTTL;
    - no-cache, no-store or private: not cached when MinTTL is 0, else MinTTL.

    Also: only methods in ``cached_methods`` (GET and HEAD always, OPTIONS when listed) are
    cached; 4xx/5xx responses follow :data:`ALWAYS_CACHED_ERRORS` and
    :data:`ERRORS_CACHED_WITH_MAX_AGE`; ``Vary: *`` with MinTTL 0 is revalidated on every
    request ("Request and response behavior for custom origins", Content negotiation).
    """
    cacheable = ALWAYS_CACHED_METHODS | ({"OPTIONS"} & {m.upper() for m in cached_methods})
    if method.upper() not in cacheable:
        return None
    if response.status >= 400:
        return _error_seconds(response, error_caching_min_ttl)

    min_ttl, default_ttl, max_ttl = _ttls(cache_policy)
    directives = cache_control(response)
    if NO_CACHE_DIRECTIVES & directives.keys():
        seconds = min_ttl
    elif min_ttl == 0 and (response.header("Vary") or "").strip() == "*":
        seconds = 0
    elif (asked := origin_ttl(response, now_ms=now_ms)) is None:
        # MaxTTL applies only to a lifetime the origin asks for.
        seconds = max(min_ttl, default_ttl)
    else:
        seconds = max(min_ttl, min(asked, max_ttl))
    return seconds or None


def compression_encoding(
    cache_policy: Mapping, behavior_compress: bool, request: EdgeRequest, response: OriginResponse
) -> str | None:
    """The encoding CloudFront compresses ``response`` with at the edge (``"br"`` or
    ``"gzip"``), or None when it serves it as the origin sent it.

    Source: "Serve compressed files" (ServingCompressedFiles.html): the behavior's Compress is
    on; the viewer's Accept-Encoding lists ``gzip`` or ``br`` (Brotli only when the cache
    policy enables it; Brotli wins when both apply); the Content-Type is in the list; the
    response has a Content-Length between 1,000 and 10,000,000 bytes; and it has no
    Content-Encoding (the origin compressed it already).
    """
    if not behavior_compress:
        return None
    accepted = request.header("Accept-Encoding")
    if accepted is None:
        return None
    offered = {token.split(";")[0].strip().lower() for token in accepted.split(",")}
    if "br" in offered and "br" in compression_enabled(cache_policy):
        encoding = "br"
    elif "gzip" in offered:
        encoding = "gzip"
    else:
        return None
    content_type = (response.header("Content-Type") or "").split(";")[0].strip().lower()
    if content_type not in COMPRESSIBLE_TYPES:
        return None
    length = (response.header("Content-Length") or "").strip()
    if not length.isdigit():
        return None  # no Content-Length: CloudFront cannot tell the size, so it does not compress
    if not COMPRESSIBLE_MIN_BYTES <= int(length) <= COMPRESSIBLE_MAX_BYTES:
        return None
    if response.header("Content-Encoding") is not None:
        return None
    return encoding


def compression_applies(
    cache_policy: Mapping, behavior_compress: bool, request: EdgeRequest, response: OriginResponse
) -> bool:
    """Does CloudFront compress ``response`` for this viewer? See :func:`compression_encoding`."""
    return compression_encoding(cache_policy, behavior_compress, request, response) is not None
