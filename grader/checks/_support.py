"""What every lab's checks share: a failure that tells the learner what to do, and the
loading of their files with errors they can act on.

A check is a pytest test marked ``@pytest.mark.check(task=N, points=P[, gate=True])``
whose docstring is the sentence the learner reads. To fail, it calls :func:`fail` with
what was expected, what was found and what to change, so the report never shows a bare
assertion or a traceback.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, Protocol

from grader.aws.iam import MalformedPolicyError, Policy, PolicyType, parse_policy
from grader.aws.jsonfile import InputError, load_json


class CheckFailed(AssertionError):
    """A check's verdict, with the parts the report shows."""

    def __init__(self, expected: str, found: str, fix: str, docs: str | None = None):
        self.expected = expected
        self.found = found
        self.fix = fix
        self.docs = docs
        super().__init__(f"expected {expected}; found {found}")


def fail(*, expected: str, found: str, fix: str, docs: str | None = None) -> NoReturn:
    """End the check as failed. ``docs`` is a docs page (and anchor) to read."""
    raise CheckFailed(expected, found, fix, docs)


def listing(items: list[str], limit: int = 12) -> str:
    """A readable list that stays short: the first few and a count of the rest."""
    shown = ", ".join(items[:limit])
    rest = len(items) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown


def count(number: int, noun: str) -> str:
    """``1 action``, ``2 actions``: a number with its noun, singular when it is one."""
    return f"{number} {noun if number == 1 else noun + 's'}"


class Decided(Protocol):
    """What the IAM engine answers (``evaluate`` and ``authorize`` alike)."""

    @property
    def allowed(self) -> bool: ...

    def explain(self) -> str: ...


@dataclass(frozen=True)
class Verdict:
    """One request of a must-allow / must-deny matrix: how the learner reads it, the
    engine's decision, the answer it must get, and what to change when it is wrong."""

    what: str
    decision: Decided
    allowed: bool
    fix: str

    @property
    def wrong(self) -> bool:
        return self.decision.allowed != self.allowed


def judge(verdicts: Iterable[Verdict], docs: str | None) -> None:
    """Fail when any request gets the wrong answer: the first one in full, with the
    engine's explanation, and how many more are wrong (a few of them named)."""
    wrong = [v for v in verdicts if v.wrong]
    if not wrong:
        return
    first, others = wrong[0], wrong[1:]
    more = ""
    if others:
        more = (
            f" ({len(others)} more request{'s' if len(others) > 1 else ''} with the wrong "
            f"answer: {listing([v.what for v in others], limit=3)})"
        )
    fail(
        expected=f"{first.what} to be {'allowed' if first.allowed else 'denied'}",
        found=first.decision.explain() + more,
        fix=first.fix,
        docs=docs,
    )


def load_learner_json(lab_dir: Path, name: str, docs: str | None = None) -> Any:
    """A learner's JSON file, or a failure naming file, line and column."""
    try:
        return load_json(lab_dir / name, what="a JSON object (an IAM policy document)")
    except InputError as exc:
        fail(
            expected=f"{name} to be a readable JSON object",
            found=f"{name}:{exc.line}:{exc.column}: {exc.message}"
            if exc.line
            else f"{name}: {exc.message}",
            fix="fix the file at that spot and save it (the starter is restored by `grader reset`)",
            docs=docs,
        )


def parse_learner_policy(
    document: Any,
    name: str,
    docs: str | None,
    *,
    kind: PolicyType = PolicyType.IDENTITY,
    what: str = "a valid IAM identity policy",
) -> Policy:
    """A policy document the learner wrote (or their code returned), parsed as IAM would
    parse a policy of type ``kind``; a failure with IAM's MalformedPolicyDocument message
    and where it applies."""
    try:
        return parse_policy(document, name=name, kind=kind)
    except MalformedPolicyError as exc:
        where = f" (at {exc.json_path})" if exc.json_path else ""
        fail(
            expected=f"{name} to be {what}",
            found=f"IAM would answer MalformedPolicyDocument: {exc.message}{where}",
            fix="correct the policy's grammar: Version, Statement, Effect, "
            + ("Principal, " if kind.grammar is PolicyType.RESOURCE else "")
            + "Action, Resource, Condition",
            docs=docs,
        )


def learner_policy(
    lab_dir: Path,
    name: str,
    docs: str | None,
    *,
    kind: PolicyType = PolicyType.IDENTITY,
    what: str = "a valid IAM identity policy",
) -> Policy:
    """A learner's policy file read and parsed: the work of a lab's first gate."""
    document = load_learner_json(lab_dir, name, docs)
    return parse_learner_policy(document, name, docs, kind=kind, what=what)


def deploy_role_policies(
    aws: Any,
    lab_dir: Path,
    roles: Sequence[tuple[str, str, str]],
    *,
    account: str,
    too_long_fix: str,
) -> None:
    """The deploy gate of the IAM labs: each ``(file, role name, docs anchor)`` becomes a
    customer managed policy within IAM's quota, attached to a role the account may assume.

    moto validates the grammar (MalformedPolicyDocument) but not the size quota, so the
    quota is checked here, as IAM counts it: white space excluded.
    """
    from botocore.exceptions import ClientError

    from grader.aws.iam.policy import IDENTITY_QUOTA

    iam = aws.client("iam")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    for name, role, docs in roles:
        text = (lab_dir / name).read_text(encoding="utf-8-sig")
        size = len("".join(text.split()))
        if size > IDENTITY_QUOTA:
            fail(
                expected=f"{name} to fit in a customer managed policy "
                f"({IDENTITY_QUOTA:,} characters without white space)",
                found=f"LimitExceeded: {size:,} characters",
                fix=too_long_fix,
                docs=docs,
            )
        try:
            arn = iam.create_policy(PolicyName=f"{role}-policy", PolicyDocument=text)["Policy"][
                "Arn"
            ]
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
            iam.attach_role_policy(RoleName=role, PolicyArn=arn)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            fail(
                expected=f"IAM to accept {name}",
                found=f"{err.get('Code')}: {err.get('Message')}",
                fix="correct the policy so IAM accepts it",
                docs=docs,
            )
        attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
        assert [p["PolicyArn"] for p in attached] == [arn]


# ---------------------------------------------------------------- look-alikes

# AWS's commercial Regions (AWS General Reference, "AWS Regions and Availability Zones",
# 2025): the Regions a request can name, and the families a Region's neighbours come from.
REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1",
    "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
    "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1",
    "il-central-1", "me-south-1", "me-central-1", "mx-central-1", "sa-east-1",
)  # fmt: skip
# What a suffix added to a name looks like in real accounts (a retired copy, a second one).
SUFFIXES = ("-old", "-2", "-test", "2", "x", "-backup")


def look_alikes(
    value: str, rng: random.Random, *, case: bool = True, every_position_up_to: int = 16
) -> list[tuple[str, str]]:
    """``(string, how it differs)`` for strings an exact match refuses and a loosened one
    lets in: case variants (``Dev``, ``DEV``: what ``...IgnoreCase`` admits), a prefix and a
    suffix (``xdev``, ``dev-old``: ``*dev``, ``dev*``), one character short (``de``) and one
    character changed at each position (``dav``: ``d?v``; at a few seeded positions when
    ``value`` is longer than ``every_position_up_to``). ``case=False`` where AWS sends only
    one case (Regions, account and organization IDs, service principals, bucket names)."""
    found: dict[str, str] = {}

    def add(variant: str, why: str) -> None:
        if variant and variant != value and variant not in found:
            found[variant] = why

    if case:
        add(value.upper(), "a case variant")
        add(value[:1].swapcase() + value[1:], "a case variant")
    add(rng.choice(string.ascii_lowercase) + value, "a prefix added")
    add(value + rng.choice(SUFFIXES), "a suffix added")
    add(value[:-1], "one character short")
    n = len(value)
    if n <= every_position_up_to:
        positions: list[int] = list(range(n))
    else:
        positions = sorted({0, n - 1, *rng.sample(range(1, n - 1), 4)})
    for i in positions:
        ch = value[i]
        if ch.isdigit():
            pool = string.digits
        elif ch.isalpha():
            pool = string.ascii_lowercase
        else:
            continue  # a separator changed is another shape of name, not a near-miss
        other = rng.choice([c for c in pool if c != ch.lower()])
        add(value[:i] + (other.upper() if ch.isupper() else other) + value[i + 1 :],
            "one character changed")  # fmt: skip
    return list(found.items())


def region_neighbours(region: str, rng: random.Random) -> list[tuple[str, str]]:
    """``(Region, how it is near)``: the other Regions of ``region``'s family
    (``ap-northeast-2`` for ``ap-northeast-1``: what ``ap-northeast-*`` admits), the family's
    next number, a Region that may open later, and a Region of a neighbouring area with the
    same number (``ap-southeast-1``: what ``ap-*-1`` admits)."""
    area, number = region.rsplit("-", 1)
    family = [r for r in REGIONS if r.rsplit("-", 1)[0] == area]
    out = [(r, f"another Region of the {area} family") for r in family if r != region]
    later = max([int(r.rsplit("-", 1)[1]) for r in family] + [int(number)]) + 1
    out.append((f"{area}-{later}", f"the {area} family's next Region, not open yet"))
    geography = area.split("-", 1)[0]
    same_number = [
        r
        for r in REGIONS
        if r.split("-", 1)[0] == geography and r.endswith(f"-{number}") and r not in family
    ]
    if same_number:
        out.append((rng.choice(same_number), f"a neighbouring area's Region {number}"))
    return out


def account_neighbours(account: str, rng: random.Random) -> list[tuple[str, str]]:
    """``(account ID, how it is near)``: IDs one digit away from ``account``, at its end,
    its start and a seeded place between (what ``12345678901?`` or ``*2345678901*`` admit)."""
    out: dict[str, str] = {}
    for i in (len(account) - 1, 0, rng.randrange(1, len(account) - 1)):
        digits = [d for d in string.digits if d != account[i] and (i or d != "0")]
        out.setdefault(
            account[:i] + rng.choice(digits) + account[i + 1 :], "an account ID one digit away"
        )
    return list(out.items())
