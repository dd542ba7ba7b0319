"""`grader trail policy`, run on a generated trail as a learner would."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from grader.aws.trail import generate_trail
from grader.aws.trail.layout import log_file_key
from tests.conftest import run_grader

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/deploy"


@pytest.fixture(scope="module")
def trail(tmp_path_factory):
    generated = generate_trail(7)
    root = tmp_path_factory.mktemp("trail")
    generated.write(root)
    return generated, root


def test_markers_give_exactly_the_actions_of_the_work_window(trail):
    generated, root = trail
    done = run_grader(
        "trail", "policy", str(root), "--principal", generated.principal_arn, "--markers", "--json"
    )
    assert done.returncode == 0, done.stderr
    draft = json.loads(done.stdout)
    granted = {a for st in draft["policy"]["Statement"] for a in st["Action"]}
    assert granted == set(generated.actions)
    assert not granted & (set(generated.outside_actions) - set(generated.actions))


def test_the_plain_output_is_a_policy_and_notes_go_to_stderr(trail):
    generated, root = trail
    done = run_grader(
        "trail", "policy", str(root), "--principal", generated.principal_arn, "--markers"
    )
    policy = json.loads(done.stdout)
    assert policy["Version"] == "2012-10-17" and policy["Statement"]
    assert "Review before use" in done.stderr


def test_scoped_names_resources(trail):
    generated, root = trail
    done = run_grader(
        "trail",
        "policy",
        str(root),
        "--principal",
        generated.principal_arn,
        "--markers",
        "--scoped",
    )
    resources = {
        r
        for st in json.loads(done.stdout)["Statement"]
        for r in ([st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"])
    }
    assert any(r.startswith("arn:aws:") for r in resources)


def test_unknown_principal_and_missing_folder_are_usage_errors(trail, tmp_path):
    _, root = trail
    nobody = run_grader(
        "trail", "policy", str(root), "--principal", "arn:aws:iam::123456789012:role/nobody"
    )
    assert nobody.returncode == 2 and "no calls by" in nobody.stderr
    missing = run_grader(
        "trail", "policy", str(tmp_path / "none"), "--principal", "arn:aws:iam::1:role/x"
    )
    assert missing.returncode == 2 and "no such folder" in missing.stderr


def test_a_broken_log_file_names_the_file(tmp_path):
    folder = (
        tmp_path
        / "AWSLogs"
        / "123456789012"
        / "CloudTrail"
        / "ap-northeast-1"
        / "2026"
        / "11"
        / "29"
    )
    folder.mkdir(parents=True)
    (folder / "123456789012_CloudTrail_ap-northeast-1_20261129T0000Z_abc.json").write_text(
        '{"Records": [}'
    )
    done = run_grader(
        "trail", "policy", str(tmp_path), "--principal", "arn:aws:iam::123456789012:role/x"
    )
    assert done.returncode == 2
    assert "123456789012_CloudTrail_ap-northeast-1_20261129T0000Z_abc.json" in done.stderr
    assert "Traceback" not in done.stderr


def call(second: int, source: str, name: str, **extra) -> dict:
    """One record of the role's, ``second`` seconds after 10:00 on 2024-03-01."""
    return {
        "eventVersion": "1.09",
        "eventTime": f"2024-03-01T10:00:{second:02d}Z",
        "eventSource": f"{source}.amazonaws.com",
        "eventName": name,
        "eventID": f"e{second}",
        "eventType": "AwsApiCall",
        "awsRegion": "us-east-1",
        "recipientAccountId": ACCOUNT,
        "userIdentity": {
            "type": "AssumedRole",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/s",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": ROLE}},
        },
        **extra,
    }


def gzip_trail(root: Path, records: list[dict]) -> Path:
    """A real gzipped log file in CloudTrail's S3 layout, records written as given."""
    when = datetime(2024, 3, 1, 10, 5, tzinfo=UTC)
    path = root / log_file_key(ACCOUNT, "us-east-1", when, "AbCdEfGhIjKlMnOp")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
    return path


@pytest.fixture
def config_trail(tmp_path: Path) -> Path:
    """Two calls AWS Config made with the role's session, and nothing of the role's own."""
    records = [call(i, "ec2", "DescribeInstances") for i in (1, 2)]
    for record in records:
        record["userIdentity"]["invokedBy"] = "config.amazonaws.com"
    gzip_trail(tmp_path, records)
    return tmp_path


def test_calls_services_made_are_named_when_they_are_all_there_is(config_trail):
    done = run_grader("trail", "policy", str(config_trail), "--principal", ROLE)
    assert done.returncode == 2
    assert (
        f"2 calls by {ROLE} were made by config.amazonaws.com on its behalf and are left out; "
        "--include-service-calls keeps them"
    ) in done.stderr
    assert "no calls by" not in done.stderr


def test_include_service_calls_keeps_them(config_trail):
    done = run_grader(
        "trail", "policy", str(config_trail), "--principal", ROLE, "--include-service-calls"
    )
    assert done.returncode == 0, done.stderr
    granted = {a for st in json.loads(done.stdout)["Statement"] for a in st["Action"]}
    assert granted == {"ec2:DescribeInstances"}


def test_a_record_without_event_time_is_a_warning_not_a_failure(tmp_path):
    records = [call(1, "s3", "ListBuckets"), call(2, "ssm", "GetParameter")]
    del records[1]["eventTime"]
    path = gzip_trail(tmp_path, records)
    done = run_grader("trail", "policy", str(tmp_path), "--principal", ROLE)
    assert done.returncode == 0, done.stderr
    granted = {a for st in json.loads(done.stdout)["Statement"] for a in st["Action"]}
    assert granted == {"s3:ListAllMyBuckets"}
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: {path}: Records[1] has no eventTime (the record is skipped)"]


def test_api_gateway_calls_are_drafted_and_scoped(tmp_path):
    params = {"restApiId": "a1", "resourceId": "r1", "httpMethod": "GET"}
    gzip_trail(
        tmp_path,
        [
            call(1, "apigateway", "CreateRestApi", requestParameters={"name": "shop"}),
            call(2, "apigateway", "UpdateMethod", requestParameters=params),
        ],
    )
    done = run_grader("trail", "policy", str(tmp_path), "--principal", ROLE, "--scoped")
    assert done.returncode == 0, done.stderr
    by_action = {
        a: st["Resource"] for st in json.loads(done.stdout)["Statement"] for a in st["Action"]
    }
    assert by_action == {
        "apigateway:POST": ["arn:aws:apigateway:us-east-1::/restapis"],
        "apigateway:PATCH": ["arn:aws:apigateway:us-east-1::/restapis/a1/resources/r1/methods/GET"],
    }
    assert "not mapped" not in done.stderr


@pytest.mark.parametrize(
    "event, actions, why",
    [
        (("s3.amazonaws.com", "HeadObject"), "s3:GetObject", "the permission has another name"),
        (
            ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2"),
            "lambda:UpdateFunctionCode",
            "API version",
        ),
        (
            ("monitoring.amazonaws.com", "PutMetricAlarm"),
            "cloudwatch:PutMetricAlarm",
            "cloudwatch:",
        ),
        (("sts.amazonaws.com", "GetCallerIdentity"), "none", "needs no IAM permission"),
        (("ec2.amazonaws.com", "StartInstances"), "ec2:StartInstances", "the default rule"),
    ],
)
def test_trail_actions_says_what_one_event_needs_and_why(event, actions, why):
    done = run_grader("trail", "actions", *event)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()[:2]
    assert first == f"{event[0]} {event[1]}: {actions}"
    assert why in second


def test_trail_actions_reads_request_parameters_where_they_matter():
    done = run_grader("trail", "actions", "s3.amazonaws.com", "GetObject", "--param", "versionId=7")
    assert done.stdout.startswith("s3.amazonaws.com GetObject: s3:GetObjectVersion")


def test_trail_actions_lists_every_exception_offline():
    from grader.aws.trail.actions import EVENT_ACTIONS

    done = run_grader("trail", "actions", "--list")
    assert done.returncode == 0
    for source, operation in EVENT_ACTIONS:
        assert f"{source} {operation} -> " in done.stdout
    assert "monitoring.amazonaws.com -> cloudwatch:" in done.stdout


def test_trail_actions_needs_an_event_or_list():
    done = run_grader("trail", "actions")
    assert done.returncode == 2 and "--list" in done.stderr
