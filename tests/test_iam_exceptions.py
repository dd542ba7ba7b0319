"""AWS's documented exceptions to the policy logic: trust and key policies that must allow,
resources AWS owns, an action no policy can deny; and the properties every decision keeps
when an allow-all or a deny-all policy is added."""

from __future__ import annotations

import itertools

import pytest

from grader.aws.iam import OrgLevel, PolicySet, Reason, Request, authorize, parse_policy

A = "111122223333"
USER = f"arn:aws:iam::{A}:user/alice"
SESSION = f"arn:aws:sts::{A}:assumed-role/dev/alice"
ROLE = f"arn:aws:iam::{A}:role/deployer"
KEY = f"arn:aws:kms:ap-northeast-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def policy(*statements, name="policy.json", kind="identity"):
    return parse_policy(
        {"Version": "2012-10-17", "Statement": list(statements)}, name=name, kind=kind
    )


ADMIN = policy({"Effect": "Allow", "Action": "*", "Resource": "*"}, name="AdministratorAccess")
DENY_ALL = policy({"Effect": "Deny", "Action": "*", "Resource": "*"}, name="deny-all.json")


def trust(principal):
    return policy(
        {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"},
        name="trust.json",
        kind="resource",
    )


def decide(action, resource, policies, principal=USER):
    return authorize(Request(action, resource, principal=principal), policies)


# --- resources whose own policy must allow ------------------------------------------------


@pytest.mark.parametrize(
    "action",
    ["sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
)
def test_an_identity_policy_alone_never_lets_anyone_assume_a_role(action):
    d = decide(action, ROLE, PolicySet(identity=[ADMIN]))
    assert d.decision == "implicitDeny"
    assert d.why.reason is Reason.RESOURCE_REQUIRED
    assert "role trust policy" in d.explain()


def test_a_trust_policy_naming_the_account_delegates_to_the_identity_policy():
    names_account = trust(f"arn:aws:iam::{A}:root")
    assert decide(
        "sts:AssumeRole", ROLE, PolicySet(identity=[ADMIN], resource=[names_account])
    ).allowed
    assert not decide("sts:AssumeRole", ROLE, PolicySet(resource=[names_account])).allowed


def test_a_trust_policy_naming_the_user_is_enough_on_its_own():
    assert decide("sts:AssumeRole", ROLE, PolicySet(resource=[trust(USER)])).allowed


def test_a_kms_key_needs_its_key_policy_even_in_the_same_account():
    d = decide("kms:Decrypt", KEY, PolicySet(identity=[ADMIN]))
    assert d.decision == "implicitDeny" and "key policy" in d.explain()
    key_policy = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        name="key-policy.json",
        kind="resource",
    )
    assert decide("kms:Decrypt", KEY, PolicySet(identity=[ADMIN], resource=[key_policy])).allowed
    # other KMS resources (aliases) and other services are not held to it
    assert decide("s3:GetObject", "arn:aws:s3:::b/k", PolicySet(identity=[ADMIN])).allowed


# --- resources AWS owns ---------------------------------------------------------------------

MANAGED = "arn:aws:iam::aws:policy/AdministratorAccess"
SLR = f"arn:aws:iam::{A}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing"
SSO_ROLE = (
    f"arn:aws:iam::{A}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef"
)


@pytest.mark.parametrize(
    "action, resource",
    [
        ("iam:CreatePolicyVersion", MANAGED),
        ("iam:DeletePolicy", MANAGED),
        ("iam:SetDefaultPolicyVersion", MANAGED),
        ("iam:TagPolicy", MANAGED),
        ("iam:AttachRolePolicy", SLR),
        ("iam:PutRolePolicy", SLR),
        ("iam:UpdateAssumeRolePolicy", SLR),
        ("iam:DeleteRole", SLR),
        ("iam:PassRole", SLR),
        ("iam:PutRolePolicy", SSO_ROLE),
        ("kms:DeleteAlias", f"arn:aws:kms:ap-northeast-1:{A}:alias/aws/s3"),
        ("kms:CreateAlias", f"arn:aws:kms:ap-northeast-1:{A}:alias/aws/ebs"),
    ],
)
def test_no_policy_lets_anyone_change_what_aws_owns(action, resource):
    d = decide(action, resource, PolicySet(identity=[ADMIN]))
    assert d.decision == "implicitDeny"
    assert d.why.reason is Reason.AWS_OWNED
    assert "AWS owns" in d.explain()
    root = decide(action, resource, PolicySet(), principal=A)
    assert not root.allowed


@pytest.mark.parametrize(
    "action, resource",
    [
        ("iam:GetPolicy", MANAGED),
        ("iam:GetPolicyVersion", MANAGED),
        ("iam:AttachRolePolicy", f"arn:aws:iam::{A}:role/app/worker"),
        ("iam:UpdateRoleDescription", SLR),
        ("iam:GetRole", SLR),
        ("kms:DeleteAlias", f"arn:aws:kms:ap-northeast-1:{A}:alias/my-app"),
    ],
)
def test_reading_them_or_changing_your_own_is_decided_by_the_policies(action, resource):
    d = decide(action, resource, PolicySet(identity=[ADMIN]))
    assert d.allowed, d.explain()
    assert d.why.resource_account == A  # an AWS managed policy is not another account's


# --- an action no policy can deny --------------------------------------------------------


def test_get_caller_identity_is_allowed_even_under_an_explicit_deny():
    d = decide(
        "sts:GetCallerIdentity", "*", PolicySet(identity=[ADMIN, DENY_ALL], scps=[[DENY_ALL]])
    )
    assert d.allowed and d.why.reason is Reason.ALWAYS_ALLOWED
    assert "needs no permission" in d.explain()
    assert not decide("sts:GetSessionToken", "*", PolicySet(identity=[ADMIN, DENY_ALL])).allowed


# --- properties: allow-all never changes a decision; deny-all denies everything ----------

ALLOW_ALL = policy({"Effect": "Allow", "Action": "*", "Resource": "*"}, name="allow-all.json")
ALLOW_ALL_RCP = policy(
    {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
    name="allow-all-rcp.json",
    kind="rcp",
)
DENY_ALL_RCP = policy(
    {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"},
    name="deny-all-rcp.json",
    kind="rcp",
)
READ_ONLY = policy(
    {"Effect": "Allow", "Action": ["s3:Get*", "ec2:Describe*", "iam:Get*"], "Resource": "*"},
    {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::secret/*"},
    name="read-only.json",
)
REQUESTS = [
    ("s3:GetObject", "arn:aws:s3:::reports/q1.csv"),
    ("s3:GetObject", "arn:aws:s3:::secret/key.txt"),
    ("s3:PutObject", "arn:aws:s3:::reports/q1.csv"),
    ("ec2:DescribeInstances", "*"),
    ("ec2:TerminateInstances", f"arn:aws:ec2:ap-northeast-1:{A}:instance/i-0abc"),
    ("iam:GetRole", ROLE),
    ("iam:CreatePolicyVersion", MANAGED),
    ("sts:AssumeRole", ROLE),
    ("kms:Decrypt", KEY),
    ("sts:GetCallerIdentity", "*"),
]
# Federated-user sessions are left out: without a session policy they have no permissions,
# so for them a session policy is not a neutral addition.
CALLERS = [USER, SESSION, A]
BASES = [
    PolicySet(identity=[READ_ONLY]),
    PolicySet(identity=[ADMIN]),
    PolicySet(identity=[READ_ONLY], resource=[trust(f"arn:aws:iam::{A}:root")]),
]
ADDITIONS = {
    "scp": {"scps": [[ALLOW_ALL]]},
    "rcp": {"rcps": [[ALLOW_ALL_RCP]]},
    "boundary": {"boundary": ALLOW_ALL},
    "session": {"session": ALLOW_ALL},
}


def with_(base: PolicySet, **extra) -> PolicySet:
    fields = {
        "identity": base.identity,
        "resource": base.resource,
        "boundary": base.boundary,
        "scps": base.scps,
        "rcps": base.rcps,
        "session": base.session,
    }
    fields.update(extra)
    return PolicySet(**fields)


@pytest.mark.parametrize("added", list(ADDITIONS))
def test_adding_an_allow_all_policy_of_any_type_never_changes_a_decision(added):
    for base, caller, (action, resource) in itertools.product(BASES, CALLERS, REQUESTS):
        before = decide(action, resource, base, caller).decision
        after = decide(action, resource, with_(base, **ADDITIONS[added]), caller).decision
        assert after == before, (added, caller, action, resource)


@pytest.mark.parametrize(
    "added",
    [
        {"scps": [[DENY_ALL]]},
        {"rcps": [[DENY_ALL_RCP]]},
        {"boundary": DENY_ALL},
        {"identity": [ADMIN, DENY_ALL]},
    ],
    ids=["scp", "rcp", "boundary", "identity"],
)
def test_adding_a_deny_all_policy_denies_everything_but_get_caller_identity(added):
    rcp = "rcps" in added
    for base, caller, (action, resource) in itertools.product(BASES, [USER, SESSION], REQUESTS):
        d = decide(action, resource, with_(base, **added), caller)
        expected = "allowed" if action == "sts:GetCallerIdentity" else "explicitDeny"
        if rcp and action.split(":")[0] not in ("s3", "sts", "kms", "sqs", "secretsmanager"):
            continue  # RCPs leave other services alone (test above)
        assert d.decision == expected, (added, caller, action, resource, d.explain())


def test_rcps_apply_only_to_the_services_that_support_them():
    rcp_deny = {"rcps": [[DENY_ALL_RCP]]}
    assert decide("s3:GetObject", "arn:aws:s3:::b/k", with_(BASES[1], **rcp_deny)).decision == (
        "explicitDeny"
    )
    ec2 = decide("ec2:DescribeInstances", "*", with_(BASES[1], **rcp_deny))
    assert ec2.allowed, ec2.explain()


def test_scp_levels_given_as_org_levels_keep_working():
    ps = PolicySet(identity=[ADMIN], scps=[OrgLevel("root", [ALLOW_ALL]), OrgLevel("OU", [])])
    d = decide("s3:GetObject", "arn:aws:s3:::b/k", ps)
    assert d.decision == "implicitDeny" and d.why.reason is Reason.ORGANIZATION
    assert d.why.level == "OU"
