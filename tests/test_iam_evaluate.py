"""Identity-policy evaluation: deny/allow logic, actions, resources, variables, explanations."""

from __future__ import annotations

import pytest

from grader.aws.iam.arns import arn_matches
from grader.aws.iam.evaluate import compile_policy, evaluate
from grader.aws.iam.policy import parse_policy
from grader.aws.iam.request import Request

ACCOUNT = "111122223333"
INSTANCE = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0abc"


def policy(*statements: dict, name: str = "policy.json", version: str = "2012-10-17"):
    return parse_policy({"Version": version, "Statement": list(statements)}, name=name)


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def decide(policies, action, resource="*", **context):
    if not isinstance(policies, list):
        policies = [policies]
    return evaluate(policies, Request(action, resource, context=context)).decision


# --- the three outcomes -----------------------------------------------------------------


def test_nothing_allows_it_so_it_is_implicitly_denied():
    assert decide(policy(allow("s3:GetObject")), "s3:PutObject") == "implicitDeny"
    assert decide([], "s3:GetObject") == "implicitDeny"


def test_a_matching_allow_allows():
    d = evaluate([policy(allow("s3:GetObject"))], Request("s3:GetObject", "*"))
    assert d.decision == "allowed" and d.allowed


def test_explicit_deny_beats_allow_in_the_same_policy():
    p = policy(allow("ec2:*"), deny("ec2:TerminateInstances"))
    assert decide(p, "ec2:TerminateInstances", INSTANCE) == "explicitDeny"
    assert decide(p, "ec2:StopInstances", INSTANCE) == "allowed"


def test_explicit_deny_beats_allow_in_another_policy():
    admin = policy(allow("*"), name="admin.json")
    guard = policy(deny("iam:*"), name="guard.json")
    d = evaluate([admin, guard], Request("iam:CreateUser", "*"))
    assert d.decision == "explicitDeny" and not d.allowed
    assert [m.policy for m in d.matched] == ["guard.json"]


def test_deny_that_does_not_match_leaves_the_allow():
    p = policy(allow("s3:*"), deny("s3:DeleteBucket"))
    assert decide(p, "s3:GetObject") == "allowed"


def test_matched_lists_the_deciding_statements_by_sid_and_policy():
    p = policy(allow("s3:Get*", Sid="ReadA"), allow("s3:GetObject", Sid="ReadB"), name="r.json")
    d = evaluate([p], Request("s3:GetObject", "*"))
    assert [(m.policy, m.statement.sid) for m in d.matched] == [
        ("r.json", "ReadA"),
        ("r.json", "ReadB"),
    ]


def test_implicit_deny_has_no_matched_statements():
    d = evaluate([policy(allow("s3:GetObject"))], Request("s3:PutObject", "*"))
    assert d.matched == ()


# --- actions ----------------------------------------------------------------------------


def test_actions_ignore_case():
    p = policy(allow("EC2:startInstances"))
    assert decide(p, "ec2:StartInstances") == "allowed"
    assert decide(policy(allow("ec2:Start*")), "EC2:STARTINSTANCES") == "allowed"


@pytest.mark.parametrize(
    "pattern,action,expected",
    [
        ("s3:Get*", "s3:GetObject", True),
        ("s3:Get*", "s3:PutObject", False),
        ("s3:*Object", "s3:DeleteObject", True),
        ("iam:*AccessKey*", "iam:CreateAccessKey", True),
        ("ec2:?topInstances", "ec2:StopInstances", True),
        ("ec2:?topInstances", "ec2:StartInstances", False),
        ("*", "anything:AtAll", True),
        ("s3:*", "s3express:CreateSession", False),  # the service is not a prefix match
    ],
)
def test_action_wildcards(pattern, action, expected):
    assert (decide(policy(allow(pattern)), action) == "allowed") is expected


def test_not_action_with_allow_allows_everything_except_the_listed_actions():
    p = policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert decide(p, "s3:GetObject") == "allowed"
    assert decide(p, "iam:CreateUser") == "implicitDeny"


def test_not_action_with_deny_denies_everything_except_the_listed_actions():
    # a common guard: deny every action outside IAM self-service unless MFA is present
    guard = {
        "Effect": "Deny",
        "NotAction": ["iam:ChangePassword", "sts:GetSessionToken"],
        "Resource": "*",
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    }
    p = policy(allow("*"), guard)
    assert decide(p, "s3:GetObject", **{"aws:MultiFactorAuthPresent": "false"}) == "explicitDeny"
    assert decide(p, "iam:ChangePassword", **{"aws:MultiFactorAuthPresent": "false"}) == "allowed"
    assert decide(p, "s3:GetObject", **{"aws:MultiFactorAuthPresent": "true"}) == "allowed"


# --- resources --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern,arn,expected",
    [
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b.txt", True),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", False),
        ("arn:aws:s3:::bucket*", "arn:aws:s3:::bucket-logs", True),
        ("arn:aws:ec2:*:111122223333:instance/*", INSTANCE, True),
        ("arn:aws:ec2:*:444455556666:instance/*", INSTANCE, False),  # another account
        ("arn:aws:ec2:eu-west-?:*:instance/*", INSTANCE, True),
        ("arn:aws:ec2:us-*:*:instance/*", INSTANCE, False),
        ("arn:aws:ec2:*:*:instance/i-0abc", INSTANCE, True),
        ("arn:aws:ec2:*:*:instance/I-0ABC", INSTANCE, False),  # ARNs are case-sensitive
        ("arn:aws:ec2:*:*:volume/*", INSTANCE, False),
        # a star in the region segment does not swallow the account after it
        ("arn:aws:ec2:*:instance/*", INSTANCE, False),
        # in the resource part a star spans "/" and ":"
        (
            "arn:aws:logs:*:*:log-group:app*",
            "arn:aws:logs:eu-west-1:1:log-group:app:log-stream:x",
            True,
        ),
        ("*", "arn:aws:anything:::x", True),
    ],
)
def test_resource_arns_match_segment_by_segment(pattern, arn, expected):
    assert arn_matches(pattern, arn) is expected
    assert (
        decide(policy(allow("s3:GetObject", pattern)), "s3:GetObject", arn) == "allowed"
    ) is expected


def test_resource_list_matches_any_entry():
    p = policy(allow("s3:*", ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"]))
    assert decide(p, "s3:ListBucket", "arn:aws:s3:::bucket") == "allowed"
    assert decide(p, "s3:GetObject", "arn:aws:s3:::bucket/k") == "allowed"
    assert decide(p, "s3:GetObject", "arn:aws:s3:::other/k") == "implicitDeny"


def test_not_resource_with_allow_covers_every_other_resource():
    p = policy({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::payroll/*"})
    assert decide(p, "s3:GetObject", "arn:aws:s3:::public/a") == "allowed"
    assert decide(p, "s3:GetObject", "arn:aws:s3:::payroll/a") == "implicitDeny"


def test_not_resource_with_deny_denies_outside_the_listed_resources():
    p = policy(
        allow("s3:*"),
        {"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::team-*"]},
    )
    assert decide(p, "s3:PutObject", "arn:aws:s3:::team-red") == "allowed"
    assert decide(p, "s3:PutObject", "arn:aws:s3:::finance") == "explicitDeny"


def test_specific_resource_does_not_match_a_star_request():
    # actions without resource-level permissions are requested on "*"
    assert (
        decide(policy(allow("ec2:DescribeInstances", INSTANCE)), "ec2:DescribeInstances")
        == "implicitDeny"
    )


# --- policy variables in Resource -------------------------------------------------------

HOME = "arn:aws:s3:::home/${aws:username}/*"


def test_variable_in_resource_is_replaced_by_the_request_value():
    p = policy(allow("s3:GetObject", HOME))
    assert (
        decide(p, "s3:GetObject", "arn:aws:s3:::home/ana/cv.pdf", **{"aws:username": "ana"})
        == "allowed"
    )
    assert (
        decide(p, "s3:GetObject", "arn:aws:s3:::home/bo/cv.pdf", **{"aws:username": "ana"})
        == "implicitDeny"
    )


def test_variable_keys_ignore_case():
    p = policy(allow("s3:GetObject", "arn:aws:s3:::team-${aws:PrincipalTag/Team}"))
    assert (
        decide(p, "s3:GetObject", "arn:aws:s3:::team-red", **{"AWS:principaltag/team": "red"})
        == "allowed"
    )


def test_variable_without_a_value_matches_no_resource():
    p = policy(allow("s3:GetObject", HOME))
    assert decide(p, "s3:GetObject", "arn:aws:s3:::home//x") == "implicitDeny"


def test_variable_default_is_used_when_the_key_is_missing():
    p = policy(
        allow("s3:GetObject", "arn:aws:s3:::bucket-${aws:PrincipalTag/team, 'company-wide'}")
    )
    assert decide(p, "s3:GetObject", "arn:aws:s3:::bucket-company-wide") == "allowed"
    assert (
        decide(p, "s3:GetObject", "arn:aws:s3:::bucket-red", **{"aws:PrincipalTag/team": "red"})
        == "allowed"
    )
    assert (
        decide(
            p,
            "s3:GetObject",
            "arn:aws:s3:::bucket-company-wide",
            **{"aws:PrincipalTag/team": "red"},
        )
        == "implicitDeny"
    )


def test_variable_value_with_a_star_is_not_a_wildcard():
    p = policy(allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*"))
    assert (
        decide(p, "s3:GetObject", "arn:aws:s3:::home/ana/x", **{"aws:username": "*"})
        == "implicitDeny"
    )


def test_multivalued_key_cannot_be_a_variable():
    p = policy(allow("s3:GetObject", "arn:aws:s3:::home/${aws:TagKeys}/*"))
    assert (
        decide(p, "s3:GetObject", "arn:aws:s3:::home/a/x", **{"aws:TagKeys": ["a", "b"]})
        == "implicitDeny"
    )


def test_dollar_brace_is_literal_in_a_2008_policy():
    p = policy(allow("s3:GetObject", HOME), version="2008-10-17")
    assert (
        decide(p, "s3:GetObject", "arn:aws:s3:::home/ana/x", **{"aws:username": "ana"})
        == "implicitDeny"
    )
    assert decide(p, "s3:GetObject", "arn:aws:s3:::home/${aws:username}/x") == "allowed"


def test_not_resource_entry_with_an_unset_variable_excludes_nothing():
    p = policy({"Effect": "Allow", "Action": "s3:*", "NotResource": HOME})
    assert decide(p, "s3:GetObject", "arn:aws:s3:::home/ana/x") == "allowed"
    assert (
        decide(p, "s3:GetObject", "arn:aws:s3:::home/ana/x", **{"aws:username": "ana"})
        == "implicitDeny"
    )


# --- tags are context keys --------------------------------------------------------------


def test_resource_tag_condition_for_start_and_stop_only_on_own_team():
    p = policy(
        allow(
            ["ec2:StartInstances", "ec2:StopInstances"],
            f"arn:aws:ec2:*:{ACCOUNT}:instance/*",
            Condition={"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
        )
    )
    ctx = {"aws:PrincipalTag/team": "red"}
    assert (
        decide(p, "ec2:StopInstances", INSTANCE, **ctx, **{"aws:ResourceTag/team": "red"})
        == "allowed"
    )
    assert (
        decide(p, "ec2:StopInstances", INSTANCE, **ctx, **{"aws:ResourceTag/team": "blue"})
        == "implicitDeny"
    )
    assert decide(p, "ec2:StopInstances", INSTANCE, **ctx) == "implicitDeny"


# --- compiled policies and explanations -------------------------------------------------


def test_compiled_policy_gives_the_same_decision_for_repeated_requests():
    compiled = compile_policy(policy(allow("s3:Get*"), deny("s3:GetObjectAcl")))
    for _ in range(3):
        assert evaluate(compiled, Request("s3:GetObject", "*")).allowed
        assert evaluate(compiled, Request("s3:GetObjectAcl", "*")).decision == "explicitDeny"


def test_explain_names_the_denying_statement_and_policy():
    p = policy(
        allow("ec2:*"),
        deny("ec2:TerminateInstances", Sid="DenyTerminate"),
        name="operator-policy.json",
    )
    text = evaluate([p], Request("ec2:TerminateInstances", INSTANCE)).explain()
    assert text.startswith(
        "explicitDeny: statement Sid 'DenyTerminate' of operator-policy.json denies "
        f"ec2:TerminateInstances on {INSTANCE}."
    )


def test_explain_names_an_allowing_statement_without_sid_by_position():
    p = policy(allow("s3:PutObject"), allow("s3:GetObject"), name="p.json")
    text = evaluate([p], Request("s3:GetObject", "*")).explain()
    assert text.startswith("allowed: statement 2 of p.json allows s3:GetObject on *")


def test_explain_points_at_the_condition_that_failed():
    p = policy(
        allow(
            "ec2:StopInstances",
            Sid="Stop",
            Condition={"StringEquals": {"aws:ResourceTag/team": "red"}},
        ),
        name="op.json",
    )
    text = evaluate([p], Request("ec2:StopInstances", INSTANCE)).explain()
    assert text.startswith("implicitDeny: no identity policy (op.json) allows ec2:StopInstances")
    assert "Sid 'Stop'" in text and "StringEquals aws:ResourceTag/team" in text


def test_explain_points_at_the_resource_that_did_not_match():
    p = policy(allow("s3:GetObject", "arn:aws:s3:::reports/*", Sid="Reports"), name="r.json")
    text = evaluate([p], Request("s3:GetObject", "arn:aws:s3:::secrets/k")).explain()
    assert "Sid 'Reports'" in text and "only on arn:aws:s3:::reports/*" in text


def test_explain_with_no_policies_says_nothing_applies():
    text = evaluate([], Request("s3:GetObject", "*")).explain()
    assert text == "implicitDeny: no policy was given, so nothing allows s3:GetObject on *."


# --- one decision path with authorize() ---------------------------------------------------

_SAME_PATH_POLICIES = [
    policy(allow("ec2:*"), deny("ec2:TerminateInstances"), name="ops.json"),
    policy(
        allow(
            "ec2:StopInstances",
            f"arn:aws:ec2:*:{ACCOUNT}:instance/*",
            Condition={"StringEquals": {"aws:ResourceTag/team": "red"}},
        ),
        name="tagged.json",
    ),
    policy(
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::reports/*"},
        name="notaction.json",
    ),
]
_SAME_PATH_REQUESTS = [
    ("ec2:TerminateInstances", INSTANCE, {}),
    ("ec2:StopInstances", INSTANCE, {"aws:ResourceTag/team": "red"}),
    ("ec2:StopInstances", INSTANCE, {"aws:ResourceTag/team": "blue"}),
    ("iam:CreateUser", "*", {}),
    ("s3:GetObject", "arn:aws:s3:::reports/q1.csv", {}),
    ("s3:GetObject", "arn:aws:s3:::secrets/key", {}),
]


@pytest.mark.parametrize("chosen", [[0], [1], [2], [0, 1], [1, 2], [0, 1, 2], []])
def test_evaluate_decides_exactly_as_authorize_does_for_identity_policies(chosen):
    """evaluate() is authorize() with nothing but identity policies: same word, same
    statements, same reason, for an IAM user of the policies' account."""
    from grader.aws.iam.authorize import PolicySet, authorize
    from grader.aws.iam.principals import parse_principal

    policies = [_SAME_PATH_POLICIES[i] for i in chosen]
    caller = parse_principal(f"arn:aws:iam::{ACCOUNT}:user/dev")
    full = PolicySet(identity=policies)
    for action, resource, context in _SAME_PATH_REQUESTS:
        request = Request(action, resource, context=context)
        alone, whole = evaluate(policies, request), authorize(request, full, caller)
        assert (alone.decision, alone.matched, alone.decided_by, alone.why.reason) == (
            whole.decision,
            whole.matched,
            whole.decided_by,
            whole.why.reason,
        ), (action, resource, context)


def test_evaluate_returns_the_same_typed_decision_as_authorize():
    from grader.aws.iam.decision import AuthorizationDecision
    from grader.aws.iam.model import PolicyType
    from grader.aws.iam.reason import Reason

    d = evaluate([policy(deny("s3:*"))], Request("s3:GetObject", "*"))
    assert isinstance(d, AuthorizationDecision)
    assert d.why.reason is Reason.EXPLICIT_DENY and d.decided_by is PolicyType.IDENTITY
    assert evaluate([], Request("s3:GetObject", "*")).why.reason is Reason.IDENTITY


def test_evaluate_says_what_the_policy_grants_and_leaves_aws_exceptions_to_authorize():
    """A trust policy must allow sts:AssumeRole, and sts:GetCallerIdentity survives any
    Deny: both are about the caller and the resource, not about what a policy grants."""
    from grader.aws.iam.authorize import PolicySet, authorize
    from grader.aws.iam.principals import parse_principal

    caller = parse_principal(f"arn:aws:iam::{ACCOUNT}:user/dev")
    role = f"arn:aws:iam::{ACCOUNT}:role/admin"
    assume = Request("sts:AssumeRole", role)
    grants = policy(allow("sts:AssumeRole", role))
    assert evaluate([grants], assume).allowed
    assert authorize(assume, PolicySet(identity=[grants]), caller).decision == "implicitDeny"

    who = Request("sts:GetCallerIdentity", "*")
    denies = policy(deny("*"))
    assert evaluate([denies], who).decision == "explicitDeny"
    assert authorize(who, PolicySet(identity=[denies]), caller).allowed


def test_the_same_policy_in_a_new_list_is_not_compiled_again():
    p = policy(allow("s3:GetObject"))
    first = evaluate([p], Request("s3:GetObject", "*"))
    again = evaluate([p], Request("s3:PutObject", "*"))
    assert first.policies is again.policies
    other = policy(allow("s3:GetObject"))
    assert evaluate([other], Request("s3:GetObject", "*")).policies is not first.policies


def test_a_copy_of_a_compiled_policy_decides_by_its_own_statements():
    """The compiled policy's caches (statements per action, its PolicySet) are not copied
    by dataclasses.replace, so a copy never answers with the original's decisions."""
    import dataclasses

    allows = compile_policy(policy(allow("s3:*")))
    denies = compile_policy(policy(deny("s3:*")))
    request = Request("s3:GetObject", "*")
    assert evaluate(allows, request).decision == "allowed"  # fills the caches
    copy = dataclasses.replace(allows, policy=denies.policy, statements=denies.statements)
    assert evaluate(copy, request).decision == "explicitDeny"
