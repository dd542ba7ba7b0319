"""Sigma rules for CloudTrail turned into DuckDB SQL over the ``cloudtrail`` view.

pySigma does the Sigma part: it parses the YAML, applies the value modifiers and resolves
the condition (``1 of selection_*``, ``all of them``, parentheses, ``not``) into a tree of
AND/OR/NOT over ``field = value`` leaves. This module only turns that tree into a SQL
``WHERE`` clause that reads the ``record`` JSON column, with the semantics a Sigma user
expects from a SIEM (the published DuckDB backend does not fit: it quotes a dotted field
as one identifier and compares case-sensitively):

- a dotted field is a path into the record; a missing field is NULL, so it never matches a
  value, ``field: null`` matches it and ``not selection`` does match it (every leaf is
  made two-valued, never SQL NULL);
- inside the free-form parts of a record (``requestParameters``, ``responseElements``,
  ``additionalEventData``, ``resources``, ...) a path may cross JSON arrays, as
  ``requestParameters.ipPermissions.items.ipRanges.items.cidrIp`` does; the field then has
  several values and a leaf matches when any of them does, as in Elasticsearch or Splunk;
- strings compare case-insensitively unless ``|cased``; a number or boolean compares with
  the JSON number, boolean or string of the same text (``readOnly: false`` matches the
  JSON ``false``; ``mfaAuthenticated: false`` matches the string ``"false"``);
- a keyword (a value without a field) searches the whole record's JSON text.

Aggregations (``| count()``, ``| near``) and correlation rules are refused, never
mistranslated. Every problem is a :class:`SigmaRuleError` naming the rule file.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.aws.errors import GraderError

if TYPE_CHECKING:
    from sigma.rule import SigmaRule

__all__ = [
    "VIEW_TEXT_COLUMNS",
    "SigmaDetection",
    "SigmaRuleError",
    "convert",
    "field_values_sql",
]

# Paths whose value is a scalar in every CloudTrail record (CloudTrail's documented record
# fields and the whole userIdentity and tlsDetails blocks): read with one json_extract_string.
# Any other path may cross arrays and is read as a list of values.
SCALAR_TOP_FIELDS = frozenset(
    {
        "eventVersion",
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "errorCode",
        "errorMessage",
        "requestID",
        "eventID",
        "eventType",
        "apiVersion",
        "readOnly",
        "recipientAccountId",
        "sharedEventID",
        "vpcEndpointId",
        "vpcEndpointAccountId",
        "managementEvent",
        "eventCategory",
        "sessionCredentialFromConsole",
    }
)
SCALAR_BLOCKS = frozenset({"userIdentity", "tlsDetails"})

# The ``cloudtrail`` view's VARCHAR columns that are exactly json_extract_string of one
# record path (the SIEM contract's columns; user_name is computed, and the BOOLEAN and
# TIMESTAMP columns are typed, so they are not here).
VIEW_TEXT_COLUMNS: Mapping[str, str] = {
    "eventID": "event_id",
    "eventSource": "event_source",
    "eventName": "event_name",
    "awsRegion": "aws_region",
    "sourceIPAddress": "source_ip",
    "userAgent": "user_agent",
    "errorCode": "error_code",
    "errorMessage": "error_message",
    "eventType": "event_type",
    "recipientAccountId": "recipient_account_id",
    "userIdentity.type": "user_type",
    "userIdentity.arn": "user_arn",
    "userIdentity.principalId": "principal_id",
    "userIdentity.accessKeyId": "access_key_id",
    "userIdentity.accountId": "account_id",
    "userIdentity.sessionContext.sessionIssuer.arn": "session_issuer_arn",
}

_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TECHNIQUE = re.compile(r"t\d{4}(\.\d{3})?")


class SigmaRuleError(GraderError):
    """A Sigma rule that cannot be converted: broken, not for CloudTrail, or using a
    construct this converter refuses (aggregations, correlations)."""


@dataclass(frozen=True)
class SigmaDetection:
    """A converted rule. ``sql`` selects ``event_id`` from ``cloudtrail`` for every record
    the rule matches; ``where`` is its condition alone, to select other columns with."""

    sql: str
    where: str
    title: str
    id: str | None
    level: str | None
    status: str | None
    techniques: tuple[str, ...]
    file: str | None = None


def convert(rule: str | Path, *, typed_columns: bool = False) -> SigmaDetection:
    """Convert one Sigma rule (a :class:`Path` to its file, or its YAML text; a one-line
    string naming an existing file is read as that file).

    By default the SQL reads only ``record`` and ``event_id``. With ``typed_columns`` it
    reads the view's text columns that hold exactly a record field's text
    (:data:`VIEW_TEXT_COLUMNS`: ``eventName`` is ``event_name``), the same matches
    without parsing the record's JSON for those fields (about 25 times faster)."""
    path, text = _read(rule)
    where_file = str(path) if path else "<sigma rule>"
    doc = _load_single_document(text, where_file)
    parsed = _parse_rule(doc, path, where_file)
    _check_logsource(parsed, where_file)
    columns = VIEW_TEXT_COLUMNS if typed_columns else {}
    where = _Translator(where_file, columns).rule_condition(parsed)
    return SigmaDetection(
        sql=f"SELECT event_id FROM cloudtrail WHERE {where}",
        where=where,
        title=parsed.title,
        id=str(parsed.id) if parsed.id else None,
        level=parsed.level.name.lower() if parsed.level else None,
        status=parsed.status.name.lower() if parsed.status else None,
        techniques=_techniques(parsed),
        file=str(path) if path else None,
    )


# --- loading ------------------------------------------------------------------------------


def _read(rule: str | Path) -> tuple[Path | None, str]:
    if isinstance(rule, str) and "\n" not in rule and rule.strip():
        candidate = Path(rule)
        try:
            if candidate.is_file() or candidate.suffix.lower() in (".yml", ".yaml"):
                rule = candidate  # a missing .yml file is reported as such below
        except (OSError, ValueError):  # not a possible path: rule text
            pass
    if isinstance(rule, Path):
        try:
            return rule, rule.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise SigmaRuleError(f"cannot read the Sigma rule: {e}", file=rule) from None
    return None, rule


def _load_single_document(text: str, where_file: str) -> dict[str, Any]:
    import yaml
    from sigma.rule.base import SigmaYAMLLoader

    try:
        docs = [d for d in yaml.load_all(text, SigmaYAMLLoader) if d is not None]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        raise SigmaRuleError(
            f"the rule is not valid YAML: {problem}",
            file=where_file,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    if not docs:
        raise SigmaRuleError("the file holds no Sigma rule", file=where_file)
    for doc in docs:
        if isinstance(doc, dict) and "correlation" in doc:
            raise SigmaRuleError(
                "Sigma correlation rules (event_count, value_count, temporal, ...) are not "
                "supported: write the aggregation in SQL instead",
                file=where_file,
            )
        if isinstance(doc, dict) and "filter" in doc:
            raise SigmaRuleError("Sigma filter documents are not supported", file=where_file)
        if isinstance(doc, dict) and "action" in doc:
            raise SigmaRuleError(
                "multi-document Sigma collections (action: global/repeat) are not supported: "
                "one rule per file",
                file=where_file,
            )
    if len(docs) > 1:
        raise SigmaRuleError("one Sigma rule per file, this one holds several", file=where_file)
    doc = docs[0]
    if not isinstance(doc, dict):
        raise SigmaRuleError("a Sigma rule is a YAML mapping", file=where_file)
    detection = doc.get("detection")
    conditions = detection.get("condition") if isinstance(detection, dict) else None
    for condition in conditions if isinstance(conditions, list) else [conditions]:
        if isinstance(condition, str) and "|" in condition:
            raise SigmaRuleError(
                f"aggregations in a condition ({condition.strip()!r}: count(), near, ...) are "
                "not supported: write the aggregation in SQL instead",
                file=where_file,
            )
    return doc


def _parse_rule(doc: dict[str, Any], path: Path | None, where_file: str) -> SigmaRule:
    from sigma.exceptions import SigmaError, SigmaRuleLocation
    from sigma.rule import SigmaRule

    source = SigmaRuleLocation(path) if path else None
    try:
        return SigmaRule.from_dict(doc, source=source)
    except SigmaError as e:
        raise _from_sigma_error(e, where_file) from None


def _from_sigma_error(e: Exception, where_file: str) -> SigmaRuleError:
    source = getattr(e, "source", None)
    message = e.args[0] if e.args else str(e)
    return SigmaRuleError(
        f"pySigma: {message}",
        file=where_file,
        line=getattr(source, "line", None),
        column=getattr(source, "char", None),
    )


def _check_logsource(parsed: SigmaRule, where_file: str) -> None:
    product = (parsed.logsource.product or "").lower()
    service = (parsed.logsource.service or "").lower()
    if (product, service) != ("aws", "cloudtrail"):
        raise SigmaRuleError(
            "this converter reads CloudTrail only: the rule's logsource must be "
            f"'product: aws, service: cloudtrail', not 'product: {product or '-'}, "
            f"service: {service or '-'}'",
            file=where_file,
        )


def _techniques(parsed: SigmaRule) -> tuple[str, ...]:
    found: list[str] = []
    for tag in parsed.tags:
        name = str(tag.name).lower()
        is_technique = str(tag.namespace).lower() == "attack" and _TECHNIQUE.fullmatch(name)
        if is_technique and name.upper() not in found:
            found.append(name.upper())
    return tuple(found)


# --- SQL building blocks --------------------------------------------------------------------


def _q(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _json_path(keys: list[str]) -> str:
    parts = []
    for key in keys:
        if _SIMPLE_KEY.fullmatch(key):
            parts.append("." + key)
        else:
            parts.append('."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "$" + "".join(parts)


def split_field(field: str) -> list[str]:
    """A Sigma field name as the keys of its JSON path."""
    keys = field.split(".")
    if not field or any(k == "" for k in keys):
        raise ValueError(f"field name {field!r} is not a dotted path")
    return keys


def is_scalar_path(keys: list[str]) -> bool:
    """True where CloudTrail's record format has no array on the way (see SCALAR_*)."""
    return (len(keys) == 1 and keys[0] in SCALAR_TOP_FIELDS) or keys[0] in SCALAR_BLOCKS


def scalar_text_sql(keys: list[str], columns: Mapping[str, str] | None = None) -> str:
    """The text of a scalar field, NULL when missing or JSON null (from a typed column of
    the view when columns names one for this path)."""
    column = (columns or {}).get(".".join(keys))
    if column:
        return column
    return f"json_extract_string(record, {_q(_json_path(keys))})"


def field_values_sql(keys: list[str]) -> str:
    """The texts of every value a path reaches, crossing arrays at any level, as a
    VARCHAR list (empty when the field is missing; JSON nulls left out). A JSON string
    gives its content, a number or boolean its JSON text, an object its JSON text."""
    level = "[record]"
    for key in keys:
        path = _q(_json_path([key]))
        every = _q(_json_path([key]) + "[*]")
        level = (
            f"flatten(list_transform({level}, lambda x: CASE WHEN json_type(x, {path}) = "
            f"'ARRAY' THEN json_extract(x, {every}) ELSE [json_extract(x, {path})] END))"
        )
    return (
        f"list_transform(list_filter({level}, lambda x: json_type(x) <> 'NULL'), "
        "lambda x: json_extract_string(x, '$'))"
    )


def _like_pattern(value: Any) -> str:
    """A SigmaString as a LIKE pattern with backslash as the escape character."""
    from sigma.types import Placeholder, SpecialChars

    out = []
    for part in value.s:
        if isinstance(part, str):
            out.append(part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
        elif part == SpecialChars.WILDCARD_MULTI:
            out.append("%")
        elif part == SpecialChars.WILDCARD_SINGLE:
            out.append("_")
        elif isinstance(part, Placeholder):
            raise ValueError(f"placeholder %{part.name}% needs a processing pipeline")
    return "".join(out)


def _plain(value: Any) -> str:
    """The text of a SigmaString without wildcards."""
    from sigma.types import Placeholder

    for part in value.s:
        if isinstance(part, Placeholder):
            raise ValueError(f"placeholder %{part.name}% needs a processing pipeline")
    return "".join(part for part in value.s if isinstance(part, str))


def _ipv4_int_sql(t: str) -> str:
    octets = [f"TRY_CAST(split_part({t}, '.', {i}) AS BIGINT)" for i in range(1, 5)]
    return f"({octets[0]} * 16777216 + {octets[1]} * 65536 + {octets[2]} * 256 + {octets[3]})"


_IPV4_RE = r"^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$"


def _ipv6_hex_sql(t: str) -> tuple[str, str]:
    """A validity test for an IPv6 address in text form, and its 32 hex digits: '::' is
    expanded to the missing zero groups with rpad, each group left-padded to four digits
    (IPv4-in-IPv6 notations such as ::ffff:192.0.2.1 are not recognised)."""
    s = f"lower({t})"
    groups = (
        f"array_length(list_filter(string_split(replace({s}, '::', ':'), ':'), lambda g: g <> ''))"
    )
    full = f"trim(replace({s}, '::', rpad(':', CAST(greatest(2 * (8 - {groups}) + 1, 1) AS INTEGER), '0:')), ':')"
    hex_digits = (
        f"array_to_string(list_transform(string_split({full}, ':'), lambda g: lpad(g, 4, '0')), '')"
    )
    valid = (
        f"regexp_matches({s}, '^[0-9a-f:]+$') AND {s} NOT LIKE '%::%::%' AND "
        f"regexp_matches({full}, '^([0-9a-f]{{1,4}}:){{7}}[0-9a-f]{{1,4}}$')"
    )
    return valid, hex_digits


def cidr_sql(t: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    """True when the text t is an IP address inside network (never NULL for a non-NULL t)."""
    if network.version == 4:
        lo, hi = int(network.network_address), int(network.broadcast_address)
        return (
            f"(regexp_matches({t}, {_q(_IPV4_RE)}) AND "
            f"COALESCE({_ipv4_int_sql(t)} BETWEEN {lo} AND {hi}, FALSE))"
        )
    valid, hex_digits = _ipv6_hex_sql(t)
    lo = format(int(network.network_address), "032x")
    hi = format(int(network.broadcast_address), "032x")
    return f"({valid} AND {hex_digits} BETWEEN {_q(lo)} AND {_q(hi)})"


_COMPARE = {"LT": "<", "LTE": "<=", "GT": ">", "GTE": ">=", "NEQ": "<>"}
_TIME_PART = {
    "MINUTE": "minute",
    "HOUR": "hour",
    "DAY": "day",
    "WEEK": "week",
    "MONTH": "month",
    "YEAR": "year",
}


class _Unsupported(Exception):
    """A construct with no translation; turned into a SigmaRuleError naming the rule."""


class _Translator:
    """pySigma's condition tree to a SQL boolean expression that is never NULL."""

    def __init__(self, where_file: str, columns: Mapping[str, str]) -> None:
        self.where_file = where_file
        self.columns = columns
        self.lambdas = 0

    def rule_condition(self, parsed: SigmaRule) -> str:
        from sigma.exceptions import SigmaError

        parts = []
        for condition in parsed.detection.parsed_condition:
            try:
                tree = condition.parse()
                parts.append(self.node(tree))
            except SigmaError as e:
                raise _from_sigma_error(e, self.where_file) from None
            except (_Unsupported, ValueError) as e:
                raise SigmaRuleError(f"cannot convert: {e}", file=self.where_file) from None
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def var(self) -> str:
        self.lambdas += 1
        return f"v{self.lambdas}"

    # -- tree --

    def node(self, node: Any) -> str:
        from sigma.conditions import (
            ConditionAND,
            ConditionFieldEqualsValueExpression,
            ConditionNOT,
            ConditionOR,
            ConditionValueExpression,
        )

        if isinstance(node, ConditionAND):
            return "(" + " AND ".join(self.node(a) for a in node.args) + ")"
        if isinstance(node, ConditionOR):
            as_in = self.or_as_in(node)
            if as_in:
                return as_in
            return "(" + " OR ".join(self.node(a) for a in node.args) + ")"
        if isinstance(node, ConditionNOT):
            return f"(NOT {self.node(node.args[0])})"
        if isinstance(node, ConditionFieldEqualsValueExpression):
            return self.field_leaf(node.field, node.value)
        if isinstance(node, ConditionValueExpression):
            return self.keyword_leaf(node.value)
        if node is None:
            raise _Unsupported("the condition is empty")
        raise _Unsupported(f"condition element {type(node).__name__}")

    def or_as_in(self, node: Any) -> str | None:
        """A list of plain strings for one scalar field as one IN test (faster, shorter)."""
        from sigma.conditions import ConditionFieldEqualsValueExpression
        from sigma.types import SigmaCasedString, SigmaString

        args = node.args
        if len(args) < 2 or not all(
            isinstance(a, ConditionFieldEqualsValueExpression) for a in args
        ):
            return None
        fields = {a.field for a in args}
        if len(fields) != 1:
            return None
        field = fields.pop()
        values = [a.value for a in args]
        if not all(type(v) is SigmaString and not v.contains_special() for v in values):
            return None
        if any(isinstance(v, SigmaCasedString) for v in values):
            return None
        keys = split_field(field)
        if not is_scalar_path(keys):
            return None
        literals = ", ".join(f"lower({_q(_plain(v))})" for v in values)
        return f"COALESCE(lower({scalar_text_sql(keys, self.columns)}) IN ({literals}), FALSE)"

    # -- leaves --

    def any_value(self, field: str, predicate: Callable[[str], str]) -> str:
        """True when some value of field satisfies predicate (given the value's SQL text)."""
        keys = split_field(field)
        v = self.var()
        if is_scalar_path(keys):
            test = predicate(v)
            if test.count(v) == 1:  # uses the value once: no need to bind it to a name
                return f"COALESCE({predicate(scalar_text_sql(keys, self.columns))}, FALSE)"
            # Bind the value to a name (a one-element list) so it is extracted only once.
            return f"(array_length(list_filter([{scalar_text_sql(keys, self.columns)}], lambda {v}: {test})) > 0)"
        return (
            f"(array_length(list_filter({field_values_sql(keys)}, lambda {v}: {predicate(v)})) > 0)"
        )

    def has_value(self, field: str) -> str:
        keys = split_field(field)
        if is_scalar_path(keys):
            return f"({scalar_text_sql(keys, self.columns)} IS NOT NULL)"
        return f"(array_length({field_values_sql(keys)}) > 0)"

    def field_leaf(self, field: str, value: Any) -> str:
        from sigma.types import (
            SigmaExists,
            SigmaExpansion,
            SigmaFieldReference,
            SigmaNull,
        )

        if isinstance(value, SigmaExpansion):
            return "(" + " OR ".join(self.field_leaf(field, v) for v in value.values) + ")"
        if isinstance(value, SigmaNull):
            return f"(NOT {self.has_value(field)})"
        if isinstance(value, SigmaExists):
            test = self.has_value(field)
            return test if value.exists else f"(NOT {test})"
        if isinstance(value, SigmaFieldReference):
            return self.any_value(
                field,
                lambda t: self.any_value(value.field, lambda o: self.fieldref(t, o, value)),
            )
        return self.any_value(field, lambda t: self.value_test(t, value))

    @staticmethod
    def fieldref(t: str, o: str, ref: Any) -> str:
        t, o = f"lower({t})", f"lower({o})"
        if ref.starts_with and ref.ends_with:
            return f"(strpos({t}, {o}) > 0)"
        if ref.starts_with:
            return f"starts_with({t}, {o})"
        if ref.ends_with:
            return f"starts_with(reverse({t}), reverse({o}))"
        return f"({t} = {o})"

    def value_test(self, t: str, value: Any) -> str:
        """A test of one value's text t against a Sigma value (NULL only when t is)."""
        from sigma.types import (
            SigmaBool,
            SigmaCasedString,
            SigmaCIDRExpression,
            SigmaCompareExpression,
            SigmaNumber,
            SigmaQueryExpression,
            SigmaRegularExpression,
            SigmaString,
            SigmaTimestampPart,
        )

        if isinstance(value, SigmaCasedString):
            if value.contains_special():
                return f"({t} LIKE {_q(_like_pattern(value))} ESCAPE '\\')"
            return f"({t} = {_q(_plain(value))})"
        if isinstance(value, SigmaString):
            if value.contains_special():
                return f"(lower({t}) LIKE lower({_q(_like_pattern(value))}) ESCAPE '\\')"
            return f"(lower({t}) = lower({_q(_plain(value))}))"
        if isinstance(value, SigmaTimestampPart):
            part = _TIME_PART[value.timestamp_part.name]
            return f"(date_part('{part}', TRY_CAST({t} AS TIMESTAMP)) = {value.number})"
        if isinstance(value, SigmaBool):
            return f"(lower({t}) = {_q('true' if value.boolean else 'false')})"
        if isinstance(value, SigmaNumber):
            return f"(TRY_CAST({t} AS DOUBLE) = {value.number})"
        if isinstance(value, SigmaCompareExpression):
            op = _COMPARE[value.op.name]
            return f"(TRY_CAST({t} AS DOUBLE) {op} {value.number.number})"
        if isinstance(value, SigmaRegularExpression):
            return f"regexp_matches({t}, {_q(self.regex(value))})"
        if isinstance(value, SigmaCIDRExpression):
            return cidr_sql(t, value.network)
        if isinstance(value, SigmaQueryExpression):
            raise _Unsupported("query expressions from processing pipelines")
        raise _Unsupported(f"value type {type(value).__name__} ({value!r})")

    def regex(self, value: Any) -> str:
        """The regular expression with its i/m/s flags inline, checked against RE2 (DuckDB's
        engine) now rather than failing when the query runs."""
        flags = "".join(sorted(value.sigma_to_re_flag[f] for f in value.flags))
        pattern = (f"(?{flags})" if flags else "") + str(value.regexp)
        _check_re2(pattern)
        return pattern

    def keyword_leaf(self, value: Any) -> str:
        """A value without a field: a case-insensitive (unless |cased) search of the whole
        record's JSON text, as if wrapped in '*...*'."""
        from sigma.types import (
            SigmaBool,
            SigmaExpansion,
            SigmaNumber,
            SigmaRegularExpression,
            SigmaString,
            SpecialChars,
        )

        text = "CAST(record AS VARCHAR)"
        if isinstance(value, SigmaExpansion):
            return "(" + " OR ".join(self.keyword_leaf(v) for v in value.values) + ")"
        if isinstance(value, SigmaRegularExpression):
            return f"COALESCE(regexp_matches({text}, {_q(self.regex(value))}), FALSE)"
        if isinstance(value, (SigmaNumber, SigmaBool)) and not isinstance(value, SigmaString):
            value = SigmaString(str(value).lower() if isinstance(value, SigmaBool) else str(value))
        if isinstance(value, SigmaString):
            if not value.startswith(SpecialChars.WILDCARD_MULTI):
                value = SpecialChars.WILDCARD_MULTI + value
            if not value.endswith(SpecialChars.WILDCARD_MULTI):
                value = value + SpecialChars.WILDCARD_MULTI
            return f"COALESCE({self.value_test(text, value)}, FALSE)"
        raise _Unsupported(
            f"a keyword (a value without a field) of type {type(value).__name__} needs a field"
        )


def _check_re2(pattern: str) -> None:
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"SELECT regexp_matches('', {_q(pattern)})").fetchall()
    except duckdb.Error as e:
        raise _Unsupported(
            f"regular expression {pattern!r} is not valid for RE2 (DuckDB's engine: no "
            f"look-around, no back-references): {str(e).splitlines()[0]}"
        ) from None
    finally:
        con.close()
