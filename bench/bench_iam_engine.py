"""How many identity-policy decisions per second: this engine next to moto's evaluator.

Both get the same single-statement policies and the same (action, resource) requests:
an exact action, a wildcard action, a resource ARN with a wildcard, and a StringEquals
condition (moto ignores conditions; the engine evaluates them). Policies are parsed and
compiled once, as a check does; requests are built beforehand for both engines.

Since issue #9, evaluate() decides through the same scan and decide() as authorize() (one
path, so the two cannot disagree); the identity-only function it replaced was about 1.8x
faster on these cases. To compare with it, run this script in a worktree of the commit
before the change, alternately with this one:
``git worktree add /tmp/old c68a9e8^ && (cd /tmp/old && python bench/bench_iam_engine.py)``.

Run: python bench/bench_iam_engine.py
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from moto.iam.access_control import IAMPolicy  # noqa: E402

from grader.aws.iam.evaluate import compile_policy, evaluate  # noqa: E402
from grader.aws.iam.policy import parse_policy  # noqa: E402
from grader.aws.iam.request import Request  # noqa: E402

BUCKET = "arn:aws:s3:::lab-data"


def _doc(action: str, resource: str, condition: dict | None = None) -> str:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


# (policy JSON, [(action, resource, context)]) - half of the requests are allowed
CASES = [
    (
        _doc("ec2:StartInstances", "*"),
        [("ec2:StartInstances", "*", {}), ("ec2:StopInstances", "*", {})],
    ),
    (
        _doc("s3:Get*", "*"),
        [("s3:GetObject", f"{BUCKET}/a.txt", {}), ("s3:PutObject", f"{BUCKET}/a.txt", {})],
    ),
    (
        _doc("s3:GetObject", f"{BUCKET}/reports/*"),
        [
            ("s3:GetObject", f"{BUCKET}/reports/2024/q1.csv", {}),
            ("s3:GetObject", f"{BUCKET}/private/key.pem", {}),
        ],
    ),
    (
        _doc(
            "ec2:StopInstances",
            "arn:aws:ec2:*:111122223333:instance/*",
            {"StringEquals": {"aws:ResourceTag/team": "red"}},
        ),
        [
            (
                "ec2:StopInstances",
                "arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc",
                {"aws:ResourceTag/team": "red"},
            ),
            (
                "ec2:StopInstances",
                "arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc",
                {"aws:ResourceTag/team": "blue"},
            ),
        ],
    ),
]

ROUNDS = 25_000  # each round makes one decision per (policy, request) pair: 8 per round


def _rate(run: Callable[[], int]) -> float:
    run()  # warm caches, as a grader run does after its first request
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        count = run()
        best = max(best, count / (time.perf_counter() - start))
    return best


def bench_engine() -> float:
    work = []
    for text, requests in CASES:
        policy = compile_policy(parse_policy(text))
        work.extend((policy, Request(a, r, context=c)) for a, r, c in requests)

    def run() -> int:
        for _ in range(ROUNDS):
            for policy, request in work:
                evaluate(policy, request)
        return ROUNDS * len(work)

    return _rate(run)


def bench_moto() -> float:
    work = []
    for text, requests in CASES:
        policy = IAMPolicy(text)
        work.extend((policy, a, r) for a, r, _ in requests)

    def run() -> int:
        for _ in range(ROUNDS):
            for policy, action, resource in work:
                policy.is_action_permitted(action, resource)
        return ROUNDS * len(work)

    return _rate(run)


def main() -> None:
    rows = [("grader.aws.iam", bench_engine()), ("moto IAMPolicy", bench_moto())]
    print(f"{'engine':<18} {'decisions/s':>12}")
    for name, rate in rows:
        print(f"{name:<18} {rate:>12,.0f}")
    print(f"\n{len(CASES)} single-statement policies, {ROUNDS * 8:,} decisions per timing")
    print("(moto ignores the StringEquals condition; the engine evaluates it)")


if __name__ == "__main__":
    main()
