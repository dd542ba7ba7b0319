"""How many full authorization decisions per second, with every policy type present.

One PolicySet holds two identity policies, a bucket policy (Principal, NotPrincipal and
conditions), a permissions boundary, SCPs at two levels (root and an OU), an RCP and a
session policy; it is compiled once, as a check does. The requests mix callers (role
session in the same account, another account's session, an IAM user, CloudFront, an
anonymous caller) and outcomes (allowed, explicit deny, implicit deny at each step).

Run: python bench/bench_iam_authorize.py
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.aws.iam.authorize import OrgLevel, PolicySet, authorize  # noqa: E402
from grader.aws.iam.model import PolicyType  # noqa: E402
from grader.aws.iam.policy import parse_policy  # noqa: E402
from grader.aws.iam.request import Request  # noqa: E402

A, B, ORG = "111122223333", "444455556666", "o-exampleorg"
BUCKET = "arn:aws:s3:::reports"
ROLE = f"arn:aws:iam::{A}:role/dev"
SESSION = f"arn:aws:sts::{A}:assumed-role/dev/alice"
OTHER = f"arn:aws:sts::{B}:assumed-role/auditor/carol"
USER = f"arn:aws:iam::{A}:user/bob"
DISTRIBUTION = f"arn:aws:cloudfront::{A}:distribution/EDFDVBD6EXAMPLE"


def _policy(name: str, *statements: dict, kind: PolicyType = PolicyType.IDENTITY):
    return parse_policy(
        {"Version": "2012-10-17", "Statement": list(statements)},
        name=name,
        kind=kind,
    )


def policy_set() -> PolicySet:
    s3_rw = _policy(
        "developer.json",
        {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "s3:PutObject"], "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": ["ec2:StartInstances", "ec2:StopInstances"],
            "Resource": f"arn:aws:ec2:*:{A}:instance/*",
            "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
        },
    )
    deny_delete = _policy(
        "no-delete.json", {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}
    )
    bucket = _policy(
        "bucket-policy.json",
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [BUCKET, f"{BUCKET}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "OrgRead",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": [BUCKET, f"{BUCKET}/*"],
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}},
        },
        {
            "Sid": "CloudFront",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": f"{BUCKET}/*",
            "Condition": {"ArnEquals": {"aws:SourceArn": DISTRIBUTION}},
        },
        {
            "Sid": "RoleWrite",
            "Effect": "Allow",
            "Principal": {"AWS": ROLE},
            "Action": "s3:PutObject",
            "Resource": f"{BUCKET}/*",
        },
        kind=PolicyType.RESOURCE,
    )
    boundary = _policy(
        "boundary.json", {"Effect": "Allow", "Action": ["s3:*", "ec2:*"], "Resource": "*"}
    )
    scp_root = _policy("FullAWSAccess", {"Effect": "Allow", "Action": "*", "Resource": "*"})
    scp_ou = _policy(
        "scp-guardrails.json",
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {
            "Sid": "DenyLeaveOrg",
            "Effect": "Deny",
            "Action": "organizations:LeaveOrganization",
            "Resource": "*",
        },
        {
            "Sid": "DenyOtherRegions",
            "Effect": "Deny",
            "NotAction": ["iam:*", "sts:*", "organizations:*"],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}},
        },
    )
    rcp = _policy(
        "rcp-perimeter.json",
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        {
            "Sid": "EnforceOrgIdentities",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {
                "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            },
        },
        kind=PolicyType.RESOURCE,
    )
    session = _policy(
        "session.json", {"Effect": "Allow", "Action": ["s3:*", "ec2:Describe*"], "Resource": "*"}
    )
    return PolicySet(
        identity=[s3_rw, deny_delete],
        resource=[bucket],
        boundary=boundary,
        scps=[OrgLevel("root", [scp_root]), OrgLevel("OU Workloads", [scp_ou])],
        rcps=[OrgLevel("root", [rcp])],
        session=session,
        resource_account=A,
    )


def requests() -> list[Request]:
    org = {"aws:PrincipalOrgID": ORG, "aws:SecureTransport": "true"}
    region = {"aws:RequestedRegion": "eu-west-1", **org}
    obj = f"{BUCKET}/q1.csv"
    return [
        Request("s3:GetObject", obj, SESSION, region),
        Request("s3:PutObject", obj, SESSION, region),
        Request("s3:DeleteBucket", BUCKET, SESSION, region),
        Request("s3:GetObject", obj, SESSION, {**region, "aws:SecureTransport": "false"}),
        Request("s3:GetObject", obj, OTHER, region),
        Request("s3:GetObject", obj, OTHER, {"aws:SecureTransport": "true"}),
        Request("s3:GetObject", obj, "cloudfront.amazonaws.com", {"aws:SourceArn": DISTRIBUTION}),
        Request("s3:GetObject", obj, None, {"aws:SecureTransport": "true"}),
        Request("organizations:LeaveOrganization", "*", USER, region),
        Request(
            "ec2:StopInstances",
            f"arn:aws:ec2:eu-west-1:{A}:instance/i-0abc",
            SESSION,
            {**region, "aws:ResourceTag/team": "red", "aws:PrincipalTag/team": "red"},
        ),
        Request("ec2:RunInstances", "*", USER, {**region, "aws:RequestedRegion": "sa-east-1"}),
        Request("iam:CreateUser", "*", USER, region),
    ]


ROUNDS = 4_000


def main() -> None:
    start = time.perf_counter()
    policies = policy_set()
    compile_ms = (time.perf_counter() - start) * 1000
    work = requests()
    outcomes = Counter(authorize(r, policies).decision for r in work)  # also warms caches
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(ROUNDS):
            for request in work:
                authorize(request, policies)
        best = max(best, ROUNDS * len(work) / (time.perf_counter() - start))
    start = time.perf_counter()
    for request in work:
        authorize(request, policies).explain()
    explain_us = (time.perf_counter() - start) / len(work) * 1e6

    print(f"{'measure':<44} {'value':>12}")
    print(f"{'decisions/s (all six policy types, 1 core)':<44} {best:>12,.0f}")
    print(f"{'explain() per decision (µs)':<44} {explain_us:>12,.1f}")
    print(f"{'compile the PolicySet once (ms)':<44} {compile_ms:>12,.2f}")
    mix = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
    print(f"\n{len(work)} requests ({mix}), {ROUNDS * len(work):,} decisions per timing")
    print("policy types: identity x2, bucket policy, boundary, SCP x2 levels, RCP, session")


if __name__ == "__main__":
    main()
