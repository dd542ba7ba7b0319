"""Generated trails: realistic records, deterministic, and a ground truth the engine meets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.aws.iam import parse_policy
from grader.aws.trail.generator import generate_trail
from grader.aws.trail.markers import find_marker_windows
from grader.aws.trail.policy import draft_policy, generate_policy, trail_policy
from grader.aws.trail.records import (
    event_time,
    is_denied,
    is_service_made,
    principal_matches,
)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ALWAYS = (
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "requestParameters",
    "responseElements",
    "eventID",
    "readOnly",
    "eventType",
    "managementEvent",
    "recipientAccountId",
    "eventCategory",
)
SEEDS = range(40)


def test_same_seed_same_trail_other_seed_other_trail() -> None:
    assert generate_trail(4).records == generate_trail(4).records
    assert generate_trail(4).records != generate_trail(5).records
    assert len({generate_trail(s).steps for s in range(10)}) > 5


@pytest.mark.parametrize("seed", SEEDS)
def test_engine_policy_equals_the_ground_truth(seed: int) -> None:
    trail = generate_trail(seed)
    windows = find_marker_windows(trail.records, trail.principal_arn)
    assert [(w.start, w.end) for w in windows] == [(trail.window_start, trail.window_end)]
    draft = draft_policy(trail.records, trail.principal_arn, windows=windows)
    assert set(draft.actions) == trail.actions
    assert draft.policy == trail.policy()
    assert draft.unknown_actions == () and draft.unmapped == ()
    assert set(draft.denied_actions) == trail.denied_actions
    assert {a: set(r) for a, r in draft.resources.items()} == {
        a: set(r) for a, r in trail.resources.items()
    }
    parse_policy(draft.policy)


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_ignoring_the_markers_gives_a_wrong_policy(seed: int) -> None:
    trail = generate_trail(seed)
    whole = generate_policy(trail.records, trail.principal_arn)
    actions = {a for s in whole["Statement"] for a in s["Action"]}
    assert trail.outside_actions and trail.outside_actions <= actions
    assert actions != trail.actions


def test_the_hidden_trail_round_trips_through_s3_layout(tmp_path: Path) -> None:
    trail = generate_trail(21, account="210987654321", region="eu-west-3")
    trail.write(tmp_path)
    draft = trail_policy(tmp_path, trail.principal_arn, markers=True)
    assert set(draft.actions) == trail.actions
    assert (tmp_path / "AWSLogs/210987654321/CloudTrail/eu-west-3").is_dir()


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_records_look_like_cloudtrail(seed: int) -> None:
    trail = generate_trail(seed)
    for record in trail.records:
        missing = [f for f in ALWAYS if f not in record]
        assert not missing, (record["eventName"], missing)
        major, minor = record["eventVersion"].split(".")
        assert (int(major), int(minor)) >= (1, 8)
        assert UUID.match(record["eventID"])
        assert TIME.match(record["eventTime"])
        assert isinstance(record["readOnly"], bool)
        assert record["eventCategory"] in ("Management", "Data")
        assert record["managementEvent"] is (record["eventCategory"] == "Management")
        if record["eventCategory"] == "Data":
            assert record["resources"], record["eventName"]
        if record["eventType"] == "AwsApiCall":
            assert record["requestID"]
        if record["userIdentity"].get("type") == "AssumedRole":
            issuer = record["userIdentity"]["sessionContext"]["sessionIssuer"]
            assert issuer["type"] == "Role" and issuer["arn"].startswith("arn:aws:iam::")
            assert record["userIdentity"]["accessKeyId"].startswith("ASIA")


def test_the_noise_is_there() -> None:
    trail = generate_trail(8)
    records = trail.records
    mine = [r for r in records if principal_matches(r, trail.principal_arn)]
    assert len(mine) < len(records) / 1.2  # plenty of other principals
    assert any(r["eventType"] == "AwsServiceEvent" for r in records)
    assert any(
        r["userIdentity"].get("invokedBy") == "cloudformation.amazonaws.com" for r in records
    )
    assert any(r["eventType"] == "AwsConsoleSignIn" for r in records)
    assert any(r.get("sessionCredentialFromConsole") == "true" for r in records)
    assert sum(is_denied(r) for r in mine) == 1
    assert not any(is_service_made(r) for r in mine)
    sessions = {r["userIdentity"]["arn"] for r in mine}
    assert len(sessions) == 2  # an earlier session of the same role
    twins = [r for r in records if "deploy-role-canary" in str(r["userIdentity"].get("arn"))]
    assert twins
    probes = [r for r in records if "role/monitoring" in str(r["userIdentity"].get("arn"))]
    assert len(probes) == 3
    assert all(trail.window_start <= event_time(r) <= trail.window_end for r in probes)


def test_principal_role_forms_and_bad_arguments() -> None:
    arn = "arn:aws:iam::123456789012:role/ci/deploy-role"
    assert generate_trail(1, principal_role=arn).principal_arn == arn
    assert generate_trail(1, principal_role="ci/deploy-role").principal_arn == arn
    china = generate_trail(1, region="cn-north-1")
    assert china.principal_arn.startswith("arn:aws-cn:iam::")
    with pytest.raises(ValueError, match="unknown scenario"):
        generate_trail(1, scenario="heist")
    with pytest.raises(ValueError, match="12 digits"):
        generate_trail(1, account="12")
    with pytest.raises(ValueError, match="not an IAM role ARN"):
        generate_trail(1, principal_role="arn:aws:iam::123456789012:user/bob")
