"""lab5's organization and the decision matrix its checks fill in.

What the checks decide against: the organization (accounts, OUs, approved Regions, the
release bucket) as labs/lab5/data/organization.json describes it, the hidden inputs a seed
makes up (:class:`World`), each caller's policies compiled once (:class:`Org`), and the
cells of the matrix with :func:`judge`, which lets the IAM engine decide them. It is kept
apart from ``lab5.py`` so that the checks module holds only its fixtures and checks, read
top to bottom; it imports no pytest.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from grader.aws.iam import (
    OrgLevel,
    Policy,
    PolicySet,
    Request,
    authorize,
    parse_policy,
)
from grader.checks._support import Verdict
from grader.checks._support import judge as judge_matrix

# The learner's files, by name; the checks' policies are keyed by them.
SCP, BOUNDARY, DELEGATED, BUCKET, SESSION = (
    "scp.json",
    "boundary.json",
    "delegated-admin-policy.json",
    "bucket-policy.json",
    "break-glass-session-policy.json",
)

# The organization, as labs/lab5/data/organization.json describes it.
ORG_ID = "o-7fq2k9w4zd"
MANAGEMENT = "210987654321"
SECURITY = "310987654321"
DEV = "410987654321"
PROD = "510987654321"
APPROVED_REGIONS = ("ap-northeast-1", "ap-northeast-3")
HOME = APPROVED_REGIONS[0]
BOUNDARY_ARN = f"arn:aws:iam::{DEV}:policy/AppRoleBoundary"
BUCKET_NAME = "acme-release-artifacts"
# The Regions a request can name (AWS's commercial Regions, 2025) and the Region that global
# services' endpoints report in aws:RequestedRegion (IAM User Guide, aws:RequestedRegion:
# "IAM, CloudFront, Route 53 and AWS Support ... us-east-1"; Organizations' endpoint is
# in us-east-1 too).
REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1",
    "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
    "ap-southeast-4", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ca-central-1",
    "ca-west-1", "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3",
    "eu-south-1", "eu-south-2", "eu-north-1", "il-central-1", "me-south-1", "me-central-1",
    "sa-east-1",
)  # fmt: skip
GLOBAL_REGION = "us-east-1"
# Global services the Workloads accounts use, with a call each makes (AWS Organizations
# User Guide, example SCP "Deny access to AWS based on the requested AWS Region" lists
# these among the services to exempt).
GLOBAL_CALLS = (
    ("iam", "iam:CreateRole", "arn:aws:iam::{account}:role/app/{name}"),
    ("iam", "iam:ListRoles", "*"),
    ("organizations", "organizations:DescribeOrganization", "*"),
    ("sts", "sts:AssumeRole", "arn:aws:iam::{account}:role/{name}"),
    ("sts", "sts:GetCallerIdentity", "*"),
    ("cloudfront", "cloudfront:CreateInvalidation", "arn:aws:cloudfront::{account}:distribution/E{id}"),
    ("route53", "route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/Z{id}"),
    ("support", "support:DescribeCases", "*"),
)  # fmt: skip
# What keeps CloudTrail recording and GuardDuty watching in a member account (CloudTrail
# and GuardDuty API references: each of these stops, removes or blinds the service).
CLOUDTRAIL_TAMPERING = (
    "cloudtrail:StopLogging",
    "cloudtrail:DeleteTrail",
    "cloudtrail:UpdateTrail",
    "cloudtrail:PutEventSelectors",
)
GUARDDUTY_TAMPERING = (
    "guardduty:DeleteDetector",
    "guardduty:UpdateDetector",
    "guardduty:DisassociateFromAdministratorAccount",
    "guardduty:DisassociateFromMasterAccount",
)
# Looking at CloudTrail and GuardDuty must stay possible: a guardrail is not a wall.
SECURITY_READS = (
    ("cloudtrail:LookupEvents", "*"),
    ("cloudtrail:GetTrailStatus", "arn:aws:cloudtrail:{region}:{account}:trail/org-trail"),
    ("guardduty:GetFindings", "arn:aws:guardduty:{region}:{account}:detector/{id}"),
    ("guardduty:ListDetectors", "*"),
)
# Everyday work in an approved Region that no guardrail may break.
REGIONAL_WORK = (
    ("ec2:RunInstances", "arn:aws:ec2:{region}:{account}:instance/*"),
    ("s3:CreateBucket", "arn:aws:s3:::acme-dev-{name}"),
    ("lambda:CreateFunction", "arn:aws:lambda:{region}:{account}:function:{name}"),
    ("dynamodb:CreateTable", "arn:aws:dynamodb:{region}:{account}:table/{name}"),
)
# The policy a developer attaches to an app role in the example (data/app-role-policy.json;
# a test keeps the two equal). The grader keeps its own copy: the data folder is the learner's.
APP_ROLE_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "AppObjects", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": "arn:aws:s3:::acme-dev-*/*"},
        {"Sid": "AppTables", "Effect": "Allow",
         "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
         "Resource": f"arn:aws:dynamodb:*:{DEV}:table/*"},
        {"Sid": "AppQueues", "Effect": "Allow",
         "Action": ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"],
         "Resource": f"arn:aws:sqs:*:{DEV}:*"},
        {"Sid": "AppLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"arn:aws:logs:*:{DEV}:*"},
    ],
}  # fmt: skip
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}  # fmt: skip


def hex_digits(rng: random.Random, n: int) -> str:
    """``n`` lowercase hex digits, as in instance, volume and snapshot IDs."""
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _word(rng: random.Random) -> str:
    return (
        rng.choice(
            ("orders", "billing", "search", "images", "reports", "catalog", "payments", "events")
        )
        + "-"
        + "".join(rng.choice(string.ascii_lowercase) for _ in range(4))
    )


def _account(rng: random.Random) -> str:
    while True:
        account = str(rng.randrange(10**11, 10**12))
        if account not in (MANAGEMENT, SECURITY, DEV, PROD):
            return account


@dataclass(frozen=True)
class World:
    """This run's hidden inputs."""

    regions: tuple[str, ...]  # outside the approved list; us-east-1 always among them
    new_account: str  # joined the Workloads OU after the policies were written
    outside_account: str
    outside_org: str
    app_roles: tuple[str, ...]  # names under /app/
    other_paths: tuple[str, ...]  # role paths that are not /app/
    lookalike_boundary: str  # a policy ARN close to the boundary's
    dev_buckets: tuple[str, ...]
    tables: tuple[str, ...]
    keys: tuple[str, ...]  # object keys in the release bucket
    instances: tuple[str, ...]
    volumes: tuple[str, ...]
    users: tuple[str, ...]
    sessions: tuple[str, ...]
    ids: tuple[str, ...] = field(default=())


def make_world(seed: int) -> World:
    """The hidden inputs of the run with this seed."""
    rng = random.Random(seed)
    others = [r for r in REGIONS if r not in APPROVED_REGIONS and r != GLOBAL_REGION]
    return World(
        regions=(GLOBAL_REGION, *rng.sample(others, 4)),
        new_account=_account(rng),
        outside_account=_account(rng),
        outside_org="o-" + "".join(rng.choice(string.ascii_lowercase + "0123456789") for _ in range(10)),
        app_roles=tuple(_word(rng) for _ in range(3)),
        other_paths=("/", "/application/", f"/{rng.choice(('admin', 'ops', 'platform'))}/"),
        lookalike_boundary=f"arn:aws:iam::{DEV}:policy/AppRoleBoundary{rng.choice(('Lax', 'V2', 'Old', 'Test'))}",
        dev_buckets=tuple(f"acme-dev-{_word(rng)}" for _ in range(2)),
        tables=tuple(_word(rng) for _ in range(2)),
        keys=tuple(f"releases/{_word(rng)}/{rng.randrange(1, 40)}.{rng.randrange(0, 9)}.zip" for _ in range(3)),
        instances=tuple("i-0" + hex_digits(rng, 16) for _ in range(3)),
        volumes=tuple("vol-0" + hex_digits(rng, 16) for _ in range(2)),
        users=tuple(f"{rng.choice(('ci', 'build', 'deploy', 'backup'))}-{hex_digits(rng, 4)}" for _ in range(2)),
        sessions=tuple(f"{rng.choice(('aiko', 'ken', 'mei', 'sora', 'yuto'))}-{hex_digits(rng, 6)}" for _ in range(4)),
        ids=tuple(hex_digits(rng, 12).upper() for _ in range(2)),
    )  # fmt: skip


@dataclass(frozen=True)
class Cell:
    """One request and the answer it must get."""

    who: str
    request: Request
    allowed: bool
    fix: str

    def describe(self) -> str:
        r = self.request
        region = r.keys.get("aws:requestedregion", ("?",))[0]
        tls = r.keys.get("aws:securetransport", ("true",))[0]
        extra = "" if tls == "true" else ", without TLS"
        more = [f"{k}={'/'.join(v)}" for k, v in r.keys.items() if k.startswith("iam:")]
        if more:
            extra += ", " + ", ".join(more)
        return f"{self.who}: {r.action} on {r.resource} in {region}{extra}"


class Org:
    """Who is who, and the PolicySet of each caller, compiled once."""

    def __init__(self, policies: dict[str, Policy], world: World) -> None:
        self.p = policies
        self.w = world
        self.full = parse_policy(ADMIN_POLICY, name="FullAWSAccess")
        self.admin = parse_policy(ADMIN_POLICY, name="AdministratorAccess")
        self._sets: dict[tuple[str, ...], PolicySet] = {}

    def scps(self, account: str) -> list[OrgLevel]:
        full = [self.full]
        if account == SECURITY:
            ou = OrgLevel("OU Security", full)
        else:  # dev, prod and the new account are in Workloads
            ou = OrgLevel("OU Workloads", [self.full, self.p[SCP]])
        return [OrgLevel("root", full), ou, OrgLevel(f"account {account}", full)]

    def policy_set(self, key: str, account: str, **kw: Any) -> PolicySet:
        cache_key = (key, account, kw.get("resource_account") or "")
        if cache_key not in self._sets:
            in_org = account in (SECURITY, DEV, PROD, self.w.new_account)
            kw.setdefault("identity", [self.admin])
            self._sets[cache_key] = PolicySet(
                scps=self.scps(account) if in_org else (),
                management_account=MANAGEMENT,
                **kw,
            )
        return self._sets[cache_key]

    @cached_property
    def app_example(self) -> Policy:
        return parse_policy(APP_ROLE_POLICY, name="data/app-role-policy.json")


def request(
    action: str,
    resource: str,
    region: str = HOME,
    *,
    org_id: str | None = ORG_ID,
    tls: bool = True,
    principal: str | None = None,
) -> Request:
    ctx: dict[str, Any] = {"aws:RequestedRegion": region, "aws:SecureTransport": tls}
    if org_id is not None:
        ctx["aws:PrincipalOrgID"] = org_id
    return Request(action=action, resource=resource, principal=principal, context=ctx)


def judge(cells: list[tuple[Cell, PolicySet, Any]], docs: str) -> None:
    """Decide every cell with the whole evaluation logic, and judge the matrix."""
    judge_matrix(
        [
            Verdict(
                cell.describe(),
                authorize(cell.request, policy_set, principal),
                cell.allowed,
                cell.fix,
            )
            for cell, policy_set, principal in cells
        ],
        docs,
    )
