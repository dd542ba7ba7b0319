"""lab5 — guardrails across policy types: SCP, permissions boundary, delegated
administration, bucket policy, a break-glass session policy and an RCP, evaluated together.

Every verdict is one cell of a decision matrix: a caller (an admin of a member account, a
developer, an app role a developer made, a break-glass session, a principal of another
account of the organization, an outsider, an anonymous caller), a request (action,
resource, Region, TLS or not) and the answer AWS's evaluation logic must give with every
policy that applies (the learner's files plus the organization's FullAWSAccess SCPs and
the callers' own identity policies). The IAM engine decides each cell and its explanation
is the failure message. Role names, Regions, account IDs, object keys, instance and volume
IDs are made up from the run's seed, so listing the ones of one run cannot pass.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from grader.aws.iam import Policy, PolicyType, Request, authorize, evaluate, parse_principal
from grader.aws.iam.evaluate import EXPLICIT_DENY
from grader.aws.iam.policy import IDENTITY_QUOTA, SCP_QUOTA, SESSION_POLICY_QUOTA
from grader.checks._support import Verdict, fail, learner_policy, listing
from grader.checks._support import judge as judge_verdicts
from grader.checks.lab5_scenario import (
    APP_ADMINISTRATION,
    APPROVED_REGIONS,
    BOUNDARY,
    BOUNDARY_ARN,
    BUCKET,
    BUCKET_NAME,
    CLOUDTRAIL_TAMPERING,
    DELEGATED,
    DEV,
    GLOBAL_CALLS,
    GLOBAL_REGION,
    GUARDDUTY_TAMPERING,
    HOME,
    MANAGEMENT,
    ORG_ID,
    PROD,
    RCP,
    REGIONAL_WORK,
    SCP,
    SECURITY,
    SECURITY_READS,
    SESSION,
    Cell,
    Org,
    World,
    beyond_containment,
    hex_digits,
    judge,
    make_world,
    rcp_grammar,
    regional_actions,
    request,
    service_request,
)

DOCS = "least-privilege/lab5.md"
# What the checks import on first use: a class's grading process imports it once, before
# it forks a grading child per learner (grader.grading.zygote).
PRELOAD = ("grader.aws.iam.catalog", "grader.aws.iam.data_access", "grader.aws.iam.validate.run")
# The concept sections a failure points at: the part of the chapter that teaches why (the
# lab page's task says what to build).
ORG_POLICIES = "least-privilege/policy-types.md#layer-3-add-scps-and-rcps"
REGION_GUARDRAIL = "least-privilege/policy-types.md#seven-policy-types"
BOUNDARIES = "least-privilege/policy-types.md#layer-2-add-a-permissions-boundary"
RESOURCE_POLICIES = "least-privilege/policy-types.md#layer-4-add-a-resource-based-policy"
SESSION_POLICIES = "least-privilege/policy-types.md#layer-5-add-a-session-policy"
VALIDATION = "least-privilege/access-analyzer.md#validating-a-policy"
ELEMENTS = "least-privilege/policy-types.md#the-elements-of-a-statement-per-type"
# file -> (policy type: how it parses and validates, Access Analyzer resource type, task)
FILES: dict[str, tuple[PolicyType, str | None, int]] = {
    SCP: (PolicyType.SCP, None, 1),
    BOUNDARY: (PolicyType.BOUNDARY, None, 2),
    DELEGATED: (PolicyType.IDENTITY, None, 2),
    BUCKET: (PolicyType.RESOURCE, "AWS::S3::Bucket", 3),
    SESSION: (PolicyType.SESSION, None, 4),
    RCP: (PolicyType.RCP, None, 6),
}


# ---------------------------------------------------------------- the run's hidden inputs


@pytest.fixture(scope="module")
def world(seed: int) -> World:
    return make_world(seed)


# ---------------------------------------------------------------- the learner's files


def _what(name: str) -> str:
    policy_type = FILES[name][0]
    if policy_type is PolicyType.RCP:
        return 'valid IAM: an RCP (Deny statements with "Principal": "*")'
    return "valid IAM: " + (
        "a resource-based policy (with Principal)"
        if policy_type.grammar is PolicyType.RESOURCE
        else (
            "an SCP" if policy_type is PolicyType.SCP else "an identity-style policy (no Principal)"
        )
    )


def _parse_all(lab_dir: Path) -> dict[str, Policy]:
    return {
        name: learner_policy(
            lab_dir, name, DOCS + f"#task-{FILES[name][2]}", kind=FILES[name][0], what=_what(name)
        )
        for name in FILES
    }


@pytest.fixture(scope="module")
def policies(lab_dir: Path) -> dict[str, Policy]:
    """The learner's six files, parsed (the first gate proves they parse)."""
    return _parse_all(lab_dir)


@pytest.fixture(scope="module")
def documents(policies: dict[str, Policy]) -> dict[str, Any]:
    """The learner's files as JSON data (for the validator)."""
    return {name: dict(policy.document) for name, policy in policies.items()}


# ---------------------------------------------------------------- the matrix


@pytest.fixture(scope="module")
def org(policies: dict[str, Policy], world: World) -> Org:
    return Org(policies, world)


# ---------------------------------------------------------------- gates (task 5)


@pytest.mark.check(task=5, points=1, gate=True)
def test_every_file_is_valid_iam(lab_dir: Path) -> None:
    """Every file is valid IAM of its kind: the SCP, the boundary, the developers' policy and
    the session policy without Principal; the bucket policy and the RCP with one."""
    _parse_all(lab_dir)


# The quotas, from the IAM engine (IAM, STS and Organizations quotas); a bucket policy may
# hold 20 KB (Amazon S3 quotas).
SIZE_LIMITS = {
    SCP: SCP_QUOTA,
    BOUNDARY: IDENTITY_QUOTA,
    DELEGATED: IDENTITY_QUOTA,
    SESSION: SESSION_POLICY_QUOTA,
    BUCKET: 20_480,
    RCP: SCP_QUOTA,  # an RCP may hold 5,120 characters too (Organizations quotas)
}


@pytest.mark.check(task=5, points=2, gate=True)
def test_the_setup_deploys_to_the_sandbox(lab_dir: Path, policies, aws) -> None:
    """The setup deploys to the sandbox: the SCP attached to the Workloads OU, the RCP to the
    root, the boundary and the developers' policy created, an app role created with the
    boundary, and the bucket with its policy (the session policy within STS's 2,048
    characters)."""
    from botocore.exceptions import ClientError

    texts = {name: (lab_dir / name).read_text(encoding="utf-8-sig") for name in FILES}
    for name, text in texts.items():
        size = len("".join(text.split()))
        if size > SIZE_LIMITS[name]:
            fail(
                expected=f"{name} within its quota of {SIZE_LIMITS[name]:,} characters",
                found=f"{size:,} characters without white space",
                fix="name what the guardrail needs; a policy that long does too much",
                docs=DOCS + "#task-5",
            )
    step = "organizations"
    try:
        orgs = aws.client("organizations")
        orgs.create_organization(FeatureSet="ALL")
        root = orgs.list_roots()["Roots"][0]["Id"]
        ou = orgs.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]
        scp = orgs.create_policy(
            Content=texts[SCP],
            Description="Workloads guardrails",
            Name="workloads-guardrails",
            Type="SERVICE_CONTROL_POLICY",
        )["Policy"]["PolicySummary"]["Id"]
        orgs.attach_policy(PolicyId=scp, TargetId=ou["Id"])
        orgs.enable_policy_type(RootId=root, PolicyType="RESOURCE_CONTROL_POLICY")
        rcp = orgs.create_policy(
            Content=texts[RCP],
            Description="Data perimeter",
            Name="data-perimeter",
            Type="RESOURCE_CONTROL_POLICY",
        )["Policy"]["PolicySummary"]["Id"]
        orgs.attach_policy(PolicyId=rcp, TargetId=root)
        step = "iam"
        iam = aws.client("iam")
        boundary = iam.create_policy(PolicyName="AppRoleBoundary", PolicyDocument=texts[BOUNDARY])
        developer = iam.create_policy(PolicyName="DelegatedAdmin", PolicyDocument=texts[DELEGATED])
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        iam.create_role(RoleName="Developer", AssumeRolePolicyDocument=json.dumps(trust))
        iam.attach_role_policy(RoleName="Developer", PolicyArn=developer["Policy"]["Arn"])
        iam.create_role(
            RoleName="orders-api",
            Path="/app/",
            AssumeRolePolicyDocument=json.dumps(trust),
            PermissionsBoundary=boundary["Policy"]["Arn"],
        )
        step = "s3"
        s3 = aws.client("s3")
        s3.create_bucket(
            Bucket=BUCKET_NAME, CreateBucketConfiguration={"LocationConstraint": aws.region}
        )
        s3.put_bucket_ownership_controls(
            Bucket=BUCKET_NAME,
            OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        )
        s3.put_bucket_policy(Bucket=BUCKET_NAME, Policy=texts[BUCKET])
    except ClientError as exc:
        err = exc.response.get("Error", {})
        fail(
            expected=f"the sandbox's {step} to accept your files",
            found=f"{err.get('Code')}: {err.get('Message')}",
            fix="correct the file that call used so the API accepts it",
            docs=DOCS + "#task-5",
        )
    attached = orgs.list_policies_for_target(TargetId=ou["Id"], Filter="SERVICE_CONTROL_POLICY")
    assert scp in [p["Id"] for p in attached["Policies"]]
    role = iam.get_role(RoleName="orders-api")["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary["Policy"]["Arn"]


# ---------------------------------------------------------------- task 1: the SCP


def _member_admins(org: Org) -> list[tuple[str, str, str]]:
    """(who, account, principal ARN): admins and root users of the Workloads accounts."""
    w = org.w
    return [
        ("an admin of the dev account", DEV, f"arn:aws:sts::{DEV}:assumed-role/Admin/{w.sessions[0]}"),
        ("an admin of the prod account", PROD, f"arn:aws:sts::{PROD}:assumed-role/Admin/{w.sessions[1]}"),
        (f"an admin of the new Workloads account {w.new_account}", w.new_account,
         f"arn:aws:sts::{w.new_account}:assumed-role/OrganizationAccountAccessRole/{w.sessions[2]}"),
        ("the root user of the prod account", PROD, f"arn:aws:iam::{PROD}:root"),
    ]  # fmt: skip


def _admin_cells(org: Org, items: list[tuple[str, str, str, bool, str]]) -> list:
    """items: (action, resource template, region, allowed, fix) for every member admin."""
    cells = []
    for who, account, arn in _member_admins(org):
        principal = parse_principal(arn)
        ps = org.policy_set("admin", account)
        for action, template, region, allowed, fix in items:
            resource = template.format(
                region=region, account=account, name=org.w.app_roles[0], id=org.w.ids[0]
            )
            req = request(action, resource, region, principal=arn)
            note = org.w.notes.get(region, "")
            cells.append((Cell(who, req, allowed, fix, note), ps, principal))
    return cells


@pytest.mark.check(task=1, points=2)
def test_scp_keeps_accounts_in_the_organization(org: Org) -> None:
    """No one in a Workloads account, not even an administrator or the root user, can make
    the account leave the organization."""
    fix = (
        "an account's administrators (and its root user) can do anything their own policies "
        "allow unless an SCP above the account denies it: FullAWSAccess allows leaving the "
        "organization, so only an explicit Deny in scp.json takes it back"
    )
    judge(
        _admin_cells(org, [("organizations:LeaveOrganization", "*", GLOBAL_REGION, False, fix)]),
        ORG_POLICIES,
    )


@pytest.mark.check(task=1, points=3)
def test_scp_keeps_cloudtrail_and_guardduty_running(org: Org) -> None:
    """No one in a Workloads account can stop, delete or blind the CloudTrail trail or turn
    GuardDuty off, while reading trails and findings stays possible."""
    items = []
    for action in CLOUDTRAIL_TAMPERING + GUARDDUTY_TAMPERING:
        resource = (
            "arn:aws:cloudtrail:{region}:{account}:trail/org-trail"
            if action.startswith("cloudtrail")
            else "arn:aws:guardduty:{region}:{account}:detector/{id}"
        )
        items.append(
            (action, resource, HOME, False,
             "deny in scp.json every CloudTrail and GuardDuty action that stops, deletes or "
             "reconfigures the trail or the detector (StopLogging is only one of them): a trail "
             "that records nothing, or a detector cut off from the security account, is "
             "stopped in all but name (look them up among the Write actions)")
        )  # fmt: skip
    for action, resource in SECURITY_READS:
        items.append(
            (action, resource, HOME, True,
             "deny only the actions that stop or change CloudTrail and GuardDuty, not "
             "cloudtrail:* or guardduty:*: responders must still read trails and findings")
        )  # fmt: skip
    judge(_admin_cells(org, items), ORG_POLICIES)


@pytest.mark.check(task=1, points=3)
def test_scp_denies_unapproved_regions(org: Org) -> None:
    """Regional services work only in the approved Regions (ap-northeast-1, ap-northeast-3):
    the same calls in any other Region, us-east-1 and the neighbouring ones included, are
    denied, and no regional service is exempted from that."""
    items = []
    for action, template in REGIONAL_WORK:
        for region in APPROVED_REGIONS:
            items.append(
                (action, template, region, True,
                 "deny by Region only when aws:RequestedRegion is not an approved Region; "
                 "work in ap-northeast-1 and ap-northeast-3 must go on")
            )  # fmt: skip
        for region in org.w.regions:
            items.append(
                (action, template, region, False,
                 "deny every action (except the global services') whenever the Region a "
                 "request is made in (aws:RequestedRegion) is not one of the approved Regions: "
                 "compare it with the approved list, exactly, not with a list of Regions to "
                 "block (the next Region to open is missing from it) and not with a wildcard "
                 "(ap-northeast-* also matches ap-northeast-2), and do not exempt regional "
                 "services")
            )  # fmt: skip
    judge(_admin_cells(org, items), REGION_GUARDRAIL)
    # Each regional service's actions (one per access level), in us-east-1: the SCP alone
    # must deny them (FullAWSAccess and the admins' AdministratorAccess allow the rest).
    scp = org.p[SCP]
    exempted = [
        a
        for a in regional_actions()
        if evaluate([scp], request(a, "*", GLOBAL_REGION)).decision != EXPLICIT_DENY
    ]
    if exempted:
        who, account, arn = _member_admins(org)[0]
        principal = parse_principal(arn)
        ps = org.policy_set("admin", account)
        services = sorted({a.split(":", 1)[0] for a in exempted})
        fix = (
            "exempt from the Region deny only the global services the task names, whose calls "
            "arrive in us-east-1 wherever the work is; these services are regional and must "
            f"stay in the approved Regions: {listing(services)}"
        )
        judge_verdicts(
            [
                Verdict(
                    f"{who}: {a} in {GLOBAL_REGION} (a regional service's action)",
                    authorize(request(a, "*", GLOBAL_REGION, principal=arn), ps, principal),
                    False,
                    fix,
                )
                for a in exempted
            ],
            REGION_GUARDRAIL,
        )


@pytest.mark.check(task=1, points=2)
def test_scp_exempts_global_services(org: Org) -> None:
    """Global services (IAM, Organizations, STS, CloudFront, Route 53, Support), whose calls
    arrive in us-east-1, still work from the Workloads accounts."""
    items = []
    for service, action, template in GLOBAL_CALLS:
        items.append(
            (action, template, GLOBAL_REGION, True,
             f"exempt the global services ({service} and the others) from the Region deny, as "
             "AWS's example SCP does: their requests name us-east-1")
        )  # fmt: skip
    judge(_admin_cells(org, items), REGION_GUARDRAIL)
    # An SCP with no Region deny over us-east-1 exempts nothing: the calls above then work
    # because nothing stops them, which earns no point.
    work = [a for a, _template in REGIONAL_WORK]
    through = [
        a
        for a in work
        if evaluate([org.p[SCP]], request(a, "*", GLOBAL_REGION)).decision != EXPLICIT_DENY
    ]
    if through:
        fail(
            expected=f"a Region deny in scp.json that covers {GLOBAL_REGION}, with the global "
            "services exempted from it",
            found=f"scp.json does not deny {listing(through)} in {GLOBAL_REGION} (the Region "
            "global services' calls arrive in): there is no Region deny there to exempt them "
            "from",
            fix="deny regional work outside the approved Regions, us-east-1 included, and "
            "exempt only the global services from that deny",
            docs=REGION_GUARDRAIL,
        )


# ---------------------------------------------------------------- task 2: boundary + delegation


def _developer_cells(org: Org, items: list[tuple[str, str, bool, str, dict[str, Any]]]) -> list:
    arn = f"arn:aws:sts::{DEV}:assumed-role/Developer/{org.w.sessions[3]}"
    principal = parse_principal(arn)
    ps = org.policy_set("developer", DEV, identity=[org.p[DELEGATED]])
    cells = []
    for action, resource, allowed, fix, context in items:
        region = GLOBAL_REGION if action.startswith("iam:") else HOME
        req = Request(
            action=action,
            resource=resource,
            principal=arn,
            context={"aws:RequestedRegion": region, "aws:PrincipalOrgID": ORG_ID, **context},
        )
        note = org.w.notes.get(context.get("iam:PermissionsBoundary", ""), "")
        if action in SETS_A_BOUNDARY and "iam:PermissionsBoundary" not in context:
            note = "no boundary in the request"
        cells.append((Cell("a developer", req, allowed, fix, note), ps, principal))
    return cells


def _role(name: str, path: str = "/app/") -> str:
    return f"arn:aws:iam::{DEV}:role{path}{name}"


WITH_BOUNDARY = {"iam:PermissionsBoundary": BOUNDARY_ARN}
# The requests that carry iam:PermissionsBoundary when the role has (or is given) a boundary
# (Service Authorization Reference, IAM's actions table).
SETS_A_BOUNDARY = frozenset(
    {"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy",
     "iam:PutRolePermissionsBoundary", "iam:DeleteRolePolicy", "iam:DetachRolePolicy"}
)  # fmt: skip


@pytest.mark.check(task=2, points=2)
def test_developers_create_app_roles_with_the_boundary(org: Org) -> None:
    """Developers can create roles under /app/ with the AppRoleBoundary boundary, give those
    roles policies, and pass them to Lambda."""
    fix = (
        "let developers create roles under the /app/ path and give them policies when the "
        "request carries the AppRoleBoundary boundary, and pass those roles to Lambda"
    )
    items = []
    for name in org.w.app_roles:
        role = _role(name)
        items += [
            ("iam:CreateRole", role, True, fix, WITH_BOUNDARY),
            ("iam:PutRolePolicy", role, True, fix, WITH_BOUNDARY),
            ("iam:AttachRolePolicy", role, True, fix,
             {**WITH_BOUNDARY, "iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"}),
            ("iam:PassRole", role, True, fix, {"iam:PassedToService": "lambda.amazonaws.com"}),
            ("iam:GetRole", role, True, "let developers read roles (iam:GetRole, iam:ListRoles)", {}),
        ]  # fmt: skip
    judge(_developer_cells(org, items), BOUNDARIES)


@pytest.mark.check(task=2, points=3)
def test_developers_cannot_create_roles_without_the_boundary(org: Org) -> None:
    """Developers cannot create a role without the boundary, with another boundary, or
    outside /app/, nor give policies to a role that lacks the boundary."""
    w = org.w
    need = (
        "make CreateRole, PutRolePolicy and AttachRolePolicy conditional on the boundary the "
        "request carries (the condition key iam:PermissionsBoundary) being AppRoleBoundary, "
        "matched as the exact ARN: a wildcard also matches a policy whose name only looks alike"
    )
    path = (
        "limit the roles developers manage to the /app/ path: a role's path is part of its "
        "ARN, and it ends with a slash (/application/ is another path)"
    )
    items = []
    for name in w.app_roles[:2]:
        role = _role(name)
        items += [
            ("iam:CreateRole", role, False, need, {}),
            ("iam:CreateRole", role, False, need,
             {"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"}),
            ("iam:PutRolePolicy", role, False, need, {}),
            ("iam:AttachRolePolicy", role, False, need,
             {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}),
        ]  # fmt: skip
    role = _role(w.app_roles[0])
    for lookalike in w.lookalike_boundaries:
        for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"):
            items.append((action, role, False, need, {"iam:PermissionsBoundary": lookalike}))
    for other in w.other_paths:
        items.append(("iam:CreateRole", _role(w.app_roles[0], other), False, path, WITH_BOUNDARY))
    judge(_developer_cells(org, items), BOUNDARIES)


@pytest.mark.check(task=2, points=3)
def test_developers_cannot_remove_or_change_the_boundary(org: Org) -> None:
    """Developers cannot remove the boundary from a role, swap it for another, or edit or
    delete the boundary policy itself."""
    w = org.w
    items = []
    for name in w.app_roles[:2]:
        items.append(
            ("iam:DeleteRolePermissionsBoundary", _role(name), False,
             "a developer must not be able to take the boundary off a role: removing it is "
             "an action of its own, which the delegation has to refuse explicitly", WITH_BOUNDARY)
        )  # fmt: skip
    for lookalike in w.lookalike_boundaries:
        items.append(
            ("iam:PutRolePermissionsBoundary", _role(w.app_roles[1]), False,
             "allow iam:PutRolePermissionsBoundary only under the same boundary condition as "
             "CreateRole: the exact ARN of AppRoleBoundary, no wildcard",
             {"iam:PermissionsBoundary": lookalike})
        )  # fmt: skip
    for action in (
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:DeletePolicyVersion",
        "iam:DeletePolicy",
    ):
        items.append(
            (action, BOUNDARY_ARN, False,
             "deny the actions that edit or delete a managed policy (its versions too) on the "
             "boundary policy itself: whoever edits the boundary edits every app role's "
             "ceiling", {})
        )  # fmt: skip
    judge(_developer_cells(org, items), BOUNDARIES)


@pytest.mark.check(task=2, points=2)
def test_developers_cannot_escalate(org: Org) -> None:
    """Developers cannot escalate: no new users or access keys, no policies on their own role
    or other roles, and no passing roles to other services or roles outside /app/."""
    w = org.w
    own = f"arn:aws:iam::{DEV}:role/Developer"
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    fix = "grant IAM actions only on the app roles (the /app/ path), never iam:* on every role"
    items = [
        ("iam:CreateUser", f"arn:aws:iam::{DEV}:user/{w.users[0]}", False, fix, WITH_BOUNDARY),
        ("iam:CreateAccessKey", f"arn:aws:iam::{DEV}:user/{w.users[1]}", False, fix, {}),
        ("iam:AttachRolePolicy", own, False, fix, {"iam:PolicyARN": admin}),
        ("iam:PutRolePolicy", own, False, fix, {}),
        ("iam:UpdateAssumeRolePolicy", f"arn:aws:iam::{DEV}:role/BreakGlass", False, fix, {}),
        ("iam:AttachUserPolicy", f"arn:aws:iam::{DEV}:user/{w.users[0]}", False, fix,
         {"iam:PolicyARN": admin}),
        ("iam:PassRole", _role(w.app_roles[0]), False,
         "limit iam:PassRole to the one service the app roles are for (the condition key "
         "iam:PassedToService): a role passed to EC2 runs with its rights on an instance",
         {"iam:PassedToService": "ec2.amazonaws.com"}),
        ("iam:PassRole", _role(w.app_roles[0], w.other_paths[2]), False,
         "allow iam:PassRole only on roles under /app/ (never on *)",
         {"iam:PassedToService": "lambda.amazonaws.com"}),
    ]  # fmt: skip
    judge(_developer_cells(org, items), BOUNDARIES)


@pytest.mark.check(task=2, points=3)
def test_boundary_caps_app_roles(org: Org) -> None:
    """An app role with the boundary can do its app's work (S3 objects in acme-dev-*
    buckets, DynamoDB items, SQS, logs in the dev account) and nothing more, even when a
    developer attached AdministratorAccess to it: no administration of those services
    (sharing, deleting), no other bucket, no other account."""
    w = org.w
    example = org.policy_set(
        "app-example", DEV, identity=[org.app_example], boundary=org.p[BOUNDARY]
    )
    worst = org.policy_set("app-admin", DEV, identity=[org.admin], boundary=org.p[BOUNDARY])
    bucket, table = w.dev_buckets[0], w.tables[0]
    queue = f"arn:aws:sqs:{HOME}:{DEV}:{w.tables[1]}"
    work = [
        ("s3:GetObject", f"arn:aws:s3:::{bucket}/{w.keys[0]}"),
        ("s3:PutObject", f"arn:aws:s3:::{w.dev_buckets[1]}/{w.keys[1]}"),
        ("dynamodb:GetItem", f"arn:aws:dynamodb:{HOME}:{DEV}:table/{table}"),
        ("dynamodb:Query", f"arn:aws:dynamodb:{HOME}:{DEV}:table/{table}"),
        ("sqs:SendMessage", queue),
        ("sqs:ReceiveMessage", queue),
        ("logs:PutLogEvents", f"arn:aws:logs:{HOME}:{DEV}:log-group:/aws/lambda/{w.app_roles[0]}:log-stream:x"),
    ]  # fmt: skip
    log_group = f"arn:aws:logs:{HOME}:{DEV}:log-group:/aws/lambda/{w.app_roles[0]}"
    beyond = [
        ("iam:CreateUser", f"arn:aws:iam::{DEV}:user/{w.users[0]}", ""),
        ("iam:AttachRolePolicy", _role(w.app_roles[1]), ""),
        ("iam:PassRole", _role(w.app_roles[1]), ""),
        ("iam:CreateAccessKey", f"arn:aws:iam::{DEV}:user/{w.users[1]}", ""),
        ("sts:AssumeRole", f"arn:aws:iam::{DEV}:role/Developer", ""),
        ("ec2:RunInstances", f"arn:aws:ec2:{HOME}:{DEV}:instance/*", ""),
        ("s3:GetObject", f"arn:aws:s3:::{BUCKET_NAME}/{w.keys[0]}", "not an app bucket"),
        ("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{HOME}:{DEV}:secret:{w.tables[1]}-AbCdEf", ""),
        ("kms:ScheduleKeyDeletion", f"arn:aws:kms:{HOME}:{DEV}:key/{w.ids[0].lower()}", ""),
    ]  # fmt: skip
    mine = {"bucket": bucket, "key": w.keys[0], "queue": queue, "log_group": log_group,
            "table": f"arn:aws:dynamodb:{HOME}:{DEV}:table/{table}"}  # fmt: skip
    beyond += [(a, template.format(**mine), why) for a, template, why in APP_ADMINISTRATION]
    beyond += [
        ("s3:GetObject", f"arn:aws:s3:::{b}/{w.keys[1]}", f"a bucket acme-dev-* does not name: {w.notes[b]}")
        for b in w.lookalike_buckets
    ]  # fmt: skip
    checked = [(*item, worst) for item in beyond]
    # Another account's table, queue and log group, whose policy lets the dev account in:
    # only the caller's side, its boundary included, can keep the app role out.
    for account, why in (
        (PROD, "the prod account's, shared with dev"),
        (w.neighbour_account, w.notes[w.neighbour_account] + ", shared with dev"),
    ):
        shared = org.policy_set(
            "app-admin-shared",
            DEV,
            identity=[org.admin],
            boundary=org.p[BOUNDARY],
            resource=[org.shared_with_dev],
            resource_account=account,
        )
        checked += [
            ("dynamodb:GetItem", f"arn:aws:dynamodb:{HOME}:{account}:table/{table}", why, shared),
            ("sqs:SendMessage", f"arn:aws:sqs:{HOME}:{account}:{w.tables[1]}", why, shared),
            ("logs:PutLogEvents", f"arn:aws:logs:{HOME}:{account}:log-group:/aws/lambda/{w.app_roles[0]}:log-stream:x", why, shared),
        ]  # fmt: skip
    cells = []
    for i, name in enumerate(w.app_roles[:2]):
        arn = f"arn:aws:sts::{DEV}:assumed-role/{name}/{w.sessions[i]}"
        principal = parse_principal(arn)
        for action, resource in work:
            req = request(action, resource, principal=arn)
            cells.append(
                (Cell(f"app role {name} (data/app-role-policy.json + boundary)", req, True,
                      f"let the boundary allow {action} on the app's resources: the boundary is the "
                      "ceiling, so the app's own policy can only use what it allows"), example, principal)
            )  # fmt: skip
        for action, resource, why, ps in checked:
            req = request(action, resource, principal=arn)
            cells.append(
                (Cell(f"app role {name} with AdministratorAccess + boundary", req, False,
                      "allow in boundary.json only the app's work: named object, item, message "
                      "and log actions (not s3:*, sqs:*, dynamodb:* or logs:*, which share and "
                      "delete buckets, queues, tables and log groups), on acme-dev-* buckets and "
                      f"resources of the dev account {DEV} only", why), ps, principal)
            )  # fmt: skip
    judge(cells, BOUNDARIES)


# ---------------------------------------------------------------- task 3: the bucket policy


def _bucket_callers(org: Org) -> list[tuple[str, str | None, str | None]]:
    """(who, principal ARN or None for anonymous, aws:PrincipalOrgID)."""
    w = org.w
    return [
        ("the prod deploy role (same account)", f"arn:aws:sts::{PROD}:assumed-role/deployer/{w.sessions[0]}", ORG_ID),
        ("the dev CI role (another account of the organization)", f"arn:aws:sts::{DEV}:assumed-role/ci/{w.sessions[1]}", ORG_ID),
        ("an auditor of the security account", f"arn:aws:sts::{SECURITY}:assumed-role/Auditor/{w.sessions[2]}", ORG_ID),
        (f"a role of the new Workloads account {w.new_account}",
         f"arn:aws:sts::{w.new_account}:assumed-role/ci/{w.sessions[3]}", ORG_ID),
    ]  # fmt: skip


def _outsiders(org: Org) -> list[tuple[str, str | None, str | None]]:
    w = org.w
    return [
        (f"a role of account {w.outside_account} in another organization",
         f"arn:aws:sts::{w.outside_account}:assumed-role/vendor/{w.sessions[0]}", w.outside_org),
        (f"a user of account {w.outside_account}, in no organization",
         f"arn:aws:iam::{w.outside_account}:user/{w.users[0]}", None),
        ("an anonymous caller", None, None),
        *((f"a role of account {w.outside_account} in organization {other} ({w.notes[other]})",
           f"arn:aws:sts::{w.outside_account}:assumed-role/vendor/{w.sessions[1]}", other)
          for other in w.lookalike_orgs),
    ]  # fmt: skip


def _bucket_cells(org: Org, callers: list, items: list[tuple[str, str, bool, bool, str]]) -> list:
    cells = []
    for who, arn, org_id in callers:
        principal = parse_principal(arn)
        account = principal.account or "anonymous"
        ps = org.policy_set("bucket", account, resource=[org.p[BUCKET]], resource_account=PROD)
        for action, resource, tls, allowed, fix in items:
            req = request(action, resource, org_id=org_id, tls=tls, principal=arn)
            cells.append((Cell(who, req, allowed, fix), ps, principal))
    return cells


def _objects(org: Org) -> tuple[str, str]:
    return (
        f"arn:aws:s3:::{BUCKET_NAME}/{org.w.keys[1]}",
        f"arn:aws:s3:::{BUCKET_NAME}/{org.w.keys[2]}",
    )


@pytest.mark.check(task=3, points=2)
def test_bucket_refuses_requests_without_tls(org: Org) -> None:
    """Every request to the release bucket without TLS is denied, from any caller, on the
    bucket and on its objects."""
    key, other = _objects(org)
    fix = (
        "refuse every request that does not come over TLS, whoever makes it, on the bucket "
        "and on its objects alike: an explicit Deny, since an Allow cannot take back what "
        "another policy grants (the request says whether it used TLS in aws:SecureTransport)"
    )
    items = [
        ("s3:GetObject", key, False, False, fix),
        ("s3:PutObject", other, False, False, fix),
        ("s3:ListBucket", f"arn:aws:s3:::{BUCKET_NAME}", False, False, fix),
    ]
    judge(_bucket_cells(org, _bucket_callers(org), items), RESOURCE_POLICIES)


@pytest.mark.check(task=3, points=2)
def test_bucket_serves_the_organization(org: Org) -> None:
    """Every principal of the organization, in any of its accounts (one that joined today
    too), can read, list and write artifacts over TLS."""
    key, other = _objects(org)
    fix = (
        "grant reading and writing objects, and listing the bucket, to every principal of the "
        "organization, named by the organization itself (the request carries its ID in "
        "aws:PrincipalOrgID), not by a list of accounts: accounts join and leave"
    )
    items = [
        ("s3:GetObject", key, True, True, fix),
        ("s3:PutObject", other, True, True, fix),
        ("s3:ListBucket", f"arn:aws:s3:::{BUCKET_NAME}", True, True, fix),
    ]
    judge(_bucket_cells(org, _bucket_callers(org), items), RESOURCE_POLICIES)


@pytest.mark.check(task=3, points=3)
def test_bucket_refuses_everyone_outside_the_organization(org: Org) -> None:
    """No one outside the organization (another organization's role, even one whose ID is a
    character away, a user of an account in no organization, an anonymous caller) can read,
    list or write, and no one but the bucket's own account can change the bucket's policy or
    delete it."""
    key, other = _objects(org)
    fix = (
        "grant only to principals whose organization ID (aws:PrincipalOrgID) is the "
        "organization's, exactly, with an operator that compares the whole value (a wildcard "
        "also matches another organization's ID); never Allow with NotPrincipal (it allows "
        "everyone it does not name, anonymous callers too)"
    )
    items = [
        ("s3:GetObject", key, True, False, fix),
        ("s3:PutObject", other, True, False, fix),
        ("s3:ListBucket", f"arn:aws:s3:::{BUCKET_NAME}", True, False, fix),
    ]
    cells = _bucket_cells(org, _outsiders(org), items)
    admin_fix = "allow the organization reads and writes only, not s3:* (bucket administration)"
    cells += _bucket_cells(
        org,
        _bucket_callers(org)[1:],
        [
            ("s3:PutBucketPolicy", f"arn:aws:s3:::{BUCKET_NAME}", True, False, admin_fix),
            ("s3:DeleteBucket", f"arn:aws:s3:::{BUCKET_NAME}", True, False, admin_fix),
            ("s3:DeleteObject", key, True, False, admin_fix),
        ],
    )
    judge(cells, RESOURCE_POLICIES)


# ---------------------------------------------------------------- task 4: the break-glass session


def _break_glass_cells(org: Org, items: list[tuple[str, str, bool, str]]) -> list:
    w = org.w
    arn = f"arn:aws:sts::{PROD}:assumed-role/BreakGlass/incident-{w.ids[1].lower()}"
    principal = parse_principal(arn)
    ps = org.policy_set("break-glass", PROD, session=org.p[SESSION])
    cells = []
    for action, resource, allowed, fix, *note in items:
        region = GLOBAL_REGION if action.startswith("iam:") else HOME
        cells.append(
            (Cell("the break-glass session", request(action, resource, region, principal=arn),
                  allowed, fix, *note), ps, principal)
        )  # fmt: skip
    return cells


@pytest.mark.check(task=4, points=3)
def test_break_glass_session_can_contain_an_incident(org: Org) -> None:
    """The break-glass session can see instances, volumes and findings, stop any instance,
    snapshot any volume and deactivate any user's access key in the prod account."""
    w = org.w
    fix = "allow this containment step in the session policy (for every instance, volume or user of the prod account)"
    items = [
        ("ec2:DescribeInstances", "*", True, fix),
        ("ec2:DescribeVolumes", "*", True, fix),
        ("cloudtrail:LookupEvents", "*", True, fix),
        ("guardduty:GetFindings", f"arn:aws:guardduty:{HOME}:{PROD}:detector/{w.ids[0].lower()}", True, fix),
        ("iam:ListAccessKeys", f"arn:aws:iam::{PROD}:user/{w.users[0]}", True, fix),
    ]  # fmt: skip
    for instance in w.instances:
        items.append(
            ("ec2:StopInstances", f"arn:aws:ec2:{HOME}:{PROD}:instance/{instance}", True, fix)
        )
    for volume in w.volumes:
        items.append(
            ("ec2:CreateSnapshot", f"arn:aws:ec2:{HOME}:{PROD}:volume/{volume}", True, fix)
        )
        items.append(("ec2:CreateSnapshot", f"arn:aws:ec2:{HOME}::snapshot/*", True, fix))
    for user in w.users:
        items.append(("iam:UpdateAccessKey", f"arn:aws:iam::{PROD}:user/{user}", True, fix))
    judge(_break_glass_cells(org, items), SESSION_POLICIES)


@pytest.mark.check(task=4, points=3)
def test_break_glass_session_can_do_nothing_else(org: Org) -> None:
    """Whatever the BreakGlass role allows (AdministratorAccess), the session can do nothing
    but contain: it cannot destroy evidence, suppress findings, start or change instances,
    read data, or change permissions (no terminate, delete, new keys or users, policies, role
    passing or reading objects and secrets)."""
    w = org.w
    fix = "allow only the containment actions in the session policy; a session policy caps the role's AdministratorAccess"
    instance = f"arn:aws:ec2:{HOME}:{PROD}:instance/{w.instances[0]}"
    detector = f"arn:aws:guardduty:{HOME}:{PROD}:detector/{w.ids[0].lower()}"
    items = [
        ("ec2:TerminateInstances", instance, False, fix),
        ("ec2:RunInstances", f"arn:aws:ec2:{HOME}:{PROD}:instance/*", False, fix),
        ("ec2:DeleteVolume", f"arn:aws:ec2:{HOME}:{PROD}:volume/{w.volumes[0]}", False, fix),
        ("ec2:DeleteSnapshot", f"arn:aws:ec2:{HOME}::snapshot/snap-0{hex_digits(random.Random(w.ids[0]), 16)}", False, fix),
        ("iam:DeleteAccessKey", f"arn:aws:iam::{PROD}:user/{w.users[0]}", False,
         "contain a key by deactivating it, never by deleting it: a deleted key is lost "
         "evidence, and deactivating is an action of its own"),
        ("iam:CreateAccessKey", f"arn:aws:iam::{PROD}:user/{w.users[1]}", False, fix),
        ("iam:CreateUser", f"arn:aws:iam::{PROD}:user/{w.sessions[0]}", False, fix),
        ("iam:AttachRolePolicy", f"arn:aws:iam::{PROD}:role/BreakGlass", False, fix),
        ("iam:PassRole", f"arn:aws:iam::{PROD}:role/{w.app_roles[0]}", False, fix),
        ("sts:AssumeRole", f"arn:aws:iam::{PROD}:role/{w.app_roles[1]}", False, fix),
        ("s3:GetObject", f"arn:aws:s3:::{BUCKET_NAME}/{w.keys[0]}", False, fix),
        ("s3:DeleteBucket", f"arn:aws:s3:::{BUCKET_NAME}", False, fix),
        ("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{HOME}:{PROD}:secret:{w.tables[0]}-AbCdEf", False, fix),
        ("kms:ScheduleKeyDeletion", f"arn:aws:kms:{HOME}:{PROD}:key/{w.ids[1].lower()}", False, fix),
        ("cloudtrail:DeleteTrail", f"arn:aws:cloudtrail:{HOME}:{PROD}:trail/org-trail", False, fix),
        ("cloudtrail:StopLogging", f"arn:aws:cloudtrail:{HOME}:{PROD}:trail/org-trail", False, fix, "stops the trail"),
        ("guardduty:ArchiveFindings", "*", False, fix, "suppresses findings"),
        ("guardduty:CreateFilter", f"{detector}/filter/{w.sessions[1]}", False, fix, "a filter can archive findings"),
        ("guardduty:DeleteDetector", detector, False, fix, "switches GuardDuty off"),
        ("ec2:StartInstances", instance, False, fix, "starts an instance"),
        ("ec2:ModifyInstanceAttribute", instance, False, fix, "modifies an instance"),
        ("ec2:ModifySnapshotAttribute", f"arn:aws:ec2:{HOME}::snapshot/snap-0{hex_digits(random.Random(w.ids[1]), 16)}", False, fix, "shares a snapshot"),
    ]  # fmt: skip
    judge(_break_glass_cells(org, items), SESSION_POLICIES)
    extra = beyond_containment(org.p[SESSION])
    if extra:
        fail(
            expected="a session policy that grants only what containment needs: seeing "
            "(instances, volumes, trails, findings and keys, never data), stopping instances, "
            "snapshotting volumes and deactivating access keys",
            found=f"{len(extra)} more actions granted: {listing(extra, limit=8)}",
            fix="name the containment actions instead of a wildcard such as guardduty:*, "
            "ec2:*Instances or ec2:*Snapshot*: a wildcard also grants what suppresses "
            "findings, deletes evidence or starts and changes instances",
            docs=SESSION_POLICIES,
        )


# ---------------------------------------------------------------- Access Analyzer's checks


def _validator_check(documents: dict[str, Any], names: tuple[str, ...]) -> None:
    from grader.aws.iam.validate import validate_policy

    bad = []
    for name in names:
        policy_type, resource_type, _task = FILES[name]
        for finding in validate_policy(documents[name], policy_type, resource_type=resource_type):
            if finding.finding_type in ("ERROR", "SECURITY_WARNING"):
                bad.append(f"{name}: {finding.describe()}")
    if bad:
        kinds = " or ".join(sorted({"--type " + _cli_type(n) for n in names}))
        fail(
            expected="no ERROR or SECURITY_WARNING finding from Access Analyzer's policy checks",
            found=listing(bad, limit=4),
            fix=f"fix each finding; run `grader iam validate FILE {kinds}` to see them all",
            docs=VALIDATION,
        )


def _cli_type(name: str) -> str:
    return {
        SCP: "scp",
        RCP: "rcp",
        BUCKET: "resource --resource-type AWS::S3::Bucket",
        BOUNDARY: "boundary",
    }.get(name, "identity")


@pytest.mark.check(task=1, points=1)
def test_scp_passes_access_analyzer(documents: dict[str, Any]) -> None:
    """Access Analyzer's checks for an SCP find no error or security warning in scp.json."""
    _validator_check(documents, (SCP,))


@pytest.mark.check(task=2, points=1)
def test_delegation_passes_access_analyzer(documents: dict[str, Any]) -> None:
    """Access Analyzer's checks find no error or security warning (such as iam:PassRole on
    every role) in the boundary or the developers' policy."""
    _validator_check(documents, (BOUNDARY, DELEGATED))


@pytest.mark.check(task=3, points=1)
def test_bucket_policy_passes_access_analyzer(documents: dict[str, Any]) -> None:
    """Access Analyzer's checks for an S3 bucket policy find no error or security warning
    (such as Allow with NotPrincipal)."""
    _validator_check(documents, (BUCKET,))


@pytest.mark.check(task=4, points=1)
def test_session_policy_passes_access_analyzer(documents: dict[str, Any]) -> None:
    """Access Analyzer's checks find no error or security warning in the session policy."""
    _validator_check(documents, (SESSION,))


# ---------------------------------------------------------------- task 6: the data perimeter (RCP)


@pytest.fixture(scope="module")
def org_with_rcp(policies: dict[str, Policy], world: World) -> Org:
    return Org(policies, world, rcp=True)


def _keys(org: Org) -> list[str]:
    """The apps' KMS keys: the one that encrypts the release artifacts (prod), the dev app's."""
    prod, dev = org.w.key_ids
    return [f"arn:aws:kms:{HOME}:{PROD}:key/{prod}", f"arn:aws:kms:{HOME}:{DEV}:key/{dev}"]


def _perimeter_requests(org: Org, *, kms: bool = True) -> list[tuple[str, str]]:
    """(action, resource): reading, listing and writing artifacts, and using the keys."""
    key, other = _objects(org)
    items = [
        ("s3:GetObject", key),
        ("s3:PutObject", other),
        ("s3:ListBucket", f"arn:aws:s3:::{BUCKET_NAME}"),
    ]
    if kms:
        for arn in _keys(org):
            items += [("kms:Decrypt", arn), ("kms:GenerateDataKey", arn)]
    return items


def _perimeter_cells(org: Org, callers: list, allowed: bool, fix: str) -> list:
    cells = []
    for who, arn, org_id in callers:
        principal = parse_principal(arn)
        for action, resource in _perimeter_requests(org, kms=arn is not None):
            account = PROD if action.startswith("s3:") else resource.split(":")[4]
            req = request(action, resource, org_id=org_id, principal=arn)
            cells.append((Cell(who, req, allowed, fix), org.perimeter_set(account), principal))
    return cells


@pytest.mark.check(task=6, points=1, gate="task")
def test_rcp_is_a_resource_control_policy(documents: dict[str, Any]) -> None:
    """rcp.json is an RCP AWS Organizations accepts: only Deny statements, each with
    "Principal": "*" (no NotPrincipal, no NotAction), and Access Analyzer's checks for an
    RCP find no error or security warning."""
    problems = rcp_grammar(documents[RCP])
    if problems:
        fail(
            expected='an RCP: Deny statements with "Principal": "*", Action, Resource and '
            "Condition",
            found=listing(problems, limit=4),
            fix="write each statement as a Deny that applies to every principal, and say who "
            "is kept out with conditions on the caller (its organization, whether it is an AWS "
            "service), not with Principal; AWS's own RCPFullAWSAccess is the only Allow, and it "
            "is already attached",
            docs=ELEMENTS,
        )
    _validator_check(documents, (RCP,))


@pytest.mark.check(task=6, points=2)
def test_rcp_lets_the_organization_in(org: Org) -> None:
    """Principals of every account of the organization (the management account, the
    security, dev and prod accounts, and one that joined today) can still read, list and
    write release artifacts and use the apps' KMS keys."""
    w = org.w
    callers = [
        ("a role of the management account", f"arn:aws:sts::{MANAGEMENT}:assumed-role/Admin/{w.sessions[0]}", ORG_ID),
        ("an auditor of the security account", f"arn:aws:sts::{SECURITY}:assumed-role/Auditor/{w.sessions[1]}", ORG_ID),
        ("the dev CI role", f"arn:aws:sts::{DEV}:assumed-role/ci/{w.sessions[2]}", ORG_ID),
        ("the prod deploy role", f"arn:aws:sts::{PROD}:assumed-role/deployer/{w.sessions[3]}", ORG_ID),
        (f"a role of the new Workloads account {w.new_account}",
         f"arn:aws:sts::{w.new_account}:assumed-role/ci/{w.sessions[0]}", ORG_ID),
    ]  # fmt: skip
    fix = (
        "deny only callers whose organization (aws:PrincipalOrgID) is not yours: name the "
        "organization, not a list of today's accounts, which misses the next one to join"
    )
    judge(_perimeter_cells(org, callers, True, fix), ORG_POLICIES)


@pytest.mark.check(task=6, points=2)
def test_rcp_lets_aws_services_work_for_the_organization(org: Org) -> None:
    """AWS services acting for the organization still reach the bucket and the keys:
    CloudTrail encrypting the organization trail's logs with the prod key, and S3 server
    access logging delivering logs into the release bucket."""
    prod_key = _keys(org)[0]
    trail = f"arn:aws:cloudtrail:{HOME}:{MANAGEMENT}:trail/org-trail"
    logs = f"arn:aws:s3:::{BUCKET_NAME}/access-logs/{org.w.keys[0]}"
    fix = (
        "AWS services carry no aws:PrincipalOrgID: beside the organization condition, the "
        "Deny must also ask whether the caller is an AWS service (aws:PrincipalIsAWSService) "
        "and let services through (a service's request says whom it acts for in "
        "aws:SourceOrgID and aws:SourceAccount)"
    )
    requests = [
        ("cloudtrail.amazonaws.com (the organization trail)",
         service_request("cloudtrail.amazonaws.com", "kms:GenerateDataKey", prod_key, MANAGEMENT, trail)),
        ("cloudtrail.amazonaws.com (the organization trail)",
         service_request("cloudtrail.amazonaws.com", "kms:DescribeKey", prod_key, MANAGEMENT, trail)),
        ("logging.s3.amazonaws.com (server access logs of the prod account)",
         service_request("logging.s3.amazonaws.com", "s3:PutObject", logs, PROD, f"arn:aws:s3:::{BUCKET_NAME}")),
    ]  # fmt: skip
    cells = []
    for who, req in requests:
        principal = parse_principal(req.principal)
        account = PROD if req.action.startswith("s3:") else req.resource.split(":")[4]
        note = "on behalf of the organization: aws:SourceOrgID=" + ORG_ID
        cells.append((Cell(who, req, True, fix, note), org.perimeter_set(account), principal))
    judge(cells, ORG_POLICIES)


@pytest.mark.check(task=6, points=3)
def test_rcp_keeps_everyone_else_out(org: Org) -> None:
    """Even with a bucket policy and key policies that let everyone in, no one outside the
    organization reads, lists or writes artifacts or uses the keys: not another
    organization's role (one whose ID only looks alike included), not a user of an account
    in no organization, not an anonymous caller."""
    fix = (
        "keep everyone outside the organization away from the bucket and the keys alike (S3 "
        "and KMS): deny when the caller's organization ID is not exactly yours (no wildcard: "
        "one also matches another organization's ID), and also when the request carries no "
        "organization ID at all (an account in no organization, an anonymous caller); only "
        "AWS services are exempt"
    )
    judge(_perimeter_cells(org, _outsiders(org), False, fix), ORG_POLICIES)


@pytest.mark.check(task=6, points=1)
def test_rcp_keeps_the_rest_of_the_lab_working(org: Org, org_with_rcp: Org) -> None:
    """With the RCP on the root, what the other tasks allow still works: the organization's
    use of the release bucket, the app roles' work in S3 and SQS, and the administrators'
    S3 and STS calls."""
    allowed_items = [(a, r, True, True, "") for a, r in _perimeter_requests(org, kms=False)]
    admin_items = [
        (action, template, region, True, "")
        for action, template in REGIONAL_WORK
        for region in APPROVED_REGIONS
    ] + [(action, template, GLOBAL_REGION, True, "") for _s, action, template in GLOBAL_CALLS]

    def cells(o: Org) -> list:
        app = o.policy_set("app-example", DEV, identity=[o.app_example], boundary=o.p[BOUNDARY])
        work = []
        for name, session in zip(o.w.app_roles[:2], o.w.sessions, strict=False):
            arn = f"arn:aws:sts::{DEV}:assumed-role/{name}/{session}"
            for action, resource in (
                ("s3:GetObject", f"arn:aws:s3:::{o.w.dev_buckets[0]}/{o.w.keys[0]}"),
                ("s3:PutObject", f"arn:aws:s3:::{o.w.dev_buckets[1]}/{o.w.keys[1]}"),
                ("sqs:SendMessage", f"arn:aws:sqs:{HOME}:{DEV}:{o.w.tables[1]}"),
            ):
                work.append((Cell(f"app role {name}", request(action, resource, principal=arn),
                                  True, ""), app, parse_principal(arn)))  # fmt: skip
        return (
            _bucket_cells(o, _bucket_callers(o), allowed_items)
            + _admin_cells(o, admin_items)
            + work
        )

    fix = (
        "deny only requests from outside the organization: principals of the organization "
        "carry aws:PrincipalOrgID, so a condition on it (and on aws:PrincipalIsAWSService) "
        "leaves their work alone"
    )
    verdicts = []
    for (before, ps, principal), (cell, ps_rcp, _p) in zip(
        cells(org), cells(org_with_rcp), strict=True
    ):
        if not authorize(before.request, ps, principal).allowed:
            continue  # that task's own check reports it
        verdicts.append(
            Verdict(
                cell.describe() + " (allowed without the RCP)",
                authorize(cell.request, ps_rcp, principal),
                True,
                fix,
            )
        )
    judge_verdicts(verdicts, ORG_POLICIES)
