"""The whole evaluation across policy types, from the IAM evaluation-logic pages."""

from __future__ import annotations

import pytest

from grader.aws.iam.authorize import OrgLevel, PolicySet, authorize
from grader.aws.iam.policy import parse_policy
from grader.aws.iam.principals import FEDERATED_USER, Principal
from grader.aws.iam.request import Request

A = "111122223333"  # the caller's account
B = "444455556666"  # another account
ORG = "o-exampleorg"
BUCKET = "arn:aws:s3:::reports"
OBJECT = f"{BUCKET}/q1.csv"
USER = f"arn:aws:iam::{A}:user/alice"
ROLE = f"arn:aws:iam::{A}:role/dev"
SESSION = f"arn:aws:sts::{A}:assumed-role/dev/alice"
FED = f"arn:aws:sts::{A}:federated-user/bob"
CROSS_SESSION = f"arn:aws:sts::{B}:assumed-role/auditor/carol"
DISTRIBUTION = f"arn:aws:cloudfront::{A}:distribution/EDFDVBD6EXAMPLE"


def identity(*statements, name="identity.json"):
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, name=name)


def resource_policy(*statements, name="bucket-policy.json"):
    return parse_policy(
        {"Version": "2012-10-17", "Statement": list(statements)}, name=name, kind="resource"
    )


def allow(action="s3:GetObject", resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action="s3:GetObject", resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def grant_to(principal, action="s3:GetObject", effect="Allow", **extra):
    return {
        "Effect": effect,
        "Principal": principal,
        "Action": action,
        "Resource": [BUCKET, f"{BUCKET}/*"],
        **extra,
    }


FULL = identity(allow("*"), name="FullAWSAccess")
READ = identity(allow("s3:GetObject"), name="read.json")
EC2_ONLY = identity(allow("ec2:*"), name="boundary.json")


def decide(principal, policies, action="s3:GetObject", resource=OBJECT, **context):
    return authorize(Request(action, resource, principal=principal, context=context), policies)


# --- identity policies alone ---------------------------------------------------------------


def test_identity_policy_allows_and_its_absence_implicitly_denies():
    assert decide(USER, PolicySet(identity=[READ])).decision == "allowed"
    d = decide(USER, PolicySet(identity=[READ]), action="s3:PutObject")
    assert d.decision == "implicitDeny" and d.decided_by == "identity"
    assert "no identity policy (read.json) allows s3:PutObject" in d.explain()
    assert decide(USER, PolicySet()).decision == "implicitDeny"


def test_explicit_deny_in_identity_policy():
    d = decide(USER, PolicySet(identity=[READ, identity(deny(), name="guard.json")]))
    assert d.decision == "explicitDeny" and d.decided_by == "identity"
    assert [m.policy for m in d.matched] == ["guard.json"]


def test_matches_name_their_policy_type():
    d = decide(SESSION, PolicySet(identity=[READ], boundary=identity(allow("s3:*"), name="b")))
    assert d.allowed
    assert [(m.policy, m.policy_type) for m in d.matched] == [
        ("read.json", "identity"),
        ("b", "boundary"),
    ]


# --- explicit deny in every policy type -------------------------------------------------


@pytest.mark.parametrize(
    "where",
    ["identity", "resource", "boundary", "scp", "rcp", "session"],
)
def test_an_explicit_deny_in_any_policy_type_wins_over_every_allow(where):
    guard = identity(allow("*"), deny("s3:GetObject", Sid="NoRead"), name=f"{where}.json")
    everything = grant_to("*", action="s3:*")
    rguard = resource_policy(everything, grant_to("*", effect="Deny", Sid="NoRead"), name="r")
    policies = {
        "identity": [FULL],
        "resource": [resource_policy(grant_to({"AWS": SESSION}))],
        "boundary": FULL,
        "scps": [[FULL]],
        "rcps": [[resource_policy(everything, name="RCPFullAWSAccess")]],
        "session": FULL,
    }
    if where == "identity":
        policies["identity"] = [FULL, guard]
    elif where == "resource":
        policies["resource"] = [rguard]
    elif where == "rcp":
        policies["rcps"] = [[rguard]]
    elif where == "scp":
        policies["scps"] = [[guard]]
    else:
        policies[where] = guard
    ps = PolicySet(**policies)
    assert decide(SESSION, ps, action="s3:ListBucket").allowed  # the deny is only for reads
    d = decide(SESSION, ps)
    assert d.decision == "explicitDeny"
    assert d.decided_by == where
    assert d.matched[0].statement.sid == "NoRead"
    assert d.explain().startswith("explicitDeny: statement Sid 'NoRead' of ")


# --- SCPs ------------------------------------------------------------------------------------


SCP_ALLOW_S3 = identity(allow("s3:*"), name="scp-s3.json")
SCP_GUARD = identity(
    allow("*"),
    deny("organizations:LeaveOrganization", Sid="DenyLeaveOrg"),
    name="scp-guardrails.json",
)


def test_every_scp_level_must_allow():
    ps = PolicySet(
        identity=[FULL],
        scps=[OrgLevel("root", [FULL]), OrgLevel("OU Workloads", [SCP_ALLOW_S3])],
    )
    assert decide(USER, ps).allowed
    d = decide(USER, ps, action="ec2:RunInstances", resource="*")
    assert d.decision == "implicitDeny" and d.decided_by == "scp"
    assert "no SCP attached at OU Workloads (scp-s3.json) allows ec2:RunInstances" in d.explain()


def test_an_scp_level_without_any_policy_denies():
    ps = PolicySet(identity=[FULL], scps=[[FULL], []])
    assert decide(USER, ps).decision == "implicitDeny"


def test_scp_deny_names_the_statement_policy_and_level():
    ps = PolicySet(identity=[FULL], scps=[OrgLevel("OU Workloads", [SCP_GUARD])])
    d = decide(SESSION, ps, action="organizations:LeaveOrganization", resource="*")
    assert d.decision == "explicitDeny"
    assert d.explain().startswith(
        "explicitDeny: statement Sid 'DenyLeaveOrg' of SCP scp-guardrails.json (OU Workloads)"
    )


def test_default_level_names_are_root_ous_and_account():
    ps = PolicySet(identity=[FULL], scps=[[FULL], [FULL], [SCP_ALLOW_S3]])
    d = decide(USER, ps, action="ec2:RunInstances", resource="*")
    assert "attached at account" in d.explain()
    d = decide(
        USER,
        PolicySet(identity=[FULL], scps=[[FULL], [SCP_ALLOW_S3], [FULL]]),
        action="ec2:RunInstances",
        resource="*",
    )
    assert "attached at OU 1" in d.explain()


def test_scps_limit_the_root_user_of_a_member_account():
    ps = PolicySet(scps=[[SCP_GUARD]])
    root = f"arn:aws:iam::{A}:root"
    assert decide(root, ps, action="ec2:RunInstances", resource="*").allowed  # full access
    d = decide(root, ps, action="organizations:LeaveOrganization", resource="*")
    assert d.decision == "explicitDeny"
    assert decide(root, PolicySet(scps=[[SCP_ALLOW_S3]]), action="ec2:RunInstances").decision == (
        "implicitDeny"
    )


def test_scps_do_not_apply_in_the_management_account():
    ps = PolicySet(identity=[FULL], scps=[[SCP_GUARD]], management_account=A)
    d = decide(USER, ps, action="organizations:LeaveOrganization", resource="*")
    assert d.allowed
    ps = PolicySet(identity=[FULL], scps=[[SCP_ALLOW_S3]], management_account=B)
    assert not decide(USER, ps, action="ec2:RunInstances", resource="*").allowed


def test_scps_do_not_apply_to_service_principals_or_anonymous_callers():
    bucket = resource_policy(grant_to("*"))
    ps = PolicySet(resource=[bucket], scps=[[identity(deny("*"), name="deny-all-scp")]])
    assert decide(None, ps).allowed
    assert decide("cloudfront.amazonaws.com", ps).allowed
    assert decide(SESSION, ps).decision == "explicitDeny"


def test_scps_do_not_apply_to_service_linked_roles():
    deny_all = identity(deny("*"), name="deny-all-scp")
    ps = PolicySet(identity=[FULL], scps=[[deny_all]])
    linked = f"arn:aws:iam::{A}:role/aws-service-role/elasticloadbalancing.amazonaws.com/"
    assert decide(linked + "AWSServiceRoleForElasticLoadBalancing", ps).allowed
    # The same name on an ordinary path is an ordinary role: the SCP binds it.
    ordinary = f"arn:aws:iam::{A}:role/AWSServiceRoleForElasticLoadBalancing"
    assert decide(ordinary, ps).decision == "explicitDeny"


def test_scps_cannot_grant_on_their_own():
    assert decide(USER, PolicySet(scps=[[FULL]])).decision == "implicitDeny"


# --- RCPs ------------------------------------------------------------------------------------


RCP_FULL = resource_policy(grant_to("*", action="*"), name="RCPFullAWSAccess")
RCP_ORG_ONLY = resource_policy(
    grant_to("*", action="*"),
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
    name="rcp-perimeter.json",
)


def test_rcp_denies_callers_outside_the_organization_even_when_the_bucket_allows_them():
    bucket = resource_policy(grant_to({"AWS": B}))
    ps = PolicySet(resource=[bucket], rcps=[[RCP_ORG_ONLY]], resource_account=A)
    auditor = {"aws:PrincipalOrgID": ORG}
    d = authorize(
        Request("s3:GetObject", OBJECT, CROSS_SESSION, auditor),
        PolicySet(identity=[READ], resource=[bucket], rcps=[[RCP_ORG_ONLY]], resource_account=A),
    )
    assert d.allowed
    d = decide(
        CROSS_SESSION,
        PolicySet(identity=[READ], resource=[bucket], rcps=[[RCP_ORG_ONLY]], resource_account=A),
    )
    assert d.decision == "explicitDeny" and d.decided_by == "rcp"
    assert "EnforceOrgIdentities" in d.explain()
    assert decide("cloudtrail.amazonaws.com", ps).decision == "implicitDeny"  # bucket: no grant


def test_every_rcp_level_must_allow_and_it_also_applies_to_anonymous_callers():
    public = resource_policy(grant_to("*"))
    ps = PolicySet(resource=[public], rcps=[OrgLevel("root", [RCP_FULL]), OrgLevel("OU Data", [])])
    d = decide(None, ps)
    assert d.decision == "implicitDeny" and d.decided_by == "rcp"
    assert "no RCP attached at OU Data (none)" in d.explain()
    assert decide(None, PolicySet(resource=[public], rcps=[[RCP_FULL]])).allowed


def test_rcps_do_not_apply_to_resources_of_the_management_account():
    public = resource_policy(grant_to("*"))
    deny_all = resource_policy(grant_to("*", effect="Deny", action="*"), name="rcp-deny")
    ps = PolicySet(resource=[public], rcps=[[deny_all]], resource_account=A, management_account=A)
    assert decide(None, ps).allowed


# --- permissions boundaries and session policies -------------------------------------------


def test_boundary_caps_identity_permissions():
    ps = PolicySet(identity=[FULL], boundary=EC2_ONLY)
    assert decide(USER, ps, action="ec2:StartInstances", resource="*").allowed
    d = decide(USER, ps, action="s3:PutObject")
    assert d.decision == "implicitDeny" and d.decided_by == "boundary"
    assert d.explain() == (
        "implicitDeny: statement 1 of FullAWSAccess allows s3:PutObject on "
        f"{OBJECT}, but the permissions boundary boundary.json does not."
    )


def test_boundary_alone_grants_nothing():
    assert not decide(USER, PolicySet(boundary=FULL)).allowed


def test_session_policy_caps_a_role_session():
    session = identity(allow("s3:GetObject"), name="break-glass-session.json")
    ps = PolicySet(identity=[FULL], session=session)
    assert decide(SESSION, ps).allowed
    d = decide(SESSION, ps, action="s3:DeleteObject")
    assert d.decision == "implicitDeny" and d.decided_by == "session"
    assert "session policy break-glass-session.json does not" in d.explain()


def test_identity_boundary_and_session_must_all_allow():
    ps = PolicySet(identity=[READ], boundary=FULL, session=identity(allow("s3:*"), name="s"))
    assert decide(SESSION, ps).allowed
    d = decide(SESSION, ps)
    assert "within the permissions boundary FullAWSAccess and the session policy s" in d.explain()


def test_a_session_policy_does_not_apply_to_an_iam_user():
    ps = PolicySet(identity=[FULL], session=identity(allow("ec2:*"), name="s"))
    assert decide(USER, ps).allowed


def test_a_federated_user_needs_a_session_policy():
    assert decide(FED, PolicySet(identity=[FULL])).decision == "implicitDeny"
    d = decide(FED, PolicySet(identity=[FULL]))
    assert "without a session policy" in d.explain()
    assert decide(FED, PolicySet(identity=[FULL], session=READ)).allowed


# --- resource-based policies in the same account -----------------------------------------


@pytest.mark.parametrize(
    "caller,named,expected",
    [
        # a resource policy naming the user itself: not limited by identity or boundary
        (USER, USER, "allowed"),
        # naming the session itself: not limited by identity, boundary or session policy
        (SESSION, SESSION, "allowed"),
        # naming the role: limited by the boundary (and session policy), not identity
        (SESSION, ROLE, "implicitDeny"),
        # naming the account: delegates to identity policies
        (SESSION, A, "implicitDeny"),
        (USER, A, "implicitDeny"),
    ],
)
def test_same_account_resource_policy_with_a_boundary_that_does_not_allow(caller, named, expected):
    ps = PolicySet(resource=[resource_policy(grant_to({"AWS": named}))], boundary=EC2_ONLY)
    d = decide(caller, ps)
    assert d.decision == expected
    if expected == "allowed":
        assert d.decided_by == "resource"
        assert "directly (same account)" in d.explain()


def test_a_resource_policy_naming_the_role_allows_without_identity_policy_when_caps_allow():
    ps = PolicySet(resource=[resource_policy(grant_to({"AWS": ROLE}))])
    d = decide(SESSION, ps)
    assert d.allowed and d.decided_by == "resource"
    assert "grants s3:GetObject" in d.explain() and "to the role (same account)" in d.explain()
    ps = PolicySet(resource=[resource_policy(grant_to({"AWS": ROLE}))], boundary=FULL)
    assert decide(SESSION, ps).allowed


def test_a_resource_policy_naming_the_role_is_capped_by_the_session_policy():
    bucket = resource_policy(grant_to({"AWS": ROLE}))
    ps = PolicySet(resource=[bucket], session=identity(allow("ec2:*"), name="s"))
    d = decide(SESSION, ps)
    assert d.decision == "implicitDeny" and d.decided_by == "session"
    assert "grants s3:GetObject on" in d.explain() and "to the role, not to this session" in (
        d.explain()
    )
    # the same policy naming the session itself is not capped
    direct = resource_policy(grant_to({"AWS": SESSION}))
    assert decide(SESSION, PolicySet(resource=[direct], session=identity(allow("ec2:*")))).allowed


def test_a_resource_policy_naming_the_user_who_federated_is_capped_for_the_federated_user():
    fed = Principal(FEDERATED_USER, FED, A, "bob", source_user=USER)
    bucket = resource_policy(grant_to({"AWS": USER}))
    capped = PolicySet(resource=[bucket], session=identity(allow("ec2:*"), name="s"))
    request = Request("s3:GetObject", OBJECT, FED)
    assert authorize(request, capped, principal=fed).decided_by == "session"
    assert authorize(request, PolicySet(resource=[bucket], session=READ), principal=fed).allowed
    direct = PolicySet(resource=[resource_policy(grant_to({"AWS": FED}))])
    assert authorize(request, direct, principal=fed).allowed  # no session policy needed


def test_same_account_identity_or_resource_policy_is_enough():
    bucket = resource_policy(grant_to({"AWS": USER}, action="s3:PutObject"))
    ps = PolicySet(identity=[READ], resource=[bucket])
    assert decide(USER, ps).decided_by == "identity"
    assert decide(USER, ps, action="s3:PutObject").decided_by == "resource"
    d = decide(USER, ps, action="s3:DeleteObject")
    assert d.decision == "implicitDeny"
    assert "and no resource-based policy grants it to the caller" in d.explain()


def test_a_resource_policy_that_must_allow_is_not_replaced_by_an_identity_policy():
    key_policy = resource_policy(
        {"Effect": "Allow", "Principal": {"AWS": A}, "Action": "kms:Decrypt", "Resource": "*"},
        name="key-policy",
    )
    ps = PolicySet(identity=[FULL], resource=[key_policy], resource_policy_required=True)
    key = f"arn:aws:kms:eu-west-1:{A}:key/1234"
    assert decide(USER, ps, action="kms:Decrypt", resource=key).allowed  # account + identity
    d = decide(USER, ps, action="kms:Encrypt", resource=key)
    assert d.decision == "implicitDeny" and d.decided_by == "resource"
    no_identity = PolicySet(resource=[key_policy], resource_policy_required=True)
    assert not decide(USER, no_identity, action="kms:Decrypt", resource=key).allowed


# --- cross account --------------------------------------------------------------------------


def test_cross_account_needs_both_the_resource_policy_and_the_identity_policy():
    bucket = resource_policy(grant_to({"AWS": CROSS_SESSION}))
    both = PolicySet(identity=[READ], resource=[bucket], resource_account=A)
    assert decide(CROSS_SESSION, both).allowed
    d = decide(CROSS_SESSION, PolicySet(resource=[bucket], resource_account=A))
    assert d.decision == "implicitDeny" and d.decided_by == "identity"
    assert f"the resource's account {A} allows" in d.explain()
    d = decide(CROSS_SESSION, PolicySet(identity=[READ], resource_account=A))
    assert d.decision == "implicitDeny" and d.decided_by == "resource"
    assert f"cross-account request (caller account {B}, resource account {A})" in d.explain()


def test_cross_account_a_direct_grant_does_not_bypass_the_callers_boundary():
    bucket = resource_policy(grant_to({"AWS": CROSS_SESSION}))
    ps = PolicySet(identity=[FULL], resource=[bucket], boundary=EC2_ONLY, resource_account=A)
    assert decide(CROSS_SESSION, ps).decided_by == "boundary"


def test_account_root_principal_delegates_to_the_other_accounts_identity_policies():
    bucket = resource_policy(grant_to({"AWS": f"arn:aws:iam::{B}:root"}))
    with_identity = PolicySet(identity=[READ], resource=[bucket], resource_account=A)
    assert decide(CROSS_SESSION, with_identity).allowed
    assert not decide(CROSS_SESSION, PolicySet(resource=[bucket], resource_account=A)).allowed
    third = "arn:aws:sts::999988887777:assumed-role/auditor/carol"
    assert not decide(third, with_identity).allowed


def test_the_resource_account_comes_from_the_arn_when_it_has_one():
    queue = f"arn:aws:sqs:eu-west-1:{A}:jobs"
    qp = resource_policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": B},
            "Action": "sqs:SendMessage",
            "Resource": queue,
        },
        name="queue-policy",
    )
    ps = PolicySet(identity=[identity(allow("sqs:*"))], resource=[qp])
    assert decide(CROSS_SESSION, ps, action="sqs:SendMessage", resource=queue).allowed
    assert not decide(CROSS_SESSION, ps, action="sqs:DeleteQueue", resource=queue).allowed


def test_cross_account_root_user_needs_the_resource_policy():
    root_b = f"arn:aws:iam::{B}:root"
    bucket = resource_policy(grant_to({"AWS": B}))
    assert decide(root_b, PolicySet(resource=[bucket], resource_account=A)).allowed
    assert not decide(root_b, PolicySet(resource_account=A)).allowed


# --- NotPrincipal ---------------------------------------------------------------------------


def test_not_principal_with_allow_grants_everyone_else_even_anonymous():
    bucket = resource_policy(
        {
            "Effect": "Allow",
            "NotPrincipal": {"AWS": f"arn:aws:iam::{A}:user/mallory"},
            "Action": "s3:GetObject",
            "Resource": f"{BUCKET}/*",
        }
    )
    ps = PolicySet(resource=[bucket], resource_account=A)
    assert decide(None, ps).allowed
    assert decide(USER, ps).allowed
    assert decide(
        f"arn:aws:iam::{B}:user/eve",
        PolicySet(identity=[READ], resource=[bucket], resource_account=A),
    ).allowed
    assert not decide(f"arn:aws:iam::{A}:user/mallory", ps).allowed


def test_not_principal_with_deny_denies_everyone_not_fully_listed():
    auditor = f"arn:aws:iam::{B}:role/auditor"
    fence = {
        "Effect": "Deny",
        "NotPrincipal": {"AWS": [CROSS_SESSION, auditor, f"arn:aws:iam::{B}:root"]},
        "Action": "s3:*",
        "Resource": [BUCKET, f"{BUCKET}/*"],
    }
    bucket = resource_policy(fence, grant_to({"AWS": B}))
    ps = PolicySet(identity=[READ], resource=[bucket], resource_account=A)
    assert decide(CROSS_SESSION, ps).allowed
    other = f"arn:aws:sts::{B}:assumed-role/auditor/dave"
    assert decide(other, ps).decision == "explicitDeny"
    assert decide(USER, PolicySet(identity=[FULL], resource=[bucket])).decision == "explicitDeny"
    # the documented pitfall: leaving out the role (or the account) denies the session too
    partial = dict(fence, NotPrincipal={"AWS": [CROSS_SESSION, f"arn:aws:iam::{B}:root"]})
    ps = PolicySet(
        identity=[READ],
        resource=[resource_policy(partial, grant_to({"AWS": B}))],
        resource_account=A,
    )
    assert decide(CROSS_SESSION, ps).decision == "explicitDeny"


# --- Principal "*" with conditions, services, anonymous ----------------------------------


ORG_BUCKET = resource_policy(
    grant_to("*", Sid="OrgOnly", Condition={"StringEquals": {"aws:PrincipalOrgID": ORG}}),
    {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [BUCKET, f"{BUCKET}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    },
)


def test_principal_star_with_principal_org_id():
    ps = PolicySet(identity=[READ], resource=[ORG_BUCKET], resource_account=A)
    tls = {"aws:SecureTransport": "true"}
    assert decide(CROSS_SESSION, ps, **tls, **{"aws:PrincipalOrgID": ORG}).allowed
    d = decide(CROSS_SESSION, ps, **tls, **{"aws:PrincipalOrgID": "o-other"})
    assert d.decision == "implicitDeny"
    assert "Statement Sid 'OrgOnly' of resource-based policy bucket-policy.json covers it, but" in (
        d.explain()
    )
    assert "aws:PrincipalOrgID" in d.explain()
    assert not decide(None, ps, **tls).allowed  # anonymous: no org ID
    d = decide(CROSS_SESSION, ps, **{"aws:SecureTransport": "false", "aws:PrincipalOrgID": ORG})
    assert d.decision == "explicitDeny" and "DenyInsecureTransport" in d.explain()


OAC_BUCKET = resource_policy(
    {
        "Sid": "AllowCloudFrontServicePrincipalReadOnly",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": f"{BUCKET}/*",
        "Condition": {
            "ArnEquals": {"aws:SourceArn": DISTRIBUTION},
            "StringEquals": {"aws:SourceAccount": A},
        },
    },
    name="origin-bucket-policy.json",
)


def test_service_principal_with_source_arn_and_source_account():
    ps = PolicySet(resource=[OAC_BUCKET])
    source = {"aws:SourceArn": DISTRIBUTION, "aws:SourceAccount": A}
    d = decide("cloudfront.amazonaws.com", ps, **source)
    assert d.allowed and d.decided_by == "resource"
    other = f"arn:aws:cloudfront::{B}:distribution/EOTHER"
    d = decide("cloudfront.amazonaws.com", ps, **{"aws:SourceArn": other, "aws:SourceAccount": B})
    assert d.decision == "implicitDeny"
    assert "covers it, but its condition ArnEquals aws:SourceArn" in d.explain()
    assert not decide("cloudfront.amazonaws.com", ps).allowed  # no source at all
    assert not decide("cloudtrail.amazonaws.com", ps, **source).allowed
    assert not decide(USER, ps, **source).allowed


def test_a_service_principal_is_not_allowed_by_identity_policies():
    d = decide("cloudfront.amazonaws.com", PolicySet(identity=[FULL]))
    assert d.decision == "implicitDeny"
    assert "only a resource-based policy can allow" in d.explain()


def test_anonymous_requests_need_principal_star():
    ps = PolicySet(identity=[FULL], resource=[resource_policy(grant_to({"AWS": A}))])
    d = decide(None, ps)
    assert d.decision == "implicitDeny" and d.decided_by == "resource"
    assert 'Principal "*"' in d.explain()
    public = PolicySet(resource=[resource_policy(grant_to({"AWS": "*"}))])
    assert decide(None, public).allowed


# --- the root user, derived context ------------------------------------------------------


def test_root_user_has_full_access_in_its_own_account_but_explicit_denies_apply():
    root = f"arn:aws:iam::{A}:root"
    assert decide(root, PolicySet()).allowed
    bucket = resource_policy(grant_to("*", effect="Deny"))
    assert decide(root, PolicySet(resource=[bucket])).decision == "explicitDeny"


def test_derived_keys_feed_conditions_but_never_override_given_ones():
    only_dev = identity(
        allow(Condition={"ArnEquals": {"aws:PrincipalArn": ROLE}}),
        name="principal-arn.json",
    )
    ps = PolicySet(identity=[only_dev])
    assert decide(SESSION, ps).allowed  # aws:PrincipalArn of a session is its role
    assert not decide(SESSION, ps, **{"aws:PrincipalArn": f"arn:aws:iam::{A}:role/x"}).allowed
    by_name = identity(allow(resource="arn:aws:s3:::home/${aws:username}/*"), name="home.json")
    assert decide(USER, PolicySet(identity=[by_name]), resource="arn:aws:s3:::home/alice/a").allowed
    assert not decide(
        SESSION, PolicySet(identity=[by_name]), resource="arn:aws:s3:::home/alice/a"
    ).allowed
    typed = identity(allow(Condition={"StringEquals": {"aws:PrincipalType": "User"}}))
    assert decide(USER, PolicySet(identity=[typed])).allowed
    assert not decide(SESSION, PolicySet(identity=[typed])).allowed
    assert decide(SESSION, PolicySet(identity=[typed]), **{"aws:PrincipalType": "User"}).allowed


def test_resource_account_key_is_derived_from_the_resource():
    own = identity(allow("sqs:*", Condition={"StringEquals": {"aws:ResourceAccount": A}}))
    ps = PolicySet(identity=[own])
    assert decide(
        USER, ps, action="sqs:SendMessage", resource=f"arn:aws:sqs:us-east-1:{A}:q"
    ).allowed
    other = f"arn:aws:sqs:us-east-1:{B}:q"
    assert not decide(USER, ps, action="sqs:SendMessage", resource=other).allowed


def test_an_explicit_principal_object_overrides_the_request_principal():
    ps = PolicySet(identity=[READ])
    request = Request("s3:GetObject", OBJECT, principal=None)
    assert not authorize(request, ps).allowed
    assert authorize(request, ps, principal=Principal("user", USER, A, "alice")).allowed
