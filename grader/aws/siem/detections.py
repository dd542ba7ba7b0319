"""SQL detections: a file format with an ATT&CK header, a read-only guard, and running one.

A detection is one file: header comment lines, then one query over the ``cloudtrail`` and
``idp_signins`` views (store.py) that selects at least ``event_id``, one row per hit::

    -- id: console-login-without-mfa
    -- title: Console sign-in without MFA
    -- technique: T1078.004
    -- severity: high
    SELECT event_id FROM cloudtrail
    WHERE event_name = 'ConsoleLogin' AND additional_event_data->>'MFAUsed' = 'No'

Header keys: ``id``, ``title``, ``technique`` (one or more lines, or a comma-separated list,
each an ATT&CK ID of attack.py) and ``severity`` (low, medium, high, critical) are required;
``description`` is optional. Other ``-- text`` lines are comments. A detection only reads:
``check_read_only`` parses it with sqlglot and refuses anything but one SELECT over those
two views (no other statement, no table function, no file or environment access), and the
dataset's connection has file access switched off anyway (defence in depth).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import GraderError
from .attack import TechniqueError, technique
from .store import VIEWS

if TYPE_CHECKING:
    from .store import Dataset

SEVERITIES = ("low", "medium", "high", "critical")
REQUIRED_KEYS = ("id", "title", "technique", "severity")
OPTIONAL_KEYS = ("description",)
DEFAULT_TIMEOUT = 30.0  # seconds; a real detection over a million records takes well under 1

# Statements and clauses that write, configure or reach outside (sqlglot's class names).
_REFUSED_NODES = {
    "Insert": "INSERT",
    "Update": "UPDATE",
    "Delete": "DELETE",
    "Merge": "MERGE",
    "Create": "CREATE",
    "Drop": "DROP",
    "Alter": "ALTER",
    "Copy": "COPY",
    "Attach": "ATTACH",
    "Detach": "DETACH",
    "Install": "INSTALL",
    "Pragma": "PRAGMA",
    "Set": "SET",
    "Use": "USE",
    "Into": "SELECT ... INTO",
    "Export": "EXPORT",
    "LoadData": "LOAD",
    "Transaction": "a transaction",
    "Commit": "a transaction",
    "Rollback": "a transaction",
}
# Functions that read files, the environment or run other SQL (DuckDB's names, by prefix).
_REFUSED_FUNCTIONS = (
    "read_",
    "parquet_",
    "sniff_csv",
    "glob",
    "getenv",
    "query",
    "iceberg_",
    "delta_",
    "sqlite_",
    "postgres_",
    "mysql_",
    "duckdb_",
    "pragma_",
    "load_",
    "install_",
    "httpfs",
    "http_",
    "s3_",
    "current_setting",
    "which_secret",
)
# Table functions that only make values.
_ALLOWED_TABLE_FUNCTIONS = ("unnest", "generate_series", "range")
_KEY = re.compile(r"^--\s*([A-Za-z][\w-]*)\s*:\s*(.*?)\s*$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class DetectionError(GraderError):
    """A detection file that cannot be used, or a query that failed; names the file."""


@dataclass(frozen=True)
class Detection:
    """One detection: its header and its query (``query_line``: the file's line where the
    query starts, for messages)."""

    id: str
    title: str
    techniques: tuple[str, ...]
    severity: str
    query: str
    path: Path | None = None
    query_line: int = 1
    description: str | None = None


@dataclass(frozen=True)
class Hits:
    """A detection's hits: distinct event IDs in event-time order (an ID found in neither
    view comes last), with their times, and how long the query took."""

    detection: str
    event_ids: tuple[str, ...]
    event_times: tuple[datetime | None, ...]
    seconds: float

    def __len__(self) -> int:
        return len(self.event_ids)

    def __iter__(self) -> Iterator[str]:
        return iter(self.event_ids)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self.event_ids


def load_detection(path: str | Path) -> Detection:
    """Read and validate a detection file (header, techniques, read-only query)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DetectionError("no such file", file=p) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DetectionError(f"cannot read it ({exc})", file=p) from None
    return parse_detection(text, p)


def parse_detection(text: str, path: str | Path | None = None) -> Detection:
    """A detection from its text (``path`` only names it in messages)."""
    p = Path(path) if path is not None else None
    values: dict[str, list[tuple[str, int]]] = {}
    lines = text.splitlines()
    query_start = len(lines)
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("--"):
            query_start = number - 1
            break
        match = _KEY.match(line)
        if match is None:
            continue  # a comment
        key, value = match[1].lower(), match[2]
        if key not in REQUIRED_KEYS + OPTIONAL_KEYS:
            known = ", ".join(REQUIRED_KEYS + OPTIONAL_KEYS)
            raise DetectionError(
                f"unknown header key {match[1]!r}; the keys are {known}", file=p, line=number
            )
        if key != "technique" and key in values:
            raise DetectionError(f"header key {key!r} given twice", file=p, line=number)
        if not value:
            raise DetectionError(f"header key {key!r} has no value", file=p, line=number)
        values.setdefault(key, []).append((value, number))
    missing = [k for k in REQUIRED_KEYS if k not in values]
    if missing:
        raise DetectionError(
            "the header lacks "
            + ", ".join(f"'-- {k}: ...'" for k in missing)
            + " (a detection starts with comment lines: id, title, technique, severity)",
            file=p,
            line=1,
        )
    ident, ident_line = values["id"][0]
    if not _ID.match(ident):
        raise DetectionError(
            f"id {ident!r}: use letters, digits, '-', '_' or '.', no spaces",
            file=p,
            line=ident_line,
        )
    severity, severity_line = values["severity"][0]
    if severity.lower() not in SEVERITIES:
        raise DetectionError(
            f"severity {severity!r}: it is one of {', '.join(SEVERITIES)}",
            file=p,
            line=severity_line,
        )
    techniques: list[str] = []
    for value, number in values["technique"]:
        for item in (part.strip() for part in value.split(",")):
            try:
                techniques.append(technique(item).id)
            except TechniqueError as exc:
                raise DetectionError(exc.message, file=p, line=number) from None
    query = "\n".join(lines[query_start:]).strip()
    if not query:
        raise DetectionError("there is no query after the header", file=p, line=max(1, query_start))
    query = strip_query(query)
    check_read_only(query, path=p, first_line=query_start + 1)
    description = values.get("description", [(None, 0)])[0][0]
    return Detection(
        ident,
        values["title"][0][0],
        tuple(dict.fromkeys(techniques)),
        severity.lower(),
        query,
        p,
        query_start + 1,
        description,
    )


def strip_query(sql: str) -> str:
    """``sql`` without the semicolons and comments after its last token, so it can be
    wrapped as a subquery."""
    from sqlglot.dialects.duckdb import DuckDB

    try:
        tokens = DuckDB().tokenize(sql)
    except Exception:  # sqlglot's TokenError; check_read_only reports it
        return sql.strip()
    meaningful = [t for t in tokens if t.text != ";"]
    return sql[: meaningful[-1].end + 1] if meaningful else sql.strip()


def check_read_only(sql: str, *, path: Path | None = None, first_line: int = 1) -> None:
    """Refuse ``sql`` unless it is one SELECT (or WITH ... SELECT) reading only the views
    ``cloudtrail`` and ``idp_signins`` and its own CTEs: a ``DetectionError`` saying what
    is refused and why."""
    import sqlglot
    from sqlglot import exp

    def refuse(what: str, node: exp.Expression | None = None) -> DetectionError:
        line = None
        if path is not None and node is not None and node.meta.get("line") is not None:
            line = first_line + int(node.meta["line"]) - 1
        return DetectionError(
            f"{what}; a detection is one SELECT query that only reads the cloudtrail "
            "and idp_signins views",
            file=path,
            line=line,
        )

    quiet = logging.getLogger("sqlglot")  # its "falling back to a Command" warnings
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as exc:
        error = exc.errors[0] if exc.errors else {}
        line = error.get("line")
        raise DetectionError(
            f"the query cannot be parsed: {error.get('description', exc)}",
            file=path,
            line=first_line + line - 1 if line else None,
            column=error.get("col"),
        ) from None
    except sqlglot.errors.SqlglotError as exc:
        raise DetectionError(f"the query cannot be parsed: {exc}", file=path) from None
    finally:
        quiet.setLevel(level)
    if len(statements) != 1:
        raise refuse(f"the file holds {len(statements)} statements")
    tree = statements[0]
    for node in tree.walk():
        name = type(node).__name__
        if name == "Command":
            raise refuse(f"{str(node.this).upper()} is not allowed", node)
        if name in _REFUSED_NODES:
            raise refuse(f"{_REFUSED_NODES[name]} is not allowed", node)
    if not isinstance(tree, exp.Query):
        raise refuse(f"{tree.sql(dialect='duckdb')[:40]!r} is not a query")
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for func in tree.find_all(exp.Func):
        fname = (func.name if isinstance(func, exp.Anonymous) else func.sql_name()).lower()
        if fname.startswith(_REFUSED_FUNCTIONS):
            raise refuse(f"the function {fname}() reads outside the dataset", func)
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            inner = table.this
            if isinstance(inner, exp.Anonymous):
                fname = inner.name.lower()
            elif isinstance(inner, exp.Func):
                fname = inner.sql_name().lower()
            else:
                fname = inner.key.lower()
            if fname in _ALLOWED_TABLE_FUNCTIONS:
                continue
            raise refuse(f"the table function {fname}() is not allowed", table)
        tname = table.name.lower()
        if table.this.quoted and ("." in tname or "/" in tname):
            raise refuse(f"reading the file {table.name!r} is not allowed", table)
        qualified = [p.lower() for p in (table.catalog, table.db) if p]
        if qualified and qualified not in (["main"], ["memory", "main"]):
            raise refuse(f"the table {table.sql(dialect='duckdb')} is not allowed", table)
        if tname not in ctes and tname not in VIEWS:
            raise refuse(
                f"the table {table.name!r} is not one of the views (cloudtrail, idp_signins)",
                table,
            )


def run_detection(
    dataset: Dataset, detection: Detection, *, timeout: float = DEFAULT_TIMEOUT
) -> Hits:
    """Run ``detection`` on ``dataset``: its distinct event IDs in event-time order. A
    query that fails, returns no ``event_id`` column or runs longer than ``timeout``
    seconds is a ``DetectionError`` naming the detection's file."""
    import duckdb

    query = strip_query(detection.query)
    check_read_only(query, path=detection.path, first_line=detection.query_line)
    where = detection.path if detection.path is not None else detection.id
    start = time.perf_counter()
    with time_limit(dataset.con, timeout) as limit:
        try:
            columns = [
                d[0]
                for d in dataset.con.execute(f"SELECT * FROM (\n{query}\n) LIMIT 0").description
            ]
            if "event_id" not in (c.lower() for c in columns):
                raise DetectionError(
                    "the query returns no event_id column (it returns "
                    + ", ".join(columns)
                    + "); select the event_id of each hit",
                    file=where,
                )
            rows = dataset.con.execute(
                f"""WITH __detection AS (
{query}
), __hit AS (
    SELECT DISTINCT CAST(event_id AS VARCHAR) AS event_id FROM __detection
    WHERE event_id IS NOT NULL
), __time AS (
    SELECT event_id, event_time FROM cloudtrail
    UNION ALL SELECT event_id, event_time FROM idp_signins
)
SELECT __hit.event_id, min(__time.event_time) AS t
FROM __hit LEFT JOIN __time USING (event_id)
GROUP BY __hit.event_id ORDER BY t NULLS LAST, __hit.event_id"""
            ).fetchall()
        except duckdb.InterruptException:
            if limit.fired:
                raise DetectionError(
                    f"the query ran longer than {timeout:g} s and was stopped; "
                    "is there a join without a condition?",
                    file=where,
                ) from None
            raise
        except duckdb.Error as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            raise DetectionError(f"the query failed: {message}", file=where) from None
    return Hits(
        detection.id,
        tuple(r[0] for r in rows),
        tuple(r[1] for r in rows),
        time.perf_counter() - start,
    )


class time_limit:
    """Interrupt the connection's running query after ``seconds`` (a timer thread calls
    DuckDB's ``interrupt``, which ends the query with an InterruptException)."""

    def __init__(self, con: object, seconds: float):
        self.con = con
        self.seconds = seconds
        self.fired = False
        self._timer: threading.Timer | None = None

    def _fire(self) -> None:
        self.fired = True
        self.con.interrupt()  # type: ignore[attr-defined]

    def __enter__(self) -> time_limit:
        self._timer = threading.Timer(self.seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._timer is not None
        self._timer.cancel()
