"""Validator checks of the Condition element and of policy variables.

Operator names come from ``conditions.parse_operator`` (the evaluator's own parser), key
names and types from ``schema``; each check names its issue code from ``findings.CHECKS``.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from ..conditions import parse_date, parse_number, parse_operator
from ..model import iam_string
from .jsonpos import JsonPath
from .run import REGION, StatementView, ValidationRun, as_list, has_wildcard
from .schema import GLOBAL_CONDITION_KEYS, ConditionKey

# Operator families each key type accepts (IAM condition-operators page: ARN keys take
# Arn and String operators; Null works with every key and is not listed).
_ALLOWED_FAMILIES = {
    "String": ("String", "StringIgnoreCase", "StringLike"),
    "ARN": ("Arn", "String", "StringIgnoreCase", "StringLike"),
    "Bool": ("Bool",),
    "Numeric": ("Numeric",),
    "Date": ("Date",),
    "IPAddress": ("Ip",),
    "Binary": ("Binary",),
}
_FAMILY_NAMES = {
    "String": "String",
    "ARN": "ARN",
    "Bool": "Bool",
    "Numeric": "Numeric",
    "Date": "Date",
    "IPAddress": "IpAddress",
    "Binary": "Binary",
}

# Keys that are safe only together with a companion (Access Analyzer's example, and the
# global-keys page: a private address alone is not unique across VPCs).
PAIRED_KEYS = {
    "aws:vpcsourceip": "aws:SourceVpc",
    "aws:ec2instancesourceprivateipv4": "aws:Ec2InstanceSourceVpc",
}
_TAG_STEMS = ("aws:resourcetag", "aws:requesttag", "aws:principaltag")
_VPC = re.compile(r"vpc-([0-9a-f]{8}|[0-9a-f]{17})")
_VPCE = re.compile(r"vpce-([0-9a-f]{8}|[0-9a-f]{17})")
_VARIABLE_FAMILIES = ("String", "StringIgnoreCase", "StringLike", "Arn")
GITHUB = "token.actions.githubusercontent.com"
# Addresses never seen as aws:SourceIp: RFC 1918, loopback, link-local, IPv6 unique-local.
_PRIVATE = tuple(
    ipaddress.ip_network(block)
    for block in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    )
)


def check_condition(run: ValidationRun, st: StatementView) -> None:
    """Every check of one statement's Condition element."""
    path = (*st.path, "Condition")
    condition = st.raw["Condition"]
    if not isinstance(condition, Mapping):
        run.add("DATA_TYPE_MISMATCH", path, st, element="Condition", expected="an object")
        return
    if not condition:
        run.add("EMPTY_OBJECT_CONDITION", path, st)
        return
    for op_name, block in condition.items():
        _check_block(run, st, op_name, block, (*path, op_name))
    if st.effect == "Allow":
        keys = st.condition_keys()
        for key, paired in PAIRED_KEYS.items():
            if key in keys and paired.casefold() not in keys:
                shown = _spelling(condition, key)
                run.add("MISSING_PAIRED_CONDITION_KEYS", path, st, key=shown, paired=paired)


def _spelling(condition: Mapping[str, Any], folded: str) -> str:
    for block in condition.values():
        if isinstance(block, Mapping):
            for key in block:
                if key.casefold() == folded:
                    return key
    return folded


def _check_block(
    run: ValidationRun, st: StatementView, op_name: str, block: Any, path: JsonPath
) -> None:
    op = parse_operator(op_name)
    if op is None:
        bare = op_name.split(":", 1)[-1]
        code = "NULL_WITH_IF_EXISTS" if bare == "NullIfExists" else "INVALID_CONDITION_OPERATOR"
        run.add(code, path, st, at_key=True, operator=op_name, key=op_name)
        return
    if op.family == "Null" and op.set_operator:
        run.add("NULL_WITH_QUALIFIER", path, st, at_key=True, operator=op_name)
    if not isinstance(block, Mapping):
        run.add("DATA_TYPE_MISMATCH", path, st, element=op_name, expected="an object")
        return
    if not block:
        run.add("EMPTY_OBJECT_CONDITION", path, st)
        return
    seen: dict[str, str] = {}
    for key, value in block.items():
        folded = key.casefold()
        if folded in seen and seen[folded] != key:
            run.add(
                "DUPLICATE_KEYS_WITH_DIFFERENT_CASE",
                (*path, key),
                st,
                at_key=True,
                key=key,
                operator=op_name,
            )
        seen[folded] = key
        _check_key(run, st, op, key, value, (*path, key))


def _check_key(
    run: ValidationRun, st: StatementView, op: Any, key: str, value: Any, path: JsonPath
) -> None:
    values = as_list(value)
    if not all(isinstance(v, str | bool | int | float) for v in values):
        run.add("DATA_TYPE_MISMATCH", path, st, element=key, expected="a string, number or Boolean")
        return
    if not values:
        code = "EMPTY_ARRAY_CONDITION"
        if op.set_operator == "ForAllValues":
            code = "EMPTY_ARRAY_CONDITION_FORALLVALUES"
        elif op.set_operator == "ForAnyValue":
            code = "EMPTY_ARRAY_CONDITION_FORANYVALUE"
        elif op.if_exists:
            code = "EMPTY_ARRAY_CONDITION_IFEXISTS"
        run.add(code, path, st, key=key)
        return
    kinds = {_json_kind(v) for v in values}
    if len(kinds) > 1:
        run.add("INVALID_CONDITION_DATA_TYPE", path, st, types=", ".join(sorted(kinds)), key=key)
    known = _check_key_name(run, st, key, path)
    if known is not None and op.family != "Null":
        _check_key_type(run, st, op, key, known, path)
    texts = [iam_string(v) for v in values]
    _check_values(run, st, op, key, values, texts, path)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int | float):
        return "Number"
    return "String"


def _check_key_name(
    run: ValidationRun, st: StatementView, key: str, path: JsonPath
) -> ConditionKey | None:
    """Report an unknown key; return what is known of it (None: unknown or an IdP key)."""
    prefix, colon, name = key.partition(":")
    if not colon or not prefix or not name:
        run.add("INVALID_CONDITION_KEY_FORMAT", path, st, at_key=True, key=key)
        return None
    folded = key.casefold()
    if prefix.casefold() == "aws":
        if folded == "aws:arn":
            run.add("UNSUPPORTED_GLOBAL_CONDITION_KEY", path, st, at_key=True, key=key)
            return None
        if folded.rstrip("/") in _TAG_STEMS:
            run.add(
                "MISSING_TAG_KEY_IN_CONDITION", path, st, at_key=True, key=key.rstrip("/") + "/"
            )
            return None
        found = run.schema.global_key(key) or run.schema.service_key(key)
        if found is None:
            hint = _suggest(key, list(GLOBAL_CONDITION_KEYS))
            run.add("INVALID_GLOBAL_CONDITION_KEY", path, st, at_key=True, hint=hint, key=key)
        return found
    if "." in prefix or "/" in prefix or prefix.casefold() == "saml":
        return None  # identity-provider keys (accounts.google.com:aud, saml:sub): free-form
    service = run.schema.service(prefix)
    if service is None:
        run.add("INVALID_SERVICE", path, st, at_key=True, service=prefix, where=key)
        return None
    found = run.schema.service_key(key)
    if found is None:
        stems = [stem for stem, _ in service.key_stems]
        if folded.rstrip("/") + "/" in stems:
            run.add(
                "MISSING_TAG_KEY_IN_CONDITION", path, st, at_key=True, key=key.rstrip("/") + "/"
            )
            return None
        names = [k.name for k in service.keys.values()]
        hint = _suggest(key, names)
        run.add(
            "INVALID_SERVICE_CONDITION_KEY",
            path,
            st,
            at_key=True,
            service=service.prefix,
            hint=hint,
            key=key,
        )
    return found


def _suggest(key: str, names: list[str]) -> str:
    folded = {n.casefold(): n for n in names}
    close = difflib.get_close_matches(key.casefold(), list(folded), n=1, cutoff=0.75)
    return f" Did you mean {folded[close[0]]}?" if close else ""


def _check_key_type(
    run: ValidationRun, st: StatementView, op: Any, key: str, known: ConditionKey, path: JsonPath
) -> None:
    base_type = known.type.removeprefix("ArrayOf")
    allowed = _ALLOWED_FAMILIES.get(base_type)
    if (
        allowed
        and op.family not in allowed
        and not (known.name == "aws:EpochTime" and op.family == "Numeric")
    ):
        run.add(
            "TYPE_MISMATCH",
            path,
            st,
            at_key=True,
            key_type=_FAMILY_NAMES.get(base_type, base_type),
            allowed=_FAMILY_NAMES.get(base_type, base_type),
            operator=op.name,
            key=key,
        )
    if op.set_operator == "ForAllValues" and not known.multivalued:
        run.add("FORALLVALUES_WITH_SINGLE_VALUED_KEY", path, st, at_key=True, key=key)
    if known.multivalued and op.set_operator is None:
        run.add("MISSING_QUALIFIER", path, st, at_key=True, key=key)


def _check_values(
    run: ValidationRun,
    st: StatementView,
    op: Any,
    key: str,
    values: list[Any],
    texts: list[str],
    path: JsonPath,
) -> None:
    folded = key.casefold()
    family = op.family
    for i, text in enumerate(texts):
        where = (*path, i) if isinstance(_raw(st, path), list) else path
        if "${" in text:
            if family not in _VARIABLE_FAMILIES:
                run.add("INVALID_VARIABLE_FOR_OPERATOR", where, st, operator=op.name, value=text)
            continue
        if family == "Bool" and text.lower() not in ("true", "false"):
            run.add("TYPE_MISMATCH_BOOLEAN", where, st, value=text, operator=op.name)
        elif family == "Numeric" and parse_number(text) is None:
            run.add("TYPE_MISMATCH_NUMBER", where, st, value=text, operator=op.name)
        elif family == "Date":
            if isinstance(values[i], bool) or parse_date(text) is None:
                run.add("TYPE_MISMATCH_DATE", where, st, value=text, operator=op.name)
            elif text.strip().isdigit():
                run.add("INVALID_DATE_VALUE", where, st, value=text)
        elif family == "Ip":
            _check_ip(run, st, op, text, where)
        elif family == "Binary" and not _is_base64(text):
            run.add("TYPE_MISMATCH_STRING", where, st, value=text, operator=op.name)
        elif (
            family in ("String", "StringIgnoreCase", "Arn")
            and op.base in _EXACT
            and has_wildcard(text)
        ):
            run.add("WILDCARD_WITHOUT_LIKE_OPERATOR", where, st, value=text, operator=op.name)
        if family == "Null" or has_wildcard(text):
            continue
        if folded == "aws:requestedregion" and not REGION.fullmatch(text):
            run.add("INVALID_REGION", where, st, value=text)
        elif folded == "aws:sourcevpc" and not _VPC.fullmatch(text):
            run.add("INVALID_VPC_FORMAT", where, st, value=text)
        elif folded == "aws:sourcevpce" and not _VPCE.fullmatch(text):
            run.add("INVALID_VPCE_FORMAT", where, st, value=text)
    if folded == f"{GITHUB}:sub":
        for i, text in enumerate(texts):
            if "*" in text:
                where = (*path, i) if isinstance(_raw(st, path), list) else path
                run.add("SPECIFIC_GITHUB_REPO_AND_BRANCH_RECOMMENDED", where, st, value=text)
    if family == "Bool" and len({t.lower() for t in texts}) > 1:
        run.add("INVALID_CONDITION_MULTIPLE_BOOLEAN", path, st, key=key)
    if family == "Numeric" and op.set_operator is None and len(texts) > 1:
        _redundant_numbers(run, st, op, key, texts, path)
    if family == "Ip" and folded == "aws:sourceip":
        _private_ips(run, st, op, texts, path)


_EXACT = {
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "ArnEquals",
    "ArnNotEquals",
}


def _raw(st: StatementView, path: JsonPath) -> Any:
    value: Any = st.raw
    for item in path[len(st.path) :]:
        value = value[item]
    return value


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _check_ip(run: ValidationRun, st: StatementView, op: Any, text: str, where: JsonPath) -> None:
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        run.add("TYPE_MISMATCH_IP_RANGE", where, st, value=text, operator=op.name)
        return
    try:
        ipaddress.ip_network(text)  # strict: no bits set after the mask
    except ValueError:
        run.add("IMPROVE_IP_RANGE", where, st, value=text, network=str(network))


def _redundant_numbers(
    run: ValidationRun, st: StatementView, op: Any, key: str, texts: list[str], path: JsonPath
) -> None:
    numbers = [parse_number(t) for t in texts]
    if any(n is None for n in numbers):
        return
    if op.base.startswith("NumericLess"):
        which, best = "greatest", max(numbers)
    elif op.base.startswith("NumericGreater"):
        which, best = "least", min(numbers)
    else:
        return
    shown = texts[numbers.index(best)]
    run.add(
        "REDUNDANT_CONDITION_VALUE_NUM",
        path,
        st,
        operator=op.name,
        which=which,
        value=shown,
        key=key,
    )


def _private_ips(
    run: ValidationRun, st: StatementView, op: Any, texts: list[str], path: JsonPath
) -> None:
    private = []
    for text in texts:
        if "${" in text:
            return
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            return
        if any(network.subnet_of(block) for block in _PRIVATE if block.version == network.version):
            private.append(text)
    if not private:
        return
    shown = ", ".join(private)
    if len(private) == len(texts):
        code = "PRIVATE_NOT_IP_ADDRESS" if op.negated else "PRIVATE_IP_ADDRESS"
    else:
        code = "PRIVATE_NOT_IP_ADDRESS_SUBSET" if op.negated else "PRIVATE_IP_ADDRESS_SUBSET"
    run.add(code, path, st, operator=op.name, values=shown)


# --- policy variables -------------------------------------------------------------------

# Elements whose values may hold ${...} (IAM policy-variables page: Resource and Condition).
VARIABLE_ELEMENTS = ("Resource", "NotResource", "Condition")


def check_variables(run: ValidationRun, st: StatementView) -> None:
    """Variables only where IAM resolves them, well-formed, and only with Version 2012-10-17."""
    for element, value in st.raw.items():
        for text, path in _strings_in(value, (*st.path, element)):
            if "${" not in text:
                continue
            if element not in VARIABLE_ELEMENTS:
                run.add("VARIABLE_UNSUPPORTED_IN_ELEMENT", path, st, element=element, value=text)
                continue
            problem = _variable_problem(text)
            if problem:
                run.add(problem, path, st, value=text)
            elif run.version != "2012-10-17":
                run.add("VARIABLE_UNSUPPORTED_IN_VERSION", path, st, value=text)


def _strings_in(value: Any, path: JsonPath) -> list[tuple[str, JsonPath]]:
    if isinstance(value, str):
        return [(value, path)]
    if isinstance(value, list):
        return [pair for i, v in enumerate(value) for pair in _strings_in(v, (*path, i))]
    if isinstance(value, Mapping):
        return [pair for k, v in value.items() for pair in _strings_in(v, (*path, k))]
    return []


def _variable_problem(text: str) -> str | None:
    start = text.find("${")
    while start >= 0:
        end = text.find("}", start)
        if end < 0:
            return "MISSING_BRACE_IN_VARIABLE"
        inner = text[start + 2 : end]
        if not inner.strip():
            return "EMPTY_VARIABLE"
        if inner in ("*", "?", "$"):
            pass  # ${*} ${?} ${$} are IAM's escapes for the literal characters
        elif "," in inner:
            name, default = inner.split(",", 1)
            default = default.strip()
            if len(default) < 2 or not (default.startswith("'") and default.endswith("'")):
                return "MISSING_QUOTE_IN_VARIABLE"
            if " " in name.strip():
                return "UNSUPPORTED_SPACE_IN_VARIABLE"
        elif " " in inner:
            return "UNSUPPORTED_SPACE_IN_VARIABLE"
        start = text.find("${", end)
    return None
