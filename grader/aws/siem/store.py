"""A folder of CloudTrail (and identity-provider) logs as one DuckDB connection.

``open_dataset(folder)`` reads every CloudTrail file under ``folder`` with DuckDB's own JSON
reader (no record is ever parsed in Python, so a million records load in seconds) and
gives a ``Dataset`` whose connection holds the two views of the SIEM contract:

- ``cloudtrail``: one row per record, the common fields as typed columns (the
  ``CLOUDTRAIL_COLUMNS`` table), the nested parts and the whole record as JSON;
- ``idp_signins``: one row per identity-provider sign-in (Okta System Log shape, the
  ``IDP_COLUMNS`` table), read from ``idp/*.jsonl[.gz]``; empty when there is none.

The folder may be laid out as CloudTrail delivers to S3 (``AWSLogs/...``), or flat, or be a
single file; files are ``{"Records": [...]}`` JSON, gzipped or not, or JSON lines with one
record (or one ``{"Records": [...]}``) per line. ``delivered_at`` comes from a CloudTrail
log file name (its stamp is the delivery time) and is NULL for any other name. A field a
record lacks is NULL, never an error; a file that is not CloudTrail (broken JSON or gzip, no
``Records``) is a ``DatasetError`` naming the file.

The typed columns are computed once, into tables (``*_all``), and the views select from
them. Measured on a million records (2 cores): typing them costs about 3 s once, while a
view that types the stored JSON on every query took 2.2 s per detection, against 10 ms on
the table, so the table pays for itself from the second query. Loading (gunzip, JSON
parse, typing) takes about 10 CPU-seconds per million records, 5-8 s on two cores.
After loading, the connection loses access to files and its configuration is locked, so
a detection can only read these two views.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import GraderError

if TYPE_CHECKING:  # duckdb is imported only where a dataset is opened
    import duckdb

# The columns of the ``cloudtrail`` view: (name, DuckDB type, the record's JSON path).
# Field meanings: "CloudTrail record contents" and "CloudTrail userIdentity element" in the
# CloudTrail User Guide. Paths with no JSON path are computed (see _CLOUDTRAIL_SELECT).
CLOUDTRAIL_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("event_id", "VARCHAR", "$.eventID"),
    ("event_time", "TIMESTAMP", "$.eventTime"),
    ("event_source", "VARCHAR", "$.eventSource"),
    ("event_name", "VARCHAR", "$.eventName"),
    ("aws_region", "VARCHAR", "$.awsRegion"),
    ("source_ip", "VARCHAR", "$.sourceIPAddress"),
    ("user_agent", "VARCHAR", "$.userAgent"),
    ("error_code", "VARCHAR", "$.errorCode"),
    ("error_message", "VARCHAR", "$.errorMessage"),
    ("event_type", "VARCHAR", "$.eventType"),
    ("read_only", "BOOLEAN", "$.readOnly"),
    ("recipient_account_id", "VARCHAR", "$.recipientAccountId"),
    ("user_type", "VARCHAR", "$.userIdentity.type"),
    ("user_arn", "VARCHAR", "$.userIdentity.arn"),
    # userName for an IAM user (and what CloudTrail puts there for root or a federated
    # user), else the session name of an assumed role (the ARN's last part: for IAM
    # Identity Center, the person's e-mail), else NULL.
    ("user_name", "VARCHAR", "$.userIdentity.userName"),
    ("principal_id", "VARCHAR", "$.userIdentity.principalId"),
    ("access_key_id", "VARCHAR", "$.userIdentity.accessKeyId"),
    ("account_id", "VARCHAR", "$.userIdentity.accountId"),
    ("session_issuer_arn", "VARCHAR", "$.userIdentity.sessionContext.sessionIssuer.arn"),
    (
        "mfa_authenticated",
        "BOOLEAN",
        "$.userIdentity.sessionContext.attributes.mfaAuthenticated",
    ),
    ("record", "JSON", None),
    ("request_parameters", "JSON", "$.requestParameters"),
    ("response_elements", "JSON", "$.responseElements"),
    ("additional_event_data", "JSON", "$.additionalEventData"),
    ("delivered_at", "TIMESTAMP", None),
    ("file", "VARCHAR", None),
)

# The columns of the ``idp_signins`` view, from Okta System Log event fields.
IDP_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("event_id", "VARCHAR", "$.uuid"),
    ("event_time", "TIMESTAMP", "$.published"),
    ("event_type", "VARCHAR", "$.eventType"),
    ("user_email", "VARCHAR", "$.actor.alternateId"),
    ("user_name", "VARCHAR", None),  # the e-mail's part before the @
    ("source_ip", "VARCHAR", "$.client.ipAddress"),
    ("user_agent", "VARCHAR", "$.client.userAgent.rawUserAgent"),
    ("country", "VARCHAR", "$.client.geographicalContext.country"),
    ("result", "VARCHAR", "$.outcome.result"),
    ("reason", "VARCHAR", "$.outcome.reason"),
    ("record", "JSON", None),
    ("file", "VARCHAR", None),
)

# The views a detection may read, and the tables behind them (see schedule.py).
VIEWS = {"cloudtrail": "cloudtrail_all", "idp_signins": "idp_signins_all"}

_SUFFIXES = (".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
# Files beside the logs that are not logs: the generator's ground truth.
_NOT_LOGS = (("labels.json",),)
# DuckDB reads a whole {"Records": [...]} file as one JSON value, in buffers of its
# maximum_object_size; a larger limit than needed costs time (1 GB made loading a million
# records four times slower), so the limit is DuckDB's default raised to the largest file.
_DEFAULT_OBJECT_BYTES = 16 << 20
_DUCKDB_FILE = re.compile(
    r'in file "(?P<file>[^"]+)"|(?:stream|file|content of file)[: ]+\'?(?P<io>/[^\']+)'
)


class DatasetError(GraderError):
    """A dataset folder, or a file in it, that cannot be loaded."""


@dataclass(frozen=True)
class DatasetFiles:
    """The log files of a dataset folder, in path order."""

    cloudtrail: tuple[Path, ...]
    idp: tuple[Path, ...]


class Dataset:
    """One DuckDB connection over one dataset; close it (or use ``with``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, folder: Path, files: DatasetFiles):
        self.con = con
        self.folder = folder
        self.files = files

    def sql(self, text: str, params: Iterable[Any] | None = None) -> list[tuple[Any, ...]]:
        """The rows of one query (for the engine's own queries and for tests)."""
        return self.con.execute(text, list(params) if params is not None else None).fetchall()

    def count(self, view: str = "cloudtrail") -> int:
        """How many rows ``view`` holds."""
        if view not in VIEWS:
            raise ValueError(f"no view {view!r}; the views are {', '.join(VIEWS)}")
        return int(self.sql(f"SELECT count(*) FROM {view}")[0][0])

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def find_files(folder: str | Path) -> DatasetFiles:
    """The log files under ``folder`` (or ``folder`` itself, a single file).

    With an ``AWSLogs`` folder (CloudTrail's S3 layout) the CloudTrail files are the log
    files in its ``CloudTrail`` folders (an organization trail adds the organization's ID
    to the path; other services, such as AWS Config, deliver beside them); otherwise every ``.json``/``.json.gz``/``.jsonl[.gz]``/``.ndjson[.gz]``
    file, recursively, except ``labels.json`` at the top. Files under a folder named
    ``idp`` are identity-provider sign-ins. CloudTrail's digest files are skipped.
    """
    base = Path(folder)
    if not base.exists():
        raise DatasetError("no such file or folder", file=base)
    if base.is_file():
        if not base.name.endswith(_SUFFIXES):
            raise DatasetError(
                "a CloudTrail log file ends in .json, .json.gz, .jsonl or .jsonl.gz", file=base
            )
        return DatasetFiles((base,), ())
    cloudtrail: list[Path] = []
    idp: list[Path] = []
    aws_logs = (base / "AWSLogs").is_dir()
    for path in sorted(base.rglob("*")):
        if not path.name.endswith(_SUFFIXES) or not path.is_file():
            continue
        parts = path.relative_to(base).parts
        if "CloudTrail-Digest" in parts:
            continue
        if "idp" in parts[:-1]:
            idp.append(path)
        elif (not aws_logs or (parts[0] == "AWSLogs" and "CloudTrail" in parts)) and (
            parts not in _NOT_LOGS
        ):
            cloudtrail.append(path)
    if not cloudtrail:
        raise DatasetError(
            "no CloudTrail log files here (*.json, *.json.gz or *.jsonl files in this folder "
            "or below it, or AWSLogs/<account>/CloudTrail/... as CloudTrail delivers them)",
            file=base,
        )
    return DatasetFiles(tuple(cloudtrail), tuple(idp))


def open_dataset(
    folder: str | Path,
    *,
    memory_limit: str | None = None,
    threads: int | None = None,
    saved: str | Path | None = None,
) -> Dataset:
    """Load the logs under ``folder`` into a new in-memory DuckDB connection.

    ``memory_limit`` is DuckDB's (``"2GB"``); ``threads`` defaults to DuckDB's choice (the
    number of cores). Problems with the input are ``DatasetError``s naming the file.
    With ``saved`` (a database :func:`save_dataset` made of the same ``folder``), the
    connection reads that file instead, read only: the same views and rows, without
    loading the logs again.
    """
    import duckdb

    files = find_files(folder)
    con = duckdb.connect(":memory:")
    try:
        _settings(con, memory_limit, threads)
        if saved is None:
            _load_tables(con, files)
        else:
            # The tables stay in the file, read only; the views (which the schedule replay
            # redefines) are this connection's, and unqualified names find both.
            con.execute(f"ATTACH {_literal(str(saved))} AS saved (READ_ONLY)")
            con.execute("SET search_path = 'memory.main,saved.main'")
        for view, table in VIEWS.items():
            con.execute(f"CREATE VIEW {view} AS SELECT * FROM {table}")
        # From here on nothing may touch a file or change a setting (detections only read).
        con.execute("SET enable_external_access = false")
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return Dataset(con, Path(folder), files)


def save_dataset(folder: str | Path, path: str | Path) -> None:
    """Load the logs under ``folder`` into a new DuckDB database file at ``path``, for
    ``open_dataset(folder, saved=path)``: many processes can then read one load of the same
    logs (a class graded on one seed), each opening it in milliseconds."""
    import duckdb

    files = find_files(folder)
    con = duckdb.connect(str(path))
    try:
        _settings(con, None, None)
        _load_tables(con, files)
    finally:
        con.close()


def _settings(
    con: duckdb.DuckDBPyConnection, memory_limit: str | None, threads: int | None
) -> None:
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    con.execute("SET preserve_insertion_order = false")
    if memory_limit is not None:
        con.execute(f"SET memory_limit = {_literal(memory_limit)}")
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")


def _load_tables(con: duckdb.DuckDBPyConnection, files: DatasetFiles) -> None:
    """The typed tables behind the SIEM contract's views, from ``files``."""
    _load_cloudtrail(con, files.cloudtrail)
    _load_idp(con, files.idp)


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _objects(paths: Iterable[Path], *, filename: bool = True) -> str:
    """DuckDB's reader of JSON values, one row per document, per line of JSON lines, or
    per element of a top-level array (``format = 'auto'`` tells them apart)."""
    paths = list(paths)
    files = "[" + ", ".join(_literal(str(p)) for p in paths) + "]"
    return (
        f"read_json_objects({files}, format = 'auto', filename = {str(filename).lower()}, "
        f"maximum_object_size = {_object_limit(paths)})"
    )


def _object_limit(paths: Iterable[Path]) -> int:
    """A maximum_object_size that fits the largest file: its size, or for gzip the
    uncompressed size its trailer records (modulo 4 GiB, RFC 1952's ISIZE)."""
    largest = 0
    for path in paths:
        try:
            size = path.stat().st_size
            if path.name.endswith(".gz") and size >= 4:
                with path.open("rb") as handle:
                    handle.seek(-4, 2)
                    size = max(size, int.from_bytes(handle.read(4), "little"))
        except OSError:
            continue  # DuckDB's own read names the file
        largest = max(largest, size)
    limit = _DEFAULT_OBJECT_BYTES
    while limit <= largest:
        limit *= 2
    return limit


def _duckdb_error(exc: Exception, fallback: Path | None) -> DatasetError:
    """A DuckDB reading error as a DatasetError naming the file (DuckDB names it in its
    message: 'Malformed JSON in file "x"', 'Input is not a GZIP stream: x')."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    found = _DUCKDB_FILE.search(first)
    file = (found["file"] or found["io"]).strip() if found else None
    file = file or (str(fallback) if fallback else None)
    first = re.sub(r"^[A-Za-z ]+Error: ", "", first)
    if file:
        first = first.replace(f' in file "{file}"', "").replace(f": {file}", "")
        first = first.replace(f"'{file}'", "it").replace(file, "it")
    return DatasetError(f"not a readable CloudTrail log file ({first.strip()})", file=file)


Columns = tuple[tuple[str, str, str | None], ...]


def _slots(columns: Columns) -> dict[str, str]:
    """Each extracted column's place in the list ``v`` that ``_extract`` makes."""
    named = [name for name, _, path in columns if path]
    return {name: f"v[{index}]" for index, name in enumerate(named, start=1)}


def _extract(columns: Columns) -> str:
    """Every JSON path of ``columns`` from ``record`` in one parse per record
    (``json_extract_string`` with a list of paths gives a list of strings)."""
    paths = ", ".join(_literal(path) for _, _, path in columns if path)
    return f"json_extract_string(record, [{paths}]) AS v"


def _typed(columns: Columns, computed: dict[str, str]) -> str:
    """The SELECT list of typed columns from ``v``. TRY_CAST, so that a value of the wrong
    type is NULL rather than an error for the whole dataset."""
    out = []
    slots = _slots(columns)
    for name, kind, _ in columns:
        value = slots.get(name, "")
        if name in computed:
            out.append(f"{computed[name]} AS {name}")
        elif kind == "VARCHAR":
            out.append(f"{value} AS {name}")
        elif kind == "TIMESTAMP":
            # CloudTrail writes UTC with a Z; another offset is converted to UTC.
            out.append(f"TRY_CAST(TRY_CAST({value} AS TIMESTAMPTZ) AS TIMESTAMP) AS {name}")
        else:
            out.append(f"TRY_CAST({value} AS {kind}) AS {name}")
    return ",\n  ".join(out)


# CloudTrail's log file name (layout.LOG_FILE_NAME) in DuckDB's regular expressions: the
# stamp, its delivery time, is group 1.
_SQL_LOG_FILE_NAME = (
    r"(?:^|[/\\])\d{12}_CloudTrail_[a-z0-9-]+_(\d{8}T\d{4})Z_[A-Za-z0-9]{16}\.json(?:\.gz)?$"
)


def _load_cloudtrail(con: duckdb.DuckDBPyConnection, paths: tuple[Path, ...]) -> None:
    """Every record of every file into ``cloudtrail_all``, typed.

    One pass of ``read_json`` reads the ``{"Records": [...]}`` documents (several per file
    too, as JSON lines); a file it cannot read as such (a top-level array, JSON lines of
    bare records) is read again on its own as JSON values, each value a record.
    """
    import duckdb

    columns = ", ".join(f"{name} {kind}" for name, kind, _ in CLOUDTRAIL_COLUMNS)
    con.execute(f"CREATE TABLE cloudtrail_all ({columns})")
    documents = list(paths)
    others: list[str] = []
    while documents:
        try:
            _insert_records(con, _documents_source(documents))
            break
        except duckdb.Error as exc:
            found = _DUCKDB_FILE.search(str(exc).splitlines()[0] if str(exc) else "")
            file = found["file"] if found and found["file"] else None
            if "transform error" not in str(exc) or file not in {str(p) for p in documents}:
                raise _duckdb_error(exc, paths[0] if len(paths) == 1 else None) from None
            documents = [p for p in documents if str(p) != file]
            others.append(file)
    loaded = {row[0] for row in con.execute("SELECT DISTINCT file FROM cloudtrail_all").fetchall()}
    for file in others + [str(p) for p in documents if str(p) not in loaded]:
        _load_other_file(con, file)
    bad = con.execute(
        "SELECT file, left(record::VARCHAR, 60) FROM cloudtrail_all "
        "WHERE event_id IS NULL AND json_type(record) <> 'OBJECT' LIMIT 1"
    ).fetchall()
    if bad:
        raise DatasetError(
            f"Records holds {bad[0][1]}, which is not a record (each must be an object)",
            file=bad[0][0],
        )


def _delivered_at(filename: str) -> str:
    """SQL for the delivery time in a CloudTrail log file name (NULL for other names)."""
    pattern = _literal(_SQL_LOG_FILE_NAME)
    return f"try_strptime(nullif(regexp_extract({filename}, {pattern}, 1), ''), '%Y%m%dT%H%M')"


def _documents_source(paths: list[Path]) -> str:
    """(file, delivered_at, record) of every record of ``{"Records": [...]}`` documents."""
    files = "[" + ", ".join(_literal(str(p)) for p in paths) + "]"
    return (
        f"SELECT filename AS file, {_delivered_at('filename')} AS delivered_at, "
        f"unnest(Records) AS record FROM read_json({files}, columns = {{'Records': 'JSON[]'}}, "
        "format = 'unstructured', records = true, filename = true, "
        f"maximum_object_size = {_object_limit(paths)})"
    )


def _insert_records(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Type the records of ``source`` (file, delivered_at, record) into cloudtrail_all:
    one JSON parse per record for all the paths, then casts."""
    v = _slots(CLOUDTRAIL_COLUMNS)
    select = _typed(
        CLOUDTRAIL_COLUMNS,
        {
            "user_name": (
                f"coalesce({v['user_name']}, CASE WHEN {v['user_type']} IN "
                f"('AssumedRole', 'FederatedUser') THEN regexp_extract({v['user_arn']}, "
                "'[^/]+$') END)"
            ),
            "record": "record",
            "delivered_at": "delivered_at",
            "file": "file",
        },
    )
    # Not sorted by event time: sorting a million wide rows costs about 2 s, more than it
    # saves (files in path order are already in time order within a region).
    con.execute(
        f"""INSERT INTO cloudtrail_all
        WITH raw AS ({source}),
        parsed AS (SELECT file, delivered_at, record, {_extract(CLOUDTRAIL_COLUMNS)} FROM raw)
        SELECT {select} FROM parsed"""
    )


def _load_other_file(con: duckdb.DuckDBPyConnection, file: str) -> None:
    """A file that gave no record as ``{"Records": [...]}``: an empty ``Records`` list is a
    log file with nothing in it; JSON values that are records (JSON lines, an array) are
    records; anything else (an empty file, other JSON) is not CloudTrail."""
    import duckdb

    objects = _objects([Path(file)], filename=False)
    try:
        values = con.execute(
            "SELECT json_type(json), json_type(json, '$.Records'), "
            f"json_exists(json, '$.eventTime') OR json_exists(json, '$.eventID') FROM {objects}"
        ).fetchall()
    except duckdb.Error as exc:
        raise _duckdb_error(exc, Path(file)) from None
    if values and all(kind == "OBJECT" and records == "ARRAY" for kind, records, _ in values):
        return
    if values and all(kind == "OBJECT" and looks for kind, _, looks in values):
        _insert_records(
            con,
            f"SELECT {_literal(file)} AS file, {_delivered_at(_literal(file))} AS delivered_at, "
            f"json AS record FROM {objects}",
        )
        return
    what = "empty" if not values else "not a CloudTrail log file"
    raise DatasetError(
        f'the file is {what}; a CloudTrail log file is an object {{"Records": [...]}} '
        "(or JSON lines of records)",
        file=file,
    )


def _load_idp(con: duckdb.DuckDBPyConnection, paths: tuple[Path, ...]) -> None:
    """Identity-provider sign-ins (JSON lines); an empty table when there are none."""
    import duckdb

    if paths:
        source = f"SELECT filename AS file, json AS record FROM {_objects(paths)}"
    else:
        source = "SELECT NULL::VARCHAR AS file, NULL::JSON AS record WHERE false"
    email = _slots(IDP_COLUMNS)["user_email"]
    select = _typed(
        IDP_COLUMNS,
        {
            "user_name": f"nullif(split_part({email}, '@', 1), '')",
            "record": "record",
            "file": "file",
        },
    )
    try:
        con.execute(
            f"""CREATE TABLE idp_signins_all AS
            WITH raw AS ({source}),
            parsed AS (SELECT file, record, {_extract(IDP_COLUMNS)} FROM raw)
            SELECT {select} FROM parsed ORDER BY event_time, event_id"""
        )
    except duckdb.Error as exc:
        raise _duckdb_error(exc, paths[0] if len(paths) == 1 else None) from None
