"""FieldToMatch: which parts of a request a match statement inspects.

A compiled :class:`FieldSpec` turns a :class:`WafRequest` into the strings the statement
tests (:func:`extract`). Fields that hold many values (all query arguments, headers,
cookies, a JSON body) give one string per value, and the statement matches when any one
does, as WAF does. When WAF can see only part of a component (an oversize body, headers or
cookies), the field's ``OversizeHandling`` may decide the statement outright: ``MATCH`` or
``NO_MATCH`` comes back as :attr:`Extracted.forced`.

Sources: the WAFv2 API reference (FieldToMatch, Body, JsonBody, Headers, Cookies,
OversizeHandling) and the developer guide page "Oversize web request components in AWS WAF"
(https://docs.aws.amazon.com/waf/latest/developerguide/waf-oversize-request-components.html).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from grader.aws.waf.request import WafRequest

# How many body bytes the protected resource forwards to WAF, by resource type. ALB and
# AppSync are fixed at 8 KB; CloudFront, API Gateway, Cognito, App Runner and Verified
# Access default to 16 KB and can be raised in the web ACL's AssociationConfig.
# Source: the API reference for Body.OversizeHandling and AssociationConfig.
BODY_LIMIT_FIXED = {"APPLICATION_LOAD_BALANCER": 8 * 1024, "APPSYNC": 8 * 1024}
BODY_LIMIT_DEFAULT = 16 * 1024
SIZE_INSPECTION_LIMITS = {
    "KB_16": 16 * 1024,
    "KB_32": 32 * 1024,
    "KB_48": 48 * 1024,
    "KB_64": 64 * 1024,
}
# The resource a web ACL of each scope protects when the caller names none: a REGIONAL web
# ACL is modelled as protecting an Application Load Balancer (the strictest limit).
DEFAULT_RESOURCE = {"CLOUDFRONT": "CLOUDFRONT", "REGIONAL": "APPLICATION_LOAD_BALANCER"}

# Headers and cookies: WAF sees at most the first 8 KB and the first 200 of them.
# Source: the API reference for Headers and Cookies (OversizeHandling).
HEADERS_MAX_BYTES = 8 * 1024
HEADERS_MAX_COUNT = 200

# The FieldToMatch members this engine extracts; the others (HeaderOrder, JA3/JA4
# fingerprints, UriFragment) need data a traffic file does not carry and inspect nothing.
SUPPORTED = (
    "UriPath",
    "QueryString",
    "SingleHeader",
    "SingleQueryArgument",
    "AllQueryArguments",
    "Method",
    "Body",
    "JsonBody",
    "Headers",
    "Cookies",
)


@dataclass(frozen=True)
class FieldSpec:
    """One FieldToMatch, compiled: its kind and its settings, names lowercased once."""

    kind: str
    name: str | None = None  # SingleHeader / SingleQueryArgument, lowercased
    oversize: str = "CONTINUE"
    scope: str = "ALL"  # MatchScope of Headers, Cookies, JsonBody
    included: frozenset[str] | None = None  # IncludedHeaders/Cookies (lowercased for headers)
    excluded: frozenset[str] | None = None
    paths: tuple[str, ...] | None = None  # JsonBody IncludedPaths (None: All)
    invalid_fallback: str | None = None  # JsonBody InvalidFallbackBehavior

    @property
    def is_body(self) -> bool:
        return self.kind in ("Body", "JsonBody")


@dataclass(frozen=True)
class Extracted:
    """The strings to inspect, or ``forced`` True/False when oversize handling (or a JSON
    body's fallback) decides the statement without looking."""

    values: tuple[str, ...] = ()
    forced: bool | None = None


def parse_field(spec: dict) -> FieldSpec:
    """Compile a FieldToMatch dict that the API's shapes already accept (one member set)."""
    (kind, body), *_ = spec.items()
    body = body or {}
    if kind in ("SingleHeader", "SingleQueryArgument"):
        return FieldSpec(kind, name=str(body.get("Name", "")).lower())
    if kind == "Body":
        return FieldSpec(kind, oversize=body.get("OversizeHandling", "CONTINUE"))
    if kind == "JsonBody":
        pattern = body.get("MatchPattern") or {}
        paths = tuple(pattern["IncludedPaths"]) if "IncludedPaths" in pattern else None
        return FieldSpec(
            kind,
            oversize=body.get("OversizeHandling", "CONTINUE"),
            scope=body.get("MatchScope", "ALL"),
            paths=paths,
            invalid_fallback=body.get("InvalidFallbackBehavior"),
        )
    if kind in ("Headers", "Cookies"):
        pattern = body.get("MatchPattern") or {}
        fold = str.lower if kind == "Headers" else str  # header names ignore case
        inc = pattern.get("IncludedHeaders", pattern.get("IncludedCookies"))
        exc = pattern.get("ExcludedHeaders", pattern.get("ExcludedCookies"))
        return FieldSpec(
            kind,
            oversize=body.get("OversizeHandling", "CONTINUE"),
            scope=body.get("MatchScope", "ALL"),
            included=frozenset(map(fold, inc)) if inc is not None else None,
            excluded=frozenset(map(fold, exc)) if exc is not None else None,
        )
    return FieldSpec(kind)


def body_limit(scope: str, resource_type: str | None, association_config: dict | None) -> int:
    """How many body bytes WAF inspects for a web ACL of ``scope`` protecting
    ``resource_type`` (default: CloudFront for CLOUDFRONT, an ALB for REGIONAL)."""
    resource = resource_type or DEFAULT_RESOURCE.get(scope, "CLOUDFRONT")
    if resource in BODY_LIMIT_FIXED:
        return BODY_LIMIT_FIXED[resource]
    chosen = ((association_config or {}).get("RequestBody") or {}).get(resource) or {}
    return SIZE_INSPECTION_LIMITS.get(chosen.get("DefaultSizeInspectionLimit"), BODY_LIMIT_DEFAULT)


def _text(raw: bytes) -> str:
    # Undecodable bytes survive as surrogates, so sizes and byte searches stay faithful.
    return raw.decode("utf-8", errors="surrogateescape")


def query_args(args: str) -> list[tuple[str, str]]:
    """The query string's arguments as (name, value), raw (WAF does not URL-decode them:
    a URL_DECODE transformation does)."""
    pairs = []
    for part in args.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((name, value))
    return pairs


def cookies(request: WafRequest) -> list[tuple[str, str]]:
    """The request's cookies as (name, value), from every Cookie header, in order."""
    found = []
    for header in request.header_values("cookie"):
        for part in header.split(";"):
            name, sep, value = part.strip().partition("=")
            if name or sep:
                found.append((name, value))
    return found


def _scoped(pairs: list[tuple[str, str]], scope: str) -> tuple[str, ...]:
    if scope == "KEY":
        return tuple(k for k, _ in pairs)
    if scope == "VALUE":
        return tuple(v for _, v in pairs)
    return tuple(x for pair in pairs for x in pair)


def _map_field(spec: FieldSpec, pairs: list[tuple[str, str]], fold) -> Extracted:
    size = sum(len(k) + len(v) for k, v in pairs)
    if len(pairs) > HEADERS_MAX_COUNT or size > HEADERS_MAX_BYTES:
        if spec.oversize != "CONTINUE":
            return Extracted(forced=spec.oversize == "MATCH")
        pairs = _first_within(pairs)
    if spec.included is not None:
        pairs = [(k, v) for k, v in pairs if fold(k) in spec.included]
    if spec.excluded is not None:
        pairs = [(k, v) for k, v in pairs if fold(k) not in spec.excluded]
    return Extracted(_scoped(pairs, spec.scope))


def _first_within(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """CONTINUE inspects what WAF was forwarded: the first 200 within the first 8 KB."""
    kept, used = [], 0
    for key, value in pairs[:HEADERS_MAX_COUNT]:
        used += len(key) + len(value)
        if used > HEADERS_MAX_BYTES:
            break
        kept.append((key, value))
    return kept


def _json_pointer(document, pointer: str):
    """The node at a JSON pointer (RFC 6901), or a sentinel when it is not there."""
    node = document
    if pointer == "":
        return node
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return _MISSING
    return node


_MISSING = object()


def _json_leaves(node) -> Iterator[tuple[str | None, str]]:
    """(key, value) for every scalar under ``node``; keys are the object member names."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict | list):
                yield key, None  # a key whose value is a container still counts as a key
                yield from _json_leaves(value)
            else:
                yield key, _scalar(value)
    elif isinstance(node, list):
        for item in node:
            yield from _json_leaves(item)
    else:
        yield None, _scalar(node)


def _scalar(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)  # numbers, true/false, null as they are written


def _json_field(spec: FieldSpec, text: str) -> Extracted:
    try:
        document = json.loads(text)
    except ValueError:
        fallback = spec.invalid_fallback
        if fallback == "EVALUATE_AS_STRING":
            return Extracted((text,))
        if fallback in ("MATCH", "NO_MATCH"):
            return Extracted(forced=fallback == "MATCH")
        # Without a fallback WAF inspects what it parsed before the error; the model
        # inspects nothing (a body that is not JSON at all parses to nothing either).
        return Extracted()
    nodes = [document] if spec.paths is None else [_json_pointer(document, p) for p in spec.paths]
    keys: list[str] = []
    values: list[str] = []
    for node in nodes:
        if node is _MISSING:
            continue
        for key, value in _json_leaves(node):
            if key is not None:
                keys.append(key)
            if value is not None:
                values.append(value)
    if spec.scope == "KEY":
        return Extracted(tuple(keys))
    if spec.scope == "VALUE":
        return Extracted(tuple(values))
    return Extracted(tuple(keys + values))


def extract(spec: FieldSpec, request: WafRequest, limit: int = BODY_LIMIT_DEFAULT) -> Extracted:
    """The strings of ``request`` that ``spec`` inspects; ``limit`` is the body inspection
    limit in bytes (see :func:`body_limit`)."""
    kind = spec.kind
    if kind == "UriPath":
        return Extracted((request.uri,))
    if kind == "QueryString":
        return Extracted((request.args,))
    if kind == "Method":
        return Extracted((request.method,))
    if kind == "SingleHeader":
        return Extracted(tuple(request.header_values(spec.name or "")))
    if kind == "SingleQueryArgument":
        wanted = spec.name
        return Extracted(tuple(v for k, v in query_args(request.args) if k.lower() == wanted))
    if kind == "AllQueryArguments":
        return Extracted(tuple(v for _, v in query_args(request.args)))
    if kind in ("Body", "JsonBody"):
        body = request.body
        if len(body) > limit:
            if spec.oversize != "CONTINUE":
                return Extracted(forced=spec.oversize == "MATCH")
            body = body[:limit]
        if kind == "Body":
            return Extracted((_text(body),))
        return _json_field(spec, _text(body))
    if kind == "Headers":
        return _map_field(spec, list(request.headers), str.lower)
    if kind == "Cookies":
        return _map_field(spec, cookies(request), str)
    return Extracted()  # HeaderOrder, JA3/JA4, UriFragment: not modelled (see SUPPORTED)
