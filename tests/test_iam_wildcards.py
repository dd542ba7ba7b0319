"""IAM wildcards (``*`` any run, ``?`` one character) and hostile input to the engine.

Two questions. Do actions, ARNs and the StringLike/ArnLike operators keep IAM's matching
rules? And does input written to hurt (patterns that make a backtracking regex explode,
policies nested thousands of levels deep) get a quick answer or a clear error instead of
hanging the grader or raising RecursionError?

Times are never compared with a number of seconds: each hostile match is compared with a
simple match measured in the same run, so a slow or busy machine slows both alike.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from typing import Any

import pytest

from grader.aws.iam.arns import arn_matches, compile_arn_set
from grader.aws.iam.evaluate import compile_policy, evaluate
from grader.aws.iam.model import PolicyType
from grader.aws.iam.policy import MalformedPolicyError, parse_policy
from grader.aws.iam.request import Request
from grader.aws.iam.validate import validate_policy
from grader.aws.iam.wildcards import compile_globs, wildcard_match

V = "2012-10-17"
ACCOUNT = "111122223333"
BUCKET = "arn:aws:s3:::reports"


def policy(*statements: dict[str, Any], kind: PolicyType = PolicyType.IDENTITY):
    return parse_policy({"Version": V, "Statement": list(statements)}, kind=kind)


def allow(action: Any = "s3:GetObject", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def allowed(statement: dict[str, Any], request: Request) -> bool:
    return evaluate([policy(statement)], request).allowed


# --- semantics: the glob itself ---------------------------------------------------------


@pytest.mark.parametrize(
    "pattern,value,expected",
    [
        ("*", "", True),
        ("*", "anything at all", True),
        ("**", "anything", True),  # a run of stars is one star
        ("a**b", "ab", True),
        ("a**b", "axyzb", True),
        ("", "", True),  # an empty pattern matches only the empty string
        ("", "a", False),
        ("?", "a", True),
        ("?", "", False),
        ("?", "ab", False),
        ("??", "ab", True),
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("*?", "", False),  # a star then one character needs at least one
        ("*?*", "x", True),
        ("ab*ba", "aba", False),  # the suffix may not overlap the prefix
        ("ab*ba", "abba", True),
        ("*ab*ab*", "abab", True),
        ("*ab*ab*", "aab", False),
        ("*a*b*c", "xaybzc", True),
        ("*a*b*c", "cba", False),
        ("a*a*a", "aa", False),
        ("a*a*a", "aaa", True),
        ("*.txt", "notes.txt", True),
        ("*.txt", "notes-txt", False),  # "." is a literal, not "any character"
        ("(a+)[b]\\", "(a+)[b]\\", True),  # regex syntax is literal text
        ("(a+)[b]\\", "aa[b]\\", False),
        ("a*", "a\nb", True),  # a star spans newlines too
        ("a?b", "a\nb", True),
        ("café*", "café-au-lait", True),
        ("Get*", "getObject", False),  # case-sensitive unless asked
    ],
)
def test_the_glob_matches_the_whole_value(pattern, value, expected):
    assert wildcard_match(pattern, value) is expected
    assert compile_globs([pattern])(value) is expected


@pytest.mark.parametrize(
    "pattern,value,expected",
    [
        ("s3:Get*", "S3:GETOBJECT", True),
        ("S3:getobject", "s3:GetObject", True),
        ("s3:?etObject", "S3:GETOBJECT", True),
        ("s3:Get*", "s3:PutObject", False),
        ("s3:*OBJECT", "s3:getobject", True),
    ],
)
def test_actions_ignore_case(pattern, value, expected):
    assert wildcard_match(pattern, value, ignore_case=True) is expected
    request = Request(value, "*")
    assert allowed(allow(pattern), request) is expected


def test_several_patterns_match_when_any_does():
    matches = compile_globs(["s3:getobject", "ec2:describe*", "iam:?etrole"])
    assert matches("s3:getobject")
    assert matches("ec2:describeinstances")
    assert matches("iam:getrole")
    assert not matches("iam:passrole")
    assert not matches("s3:getobjectacl")


def test_an_action_list_mixing_exact_and_wildcard_names_matches_either():
    statement = allow(["s3:GetObject", "ec2:Describe*", "iam:?etRole", "sqs:*Message*"])
    for action in ("s3:getobject", "EC2:DescribeVpcs", "iam:GetRole", "sqs:ReceiveMessageBatch"):
        assert allowed(statement, Request(action, "*")), action
    for action in ("s3:GetObjectAcl", "ec2:RunInstances", "iam:PassRole", "sqs:SendBatch"):
        assert not allowed(statement, Request(action, "*")), action


# --- semantics: ARNs --------------------------------------------------------------------

INSTANCE = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0abc"


@pytest.mark.parametrize(
    "pattern,arn,expected",
    [
        (f"{BUCKET}/*", f"{BUCKET}/a/b:c.csv", True),  # the resource part spans / and :
        (f"{BUCKET}/*", BUCKET, False),
        (f"{BUCKET}/??.csv", f"{BUCKET}/q1.csv", True),
        (f"{BUCKET}/??.csv", f"{BUCKET}/q10.csv", False),
        ("arn:aws:ec2:*:*:instance/*", INSTANCE, True),
        ("arn:aws:ec2:eu-*-1:*:instance/*", INSTANCE, True),
        ("arn:aws:ec2:*-*-*:*:instance/*", INSTANCE, True),
        ("arn:aws:ec2:*:instance/*", INSTANCE, False),  # a field's star stops at its colon
        ("arn:aws:ec2:eu-west-1?*:instance/*", INSTANCE, False),  # so does a "?"
        ("arn:aws:ec2:*:*:INSTANCE/*", INSTANCE, False),  # ARNs are case-sensitive
        ("arn:aws:ec2::*:instance/*", INSTANCE, False),  # an empty field is empty
        ("arn:*:*:*:*:*", INSTANCE, True),
        ("arn:aws:ec2:eu-west-1:*", INSTANCE, True),  # the last field takes the rest
        ("arn:aws:ec2:eu-west-1:111122223333", INSTANCE, False),
        ("*", INSTANCE, True),
    ],
)
def test_arns_match_field_by_field(pattern, arn, expected):
    assert arn_matches(pattern, arn) is expected
    assert allowed(allow(resource=pattern), Request("s3:GetObject", arn)) is expected


@pytest.mark.parametrize(
    "pattern,user,arn,expected",
    [
        (f"{BUCKET}/${{aws:username}}/*", "alice", f"{BUCKET}/alice/q1.csv", True),
        (f"{BUCKET}/${{aws:username}}/*", "alice", f"{BUCKET}/bob/q1.csv", False),
        # a value is literal text: a user named "*" gets the folder "*", not every folder
        (f"{BUCKET}/${{aws:username}}/*", "*", f"{BUCKET}/bob/q1.csv", False),
        (f"{BUCKET}/${{aws:username}}/*", "*", f"{BUCKET}/*/q1.csv", True),
        (f"{BUCKET}/${{aws:username}}", "a?", f"{BUCKET}/ab", False),
        # ${*} and ${?} are the literal characters
        (f"{BUCKET}/${{*}}/*", "alice", f"{BUCKET}/*/x", True),
        (f"{BUCKET}/${{*}}/*", "alice", f"{BUCKET}/a/x", False),
        (f"{BUCKET}/*${{aws:username}}*", "ali", f"{BUCKET}/x-alice-y", True),
        # no value and no default: the entry matches nothing
        (f"{BUCKET}/${{aws:username}}/*", None, f"{BUCKET}/x/y", False),
        (f"{BUCKET}/${{aws:username, 'shared'}}/*", None, f"{BUCKET}/shared/y", True),
    ],
)
def test_arns_with_policy_variables(pattern, user, arn, expected):
    context = {"aws:username": user} if user is not None else {}
    matches = compile_arn_set([pattern], variables=True)
    assert matches(arn, Request("s3:GetObject", arn, context=context).keys) is expected
    request = Request("s3:GetObject", arn, context=context)
    assert allowed(allow(resource=pattern), request) is expected


def test_arn_lists_match_when_any_entry_does():
    matches = compile_arn_set([BUCKET, f"{BUCKET}/in/*", f"{BUCKET}/${{aws:username}}/*"], True)
    keys = Request("s3:GetObject", context={"aws:username": "alice"}).keys
    assert matches(BUCKET, keys)
    assert matches(f"{BUCKET}/in/x", keys)
    assert matches(f"{BUCKET}/alice/x", keys)
    assert not matches(f"{BUCKET}/out/x", keys)


# --- semantics: StringLike and ArnLike --------------------------------------------------


def condition_allows(operator: str, values: Any, context: dict[str, Any]) -> bool:
    statement = allow(Condition={operator: {"aws:PrincipalTag/project": values}})
    return allowed(statement, Request("s3:GetObject", "*", context=context))


def tag(*values: str) -> dict[str, Any]:
    return {"aws:PrincipalTag/project": list(values) if len(values) != 1 else values[0]}


@pytest.mark.parametrize(
    "operator,values,context,expected",
    [
        ("StringLike", ["web-*", "api-??"], tag("web-shop"), True),
        ("StringLike", ["web-*", "api-??"], tag("api-v2"), True),
        ("StringLike", ["web-*", "api-??"], tag("api-v10"), False),
        ("StringLike", ["web-*", "api-??"], tag("WEB-shop"), False),  # case-sensitive
        ("StringLike", "", tag(""), True),
        ("StringLike", "", tag("x"), False),
        ("StringLike", "web-*", {}, False),
        ("StringNotLike", ["web-*", "api-??"], tag("api-v10"), True),
        ("StringNotLike", ["web-*", "api-??"], tag("web-shop"), False),
        ("StringNotLike", "web-*", {}, True),
        ("StringLikeIfExists", "web-*", {}, True),
        ("StringLikeIfExists", "web-*", tag("db"), False),
        ("StringNotLikeIfExists", "web-*", tag("web-x"), False),
        ("ForAnyValue:StringLike", ["web-*"], tag("db", "web-x"), True),
        ("ForAllValues:StringLike", ["web-*"], tag("db", "web-x"), False),
        ("ForAllValues:StringLike", ["web-*", "db"], tag("db", "web-x"), True),
        ("StringLike", "${aws:username}-*", {**tag("alice-x"), "aws:username": "alice"}, True),
        ("StringLike", "${aws:username}-*", {**tag("alice-x"), "aws:username": "a*"}, False),
        ("StringLike", "${aws:username}", {**tag("a*"), "aws:username": "a*"}, True),
    ],
)
def test_string_like_and_its_variants(operator, values, context, expected):
    assert condition_allows(operator, values, context) is expected


ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"


def arn_condition_allows(operator: str, values: Any, source: str | None) -> bool:
    statement = allow(Condition={operator: {"aws:SourceArn": values}})
    context = {"aws:SourceArn": source} if source is not None else {}
    return allowed(statement, Request("s3:GetObject", "*", context=context))


@pytest.mark.parametrize(
    "operator,values,source,expected",
    [
        ("ArnLike", f"arn:aws:iam::{ACCOUNT}:role/*", ROLE, True),
        ("ArnLike", "arn:aws:iam::*:role/a??", ROLE, True),
        ("ArnLike", "arn:aws:iam:*:role/app", ROLE, False),  # stars stay in their field
        ("ArnLike", ["arn:aws:sns:*", "arn:aws:iam::*:role/*"], ROLE, True),
        ("ArnNotLike", "arn:aws:iam::*:role/*", ROLE, False),
        ("ArnNotLike", "arn:aws:iam::*:user/*", ROLE, True),
        ("ArnLikeIfExists", "arn:aws:iam::*:user/*", None, True),
        ("ArnNotLikeIfExists", "arn:aws:iam::*:role/*", ROLE, False),
    ],
)
def test_arn_like_and_its_variants(operator, values, source, expected):
    assert arn_condition_allows(operator, values, source) is expected


# --- hostile patterns -------------------------------------------------------------------

# A backtracking regex for "*a" x 50 tries every way to split a run of "a"s: minutes for
# 50 characters. Sizes grow so that an engine with the problem fails at the first one
# (milliseconds per match) instead of hanging on the last (the 50-character case).
HOSTILE_SIZES = (10, 50)
RATIO = 50  # a hostile match may cost this many simple ones, no more


def hostile_pattern(pieces: int) -> str:
    return "*a" * pieces


def hostile_value(pieces: int) -> str:
    """A run of "a"s ending in "b": never a match (the pattern ends in "a"), and a
    backtracking engine tries every way to spread the stars over the run first."""
    return "a" * min(2 * pieces, 49) + "b"


def cost_ratio(hostile: Callable[[], object], simple: Callable[[], object]) -> float:
    """How many times longer ``hostile()`` takes than ``simple()``: the best of several
    batches of each, taken in turns so that a busy moment slows both, and a pause in one
    batch does not decide the answer."""
    number, rounds = 100, 7
    simple_best = hostile_best = float("inf")
    for _ in range(rounds):
        simple_best = min(simple_best, timeit.timeit(simple, number=number))
        hostile_best = min(hostile_best, timeit.timeit(hostile, number=number))
        if hostile_best < simple_best * RATIO:
            break  # within budget once: the question is answered
    return hostile_best / simple_best


def assert_cheap(make: Callable[[int], tuple[Callable[[], object], Callable[[], object]]]):
    """For each size: the hostile call gives the expected answer within RATIO simple ones."""
    for pieces in HOSTILE_SIZES:
        hostile, simple = make(pieces)
        ratio = cost_ratio(hostile, simple)
        assert ratio < RATIO, f"{pieces} x '*a': {ratio:.0f} times a simple match"


def test_a_hostile_action_pattern_is_matched_quickly():
    def make(pieces: int):
        pattern = "s3:" + hostile_pattern(pieces)
        action = "s3:" + hostile_value(pieces)
        hostile = compile_policy(policy(allow(pattern))).statements[0].action
        simple = compile_policy(policy(allow("s3:Get*"))).statements[0].action
        assert not hostile(action.lower())
        assert not wildcard_match(pattern, action, ignore_case=True)
        return (
            lambda: (hostile(action.lower()), wildcard_match(pattern, action, ignore_case=True)),
            lambda: (simple("s3:getobject"), wildcard_match("s3:Get*", "s3:GetObject", True)),
        )

    assert_cheap(make)


def test_several_hostile_action_patterns_in_one_statement_are_matched_quickly():
    def make(pieces: int):
        evil = hostile_pattern(pieces)
        patterns = [f"s3:{evil}", f"s3:?{evil}", f"s3:{evil}c", f"*:{evil}*c", "s3:GetObject"]
        hostile = compile_policy(policy(allow(patterns))).statements[0].action
        simple = compile_policy(policy(allow(["s3:Get*", "s3:PutObject"]))).statements[0].action
        action = "s3:" + hostile_value(pieces)
        assert not hostile(action)
        return lambda: hostile(action), lambda: simple("s3:getobject")

    assert_cheap(make)


@pytest.mark.parametrize(
    "template",
    [
        f"{BUCKET}/{{evil}}",  # in the resource part
        f"arn:aws:ec2:{{evil}}:{ACCOUNT}:instance/i-0abc",  # in a field before it
        f"{BUCKET}/${{aws:username}}/{{evil}}",  # with a policy variable
    ],
    ids=["resource-part", "region-field", "with-variable"],
)
def test_a_hostile_resource_pattern_is_matched_quickly(template):
    def make(pieces: int):
        evil = hostile_pattern(pieces)
        pattern = template.replace("{evil}", evil)
        arn = template.replace("${aws:username}", "alice").replace("{evil}", hostile_value(pieces))
        context = {"aws:username": "alice"}
        hostile_policy = policy(allow(resource=[pattern, pattern + "c", f"{BUCKET}/x"]))
        simple_policy = policy(allow(resource=[f"{BUCKET}/*", f"{BUCKET}/x"]))
        hostile = Request("s3:GetObject", arn, context=context)
        simple = Request("s3:GetObject", f"{BUCKET}/q1.csv", context=context)
        assert not evaluate([hostile_policy], hostile).allowed
        assert not arn_matches(pattern.replace("${aws:username}", "alice"), arn)
        return (
            lambda: evaluate([hostile_policy], hostile),
            lambda: evaluate([simple_policy], simple),
        )

    assert_cheap(make)


@pytest.mark.parametrize(
    "operator,prefix,matches",
    [
        ("StringLike", "", False),
        ("StringNotLike", "", True),
        ("StringLikeIfExists", "", False),
        ("ForAnyValue:StringLike", "", False),
        ("ForAllValues:StringNotLike", "", True),
        ("StringLike", "${aws:username}", False),
        ("ArnLike", f"arn:aws:iam::{ACCOUNT}:role/", False),
        ("ArnNotLikeIfExists", f"arn:aws:iam::{ACCOUNT}:role/", True),
    ],
)
def test_a_hostile_condition_value_is_matched_quickly(operator, prefix, matches):
    key = "aws:SourceArn" if "Arn" in operator else "aws:PrincipalTag/project"
    base = prefix.replace("${aws:username}", "alice")

    def make(pieces: int):
        evil = hostile_pattern(pieces)
        values = [prefix + evil, prefix + "?" + evil, prefix + evil + "c"]
        hostile_policy = policy(allow(Condition={operator: {key: values}}))
        simple_policy = policy(allow(Condition={operator: {key: [base + "web-*"]}}))
        context = {"aws:username": "alice"}
        hostile = Request("s3:GetObject", context={**context, key: base + hostile_value(pieces)})
        simple = Request("s3:GetObject", context={**context, key: base + "web-shop"})
        assert evaluate([hostile_policy], hostile).allowed is matches
        return (
            lambda: evaluate([hostile_policy], hostile),
            lambda: evaluate([simple_policy], simple),
        )

    assert_cheap(make)


# --- hostile nesting --------------------------------------------------------------------

NESTING = 5000  # far deeper than Python's recursion limit


def nested(levels: int, leaf: Any = "x", key: str = "a") -> Any:
    value = leaf
    for _ in range(levels):
        value = {key: value}
    return value


@pytest.mark.parametrize(
    "statement,kind,path",
    [
        (
            allow(Condition={"StringEquals": {"aws:username": nested(NESTING)}}),
            PolicyType.IDENTITY,
            "Statement[0].Condition.StringEquals.aws:username",
        ),
        (allow(Condition=nested(NESTING)), PolicyType.IDENTITY, "Statement[0].Condition.a.a"),
        (
            allow(Principal=nested(NESTING, key="AWS")),
            PolicyType.RESOURCE,
            "Statement[0].Principal.AWS",
        ),
        (
            allow(NotPrincipal={"AWS": [nested(NESTING)]}),
            PolicyType.RESOURCE,
            "Statement[0].NotPrincipal.AWS",
        ),
    ],
    ids=["condition-value", "condition", "principal", "not-principal"],
)
def test_a_policy_nested_thousands_of_levels_is_malformed_at_a_path(statement, kind, path):
    document = {"Version": V, "Statement": [statement]}
    with pytest.raises(MalformedPolicyError) as info:
        parse_policy(document, kind=kind)
    assert info.value.message == "Syntax errors in policy."
    assert info.value.json_path == path


def test_a_policy_that_contains_itself_is_malformed_not_endless():
    principal: dict[str, Any] = {}
    principal["AWS"] = [principal]
    document = {"Version": V, "Statement": [allow(Principal=principal)]}
    with pytest.raises(MalformedPolicyError) as info:
        parse_policy(document, kind=PolicyType.RESOURCE)
    assert info.value.json_path == "Statement[0].Principal.AWS"


@pytest.mark.parametrize(
    "statement,kind,path",
    [
        (
            allow(Condition={"StringEquals": {"aws:username": nested(NESTING)}}),
            "identity",
            ("Statement", 0, "Condition", "StringEquals", "aws:username"),
        ),
        (
            allow(Principal=nested(NESTING, key="AWS")),
            "resource",
            ("Statement", 0, "Principal", "AWS"),
        ),
        (allow(Sid=nested(NESTING)), "identity", ("Statement", 0, "Sid")),
    ],
    ids=["condition-value", "principal", "sid"],
)
def test_the_validator_reports_deep_nesting_as_a_finding_at_a_path(statement, kind, path):
    findings = validate_policy({"Version": V, "Statement": [statement]}, kind)
    assert [f.issue_code for f in findings] == ["DATA_TYPE_MISMATCH"]
    (location,) = findings[0].locations
    assert tuple(value for _, value in location.path) == path
    assert "nest at most" in findings[0].finding_details


def test_the_validator_reports_a_self_containing_policy_as_a_finding():
    document: dict[str, Any] = {"Version": V}
    document["Statement"] = [allow(Condition={"StringEquals": {"aws:username": document}})]
    findings = validate_policy(document)
    assert [f.issue_code for f in findings] == ["DATA_TYPE_MISMATCH"]


def test_shallow_wrong_shapes_keep_their_own_findings():
    """The depth limit is far above IAM's grammar, so ordinary mistakes read as before."""
    statement = allow(Condition={"StringEquals": {"aws:username": nested(3)}})
    findings = validate_policy({"Version": V, "Statement": [statement]})
    assert [f.issue_code for f in findings] == ["DATA_TYPE_MISMATCH"]
    assert findings[0].finding_details == "aws:username should be a string, number or Boolean."
