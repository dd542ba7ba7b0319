"""Parse and validate an IAM policy document into :class:`~.model.Policy`.

Errors use the wording IAM returns in a ``MalformedPolicyDocument`` error, so a learner
sees here what AWS would tell them. The checks run in the order IAM (and moto's copy of
its validator) applies them: syntax, version, legacy parsing, Sid uniqueness, actions,
resource formats, action prefixes, resources; the first failure is reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import GraderError
from ..jsonfile import load_json
from .arns import resource_format_error
from .conditions import parse_date, parse_operator
from .model import ALLOW, DENY, Policy, PolicyType, Statement, iam_string

VERSIONS = ("2012-10-17", "2008-10-17")
VARIABLES_VERSION = "2012-10-17"  # policy variables exist only from this version on
# Size quotas, in characters (IAM and AWS STS quotas; AWS Organizations quotas):
IDENTITY_QUOTA = 6_144  # a customer managed policy, white space not counted
SCP_QUOTA = 5_120  # a service control policy
SESSION_POLICY_QUOTA = 2_048  # a session policy passed to AssumeRole, plain text
TOP_FIELDS = ("Version", "Id", "Statement")
STATEMENT_FIELDS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)

# How deeply a policy may nest objects and arrays. IAM's grammar needs six levels at most
# (the policy, the Statement list, a statement, Condition, an operator's block, a list of
# values), so no valid policy comes near; a decoded document given as a Python object has
# no parser to stop it, and Python's recursive tools (repr, json.dumps) would raise
# RecursionError on one nested thousands of levels deep.
MAX_NESTING = 32

# How large a document the parser reads at all. The largest policy any AWS service accepts
# is a KMS key policy, 32,768 characters (AWS KMS quotas); the per-type quotas are the
# validator's findings. A document far beyond that (1 MiB, as for files: jsonfile.MAX_BYTES)
# is a mistake or an attack, and is refused before any work proportional to its size.
MAX_DOCUMENT_CHARS = 1024 * 1024
LARGEST_POLICY = "32,768 characters (a KMS key policy)"

SYNTAX = "Syntax errors in policy."
LEGACY = "The policy failed legacy parsing"
_VENDOR = re.compile(r"[^a-zA-Z0-9\-.]")
_SID = re.compile(r"^[0-9A-Za-z]*$")


class MalformedPolicyError(GraderError, ValueError):
    """A policy IAM would reject. ``message`` is IAM's message; ``json_path`` says where
    (e.g. ``Statement[1].Condition``); ``line``/``column`` are set for JSON errors, and
    ``file`` when the policy came from one."""

    code = "MalformedPolicyDocument"

    def __init__(
        self,
        message: str,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        *,
        file: str | Path | None = None,
    ) -> None:
        super().__init__(message, file=file, line=line, column=column, json_path=path)


def load_policy_file(path: str | Path, *, kind: PolicyType | str = PolicyType.IDENTITY) -> Policy:
    """A policy document read from ``path`` and parsed. Every problem is a GraderError
    naming the file: an InputError for the file itself, a MalformedPolicyError for what
    IAM would reject."""
    document = load_json(path, what="a JSON object (an IAM policy document)")
    try:
        return parse_policy(document, name=Path(path).name, kind=kind)
    except MalformedPolicyError as exc:
        raise MalformedPolicyError(exc.message, exc.json_path, file=path) from None


def parse_policy(
    document: str | bytes | Mapping[str, Any],
    *,
    name: str = "policy",
    kind: PolicyType | str = PolicyType.IDENTITY,
) -> Policy:
    """Validate ``document`` (JSON text or decoded JSON) and return the parsed policy.

    ``kind`` is the policy's type (a :class:`PolicyType` or its short name, e.g.
    ``"resource"``); its grammar decides: identity-style (identity policies, boundaries,
    SCPs, session policies) forbids Principal and requires Resource; resource-style
    (resource-based policies, RCPs) requires Principal or NotPrincipal (kept as written in
    ``Statement.principal``). Raises :class:`MalformedPolicyError`.
    """
    grammar = PolicyType(kind).grammar
    doc = _decode(document)
    raw, where = _syntax(doc)
    version = doc.get("Version")
    if version is not None and version not in VERSIONS:
        raise MalformedPolicyError(
            "Policy document must be version 2012-10-17 or greater.", "Version"
        )
    _principals(raw, where, grammar)
    _legacy(raw, where)
    _sids(raw, where, grammar)
    for st, path in zip(raw, where, strict=True):
        if not (_present(st, "Action") or _present(st, "NotAction")):
            raise MalformedPolicyError("Policy statement must contain actions.", path)
    _resource_formats(raw, where)
    _prefixes(raw, where)
    if grammar is PolicyType.IDENTITY:
        for st, path in zip(raw, where, strict=True):
            if not (_present(st, "Resource") or _present(st, "NotResource")):
                raise MalformedPolicyError("Policy statement must contain resources.", path)
    statements = tuple(_statement(i, st) for i, st in enumerate(raw))
    return Policy(statements, version, doc.get("Id"), name, doc)


def _decode(document: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(document, bytes | bytearray):
        document = document.decode("utf-8-sig")
    if isinstance(document, str):
        _size_guard(len(document))
        try:
            document = json.loads(document)
        except json.JSONDecodeError as exc:
            raise MalformedPolicyError(SYNTAX, None, exc.lineno, exc.colno) from None
        except RecursionError:  # nested deeper than Python's parser goes
            raise MalformedPolicyError(SYNTAX) from None
    if not isinstance(document, Mapping):
        raise MalformedPolicyError(SYNTAX)
    return dict(document)


# --- stage 1: syntax --------------------------------------------------------------------


def _syntax(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Shape checks; returns the statements as a list and each one's path."""
    for key in doc:
        if key not in TOP_FIELDS:
            raise MalformedPolicyError(f"Unknown field {key}", key)
    if "Version" in doc and not isinstance(doc["Version"], str):
        raise MalformedPolicyError(SYNTAX, "Version")
    if "Id" in doc and not isinstance(doc["Id"], str):
        raise MalformedPolicyError(SYNTAX, "Id")
    if "Statement" not in doc:
        raise MalformedPolicyError("Missing required field Statement", "Statement")
    body = doc["Statement"]
    if isinstance(body, Mapping):
        raw, where = [body], ["Statement"]
    elif isinstance(body, list) and body:
        raw, where = list(body), [f"Statement[{i}]" for i in range(len(body))]
    else:
        raise MalformedPolicyError(SYNTAX, "Statement")
    for st, path in zip(raw, where, strict=True):
        _statement_syntax(st, path)
    deep = nested_too_deeply(doc)
    if deep is not None:  # only free-form elements (Principal) get this far
        raise MalformedPolicyError(SYNTAX, json_path_text(deep))
    _size_guard(len(json.dumps(doc, default=str)))  # a decoded document had no parser to stop it
    return [dict(st) for st in raw], where


def _size_guard(chars: int) -> None:
    if chars > MAX_DOCUMENT_CHARS:
        raise MalformedPolicyError(
            f"Policy document is too large to read ({chars:,} characters); no AWS policy "
            f"may be larger than {LARGEST_POLICY}."
        )


def nested_too_deeply(document: Any, limit: int = MAX_NESTING) -> tuple[str | int, ...] | None:
    """The path of the policy element (``("Statement", 0, "Principal")``, ``("Id",)``)
    holding objects or arrays nested more than ``limit`` levels deep, or ``None``.

    Walks with a stack instead of recursing, so no depth (not even a dict that contains
    itself) can break it; the first such element in document order is the one named."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(document, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, Mapping):
            children = list(value.items())
        elif isinstance(value, list | tuple):
            children = list(enumerate(value))
        else:
            continue
        if len(path) >= limit:
            return _element_path(path)
        stack.extend((child, (*path, key)) for key, child in reversed(children))
    return None


# Levels a statement element's grammar names below it: Condition's operator and key,
# Principal's type ("AWS", "Service"...). A too-deep value is reported at that level.
_NAMED_LEVELS = {"Condition": 2, "Principal": 1, "NotPrincipal": 1}


def _element_path(path: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """``path`` cut to the policy element it is in (a top-level field, or a statement's,
    with the levels its grammar names), as a shallower wrong shape would be reported."""
    if path[0] != "Statement" or len(path) == 1:
        return path[:1]
    end = 3 if isinstance(path[1], int) else 2
    element = path[end - 1] if len(path) >= end else None
    named = _NAMED_LEVELS.get(element, 0) if isinstance(element, str) else 0
    return path[: end + named]


def json_path_text(path: tuple[str | int, ...]) -> str:
    """A path as this module writes it in errors: ``Statement[0].Principal``."""
    text = str(path[0]) if path else ""
    for part in path[1:]:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _statement_syntax(st: Any, path: str) -> None:
    if not isinstance(st, Mapping):
        raise MalformedPolicyError(SYNTAX, path)
    for key in st:
        if key not in STATEMENT_FIELDS:
            raise MalformedPolicyError(f"Unknown field {key}", f"{path}.{key}")
    for a, b in (("Action", "NotAction"), ("Resource", "NotResource")):
        if a in st and b in st:  # a statement names its targets one way only
            raise MalformedPolicyError(SYNTAX, f"{path}.{b}")
    if "Principal" in st and "NotPrincipal" in st:
        raise MalformedPolicyError(SYNTAX, f"{path}.NotPrincipal")
    if "Effect" not in st:
        raise MalformedPolicyError("Missing required field Effect", f"{path}.Effect")
    effect = st["Effect"]
    if not isinstance(effect, str) or effect.lower() not in ("allow", "deny"):
        raise MalformedPolicyError(SYNTAX, f"{path}.Effect")
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        if key in st and not _is_strings(st[key]):
            raise MalformedPolicyError(SYNTAX, f"{path}.{key}")
    if "Sid" in st and not isinstance(st["Sid"], str):
        raise MalformedPolicyError(SYNTAX, f"{path}.Sid")
    if "Condition" in st:
        _condition_syntax(st["Condition"], f"{path}.Condition")


def _is_strings(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _condition_syntax(condition: Any, path: str) -> None:
    if not isinstance(condition, Mapping):
        raise MalformedPolicyError(SYNTAX, path)
    for op, block in condition.items():
        if not isinstance(block, Mapping):
            raise MalformedPolicyError(SYNTAX, f"{path}.{op}")
        for key, value in block.items():
            values = value if isinstance(value, list) else [value]
            if not all(_is_scalar(v) for v in values):
                raise MalformedPolicyError(SYNTAX, f"{path}.{op}.{key}")


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | bool | int | float)


# --- later stages -----------------------------------------------------------------------


def _principals(raw: list[dict[str, Any]], where: list[str], grammar: PolicyType) -> None:
    for st, path in zip(raw, where, strict=True):
        has = "Principal" in st or "NotPrincipal" in st
        if grammar is PolicyType.IDENTITY and has:
            key = "Principal" if "Principal" in st else "NotPrincipal"
            raise MalformedPolicyError(
                "Policy document should not specify a principal.", f"{path}.{key}"
            )
        if grammar is PolicyType.RESOURCE and not has:
            raise MalformedPolicyError("Missing required field Principal", f"{path}.Principal")


def _legacy(raw: list[dict[str, Any]], where: list[str]) -> None:
    """IAM's "legacy parsing": exact-case Effect, known operators, valid dates, and
    resources whose colons add up."""
    for st, path in zip(raw, where, strict=True):
        if st["Effect"] not in (ALLOW, DENY):  # "allow" passes syntax but not this
            raise MalformedPolicyError(LEGACY, f"{path}.Effect")
        for op_name, block in st.get("Condition", {}).items():
            op = parse_operator(op_name)
            if op is None:
                raise MalformedPolicyError(
                    f"Invalid Condition type : {op_name}.", f"{path}.Condition.{op_name}"
                )
            if op.family == "Date":
                for key, value in block.items():
                    for v in value if isinstance(value, list) else [value]:
                        if isinstance(v, bool) or parse_date(str(v)) is None:
                            raise MalformedPolicyError(LEGACY, f"{path}.Condition.{op_name}.{key}")
        for key in ("Resource", "NotResource"):
            for r in _as_list(st.get(key)):
                if resource_format_error(r) is None and _fails_legacy_arn(r):
                    raise MalformedPolicyError(LEGACY, f"{path}.{key}")


def _fails_legacy_arn(resource: str) -> bool:
    if resource == "*":
        return False
    parts = resource.split(":")
    return ("::" in resource and len(parts) < 6) or (len(parts) > 2 and parts[2] == "")


def _sids(raw: list[dict[str, Any]], where: list[str], grammar: PolicyType) -> None:
    seen: set[str] = set()
    for st, path in zip(raw, where, strict=True):
        sid = st.get("Sid")
        if not sid:
            continue
        if sid in seen:
            raise MalformedPolicyError(
                "Statement IDs (SID) in a single policy must be unique.", f"{path}.Sid"
            )
        seen.add(sid)
    if grammar is not PolicyType.IDENTITY:
        return  # resource policies (S3, SNS...) allow any text in a Sid
    for st, path in zip(raw, where, strict=True):
        if not _SID.match(st.get("Sid") or ""):
            raise MalformedPolicyError(
                "Statement IDs (SID) must be alpha-numeric. "
                "Check that your input satisfies the regular expression [0-9A-Za-z]*",
                f"{path}.Sid",
            )


def _resource_formats(raw: list[dict[str, Any]], where: list[str]) -> None:
    for st, path in zip(raw, where, strict=True):
        for key in ("Resource", "NotResource"):
            for r in sorted(_as_list(st.get(key)), reverse=True):  # IAM's order
                message = resource_format_error(r)
                if message:
                    raise MalformedPolicyError(message, f"{path}.{key}")


def _prefixes(raw: list[dict[str, Any]], where: list[str]) -> None:
    for key in ("Action", "NotAction"):
        for st, path in zip(raw, where, strict=True):
            for action in _as_list(st.get(key)):
                message = _action_error(action)
                if message:
                    raise MalformedPolicyError(message, f"{path}.{key}")
    for st, path in zip(raw, where, strict=True):
        for op, block in st.get("Condition", {}).items():
            for cond_key in block:
                if ":" not in cond_key:
                    raise MalformedPolicyError(
                        "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, "
                        "etc.",
                        f"{path}.Condition.{op}.{cond_key}",
                    )


def _action_error(action: str) -> str | None:
    parts = action.split(":")
    if len(parts) == 1 and parts[0] != "*":
        return "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
    if len(parts) > 2:
        return "Actions/Condition can contain only one colon."
    if parts[0] != "*" and _VENDOR.search(parts[0]):
        return f"Vendor {parts[0]} is not valid"
    return None


# --- building the model -----------------------------------------------------------------


def _present(st: dict[str, Any], key: str) -> bool:
    """Given, and not an empty list (an empty string is caught by later checks)."""
    return key in st and st[key] != []


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _tuple_or_none(st: dict[str, Any], key: str) -> tuple[str, ...] | None:
    return tuple(_as_list(st[key])) if key in st else None


def _statement(index: int, st: dict[str, Any]) -> Statement:
    condition = {
        op: {
            key: tuple(iam_string(v) for v in (value if isinstance(value, list) else [value]))
            for key, value in block.items()
        }
        for op, block in st.get("Condition", {}).items()
    }
    return Statement(
        index=index,
        effect=st["Effect"],
        sid=st.get("Sid"),
        action=_tuple_or_none(st, "Action"),
        not_action=_tuple_or_none(st, "NotAction"),
        resource=_tuple_or_none(st, "Resource"),
        not_resource=_tuple_or_none(st, "NotResource"),
        condition=condition,
        principal=st.get("Principal"),
        not_principal=st.get("NotPrincipal"),
    )
