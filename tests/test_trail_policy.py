"""Marker windows and policies generated from activity, like Access Analyzer's."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from grader.aws.iam import parse_policy
from grader.aws.iam.catalog import Catalog
from grader.aws.trail.layout import log_file_key, write_trail
from grader.aws.trail.markers import find_marker_windows, find_markers
from grader.aws.trail.policy import (
    TrailPolicyError,
    draft_policy,
    generate_policy,
    scoped_policy,
    trail_policy,
)

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/deploy"
OTHER = f"arn:aws:iam::{ACCOUNT}:role/other"
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


class Trail:
    """A tiny trail built call by call, seconds after T0."""

    def __init__(self) -> None:
        self.records: list[dict] = []

    def add(
        self,
        second: int,
        source: str,
        name: str,
        *,
        role: str = ROLE,
        read_only: bool = True,
        **extra,
    ) -> dict:
        role_name = role.rsplit("/", 1)[1]
        record = {
            "eventVersion": "1.09",
            "eventTime": (T0 + timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": f"{source}.amazonaws.com",
            "eventName": name,
            "eventID": f"e{len(self.records)}",
            "awsRegion": "us-east-1",
            "recipientAccountId": ACCOUNT,
            "readOnly": read_only,
            "eventType": "AwsApiCall",
            "userIdentity": {
                "type": "AssumedRole",
                "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/s",
                "sessionContext": {"sessionIssuer": {"type": "Role", "arn": role}},
            },
            **extra,
        }
        self.records.append(record)
        return record

    def marker(self, second: int, name: str = "GetCallerIdentity", source: str = "sts", gap=3):
        for i in range(3):
            self.add(second + i * gap, source, name)


def standard() -> Trail:
    trail = Trail()
    trail.add(0, "cloudformation", "ListStacks")  # before the window
    trail.marker(100)
    trail.add(
        120,
        "s3",
        "PutObject",
        read_only=False,
        requestParameters={"bucketName": "art", "key": "a.zip"},
    )
    trail.add(130, "sts", "GetCallerIdentity")  # one call: not a marker, needs nothing
    trail.add(
        140,
        "lambda",
        "UpdateFunctionCode20150331v2",
        read_only=False,
        requestParameters={"functionName": "fn"},
    )
    trail.add(150, "ssm", "GetParameter", errorCode="AccessDenied")
    trail.add(155, "ec2", "DescribeVpcs", role=OTHER)  # someone else
    trail.marker(200)
    trail.add(400, "cloudformation", "DeleteChangeSet", read_only=False)  # after
    return trail


def test_marker_window_brackets_the_work() -> None:
    trail = standard()
    (window,) = find_marker_windows(trail.records, ROLE)
    assert window.start == T0 + timedelta(seconds=106)
    assert window.end == T0 + timedelta(seconds=200)
    inside = [r["eventName"] for r in trail.records if window.contains(r)]
    assert "ListStacks" not in inside and "DeleteChangeSet" not in inside
    assert inside.count("GetCallerIdentity") == 1  # the work's own call, not the markers


def test_two_identical_calls_are_not_a_marker() -> None:
    trail = Trail()
    trail.add(0, "sts", "GetCallerIdentity")
    trail.add(3, "sts", "GetCallerIdentity")
    trail.add(10, "s3", "ListBuckets")
    assert find_markers(trail.records, ROLE) == []


def test_three_calls_spread_over_minutes_are_not_a_marker() -> None:
    trail = Trail()
    trail.marker(0, gap=45)  # 0, 45, 90 s: wider than 60 s
    assert find_markers(trail.records, ROLE) == []
    trail = Trail()
    trail.marker(0, gap=30)  # 0, 30, 60 s: within
    assert len(find_markers(trail.records, ROLE)) == 1


def test_another_principals_triple_is_not_a_marker() -> None:
    trail = standard()
    for i in range(3):
        trail.add(160 + i, "sts", "GetCallerIdentity", role=OTHER)
    assert len(find_marker_windows(trail.records, ROLE)) == 1
    assert len(find_markers(trail.records, OTHER)) == 1


def test_a_call_in_between_breaks_a_triple() -> None:
    trail = Trail()
    trail.add(0, "sts", "GetCallerIdentity")
    trail.add(2, "sts", "GetCallerIdentity")
    trail.add(3, "s3", "ListBuckets")
    trail.add(4, "sts", "GetCallerIdentity")
    assert find_markers(trail.records, ROLE) == []


def test_writes_in_a_row_are_work_not_a_marker() -> None:
    trail = Trail()
    for i in range(3):
        trail.add(i, "s3", "PutObject", read_only=False)
    assert find_markers(trail.records, ROLE) == []
    assert len(find_markers(trail.records, ROLE, read_only=False)) == 1


def test_a_longer_run_is_one_marker_and_order_does_not_matter() -> None:
    trail = Trail()
    for i in range(4):
        trail.add(i * 2, "s3", "ListBuckets")
    markers = find_markers(list(reversed(trail.records)), ROLE)
    assert len(markers) == 1
    assert len(markers[0].event_ids) == 4


def test_policy_of_a_window_is_what_the_principal_did_there() -> None:
    trail = standard()
    windows = find_marker_windows(trail.records, ROLE)
    policy = generate_policy(trail.records, ROLE, windows=windows)
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "LambdaActions",
                "Effect": "Allow",
                "Action": ["lambda:UpdateFunctionCode"],
                "Resource": "*",
            },
            {"Sid": "S3Actions", "Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "*"},
            {
                "Sid": "SsmActions",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter"],
                "Resource": "*",
            },
        ],
    }
    parse_policy(policy)


def test_denied_calls_are_kept_like_access_analyzer_unless_asked() -> None:
    trail = standard()
    windows = find_marker_windows(trail.records, ROLE)
    draft = draft_policy(trail.records, ROLE, windows=windows)
    assert draft.denied_actions == ("ssm:GetParameter",)
    strict = draft_policy(trail.records, ROLE, windows=windows, include_denied=False)
    assert "ssm:GetParameter" not in strict.actions


def test_time_range_is_inclusive_and_checked() -> None:
    trail = standard()
    draft = draft_policy(trail.records, ROLE, T0 + timedelta(seconds=120), "2024-03-01T09:02:20Z")
    assert draft.actions == ("lambda:UpdateFunctionCode", "s3:PutObject")
    everything = draft_policy(trail.records, ROLE)
    assert "cloudformation:ListStacks" in everything.actions
    assert "sts:GetCallerIdentity" not in everything.actions
    with pytest.raises(TrailPolicyError, match="after the end"):
        draft_policy(trail.records, ROLE, "2024-03-02T00:00:00Z", "2024-03-01T00:00:00Z")


def test_service_made_calls_are_left_out_unless_asked() -> None:
    trail = Trail()
    record = trail.add(5, "kms", "Decrypt")
    record["userIdentity"]["invokedBy"] = "s3.amazonaws.com"
    assert draft_policy(trail.records, ROLE).actions == ()
    kept = draft_policy(trail.records, ROLE, include_service_calls=True)
    assert kept.actions == ("kms:Decrypt",)


def test_unknown_and_unmapped_are_reported_not_granted() -> None:
    trail = Trail()
    trail.add(1, "s3", "GetObject")
    trail.add(2, "s3", "BrandNewOperation")
    trail.add(3, "apigateway", "FrobnicateRestApi", read_only=False)
    tiny = Catalog([("s3", "Amazon S3", "", {"GetObject": "Read"})])
    draft = draft_policy(trail.records, ROLE, catalog=tiny)
    assert draft.actions == ("s3:GetObject",)
    assert draft.unknown_actions == ("s3:BrandNewOperation",)
    assert [m.event_name for m in draft.unmapped] == ["FrobnicateRestApi"]
    assert "s3:BrandNewOperation" not in str(draft.policy)


def test_resources_scope_a_refined_policy() -> None:
    trail = standard()
    draft = draft_policy(trail.records, ROLE, windows=find_marker_windows(trail.records, ROLE))
    assert draft.resources["s3:PutObject"] == ("arn:aws:s3:::art/a.zip",)
    assert draft.resources["lambda:UpdateFunctionCode"] == (
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn",
    )
    assert draft.resources["ssm:GetParameter"] == ()
    scoped = scoped_policy(draft)
    parse_policy(scoped)
    by_action = {a: s["Resource"] for s in scoped["Statement"] for a in s["Action"]}
    assert by_action["s3:PutObject"] == ["arn:aws:s3:::art/a.zip"]
    assert by_action["ssm:GetParameter"] == "*"


def test_trail_policy_reads_a_folder(tmp_path: Path) -> None:
    write_trail(standard().records, tmp_path)
    draft = trail_policy(tmp_path, ROLE, markers=True)
    assert draft.actions == ("lambda:UpdateFunctionCode", "s3:PutObject", "ssm:GetParameter")
    assert len(draft.to_dict()["windows"]) == 1
    with pytest.raises(TrailPolicyError, match="no calls by"):
        trail_policy(tmp_path, f"arn:aws:iam::{ACCOUNT}:role/nobody")


def test_trail_policy_without_markers_says_what_it_looked_for() -> None:
    trail = Trail()
    trail.add(0, "s3", "ListBuckets")
    with pytest.raises(TrailPolicyError, match="three identical"):
        trail_policy(trail.records, ROLE, markers=True)


def test_api_gateway_calls_become_verbs_scoped_to_their_paths() -> None:
    trail = Trail()
    trail.add(1, "apigateway", "CreateRestApi", read_only=False, requestParameters={"name": "x"})
    trail.add(
        2,
        "apigateway",
        "UpdateMethod",
        read_only=False,
        requestParameters={"restApiId": "a1", "resourceId": "r1", "httpMethod": "GET"},
    )
    trail.add(3, "apigateway", "UpdateStage", read_only=False)  # no parameters recorded
    draft = draft_policy(trail.records, ROLE)
    assert draft.actions == ("apigateway:PATCH", "apigateway:POST")
    assert draft.unmapped == ()
    assert draft.resources == {
        "apigateway:PATCH": (
            "arn:aws:apigateway:us-east-1::/restapis/*",
            "arn:aws:apigateway:us-east-1::/restapis/a1/resources/r1/methods/GET",
        ),
        "apigateway:POST": ("arn:aws:apigateway:us-east-1::/restapis",),
    }
    scoped = scoped_policy(draft)
    parse_policy(scoped)
    by_action = {a: s["Resource"] for s in scoped["Statement"] for a in s["Action"]}
    assert by_action["apigateway:POST"] == ["arn:aws:apigateway:us-east-1::/restapis"]


def config_calls(trail: Trail, count: int) -> None:
    """Calls AWS Config made with the role's session, on its behalf."""
    for i in range(count):
        record = trail.add(10 + i, "ec2", "DescribeInstances")
        record["userIdentity"]["invokedBy"] = "config.amazonaws.com"


def test_a_principal_whose_calls_services_all_made_is_told_so() -> None:
    trail = Trail()
    config_calls(trail, 3)
    with pytest.raises(TrailPolicyError) as caught:
        trail_policy(trail.records, ROLE)
    assert str(caught.value) == (
        f"3 calls by {ROLE} were made by config.amazonaws.com on its behalf and are left "
        "out; --include-service-calls keeps them"
    )
    kept = trail_policy(trail.records, ROLE, include_service_calls=True)
    assert kept.actions == ("ec2:DescribeInstances",)


def test_one_service_call_is_told_in_the_singular_with_every_service() -> None:
    trail = Trail()
    config_calls(trail, 1)
    with pytest.raises(TrailPolicyError, match=r"^1 call by .* was made by config\.amazonaws"):
        trail_policy(trail.records, ROLE)
    record = trail.add(20, "kms", "Decrypt")
    record["userIdentity"]["invokedBy"] = "s3.amazonaws.com"
    with pytest.raises(TrailPolicyError, match="config.amazonaws.com and s3.amazonaws.com"):
        trail_policy(trail.records, ROLE)


def write_log_file(root: Path, records: list) -> Path:
    """One gzipped log file in CloudTrail's S3 layout, written as is (no record checked)."""
    path = root / log_file_key("111122223333", "us-east-1", T0, "AbCdEfGhIjKlMnOp")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
    return path


def test_a_record_without_event_time_is_skipped_with_a_warning(tmp_path: Path) -> None:
    trail = Trail()
    trail.add(1, "s3", "ListBuckets")
    broken = trail.add(2, "ec2", "StartInstances", read_only=False)
    del broken["eventTime"]
    trail.add(3, "ssm", "GetParameter")
    path = write_log_file(tmp_path, trail.records)
    draft = trail_policy(tmp_path, ROLE)
    assert draft.actions == ("s3:ListAllMyBuckets", "ssm:GetParameter")
    assert draft.warnings == (f"{path}: Records[1] has no eventTime (the record is skipped)",)
    assert draft.to_dict()["warnings"] == list(draft.warnings)
    with pytest.raises(TrailPolicyError, match=r"1 unusable record was skipped, the first: "):
        trail_policy(tmp_path, OTHER)


def test_records_in_memory_are_skipped_alike() -> None:
    trail = Trail()
    trail.add(1, "s3", "ListBuckets")
    trail.add(2, "s3", "ListBuckets", eventName="")
    draft = trail_policy(trail.records, ROLE)
    assert draft.actions == ("s3:ListAllMyBuckets",)
    assert draft.warnings == ("Records[1] has no eventName (the record is skipped)",)
