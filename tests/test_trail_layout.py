"""Reading and writing trails in CloudTrail's S3 layout, and the errors for bad files."""

from __future__ import annotations

import gzip
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from grader.aws.trail.generator import generate_trail
from grader.aws.trail.layout import (
    LOG_FILE_NAME,
    TrailFileError,
    load_trail,
    log_file_key,
    parse_log_file_name,
    read_trail,
    write_trail,
)
from grader.aws.trail.records import event_time

KEY = re.compile(
    r"^AWSLogs/(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/"
    r"\1_CloudTrail_\2_\3\4\5T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$"
)


def record(i: int = 0, **extra) -> dict:
    return {
        "eventVersion": "1.09",
        "eventTime": f"2024-03-01T10:0{i}:00Z",
        "eventSource": "sts.amazonaws.com",
        "eventName": "GetCallerIdentity",
        "eventID": f"id-{i}",
        "awsRegion": "eu-west-1",
        "recipientAccountId": "111122223333",
        **extra,
    }


def test_round_trip_keeps_every_record(tmp_path: Path) -> None:
    trail = generate_trail(3)
    files = trail.write(tmp_path)
    back = read_trail(tmp_path)
    assert sorted(r["eventID"] for r in back) == sorted(r["eventID"] for r in trail.records)
    assert {json.dumps(r, sort_keys=True) for r in back} == {
        json.dumps(r, sort_keys=True) for r in trail.records
    }
    assert len(files) > 1  # several five-minute deliveries, and a us-east-1 sign-in


def test_files_follow_cloudtrail_names_and_delivery(tmp_path: Path) -> None:
    files = generate_trail(5).write(tmp_path)
    for path in files:
        key = path.relative_to(tmp_path).as_posix()
        assert KEY.match(key), key
        assert path.read_bytes()[:2] == b"\x1f\x8b"  # gzip
        name = parse_log_file_name(path.name)
        assert name is not None
        assert name.delivered.minute % 5 == 0  # one delivery per five-minute slot
        records = json.loads(gzip.decompress(path.read_bytes()))["Records"]
        for rec in records:
            assert rec["awsRegion"] == name.region
            assert name.delivered - timedelta(minutes=5) <= event_time(rec) < name.delivered


def test_writing_is_deterministic(tmp_path: Path) -> None:
    trail = generate_trail(11)
    first = [p.relative_to(tmp_path / "a") for p in write_trail(trail.records, tmp_path / "a")]
    second = [p.relative_to(tmp_path / "b") for p in write_trail(trail.records, tmp_path / "b")]
    assert first == second
    assert (tmp_path / "a" / first[0]).read_bytes() == (tmp_path / "b" / second[0]).read_bytes()


def test_log_file_key_matches_the_documented_pattern() -> None:
    key = log_file_key("111122223333", "us-east-2", event_time(record()), "Mu0KsOhtH1ar15ZZ")
    assert key == (
        "AWSLogs/111122223333/CloudTrail/us-east-2/2024/03/01/"
        "111122223333_CloudTrail_us-east-2_20240301T1000Z_Mu0KsOhtH1ar15ZZ.json.gz"
    )
    assert LOG_FILE_NAME.match(key.rsplit("/", 1)[1])
    assert parse_log_file_name("notes.json") is None


def test_plain_json_and_digest_files(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"Records": [record(1), record(2)]}))
    digest = tmp_path / "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/x.json.gz"
    digest.parent.mkdir(parents=True)
    digest.write_bytes(gzip.compress(b'{"digestStartTime": "x"}'))
    assert [r["eventID"] for r in read_trail(tmp_path)] == ["id-1", "id-2"]
    assert len(read_trail(tmp_path / "a.json")) == 2


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("bad.json.gz", b'{"Records": []}', "named .gz but not gzip"),
        ("trunc.json.gz", gzip.compress(b'{"Records": []}')[:-6], "not a readable gzip"),
        ("syntax.json", b'{"Records": [\n  {"eventTime": }\n]}', "not valid JSON"),
        ("list.json", b"[]", '{"Records": [...]}'),
        ("records.json", b'{"Records": {}}', '"Records" is a dict'),
        ("item.json", b'{"Records": [1]}', "Records[0] is a int"),
        ("name.json", json.dumps({"Records": [record(eventName="")]}).encode(), "no eventName"),
        (
            "time.json",
            json.dumps({"Records": [record(eventTime="soon")]}).encode(),
            "Records[0].eventTime",
        ),
        ("latin.json", b'{"Records": ["\xff"]}', "not UTF-8"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(
    tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    path = write(tmp_path, name, data)
    with pytest.raises(TrailFileError) as caught:
        read_trail(tmp_path)
    text = str(caught.value)
    assert text.startswith(str(path))
    assert message in text


def test_json_errors_carry_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "syntax.json", b'{"Records": [\n  {"eventTime": }\n]}')
    with pytest.raises(TrailFileError) as caught:
        read_trail(path)
    assert (caught.value.line, caught.value.column) == (2, 17)
    assert str(caught.value).startswith(f"{path}:2:17: ")


def test_empty_or_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(TrailFileError, match="no CloudTrail log files"):
        read_trail(tmp_path)
    with pytest.raises(TrailFileError, match="no such file"):
        read_trail(tmp_path / "missing")


def test_load_trail_skips_unusable_records_and_names_them(tmp_path: Path) -> None:
    good = write_trail([record(1), record(2)], tmp_path)
    bad = [record(3), record(4, eventTime=None), 7, record(5, eventSource="")]
    path = write(tmp_path, "extra.json.gz", gzip.compress(json.dumps({"Records": bad}).encode()))
    read = load_trail(tmp_path)
    assert sorted(r["eventID"] for r in read.records) == ["id-1", "id-2", "id-3"]
    assert [(s.path, s.index) for s in read.skipped] == [(path, 1), (path, 2), (path, 3)]
    assert read.warnings == (
        f"{path}: Records[1] has no eventTime (the record is skipped)",
        f"{path}: Records[2] is a int; each record must be an object (the record is skipped)",
        f"{path}: Records[3] has no eventSource (the record is skipped)",
    )
    assert len(good) == 1
    with pytest.raises(TrailFileError, match=r"Records\[1\] has no eventTime"):
        read_trail(tmp_path)  # the strict reader still refuses


def test_load_trail_still_fails_on_a_file_that_is_not_a_log_file(tmp_path: Path) -> None:
    write_trail([record(1)], tmp_path)
    write(tmp_path, "bad.json.gz", b'{"Records": []}')
    with pytest.raises(TrailFileError, match="named .gz but not gzip"):
        load_trail(tmp_path)
