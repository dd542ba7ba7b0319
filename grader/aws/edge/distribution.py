"""A CloudFront distribution as the engine sees it: origins, ordered cache behaviors, and
which behavior serves a path.

:func:`load_distribution` reads a DistributionConfig in any shape the API speaks
(``create_distribution``'s request, ``get_distribution_config``'s or ``get_distribution``'s
answer), checks it in CloudFront's order (first the API's shapes with botocore's
ParamValidator, then the service's own rules, worded like its errors) and returns a frozen
:class:`Distribution` and a tuple of warnings.

Sources: botocore's CloudFront model (CreateDistribution, DistributionConfig, CacheBehavior);
"Values that you specify when you create or update a distribution" (cache behavior settings,
path patterns), https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/
distribution-web-values-specify.html; "Control the cache key with a policy" (a cache policy
replaces ForwardedValues and the TTL fields), https://docs.aws.amazon.com/AmazonCloudFront/
latest/DeveloperGuide/controlling-the-cache-key.html; the CloudFront API reference's error
codes (NoSuchOrigin, InconsistentQuantities, InvalidTTLOrder, InvalidArgument).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.aws import botomodel
from grader.aws.errors import GraderError


class EdgeConfigError(GraderError):
    """A CloudFront configuration (distribution or policy) CloudFront would refuse.
    ``code`` is the API's error code (InvalidArgument, NoSuchOrigin, ...), shown first."""

    def __init__(self, message: str, *, code: str | None = None, **where: Any) -> None:
        self.code = code
        super().__init__(message, **where)


# --- the model --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """One origin: ``kind`` is "s3" (an S3 REST endpoint) or "custom" (anything else,
    including S3 website endpoints, which CloudFront treats as custom origins)."""

    id: str
    domain_name: str
    kind: str
    origin_access_control_id: str | None = None
    origin_access_identity: str | None = None
    # For S3 origins CloudFront uses the viewer's protocol ("Requiring HTTPS for communication
    # between CloudFront and your Amazon S3 origin"); custom origins say it themselves.
    protocol_policy: str = "match-viewer"
    origin_path: str = ""


@dataclass(frozen=True)
class Behavior:
    """One cache behavior; ``path_pattern`` is None for the default behavior. The legacy
    fields (forwarded_values, *_ttl) are set only when the behavior has no cache policy.
    ``json_path`` says where it is in the file, for messages."""

    path_pattern: str | None
    target_origin_id: str
    viewer_protocol_policy: str
    allowed_methods: tuple[str, ...] = ("GET", "HEAD")
    cached_methods: tuple[str, ...] = ("GET", "HEAD")
    compress: bool = False
    cache_policy_id: str | None = None
    origin_request_policy_id: str | None = None
    response_headers_policy_id: str | None = None
    forwarded_values: Mapping[str, Any] | None = None
    min_ttl: int | None = None
    default_ttl: int | None = None
    max_ttl: int | None = None
    # (EventType, function ARN) pairs; kept for the record, never run.
    function_associations: tuple[tuple[str, str], ...] = ()
    lambda_function_associations: tuple[tuple[str, str], ...] = ()
    json_path: str = field(default="", compare=False)

    @property
    def name(self) -> str:
        """How messages name it: its pattern, or "the default behavior"."""
        if self.path_pattern is None:
            return "the default behavior"
        return f"the behavior for {self.path_pattern!r}"


@dataclass(frozen=True)
class Distribution:
    """A loaded distribution. ``behaviors`` are the ordered CacheBehaviors (without the
    default); ``config`` is the DistributionConfig as the API shapes it."""

    origins: Mapping[str, Origin]
    behaviors: tuple[Behavior, ...]
    default_behavior: Behavior
    aliases: tuple[str, ...] = ()
    web_acl_id: str | None = None
    origin_groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    enabled: bool = True
    default_root_object: str = ""
    config: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def all_behaviors(self) -> tuple[Behavior, ...]:
        """The ordered behaviors, then the default one."""
        return (*self.behaviors, self.default_behavior)

    def match(self, path: str) -> Behavior:
        """The behavior CloudFront applies to ``path``: the first whose pattern matches, in
        the order listed, else the default behavior."""
        for behavior in self.behaviors:
            if path_matches(behavior.path_pattern or "*", path):
                return behavior
        return self.default_behavior

    def explain_match(self, path: str) -> str:
        """Which behavior serves ``path`` and why, in one or two sentences."""
        subject = path_without_query(path)
        for position, behavior in enumerate(self.behaviors, start=1):
            if path_matches(behavior.path_pattern or "*", path):
                skipped = {1: "", 2: " (behavior 1 did not match)"}.get(
                    position, f" (behaviors 1-{position - 1} did not match)"
                )
                return (
                    f"{subject} is served by cache behavior {position}, path pattern "
                    f"{behavior.path_pattern!r} (origin {behavior.target_origin_id!r}): it is "
                    f"the first pattern in order that matches{skipped}; CloudFront applies the "
                    "first match and never looks further."
                )
        if not self.behaviors:
            reason = "the distribution has no other cache behaviors"
        else:
            reason = f"none of the {len(self.behaviors)} path patterns matches it"
        return (
            f"{subject} is served by the default cache behavior (origin "
            f"{self.default_behavior.target_origin_id!r}): {reason}."
        )


# --- path patterns ----------------------------------------------------------------------------

# The longest path pattern CloudFront takes, and the characters it allows ("Path pattern" in
# "Values that you specify when you create or update a distribution"): A-Z a-z 0-9
# _ - . * $ / ~ " ' @ : + and &, plus the ? wildcard the same page documents.
MAX_PATH_PATTERN = 255
PATH_PATTERN_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.*$/~\"'@:+&?"
)


def normalize_pattern(pattern: str) -> str:
    """The pattern with its leading ``/``: CloudFront behaves the same with or without it."""
    return pattern if pattern.startswith("/") else "/" + pattern


def path_without_query(path: str) -> str:
    """The URI path alone: CloudFront ignores query strings when matching patterns."""
    return path.split("?", 1)[0]


def path_matches(pattern: str, path: str) -> bool:
    """Whether CloudFront's path ``pattern`` matches the request ``path``.

    ``*`` matches any run of characters (``/`` included), ``?`` exactly one; everything
    else matches itself, case-sensitively, and the pattern must cover the whole path (a
    pattern without wildcards names one path). No backtracking: the pieces between stars
    are placed leftmost, in order, which is enough for ``*`` and ``?`` alone, so the cost
    is at most len(path) x len(pattern), and a pattern is at most 255 characters.
    """
    path = path_without_query(path)
    if not path.startswith("/"):
        path = "/" + path
    pieces = _pieces(pattern)
    if len(pieces) == 1:
        return len(path) == len(pieces[0]) and _fits(pieces[0], path, 0)
    head, *middle, tail = pieces
    if len(head) + len(tail) > len(path):
        return False
    if not _fits(head, path, 0) or not _fits(tail, path, len(path) - len(tail)):
        return False
    at, end = len(head), len(path) - len(tail)
    for piece in middle:
        if not piece:
            continue  # "**" is one star
        found = _find(piece, path, at, end)
        if found < 0:
            return False
        at = found + len(piece)
    return True


@functools.lru_cache(maxsize=1024)
def _pieces(pattern: str) -> tuple[str, ...]:
    """The pattern (with its leading /) split at its stars; a replayed log asks the same few
    patterns again and again."""
    return tuple(normalize_pattern(pattern).split("*"))


def _fits(piece: str, text: str, at: int) -> bool:
    """Whether ``piece`` (with ``?`` for any one character) matches ``text`` at ``at``."""
    if "?" not in piece:
        return text.startswith(piece, at)
    if at + len(piece) > len(text):
        return False
    return all(p == "?" or p == text[at + i] for i, p in enumerate(piece))


def _find(piece: str, text: str, start: int, end: int) -> int:
    """The first index >= start where ``piece`` fits and ends by ``end``, or -1."""
    if "?" not in piece:
        return text.find(piece, start, end)
    # Anchor on the piece's literal run that is rarest in the text (str.count and str.find
    # run in C), then check the rest at each place it occurs: a run the text lacks ends the
    # search at once, whatever the ? around it.
    runs = [(m.start(), m.group()) for m in re.finditer(r"[^?]+", piece)]
    if not runs:
        return start if end - start >= len(piece) else -1
    counts = {literal: text.count(literal, start, end) for literal in {run for _, run in runs}}
    offset, literal = min(runs, key=lambda run: (counts[run[1]], -len(run[1])))
    if counts[literal] == 0:
        return -1
    candidate = text.find(literal, start + offset, end)
    while candidate >= 0:
        at = candidate - offset
        if at + len(piece) > end:
            return -1
        if _fits(piece, text, at):
            return at
        candidate = text.find(literal, candidate + 1, end)
    return -1


def check_path_pattern(pattern: str) -> str | None:
    """What CloudFront would say about ``pattern``, or None when it is acceptable."""
    if not pattern:
        return "The parameter PathPattern cannot be empty."
    if len(pattern) > MAX_PATH_PATTERN:
        return (
            f"The parameter PathPattern is {len(pattern)} characters long; the maximum is "
            f"{MAX_PATH_PATTERN}."
        )
    bad = sorted({c for c in pattern if c not in PATH_PATTERN_CHARS})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        return (
            f"The parameter PathPattern contains characters that are not allowed: {shown}. "
            "Allowed: A-Z a-z 0-9 _ - . * ? $ / ~ \" ' @ : + & (patterns are case-sensitive)."
        )
    return None


# --- the API's shapes -------------------------------------------------------------------------


def service_model():
    """CloudFront's API model (its request shapes)."""
    return botomodel.service_model("cloudfront")


def validate_shape(value: Any, operation: str, member: str, at: str) -> None:
    """botocore's parameter validation of ``value`` as ``operation``'s input member
    ``member`` (found at JSON path ``at``), then the enum values botocore leaves to the
    service. The first problem is raised with its JSON path."""
    from botocore.validate import ParamValidator

    shape = service_model().operation_model(operation).input_shape
    report = ParamValidator().validate({member: value}, shape)
    if report.has_errors():
        error_type, name, extra = report._errors[0]  # botocore keeps the report's parts here
        name = name.lstrip(".")
        parent = _join(at, name.split(".", 1)[1] if "." in name else "")
        path = parent
        if error_type == "missing required field":
            path = _join(parent, extra["required_name"])
        elif error_type == "unknown field":
            path = _join(parent, extra["unknown_param"])
        message = report._format_error((error_type, name, extra))
        message = message.replace(f" {name}", f" {parent or member}", 1)
        raise EdgeConfigError(message, code="InvalidParameter", json_path=path or at)
    _check_enums(value, shape.members[member], at)


def _check_enums(value: Any, shape, path: str) -> None:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, Mapping):
        for key, member in shape.members.items():
            if key in value:
                _check_enums(value[key], member, _join(path, key))
    elif kind == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            _check_enums(item, shape.member, f"{path}[{i}]")
    elif kind == "string" and shape.enum and value not in shape.enum:
        raise EdgeConfigError(
            f"Value '{value}' at '{path}' failed to satisfy constraint: Member must satisfy "
            f"enum value set: [{', '.join(shape.enum)}]",
            code="InvalidArgument",
            json_path=path,
        )


def _join(base: str, key: str) -> str:
    if not key:
        return base
    if not base:
        return key
    return base + key if key.startswith("[") else f"{base}.{key}"


def check_quantities(value: Any, at: str) -> None:
    """CloudFront's lists carry ``Quantity`` beside ``Items``; it refuses a request where
    they disagree (InconsistentQuantities). Walked with a stack, not recursion."""
    stack: list[tuple[Any, str]] = [(value, at)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, Mapping):
            quantity = item.get("Quantity")
            if isinstance(quantity, int) and not isinstance(quantity, bool):
                items = item.get("Items")
                count = len(items) if isinstance(items, list) else 0
                if count != quantity:
                    where = _join(path, "Quantity")
                    raise EdgeConfigError(
                        f"The specified quantity of {path.rsplit('.', 1)[-1] or 'Items'} "
                        f"({quantity}) does not match the actual quantity supplied ({count}); "
                        "Quantity must equal the number of Items.",
                        code="InconsistentQuantities",
                        json_path=where,
                    )
            # Pushed in reverse so the first disagreement in the document is the one reported.
            for key, child in reversed(list(item.items())):
                stack.append((child, _join(path, str(key))))
        elif isinstance(item, list):
            for i in range(len(item) - 1, -1, -1):
                stack.append((item[i], f"{path}[{i}]"))


# --- loading ----------------------------------------------------------------------------------

# The three AllowedMethods sets CloudFront accepts, and the two CachedMethods sets
# ("Allowed HTTP methods" and "Cached HTTP methods" in the values page).
ALLOWED_METHOD_SETS = (
    frozenset({"GET", "HEAD"}),
    frozenset({"GET", "HEAD", "OPTIONS"}),
    frozenset({"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}),
)
CACHED_METHOD_SETS = (frozenset({"GET", "HEAD"}), frozenset({"GET", "HEAD", "OPTIONS"}))

# S3 REST endpoints (virtual-hosted, with or without the Region); website endpoints
# (bucket.s3-website-...) are custom origins and cannot use OAC.
S3_REST_DOMAIN = re.compile(r"\.s3(\.dualstack)?(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$")

# Legacy TTL defaults ("Minimum TTL", "Default TTL", "Maximum TTL" in the values page).
LEGACY_DEFAULT_TTL = 86400
LEGACY_MAX_TTL = 31536000


def unwrap(document: Mapping[str, Any]) -> tuple[Mapping[str, Any], str]:
    """The DistributionConfig inside any of the API's shapes, and its JSON path."""
    if isinstance(document.get("Distribution"), Mapping):
        inner = document["Distribution"]
        if isinstance(inner.get("DistributionConfig"), Mapping):
            return inner["DistributionConfig"], "Distribution.DistributionConfig"
    if isinstance(document.get("DistributionConfig"), Mapping):
        return document["DistributionConfig"], "DistributionConfig"
    return document, ""


def load_distribution(
    path_or_dict: str | Path | Mapping[str, Any],
) -> tuple[Distribution, tuple[str, ...]]:
    """Load and check a distribution; returns it and the warnings (messages that start
    with their JSON path). Raises :class:`EdgeConfigError` for what CloudFront refuses."""
    if isinstance(path_or_dict, Mapping):
        return _load(path_or_dict)
    from grader.aws.jsonfile import load_json

    document = load_json(path_or_dict, what="a CloudFront DistributionConfig (JSON object)")
    try:
        return _load(document)
    except EdgeConfigError as exc:
        raise EdgeConfigError(
            exc.message, code=exc.code, file=path_or_dict, json_path=exc.json_path
        ) from None


def _load(document: Mapping[str, Any]) -> tuple[Distribution, tuple[str, ...]]:
    config, at = unwrap(document)
    validate_shape(config, "CreateDistribution", "DistributionConfig", at)
    check_quantities(config, at)
    warnings: list[str] = []
    origins = _origins(config, at, warnings)
    groups = _origin_groups(config, at)
    targets = set(origins) | set(groups)
    default = _behavior(config["DefaultCacheBehavior"], None, _join(at, "DefaultCacheBehavior"))
    behaviors = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(_items(config.get("CacheBehaviors"))):
        where = _join(at, f"CacheBehaviors.Items[{i}]")
        problem = check_path_pattern(raw["PathPattern"])
        if problem:
            raise EdgeConfigError(
                problem, code="InvalidArgument", json_path=_join(where, "PathPattern")
            )
        key = normalize_pattern(raw["PathPattern"])
        if key in seen:
            raise EdgeConfigError(
                f"The path pattern {raw['PathPattern']!r} is used by more than one cache "
                f"behavior (first at {seen[key]}); each PathPattern must be unique (a leading "
                "/ makes no difference).",
                code="InvalidArgument",
                json_path=_join(where, "PathPattern"),
            )
        seen[key] = _join(where, "PathPattern")
        behaviors.append(_behavior(raw, raw["PathPattern"], where))
    for behavior in (*behaviors, default):
        if behavior.target_origin_id not in targets:
            raise EdgeConfigError(
                f"One or more of your origins or origin groups do not exist: "
                f"{behavior.name} has TargetOriginId {behavior.target_origin_id!r}; the "
                f"origins are {sorted(targets)}.",
                code="NoSuchOrigin",
                json_path=_join(behavior.json_path, "TargetOriginId"),
            )
    web_acl = config.get("WebACLId") or None
    distribution = Distribution(
        origins=origins,
        behaviors=tuple(behaviors),
        default_behavior=default,
        aliases=tuple(_items(config.get("Aliases"))),
        web_acl_id=web_acl,
        origin_groups=groups,
        enabled=bool(config.get("Enabled", True)),
        default_root_object=config.get("DefaultRootObject") or "",
        config=config,
    )
    return distribution, tuple(warnings)


def _items(container: Any) -> list:
    if isinstance(container, Mapping):
        return list(container.get("Items") or [])
    return []


def _origins(config: Mapping[str, Any], at: str, warnings: list[str]) -> dict[str, Origin]:
    origins: dict[str, Origin] = {}
    for i, raw in enumerate(_items(config["Origins"])):
        where = _join(at, f"Origins.Items[{i}]")
        if raw["Id"] in origins:
            raise EdgeConfigError(
                f"Two origins have the Id {raw['Id']!r}; origin Ids must be unique.",
                code="InvalidArgument",
                json_path=_join(where, "Id"),
            )
        domain = raw["DomainName"]
        s3_config = raw.get("S3OriginConfig")
        custom = raw.get("CustomOriginConfig")
        if s3_config is not None and custom is not None:
            raise EdgeConfigError(
                "Exactly one of CustomOriginConfig and S3OriginConfig must be specified.",
                code="InvalidArgument",
                json_path=where,
            )
        is_s3 = s3_config is not None or (
            custom is None and bool(S3_REST_DOMAIN.search(domain.lower()))
        )
        oac = raw.get("OriginAccessControlId") or None
        oai = (s3_config or {}).get("OriginAccessIdentity") or None
        if oac and oai:
            raise EdgeConfigError(
                "An origin cannot contain both an origin access control (OAC) and an origin "
                "access identity (OAI); keep OriginAccessControlId and set "
                "S3OriginConfig.OriginAccessIdentity to an empty string.",
                code="IllegalOriginAccessConfiguration",
                json_path=where,
            )
        if is_s3 and not oac:
            # A warning, not an error: CloudFront accepts an S3 origin without OAC (a public
            # bucket, or the legacy OAI), so a real export must still load; whether the
            # bucket is private to this distribution is the lab's question, judged elsewhere.
            how = f"it uses the legacy origin access identity {oai!r}" if oai else "nothing"
            warnings.append(
                f"{where}: S3 origin {raw['Id']!r} has no OriginAccessControlId ({how} "
                "restricts the bucket to CloudFront); AWS recommends origin access control "
                "(OAC) with a bucket policy that checks aws:SourceArn; OAI is legacy."
            )
        protocol = "match-viewer"
        if not is_s3 and custom is not None:
            protocol = custom.get("OriginProtocolPolicy", "match-viewer")
        origins[raw["Id"]] = Origin(
            id=raw["Id"],
            domain_name=domain,
            kind="s3" if is_s3 else "custom",
            origin_access_control_id=oac,
            origin_access_identity=oai,
            protocol_policy=protocol,
            origin_path=raw.get("OriginPath") or "",
        )
    return origins


def _origin_groups(config: Mapping[str, Any], at: str) -> dict[str, tuple[str, ...]]:
    groups: dict[str, tuple[str, ...]] = {}
    for raw in _items(config.get("OriginGroups")):
        members = tuple(m.get("OriginId", "") for m in _items(raw.get("Members")))
        groups[raw["Id"]] = members
    return groups


def _behavior(raw: Mapping[str, Any], pattern: str | None, where: str) -> Behavior:
    cache_policy = raw.get("CachePolicyId") or None
    origin_request_policy = raw.get("OriginRequestPolicyId") or None
    forwarded = raw.get("ForwardedValues")
    ttl_fields = [name for name in ("MinTTL", "DefaultTTL", "MaxTTL") if name in raw]
    if cache_policy and forwarded is not None:
        raise EdgeConfigError(
            "The parameter ForwardedValues cannot be used when a cache policy is associated "
            "to the cache behavior; a cache policy replaces the legacy cache settings "
            "(remove ForwardedValues, MinTTL, DefaultTTL and MaxTTL).",
            code="InvalidArgument",
            json_path=_join(where, "ForwardedValues"),
        )
    if cache_policy and ttl_fields:
        raise EdgeConfigError(
            f"The parameter {ttl_fields[0]} cannot be used when a cache policy is associated "
            "to the cache behavior; set TTLs in the cache policy instead.",
            code="InvalidArgument",
            json_path=_join(where, ttl_fields[0]),
        )
    if not cache_policy and forwarded is None:
        raise EdgeConfigError(
            "A cache behavior must include either a CachePolicyId or ForwardedValues "
            "(CachePolicyId is recommended).",
            code="InvalidArgument",
            json_path=_join(where, "CachePolicyId"),
        )
    if origin_request_policy and not cache_policy:
        raise EdgeConfigError(
            "An origin request policy needs a cache policy on the same cache behavior; "
            "add a CachePolicyId.",
            code="InvalidArgument",
            json_path=_join(where, "OriginRequestPolicyId"),
        )
    min_ttl = default_ttl = max_ttl = None
    if not cache_policy:
        min_ttl, default_ttl, max_ttl = legacy_ttls(raw, where)
    allowed, cached = _methods(raw, where)
    return Behavior(
        path_pattern=pattern,
        target_origin_id=raw["TargetOriginId"],
        viewer_protocol_policy=raw["ViewerProtocolPolicy"],
        allowed_methods=allowed,
        cached_methods=cached,
        compress=bool(raw.get("Compress", False)),
        cache_policy_id=cache_policy,
        origin_request_policy_id=origin_request_policy,
        response_headers_policy_id=raw.get("ResponseHeadersPolicyId") or None,
        forwarded_values=forwarded if not cache_policy else None,
        min_ttl=min_ttl,
        default_ttl=default_ttl,
        max_ttl=max_ttl,
        function_associations=tuple(
            (a["EventType"], a["FunctionARN"]) for a in _items(raw.get("FunctionAssociations"))
        ),
        lambda_function_associations=tuple(
            (a["EventType"], a["LambdaFunctionARN"])
            for a in _items(raw.get("LambdaFunctionAssociations"))
        ),
        json_path=where,
    )


def legacy_ttls(raw: Mapping[str, Any], where: str) -> tuple[int, int, int]:
    """MinTTL, DefaultTTL and MaxTTL of legacy cache settings, with CloudFront's defaults
    (DefaultTTL one day or MinTTL if larger; MaxTTL one year or DefaultTTL if larger), in
    order or InvalidTTLOrder."""
    min_ttl = int(raw.get("MinTTL", 0))
    default_ttl = int(raw.get("DefaultTTL", max(LEGACY_DEFAULT_TTL, min_ttl)))
    max_ttl = int(raw.get("MaxTTL", max(LEGACY_MAX_TTL, default_ttl)))
    if not min_ttl <= default_ttl <= max_ttl:
        raise EdgeConfigError(
            f"The TTL order specified is not valid: MinTTL ({min_ttl}) <= DefaultTTL "
            f"({default_ttl}) <= MaxTTL ({max_ttl}) must hold.",
            code="InvalidTTLOrder",
            json_path=_join(where, "MinTTL" if min_ttl > default_ttl else "MaxTTL"),
        )
    return min_ttl, default_ttl, max_ttl


def _methods(raw: Mapping[str, Any], where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    methods = raw.get("AllowedMethods")
    if not methods:
        return ("GET", "HEAD"), ("GET", "HEAD")
    allowed = tuple(_items(methods))
    cached = tuple(_items(methods.get("CachedMethods"))) or ("GET", "HEAD")
    if frozenset(allowed) not in ALLOWED_METHOD_SETS:
        raise EdgeConfigError(
            f"AllowedMethods {list(allowed)} is not one of the sets CloudFront accepts: "
            "[GET, HEAD], [GET, HEAD, OPTIONS], or all seven methods.",
            code="InvalidArgument",
            json_path=_join(where, "AllowedMethods.Items"),
        )
    if frozenset(cached) not in CACHED_METHOD_SETS or not set(cached) <= set(allowed):
        raise EdgeConfigError(
            f"CachedMethods {list(cached)} must be [GET, HEAD] or [GET, HEAD, OPTIONS], and "
            "only methods that are also allowed.",
            code="InvalidArgument",
            json_path=_join(where, "AllowedMethods.CachedMethods.Items"),
        )
    return allowed, cached
