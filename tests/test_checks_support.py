"""What the labs' checks share (grader/checks/_support.py): the policy gate and the judge of a
must-allow / must-deny matrix, each written once."""

from __future__ import annotations

import json

import pytest

from grader.aws.iam import Request, evaluate, parse_policy
from grader.checks._support import CheckFailed, Verdict, judge, learner_policy

POLICY = parse_policy(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a/*"}
        ],
    },
    name="p.json",
)


def verdict(resource: str, allowed: bool) -> Verdict:
    request = Request(action="s3:GetObject", resource=resource)
    return Verdict(f"s3:GetObject on {resource}", evaluate([POLICY], request), allowed, "fix it")


def test_a_matrix_answered_right_passes():
    judge([verdict("arn:aws:s3:::a/k", True), verdict("arn:aws:s3:::b/k", False)], "x.md")


def test_the_first_wrong_request_is_shown_in_full_and_the_others_counted():
    with pytest.raises(CheckFailed) as info:
        judge(
            [
                verdict("arn:aws:s3:::a/k", True),
                verdict("arn:aws:s3:::a/secret", False),
                verdict("arn:aws:s3:::a/other", False),
                verdict("arn:aws:s3:::b/k", True),
            ],
            "x.md#task-1",
        )
    failed = info.value
    assert failed.expected == "s3:GetObject on arn:aws:s3:::a/secret to be denied"
    assert failed.found.startswith("allowed: statement 1 of p.json allows s3:GetObject")
    assert "(2 more requests with the wrong answer: s3:GetObject on arn:aws:s3:::a/other" in (
        failed.found
    )
    assert failed.fix == "fix it" and failed.docs == "x.md#task-1"


def test_the_policy_gate_gives_iam_s_message_and_where(tmp_path):
    (tmp_path / "p.json").write_text(
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]})
    )
    with pytest.raises(CheckFailed) as info:
        learner_policy(tmp_path, "p.json", "x.md")
    assert info.value.found == (
        "IAM would answer MalformedPolicyDocument: Policy statement must contain resources. "
        "(at Statement[0])"
    )


def test_the_policy_gate_names_file_line_and_column_of_broken_json(tmp_path):
    (tmp_path / "p.json").write_text('{\n  "Version": "2012-10-17",\n  "Statement": [\n}\n')
    with pytest.raises(CheckFailed) as info:
        learner_policy(tmp_path, "p.json", "x.md")
    assert info.value.found.startswith("p.json:4:1: not valid JSON")


def test_counts_read_in_the_singular_for_one():
    from grader.checks._support import count

    assert count(1, "new action") == "1 new action"
    assert count(2, "action") == "2 actions"
    assert count(0, "action") == "0 actions"
