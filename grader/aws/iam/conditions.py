"""Condition operators, compiled once per statement into predicates over a request context.

The rules (AWS's documented ones, see the condition-operator and multivalued-key pages):

* Keys ignore case; values are case-sensitive except the ``...IgnoreCase`` operators.
* Several keys in one operator block, and several blocks, are ANDed; several policy values
  for one key are ORed, and for a negated operator NORed ("matches none of them").
* A key absent from the request: the condition is false, except that a negated operator
  (``StringNotEquals``, ``ArnNotLike`` ...) is true, ``...IfExists`` is true, and ``Null``
  tests presence itself.
* ``ForAllValues:`` is true when every request value satisfies the operator, and also
  when the key is absent or empty; ``ForAnyValue:`` needs at least one value that does,
  and is false when the key is absent or empty.
* Without a set operator, a multivalued request key matches when any of its values does
  (the negated operator is then the negation of that).
* Policy variables work in String, Arn and Bool values; a variable without a value makes
  that policy value match nothing.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from .arns import compile_arn_set
from .variables import ContextKeys, Template, parse_template
from .wildcards import compile_globs, compile_regex

ValueTest = Callable[[str, ContextKeys], bool]  # does one request value match any policy value
Predicate = Callable[[ContextKeys], bool]

SET_OPERATORS = ("ForAnyValue:", "ForAllValues:")
IF_EXISTS = "IfExists"

_COMPARE = {
    "Equals": operator.eq,
    "NotEquals": operator.eq,  # negation is applied outside
    "LessThan": operator.lt,
    "LessThanEquals": operator.le,
    "GreaterThan": operator.gt,
    "GreaterThanEquals": operator.ge,
}

# base operator -> (family, negated). Source: IAM "Condition operators" reference page.
BASE_OPERATORS: dict[str, tuple[str, bool]] = {
    "StringEquals": ("String", False),
    "StringNotEquals": ("String", True),
    "StringEqualsIgnoreCase": ("StringIgnoreCase", False),
    "StringNotEqualsIgnoreCase": ("StringIgnoreCase", True),
    "StringLike": ("StringLike", False),
    "StringNotLike": ("StringLike", True),
    **{f"Numeric{k}": ("Numeric", k == "NotEquals") for k in _COMPARE},
    **{f"Date{k}": ("Date", k == "NotEquals") for k in _COMPARE},
    "Bool": ("Bool", False),
    "BinaryEquals": ("Binary", False),
    "IpAddress": ("Ip", False),
    "NotIpAddress": ("Ip", True),
    "ArnEquals": ("Arn", False),
    "ArnLike": ("Arn", False),
    "ArnNotEquals": ("Arn", True),
    "ArnNotLike": ("Arn", True),
    "Null": ("Null", False),
}

# Families whose values may hold policy variables (IAM policy-variables reference page).
_VARIABLE_FAMILIES = {"String", "StringIgnoreCase", "StringLike", "Arn", "Bool"}


@dataclass(frozen=True)
class Operator:
    """A condition operator as written, taken apart."""

    name: str
    base: str
    family: str
    negated: bool
    set_operator: str | None  # "ForAnyValue" / "ForAllValues"
    if_exists: bool


def parse_operator(name: str) -> Operator | None:
    """Split e.g. ``ForAnyValue:StringLikeIfExists``; ``None`` if IAM has no such operator."""
    rest, set_operator = name, None
    for prefix in SET_OPERATORS:
        if rest.startswith(prefix):
            rest, set_operator = rest[len(prefix) :], prefix[:-1]
            break
    if_exists = rest.endswith(IF_EXISTS) and rest != IF_EXISTS
    base = rest[: -len(IF_EXISTS)] if if_exists else rest
    if base not in BASE_OPERATORS or (if_exists and base == "Null"):
        return None  # Null tests presence itself, so it has no IfExists form
    family, negated = BASE_OPERATORS[base]
    return Operator(name, base, family, negated, set_operator, if_exists)


@dataclass(frozen=True)
class ConditionCheck:
    """One (operator, key) pair of a Condition element, ready to evaluate."""

    operator: str
    key: str
    values: tuple[str, ...]
    test: Predicate

    def describe(self) -> str:
        shown = ", ".join(repr(v) for v in self.values)
        return f"{self.operator} {self.key} [{shown}]"


def compile_conditions(
    condition: Mapping[str, Mapping[str, tuple[str, ...]]], variables: bool = False
) -> tuple[ConditionCheck, ...]:
    """Compile a parsed Condition element. Operators must already be valid (the parser
    checks them); ``variables`` is true only for Version 2012-10-17 policies."""
    checks = []
    for op_name, keys in condition.items():
        op = parse_operator(op_name)
        if op is None:
            raise ValueError(f"Invalid Condition type : {op_name}.")
        for key, values in keys.items():
            test = _compile_check(op, key.lower(), values, variables)
            checks.append(ConditionCheck(op_name, key, tuple(values), test))
    return tuple(checks)


def _compile_check(op: Operator, key: str, values: tuple[str, ...], variables: bool) -> Predicate:
    if op.family == "Null":
        wanted = {v.lower() for v in values}

        def null_test(context: ContextKeys) -> bool:
            absent = not context.get(key)
            return ("true" if absent else "false") in wanted

        return null_test

    use_vars = variables and op.family in _VARIABLE_FAMILIES
    matches = _VALUE_TESTS[op.family](op, values, use_vars)
    negated, if_exists, set_op = op.negated, op.if_exists, op.set_operator

    def test(context: ContextKeys) -> bool:
        request_values = context.get(key)
        if set_op is not None and request_values == ("",):
            request_values = ()  # an empty string is an empty data set for set operators
        if not request_values:
            if if_exists:
                return True
            if set_op == "ForAllValues":
                return True
            if set_op == "ForAnyValue":
                return False
            return negated
        if set_op is None:
            hit = any(matches(v, context) for v in request_values)
            return not hit if negated else hit
        if set_op == "ForAllValues":
            return all(matches(v, context) != negated for v in request_values)
        return any(matches(v, context) != negated for v in request_values)

    return test


# --- value tests, one per family --------------------------------------------------------


def _templates(values: tuple[str, ...], use_vars: bool) -> tuple[list[str], list[Template]]:
    plain: list[str] = []
    templated: list[Template] = []
    for v in values:
        t = parse_template(v) if use_vars else v
        if isinstance(t, Template):
            templated.append(t)
        else:
            plain.append(t)
    return plain, templated


def _string_test(op: Operator, values: tuple[str, ...], use_vars: bool) -> ValueTest:
    plain, templated = _templates(values, use_vars)
    fold = op.family == "StringIgnoreCase"
    wanted = {v.casefold() for v in plain} if fold else set(plain)

    def test(value: str, context: ContextKeys) -> bool:
        if fold:
            value = value.casefold()
        if value in wanted:
            return True
        for t in templated:
            text = t.resolve_text(context)
            if text is not None and (text.casefold() if fold else text) == value:
                return True
        return False

    return test


def _string_like_test(op: Operator, values: tuple[str, ...], use_vars: bool) -> ValueTest:
    """StringLike and StringNotLike (and their IfExists and set forms, which differ only in
    how ``_compile_check`` combines the answers): case-sensitive globs, with ``*`` and
    ``?`` "anywhere in the string" (IAM "Condition operators" page)."""
    plain, templated = _templates(values, use_vars)
    static = compile_globs(plain) if plain else None

    def test(value: str, context: ContextKeys) -> bool:
        if static is not None and static(value):
            return True
        for t in templated:
            source = t.resolve_regex(context)
            if source is not None and compile_regex(source)(value) is not None:
                return True
        return False

    return test


def _bool_test(op: Operator, values: tuple[str, ...], use_vars: bool) -> ValueTest:
    plain, templated = _templates(values, use_vars)
    wanted = {v.lower() for v in plain}

    def test(value: str, context: ContextKeys) -> bool:
        value = value.lower()
        if value in wanted:
            return True
        for t in templated:
            text = t.resolve_text(context)
            if text is not None and text.lower() == value:
                return True
        return False

    return test


def _ordered_test(parse: Callable[[str], object | None]) -> Callable[..., ValueTest]:
    """Numeric and Date operators: parse both sides, then compare."""

    def build(op: Operator, values: tuple[str, ...], use_vars: bool) -> ValueTest:
        compare = _COMPARE[op.base.removeprefix(op.family)]
        bounds = [b for b in (parse(v) for v in values) if b is not None]

        def test(value: str, context: ContextKeys) -> bool:
            got = parse(value)
            if got is None:
                return False
            return any(compare(got, b) for b in bounds)

        return test

    return build


def parse_number(text: str) -> Decimal | None:
    """A Numeric condition value, or ``None`` if it is not a number."""
    try:
        number = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


_PARTIAL_DATE = re.compile(r"^(-?\d{4})(?:-(\d{2}))?$")


def parse_date(text: str) -> float | None:
    """Seconds since the epoch for an ISO 8601 date/time or an epoch number.

    Like IAM, text without ``T`` or ``-`` is read as epoch seconds; ISO values without a
    time zone are UTC.
    """
    text = text.strip()
    if "t" not in text.lower() and "-" not in text:
        number = parse_number(text)
        return None if number is None else float(number)
    partial = _PARTIAL_DATE.match(text)
    try:
        if partial:  # "2024" or "2024-05": W3C allows year and year-month
            moment = datetime(int(partial.group(1)), int(partial.group(2) or 1), 1, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _binary_test(op: Operator, values: tuple[str, ...], use_vars: bool) -> ValueTest:
    wanted = {_decode(v) for v in values}

    def test(value: str, context: ContextKeys) -> bool:
        return _decode(value) in wanted

    return test


def _decode(text: str) -> bytes | str:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text  # not base64: compare the text itself


def _ip_test(op: Operator, values: tuple[str, ...], use_vars: bool) -> ValueTest:
    networks = []
    for v in values:
        try:  # a bare address means /32 (or /128), which ip_network does by default
            networks.append(ipaddress.ip_network(v.strip(), strict=False))
        except ValueError:
            continue

    def test(value: str, context: ContextKeys) -> bool:
        try:
            address = ipaddress.ip_address(value.strip())
        except ValueError:
            return False
        return any(address.version == n.version and address in n for n in networks)

    return test


def _arn_test(op: Operator, values: tuple[str, ...], use_vars: bool) -> ValueTest:
    return compile_arn_set(values, variables=use_vars)


_VALUE_TESTS: dict[str, Callable[[Operator, tuple[str, ...], bool], ValueTest]] = {
    "String": _string_test,
    "StringIgnoreCase": _string_test,
    "StringLike": _string_like_test,
    "Numeric": _ordered_test(parse_number),
    "Date": _ordered_test(parse_date),
    "Bool": _bool_test,
    "Binary": _binary_test,
    "Ip": _ip_test,
    "Arn": _arn_test,
}
