"""What every validator check shares: the document, its policy type, where to report.

Kept apart from the checks so the condition checks (``validate_conditions``) and the rest
(``validate``) can both use it without importing each other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..catalog import Catalog
from ..model import PolicyType
from .findings import Finding, Location, make_finding
from .jsonpos import JsonPath, Locator
from .schema import Schema

TRUST_POLICY = "AWS::IAM::AssumeRolePolicyDocument"

# A Region code: us-east-1, us-gov-west-1, cn-north-1, us-isob-east-1, ap-southeast-5 ...
REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}")


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass
class ValidationRun:
    """One validation run: inputs, lookups and the findings gathered so far.
    ``policy_type`` is the type as Access Analyzer knows it: IDENTITY (also for a
    permissions boundary or a session policy), RESOURCE, SCP or RCP."""

    policy_type: PolicyType
    resource_type: str | None
    version: Any
    catalog: Catalog
    schema: Schema
    locator: Locator | None
    trust: bool = False  # a role trust policy (given, or inferred from its actions)
    findings: list[Finding] = field(default_factory=list)

    def location(self, path: JsonPath, key: bool = False) -> Location:
        """Access Analyzer's path for ``path``; ``key`` points at the last key itself."""
        elements = []
        for i, item in enumerate(path):
            if isinstance(item, int):
                elements.append(("index", item))
            else:
                last = i == len(path) - 1
                elements.append(("key" if key and last else "value", item))
        span = None
        if self.locator is not None:
            span = self.locator.key_span(path) if key else self.locator.value_span(path)
        return Location(tuple(elements), span)

    def add(
        self,
        code: str,
        path: JsonPath,
        statement: StatementView | None = None,
        *,
        at_key: bool = False,
        **fields: Any,
    ) -> None:
        """Report ``code`` at ``path`` (at its key with ``at_key``); ``fields`` fill the text."""
        self.findings.append(
            make_finding(
                code,
                (self.location(path, at_key),),
                statement.index if statement else None,
                statement.sid if statement else None,
                **fields,
            )
        )


@dataclass(frozen=True)
class StatementView:
    """One statement as written, with the path that reaches it."""

    index: int
    raw: Mapping[str, Any]
    path: JsonPath

    @property
    def sid(self) -> str | None:
        sid = self.raw.get("Sid")
        return sid if isinstance(sid, str) and sid else None

    @property
    def effect(self) -> Any:
        return self.raw.get("Effect")

    def strings(self, element: str) -> list[str]:
        """The element's entries when it is a string or list of strings, else []."""
        value = self.raw.get(element)
        if isinstance(value, str):
            return [value]
        if isinstance(value, list):
            return [v for v in value if isinstance(v, str)]
        return []

    def entries(self, element: str) -> list[tuple[str, JsonPath]]:
        """(entry, path) for each string entry of Action/Resource-like elements."""
        value = self.raw.get(element)
        if isinstance(value, str):
            return [(value, (*self.path, element))]
        if isinstance(value, list):
            return [
                (v, (*self.path, element, i)) for i, v in enumerate(value) if isinstance(v, str)
            ]
        return []

    def condition_keys(self) -> set[str]:
        """Every condition key of the statement, casefolded."""
        condition = self.raw.get("Condition")
        keys: set[str] = set()
        if isinstance(condition, Mapping):
            for block in condition.values():
                if isinstance(block, Mapping):
                    keys.update(k.casefold() for k in block)
        return keys
