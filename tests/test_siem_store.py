"""Does any folder of CloudTrail files load into the contract's DuckDB views, typed right?

The records here are hand-written in CloudTrail's own shape (the User Guide's examples of
root, IAM user, assumed role, IAM Identity Center, AWS service, console sign-in and S3 data
events), so the views are tested on what AWS writes, not on what the generator writes.
The builders are shared with the other SIEM tests.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from grader.aws.siem.store import (
    CLOUDTRAIL_COLUMNS,
    IDP_COLUMNS,
    DatasetError,
    open_dataset,
    save_dataset,
)

ACCOUNT = "111122223333"


def identity(kind: str, **extra: Any) -> dict[str, Any]:
    """A userIdentity element of each kind, as CloudTrail writes it."""
    if kind == "root":
        return {
            "type": "Root",
            "principalId": ACCOUNT,
            "arn": f"arn:aws:iam::{ACCOUNT}:root",
            "accountId": ACCOUNT,
            "accessKeyId": "",
        }
    if kind == "iam":
        return {
            "type": "IAMUser",
            "principalId": "AIDAJ45Q7YFFAREXAMPLE",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/taro.yamada",
            "accountId": ACCOUNT,
            "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
            "userName": "taro.yamada",
            **extra,
        }
    if kind == "role":
        return {
            "type": "AssumedRole",
            "principalId": "AROAIDPPEZS35WEXAMPLE:i-0abcd1234ef567890",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/app-server/i-0abcd1234ef567890",
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAIOSFODNN7EXAMPLE",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAIDPPEZS35WEXAMPLE",
                    "arn": f"arn:aws:iam::{ACCOUNT}:role/app-server",
                    "accountId": ACCOUNT,
                    "userName": "app-server",
                },
                "attributes": {"creationDate": "2026-11-02T08:00:00Z", "mfaAuthenticated": "false"},
                "ec2RoleDelivery": "2.0",
            },
        }
    if kind == "sso":
        role = "AWSReservedSSO_AdministratorAccess_0123456789abcdef"
        return {
            "type": "AssumedRole",
            "principalId": "AROA123456789EXAMPLE:hanako.sato@example.co.jp",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/hanako.sato@example.co.jp",
            "accountId": ACCOUNT,
            "accessKeyId": "ASIA123456789EXAMPLE",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROA123456789EXAMPLE",
                    "arn": f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/ap-northeast-1/{role}",
                    "accountId": ACCOUNT,
                    "userName": role,
                },
                "attributes": {"creationDate": "2026-11-02T08:59:00Z", "mfaAuthenticated": "true"},
            },
        }
    if kind == "service":
        return {"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"}
    raise ValueError(kind)


def record(
    event_id: str,
    when: str,
    name: str = "DescribeInstances",
    source: str = "ec2.amazonaws.com",
    who: str = "iam",
    **fields: Any,
) -> dict[str, Any]:
    """One CloudTrail record (eventVersion 1.09) with the usual fields."""
    base: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": identity(who),
        "eventTime": when,
        "eventSource": source,
        "eventName": name,
        "awsRegion": "ap-northeast-1",
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.5.0 lang/python#3.11.9",
        "requestParameters": None,
        "responseElements": None,
        "requestID": "8b6c5f2e-3a1d-4c55-9f0a-2d1e7b9c1a01",
        "eventID": event_id,
        "readOnly": name.startswith(("Describe", "List", "Get")),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    base.update(fields)
    return base


def console_login(event_id: str, when: str, who: str, mfa: str, result: str = "Success") -> dict:
    return record(
        event_id,
        when,
        "ConsoleLogin",
        "signin.amazonaws.com",
        who,
        eventType="AwsConsoleSignIn",
        readOnly=False,
        userAgent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
        responseElements={"ConsoleLogin": result},
        additionalEventData={
            "LoginTo": "https://console.aws.amazon.com/console/home",
            "MobileVersion": "No",
            "MFAUsed": mfa,
        },
    )


def sample_records() -> list[dict[str, Any]]:
    """One record of each kind the views must type right."""
    return [
        console_login("00000000-0000-4000-8000-000000000001", "2026-11-02T09:00:00Z", "root", "No"),
        console_login("00000000-0000-4000-8000-000000000002", "2026-11-02T09:01:00Z", "iam", "Yes"),
        record(
            "00000000-0000-4000-8000-000000000003",
            "2026-11-02T09:02:00Z",
            "CreateAccessKey",
            "iam.amazonaws.com",
            "iam",
            requestParameters={"userName": "jiro.suzuki"},
            errorCode="AccessDenied",
            errorMessage="User: arn:aws:iam::111122223333:user/taro.yamada is not authorized",
        ),
        record("00000000-0000-4000-8000-000000000004", "2026-11-02T09:03:00Z", who="role"),
        record(
            "00000000-0000-4000-8000-000000000005",
            "2026-11-02T09:04:00Z",
            "StopLogging",
            "cloudtrail.amazonaws.com",
            "sso",
            requestParameters={"name": "org-trail"},
            readOnly=False,
        ),
        record(
            "00000000-0000-4000-8000-000000000006",
            "2026-11-02T09:05:00Z",
            "RotateKey",
            "kms.amazonaws.com",
            "service",
            eventType="AwsServiceEvent",
            sourceIPAddress="kms.amazonaws.com",
            userAgent="kms.amazonaws.com",
            readOnly=False,
        ),
        record(
            "00000000-0000-4000-8000-000000000007",
            "2026-11-02T09:06:00Z",
            "GetObject",
            "s3.amazonaws.com",
            "role",
            requestParameters={"bucketName": "payroll-exports", "key": "2026/11/payroll.csv"},
            additionalEventData={"bytesTransferredOut": 18234, "x-amz-id-2": "abc"},
            resources=[
                {
                    "type": "AWS::S3::Object",
                    "ARN": "arn:aws:s3:::payroll-exports/2026/11/payroll.csv",
                }
            ],
            managementEvent=False,
            eventCategory="Data",
        ),
    ]


def write_log(
    root: Path,
    records: list[dict[str, Any]],
    *,
    delivered: str = "20261102T0915Z",
    region: str = "ap-northeast-1",
    unique: str = "AbCdEfGhIjKlMnOp",
    gz: bool = True,
    layout: bool = True,
) -> Path:
    """A log file as CloudTrail names it; under AWSLogs/... when ``layout``, else flat."""
    name = f"{ACCOUNT}_CloudTrail_{region}_{delivered}_{unique}.json" + (".gz" if gz else "")
    day = f"{delivered[:4]}/{delivered[4:6]}/{delivered[6:8]}"
    folder = root / f"AWSLogs/{ACCOUNT}/CloudTrail/{region}/{day}" if layout else root
    folder.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"Records": records}).encode()
    path = folder / name
    path.write_bytes(gzip.compress(body) if gz else body)
    return path


def signin(uuid: str, when: str, email: str, result: str, ip: str = "203.0.113.10") -> dict:
    """An identity-provider sign-in in the shape of an Okta System Log event."""
    return {
        "uuid": uuid,
        "published": when,
        "eventType": "user.session.start",
        "actor": {"id": "00u1a2b3c4", "type": "User", "alternateId": email, "displayName": "X"},
        "client": {
            "ipAddress": ip,
            "userAgent": {"rawUserAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)"},
            "geographicalContext": {"country": "Japan", "city": "Tokyo"},
        },
        "outcome": {
            "result": result,
            "reason": None if result == "SUCCESS" else "INVALID_CREDENTIALS",
        },
        "displayMessage": "User login to Okta",
    }


def write_idp(root: Path, events: list[dict[str, Any]], day: str = "2026-11-02") -> Path:
    (root / "idp").mkdir(parents=True, exist_ok=True)
    path = root / "idp" / f"signins-{day}.jsonl.gz"
    path.write_bytes(gzip.compress("".join(json.dumps(e) + "\n" for e in events).encode()))
    return path


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    write_log(tmp_path, sample_records()[:4])
    write_log(tmp_path, sample_records()[4:], delivered="20261102T0920Z", unique="QrStUvWxYz012345")
    write_idp(
        tmp_path,
        [
            signin(
                "a1b2c3d4-0000-11ef-9f0a-000000000001",
                "2026-11-02T08:58:01.123Z",
                "hanako.sato@example.co.jp",
                "SUCCESS",
            ),
            signin(
                "a1b2c3d4-0000-11ef-9f0a-000000000002",
                "2026-11-02T08:50:00.000Z",
                "taro.yamada@example.co.jp",
                "FAILURE",
            ),
        ],
    )
    (tmp_path / "labels.json").write_text('{"seed": 1, "scenarios": []}')
    return tmp_path


def row(dataset, event_id: str) -> dict[str, Any]:
    result = dataset.con.execute("SELECT * FROM cloudtrail WHERE event_id = ?", [event_id])
    names = [d[0] for d in result.description]
    values = result.fetchall()
    assert len(values) == 1, values
    return dict(zip(names, values[0], strict=True))


def test_the_views_have_exactly_the_contract_columns_and_types(sample):
    with open_dataset(sample) as dataset:
        for view, columns in (("cloudtrail", CLOUDTRAIL_COLUMNS), ("idp_signins", IDP_COLUMNS)):
            described = [(r[0], r[1]) for r in dataset.sql(f"DESCRIBE {view}")]
            assert described == [(name, kind) for name, kind, _ in columns]
        assert dataset.count() == 7 and dataset.count("idp_signins") == 2


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            "1",
            {
                "user_type": "Root",
                "user_name": None,
                "principal_id": ACCOUNT,
                "event_type": "AwsConsoleSignIn",
                "mfa_authenticated": None,
            },
        ),
        (
            "2",
            {
                "user_type": "IAMUser",
                "user_name": "taro.yamada",
                "access_key_id": "AKIAIOSFODNN7EXAMPLE",
                "read_only": False,
            },
        ),
        (
            "3",
            {
                "error_code": "AccessDenied",
                "event_name": "CreateAccessKey",
                "event_source": "iam.amazonaws.com",
            },
        ),
        (
            "4",
            {
                "user_type": "AssumedRole",
                "user_name": "i-0abcd1234ef567890",
                "mfa_authenticated": False,
                "session_issuer_arn": f"arn:aws:iam::{ACCOUNT}:role/app-server",
                "read_only": True,
            },
        ),
        (
            "5",
            {
                "user_name": "hanako.sato@example.co.jp",
                "mfa_authenticated": True,
                "principal_id": "AROA123456789EXAMPLE:hanako.sato@example.co.jp",
            },
        ),
        (
            "6",
            {
                "user_type": "AWSService",
                "user_name": None,
                "user_arn": None,
                "event_type": "AwsServiceEvent",
                "source_ip": "kms.amazonaws.com",
            },
        ),
        (
            "7",
            {
                "event_name": "GetObject",
                "read_only": True,
                "aws_region": "ap-northeast-1",
                "recipient_account_id": ACCOUNT,
            },
        ),
    ],
)
def test_each_kind_of_identity_and_event_gets_its_typed_fields(sample, event, expected):
    with open_dataset(sample) as dataset:
        got = row(dataset, f"00000000-0000-4000-8000-00000000000{event}")
    assert {k: got[k] for k in expected} == expected
    assert isinstance(got["event_time"], datetime) and got["event_time"].tzinfo is None


def test_nested_parts_are_json_that_sql_can_read(sample):
    with open_dataset(sample) as dataset:
        found = dataset.sql(
            "SELECT event_id, additional_event_data->>'MFAUsed', response_elements->>'ConsoleLogin',"
            " record->'userIdentity'->>'type' FROM cloudtrail WHERE event_name = 'ConsoleLogin' "
            "ORDER BY event_time"
        )
        bytes_out = dataset.sql(
            "SELECT CAST(additional_event_data->>'bytesTransferredOut' AS INTEGER), "
            "request_parameters->>'bucketName' FROM cloudtrail WHERE event_name = 'GetObject'"
        )
    assert [r[1:] for r in found] == [("No", "Success", "Root"), ("Yes", "Success", "IAMUser")]
    assert bytes_out == [(18234, "payroll-exports")]


def test_delivered_at_is_the_file_name_stamp_and_null_for_other_names(tmp_path):
    write_log(tmp_path, sample_records()[:1], delivered="20261102T0915Z", layout=False)
    renamed = tmp_path / "shared-by-a-colleague.json"
    renamed.write_text(json.dumps({"Records": sample_records()[1:2]}))
    with open_dataset(tmp_path) as dataset:
        got = dataset.sql("SELECT event_id, delivered_at, file FROM cloudtrail ORDER BY event_time")
    assert got[0][1] == datetime(2026, 11, 2, 9, 15)
    assert got[1][1] is None and got[1][2].endswith("shared-by-a-colleague.json")


def test_a_record_with_only_a_few_fields_loads_with_nulls_not_errors(tmp_path):
    sparse = {"eventID": "e1", "eventTime": "2026-11-02T09:00:00+09:00", "eventName": "X"}
    odd = {"eventID": "e2", "eventTime": "not a time", "readOnly": "maybe", "userIdentity": "x"}
    write_log(tmp_path, [sparse, odd])
    with open_dataset(tmp_path) as dataset:
        first, second = row(dataset, "e1"), row(dataset, "e2")
    assert first["event_time"] == datetime(2026, 11, 2, 0, 0)  # +09:00 is made UTC
    assert first["user_type"] is None and first["request_parameters"] is None
    assert second["event_time"] is None and second["read_only"] is None
    assert second["user_type"] is None


def test_idp_signins_are_typed_and_split_the_email(sample):
    with open_dataset(sample) as dataset:
        got = dataset.sql(
            "SELECT event_id, event_time, event_type, user_email, user_name, source_ip, "
            "user_agent, country, result, reason FROM idp_signins ORDER BY event_time"
        )
    assert (
        got[0][4] == "taro.yamada" and got[0][8] == "FAILURE" and got[0][9] == "INVALID_CREDENTIALS"
    )
    assert got[1][1] == datetime(2026, 11, 2, 8, 58, 1, 123000)
    assert got[1][3:8] == (
        "hanako.sato@example.co.jp",
        "hanako.sato",
        "203.0.113.10",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)",
        "Japan",
    )


def test_without_idp_logs_the_idp_view_is_empty_but_queryable(tmp_path):
    write_log(tmp_path, sample_records())
    with open_dataset(tmp_path) as dataset:
        assert dataset.count("idp_signins") == 0
        assert dataset.sql("SELECT count(*) FROM idp_signins WHERE result = 'FAILURE'") == [(0,)]


# Each way people keep CloudTrail files, and the seven records must load from each.
def _flat_plain(root: Path) -> Path:
    write_log(root, sample_records()[:3], gz=False, layout=False)
    write_log(root, sample_records()[3:], gz=False, layout=False, unique="ZZZZZZZZZZZZZZZZ")
    return root


def _nested_mixed(root: Path) -> Path:
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "one.json").write_text(json.dumps({"Records": sample_records()[:2]}, indent=2))
    (root / "a" / "b" / "two.json.gz").write_bytes(
        gzip.compress(json.dumps({"Records": sample_records()[2:]}).encode())
    )
    return root


def _single_file(root: Path) -> Path:
    return write_log(root, sample_records())


def _json_lines(root: Path) -> Path:
    path = root / "export.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in sample_records()))
    return root


def _json_lines_in_a_json_file(root: Path) -> Path:
    (root / "records.json").write_text("".join(json.dumps(r) + "\n" for r in sample_records()))
    return root


def _array_of_records(root: Path) -> Path:
    (root / "records.json").write_text(json.dumps(sample_records()))
    return root


def _s3_layout_with_digest_and_labels(root: Path) -> Path:
    write_log(root, sample_records())
    digest = root / f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/ap-northeast-1/2026/11/02"
    digest.mkdir(parents=True)
    (digest / f"{ACCOUNT}_CloudTrail-Digest_ap-northeast-1_x_20261102T0915Z.json.gz").write_bytes(
        gzip.compress(b'{"digestStartTime": "2026-11-02T08:15:00Z"}')
    )
    (root / "labels.json").write_text('{"seed": 1}')
    (root / "notes.json").write_text('{"not": "a log, and outside AWSLogs/"}')
    config = root / f"AWSLogs/{ACCOUNT}/Config/ap-northeast-1/2026/11/2/ConfigSnapshot"
    config.mkdir(parents=True)
    (config / "snapshot.json.gz").write_bytes(gzip.compress(b'{"configurationItems": []}'))
    return root


def _organization_trail(root: Path) -> Path:
    path = write_log(root, sample_records())
    target = root / "AWSLogs" / "o-exampleorgid" / path.relative_to(root / "AWSLogs")
    target.parent.mkdir(parents=True)
    path.rename(target)
    return root


@pytest.mark.parametrize(
    "layout",
    [
        _flat_plain,
        _nested_mixed,
        _single_file,
        _json_lines,
        _json_lines_in_a_json_file,
        _array_of_records,
        _s3_layout_with_digest_and_labels,
        _organization_trail,
    ],
)
def test_every_layout_people_keep_cloudtrail_in_loads_the_same_records(tmp_path, layout):
    target = layout(tmp_path)
    with open_dataset(target) as dataset:
        got = dataset.sql(
            "SELECT event_id, user_type, event_name FROM cloudtrail ORDER BY event_id"
        )
    assert [r[0] for r in got] == sorted(r["eventID"] for r in sample_records())
    assert got[0][1:] == ("Root", "ConsoleLogin")


def test_an_empty_records_list_is_a_log_file_with_nothing_in_it(tmp_path):
    write_log(tmp_path, [])
    write_log(tmp_path, sample_records()[:1], unique="ZZZZZZZZZZZZZZZZ")
    with open_dataset(tmp_path) as dataset:
        assert dataset.count() == 1


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b'{"Records": [{"eventID": "x"}, ', "Malformed JSON"),
        (b'{"Events": [{"eventID": "x"}]}', "not a CloudTrail log file"),
        (b'{"Records": "yes"}', "not a CloudTrail log file"),
        (b'{"Records": [1, 2]}', "not a record"),
        (b"", "empty"),
        (b"\x1f\x8b\x08\x00broken", "GZIP"),
    ],
    ids=[
        "truncated-json",
        "no-records",
        "records-not-a-list",
        "records-not-objects",
        "empty",
        "broken-gzip",
    ],
)
def test_a_file_that_is_not_cloudtrail_is_an_error_naming_it(tmp_path, content, says):
    write_log(tmp_path, sample_records(), unique="GoodGoodGoodGood", layout=False)
    bad = tmp_path / ("bad.json.gz" if content.startswith(b"\x1f\x8b") else "bad.json")
    bad.write_bytes(content)
    with pytest.raises(DatasetError) as caught:
        open_dataset(tmp_path)
    assert caught.value.file is not None and caught.value.file.endswith(bad.name), str(caught.value)
    assert says.lower() in str(caught.value).lower()
    assert "Traceback" not in str(caught.value)


def test_a_gz_name_on_plain_text_is_an_error_naming_the_file(tmp_path):
    (tmp_path / "x.json.gz").write_text('{"Records": []}')
    with pytest.raises(DatasetError, match=r"x\.json\.gz"):
        open_dataset(tmp_path)


@pytest.mark.parametrize("kind", ["empty", "missing", "only-other-files", "wrong-suffix"])
def test_a_folder_without_cloudtrail_files_is_a_clear_error(tmp_path, kind):
    target = tmp_path
    if kind == "missing":
        target = tmp_path / "nowhere"
    elif kind == "only-other-files":
        (tmp_path / "labels.json").write_text("{}")
        (tmp_path / "readme.txt").write_text("hi")
    elif kind == "wrong-suffix":
        target = tmp_path / "log.csv"
        target.write_text("a,b")
    with pytest.raises(DatasetError) as caught:
        open_dataset(target)
    assert caught.value.file == str(target)


def test_after_loading_the_connection_cannot_touch_files_or_change_settings(sample, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("a,b\n1,2\n")
    with open_dataset(sample) as dataset:
        with pytest.raises(duckdb.Error, match="(?i)external access|disabled"):
            dataset.sql(f"SELECT * FROM read_csv('{secret}')")
        with pytest.raises(duckdb.Error, match="(?i)lock|configuration"):
            dataset.sql("SET enable_external_access = true")


def test_a_memory_limit_is_applied(sample):
    with open_dataset(sample, memory_limit="500MB", threads=1) as dataset:
        limit = dataset.sql("SELECT current_setting('memory_limit')")[0][0]
    assert limit.replace(" ", "").upper().startswith(("476", "500"))


def _everything(dataset) -> list[list[tuple]]:
    return [
        dataset.sql("SELECT * FROM cloudtrail ORDER BY event_id"),
        dataset.sql("SELECT * FROM idp_signins ORDER BY event_id"),
    ]


def test_a_saved_dataset_opens_with_the_same_views_and_rows(sample, tmp_path):
    saved = tmp_path / "saved" / "day.duckdb"
    saved.parent.mkdir()
    save_dataset(sample, saved)
    with open_dataset(sample) as loaded, open_dataset(sample, saved=saved) as read:
        assert _everything(read) == _everything(loaded)
        assert read.con.execute("SELECT * FROM cloudtrail").description == (
            loaded.con.execute("SELECT * FROM cloudtrail").description
        )


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM cloudtrail_all",
        "DROP TABLE cloudtrail_all",
        "INSERT INTO idp_signins_all SELECT * FROM idp_signins_all",
        "UPDATE saved.main.cloudtrail_all SET event_name = 'x'",
        "ATTACH 'other.duckdb' AS other",
        "CREATE TABLE saved.main.planted AS SELECT 1 AS x",
    ],
)
def test_a_query_cannot_change_a_saved_dataset_that_other_runs_share(sample, tmp_path, statement):
    saved = tmp_path / "saved.duckdb"
    save_dataset(sample, saved)
    with open_dataset(sample, saved=saved) as read:
        before = _everything(read)
        with pytest.raises(duckdb.Error):
            read.con.execute(statement)
    with open_dataset(sample, saved=saved) as again:
        assert _everything(again) == before
