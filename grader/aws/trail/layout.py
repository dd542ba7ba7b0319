"""A trail as CloudTrail delivers it to S3: read it, and write records into it.

CloudTrail puts each log file at
``AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<16 chars>.json.gz``
and each file is gzipped JSON of the form ``{"Records": [...]}`` ("CloudTrail log file
examples" and "Finding your CloudTrail log files" in the CloudTrail User Guide). Files arrive
about every five minutes per region, and a file may hold any record from before its
delivery time, in no particular order. The reader accepts a copied-out folder of plain
``.json`` files too; every problem becomes a ``TrailFileError`` naming the file.

Two readers: ``read_trail`` wants every record usable (a generated trail, a test), and
``load_trail`` skips a record it cannot use (no ``eventTime``, ...) and says which, by file
and index, because one bad record among thousands should not cost a whole trail, nor pass
unnoticed. A file that is not a log file at all fails both.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from grader.aws.jsonfile import InputError, parse_json_text

from .records import TrailRecordError, event_time, parse_time, record_id

# AccountID_CloudTrail_RegionName_YYYYMMDDTHHmmZ_UniqueString.json.gz
LOG_FILE_NAME = re.compile(
    r"^(?P<account>\d{12})_CloudTrail_(?P<region>[a-z0-9-]+)_"
    r"(?P<stamp>\d{8}T\d{4}Z)_(?P<unique>[A-Za-z0-9]{16})\.json(?:\.gz)?$"
)
DELIVERY_INTERVAL = timedelta(minutes=5)
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_REQUIRED = ("eventTime", "eventSource", "eventName")
MAX_FILE_BYTES = 256 * 1024 * 1024  # a real log file is far smaller; this stops a wrong path


class TrailFileError(InputError):
    """A trail file that cannot be used. ``str()`` names the file and what is wrong (the
    same shape as any other bad file the learner gives: path, line, column, message)."""


@dataclass(frozen=True)
class LogFileName:
    """The parts of a CloudTrail log file name."""

    account: str
    region: str
    delivered: datetime
    unique: str


def parse_log_file_name(name: str) -> LogFileName | None:
    """The parts of ``name`` if it follows CloudTrail's pattern, else None."""
    match = LOG_FILE_NAME.match(name)
    if match is None:
        return None
    delivered = datetime.strptime(match["stamp"], "%Y%m%dT%H%MZ")
    return LogFileName(match["account"], match["region"], parse_time(delivered), match["unique"])


def log_file_key(account: str, region: str, delivered: datetime, unique: str) -> str:
    """The S3 key CloudTrail gives a log file delivered at ``delivered``."""
    when = parse_time(delivered)
    name = f"{account}_CloudTrail_{region}_{when:%Y%m%dT%H%M}Z_{unique}.json.gz"
    return f"AWSLogs/{account}/CloudTrail/{region}/{when:%Y/%m/%d}/{name}"


def log_files(root: str | Path) -> list[Path]:
    """Every log file under ``root`` (``.json.gz`` or ``.json``), in path order.

    Digest files (``CloudTrail-Digest``) hold hashes, not records, and are skipped.
    """
    base = Path(root)
    if base.is_file():
        return [base]
    if not base.exists():
        raise TrailFileError(base, "no such file or folder")
    found = [
        path
        for path in base.rglob("*")
        if path.is_file()
        and path.name.endswith((".json.gz", ".json"))
        and "CloudTrail-Digest" not in path.as_posix()
    ]
    return sorted(found)


@dataclass(frozen=True)
class SkippedRecord:
    """A record a reader left out, and why: ``problem`` starts with ``Records[index]``, and
    ``path`` is its file (None for records given in memory)."""

    path: Path | None
    index: int
    problem: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path is not None else ""
        return f"{where}{self.problem} (the record is skipped)"


@dataclass(frozen=True)
class TrailRead:
    """The usable records of a trail, in the order the files hold them, and those skipped."""

    records: list[dict[str, Any]]
    skipped: tuple[SkippedRecord, ...] = ()

    @property
    def warnings(self) -> tuple[str, ...]:
        """One line per skipped record, naming its file and index."""
        return tuple(str(s) for s in self.skipped)


def record_problem(index: int, record: Any) -> str | None:
    """Why ``record`` (``Records[index]``) cannot be used, or None when it can: it must be
    an object with ``eventTime`` (an ISO 8601 time), ``eventSource`` and ``eventName``."""
    if not isinstance(record, dict):
        return f"Records[{index}] is a {type(record).__name__}; each record must be an object"
    for field in _REQUIRED:
        if not isinstance(record.get(field), str) or not record[field]:
            return f"Records[{index}] has no {field}"
    try:
        event_time(record)
    except TrailRecordError as exc:
        return f"Records[{index}].eventTime: {exc}"
    return None


def split_records(
    records: Iterable[Any], path: Path | None = None
) -> tuple[list[dict[str, Any]], list[SkippedRecord]]:
    """``records`` split into those usable and those skipped (with file and index)."""
    usable: list[dict[str, Any]] = []
    skipped: list[SkippedRecord] = []
    for index, record in enumerate(records):
        problem = record_problem(index, record)
        if problem is None:
            usable.append(record)
        else:
            skipped.append(SkippedRecord(path, index, problem))
    return usable, skipped


def _file_records(path: str | Path) -> tuple[Path, list[Any]]:
    """The unchecked ``Records`` list of one log file; a file that is not a log file (not
    readable, not gzip, not JSON, no ``Records`` list) is a ``TrailFileError``."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            raise TrailFileError(p, f"larger than {MAX_FILE_BYTES:,} bytes; is it a log file?")
        raw = p.read_bytes()
    except OSError as exc:
        raise TrailFileError(p, f"cannot read it ({exc.strerror or exc})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise TrailFileError(p, f"not a readable gzip file ({exc})") from None
    elif p.name.endswith(".gz"):
        raise TrailFileError(p, "named .gz but not gzip-compressed")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TrailFileError(p, f"not UTF-8 text (byte {exc.start})") from None
    doc = parse_json_text(text, p, TrailFileError)
    if not isinstance(doc, dict) or "Records" not in doc:
        raise TrailFileError(p, 'a CloudTrail log file is an object {"Records": [...]}')
    records = doc["Records"]
    if not isinstance(records, list):
        raise TrailFileError(p, f'"Records" is a {type(records).__name__}; it must be a list')
    return p, records


def read_log_file(path: str | Path) -> list[dict[str, Any]]:
    """The records of one log file, checked: an object with a ``Records`` list of records
    that each have ``eventTime``, ``eventSource`` and ``eventName`` (the first that does not
    is a ``TrailFileError``)."""
    p, records = _file_records(path)
    for index, record in enumerate(records):
        problem = record_problem(index, record)
        if problem is not None:
            raise TrailFileError(p, problem)
    return records


def load_log_file(path: str | Path) -> TrailRead:
    """The usable records of one log file, and the records it skipped."""
    p, records = _file_records(path)
    usable, skipped = split_records(records, p)
    return TrailRead(usable, tuple(skipped))


def _trail_files(root: str | Path) -> list[Path]:
    files = log_files(root)
    if not files:
        raise TrailFileError(root, "no CloudTrail log files (*.json.gz or *.json) found here")
    return files


def read_trail(root: str | Path) -> list[dict[str, Any]]:
    """Every record under ``root`` (a trail folder in S3 layout, any folder of log files,
    or one file), in the order the files hold them; any unusable record is an error. Sort
    with ``records.sort_records``."""
    records: list[dict[str, Any]] = []
    for path in _trail_files(root):
        records.extend(read_log_file(path))
    return records


def load_trail(root: str | Path) -> TrailRead:
    """Like ``read_trail``, but a record that cannot be used is skipped and reported in
    ``TrailRead.skipped`` instead of failing the whole trail."""
    records: list[dict[str, Any]] = []
    skipped: list[SkippedRecord] = []
    for path in _trail_files(root):
        read = load_log_file(path)
        records.extend(read.records)
        skipped.extend(read.skipped)
    return TrailRead(records, tuple(skipped))


def _delivery_time(moment: datetime) -> datetime:
    """The end of the five-minute slot ``moment`` falls in: when CloudTrail delivers it."""
    slot = moment.replace(second=0, microsecond=0)
    slot -= timedelta(minutes=slot.minute % 5)
    return slot + DELIVERY_INTERVAL


def _unique(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:16])


def write_trail(
    records: Iterable[Mapping[str, Any]],
    root: str | Path,
    *,
    default_account: str = "123456789012",
    shuffle_seed: int | None = None,
) -> list[Path]:
    """Write ``records`` under ``root`` in CloudTrail's S3 layout and return the files.

    One gzipped file per region and five-minute delivery slot, in the folder of the
    recipient account (``recipientAccountId``). Names are deterministic (the unique part
    is a hash of the file's event IDs), so the same records always give the same files.
    ``shuffle_seed`` mixes the records inside each file, as CloudTrail does not order them.
    """
    groups: dict[tuple[str, str, datetime], list[Mapping[str, Any]]] = defaultdict(list)
    for record in records:
        account = str(record.get("recipientAccountId") or default_account)
        region = str(record.get("awsRegion") or "us-east-1")
        groups[(account, region, _delivery_time(event_time(record)))].append(record)
    written: list[Path] = []
    for (account, region, delivered), group in sorted(groups.items()):
        group = sorted(group, key=event_time)
        if shuffle_seed is not None:
            random.Random(f"{shuffle_seed}/{account}/{region}/{delivered}").shuffle(group)
        unique = _unique("|".join(record_id(r) for r in group))
        path = Path(root) / log_file_key(account, region, delivered, unique)
        path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"Records": group}, separators=(",", ":")).encode()
        path.write_bytes(gzip.compress(body, mtime=0))
        written.append(path)
    return written
