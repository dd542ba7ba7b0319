"""CloudFront's cache key and origin request, computed from a cache policy and an origin
request policy given as the API's dicts (``CachePolicyConfig``, ``OriginRequestPolicyConfig``).

The cache key decides whether two viewer requests share one cached object; the origin request
is what the origin sees on a miss. Both are plain functions of the request and the policies,
so the simulator can compare keys (a response cached for one viewer served to another is a
request with the same key and a different viewer).

Choices, each from the CloudFront Developer Guide:

- Query strings: parameters are split on ``&`` only (a ``;`` stays inside the value), names
  and values are case-sensitive, and order matters: ``?a=1&b=2`` and ``?b=2&a=1`` are two
  objects. Repeated parameters are kept, in the viewer's order. Source: "Cache content based
  on query string parameters" (QueryStringParameters.html, "Always list parameters in the
  same order", "Always use the same case").
- Cookies: names and values are case-sensitive, and CloudFront sorts the cookies by name
  before forwarding, so the viewer's order does not split the cache. Source: "Cache content
  based on cookies" (Cookies.html, "Case sensitivity", "CloudFront sorts cookies").
- Headers: names compare case-insensitively (HTTP, RFC 9110 section 5.1); the whole value is
  in the key. Source: "Understanding cache policies" (controlling-the-cache-key.html).
- The key always holds the distribution's domain name and the URL path (case-sensitive);
  OPTIONS responses are cached apart from GET/HEAD. Source: "Understanding the cache key"
  (understanding-the-cache-key.html). The protocol is not in it ("CloudFront caches the
  object only once even if viewers make requests using both HTTP and HTTPS", "Request and
  response behavior for custom origins", Protocols).
- Accept-Encoding: normalised to ``br,gzip``, ``gzip`` or ``br`` when a compressed format is
  enabled; see :func:`normalized_accept_encoding`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from grader.aws.edge.request import EdgeRequest

# Source: "HTTP request headers and CloudFront behavior" and "Adding custom headers to origin
# requests" ("Configuring CloudFront to forward the Authorization header"): CloudFront removes
# Authorization from origin requests unless it is in the cache key or an origin request policy
# forwards all viewer headers; it cannot be listed in an origin request policy on its own
# (CreateOriginRequestPolicy rejects it, "The parameter Headers contains Authorization that is
# not allowed").
AUTHORIZATION = "authorization"

# Methods whose Authorization header reaches the origin whatever the policies say. Source: the
# Authorization row of "HTTP request headers and CloudFront behavior (custom and Amazon S3
# origins)" (RequestAndResponseBehaviorCustomOrigin.html): CloudFront does not remove it for
# DELETE, PATCH, POST and PUT, nor for OPTIONS when OPTIONS responses are not cached.
AUTHORIZATION_KEPT_FOR = frozenset({"DELETE", "PATCH", "POST", "PUT"})

# The encodings a cache policy can cache, by their Accept-Encoding token, in the order
# CloudFront writes the normalised header (``br,gzip``). Source: "Understanding cache
# policies", Compression support (controlling-the-cache-key.html).
COMPRESSION_SETTINGS = (("br", "EnableAcceptEncodingBrotli"), ("gzip", "EnableAcceptEncodingGzip"))

# What CloudFront sends the origin when caching of compressed objects is on but the viewer
# accepts none of the enabled formats. Source: same section ("Includes Accept-Encoding:
# identity in the corresponding origin request").
IDENTITY = "identity"

# Headers CloudFront adds to origin requests itself. Source: "Request and response behavior
# for custom origins" (User-Agent header; Client IP addresses) and "Controlling origin
# requests" (Host, User-Agent and X-Amz-Cf-Id are in every origin request). X-Amz-Cf-Id is an
# opaque per-request id and Via a server name, so they are left out of this model.
CLOUDFRONT_USER_AGENT = "Amazon CloudFront"


@dataclass(frozen=True)
class ForwardedRequest:
    """What the origin receives on a cache miss: ``headers`` (name, value) in the viewer's
    order followed by the ones CloudFront adds, ``cookies`` sorted by name as CloudFront
    sorts them, and ``query`` the forwarded query string (without ``?``)."""

    headers: tuple[tuple[str, str], ...] = ()
    cookies: tuple[tuple[str, str], ...] = ()
    query: str = ""

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (case-insensitive), or None when it is not sent."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def cookie(self, name: str) -> str | None:
        """The value of cookie ``name`` (case-sensitive), or None."""
        for key, value in self.cookies:
            if key == name:
                return value
        return None


# --- reading the policy dicts -------------------------------------------------------------


def _params(cache_policy: Mapping) -> Mapping:
    return cache_policy.get("ParametersInCacheKeyAndForwardedToOrigin") or {}


def _items(config: Mapping | None, list_key: str) -> list[str]:
    """The names of a Headers/Cookies/QueryStrings list (``{"Quantity": n, "Items": [...]}``)."""
    if not config:
        return []
    return [str(item) for item in (config.get(list_key) or {}).get("Items") or []]


def _selection(config: Mapping | None, kind: str) -> tuple[str, list[str]]:
    """(behavior, names) of a HeadersConfig/CookiesConfig/QueryStringsConfig."""
    if not config:
        return "none", []
    behavior = str(config.get(f"{kind}Behavior", "none"))
    plural = {"Header": "Headers", "Cookie": "Cookies", "QueryString": "QueryStrings"}[kind]
    return behavior, _items(config, plural)


def compression_enabled(cache_policy: Mapping) -> tuple[str, ...]:
    """The Accept-Encoding tokens the policy caches separately (``("br", "gzip")`` at most)."""
    params = _params(cache_policy)
    return tuple(token for token, key in COMPRESSION_SETTINGS if params.get(key))


# --- parsing the request --------------------------------------------------------------------


def query_params(query: str) -> list[tuple[str, str]]:
    """The query string's parameters in order, split on ``&`` only, duplicates kept; a
    parameter without ``=`` has an empty value and empty segments are dropped."""
    params = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        params.append((name, value))
    return params


def request_cookies(request: EdgeRequest) -> list[tuple[str, str]]:
    """The viewer's cookies: ``request.cookies``, or the Cookie header's pairs when the log
    gave none separately."""
    if request.cookies:
        return list(request.cookies)
    cookies = []
    for name, value in request.headers:
        if name.lower() != "cookie":
            continue
        for part in value.split(";"):
            part = part.strip()
            if part:
                key, _, val = part.partition("=")
                cookies.append((key.strip(), val.strip()))
    return cookies


def _header_values(request: EdgeRequest) -> dict[str, tuple[str, str]]:
    """Lower-cased name -> (name as sent, value); repeated headers are joined with ``,`` as
    HTTP allows (RFC 9110 section 5.3)."""
    found: dict[str, tuple[str, str]] = {}
    for name, value in request.headers:
        key = name.lower()
        if key in found:
            found[key] = (found[key][0], f"{found[key][1]},{value}")
        else:
            found[key] = (name, value)
    return found


def cloudfront_header(request: EdgeRequest, name: str) -> str | None:
    """The value CloudFront gives a ``CloudFront-*`` header it adds, when a log line tells it:
    the one the request carries (a simulator may set it), else the protocol for
    ``CloudFront-Forwarded-Proto`` and the client IP for ``CloudFront-Viewer-Address``
    (without the port a log does not keep). Others (device type, geolocation) are unknown
    here: None. Source: "Adding CloudFront request headers" (adding-cloudfront-headers.html).
    """
    carried = request.header(name)
    if carried is not None:
        return carried
    lower = name.lower()
    if lower == "cloudfront-forwarded-proto":
        return request.protocol
    if lower == "cloudfront-viewer-address" and request.client_ip:
        return request.client_ip
    return None


def normalized_accept_encoding(request: EdgeRequest, cache_policy: Mapping) -> str | None:
    """The Accept-Encoding value CloudFront puts in the cache key, or None for none.

    Only the enabled formats the viewer lists count, written ``br,gzip``; other values
    (``deflate``, q-values) are dropped. None when the viewer sent no Accept-Encoding, when it
    lists none of the enabled formats, or when the policy caches no compressed format (the
    header is then an ordinary header). Source: "Understanding cache policies", Compression
    support (controlling-the-cache-key.html).
    """
    enabled = compression_enabled(cache_policy)
    value = request.header("Accept-Encoding")
    if not enabled or value is None:
        return None
    offered = {token.split(";")[0].strip().lower() for token in value.split(",")}
    chosen = [token for token in enabled if token in offered]
    return ",".join(chosen) or None


# --- the selections -------------------------------------------------------------------------


def _selected(behavior: str, names: list[str], name: str) -> bool:
    """Does a cookie/query-string selection (none/whitelist/allExcept/all) take ``name``?
    Names are compared case-sensitively (both cookies and query strings are)."""
    if behavior == "all":
        return True
    if behavior == "whitelist":
        return name in names
    if behavior == "allExcept":
        return name not in names
    return False


def _forwarded(cache: tuple[str, list[str]], origin: tuple[str, list[str]], name: str) -> bool:
    """Does the origin request carry ``name``, under a cache policy and an origin request
    policy selection together? Either one including it is enough, except that two block lists
    exclude what either lists. Source: "Understanding how origin request policies and cache
    policies work together" (the table of None/All/Allow list/Block list)."""
    if cache[0] == "allExcept" and origin[0] == "allExcept":
        return name not in cache[1] and name not in origin[1]
    return _selected(*cache, name) or _selected(*origin, name)


def _key_headers(request: EdgeRequest, cache_policy: Mapping) -> list[tuple[str, str, str]]:
    """(lower-cased name, name as sent, value) of the viewer headers in the cache key."""
    behavior, names = _selection(_params(cache_policy).get("HeadersConfig"), "Header")
    if behavior != "whitelist":
        return []
    present = _header_values(request)
    compressed = bool(compression_enabled(cache_policy))
    chosen = []
    for wanted in dict.fromkeys(name.lower() for name in names):
        # With compressed caching on, CloudFront owns Accept-Encoding (normalised below).
        if compressed and wanted == "accept-encoding":
            continue
        if wanted.startswith("cloudfront-"):
            value = cloudfront_header(request, wanted)
            if value is not None:
                chosen.append((wanted, present.get(wanted, (wanted, ""))[0], value))
        elif wanted in present:
            chosen.append((wanted, *present[wanted]))
    return chosen


# --- the public functions -------------------------------------------------------------------


def cache_key(request: EdgeRequest, cache_policy: Mapping, *, domain: str | None = None) -> tuple:
    """The cache key of ``request`` under ``cache_policy`` (a ``CachePolicyConfig`` dict).

    Two requests share a cached object exactly when their keys are equal. ``domain`` is the
    distribution's domain name; by default the request's Host header (lower-cased, as DNS
    names are case-insensitive).
    """
    host = (domain if domain is not None else request.header("Host") or "").lower()
    params = _params(cache_policy)
    # GET and HEAD share objects; OPTIONS responses are cached apart (understanding-the-cache-key).
    method = "OPTIONS" if request.method.upper() == "OPTIONS" else "GET"

    headers = tuple(sorted((name, value) for name, _, value in _key_headers(request, cache_policy)))
    encoding = normalized_accept_encoding(request, cache_policy)

    cookie_sel = _selection(params.get("CookiesConfig"), "Cookie")
    cookies = tuple(
        sorted(
            (pair for pair in request_cookies(request) if _selected(*cookie_sel, pair[0])),
            key=lambda pair: pair[0],
        )
    )

    query_sel = _selection(params.get("QueryStringsConfig"), "QueryString")
    # The parameters as sent (``a`` and ``a=`` stay apart), in the viewer's order.
    query = tuple(
        part
        for part in request.query.split("&")
        if part and _selected(*query_sel, part.partition("=")[0])
    )

    return (
        ("domain", host),
        ("path", request.path),
        ("method", method),
        ("headers", headers),
        ("accept-encoding", encoding),
        ("cookies", cookies),
        ("query", query),
    )


def forwarded_to_origin(
    request: EdgeRequest,
    cache_policy: Mapping,
    origin_request_policy: Mapping | None,
    *,
    origin_domain: str | None = None,
    options_cached: bool = False,
) -> ForwardedRequest:
    """What the origin receives for ``request`` on a cache miss.

    Everything in the cache key, plus what the origin request policy (an
    ``OriginRequestPolicyConfig`` dict, or None) adds; the ``CloudFront-*`` headers either
    policy lists are added with the value :func:`cloudfront_header` finds, ``"?"`` when a log
    cannot tell it. CloudFront also sets ``User-Agent: Amazon CloudFront`` unless the
    viewer's is forwarded, appends the client IP to ``X-Forwarded-For``, and sets ``Host`` to
    ``origin_domain`` (when given) unless the viewer's Host is forwarded. Sources: "Controlling
    origin requests", "Understanding how origin request policies and cache policies work
    together", "Request and response behavior for custom origins".
    """
    orp = origin_request_policy or {}
    present = _header_values(request)
    method = request.method.upper()

    # Headers ---------------------------------------------------------------------------
    key_header_names = {name for name, _, _ in _key_headers(request, cache_policy)}
    orp_behavior, orp_names = _selection(orp.get("HeadersConfig"), "Header")
    orp_lower = {name.lower() for name in orp_names}

    def orp_takes(name: str) -> bool:
        if orp_behavior in ("allViewer", "allViewerAndWhitelistCloudFront"):
            return True
        if orp_behavior == "allExcept":
            return name not in orp_lower
        if orp_behavior == "whitelist":
            # Authorization cannot be forwarded on its own by an origin request policy.
            return name in orp_lower and name != AUTHORIZATION
        return False

    compressed = bool(compression_enabled(cache_policy))
    headers: list[tuple[str, str]] = []
    for lower, (name, value) in present.items():
        if lower == "cookie" or (lower == "accept-encoding" and compressed):
            continue  # the Cookie header is rebuilt below, Accept-Encoding normalised
        keep = lower in key_header_names or orp_takes(lower)
        if lower == AUTHORIZATION and not keep:
            keep = method in AUTHORIZATION_KEPT_FOR or (method == "OPTIONS" and not options_cached)
        if keep:
            headers.append((name, value))

    # CloudFront-* headers a policy lists are generated by CloudFront, not sent by viewers.
    listed = _items(_params(cache_policy).get("HeadersConfig"), "Headers")
    if orp_behavior in ("whitelist", "allViewerAndWhitelistCloudFront"):
        listed += orp_names
    listed_cf = [name for name in listed if name.lower().startswith("cloudfront-")]
    sent = {name.lower() for name, _ in headers}
    for name in dict.fromkeys(listed_cf):
        if name.lower() not in sent:
            value = cloudfront_header(request, name)
            headers.append((name, "?" if value is None else value))
            sent.add(name.lower())

    if compressed and "accept-encoding" in present:
        encoding = normalized_accept_encoding(request, cache_policy)
        headers.append(("Accept-Encoding", encoding or IDENTITY))

    if "user-agent" not in sent:
        headers.append(("User-Agent", CLOUDFRONT_USER_AGENT))
    # X-Forwarded-For: the viewer's value (if any) with the connection's IP appended.
    chain = [ip for ip in (present.get("x-forwarded-for", ("", ""))[1], request.client_ip) if ip]
    if chain:
        headers = [(n, v) for n, v in headers if n.lower() != "x-forwarded-for"]
        headers.append(("X-Forwarded-For", ",".join(chain)))
    if origin_domain is not None and "host" not in sent:
        headers.append(("Host", origin_domain))

    # Cookies and query strings -------------------------------------------------------------
    params = _params(cache_policy)
    cookie_pair = (
        _selection(params.get("CookiesConfig"), "Cookie"),
        _selection(orp.get("CookiesConfig"), "Cookie"),
    )
    cookies = tuple(
        sorted(
            (c for c in request_cookies(request) if _forwarded(*cookie_pair, c[0])),
            key=lambda pair: pair[0],
        )
    )
    if cookies:
        headers.append(("Cookie", "; ".join(f"{name}={value}" for name, value in cookies)))

    query_pair = (
        _selection(params.get("QueryStringsConfig"), "QueryString"),
        _selection(orp.get("QueryStringsConfig"), "QueryString"),
    )
    kept = [
        part
        for part in request.query.split("&")
        if part and _forwarded(*query_pair, part.partition("=")[0])
    ]
    return ForwardedRequest(headers=tuple(headers), cookies=cookies, query="&".join(kept))


# --- legacy cache settings ------------------------------------------------------------------

# Defaults of the legacy TTL fields. Source: "Values that you specify when you create or
# update a distribution" (Default TTL: 86400; Maximum TTL: 31536000, or DefaultTTL when
# MinTTL or DefaultTTL is above it; Default TTL becomes MinTTL when MinTTL is above 86400).
LEGACY_DEFAULT_TTL = 86_400
LEGACY_MAX_TTL = 31_536_000


def _names(items: Iterable[str]) -> dict:
    names = list(items)
    return {"Quantity": len(names), "Items": names} if names else {"Quantity": 0}


def policies_from_legacy(behavior: Mapping) -> tuple[dict, dict | None]:
    """An equivalent (cache policy config, origin request policy config or None) for a cache
    behavior that uses legacy ``ForwardedValues`` and ``MinTTL``/``DefaultTTL``/``MaxTTL``.

    The legacy settings forward and key together, with two exceptions kept by the origin
    request policy: "forward all, cache based on whitelist" query strings (all are forwarded,
    the listed ones keyed), and ``Headers: ["*"]`` (all headers forwarded, nothing cached:
    "If you configure CloudFront to forward all headers ... CloudFront never caches",
    Expiration.html, so the TTLs become 0). Legacy caching knows Gzip only ("Brotli doesn't
    support legacy cache settings", ServingCompressedFiles.html), and only with ``Compress``.
    Legacy cookie whitelists may hold ``*``/``?`` wildcards (distribution-web-values-specify.html,
    Whitelist cookies); cache policies have none, so such names are kept as literal names here.
    """
    fv = behavior.get("ForwardedValues") or {}
    min_ttl = int(behavior.get("MinTTL", 0))
    default_ttl = int(behavior.get("DefaultTTL", max(LEGACY_DEFAULT_TTL, min_ttl)))
    max_ttl = int(
        behavior.get(
            "MaxTTL", default_ttl if max(min_ttl, default_ttl) > LEGACY_MAX_TTL else LEGACY_MAX_TTL
        )
    )

    cookies = fv.get("Cookies") or {}
    forward = cookies.get("Forward", "none")
    cookies_config: dict = {"CookieBehavior": forward}
    if forward == "whitelist":
        cookies_config["Cookies"] = _names(_items(cookies, "WhitelistedNames"))

    header_items = _items(fv, "Headers") if "Headers" in fv else []
    all_headers = "*" in header_items
    headers_config: dict = {"HeaderBehavior": "none"}
    if header_items and not all_headers:
        headers_config = {"HeaderBehavior": "whitelist", "Headers": _names(header_items)}

    query_config: dict = {"QueryStringBehavior": "none"}
    orp: dict | None = None
    if fv.get("QueryString"):
        keys = _items(fv, "QueryStringCacheKeys")
        if keys:
            query_config = {"QueryStringBehavior": "whitelist", "QueryStrings": _names(keys)}
            orp = {"QueryStringsConfig": {"QueryStringBehavior": "all"}}
        else:
            query_config = {"QueryStringBehavior": "all"}

    if all_headers:
        min_ttl = default_ttl = max_ttl = 0
        orp = dict(orp or {})
        orp["HeadersConfig"] = {"HeaderBehavior": "allViewer"}
    if orp is not None:
        orp.setdefault("HeadersConfig", {"HeaderBehavior": "none"})
        orp.setdefault("CookiesConfig", {"CookieBehavior": "none"})
        orp.setdefault("QueryStringsConfig", {"QueryStringBehavior": "none"})
        orp.setdefault("Name", "legacy-forwarded-values")

    policy = {
        "Name": "legacy-forwarded-values",
        "MinTTL": min_ttl,
        "DefaultTTL": default_ttl,
        "MaxTTL": max_ttl,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": bool(behavior.get("Compress", False)),
            "EnableAcceptEncodingBrotli": False,
            "HeadersConfig": headers_config,
            "CookiesConfig": cookies_config,
            "QueryStringsConfig": query_config,
        },
    }
    return policy, orp


def cache_policy_from_legacy(behavior: Mapping) -> dict:
    """The cache policy half of :func:`policies_from_legacy`."""
    return policies_from_legacy(behavior)[0]
