"""The data-read table, and the proof that ReadOnlyAccess is not a safe viewer policy."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from grader.aws.iam.catalog import Catalog, grants, load_catalog
from grader.aws.iam.data_access import (
    CLOUDSPLAINING,
    CODE,
    DATA,
    DATA_READS,
    LOGS,
    SECRET,
    data_read,
    data_read_actions,
)
from grader.aws.iam.model import Policy
from tests.policy_builder import make_policy


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*") -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def read_only_access() -> Policy:
    """AWS's ReadOnlyAccess managed policy, as moto ships it (no network needed)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    document: Any = json.loads(aws_managed_policies_data)["ReadOnlyAccess"]["Document"]
    if isinstance(document, str):
        document = json.loads(document)
    statements = document["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    return make_policy(*statements, name="ReadOnlyAccess")


# --- the table ---------------------------------------------------------------------------


def test_every_entry_is_a_catalog_action_in_its_own_spelling(catalog: Catalog) -> None:
    wrong = [e.action for e in DATA_READS if catalog.canonical(e.action) != e.action]
    assert wrong == []


def test_entries_are_unique_and_complete() -> None:
    duplicates = [a for a, n in Counter(e.action.casefold() for e in DATA_READS).items() if n > 1]
    assert duplicates == []
    assert all(e.reads and e.kind in {DATA, SECRET, CODE, LOGS} for e in DATA_READS)
    assert len(DATA_READS) >= 40


def test_every_source_is_the_services_reference_page_or_cloudsplaining(catalog: Catalog) -> None:
    for entry in DATA_READS:
        service = entry.action.partition(":")[0]
        assert entry.source in {catalog.service_url(service), CLOUDSPLAINING}, entry.action


def test_cloudsplaining_entries_are_its_list() -> None:
    cited = {e.action for e in DATA_READS if e.source == CLOUDSPLAINING}
    assert cited == {
        "s3:GetObject",
        "ssm:GetParameter",
        "ssm:GetParameters",
        "ssm:GetParametersByPath",
        "secretsmanager:GetSecretValue",
    }


@pytest.mark.parametrize(
    "action",
    [
        "s3:GetObject",
        "s3:GetObjectVersion",
        "dynamodb:GetItem",
        "dynamodb:Scan",
        "dynamodb:Query",
        "secretsmanager:GetSecretValue",
        "ssm:GetParameter",
        "sqs:ReceiveMessage",
        "kinesis:GetRecords",
        "logs:GetLogEvents",
        "kms:Decrypt",
        "lambda:GetFunction",
        "codecommit:GetFile",
        "ecr:BatchGetImage",
        "athena:GetQueryResults",
        "glacier:GetJobOutput",
        "ebs:GetSnapshotBlock",
    ],
)
def test_the_well_known_data_reads_are_covered(action: str) -> None:
    assert data_read(action) is not None


def test_lookup_ignores_case_and_skips_metadata() -> None:
    entry = data_read("S3:GETOBJECT")
    assert entry is not None and entry.action == "s3:GetObject"
    assert data_read("s3:GetObjectAcl") is None
    assert data_read("ec2:DescribeInstances") is None


# --- policies ------------------------------------------------------------------------------


def test_read_only_access_grants_many_data_reads(read_only_access: Policy) -> None:
    found = {entry.action for entry, _ in data_read_actions(grants(read_only_access))}
    assert len(found) >= 30
    assert {
        "s3:GetObject",
        "dynamodb:Scan",
        "dynamodb:GetItem",
        "ssm:GetParameter",
        "ssm:GetParametersByPath",
        "sqs:ReceiveMessage",
        "kinesis:GetRecords",
        "logs:GetLogEvents",
        "logs:FilterLogEvents",
        "lambda:GetFunction",
        "codecommit:GitPull",
        "ecr:GetDownloadUrlForLayer",
        "athena:GetQueryResults",
    } <= found
    # What ReadOnlyAccess leaves out, so a learner is told the truth about it.
    assert "secretsmanager:GetSecretValue" not in found
    assert "kms:Decrypt" not in found


def test_read_only_access_is_mostly_read_and_list(read_only_access: Policy) -> None:
    g = grants(read_only_access)
    levels = g.totals["by_access_level"]
    assert levels["Read"] + levels["List"] > 0.99 * len(g)
    assert len(g) > 3000


def test_describe_only_policy_grants_no_data_reads() -> None:
    g = grants(make_policy(allow(["ec2:Describe*", "ec2:Get*Tags*"])))
    assert len(g) > 100
    assert data_read_actions(g) == []


def test_results_are_sorted_and_carry_the_grant() -> None:
    policy = make_policy(
        allow(["sqs:ReceiveMessage", "s3:GetObject"], resource="arn:aws:s3:::reports/*"),
        allow("ssm:GetParameter", Condition={"StringEquals": {"aws:ResourceTag/env": "dev"}}),
    )
    pairs = data_read_actions(grants(policy))
    assert [entry.action for entry, _ in pairs] == [
        "s3:GetObject",
        "sqs:ReceiveMessage",
        "ssm:GetParameter",
    ]
    by_action = {entry.action: grant for entry, grant in pairs}
    assert by_action["s3:GetObject"].resource_limited
    assert by_action["ssm:GetParameter"].conditional


def test_a_deny_of_the_table_removes_every_data_read(read_only_access: Policy) -> None:
    guarded = make_policy(
        *[
            {"Effect": s.effect, "Action": s.action, "Resource": s.resource}
            for s in read_only_access.statements
            if not s.condition
        ],
        deny([e.action for e in DATA_READS]),
    )
    g = grants(guarded)
    assert data_read_actions(g) == []
    assert "s3:GetBucketPolicy" in g
    assert "ec2:DescribeInstances" in g
