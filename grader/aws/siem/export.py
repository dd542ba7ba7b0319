"""A detection's DuckDB SQL turned into Athena's SQL, for CloudTrail queried at scale.

Athena (Trino underneath) reads CloudTrail through the table its documentation creates
("Create a table for CloudTrail logs in Athena"): one column per top-level record field,
lower-case (``eventid``, ``eventtime`` as a string, ``eventname``, ``sourceipaddress``,
...), ``useridentity`` as a struct (``useridentity.sessioncontext.attributes
.mfaauthenticated``), ``resources`` as an array of structs, and the free-form parts kept
as JSON strings (``requestparameters``, ``responseelements``, ``additionaleventdata``,
``serviceeventdetails``). sqlglot translates the SQL functions; this module maps what
names the data: the DuckDB ``cloudtrail`` view's columns, ``record`` JSON paths (scalar
ones and the array-crossing value lists that :mod:`grader.aws.siem.sigma` writes) and
the table. Anything with no Athena equivalent (the file a record came from, a keyword
search over the whole record, a path Athena's table does not keep) is an
:class:`ExportError`, never a silently different query.
"""

from __future__ import annotations

import re
from typing import Any

from grader.aws.errors import GraderError
from grader.aws.siem.sigma import SCALAR_TOP_FIELDS

__all__ = ["ATHENA_TABLE", "ExportError", "to_dialect"]

ATHENA_TABLE = "cloudtrail_logs"

# Record paths are matched with CloudTrail's own spelling (DuckDB's JSON paths are
# case-sensitive); Athena's column and struct field names are their lower-case forms.
# Top-level record fields that are columns of Athena's documented CloudTrail table: the
# scalar fields the Sigma converter reads directly, but for managementEvent, which that
# table does not have.
_TOP_COLUMNS = SCALAR_TOP_FIELDS - {"managementEvent"}
# Fields kept as JSON text in that table.
_JSON_COLUMNS = frozenset(
    {"requestParameters", "responseElements", "additionalEventData", "serviceEventDetails"}
)
# The userIdentity struct as the documented table declares it.
_USERIDENTITY: dict[str, Any] = {
    "type": None,
    "principalId": None,
    "arn": None,
    "accountId": None,
    "invokedBy": None,
    "accessKeyId": None,
    "userName": None,
    "onBehalfOf": {"userId": None, "identityStoreArn": None},
    "sessionContext": {
        "attributes": {"mfaAuthenticated": None, "creationDate": None},
        "sessionIssuer": {
            "type": None,
            "principalId": None,
            "arn": None,
            "accountId": None,
            "userName": None,
        },
        "ec2RoleDelivery": None,
        "webIdFederationData": {"federatedProvider": None},
    },
}
_RESOURCE_FIELDS = frozenset({"ARN", "accountId", "type"})

# The DuckDB cloudtrail view's typed columns, as Athena (Trino) expressions.
_VIEW_COLUMNS = {
    "event_id": "{q}eventid",
    "event_time": "from_iso8601_timestamp({q}eventtime)",
    "event_source": "{q}eventsource",
    "event_name": "{q}eventname",
    "aws_region": "{q}awsregion",
    "source_ip": "{q}sourceipaddress",
    "user_agent": "{q}useragent",
    "error_code": "{q}errorcode",
    "error_message": "{q}errormessage",
    "event_type": "{q}eventtype",
    "read_only": "TRY_CAST({q}readonly AS BOOLEAN)",
    "recipient_account_id": "{q}recipientaccountid",
    "user_type": "{q}useridentity.type",
    "user_arn": "{q}useridentity.arn",
    # As the store computes it: the IAM user name, else an assumed role's session name.
    "user_name": "coalesce({q}useridentity.username, CASE WHEN {q}useridentity.type IN "
    "('AssumedRole', 'FederatedUser') THEN regexp_extract({q}useridentity.arn, '[^/]+$') END)",
    "principal_id": "{q}useridentity.principalid",
    "access_key_id": "{q}useridentity.accesskeyid",
    "account_id": "{q}useridentity.accountid",
    "session_issuer_arn": "{q}useridentity.sessioncontext.sessionissuer.arn",
    "mfa_authenticated": "TRY_CAST({q}useridentity.sessioncontext.attributes.mfaauthenticated "
    "AS BOOLEAN)",
    "request_parameters": "{q}requestparameters",
    "response_elements": "{q}responseelements",
    "additional_event_data": "{q}additionaleventdata",
}
_JSON_VIEW_COLUMNS = {
    "request_parameters": "requestParameters",
    "response_elements": "responseElements",
    "additional_event_data": "additionalEventData",
}
# Functions that survive translation but do not exist in Trino.
_NOT_IN_TRINO = ("JSON_TYPE", "DATE_PART", "LIST_", "REGEXP_FULL_MATCH", "STRING_SPLIT")


class ExportError(GraderError):
    """The SQL cannot be expressed in the target dialect over its CloudTrail table."""


def to_dialect(sql: str, dialect: str = "athena", table: str = ATHENA_TABLE) -> str:
    """DuckDB SQL over the ``cloudtrail`` view as Athena SQL over Athena's CloudTrail
    table (named ``table``). ``dialect`` is "athena" (or its engine's name, "trino")."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    if dialect.lower() not in ("athena", "trino"):
        raise ExportError(f"unknown dialect {dialect!r}: only 'athena' is supported")
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except SqlglotError as e:
        raise ExportError(f"the SQL does not parse as DuckDB: {e}") from None
    names = _Names(tree, table)
    tree = tree.transform(lambda node: _rewrite(node, names), copy=False)
    for column in tree.find_all(exp.Column):
        if column.name == "record":
            raise ExportError(
                "the whole record (a keyword search, or `record` used as a value) has no "
                "Athena equivalent: its table splits the record into columns"
            )
    out = tree.sql(dialect="athena")
    code = re.sub(r"'(?:[^']|'')*'", "''", out).upper()  # string literals left out
    for name in _NOT_IN_TRINO:
        if re.search(r"\b" + name + (r"\w*\(" if name.endswith("_") else r"\s*\("), code):
            raise ExportError(f"{name.rstrip('_').lower()} has no Athena (Trino) equivalent")
    try:
        sqlglot.parse_one(out, read="trino")
    except SqlglotError as e:  # pragma: no cover - a translation bug, said plainly
        raise ExportError(f"the translated SQL does not parse as Trino: {e}") from None
    return out


def _trino(text: str) -> Any:
    import sqlglot

    return sqlglot.parse_one(text, read="trino")


class _Names:
    """What names the data in one query: the tables it reads and their aliases."""

    def __init__(self, tree: Any, table: str) -> None:
        from sqlglot import exp

        self.table = table
        self.ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
        self.aliases = {"cloudtrail"} | {
            t.alias for t in tree.find_all(exp.Table) if t.name == "cloudtrail" and t.alias
        }
        # The SELECTs whose FROM and JOINs read the cloudtrail view alone: their unqualified
        # columns are the view's (found before the rewrite renames the table).
        self.reading: set[int] = set()
        for select in tree.find_all(exp.Select):
            sources = [
                select.args.get("from_") or select.args.get("from"),
                *(select.args.get("joins") or []),
            ]
            reads = {
                s.this.name for s in sources if s is not None and isinstance(s.this, exp.Table)
            }
            if reads == {"cloudtrail"}:
                self.reading.add(id(select))

    def prefix(self, column: Any) -> str | None:
        """The Athena qualifier ("" or "alias.") for a column of the cloudtrail view, or
        None when the column belongs to something else (a CTE, a subquery)."""
        from sqlglot import exp

        if column.table:
            if column.table not in self.aliases:
                return None
            return "" if column.table == "cloudtrail" else column.table + "."
        select = column.find_ancestor(exp.Select)
        return "" if select is not None and id(select) in self.reading else None


def _rewrite(node: Any, names: _Names) -> Any:
    from sqlglot import exp

    if isinstance(node, exp.Transform):
        keys = _values_keys(node)
        if keys is not None:
            return _trino(_athena_values(keys))
    if isinstance(node, exp.JSONExtractScalar) and isinstance(node.this, exp.Column):
        keys = _path_keys(node.expression)
        q = names.prefix(node.this)
        if keys is not None and q is not None:
            column = node.this.name
            if column == "record":
                return _trino(_athena_scalar(keys, q))
            if column in _JSON_VIEW_COLUMNS:
                return _trino(_athena_scalar([_JSON_VIEW_COLUMNS[column], *keys], q))
    if isinstance(node, exp.Column) and isinstance(node.this, exp.Identifier):
        q = names.prefix(node)
        name = node.name
        if q is not None and name in _VIEW_COLUMNS:
            mapped = _trino(_VIEW_COLUMNS[name].format(q=q))
            if isinstance(node.parent, exp.Select) and node.arg_key == "expressions":
                return exp.alias_(mapped, name)  # keep the view's column names in results
            return mapped
        if q is not None and name in ("delivered_at", "file"):
            raise ExportError(
                f"column {name!r} comes from the log file's name and has no Athena equivalent"
            )
    if isinstance(node, exp.Table):
        if node.name == "cloudtrail":
            return exp.to_table(names.table, alias=node.alias or None)
        if node.name not in names.ctes:
            raise ExportError(
                f"table {node.name!r} has no Athena equivalent here: only the cloudtrail "
                "view is exported"
            )
    if isinstance(node, exp.Anonymous) and node.name.lower() == "date_part":
        raise ExportError("date_part (Sigma's time modifiers) has no Athena translation here")
    return node


def _path_keys(path: Any) -> list[str] | None:
    """The keys of a JSON path made of keys only ($.a.b), else None."""
    from sqlglot import exp

    if not isinstance(path, exp.JSONPath):
        return None
    parts = path.expressions
    if not parts or not isinstance(parts[0], exp.JSONPathRoot):
        return None
    keys = []
    for part in parts[1:]:
        if not isinstance(part, exp.JSONPathKey) or not isinstance(part.this, str):
            return None
        keys.append(part.this)
    return keys


def _values_keys(node: Any) -> list[str] | None:
    """The field path when node is exactly sigma.field_values_sql(path), else None."""
    import sqlglot
    from sqlglot import exp

    from grader.aws.siem.sigma import field_values_sql

    keys: list[str] = []
    for path in node.find_all(exp.JSONPath, bfs=False):
        one = _path_keys(path)
        if one is not None and len(one) == 1 and (not keys or keys[-1] != one[0]):
            keys.append(one[0])
    if not keys:
        return None
    if sqlglot.parse_one(field_values_sql(keys), read="duckdb") != node:
        return None
    return keys


def _sql_json_path(keys: list[str]) -> str:
    """A SQL/JSON path (json_query, lax mode): $.key, or $."key" where it needs quotes."""
    from grader.aws.siem.sigma import _json_path as duckdb_path

    return duckdb_path(keys)


def _legacy_json_path(keys: list[str]) -> str:
    """A path for Trino's json_extract_scalar: $.key, or $["key"] where it needs quotes."""
    out = "$"
    for key in keys:
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            out += "." + key
        else:
            out += '["' + key.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return out


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _struct_path(keys: list[str], shape: dict[str, Any], prefix: str) -> str:
    node: Any = shape
    names = []
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            raise ExportError(
                f"{prefix}.{'.'.join(keys)} is not a field of Athena's CloudTrail table"
            )
        names.append(key.lower())
        node = node[key]
    return ".".join([prefix, *names])


def _athena_scalar(keys: list[str], q: str = "") -> str:
    """A record path as one Athena value (NULL when missing); q qualifies the columns."""
    head = keys[0]
    if len(keys) == 1 and head in _TOP_COLUMNS:
        return q + head.lower()
    if head == "userIdentity":
        return q + _struct_path(keys[1:], _USERIDENTITY, "useridentity")
    if head in _JSON_COLUMNS:
        if len(keys) == 1:
            return q + head.lower()
        return f"json_extract_scalar({q}{head.lower()}, {_lit(_legacy_json_path(keys[1:]))})"
    raise ExportError(f"{'.'.join(keys)} is not a column of Athena's CloudTrail table")


def _athena_values(keys: list[str]) -> str:
    """A record path as the array of its values' texts, crossing arrays (SQL/JSON lax mode
    unwraps arrays on the way; the final [*] unwraps a leaf array)."""
    head = keys[0]
    if head in _JSON_COLUMNS and len(keys) > 1:
        path = "lax " + _sql_json_path(keys[1:]) + "[*]"
        return (
            f"transform(filter(CAST(json_parse(json_query({head.lower()}, {_lit(path)} WITH "
            "ARRAY WRAPPER)) AS ARRAY(JSON)), x -> json_format(x) <> 'null'), "
            "x -> coalesce(json_extract_scalar(x, '$'), json_format(x)))"
        )
    if head == "resources" and len(keys) == 2 and keys[1] in _RESOURCE_FIELDS:
        return f"filter(transform(resources, r -> r.{keys[1].lower()}), x -> x IS NOT NULL)"
    return f"filter(ARRAY[{_athena_scalar(keys)}], x -> x IS NOT NULL)"
