"""lab5's organization and the decision matrix its checks fill in.

What the checks decide against: the organization (accounts, OUs, approved Regions, the
release bucket) as labs/lab5/data/organization.json describes it, the hidden inputs a seed
makes up (:class:`World`), each caller's policies compiled once (:class:`Org`), and the
cells of the matrix with :func:`judge`, which lets the IAM engine decide them. It is kept
apart from ``lab5.py`` so that the checks module holds only its fixtures and checks, read
top to bottom; it imports no pytest.
"""

from __future__ import annotations

import json
import random
import string
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from grader.aws.iam import (
    OrgLevel,
    Policy,
    PolicySet,
    PolicyType,
    Request,
    authorize,
    parse_policy,
)
from grader.checks._support import (
    REGIONS,
    Verdict,
    account_neighbours,
    look_alikes,
    region_neighbours,
)
from grader.checks._support import judge as judge_matrix

# The learner's files, by name; the checks' policies are keyed by them.
SCP, BOUNDARY, DELEGATED, BUCKET, SESSION, RCP = (
    "scp.json",
    "boundary.json",
    "delegated-admin-policy.json",
    "bucket-policy.json",
    "break-glass-session-policy.json",
    "rcp.json",
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
# The Region that global services' endpoints report in aws:RequestedRegion (IAM User
# Guide, aws:RequestedRegion: "IAM, CloudFront, Route 53 and AWS Support ... us-east-1";
# Organizations' endpoint is in us-east-1 too). The Regions a request can name are
# _support.REGIONS.
GLOBAL_REGION = "us-east-1"
# Services with a single global endpoint, whose requests name us-east-1 (IAM User Guide,
# "AWS: Denies access to AWS based on the requested Region"; AWS Organizations User Guide,
# example SCP "Deny access to AWS based on the requested AWS Region", without the regional
# services that example also lists: acm, config, directconnect, fms, kms, wafv2,
# waf-regional, wellarchitected, and single actions of ec2 and s3). Exempting these from
# the Region deny is right; exempting any other service lets it run in us-east-1.
GLOBAL_SERVICES = frozenset({
    "a4b", "account", "artifact", "aws-marketplace", "aws-marketplace-management",
    "aws-portal", "billing", "billingconductor", "budgets", "ce", "chime", "cloudfront",
    "consolidatedbilling", "cur", "freetier", "globalaccelerator", "health", "iam",
    "importexport", "invoicing", "mobileanalytics", "networkmanager", "organizations",
    "payments", "pricing", "route53", "route53-recovery-cluster",
    "route53-recovery-control-config", "route53-recovery-readiness", "route53domains",
    "savingsplans", "shield", "sts", "support", "supportapp", "supportplans", "tax",
    "trustedadvisor", "waf",
})  # fmt: skip
# Global services the Workloads accounts use, with a call each makes (AWS Organizations
# User Guide, example SCP "Deny access to AWS based on the requested AWS Region" lists
# these among the services to exempt).
GLOBAL_CALLS = (
    ("iam", "iam:CreateRole", "arn:aws:iam::{account}:role/app/{name}"),
    ("iam", "iam:ListRoles", "*"),
    ("organizations", "organizations:DescribeOrganization", "*"),
    # (not AssumeRole, which also needs the role's trust policy, nor GetCallerIdentity,
    # which AWS allows whatever the policies say)
    ("sts", "sts:GetSessionToken", "*"),
    ("sts", "sts:DecodeAuthorizationMessage", "*"),
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
# The AWS managed RCP attached at every level once RCPs are enabled, which no one can detach
# (Organizations User Guide, "Resource control policy examples", RCPFullAWSAccess).
RCP_FULL_ACCESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}  # fmt: skip
# A careless bucket policy or key policy that lets everyone in: with it on the release
# bucket and the keys, only the RCP stands between them and the rest of the world.
CARELESS_SHARE = {"Version": "2012-10-17", "Statement": [{"Sid": "ShareWithEveryone", "Effect": "Allow", "Principal": "*", "Action": ["s3:*", "kms:*"], "Resource": "*"}]}  # fmt: skip
# The elements an RCP may hold (Organizations User Guide, "RCP syntax"): no NotPrincipal and
# no NotAction; Principal is always "*"; Allow only in AWS's RCPFullAWSAccess.
RCP_ELEMENTS = frozenset({"Sid", "Effect", "Principal", "Action", "Resource", "NotResource", "Condition"})  # fmt: skip
# A resource of another account that lets the dev account in (a queue's or a table's
# policy): only the caller's side, its boundary included, can then keep an app role out.
SHARED_WITH_DEV = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"}, "Action": "*", "Resource": "*"}]}  # fmt: skip
# What an app role never needs on its app's resources, though s3:*, sqs:*, dynamodb:* or
# logs:* on them grants it: sharing them, deleting the buckets, queues, tables and log
# groups themselves, or copying their data out (Service Authorization Reference, the
# actions tables of Amazon S3, SQS, DynamoDB and CloudWatch Logs).
# (action, resource template, what it does)
APP_ADMINISTRATION = (
    ("s3:PutObjectAcl", "arn:aws:s3:::{bucket}/{key}", "shares an object"),
    ("s3:PutBucketPolicy", "arn:aws:s3:::{bucket}", "shares the bucket"),
    ("s3:DeleteBucket", "arn:aws:s3:::{bucket}", "deletes the bucket"),
    ("sqs:AddPermission", "{queue}", "shares the queue"),
    ("sqs:SetQueueAttributes", "{queue}", "can change the queue's policy"),
    ("sqs:DeleteQueue", "{queue}", "deletes the queue"),
    ("sqs:PurgeQueue", "{queue}", "deletes every message"),
    ("dynamodb:PutResourcePolicy", "{table}", "shares the table"),
    ("dynamodb:DeleteTable", "{table}", "deletes the table"),
    ("dynamodb:ExportTableToPointInTime", "{table}", "copies the table to any bucket"),
    ("logs:DeleteLogGroup", "{log_group}", "deletes the logs"),
    ("logs:PutRetentionPolicy", "{log_group}", "expires the logs"),
    ("logs:PutSubscriptionFilter", "{log_group}", "streams the logs elsewhere"),
)
# What containing an incident takes (lab5.md, task 4): seeing, with the List and Read
# actions of these services that return no data (data_access.py says which do), and these
# steps: stop an instance, snapshot a volume (CreateSnapshots: all of an instance's),
# deactivate an access key.
CONTAINMENT_SEES = frozenset({"ec2", "guardduty", "cloudtrail", "iam"})
CONTAINMENT_STEPS = frozenset(
    {"ec2:stopinstances", "ec2:createsnapshot", "ec2:createsnapshots", "iam:updateaccesskey"}
)
# Why an action a session policy grants is more than containment, first match wins
# (IAM wildcards, case-insensitive); anything else is "not a containment step".
OVERREACH = (
    ("*:Delete*", "deletes evidence"),
    ("guardduty:Archive*", "suppresses findings"),
    ("guardduty:*Filter", "can suppress findings"),
    ("guardduty:UpdateFindingsFeedback", "suppresses findings"),
    ("guardduty:*", "changes GuardDuty"),
    ("cloudtrail:*", "changes the trail"),
    ("ec2:Start*", "starts instances"),
    ("ec2:Run*", "starts instances"),
    ("ec2:Terminate*", "destroys evidence"),
    ("ec2:Modify*", "modifies resources"),
    ("iam:*", "changes who may do what"),
)


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

    regions: tuple[str, ...]  # outside the approved list; us-east-1 and the next ones among them
    new_account: str  # joined the Workloads OU after the policies were written
    outside_account: str
    outside_org: str
    app_roles: tuple[str, ...]  # names under /app/
    other_paths: tuple[str, ...]  # role paths that are not /app/
    lookalike_boundaries: tuple[str, ...]  # policy ARNs close to the boundary's
    lookalike_orgs: tuple[str, ...]  # organization IDs close to the organization's
    lookalike_buckets: tuple[str, ...]  # bucket names close to acme-dev-*
    neighbour_account: str  # an account ID one digit away from the dev account
    notes: dict[str, str]  # look-alike value -> how it differs from the right one
    dev_buckets: tuple[str, ...]
    tables: tuple[str, ...]
    keys: tuple[str, ...]  # object keys in the release bucket
    instances: tuple[str, ...]
    volumes: tuple[str, ...]
    users: tuple[str, ...]
    sessions: tuple[str, ...]
    ids: tuple[str, ...] = field(default=())
    key_ids: tuple[str, ...] = field(default=())  # the apps' KMS keys: prod's, then dev's


def make_world(seed: int) -> World:
    """The hidden inputs of the run with this seed."""
    rng = random.Random(seed)
    notes: dict[str, str] = {GLOBAL_REGION: "where global services' calls arrive"}
    for approved in APPROVED_REGIONS:
        for region, why in region_neighbours(approved, rng):
            if region not in APPROVED_REGIONS:
                notes.setdefault(region, why)
    others = [r for r in REGIONS if r not in APPROVED_REGIONS and r not in notes]
    boundary_path, boundary_name = BOUNDARY_ARN.rsplit("/", 1)
    boundaries = {f"{BOUNDARY_ARN}{rng.choice(('Lax', 'V2', 'Old', 'Test'))}": "a suffix added"}
    boundaries.update(
        {
            f"{boundary_path}/{name}": why
            for name, why in look_alikes(boundary_name, rng, case=False)
        }
    )
    org_id = ORG_ID.removeprefix("o-")
    orgs = {f"o-{other}": why for other, why in look_alikes(org_id, rng, case=False)}
    # A bucket acme-dev-* does not name: the prefix one character, a prefix or a dash away.
    buckets = {
        f"{name}-": why
        for name, why in look_alikes("acme-dev", rng, case=False)
        if not name.startswith("acme-dev-")
    }
    buckets["acme-devops-"] = "acme-dev without its dash"
    buckets = {prefix + _word(rng): why for prefix, why in buckets.items()}
    neighbour, why = account_neighbours(DEV, rng)[0]
    regions = (*notes, *rng.sample(others, 3))
    notes.update({**boundaries, **orgs, **buckets, neighbour: why})
    return World(
        regions=regions,
        new_account=_account(rng),
        outside_account=_account(rng),
        outside_org="o-" + "".join(rng.choice(string.ascii_lowercase + "0123456789") for _ in range(10)),
        app_roles=tuple(_word(rng) for _ in range(3)),
        other_paths=("/", "/application/", f"/{rng.choice(('admin', 'ops', 'platform'))}/"),
        lookalike_boundaries=tuple(boundaries),
        lookalike_orgs=tuple(orgs),
        lookalike_buckets=tuple(buckets),
        neighbour_account=neighbour,
        notes=notes,
        dev_buckets=tuple(f"acme-dev-{_word(rng)}" for _ in range(2)),
        tables=tuple(_word(rng) for _ in range(2)),
        keys=tuple(f"releases/{_word(rng)}/{rng.randrange(1, 40)}.{rng.randrange(0, 9)}.zip" for _ in range(3)),
        instances=tuple("i-0" + hex_digits(rng, 16) for _ in range(3)),
        volumes=tuple("vol-0" + hex_digits(rng, 16) for _ in range(2)),
        users=tuple(f"{rng.choice(('ci', 'build', 'deploy', 'backup'))}-{hex_digits(rng, 4)}" for _ in range(2)),
        sessions=tuple(f"{rng.choice(('aiko', 'ken', 'mei', 'sora', 'yuto'))}-{hex_digits(rng, 6)}" for _ in range(4)),
        ids=tuple(hex_digits(rng, 12).upper() for _ in range(2)),
        key_ids=tuple(str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(2)),
    )  # fmt: skip


@dataclass(frozen=True)
class Cell:
    """One request and the answer it must get."""

    who: str
    request: Request
    allowed: bool
    fix: str
    note: str = ""  # how a look-alike in the request differs from the right value

    def describe(self) -> str:
        r = self.request
        region = r.keys.get("aws:requestedregion", ("?",))[0]
        tls = r.keys.get("aws:securetransport", ("true",))[0]
        extra = "" if tls == "true" else ", without TLS"
        # The engine reads keys lower-cased; show each as the request wrote it, which is
        # how the Service Authorization Reference spells it (iam:PermissionsBoundary).
        spelled = {key.lower(): key for key in r.context}
        more = [
            f"{spelled.get(k, k)}={'/'.join(v)}" for k, v in r.keys.items() if k.startswith("iam:")
        ]
        if more:
            extra += ", " + ", ".join(more)
        if self.note:
            extra += f" ({self.note})"
        return f"{self.who}: {r.action} on {r.resource} in {region}{extra}"


class Org:
    """Who is who, and the PolicySet of each caller, compiled once."""

    def __init__(self, policies: dict[str, Policy], world: World, *, rcp: bool = False) -> None:
        """``rcp``: every caller's PolicySet also holds the organization's RCPs (the
        learner's rcp.json on the root); the other tasks' checks decide without them."""
        self.p = policies
        self.w = world
        self.with_rcp = rcp
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

    def rcps(self) -> list[OrgLevel]:
        """The RCP levels above any member account's resources: RCPFullAWSAccess at every
        level, and the learner's rcp.json on the root."""
        full = [self.rcp_full]
        return [
            OrgLevel("root", [self.rcp_full, self.p[RCP]]),
            OrgLevel("the resource's OU", full),
            OrgLevel("the resource's account", full),
        ]

    @cached_property
    def rcp_full(self) -> Policy:
        return parse_policy(RCP_FULL_ACCESS, name="RCPFullAWSAccess", kind=PolicyType.RCP)

    @cached_property
    def careless(self) -> Policy:
        return parse_policy(CARELESS_SHARE, name="a careless policy that shares with everyone",
                            kind=PolicyType.RESOURCE)  # fmt: skip

    def perimeter_set(self, resource_account: str) -> PolicySet:
        """What decides a request to the release bucket or an app's key in task 6: the
        caller's AdministratorAccess (IAM principals), a careless bucket or key policy that
        lets everyone in, and the RCPs. The SCPs are task 1's and left out, so that only
        the RCP can keep anyone out."""
        cache_key = ("perimeter", resource_account)
        if cache_key not in self._sets:
            self._sets[cache_key] = PolicySet(
                identity=[self.admin],
                resource=[self.careless],
                rcps=self.rcps(),
                resource_account=resource_account,
                management_account=MANAGEMENT,
            )
        return self._sets[cache_key]

    def policy_set(self, key: str, account: str, **kw: Any) -> PolicySet:
        cache_key = (key, account, kw.get("resource_account") or "")
        if cache_key not in self._sets:
            in_org = account in (SECURITY, DEV, PROD, self.w.new_account)
            kw.setdefault("identity", [self.admin])
            if self.with_rcp:
                kw.setdefault("rcps", self.rcps())
            self._sets[cache_key] = PolicySet(
                scps=self.scps(account) if in_org else (),
                management_account=MANAGEMENT,
                **kw,
            )
        return self._sets[cache_key]

    @cached_property
    def shared_with_dev(self) -> Policy:
        return parse_policy(SHARED_WITH_DEV, name="its policy, which lets the dev account in",
                            kind=PolicyType.RESOURCE)  # fmt: skip

    @cached_property
    def app_example(self) -> Policy:
        return parse_policy(APP_ROLE_POLICY, name="data/app-role-policy.json")


def regional_actions() -> list[str]:
    """For every service that is not global, its first action of each access level: what
    the Region deny must cover in us-east-1. A whole service exempted (kms:*, or
    ec2:Describe*) shows; a few single actions exempted, as AWS's own example does for
    ec2:DescribeRegions, do not."""
    from grader.aws.iam.catalog import load_catalog

    catalog = load_catalog()
    first: dict[tuple[str, str], str] = {}
    for action, level in sorted(catalog.access_levels().items()):
        service = action.split(":", 1)[0]
        if service not in GLOBAL_SERVICES:
            first.setdefault((service, level), action)
    return sorted(first.values())


def beyond_containment(session: Policy) -> list[str]:
    """``action (why)`` for each action the session policy grants that is neither seeing
    (List and Read of CONTAINMENT_SEES, no data read) nor a containment step."""
    from fnmatch import fnmatchcase

    from grader.aws.iam.catalog import grants
    from grader.aws.iam.data_access import data_read_actions

    granted = grants(session)
    reads = {entry.action.casefold() for entry, _ in data_read_actions(granted)}
    out = []
    for action, grant in granted.actions.items():
        folded = action.casefold()
        sees = (
            grant.service in CONTAINMENT_SEES
            and grant.access_level in ("List", "Read")
            and folded not in reads
        )
        if sees or folded in CONTAINMENT_STEPS:
            continue
        why = next(
            (w for pattern, w in OVERREACH if fnmatchcase(folded, pattern.casefold())),
            "reads data" if folded in reads else "not a containment step",
        )
        out.append(f"{action} ({why})")
    return out


def rcp_grammar(document: Any) -> list[str]:
    """What makes ``document`` something AWS Organizations refuses as a customer's RCP
    (Organizations User Guide, "RCP syntax"): each statement a Deny, with "Principal": "*"
    and none of the elements an RCP cannot hold."""
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    problems = []
    for i, st in enumerate(statements):
        if not isinstance(st, dict):
            continue
        where = f"statement {st.get('Sid') or i + 1}"
        if st.get("Effect") != "Deny":
            problems.append(f'{where}: "Effect": {json.dumps(st.get("Effect"))} (an RCP you '
                            'write only denies; the one Allow is AWS\'s RCPFullAWSAccess)')  # fmt: skip
        for element in sorted(set(st) - RCP_ELEMENTS):
            problems.append(f"{where}: {element} (an RCP has no {element})")
        if "Principal" in st and st["Principal"] != "*":
            problems.append(f'{where}: "Principal": {json.dumps(st["Principal"])} (an RCP\'s '
                            'Principal is always "*"; name who with conditions)')  # fmt: skip
    return problems


def service_request(
    service: str,
    action: str,
    resource: str,
    source_account: str,
    source_arn: str,
    source_org: str | None = ORG_ID,
) -> Request:
    """An AWS service principal's request on behalf of ``source_account``: as AWS sends it,
    with aws:SourceAccount, aws:SourceArn and aws:SourceOrgID (when that account is in an
    organization), and no aws:PrincipalOrgID."""
    context: dict[str, Any] = {
        "aws:RequestedRegion": HOME,
        "aws:SecureTransport": True,
        "aws:SourceAccount": source_account,
        "aws:SourceArn": source_arn,
    }
    if source_org is not None:
        context["aws:SourceOrgID"] = source_org
    return Request(action=action, resource=resource, principal=service, context=context)  # fmt: skip


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
