"""The cache simulator: replay an access log through a distribution's behaviors and caches.

Each request, in time order, is matched to its cache behavior; a viewer protocol policy
turns HTTP away before the cache (301 for ``redirect-to-https``, 403 for ``https-only``);
then the edge location's cache is looked up under (behavior, cache key). A fresh entry is a
hit; otherwise the request is a miss, the origin model answers (its bytes counted as origin
load) and the answer is stored for :func:`~grader.aws.edge.ttl.cache_seconds` when that is
more than 0. A method the behavior does not cache (POST, ...) always goes to the origin and
is counted apart ("passed"), as CloudFront's hit rate leaves it out.

A *leak* is a cached answer made for one viewer (``made_for``) served to another: the
security failure a cache key without the session cookie causes on a personal page.

A model, not CloudFront: each edge location is one cache with no size limit and no
regional edge cache behind it; a stale entry is a plain miss (CloudFront may revalidate it
with a conditional request, which costs the origin less); bytes are the origin model's
sizes, compressed or not.

Sources: CloudFront Developer Guide, "Manage how long content stays in the cache
(expiration)" (Expiration.html) for what is stored and for how long; "Values that you
specify when you create or update a distribution" for the viewer protocol policy and the
allowed and cached methods; the hit ratio follows the CacheHitRate metric ("Types of
metrics for CloudFront", programming-cloudwatch-metrics.html: hits among cacheable
requests), except that error answers count here like any other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from grader.aws.edge import cachekey, ttl
from grader.aws.edge.distribution import Behavior, Distribution, EdgeConfigError
from grader.aws.edge.origin import OriginModel
from grader.aws.edge.policies import PolicyStore
from grader.aws.edge.request import EdgeRequest, OriginResponse
from grader.aws.errors import GraderError

# What viewers get from a viewer protocol policy over HTTP. Source: the CloudFront API
# reference, CacheBehavior.ViewerProtocolPolicy (redirect-to-https: 301 Moved Permanently
# with the HTTPS URL; https-only: 403 Forbidden).
HTTP_REFUSALS = {"redirect-to-https": 301, "https-only": 403}
INSECURE_PROTOCOLS = frozenset({"http", "ws"})

# The domain part of every cache key: the distribution's own domain name, not the Host the
# viewer used, so an alternate domain name and the cloudfront.net name share cached objects
# (source: "Understand the cache key", The default cache key). A distribution config does
# not hold its generated domain name, so the first alias stands for it, or else this
# placeholder (the documentation's example domain).
PLACEHOLDER_DOMAIN = "d111111abcdef8.cloudfront.net"

# How the report names the default behavior (it has no path pattern).
DEFAULT_BEHAVIOR_NAME = "Default (*)"


@dataclass
class BehaviorStats:
    """What happened under one cache behavior (the counts also make the overall totals)."""

    name: str
    target_origin_id: str = ""
    viewer_protocol_policy: str = ""
    compress: bool = False
    requests: int = 0
    hits: int = 0
    misses: int = 0
    passed: int = 0  # methods the behavior does not cache: always to the origin
    redirected: int = 0  # HTTP requests answered 301 by redirect-to-https
    refused: int = 0  # HTTP requests answered 403 by https-only
    # A method outside AllowedMethods, which CloudFront neither processes nor forwards (API
    # reference, AllowedMethods); the error it answers with is not documented there, so
    # these are only counted, as turned away.
    method_not_allowed: int = 0
    bytes_from_origin: int = 0
    bytes_to_viewers: int = 0
    compressed: dict[str, int] = field(default_factory=dict)  # encoding -> responses
    leaks: int = 0

    @property
    def hit_ratio(self) -> float | None:
        """Hits over cacheable requests that reached the cache (None when there were none)."""
        looked_up = self.hits + self.misses
        return self.hits / looked_up if looked_up else None

    def add(self, other: BehaviorStats) -> None:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for encoding, count in other.compressed.items():
            self.compressed[encoding] = self.compressed.get(encoding, 0) + count

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "hits": self.hits,
            "misses": self.misses,
            "passed": self.passed,
            "hitRatio": None if self.hit_ratio is None else round(self.hit_ratio, 4),
            "redirected": self.redirected,
            "refused": self.refused,
            "methodNotAllowed": self.method_not_allowed,
            "bytesFromOrigin": self.bytes_from_origin,
            "bytesToViewers": self.bytes_to_viewers,
            "compressed": dict(sorted(self.compressed.items())),
            "leaks": self.leaks,
        }


_COUNTS = (
    "requests",
    "hits",
    "misses",
    "passed",
    "redirected",
    "refused",
    "method_not_allowed",
    "bytes_from_origin",
    "bytes_to_viewers",
    "leaks",
)


@dataclass(frozen=True)
class Leak:
    """A cached answer made for ``made_for`` and served from cache to ``request.viewer``."""

    request: EdgeRequest
    behavior: str
    cache_key: tuple
    made_for: str

    def to_json(self) -> dict[str, Any]:
        r = self.request
        return {
            "time": r.time_ms,
            "source": r.source,
            "edgeLocation": r.edge_location,
            "method": r.method,
            "path": r.path,
            "query": r.query,
            "behavior": self.behavior,
            "cacheKey": plain(self.cache_key),
            "madeFor": self.made_for,
            "servedTo": r.viewer,
        }


@dataclass
class SimulationReport:
    """Counts per behavior (in the distribution's order, the default last), per edge
    location, overall, and every leak in time order."""

    behaviors: dict[str, BehaviorStats]
    edges: dict[str, BehaviorStats]
    leaks: list[Leak]

    @property
    def total(self) -> BehaviorStats:
        total = BehaviorStats(name="total")
        for stats in self.behaviors.values():
            total.add(stats)
        return total

    def to_json(self) -> dict[str, Any]:
        """Plain data (str, int, float, None, lists and dicts) for ``json.dumps``."""
        return {
            "total": self.total.to_json(),
            "behaviors": [
                {
                    "pathPattern": name,
                    "targetOriginId": stats.target_origin_id,
                    "viewerProtocolPolicy": stats.viewer_protocol_policy,
                    "compress": stats.compress,
                    **stats.to_json(),
                }
                for name, stats in self.behaviors.items()
            ],
            "edges": {
                name: {k: v for k, v in stats.to_json().items() if k in _EDGE_FIELDS}
                for name, stats in sorted(self.edges.items())
            },
            "leaks": [leak.to_json() for leak in self.leaks],
        }


_EDGE_FIELDS = ("requests", "hits", "misses", "passed", "hitRatio", "bytesFromOrigin")


def plain(value: Any) -> Any:
    """A cache key (nested tuples of (name, value) pairs) as JSON-friendly data: pairs whose
    names are strings become objects, other tuples lists."""
    if isinstance(value, tuple):
        if value and all(
            isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in value
        ):
            names = [p[0] for p in value]
            if len(set(names)) == len(names) and not all(isinstance(p[1], str) for p in value):
                return {name: plain(v) for name, v in value}
        return [plain(v) for v in value]
    return value


def behavior_name(behavior: Behavior) -> str:
    """How the report names a behavior: its path pattern, or ``Default (*)``."""
    return behavior.path_pattern if behavior.path_pattern is not None else DEFAULT_BEHAVIOR_NAME


class _Context:
    """What the simulator needs of one behavior, looked up once (policies, methods, stats)."""

    __slots__ = (
        "index",
        "behavior",
        "stats",
        "cache_policy",
        "origin_request_policy",
        "cached_methods",
        "allowed_methods",
        "refusal",
        "keys",
        "ttls",
        "encodings",
        "key_reads_connection",
        "options_cached",
    )

    def __init__(self, index: int, behavior: Behavior, policies: PolicyStore) -> None:
        self.index = index
        self.behavior = behavior
        self.stats = BehaviorStats(
            name=behavior_name(behavior),
            target_origin_id=behavior.target_origin_id,
            viewer_protocol_policy=behavior.viewer_protocol_policy,
            compress=bool(behavior.compress),
        )
        self.cache_policy, self.origin_request_policy = _policies(behavior, policies)
        self.cached_methods = frozenset(m.upper() for m in behavior.cached_methods)
        self.allowed_methods = frozenset(m.upper() for m in behavior.allowed_methods)
        self.refusal = HTTP_REFUSALS.get(behavior.viewer_protocol_policy)
        self.keys: dict[tuple, tuple] = {}  # the request's key inputs -> its cache key
        self.ttls: dict[tuple, int | None] = {}  # (response, method) -> cache seconds
        self.encodings: dict[tuple, str | None] = {}  # (response, Accept-Encoding) -> br/gzip
        # A key that lists a CloudFront-* header (CloudFront-Forwarded-Proto,
        # CloudFront-Viewer-Address, ...) depends on the connection too, not only on what
        # the request carries: then the memo of keys must tell connections apart.
        headers = (
            self.cache_policy.get("ParametersInCacheKeyAndForwardedToOrigin", {})
            .get("HeadersConfig", {})
            .get("Headers", {})
            .get("Items", [])
        )
        self.key_reads_connection = any(h.lower().startswith("cloudfront-") for h in headers)
        self.options_cached = "OPTIONS" in self.cached_methods


def _policies(behavior: Behavior, policies: PolicyStore) -> tuple[Mapping, Mapping | None]:
    """The behavior's cache policy and origin request policy configs; legacy
    ForwardedValues become their equivalent policies."""
    if behavior.cache_policy_id is None:
        legacy = {
            "ForwardedValues": behavior.forwarded_values or {},
            "Compress": behavior.compress,
        }
        for name, value in (
            ("MinTTL", behavior.min_ttl),
            ("DefaultTTL", behavior.default_ttl),
            ("MaxTTL", behavior.max_ttl),
        ):
            if value is not None:
                legacy[name] = value
        return cachekey.policies_from_legacy(legacy)
    where, name = behavior.json_path, behavior.name
    try:
        cache_policy = policies.cache_policy(behavior.cache_policy_id, behavior=name)
    except GraderError as exc:
        raise _at(exc, where, "CachePolicyId") from None
    orp = None
    if behavior.origin_request_policy_id is not None:
        try:
            orp = policies.origin_request_policy(behavior.origin_request_policy_id, behavior=name)
        except GraderError as exc:
            raise _at(exc, where, "OriginRequestPolicyId") from None
    return cache_policy, orp


def _at(exc: GraderError, where: str, key: str) -> GraderError:
    """The policy store's error, placed at the behavior's field that names the policy."""
    path = f"{where}.{key}" if where else key
    return EdgeConfigError(exc.message, code=exc.code, json_path=exc.json_path or path)


def simulate(
    distribution: Distribution,
    policies: PolicyStore,
    requests: Iterable[EdgeRequest],
    origin: OriginModel,
) -> SimulationReport:
    """Replay ``requests`` (in time order) through ``distribution``'s caches.

    ``policies`` answers ``cache_policy(id)`` and ``origin_request_policy(id)``; ``origin``
    answers ``respond(path, viewer, forwarded)`` (an
    :class:`~grader.aws.edge.origin.OriginModel`), where ``forwarded`` is the
    :class:`~grader.aws.edge.cachekey.ForwardedRequest`, or None when the origin says it does
    not read it (``needs_forwarded = False``).
    """
    contexts = [
        _Context(i, behavior, policies) for i, behavior in enumerate(distribution.all_behaviors)
    ]
    by_identity = {id(c.behavior): c for c in contexts}
    domain = distribution.aliases[0].lower() if distribution.aliases else PLACEHOLDER_DOMAIN
    matched: dict[str, _Context] = {}  # path -> its behavior's context: paths repeat
    caches: dict[str, dict[tuple, tuple[int, OriginResponse]]] = {}
    edges: dict[str, BehaviorStats] = {}
    leaks: list[Leak] = []
    cache_key = cachekey.cache_key
    forwarded_to_origin = cachekey.forwarded_to_origin
    cache_seconds = ttl.cache_seconds
    compression_encoding = ttl.compression_encoding
    respond = origin.respond
    # The request CloudFront forwards is built only for an origin that reads it.
    needs_forwarded = getattr(origin, "needs_forwarded", True)

    def ask_origin(context: _Context, request: EdgeRequest, edge: BehaviorStats) -> OriginResponse:
        """A request that goes to the origin (a miss, or a method that is not cached): its
        answer, with the bytes it costs the origin counted."""
        forwarded = None
        if needs_forwarded:
            forwarded = forwarded_to_origin(
                request,
                context.cache_policy,
                context.origin_request_policy,
                options_cached=context.options_cached,
            )
        response = respond(request.path, request.viewer, forwarded)
        context.stats.bytes_from_origin += response.size
        edge.bytes_from_origin += response.size
        return response

    for request in requests:
        path = request.path
        context = matched.get(path)
        if context is None:
            context = by_identity[id(distribution.match(path))]
            matched[path] = context
        stats = context.stats
        stats.requests += 1
        edge = edges.get(request.edge_location)
        if edge is None:
            edge = edges[request.edge_location] = BehaviorStats(name=request.edge_location)
            caches[request.edge_location] = {}
        edge.requests += 1

        if context.refusal is not None and request.protocol in INSECURE_PROTOCOLS:
            if context.refusal == 301:
                stats.redirected += 1
            else:
                stats.refused += 1
            continue
        method = request.method.upper()
        if method not in context.allowed_methods:
            stats.method_not_allowed += 1
            continue

        if method not in context.cached_methods:
            stats.passed += 1
            edge.passed += 1
            response = ask_origin(context, request, edge)
            stats.bytes_to_viewers += response.size
            _count_compression(context, request, response, compression_encoding)
            continue

        inputs: tuple = (path, request.query, method, request.headers, request.cookies)
        if context.key_reads_connection:
            inputs += (request.protocol, request.client_ip)
        key = context.keys.get(inputs)
        if key is None:
            key = context.keys[inputs] = cache_key(request, context.cache_policy, domain=domain)
        cache = caches[request.edge_location]
        slot = (context.index, key)
        entry = cache.get(slot)
        now = request.time_ms
        if entry is not None and entry[0] > now:
            response = entry[1]
            stats.hits += 1
            edge.hits += 1
            made_for = response.made_for
            if made_for is not None and made_for != request.viewer:
                stats.leaks += 1
                leaks.append(Leak(request, stats.name, key, made_for))
        else:
            stats.misses += 1
            edge.misses += 1
            response = ask_origin(context, request, edge)
            seconds = _cache_seconds(context, response, method, now, cache_seconds)
            if seconds:
                cache[slot] = (now + seconds * 1000, response)
            elif entry is not None:
                del cache[slot]
        stats.bytes_to_viewers += response.size
        if context.stats.compress:
            _count_compression(context, request, response, compression_encoding)

    return SimulationReport(
        behaviors={c.stats.name: c.stats for c in contexts}, edges=edges, leaks=leaks
    )


def _cache_seconds(
    context: _Context, response: OriginResponse, method: str, now: int, cache_seconds: Any
) -> int | None:
    """ttl.cache_seconds, remembered per (response, method) unless an Expires header makes
    it depend on the time."""
    memo = (response, method)
    seconds = context.ttls.get(memo, -1)
    if seconds != -1:
        return seconds
    seconds = cache_seconds(
        context.cache_policy,
        response,
        now_ms=now,
        method=method,
        cached_methods=context.cached_methods,
    )
    if response.header("Expires") is None:
        context.ttls[memo] = seconds
    return seconds


def _count_compression(
    context: _Context, request: EdgeRequest, response: OriginResponse, encoding_of: Any
) -> None:
    """Count the encoding CloudFront compresses this answer with for this viewer, if any;
    remembered per (answer, Accept-Encoding), the only inputs that vary."""
    memo = (response, request.header("Accept-Encoding"))
    encoding = context.encodings.get(memo, "")
    if encoding == "":
        encoding = encoding_of(context.cache_policy, context.stats.compress, request, response)
        context.encodings[memo] = encoding
    if encoding is not None:
        compressed = context.stats.compressed
        compressed[encoding] = compressed.get(encoding, 0) + 1
