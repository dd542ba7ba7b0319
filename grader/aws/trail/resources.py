"""The resource ARNs a CloudTrail record names, to scope a generated policy by hand.

Access Analyzer leaves ``Resource`` as ``*`` and says resources are yours to fill in; the
records usually say which bucket, function or key was touched, in the ``resources`` element
(data events and some management events) or in ``requestParameters``. This module turns
both into ARNs in the format the Service Authorization Reference gives each resource type.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .records import Record, identity
from .sources import prefix_for_source

Builder = Callable[[str, str, str, Any], list[str]]


def partition(region: str) -> str:
    """The ARN partition of a region (``cn-north-1`` -> ``aws-cn``)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v]
    return []


def _bucket(p: str, region: str, account: str, value: Any) -> list[str]:
    return [f"arn:{p}:s3:::{name}" for name in _strings(value)]


def _function(p: str, region: str, account: str, value: Any) -> list[str]:
    out = []
    for name in _strings(value):
        if name.startswith("arn:"):
            out.append(":".join(name.split(":")[:7]))  # drop a version or alias qualifier
        else:
            out.append(f"arn:{p}:lambda:{region}:{account}:function:{name.split(':')[0]}")
    return out


def _parameter(p: str, region: str, account: str, value: Any) -> list[str]:
    return [
        n if n.startswith("arn:") else f"arn:{p}:ssm:{region}:{account}:parameter/{n.lstrip('/')}"
        for n in _strings(value)
    ]


def _key(p: str, region: str, account: str, value: Any) -> list[str]:
    out = []
    for key in _strings(value):
        if key.startswith("arn:"):
            out.append(key)
        elif key.startswith("alias/"):
            out.append(f"arn:{p}:kms:{region}:{account}:{key}")
        else:
            out.append(f"arn:{p}:kms:{region}:{account}:key/{key}")
    return out


def _stack(p: str, region: str, account: str, value: Any) -> list[str]:
    return [
        n if n.startswith("arn:") else f"arn:{p}:cloudformation:{region}:{account}:stack/{n}/*"
        for n in _strings(value)
    ]


def _log_group(p: str, region: str, account: str, value: Any) -> list[str]:
    return [f"arn:{p}:logs:{region}:{account}:log-group:{n}" for n in _strings(value)]


def _role(p: str, region: str, account: str, value: Any) -> list[str]:
    return [f"arn:{p}:iam::{account}:role/{n}" for n in _strings(value)]


def _instance(p: str, region: str, account: str, value: Any) -> list[str]:
    return [f"arn:{p}:ec2:{region}:{account}:instance/{n}" for n in _strings(value)]


def _secret(p: str, region: str, account: str, value: Any) -> list[str]:
    return [n for n in _strings(value) if n.startswith("arn:")]


def _alarm(p: str, region: str, account: str, value: Any) -> list[str]:
    return [f"arn:{p}:cloudwatch:{region}:{account}:alarm:{n}" for n in _strings(value)]


# requestParameters field -> ARN builder, by the service that uses the field.
# ARN formats: "Resource types defined by ..." in the Service Authorization Reference.
PARAMETER_ARNS: dict[str, dict[str, Builder]] = {
    "s3": {"bucketName": _bucket},
    "lambda": {"functionName": _function},
    "ssm": {"name": _parameter, "names": _parameter},
    "kms": {"keyId": _key},
    "cloudformation": {"stackName": _stack},
    "logs": {"logGroupName": _log_group},
    "iam": {"roleName": _role},
    "ec2": {"instanceId": _instance},
    "secretsmanager": {"secretId": _secret},
    "cloudwatch": {"alarmNames": _alarm, "alarmName": _alarm},
}


def _instances_set(params: Mapping[str, Any]) -> list[str]:
    items = params.get("instancesSet", {})
    items = items.get("items", []) if isinstance(items, Mapping) else []
    return [i["instanceId"] for i in items if isinstance(i, Mapping) and i.get("instanceId")]


def resource_arns(record: Record, service: str | None = None) -> tuple[str, ...]:
    """The ARNs ``record`` names, sorted; ``service`` (an IAM prefix) keeps only its own.

    From the ``resources`` element, and from ``requestParameters`` fields such as
    ``bucketName`` + ``key`` (bucket and object), ``functionName``, ``keyId``, ``name`` (an SSM
    parameter), ``stackName``, ``logGroupName`` and ``instanceId`` / ``instancesSet``.
    """
    found: set[str] = set()
    for item in record.get("resources") or []:
        if isinstance(item, Mapping) and isinstance(item.get("ARN"), str):
            found.add(item["ARN"])
    params = record.get("requestParameters")
    if isinstance(params, Mapping):
        region = str(record.get("awsRegion") or "us-east-1")
        account = str(record.get("recipientAccountId") or identity(record).get("accountId") or "")
        part = partition(region)
        own = prefix_for_source(str(record.get("eventSource", "")))
        for field, build in PARAMETER_ARNS.get(own, {}).items():
            if field in params:
                found.update(build(part, region, account, params[field]))
        bucket, key = params.get("bucketName"), params.get("key")
        if own == "s3" and isinstance(bucket, str) and isinstance(key, str) and key:
            found.add(f"arn:{part}:s3:::{bucket}/{key}")
        if own == "ec2":
            found.update(_instance(part, region, account, _instances_set(params)))
    if service is not None:
        found = {arn for arn in found if arn_service(arn) == service}
    return tuple(sorted(found))


def arn_service(arn: str) -> str:
    """The service part of an ARN (``arn:aws:s3:::b`` -> ``s3``)."""
    parts = arn.split(":", 5)
    return parts[2] if len(parts) > 2 else ""


def arn_resource_type(arn: str) -> str:
    """The resource type an ARN names, in the Service Authorization Reference's words
    (``bucket``, ``object``, ``function``, ``parameter``, ``key``, ``stack``, ``log-group``...)."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return ""
    service, resource = parts[2], parts[5]
    if service == "s3":
        return "object" if "/" in resource else "bucket"
    return re.split(r"[:/]", resource, maxsplit=1)[0]


def arns_for_action(
    action: str, arns: Iterable[str], resource_types: Iterable[str] | None = None
) -> list[str]:
    """The ARNs among ``arns`` that ``action`` can be scoped to: same service, and (when the
    catalog's ``resource_types`` are given) a resource type the action accepts."""
    prefix = action.split(":", 1)[0]
    wanted = None if resource_types is None else {t.casefold() for t in resource_types}
    return sorted(
        arn
        for arn in set(arns)
        if arn_service(arn) == prefix
        and (wanted is None or arn_resource_type(arn).casefold() in wanted)
    )
