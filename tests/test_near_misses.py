"""Near-misses: answers a learner writes by loosening a right answer, and answers that are
right in another way. One table per lab.

Each wrong answer is the lab's reference solution with one edit, in a temporary copy,
graded by the real runner: it fails the check it should, with a message that names the
concept (the look-alike the loosened policy lets in, or what the extra grant does). Each
equivalent answer passes every check. The seed is fixed, so a failure here repeats with
``grader check LAB --path DIR --seed 11``; the scenario tests at the end show that the
look-alikes are in every run's hidden inputs, whatever the seed.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from grader.course.labs import load_course
from grader.grading.runner import run_lab
from tests.conftest import COURSE, ROOT

SEED = 11
COURSE_LABS = load_course(COURSE)
SOLUTIONS = {
    lab: {p.name: p.read_text() for p in (ROOT / "solutions" / lab).iterdir()}
    for lab in ("lab3", "lab4", "lab5")
}


@dataclass(frozen=True)
class Answer:
    """A lab's solution with one edit: ``change`` rewrites the JSON of ``file``."""

    lab: str
    name: str  # the pytest id: what the learner did
    file: str
    change: Callable[[dict], Any]
    fails: str | None = None  # the check that must fail; None: every check passes
    says: tuple[str, ...] = ()  # what the failure message must name

    def files(self) -> dict[str, str]:
        doc = json.loads(SOLUTIONS[self.lab][self.file])
        self.change(doc)
        return {**SOLUTIONS[self.lab], self.file: json.dumps(doc, indent=2)}


def sid(doc: dict, name: str) -> dict:
    return next(s for s in doc["Statement"] if s.get("Sid") == name)


def setting(name: str, **changes: Any) -> Callable[[dict], None]:
    """Set (or, with None, drop) keys of statement ``name`` (a Sid, or an index)."""

    def change(doc: dict) -> None:
        st = doc["Statement"][name] if isinstance(name, int) else sid(doc, name)
        for key, value in changes.items():
            if value is None:
                st.pop(key, None)
            else:
                st[key] = value

    return change


def also(*changes: Callable[[dict], None]) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        for one in changes:
            one(doc)

    return change


def adding(*statements: dict) -> Callable[[dict], None]:
    return lambda doc: doc["Statement"].extend(copy.deepcopy(statements))


def on_actions(name: str, update: Callable[[list[str]], list[str]]) -> Callable[[dict], None]:
    """Rewrite the Action (or NotAction) list of statement ``name``."""

    def change(doc: dict) -> None:
        st = sid(doc, name)
        key = "Action" if "Action" in st else "NotAction"
        st[key] = update(st[key] if isinstance(st[key], list) else [st[key]])

    return change


# ---------------------------------------------------------------- lab3: roles per duty

OPERATOR = "operator-policy.json"
TAG = "aws:ResourceTag/Environment"
INSTANCES = "arn:aws:ec2:ap-northeast-1:123456789012:instance/*"
START_STOP = ["ec2:StartInstances", "ec2:StopInstances"]
OTHER = "test_operator_cannot_touch_other_instances"
SCOPE = "test_operator_is_scoped_to_the_account_and_region"


VIEWER = "viewer-policy.json"
USER_DATA = "test_viewer_cannot_read_user_data"


def lab3(name: str, change, fails: str | None = None, *says: str) -> Answer:
    return Answer("lab3", name, OPERATOR, change, fails, says)


def lab3_viewer(name: str, change, fails: str | None = None, *says: str) -> Answer:
    return Answer("lab3", name, VIEWER, change, fails, says)


LAB3_WRONG = [
    lab3("tag-ignoring-case", setting(0, Condition={"StringEqualsIgnoreCase": {TAG: "dev"}}),
         OTHER, "Environment=DEV", "a case variant"),
    lab3("tag-also-Dev", setting(0, Condition={"StringEquals": {TAG: ["dev", "Dev"]}}),
         OTHER, "Environment=Dev", "a case variant"),
    lab3("tag-like-*dev", setting(0, Condition={"StringLike": {TAG: "*dev"}}),
         OTHER, "a prefix added"),
    lab3("tag-like-dev*", setting(0, Condition={"StringLike": {TAG: "dev*"}}),
         OTHER, "Environment=development", "a suffix added"),
    lab3("tag-like-d?v", setting(0, Condition={"StringLike": {TAG: "d?v"}}),
         OTHER, "one character changed"),
    lab3("deny-unless-like-*dev*",
         also(setting(0, Condition=None),
              adding({"Effect": "Deny", "Action": START_STOP, "Resource": "*",
                      "Condition": {"StringNotLike": {TAG: "*dev*"}}})),
         OTHER, "Environment=development", "exactly"),
    lab3("region-?-in-resource",
         setting(0, Resource="arn:aws:ec2:ap-northeast-?:123456789012:instance/*"),
         SCOPE, "ap-northeast-2", "ap-northeast family"),
    lab3("region-condition-with-wildcard",
         setting(0, Resource="arn:aws:ec2:*:123456789012:instance/*",
                 Condition={"StringEquals": {TAG: "dev"},
                            "StringLike": {"aws:RequestedRegion": "ap-northeast-*"}}),
         SCOPE, "ap-northeast family"),
    lab3("account-?-in-resource",
         setting(0, Resource="arn:aws:ec2:ap-northeast-1:12345678901?:instance/*"),
         SCOPE, "one digit away"),
    lab3_viewer("describe-star-without-the-user-data-deny",
                lambda doc: doc.update(Statement=[s for s in doc["Statement"] if s["Effect"] == "Allow"]),
                USER_DATA, "ec2:DescribeInstanceAttribute", "user data"),
]  # fmt: skip

LAB3_EQUIVALENT = [
    lab3_viewer("describe-actions-listed-without-instance-attribute",
                lambda doc: doc.update(Statement=[{
                    "Effect": "Allow", "Resource": "*",
                    "Action": ["ec2:DescribeInstances", "ec2:DescribeInstanceStatus", "ec2:DescribeVolumes",
                               "ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
                               "ec2:DescribeRouteTables", "ec2:DescribeNetworkAcls",
                               "ec2:DescribeInternetGateways", "ec2:DescribeNatGateways",
                               "ec2:DescribeVpcEndpoints", "ec2:DescribeTags"]}])),
    lab3("ec2:ResourceTag", setting(0, Condition={"StringEquals": {"ec2:ResourceTag/Environment": "dev"}})),
    lab3("deny-unless-dev-beside-an-allow",
         also(setting(0, Condition=None),
              adding({"Effect": "Deny", "Action": START_STOP, "Resource": "*",
                      "Condition": {"StringNotEquals": {TAG: "dev"}}}))),
    lab3("region-and-account-as-conditions",
         setting(0, Resource="arn:aws:ec2:*:*:instance/*",
                 Condition={"StringEquals": {TAG: "dev", "aws:RequestedRegion": "ap-northeast-1",
                                             "aws:ResourceAccount": "123456789012"}})),
    lab3("like-without-a-wildcard", setting(0, Condition={"StringLike": {TAG: "dev"}})),
    lab3("one-statement-per-action",
         also(setting(0, Action="ec2:StartInstances"),
              adding({"Effect": "Allow", "Action": "ec2:StopInstances", "Resource": INSTANCES,
                      "Condition": {"StringEquals": {TAG: "dev"}}}))),
]  # fmt: skip


# ---------------------------------------------------------------- lab4: a policy from activity

DEPLOY, LEGACY = "deploy-role-policy.json", "legacy-role-policy.json"
LOOKALIKES = "test_deploy_policy_denies_lookalikes"
PASSROLE = "test_deploy_policy_passes_only_that_role_to_that_service"
KEPT = "test_legacy_policy_keeps_used_services"
FUNCTIONS = [
    "arn:aws:lambda:ap-northeast-1:123456789012:function:inventory-scheduler",
    "arn:aws:lambda:ap-northeast-1:123456789012:function:inventory-worker",
]
BUCKET = "arn:aws:s3:::inventory-deploy-artifacts-123456789012-ap-northeast-1"
TOKYO = {"StringEquals": {"aws:RequestedRegion": "ap-northeast-1"}}


def lab4(file: str, name: str, change, fails: str | None = None, *says: str) -> Answer:
    return Answer("lab4", name, file, change, fails, says)


LAB4_WRONG = [
    lab4(DEPLOY, "lookups-in-ap-northeast-*",
         setting("LookUpInTheTokyoRegion",
                 Condition={"StringLike": {"aws:RequestedRegion": "ap-northeast-*"}}),
         LOOKALIKES, "ap-northeast-2", "ap-northeast family"),
    lab4(DEPLOY, "functions-inventory-*",
         setting("ShipFunctionCode",
                 Resource="arn:aws:lambda:ap-northeast-1:123456789012:function:inventory-*"),
         LOOKALIKES, "a suffix added"),
    lab4(DEPLOY, "functions-in-accounts-12345678901?",
         setting("ShipFunctionCode", Resource=[f.replace("123456789012", "12345678901?") for f in FUNCTIONS]),
         LOOKALIKES, "one digit away"),
    lab4(DEPLOY, "bucket-in-ap-northeast-?",
         also(setting("UploadBuilds", Resource=f"{BUCKET[:-1]}?/builds/*"),
              setting("ListBuilds", Resource=f"{BUCKET[:-1]}?")),
         LOOKALIKES, "ap-northeast family"),
    lab4(DEPLOY, "pass-role-inventory-cfn-*",
         setting("PassTheStackRoleToCloudFormation", Resource="arn:aws:iam::123456789012:role/inventory-cfn-*"),
         PASSROLE, "inventory-cfn-exec with a suffix added"),
    lab4(LEGACY, "kept-queue-widened-to-every-queue",
         setting("SignalDone", Resource="arn:aws:sqs:ap-northeast-1:123456789012:*"),
         KEPT, "orders-export-done with", "never widens"),
    lab4(LEGACY, "kept-table-in-every-region",
         setting("ReadOrders", Resource="arn:aws:dynamodb:*:123456789012:table/orders"),
         KEPT, "ap-northeast family", "never widens"),
    lab4(LEGACY, "kept-logs-for-every-legacy-job",
         setting("WriteJobLogs", Resource="arn:aws:logs:ap-northeast-1:123456789012:log-group:/legacy/*"),
         KEPT, "orders-export with", "never widens"),
    lab4(LEGACY, "kms-via-s3-in-any-region",
         setting("DecryptThroughS3", Condition={"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}),
         KEPT, "kms:ViaService=s3.ap-northeast-2.amazonaws.com", "never widens"),
    lab4(LEGACY, "metrics-namespace-ignoring-case",
         setting("PublishJobMetrics", Condition={"StringEqualsIgnoreCase": {"cloudwatch:namespace": "OrdersExport"}}),
         KEPT, "a case variant", "never widens"),
    lab4(LEGACY, "metrics-namespace-OrdersExport*",
         setting("PublishJobMetrics", Condition={"StringLike": {"cloudwatch:namespace": "OrdersExport*"}}),
         KEPT, "a suffix added", "never widens"),
]  # fmt: skip

LAB4_EQUIVALENT = [
    lab4(DEPLOY, "lookups-region-ignoring-case",
         setting("LookUpInTheTokyoRegion",
                 Condition={"StringEqualsIgnoreCase": {"aws:RequestedRegion": "ap-northeast-1"}})),
    lab4(DEPLOY, "lookups-with-a-deny-outside-tokyo",
         also(setting("LookUpInTheTokyoRegion", Condition=None),
              adding({"Sid": "NoLookupsOutsideTokyo", "Effect": "Deny",
                      "Action": ["ec2:DescribeSecurityGroups", "tag:GetResources"], "Resource": "*",
                      "Condition": {"StringNotEquals": {"aws:RequestedRegion": "ap-northeast-1"}}}))),
    lab4(DEPLOY, "one-statement-per-function",
         also(setting("ShipFunctionCode", Resource=FUNCTIONS[0]),
              adding({"Sid": "ShipTheWorker", "Effect": "Allow",
                      "Action": ["lambda:GetFunction", "lambda:PublishVersion", "lambda:UpdateFunctionCode"],
                      "Resource": FUNCTIONS[1]}))),
    lab4(LEGACY, "kept-statement-with-the-sns-topic-left-in",
         setting("SignalDone", Resource=[
             "arn:aws:sqs:ap-northeast-1:123456789012:orders-export-done",
             "arn:aws:sns:ap-northeast-1:123456789012:orders-export-alerts"])),
    lab4(LEGACY, "kms-via-service-ignoring-case",
         setting("DecryptThroughS3",
                 Condition={"StringEqualsIgnoreCase": {"kms:ViaService": "s3.ap-northeast-1.amazonaws.com"}})),
    lab4(LEGACY, "statements-reordered-and-renamed",
         lambda doc: doc.update(Statement=[{**s, "Sid": f"Kept{i}"} for i, s in enumerate(reversed(doc["Statement"]))])),
]  # fmt: skip


# ---------------------------------------------------------------- lab5: guardrails

SCP, BOUNDARY, DELEGATED = "scp.json", "boundary.json", "delegated-admin-policy.json"
BUCKET_POLICY, SESSION = "bucket-policy.json", "break-glass-session-policy.json"
REGIONS_CHECK = "test_scp_denies_unapproved_regions"
NO_LOOKALIKE_BOUNDARY = "test_developers_cannot_create_roles_without_the_boundary"
CAPS = "test_boundary_caps_app_roles"
OUTSIDERS = "test_bucket_refuses_everyone_outside_the_organization"
CONTAINS = "test_break_glass_session_can_do_nothing_else"
BOUNDARY_ARN = "arn:aws:iam::410987654321:policy/AppRoleBoundary"
APPROVED = ["ap-northeast-1", "ap-northeast-3"]
# AWS Organizations User Guide, example SCP "Deny access to AWS based on the requested AWS
# Region": its NotAction list, as a learner would paste it.
AWS_EXAMPLE_EXEMPTIONS = [
    "a4b:*", "acm:*", "aws-marketplace-management:*", "aws-marketplace:*", "aws-portal:*",
    "budgets:*", "ce:*", "chime:*", "cloudfront:*", "config:*", "cur:*", "directconnect:*",
    "ec2:DescribeRegions", "ec2:DescribeTransitGateways", "ec2:DescribeVpnGateways", "fms:*",
    "globalaccelerator:*", "health:*", "iam:*", "importexport:*", "kms:*", "mobileanalytics:*",
    "networkmanager:*", "organizations:*", "pricing:*", "route53:*", "route53domains:*",
    "s3:GetAccountPublic*", "s3:ListAllMyBuckets", "s3:PutAccountPublic*", "shield:*",
    "sts:*", "support:*", "trustedadvisor:*", "waf-regional:*", "waf:*", "wafv2:*",
    "wellarchitected:*",
]  # fmt: skip
OTHER_REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-south-1",
    "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
    "ap-southeast-5", "ap-southeast-7", "ap-northeast-2", "ca-central-1", "ca-west-1",
    "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1",
    "eu-south-2", "eu-north-1", "il-central-1", "me-south-1", "me-central-1", "mx-central-1",
    "sa-east-1",
]  # fmt: skip
DEV_TABLES = "arn:aws:dynamodb:*:410987654321:table/*"


def lab5(file: str, name: str, change, fails: str | None = None, *says: str) -> Answer:
    return Answer("lab5", name, file, change, fails, says)


LAB5_WRONG = [
    lab5(SCP, "regions-not-like-ap-northeast-*",
         setting("OnlyApprovedRegions", Condition={"StringNotLike": {"aws:RequestedRegion": "ap-northeast-*"}}),
         REGIONS_CHECK, "ap-northeast-2", "ap-northeast family"),
    lab5(SCP, "every-region-open-today-blocked",
         setting("OnlyApprovedRegions", Condition={"StringEquals": {"aws:RequestedRegion": OTHER_REGIONS}}),
         REGIONS_CHECK, "not open yet"),
    lab5(SCP, "kms-exempted", on_actions("OnlyApprovedRegions", lambda a: a + ["kms:*"]),
         REGIONS_CHECK, "kms:", "a regional service", "only the global services"),
    lab5(SCP, "aws-example-exemptions-pasted",
         setting("OnlyApprovedRegions", NotAction=AWS_EXAMPLE_EXEMPTIONS),
         REGIONS_CHECK, "acm, config, directconnect, fms, kms"),
    lab5(DELEGATED, "boundary-arn-like-*AppRoleBoundary",
         setting("CreateAndManageAppRolesOnlyWithTheBoundary",
                 Condition={"ArnLike": {"iam:PermissionsBoundary": "arn:aws:iam::410987654321:policy/*AppRoleBoundary"}}),
         NO_LOOKALIKE_BOUNDARY, "a prefix added", "the exact ARN", "iam:PermissionsBoundary=arn:"),
    lab5(DELEGATED, "boundary-like-AppRoleBoundar?",
         setting("CreateAndManageAppRolesOnlyWithTheBoundary",
                 Condition={"StringLike": {"iam:PermissionsBoundary": BOUNDARY_ARN[:-1] + "?"}}),
         NO_LOOKALIKE_BOUNDARY, "one character changed"),
    lab5(BOUNDARY, "sqs-*-on-the-app-queues", setting("AppQueues", Action="sqs:*"),
         CAPS, "sqs:AddPermission", "shares the queue"),
    lab5(BOUNDARY, "s3-*-on-the-app-objects", setting("AppObjects", Action="s3:*"),
         CAPS, "s3:PutObjectAcl", "shares an object"),
    lab5(BOUNDARY, "dynamodb-*-on-the-app-tables", setting("AppTables", Action="dynamodb:*"),
         CAPS, "dynamodb:PutResourcePolicy", "shares the table"),
    lab5(BOUNDARY, "tables-of-every-account", setting("AppTables", Resource="arn:aws:dynamodb:*:*:table/*"),
         CAPS, "the prod account's"),
    lab5(BOUNDARY, "queues-of-accounts-41098765432?", setting("AppQueues", Resource="arn:aws:sqs:*:41098765432?:*"),
         CAPS, "one digit away"),
    lab5(BOUNDARY, "buckets-acme-dev*", setting("AppObjects", Resource="arn:aws:s3:::acme-dev*/*"),
         CAPS, "a bucket acme-dev-* does not name"),
    lab5(BUCKET_POLICY, "org-id-like-o-7fq2k9w4*",
         also(*(setting(s, Condition={"StringLike": {"aws:PrincipalOrgID": "o-7fq2k9w4*"}})
                for s in ("OrganizationReadsAndWritesArtifacts", "OrganizationListsArtifacts"))),
         OUTSIDERS, "in organization o-7fq2k9w4zd", "a suffix added"),
    lab5(SESSION, "guardduty-*-to-see-findings",
         on_actions("SeeWhatIsHappening", lambda a: [x for x in a if not x.startswith("guardduty:")] + ["guardduty:*"]),
         CONTAINS, "guardduty:ArchiveFindings", "suppresses findings"),
    lab5(SESSION, "ec2-St*Instances", setting("StopAffectedInstances", Action="ec2:St*Instances"),
         CONTAINS, "ec2:StartInstances"),
    lab5(SESSION, "ec2-*Snapshot*", setting("SnapshotVolumesForForensics", Action="ec2:*Snapshot*"),
         CONTAINS, "ec2:DeleteSnapshot"),
    lab5(SESSION, "cloudtrail-*-to-see-events",
         on_actions("SeeWhatIsHappening", lambda a: [x for x in a if not x.startswith("cloudtrail:")] + ["cloudtrail:*"]),
         CONTAINS, "more actions granted", "changes the trail"),
    lab5(SESSION, "ec2-Create*-to-snapshot", setting("SnapshotVolumesForForensics", Action="ec2:Create*"),
         CONTAINS, "more actions granted", "not a containment step"),
]  # fmt: skip

LAB5_EQUIVALENT = [
    lab5(DELEGATED, "boundary-with-ArnEquals",
         setting("CreateAndManageAppRolesOnlyWithTheBoundary",
                 Condition={"ArnEquals": {"iam:PermissionsBoundary": BOUNDARY_ARN}})),
    lab5(SCP, "regions-not-like-without-a-wildcard",
         setting("OnlyApprovedRegions", Condition={"StringNotLike": {"aws:RequestedRegion": APPROVED}})),
    lab5(SCP, "more-global-services-exempted",
         on_actions("OnlyApprovedRegions", lambda a: a + ["budgets:*", "globalaccelerator:*", "waf:*", "shield:*", "health:*"])),
    lab5(BUCKET_POLICY, "deny-outside-the-org-beside-an-allow",
         also(*(setting(s, Condition=None) for s in ("OrganizationReadsAndWritesArtifacts", "OrganizationListsArtifacts")),
              adding({"Sid": "NobodyOutsideTheOrganization", "Effect": "Deny", "Principal": "*",
                      "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                      "Resource": ["arn:aws:s3:::acme-release-artifacts", "arn:aws:s3:::acme-release-artifacts/*"],
                      "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-7fq2k9w4zd"}}}))),
    lab5(BOUNDARY, "more-of-the-apps-data-actions",
         also(on_actions("AppTables", lambda a: a + ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:Scan"]),
              on_actions("AppQueues", lambda a: a + ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]))),
    lab5(SESSION, "reads-by-wildcard",
         on_actions("SeeWhatIsHappening", lambda a: ["ec2:Describe*", "guardduty:Get*", "guardduty:List*",
                                                     "cloudtrail:LookupEvents", "iam:GetUser", "iam:ListAccessKeys"])),
]  # fmt: skip


# ---------------------------------------------------------------- lab5 task 6: the RCP

RCP = "rcp.json"
PERIMETER = "OnlyTheOrganizationAndAWSServicesActingForIt"
RCP_GATE = "test_rcp_is_a_resource_control_policy"
RCP_IN = "test_rcp_lets_the_organization_in"
RCP_FOR_SERVICES = "test_rcp_lets_aws_services_work_for_the_organization"
RCP_OUT = "test_rcp_keeps_everyone_else_out"
RCP_REST = "test_rcp_keeps_the_rest_of_the_lab_working"
ORG = "o-7fq2k9w4zd"
NOT_A_SERVICE = {"BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}
RELEASE = ["arn:aws:s3:::acme-release-artifacts", "arn:aws:s3:::acme-release-artifacts/*"]
# AWS's data perimeter policy examples, resource_control_policies/identity_perimeter_rcp.json
# and the Organizations User Guide's example "Enforce confused deputy protection", without
# their placeholders for trusted third parties.
AWS_IDENTITY_PERIMETER = ["s3:*", "sqs:*", "kms:*", "secretsmanager:*", "sts:AssumeRole",
                          "sts:DecodeAuthorizationMessage", "sts:GetAccessKeyInfo",
                          "sts:GetFederationToken", "sts:GetServiceBearerToken",
                          "sts:GetSessionToken", "sts:SetContext"]  # fmt: skip
CONFUSED_DEPUTY = {
    "Sid": "EnforceConfusedDeputyProtection", "Effect": "Deny", "Principal": "*",
    "Action": ["s3:*", "sqs:*", "kms:*", "secretsmanager:*", "sts:*"], "Resource": "*",
    "Condition": {"StringNotEqualsIfExists": {"aws:SourceOrgID": ORG},
                  "Null": {"aws:SourceAccount": "false"},
                  "Bool": {"aws:PrincipalIsAWSService": "true"}},
}  # fmt: skip

RCP_WRONG = [
    lab5(RCP, "org-id-not-like-o-7fq2k9w4zd*",
         setting(PERIMETER, Condition={"StringNotLikeIfExists": {"aws:PrincipalOrgID": ORG + "*"},
                                       **NOT_A_SERVICE}),
         RCP_OUT, "in organization o-7fq2k9w4zd", "a suffix added", "no wildcard"),
    lab5(RCP, "principal-names-the-old-vendor",
         setting(PERIMETER, Principal={"AWS": "arn:aws:iam::999988887777:root"}, Condition=None),
         RCP_GATE, 'Principal is always "*"'),
    lab5(RCP, "not-principal-instead-of-a-condition",
         setting(PERIMETER, Principal=None, NotPrincipal={"AWS": "arn:aws:iam::410987654321:root"},
                 Condition=None),
         RCP_GATE, "NotPrincipal"),
    lab5(RCP, "allow-the-organization",
         setting(PERIMETER, Effect="Allow",
                 Condition={"StringEquals": {"aws:PrincipalOrgID": ORG}}),
         RCP_GATE, "RCPFullAWSAccess"),
    lab5(RCP, "org-id-without-if-exists",
         setting(PERIMETER, Condition={"StringNotEquals": {"aws:PrincipalOrgID": ORG}}),
         RCP_FOR_SERVICES, "cloudtrail.amazonaws.com", "aws:PrincipalIsAWSService"),
    lab5(RCP, "only-when-an-org-id-is-there",
         setting(PERIMETER, Condition={"StringNotEquals": {"aws:PrincipalOrgID": ORG},
                                       "Null": {"aws:PrincipalOrgID": "false"}}),
         RCP_OUT, "in no organization"),
    lab5(RCP, "todays-accounts-instead-of-the-organization",
         setting(PERIMETER, Condition={"StringNotEqualsIfExists": {"aws:PrincipalAccount": [
             "210987654321", "310987654321", "410987654321", "510987654321"]}, **NOT_A_SERVICE}),
         RCP_IN, "the new Workloads account"),
    lab5(RCP, "the-bucket-only", setting(PERIMETER, Action="s3:*", Resource=RELEASE),
         RCP_OUT, "kms:Decrypt"),
    lab5(RCP, "no-buckets-outside-tokyo",
         adding({"Sid": "NoBucketsOutsideTokyo", "Effect": "Deny", "Principal": "*",
                 "Action": "s3:CreateBucket", "Resource": "*",
                 "Condition": {"StringNotEquals": {"aws:RequestedRegion": "ap-northeast-1"}}}),
         RCP_REST, "s3:CreateBucket", "allowed without the RCP"),
]  # fmt: skip

RCP_EQUIVALENT = [
    lab5(RCP, "aws-identity-perimeter-and-confused-deputy",
         also(setting(PERIMETER, Action=AWS_IDENTITY_PERIMETER), adding(CONFUSED_DEPUTY))),
    lab5(RCP, "bucket-and-keys-by-arn",
         setting(PERIMETER, Resource=[*RELEASE, "arn:aws:kms:*:*:key/*"])),
    lab5(RCP, "one-statement-per-service",
         also(setting(PERIMETER, Action="s3:*"),
              adding({"Sid": "KeysStayInTheOrganization", "Effect": "Deny", "Principal": "*",
                      "Action": "kms:*", "Resource": "*",
                      "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": [ORG]},
                                    **NOT_A_SERVICE}}))),
    lab5(RCP, "org-id-not-like-without-a-wildcard",
         setting(PERIMETER, Condition={"StringNotLikeIfExists": {"aws:PrincipalOrgID": ORG},
                                       **NOT_A_SERVICE})),
]  # fmt: skip


# ---------------------------------------------------------------- grading, once per answer

WRONG = LAB3_WRONG + LAB4_WRONG + LAB5_WRONG + RCP_WRONG
EQUIVALENT = LAB3_EQUIVALENT + LAB4_EQUIVALENT + LAB5_EQUIVALENT + RCP_EQUIVALENT


@pytest.fixture(scope="module")
def graded(request, tmp_path_factory) -> dict[tuple[str, str], dict]:
    """The selected answers, each graded by the real runner on a copy of its lab. The runs
    go a few at a time, each in a fresh interpreter (the runner forks its sandbox process,
    which a parent with threads must not do), so the table costs what its slowest runs do."""
    answers = [
        item.callspec.params["answer"]
        for item in request.session.items
        if item.module is request.module  # another module may name a parameter "answer"
        and "answer" in getattr(getattr(item, "callspec", None), "params", {})
    ]
    jobs = {}
    workers = max(2, os.cpu_count() or 1)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for answer in answers:
            folder = tmp_path_factory.mktemp(answer.lab) / answer.lab
            shutil.copytree(COURSE / "labs" / answer.lab, folder)
            for name, text in answer.files().items():
                (folder / name).write_text(text)
            lab = COURSE_LABS.lab(answer.lab)
            jobs[answer.lab, answer.name] = pool.submit(run_lab, lab, folder, seed=SEED)
        results = {key: job.result() for key, job in jobs.items()}
    for key, result in results.items():
        assert result.problem is None, (key, result.problem)
    return {key: {c.id: c for c in result.checks} for key, result in results.items()}


def test_the_tables_name_real_checks_and_distinct_answers():
    from grader.course.checkinfo import read_checks

    for lab in ("lab3", "lab4", "lab5"):
        names = {c.name for c in read_checks(COURSE_LABS.lab(lab).checks_module)}
        answers = [a for a in WRONG + EQUIVALENT if a.lab == lab]
        assert {a.fails for a in answers if a.fails} <= names
        assert len({a.name for a in answers}) == len(answers)


@pytest.mark.parametrize("answer", WRONG, ids=lambda a: f"{a.lab}-{a.name}")
def test_a_loosened_answer_fails_its_check_with_the_concept(graded, answer):
    check = graded[answer.lab, answer.name][answer.fails]
    assert check.status == "failed", (answer.name, check)
    message = " ".join(filter(None, (check.expected, check.found, check.fix)))
    for words in answer.says:
        assert words in message, (words, message)


@pytest.mark.parametrize("answer", EQUIVALENT, ids=lambda a: f"{a.lab}-{a.name}")
def test_an_equivalent_answer_passes_every_check(graded, answer):
    results = graded[answer.lab, answer.name]
    wrong = {c.id: c.found or c.message for c in results.values() if c.status != "passed"}
    assert wrong == {}, answer.name


# ---------------------------------------------------------------- every seed has the look-alikes


@pytest.mark.parametrize("seed", range(0, 200, 7))
def test_every_run_has_the_near_misses(seed):
    """Whatever the seed, the hidden inputs hold a case variant, a prefix, a suffix, a
    one-character change at each position, the next Region and an account one digit away."""
    from grader.checks import lab3_scenario, lab4_scenario, lab5_scenario

    fleet = lab3_scenario.make_fleet(seed)
    tags = {i.environment for i in fleet["other"]}
    assert {"Dev", "DEV", "development"} <= tags
    assert any(t and t.endswith("dev") and len(t) == 4 for t in tags)  # a prefix
    assert any(t and t.startswith("dev") and len(t) > 3 for t in tags - {"development"})
    for i in range(3):  # d?v and friends, at each position
        assert any(
            t
            and len(t) == 3
            and t[i] != "dev"[i]
            and t[:i] + t[i + 1 :] == "dev"[:i] + "dev"[i + 1 :]
            for t in tags
        )
    places = {(i.account, i.region) for i in fleet["elsewhere"]}
    assert ("123456789012", "ap-northeast-2") in places
    assert any(a != "123456789012" and a[:11] == "123456789012"[:11] for a, _ in places)

    shipped = lab4_scenario.make_shipped(seed)
    assert "ap-northeast-2" in dict(shipped.regions)
    world = lab5_scenario.make_world(seed)
    assert {"us-east-1", "ap-northeast-2", "ap-northeast-4"} <= set(world.regions)
    assert not set(world.regions) & set(APPROVED)
    assert any(o.startswith("o-7fq2k9w4zd") and o != "o-7fq2k9w4zd" for o in world.lookalike_orgs)
    assert any(b.startswith(BOUNDARY_ARN) for b in world.lookalike_boundaries)
    assert any(b.startswith("acme-devops-") for b in world.lookalike_buckets)
