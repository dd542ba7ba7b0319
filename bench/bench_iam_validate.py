"""How long the policy validator takes on a 50-statement policy, once its data is loaded.

Run: ``python bench/bench_iam_validate.py [--runs N]``. Prints figures; asserts nothing.
The target is under 50 ms per validation after the catalog is loaded, so ``grader iam
validate`` and the lab checks that run it stay interactive.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from grader.aws.iam.catalog import load_catalog
from grader.aws.iam.validate import validate_policy
from grader.aws.iam.validate.schema import load_schema

SERVICES = ("s3", "ec2", "dynamodb", "sqs", "sns", "kms", "lambda", "logs", "iam", "cloudwatch")


def fifty_statements() -> dict[str, Any]:
    """A realistic policy: scoped resources, wildcards, conditions, a few findings."""
    statements = []
    for i in range(50):
        service = SERVICES[i % len(SERVICES)]
        statement: dict[str, Any] = {
            "Sid": f"S{i}",
            "Effect": "Allow" if i % 7 else "Deny",
            "Action": [f"{service}:Get*", f"{service}:List*", f"{service}:Describe*"],
            "Resource": "*",
        }
        if service == "s3":
            statement["Action"] = ["s3:GetObject", "s3:PutObject", "s3:Get*"]
            statement["Resource"] = [f"arn:aws:s3:::bucket-{i}/*", f"arn:aws:s3:::bucket-{i}/a/*"]
        if service == "ec2":
            statement["Action"] = ["ec2:StartInstances", "ec2:StopInstances"]
            statement["Resource"] = "arn:aws:ec2:eu-west-1:111122223333:instance/*"
            statement["Condition"] = {
                "StringEquals": {"aws:ResourceTag/team": "web", "aws:RequestedRegion": "eu-west-1"},
                "Bool": {"aws:SecureTransport": "true"},
                "IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "10.0.0.0/8"]},
            }
        if service == "iam":
            statement["Action"] = ["iam:PassRole", "iam:GetRole"]
            statement["Resource"] = f"arn:aws:iam::111122223333:role/app-{i}"
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    start = time.perf_counter()
    load_catalog()
    load_schema()
    load_ms = (time.perf_counter() - start) * 1000

    text = json.dumps(fifty_statements(), indent=2)
    times = []
    findings = []
    for _ in range(args.runs):
        start = time.perf_counter()
        findings = validate_policy(text)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(f"catalog + schema load: {load_ms:.0f} ms")
    print(f"policy: 50 statements, {len(text)} characters, {len(findings)} findings")
    median = times[len(times) // 2]
    print(
        f"validate_policy ({args.runs} runs): best {times[0]:.1f} ms, median {median:.1f} ms, "
        f"slowest {times[-1]:.1f} ms (target < 50 ms)"
    )


if __name__ == "__main__":
    main()
