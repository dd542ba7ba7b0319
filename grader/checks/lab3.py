"""lab3 — roles per duty: an EC2 viewer and an EC2 operator.

Every verdict comes from the IAM engine (is this request allowed? what does this policy
grant?), never from the text of the learner's file. The instances the requests name are
made up from the run's seed, so a policy that lists instance IDs cannot pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.aws.iam import Policy, Request, evaluate
from grader.checks._support import (
    Verdict,
    count,
    deploy_role_policies,
    fail,
    judge,
    learner_policy,
    listing,
)
from grader.checks.lab3_scenario import ACCOUNT, Instance, make_fleet

VIEWER, OPERATOR = "viewer-policy.json", "operator-policy.json"
DOCS = "least-privilege/lab3.md"
# What the checks import on first use: a class's grading process imports it once, before
# it forks a grading child per learner (grader.grading.zygote).
PRELOAD = ("grader.aws.iam.catalog", "grader.aws.iam.data_access")
# The sandbox services the deploy gate calls (warmed before the checks start).
SANDBOX_SERVICES = ("iam",)
# The concept sections a failure points at (the lab page's task says what to build; these
# say why): what a wildcard also matches, why reading is not harmless, roles per duty, and
# how a condition operator compares.
WILDCARDS = "least-privilege/index.md#wildcards-need-care"
DUTIES = "least-privilege/index.md#roles-per-duty"
CONDITIONS = "least-privilege/index.md#condition-operators"
EXPLICIT_DENY = "least-privilege/index.md#how-a-request-is-decided"
# What an operator may be granted: the duty (start, stop) and seeing what it acts on.
OPERATOR_DUTY = {"ec2:startinstances", "ec2:stopinstances"}
# What "seeing EC2 and VPC" means, as the requests a viewer must be able to make.
VIEWER_MUST_SEE = (
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceStatus",
    "ec2:DescribeVolumes",
    "ec2:DescribeVpcs",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeRouteTables",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribeInternetGateways",
    "ec2:DescribeNatGateways",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeTags",
)


@pytest.fixture(scope="module")
def fleet(seed: int) -> dict[str, list[Instance]]:
    """Hidden instances for this run (see lab3_scenario)."""
    return make_fleet(seed)


@pytest.fixture(scope="module")
def policies(lab_dir: Path) -> dict[str, Policy]:
    """The learner's two policies, parsed (the first gate proves they parse)."""
    return {name: learner_policy(lab_dir, name, DOCS + "#task-4") for name in (VIEWER, OPERATOR)}


def _verdict(policy: Policy, request: Request, allowed: bool, what: str, fix: str) -> Verdict:
    return Verdict(what, evaluate([policy], request), allowed, fix)


# ---------------------------------------------------------------- gates (task 4)


@pytest.mark.check(task=4, points=1, gate=True)
def test_both_policies_are_valid_iam(lab_dir: Path) -> None:
    """Both files are valid IAM identity policies (JSON, and IAM's policy grammar)."""
    for name in (VIEWER, OPERATOR):
        learner_policy(lab_dir, name, DOCS + "#task-4")


@pytest.mark.check(task=4, points=2, gate=True)
def test_both_policies_deploy_to_the_sandbox(
    lab_dir: Path, policies: dict[str, Policy], aws
) -> None:
    """Both policies deploy to the sandbox account: created as managed policies within IAM's
    6,144-character limit and attached to their roles."""
    deploy_role_policies(
        aws,
        lab_dir,
        [(VIEWER, "ec2-viewer", DOCS + "#task-4"), (OPERATOR, "ec2-operator", DOCS + "#task-4")],
        account=ACCOUNT,
        too_long_fix="grant only what the duty needs; a policy that long grants far too much",
    )


# ---------------------------------------------------------------- task 1: the viewer


@pytest.mark.check(task=1, points=2)
def test_viewer_sees_ec2_and_vpc(policies: dict[str, Policy]) -> None:
    """The viewer can describe instances, volumes, VPCs, subnets, security groups, route
    tables and the rest of EC2 and VPC."""
    viewer = policies[VIEWER]
    missing = [
        a
        for a in VIEWER_MUST_SEE
        if not evaluate([viewer], Request(action=a, resource="*")).allowed
    ]
    if missing:
        fail(
            expected="every request to describe EC2 and VPC resources to be allowed",
            found=f"the viewer's policy refuses {listing(missing)} (asked on every resource: "
            "a Describe request names no single resource)",
            fix="grant the viewer the family of actions that describe what exists, on the "
            "resources those actions accept: most of them support no resource-level "
            "permissions, so a narrower Resource refuses them",
            docs=WILDCARDS,
        )


@pytest.mark.check(task=1, points=3)
def test_viewer_reads_no_data(policies: dict[str, Policy]) -> None:
    """The viewer reads no data: no S3 objects, DynamoDB items, secrets, parameters, queue
    messages, log events, function code or passwords."""
    from grader.aws.iam.catalog import grants
    from grader.aws.iam.data_access import data_read_actions

    reads = data_read_actions(grants(policies[VIEWER]))
    if reads:
        fail(
            expected="no action that returns the contents of data",
            found=f"{len(reads)} data-reading actions granted: "
            + listing([f"{entry.action} ({entry.reads})" for entry, _grant in reads], limit=8),
            fix="remove every service the viewer does not need; for EC2 keep only the Describe "
            "actions that show what exists (one of them returns user data: see the user data "
            "check)",
            # the task's own steps (run grants, remove, check again), which link the concept
            # (why ReadOnlyAccess is not safe): the starter's first failure leads to the lab
            docs=DOCS + "#task-1",
        )


@pytest.mark.check(task=1, points=2)
def test_viewer_cannot_read_user_data(policies: dict[str, Policy], fleet) -> None:
    """The viewer cannot read an instance's user data: ec2:DescribeInstanceAttribute, which
    ec2:Describe* includes, returns it, and user data often holds passwords and keys."""
    fix = (
        "keep the Describe actions but take back the one that returns an instance's user "
        "data: an explicit Deny wins over any Allow, so it stays refused whatever a wildcard "
        "(or a policy attached later) grants"
    )
    requests = [
        (f"ec2:DescribeInstanceAttribute on {instance.describe()}", instance)
        for instance in (fleet["dev"][0], fleet["other"][0])
    ]
    judge(
        [
            _verdict(
                policies[VIEWER],
                Request(action="ec2:DescribeInstanceAttribute", resource="*"),
                False,
                'ec2:DescribeInstanceAttribute on "*"',
                fix,
            ),
            *(
                _verdict(
                    policies[VIEWER],
                    instance.request("ec2:DescribeInstanceAttribute"),
                    False,
                    what,
                    fix,
                )
                for what, instance in requests
            ),
        ],
        EXPLICIT_DENY,
    )


@pytest.mark.check(task=1, points=1)
def test_viewer_changes_nothing(policies: dict[str, Policy]) -> None:
    """The viewer changes nothing: no Write, Tagging or Permissions management action."""
    from grader.aws.iam.catalog import grants

    changing = _granted(
        grants(policies[VIEWER]), levels=("Write", "Tagging", "Permissions management")
    )
    if changing:
        fail(
            expected="only Read and List actions",
            found=f"{count(len(changing), 'action')} that change things: {listing(changing)}",
            fix="the viewer's duty is to look; starting and stopping belongs to the operator role",
            docs=DUTIES,
        )


def _granted(result, levels: tuple[str, ...]) -> list[str]:
    return sorted(g.action for g in result.actions.values() if g.access_level in levels)


# ---------------------------------------------------------------- task 2: the operator


@pytest.mark.check(task=2, points=2)
def test_operator_starts_and_stops_dev_instances(policies: dict[str, Policy], fleet) -> None:
    """The operator can start and stop every instance tagged Environment=dev."""
    fix = (
        "allow the two actions that start and stop an instance on instances whose Environment "
        "tag is dev: instance IDs change, so the condition is on the instance's tag (a "
        "resource-tag key), not on its ID"
    )
    judge(
        [
            _verdict(
                policies[OPERATOR],
                instance.request(action),
                True,
                f"{action} on {instance.describe()}",
                fix,
            )
            for instance in fleet["dev"]
            for action in ("ec2:StartInstances", "ec2:StopInstances")
        ],
        CONDITIONS,
    )


@pytest.mark.check(task=2, points=2)
def test_operator_cannot_touch_other_instances(policies: dict[str, Policy], fleet) -> None:
    """The operator cannot start or stop an instance that is not tagged Environment=dev
    (prod, staging, no tag, or a tag that only looks like dev: Dev, DEV, xdev, dev-old,
    dav)."""
    fix = (
        "require the instance's Environment tag to be dev exactly, with a condition operator "
        "that compares the whole value, case included: one that ignores case also matches Dev "
        "and DEV, and a pattern with * or ? also matches look-alikes such as xdev, dev-old or "
        "dav"
    )
    judge(
        [
            _verdict(
                policies[OPERATOR],
                instance.request(action),
                False,
                f"{action} on {instance.describe()}",
                fix,
            )
            for instance in fleet["other"]
            for action in ("ec2:StartInstances", "ec2:StopInstances")
        ],
        CONDITIONS,
    )


@pytest.mark.check(task=2, points=2)
def test_operator_has_no_other_power(policies: dict[str, Policy], fleet) -> None:
    """The operator can do nothing but start and stop (and describe): it cannot terminate,
    re-tag an instance into dev, or pass a role."""
    from grader.aws.iam.catalog import grants

    dev = fleet["dev"][0]
    prod = fleet["other"][0]
    requests = (
        (f"ec2:TerminateInstances on {dev.describe()}", dev.request("ec2:TerminateInstances")),
        (
            f"ec2:CreateTags Environment=dev on {prod.describe()}",
            prod.request(
                "ec2:CreateTags",
                **{"aws:RequestTag/Environment": "dev", "aws:TagKeys": ["Environment"]},
            ),
        ),
        (
            "iam:PassRole on a role of the account",
            Request(action="iam:PassRole", resource=f"arn:aws:iam::{ACCOUNT}:role/admin"),
        ),
    )
    fix = (
        "grant the operator only what its duty does, starting and stopping: terminating, "
        "tagging and passing roles are other duties (re-tagging a prod instance as dev would "
        "undo the tag condition)"
    )
    judge(
        [_verdict(policies[OPERATOR], request, False, what, fix) for what, request in requests],
        DUTIES,
    )
    extra = [
        a
        for a in _granted(
            grants(policies[OPERATOR]),
            levels=("Read", "List", "Write", "Tagging", "Permissions management"),
        )
        if a.lower() not in OPERATOR_DUTY and not a.lower().startswith("ec2:describe")
    ]
    if extra:
        fail(
            expected="only the actions that start and stop instances (and the Describe actions)",
            found=f"{count(len(extra), 'more action')} granted: {listing(extra)}",
            fix="name each action the duty needs instead of a wildcard, and nothing else",
            docs=WILDCARDS,
        )


# ---------------------------------------------------------------- task 3: wildcards and scope


@pytest.mark.check(task=3, points=2)
def test_no_wildcard_action_beyond_describe(policies: dict[str, Policy]) -> None:
    """No wildcard action grants more than ec2:Describe*, in either policy."""
    from grader.aws.iam.catalog import load_catalog

    catalog = load_catalog()
    wide = []
    for name, policy in policies.items():
        for statement in policy.statements:
            if statement.effect != "Allow":
                continue
            if statement.not_action is not None:
                wide.append(f"NotAction in {name} {statement.label} (allows all it does not list)")
                continue
            for pattern in statement.action or ():
                if "*" not in pattern and "?" not in pattern:
                    continue
                beyond = [
                    a for a in catalog.expand(pattern) if not a.lower().startswith("ec2:describe")
                ]
                if beyond:
                    wide.append(
                        f"{pattern} in {name} ({count(len(beyond), 'action')} beyond ec2:Describe*, "
                        f"e.g. {beyond[0]})"
                    )
    if wide:
        fail(
            expected="wildcards only inside ec2:Describe*",
            found=listing(wide, limit=5),
            fix="name each action the duty needs; a wildcard grants today's and tomorrow's actions alike",
            docs=WILDCARDS,
        )


@pytest.mark.check(task=3, points=1)
def test_operator_is_scoped_to_the_account_and_region(policies: dict[str, Policy], fleet) -> None:
    """The operator's rights stop at the team's account and Region: a dev instance in
    another account or Region, even the next one, is out of reach."""
    fix = (
        "scope the operator's Resource to the instances of the team's own account and Region "
        "(data/inventory.json names them), each part of the ARN written out whole: a wildcard "
        "in the Region or the account part also matches the next Region, or an account one "
        "digit away"
    )
    judge(
        [
            _verdict(
                policies[OPERATOR],
                instance.request("ec2:StopInstances"),
                False,
                f"ec2:StopInstances on {instance.describe()}",
                fix,
            )
            for instance in fleet["elsewhere"]
        ],
        WILDCARDS,
    )
