"""Cache policies and origin request policies: AWS's managed ones as a data table, the
learner's own from a file, and one store that finds either by ID or by name.

Every policy is kept as the API shapes it (a ``CachePolicyConfig`` or an
``OriginRequestPolicyConfig`` dict), because that is what the cache-key and TTL code reads.

Sources: "Use managed cache policies", https://docs.aws.amazon.com/AmazonCloudFront/latest/
DeveloperGuide/using-managed-cache-policies.html; "Use managed origin request policies",
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/
using-managed-origin-request-policies.html; botocore's CloudFront model (CreateCachePolicy,
CreateOriginRequestPolicy); "How do I configure CloudFront to forward the Authorization
header to the origin?", https://repost.aws/knowledge-center/cloudfront-authorization-header.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.aws.edge.distribution import (
    Distribution,
    EdgeConfigError,
    _join,
    check_quantities,
    validate_shape,
)

# --- the managed policies ---------------------------------------------------------------------

ONE_YEAR = 31_536_000


def _names(items: list[str]) -> dict[str, Any]:
    return {"Quantity": len(items), "Items": list(items)} if items else {"Quantity": 0}


def _cache_policy(
    name: str,
    comment: str,
    ttls: tuple[int, int, int],
    *,
    headers: list[str] = (),  # type: ignore[assignment]
    cookies: str = "none",
    query_strings: str = "none",
    query_string_names: list[str] = (),  # type: ignore[assignment]
    gzip: bool,
    brotli: bool,
) -> dict[str, Any]:
    """A CachePolicyConfig in the API's shape; ``ttls`` is (MinTTL, DefaultTTL, MaxTTL)."""
    min_ttl, default_ttl, max_ttl = ttls
    return {
        "Name": name,
        "Comment": comment,
        "MinTTL": min_ttl,
        "DefaultTTL": default_ttl,
        "MaxTTL": max_ttl,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": gzip,
            "EnableAcceptEncodingBrotli": brotli,
            "HeadersConfig": {
                "HeaderBehavior": "whitelist" if headers else "none",
                **({"Headers": _names(list(headers))} if headers else {}),
            },
            "CookiesConfig": {"CookieBehavior": cookies},
            "QueryStringsConfig": {
                "QueryStringBehavior": query_strings,
                **(
                    {"QueryStrings": _names(list(query_string_names))} if query_string_names else {}
                ),
            },
        },
    }


def _origin_request_policy(
    name: str,
    comment: str,
    *,
    header_behavior: str,
    headers: list[str] = (),  # type: ignore[assignment]
    cookies: str = "none",
    query_strings: str = "none",
) -> dict[str, Any]:
    """An OriginRequestPolicyConfig in the API's shape."""
    return {
        "Name": name,
        "Comment": comment,
        "HeadersConfig": {
            "HeaderBehavior": header_behavior,
            **({"Headers": _names(list(headers))} if headers else {}),
        },
        "CookiesConfig": {"CookieBehavior": cookies},
        "QueryStringsConfig": {"QueryStringBehavior": query_strings},
    }


# The headers the UseOriginCacheControlHeaders policies put in the cache key.
_ORIGIN_CACHE_CONTROL_HEADERS = [
    "Host",
    "Origin",
    "X-HTTP-Method-Override",
    "X-HTTP-Method",
    "X-Method-Override",
]

# AWS's managed cache policies by ID. Names are the API's (most start "Managed-"; the two
# UseOriginCacheControlHeaders policies do not). Settings as "Use managed cache policies"
# lists them (URL above), each entry under its section there.
MANAGED_CACHE_POLICIES: dict[str, dict[str, Any]] = {
    # Section "Amplify".
    "2e54312d-136d-493c-8eb9-b001f22f67d2": _cache_policy(
        "Managed-Amplify",
        "Policy for Amplify Origin",
        (2, 2, 600),
        headers=["Authorization", "CloudFront-Viewer-Country", "Host"],
        cookies="all",
        query_strings="all",
        gzip=True,
        brotli=True,
    ),
    # Section "CachingDisabled".
    "4135ea2d-6df8-44a3-9df3-4b5a84be39ad": _cache_policy(
        "Managed-CachingDisabled",
        "Policy with caching disabled",
        (0, 0, 0),
        gzip=False,
        brotli=False,
    ),
    # Section "CachingOptimized".
    "658327ea-f89d-4fab-a63d-7e88639e58f6": _cache_policy(
        "Managed-CachingOptimized",
        "Policy with caching enabled. Supports Gzip and Brotli compression.",
        (1, 86400, ONE_YEAR),
        gzip=True,
        brotli=True,
    ),
    # Section "CachingOptimizedForUncompressedObjects".
    "b2884449-e4de-46a7-ac36-70bc7f1ddd6d": _cache_policy(
        "Managed-CachingOptimizedForUncompressedObjects",
        "Default policy when compression is disabled",
        (1, 86400, ONE_YEAR),
        gzip=False,
        brotli=False,
    ),
    # Section "Elemental-MediaPackage" (compressed objects: Gzip only).
    "08627262-05a9-4f76-9ded-b50ca2e3a84f": _cache_policy(
        "Managed-Elemental-MediaPackage",
        "Policy for Elemental MediaPackage Origin",
        (0, 86400, ONE_YEAR),
        headers=["Origin"],
        query_strings="whitelist",
        query_string_names=["aws.manifestfilter", "start", "end", "m"],
        gzip=True,
        brotli=False,
    ),
    # Section "UseOriginCacheControlHeaders" (on the live page; the course's reference copy
    # predates it): TTL from the origin's headers, nothing cached without them.
    "83da9c7e-98b4-4e11-a168-04f0df8e2c65": _cache_policy(
        "UseOriginCacheControlHeaders",
        "Policy for origins that return Cache-Control headers. Query strings are not "
        "included in the cache key.",
        (0, 0, ONE_YEAR),
        headers=_ORIGIN_CACHE_CONTROL_HEADERS,
        cookies="all",
        gzip=True,
        brotli=True,
    ),
    # Section "UseOriginCacheControlHeaders-QueryStrings" (live page, as above).
    "4cc15a8a-d715-48a4-82b8-cc0b614638fe": _cache_policy(
        "UseOriginCacheControlHeaders-QueryStrings",
        "Policy for origins that return Cache-Control headers and serve different content "
        "based on query strings.",
        (0, 0, ONE_YEAR),
        headers=_ORIGIN_CACHE_CONTROL_HEADERS,
        cookies="all",
        query_strings="all",
        gzip=True,
        brotli=True,
    ),
}

# The CloudFront headers AllViewerAndCloudFrontHeaders-2022-06 adds (its section lists them).
_CLOUDFRONT_HEADERS_2022_06 = [
    "CloudFront-Forwarded-Proto",
    "CloudFront-Is-Android-Viewer",
    "CloudFront-Is-Desktop-Viewer",
    "CloudFront-Is-IOS-Viewer",
    "CloudFront-Is-Mobile-Viewer",
    "CloudFront-Is-SmartTV-Viewer",
    "CloudFront-Is-Tablet-Viewer",
    "CloudFront-Viewer-Address",
    "CloudFront-Viewer-ASN",
    "CloudFront-Viewer-City",
    "CloudFront-Viewer-Country",
    "CloudFront-Viewer-Country-Name",
    "CloudFront-Viewer-Country-Region",
    "CloudFront-Viewer-Country-Region-Name",
    "CloudFront-Viewer-Http-Version",
    "CloudFront-Viewer-Latitude",
    "CloudFront-Viewer-Longitude",
    "CloudFront-Viewer-Metro-Code",
    "CloudFront-Viewer-Postal-Code",
    "CloudFront-Viewer-Time-Zone",
    "CloudFront-Viewer-TLS",
]

# AWS's managed origin request policies by ID, from "Use managed origin request policies"
# (URL above), each entry under its section there.
MANAGED_ORIGIN_REQUEST_POLICIES: dict[str, dict[str, Any]] = {
    # Section "AllViewer".
    "216adef6-5c7f-47e4-b989-5492eafa07d3": _origin_request_policy(
        "Managed-AllViewer",
        "Policy to forward all parameters in viewer requests",
        header_behavior="allViewer",
        cookies="all",
        query_strings="all",
    ),
    # Section "AllViewerAndCloudFrontHeaders-2022-06".
    "33f36d7e-f396-46d9-90e0-52428a34d9dc": _origin_request_policy(
        "Managed-AllViewerAndCloudFrontHeaders-2022-06",
        "Policy to forward all parameters in viewer requests and all CloudFront headers "
        "released through June 2022",
        header_behavior="allViewerAndWhitelistCloudFront",
        headers=_CLOUDFRONT_HEADERS_2022_06,
        cookies="all",
        query_strings="all",
    ),
    # Section "AllViewerExceptHostHeader" (CloudFront then sends the origin's own Host).
    "b689b0a8-53d0-40ab-baf2-68738e2966ac": _origin_request_policy(
        "Managed-AllViewerExceptHostHeader",
        "Policy to forward all parameters in viewer requests except for the Host header",
        header_behavior="allExcept",
        headers=["Host"],
        cookies="all",
        query_strings="all",
    ),
    # Section "CORS-CustomOrigin".
    "59781a5b-3903-41f3-afcb-af62929ccde1": _origin_request_policy(
        "Managed-CORS-CustomOrigin",
        "Policy for allowing CORS requests for a custom origin",
        header_behavior="whitelist",
        headers=["Origin"],
    ),
    # Section "CORS-S3Origin".
    "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf": _origin_request_policy(
        "Managed-CORS-S3Origin",
        "Policy for allowing CORS requests for an S3 origin",
        header_behavior="whitelist",
        headers=["Origin", "Access-Control-Request-Headers", "Access-Control-Request-Method"],
    ),
    # Section "Elemental-MediaTailor-PersonalizedManifests".
    "775133bc-15f2-49f9-abea-afb2e0bf67d2": _origin_request_policy(
        "Managed-Elemental-MediaTailor-PersonalizedManifests",
        "Policy for Elemental MediaTailor personalized manifests",
        header_behavior="whitelist",
        headers=[
            "Origin",
            "Access-Control-Request-Headers",
            "Access-Control-Request-Method",
            "User-Agent",
            "X-Forwarded-For",
        ],
        query_strings="all",
    ),
    # Section "HostHeaderOnly" (on the live page; the course's reference copy predates it).
    "bf0718e1-ba1e-49d1-88b1-f726733018ae": _origin_request_policy(
        "Managed-HostHeaderOnly",
        "Policy to forward only the Host header",
        header_behavior="whitelist",
        headers=["Host"],
    ),
    # Section "UserAgentRefererHeaders".
    "acba4595-bd28-49b8-b9fe-13317c0390fa": _origin_request_policy(
        "Managed-UserAgentRefererHeaders",
        "Policy for forwarding user-agent and referer headers",
        header_behavior="whitelist",
        headers=["User-Agent", "Referer"],
    ),
}


def _by_name(table: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Name -> ID, under the API's name and the console's (without "Managed-")."""
    names: dict[str, str] = {}
    for policy_id, config in table.items():
        names[config["Name"]] = policy_id
        names[config["Name"].removeprefix("Managed-")] = policy_id
    return names


MANAGED_CACHE_POLICY_IDS = _by_name(MANAGED_CACHE_POLICIES)
MANAGED_ORIGIN_REQUEST_POLICY_IDS = _by_name(MANAGED_ORIGIN_REQUEST_POLICIES)


# --- the store --------------------------------------------------------------------------------


class UnknownPolicyError(EdgeConfigError, KeyError):
    """A policy ID (or name) that is neither managed nor the learner's own. A KeyError too,
    so ``except KeyError`` callers keep working."""

    def __str__(self) -> str:  # KeyError would quote the message
        return Exception.__str__(self)


@dataclass(frozen=True)
class PolicyStore:
    """The learner's own policies (ID -> API-shape config) beside AWS's managed ones."""

    cache_policies: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    origin_request_policies: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def cache_policy(self, id_or_name: str, behavior: str | None = None) -> dict[str, Any]:
        """The CachePolicyConfig for an ID or a name, managed or own."""
        return self._find(
            id_or_name,
            self.cache_policies,
            MANAGED_CACHE_POLICIES,
            MANAGED_CACHE_POLICY_IDS,
            "NoSuchCachePolicy",
            "cache policy",
            behavior,
        )

    def origin_request_policy(self, id_or_name: str, behavior: str | None = None) -> dict[str, Any]:
        """The OriginRequestPolicyConfig for an ID or a name, managed or own."""
        return self._find(
            id_or_name,
            self.origin_request_policies,
            MANAGED_ORIGIN_REQUEST_POLICIES,
            MANAGED_ORIGIN_REQUEST_POLICY_IDS,
            "NoSuchOriginRequestPolicy",
            "origin request policy",
            behavior,
        )

    def has_cache_policy(self, id_or_name: str) -> bool:
        try:
            self.cache_policy(id_or_name)
        except UnknownPolicyError:
            return False
        return True

    def has_origin_request_policy(self, id_or_name: str) -> bool:
        try:
            self.origin_request_policy(id_or_name)
        except UnknownPolicyError:
            return False
        return True

    @staticmethod
    def _find(key, own, managed, managed_names, code, kind, behavior) -> dict[str, Any]:
        # Deep copies: a caller that edits its answer must not change the table.
        if key in own:
            return copy.deepcopy(dict(own[key]))
        if key in managed:
            return copy.deepcopy(managed[key])
        for config in own.values():
            if config.get("Name") == key:
                return copy.deepcopy(dict(config))
        if key in managed_names:
            return copy.deepcopy(managed[managed_names[key]])
        who = f"{behavior} names" if behavior else "asked for"
        raise UnknownPolicyError(
            f"The {kind} does not exist: {who} {key!r}, which is neither an AWS managed "
            f"{kind} nor one in your policies file.",
            code=code,
        )


EMPTY_STORE = PolicyStore()


def load_policies(path_or_dict: str | Path | Mapping[str, Any]) -> PolicyStore:
    """The learner's policies file: ``{"CachePolicies": [...], "OriginRequestPolicies":
    [...]}``, each item a ``*PolicyConfig`` with an ``Id`` beside it, or the
    ``{"CachePolicy": {"Id": ..., "CachePolicyConfig": ...}}`` shape get_cache_policy
    returns. Every config is checked as CloudFront would; raises EdgeConfigError."""
    if isinstance(path_or_dict, Mapping):
        return _load(path_or_dict)
    from grader.aws.jsonfile import load_json

    document = load_json(path_or_dict, what="a JSON object with CachePolicies")
    try:
        return _load(document)
    except EdgeConfigError as exc:
        raise type(exc)(
            exc.message, code=exc.code, file=path_or_dict, json_path=exc.json_path
        ) from None


_KINDS = (
    # list key, get_* wrapper, config key, create operation, managed table
    ("CachePolicies", "CachePolicy", "CachePolicyConfig", "CreateCachePolicy"),
    (
        "OriginRequestPolicies",
        "OriginRequestPolicy",
        "OriginRequestPolicyConfig",
        "CreateOriginRequestPolicy",
    ),
)


def _load(document: Mapping[str, Any]) -> PolicyStore:
    unknown = sorted(set(document) - {"CachePolicies", "OriginRequestPolicies"})
    if unknown:
        raise EdgeConfigError(
            f"Unknown key {unknown[0]!r}; the policies file holds CachePolicies and "
            "OriginRequestPolicies lists.",
            code="InvalidArgument",
            json_path=unknown[0],
        )
    found: list[dict[str, Mapping[str, Any]]] = []
    for list_key, wrapper, config_key, operation in _KINDS:
        items = document.get(list_key, [])
        if not isinstance(items, list):
            raise EdgeConfigError(
                f"{list_key} must be a list of policies.",
                code="InvalidArgument",
                json_path=list_key,
            )
        policies: dict[str, Mapping[str, Any]] = {}
        names: dict[str, str] = {}
        for i, item in enumerate(items):
            at = f"{list_key}[{i}]"
            policy_id, config, config_at = _unwrap_policy(item, wrapper, config_key, at)
            validate_shape(config, operation, config_key, config_at)
            check_quantities(config, config_at)
            if list_key == "CachePolicies":
                check_cache_policy(config, config_at)
            else:
                check_origin_request_policy(config, config_at)
            managed = (
                MANAGED_CACHE_POLICIES
                if list_key == "CachePolicies"
                else MANAGED_ORIGIN_REQUEST_POLICIES
            )
            if policy_id in policies or policy_id in managed:
                raise EdgeConfigError(
                    f"The Id {policy_id!r} is used twice (or by an AWS managed policy); "
                    "each policy needs its own Id.",
                    code="InvalidArgument",
                    json_path=_id_path(item, wrapper, at),
                )
            if config["Name"] in names:
                raise EdgeConfigError(
                    f"A policy named {config['Name']!r} already exists (at "
                    f"{names[config['Name']]}); names must be unique.",
                    code=f"{wrapper}AlreadyExists",
                    json_path=_join(config_at, "Name"),
                )
            names[config["Name"]] = config_at
            policies[policy_id] = config
        found.append(policies)
    return PolicyStore(cache_policies=found[0], origin_request_policies=found[1])


def _id_path(item: Mapping[str, Any], wrapper: str, at: str) -> str:
    return f"{at}.{wrapper}.Id" if wrapper in item else f"{at}.Id"


def _unwrap_policy(
    item: Any, wrapper: str, config_key: str, at: str
) -> tuple[str, Mapping[str, Any], str]:
    """(Id, config, the config's JSON path) from either accepted shape."""
    if not isinstance(item, Mapping):
        raise EdgeConfigError(
            f"Each item must be an object holding {config_key} and Id.",
            code="InvalidArgument",
            json_path=at,
        )
    holder, holder_at = item, at
    if isinstance(item.get(wrapper), Mapping):  # get_cache_policy's answer
        holder, holder_at = item[wrapper], f"{at}.{wrapper}"
    policy_id = holder.get("Id")
    if not isinstance(policy_id, str) or not policy_id:
        raise EdgeConfigError(
            f"Each policy needs an Id (a string of your choice) beside its {config_key}.",
            code="InvalidArgument",
            json_path=f"{holder_at}.Id",
        )
    if isinstance(holder.get(config_key), Mapping):
        return policy_id, holder[config_key], f"{holder_at}.{config_key}"
    if holder is not item:
        raise EdgeConfigError(
            f"{wrapper} needs a {config_key}.",
            code="InvalidArgument",
            json_path=f"{holder_at}.{config_key}",
        )
    # The bare config with its Id beside the create_* fields.
    config = {k: v for k, v in item.items() if k != "Id"}
    return policy_id, config, at


# --- CloudFront's own rules -------------------------------------------------------------------

# Cache policy TTL defaults (CachePolicyConfig in the API reference): DefaultTTL one day or
# MinTTL if larger; MaxTTL one year or DefaultTTL if larger.
DEFAULT_TTL = 86400
MAX_TTL = ONE_YEAR


def cache_policy_ttls(config: Mapping[str, Any]) -> tuple[int, int, int]:
    """(MinTTL, DefaultTTL, MaxTTL) of a CachePolicyConfig, with the API's defaults."""
    min_ttl = int(config.get("MinTTL", 0))
    default_ttl = int(config.get("DefaultTTL", max(DEFAULT_TTL, min_ttl)))
    max_ttl = int(config.get("MaxTTL", max(MAX_TTL, default_ttl)))
    return min_ttl, default_ttl, max_ttl


# Which behaviors need a list of names, and which must not have one.
_LIST_REQUIRED = {"whitelist", "allExcept"}
_LIST_ALLOWED_EMPTY = {"allViewerAndWhitelistCloudFront"}


def check_cache_policy(config: Mapping[str, Any], at: str = "") -> None:
    """CloudFront's rules for a CachePolicyConfig beyond its shape."""
    min_ttl, default_ttl, max_ttl = cache_policy_ttls(config)
    if not min_ttl <= default_ttl <= max_ttl:
        raise EdgeConfigError(
            f"The TTL values are not in order: MinTTL ({min_ttl}) <= DefaultTTL "
            f"({default_ttl}) <= MaxTTL ({max_ttl}) must hold.",
            code="InvalidArgument",
            json_path=_join(at, "MinTTL" if min_ttl > default_ttl else "MaxTTL"),
        )
    params = config.get("ParametersInCacheKeyAndForwardedToOrigin")
    if params is None:
        return
    where = _join(at, "ParametersInCacheKeyAndForwardedToOrigin")
    compression = [
        name
        for name in ("EnableAcceptEncodingGzip", "EnableAcceptEncodingBrotli")
        if params.get(name)
    ]
    if max_ttl == 0 and compression:
        # All TTLs 0 is "caching disabled"; compressed objects are cached objects, so the
        # API refuses the setting with exactly this message (reported by users deploying it).
        raise EdgeConfigError(
            f"The parameter {compression[0]} is invalid for policy with caching disabled.",
            code="InvalidArgument",
            json_path=_join(where, compression[0]),
        )
    headers = params["HeadersConfig"]
    if compression and headers.get("HeaderBehavior") == "whitelist":
        for i, name in enumerate((headers.get("Headers") or {}).get("Items") or []):
            if isinstance(name, str) and name.lower() == "accept-encoding":
                # With compression support on, CloudFront puts the normalized
                # Accept-Encoding in the key itself and refuses it in the list (HTTP 400).
                raise EdgeConfigError(
                    "The parameter Headers contains Accept-Encoding, which cannot be listed "
                    f"while {compression[0]} is true: CloudFront already adds the normalized "
                    "Accept-Encoding to the cache key.",
                    code="InvalidArgument",
                    json_path=_join(where, f"HeadersConfig.Headers.Items[{i}]"),
                )
    _check_names(params["HeadersConfig"], "HeaderBehavior", "Headers", where, "HeadersConfig")
    _check_names(params["CookiesConfig"], "CookieBehavior", "Cookies", where, "CookiesConfig")
    _check_names(
        params["QueryStringsConfig"],
        "QueryStringBehavior",
        "QueryStrings",
        where,
        "QueryStringsConfig",
    )


def check_origin_request_policy(config: Mapping[str, Any], at: str = "") -> None:
    """CloudFront's rules for an OriginRequestPolicyConfig beyond its shape, including the
    Authorization header, which an origin request policy may not forward: it must be in
    the cache key, so a cached answer never goes to a viewer who did not send it
    (CloudFront answers HTTP 400; see the re:Post article in the module docstring)."""
    headers = config["HeadersConfig"]
    _check_names(headers, "HeaderBehavior", "Headers", at, "HeadersConfig")
    _check_names(config["CookiesConfig"], "CookieBehavior", "Cookies", at, "CookiesConfig")
    _check_names(
        config["QueryStringsConfig"],
        "QueryStringBehavior",
        "QueryStrings",
        at,
        "QueryStringsConfig",
    )
    if headers["HeaderBehavior"] in {"whitelist", "allViewerAndWhitelistCloudFront"}:
        items = (headers.get("Headers") or {}).get("Items") or []
        for i, name in enumerate(items):
            if isinstance(name, str) and name.lower() == "authorization":
                raise EdgeConfigError(
                    "The parameter Headers contains Authorization, which an origin request "
                    "policy cannot forward; include Authorization in the cache policy's "
                    "cache key instead (it is then forwarded to the origin too).",
                    code="InvalidArgument",
                    json_path=_join(at, f"HeadersConfig.Headers.Items[{i}]"),
                )


def _check_names(part: Mapping[str, Any], behavior_key: str, list_key: str, at, name) -> None:
    where = _join(at, name)
    behavior = part[behavior_key]
    items = (part.get(list_key) or {}).get("Items") or []
    if behavior in _LIST_REQUIRED and not items:
        raise EdgeConfigError(
            f"{behavior_key} {behavior!r} needs at least one name in {list_key}.Items.",
            code="InvalidArgument",
            json_path=_join(where, list_key),
        )
    if behavior not in _LIST_REQUIRED | _LIST_ALLOWED_EMPTY and items:
        raise EdgeConfigError(
            f"{behavior_key} {behavior!r} takes no names, but {list_key}.Items lists "
            f"{len(items)}; use 'whitelist' (or 'allExcept') to name them.",
            code="InvalidArgument",
            json_path=_join(where, f"{list_key}.Items"),
        )


# --- references -------------------------------------------------------------------------------


def check_references(distribution: Distribution, store: PolicyStore) -> list[str]:
    """Problems with the policies the behaviors name: one that exists nowhere (neither
    managed nor in the learner's file). Each message starts with its JSON path."""
    problems: list[str] = []
    for behavior in distribution.all_behaviors:
        checks = (
            ("CachePolicyId", behavior.cache_policy_id, store.has_cache_policy, "cache"),
            (
                "OriginRequestPolicyId",
                behavior.origin_request_policy_id,
                store.has_origin_request_policy,
                "origin request",
            ),
        )
        for key, policy_id, exists, kind in checks:
            if policy_id and not exists(policy_id):
                problems.append(
                    f"{_join(behavior.json_path, key)}: {behavior.name} names {kind} policy "
                    f"{policy_id!r}, which is neither an AWS managed {kind} policy nor one in "
                    "your policies file."
                )
    return problems
