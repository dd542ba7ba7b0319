"""Parsing IAM policies: the model we build and the errors IAM would give."""

from __future__ import annotations

import json

import pytest

from grader.aws.iam.model import PolicyType
from grader.aws.iam.policy import MalformedPolicyError, parse_policy


def doc(*statements: dict, version: str | None = "2012-10-17", **top: object) -> dict:
    out: dict = {"Statement": list(statements), **top}
    if version is not None:
        out["Version"] = version
    return out


def allow(**extra: object) -> dict:
    return {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", **extra}


def error_of(document: object, **kwargs: object) -> MalformedPolicyError:
    with pytest.raises(MalformedPolicyError) as info:
        parse_policy(document, **kwargs)  # type: ignore[arg-type]
    return info.value


# --- what a valid policy becomes --------------------------------------------------------


def test_json_text_and_decoded_object_parse_to_the_same_statements():
    d = doc(allow(Sid="Read"))
    assert parse_policy(json.dumps(d)).statements == parse_policy(d).statements


def test_single_statement_object_is_accepted_like_a_one_item_list():
    single = {"Version": "2012-10-17", "Statement": allow()}
    policy = parse_policy(single, name="one.json")
    assert len(policy.statements) == 1
    assert policy.statements[0].action == ("s3:GetObject",)
    assert policy.name == "one.json"


def test_strings_become_one_item_tuples_and_lists_keep_their_order():
    st = parse_policy(
        doc({"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "NotResource": "arn:aws:s3:::b"})
    ).statements[0]
    assert st.action is None and st.not_action == ("iam:*", "sts:*")
    assert st.resource is None and st.not_resource == ("arn:aws:s3:::b",)
    assert st.effect == "Deny"


def test_condition_numbers_and_booleans_become_iam_strings():
    st = parse_policy(
        doc(
            allow(
                Condition={
                    "Bool": {"aws:SecureTransport": True},
                    "NumericLessThanEquals": {"s3:max-keys": [10, 2.5]},
                }
            )
        )
    ).statements[0]
    assert st.condition["Bool"]["aws:SecureTransport"] == ("true",)
    assert st.condition["NumericLessThanEquals"]["s3:max-keys"] == ("10", "2.5")


def test_version_and_id_are_kept_and_version_may_be_missing():
    p = parse_policy(doc(allow(), Id="lab3"))
    assert (p.version, p.id) == ("2012-10-17", "lab3")
    assert parse_policy(doc(allow(), version=None)).version is None
    assert parse_policy(doc(allow(), version="2008-10-17")).version == "2008-10-17"


def test_statement_label_uses_sid_else_its_position():
    p = parse_policy(doc(allow(Sid="Read"), allow()))
    assert [s.label for s in p.statements] == ["Sid 'Read'", "statement 2"]


def test_resource_policy_keeps_principal_as_written():
    principal = {"AWS": ["arn:aws:iam::111122223333:root"]}
    st = parse_policy(doc(allow(Principal=principal)), kind="resource").statements[0]
    assert st.principal == principal and st.not_principal is None


# --- MalformedPolicyDocument messages ---------------------------------------------------


def test_invalid_json_is_a_syntax_error_with_line_and_column():
    err = error_of('{\n  "Version": "2012-10-17",\n  "Statement": [,]\n}')
    assert err.message == "Syntax errors in policy."
    assert (err.line, err.column) == (3, 17)


@pytest.mark.parametrize(
    "document",
    [
        [allow()],  # not an object
        doc(),  # empty statement list
        {"Version": "2012-10-17", "Statement": "s3:GetObject"},
        doc("not a statement"),
        doc(allow(Action=["s3:GetObject", 3])),
        doc(allow(Resource={"arn": "x"})),
        doc(allow(Condition=["StringEquals"])),
        doc(allow(Condition={"StringEquals": {"aws:username": {"nested": "x"}}})),
        doc(allow(Effect="Permit")),
        doc(allow(Sid=7)),
    ],
)
def test_wrong_shapes_are_syntax_errors(document):
    assert error_of(document).message == "Syntax errors in policy."


def test_action_and_notaction_together_is_a_syntax_error():
    err = error_of(doc(allow(NotAction="s3:PutObject")))
    assert err.message == "Syntax errors in policy."
    assert err.json_path == "Statement[0].NotAction"


def test_resource_and_notresource_together_is_a_syntax_error():
    assert error_of(doc(allow(NotResource="arn:aws:s3:::b"))).message == "Syntax errors in policy."


def test_unknown_version_is_reported_as_needing_2012():
    err = error_of(doc(allow(), version="2012-10-18"))
    assert err.message == "Policy document must be version 2012-10-17 or greater."
    assert err.json_path == "Version"


def test_missing_effect_is_named():
    err = error_of(doc({"Action": "s3:GetObject", "Resource": "*"}))
    assert err.message == "Missing required field Effect"
    assert err.json_path == "Statement[0].Effect"


def test_lowercase_effect_fails_legacy_parsing():
    assert error_of(doc(allow(Effect="allow"))).message == "The policy failed legacy parsing"


def test_unknown_statement_field_is_named():
    err = error_of(doc(allow(), allow(Actions="s3:*")))
    assert err.message == "Unknown field Actions"
    assert err.json_path == "Statement[1].Actions"


def test_unknown_top_level_field_is_named():
    assert error_of(doc(allow(), Statements=[])).message == "Unknown field Statements"


def test_missing_actions():
    err = error_of(doc({"Effect": "Allow", "Resource": "*"}))
    assert err.message == "Policy statement must contain actions."
    assert error_of(doc(allow(Action=[]))).message == "Policy statement must contain actions."


def test_missing_resources_in_identity_policy():
    err = error_of(doc({"Effect": "Allow", "Action": "s3:GetObject"}))
    assert err.message == "Policy statement must contain resources."


def test_resource_policy_may_leave_resource_out():
    st = {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish"}
    assert parse_policy(doc(st), kind="resource").statements[0].resource is None


def test_duplicate_sid():
    err = error_of(doc(allow(Sid="Read"), allow(Sid="Read")))
    assert err.message == "Statement IDs (SID) in a single policy must be unique."
    assert err.json_path == "Statement[1].Sid"


def test_identity_policy_sid_must_be_alphanumeric():
    err = error_of(doc(allow(Sid="read-objects")))
    assert err.message.startswith("Statement IDs (SID) must be alpha-numeric.")


def test_principal_in_identity_policy():
    err = error_of(doc(allow(Principal={"AWS": "*"})))
    assert err.message == "Policy document should not specify a principal."
    assert err.json_path == "Statement[0].Principal"


def test_resource_policy_needs_a_principal():
    err = error_of(doc(allow()), kind="resource")
    assert err.message == "Missing required field Principal"


@pytest.mark.parametrize("policy_type", list(PolicyType))
def test_each_policy_type_parses_with_its_grammar(policy_type):
    """RCPs are written like resource-based policies; SCPs, boundaries and session policies
    like identity policies."""
    with_principal = doc(allow(Principal="*", Sid="Any-text"))
    if policy_type in (PolicyType.RESOURCE, PolicyType.RCP):
        assert parse_policy(with_principal, kind=policy_type).statements[0].principal == "*"
        assert error_of(doc(allow()), kind=policy_type).message.startswith("Missing required")
    else:
        err = error_of(with_principal, kind=policy_type)
        assert err.message == "Policy document should not specify a principal."
        assert parse_policy(doc(allow()), kind=policy_type).statements[0].principal is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("identity", PolicyType.IDENTITY),
        ("SCP", PolicyType.SCP),
        ("session", PolicyType.SESSION),
        ("IDENTITY_POLICY", PolicyType.IDENTITY),
        ("RESOURCE_POLICY", PolicyType.RESOURCE),
        ("SERVICE_CONTROL_POLICY", PolicyType.SCP),
        ("RESOURCE_CONTROL_POLICY", PolicyType.RCP),
        (PolicyType.BOUNDARY, PolicyType.BOUNDARY),
    ],
)
def test_a_policy_type_is_read_from_any_of_its_spellings(name, expected):
    assert PolicyType.parse(name) is expected


def test_a_policy_type_has_a_label_and_an_access_analyzer_name():
    assert [(t.value, t.label, t.analyzer_name) for t in PolicyType] == [
        ("identity", "identity policy", "IDENTITY_POLICY"),
        ("resource", "resource-based policy", "RESOURCE_POLICY"),
        ("boundary", "permissions boundary", "IDENTITY_POLICY"),
        ("scp", "SCP", "SERVICE_CONTROL_POLICY"),
        ("rcp", "RCP", "RESOURCE_CONTROL_POLICY"),
        ("session", "session policy", "IDENTITY_POLICY"),
    ]
    with pytest.raises(ValueError, match="Unknown policy type 'identity_policy'"):
        PolicyType.parse("identity_policy")


def test_action_without_vendor():
    err = error_of(doc(allow(Action="GetObject")))
    assert (
        err.message == "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
    )


def test_condition_key_without_vendor():
    err = error_of(doc(allow(Condition={"StringEquals": {"username": "bob"}})))
    assert (
        err.message == "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
    )
    assert err.json_path == "Statement[0].Condition.StringEquals.username"


def test_action_with_two_colons():
    err = error_of(doc(allow(Action="s3:Get:Object")))
    assert err.message == "Actions/Condition can contain only one colon."


def test_vendor_with_bad_characters():
    assert error_of(doc(allow(Action="s 3:GetObject"))).message == "Vendor s 3 is not valid"


def test_resource_not_in_arn_format():
    err = error_of(doc(allow(Resource="my-bucket")))
    assert err.message == 'Resource my-bucket must be in ARN format or "*".'
    assert err.json_path == "Statement[0].Resource"


def test_unknown_partition():
    err = error_of(doc(allow(Resource="arn:amazon:s3:::b")))
    assert err.message == 'Partition "amazon" is not valid for resource "arn:amazon:s3:::b".'


def test_iam_resource_with_region():
    err = error_of(doc(allow(Resource="arn:aws:iam:us-east-1:111122223333:user/bob")))
    assert err.message == (
        "IAM resource arn:aws:iam:us-east-1:111122223333:user/bob cannot contain region "
        "information."
    )


def test_s3_resource_with_region():
    err = error_of(doc(allow(Resource="arn:aws:s3:us-east-1::bucket")))
    assert (
        err.message == "Resource arn:aws:s3:us-east-1::bucket can not contain region information."
    )


def test_unknown_condition_operator():
    err = error_of(doc(allow(Condition={"StringEqualz": {"aws:username": "bob"}})))
    assert err.message == "Invalid Condition type : StringEqualz."
    assert err.json_path == "Statement[0].Condition.StringEqualz"


def test_null_has_no_ifexists_form():
    err = error_of(doc(allow(Condition={"NullIfExists": {"aws:username": "true"}})))
    assert err.message == "Invalid Condition type : NullIfExists."


def test_set_operator_and_ifexists_are_accepted_together():
    cond = {"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["team*"]}}
    assert parse_policy(doc(allow(Condition=cond))).statements[0].condition == {
        "ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ("team*",)}
    }


def test_bad_date_in_condition_fails_legacy_parsing():
    cond = {"DateGreaterThan": {"aws:CurrentTime": "next tuesday"}}
    assert error_of(doc(allow(Condition=cond))).message == "The policy failed legacy parsing"


def test_syntax_error_is_reported_before_later_checks():
    # both a duplicate Sid and a bad Effect: IAM reports the syntax error first
    err = error_of(doc(allow(Sid="A"), allow(Sid="A", Effect=1)))
    assert err.message == "Syntax errors in policy."


def test_iam_resource_must_name_a_known_resource_type():
    err = error_of(doc(allow(Resource="arn:aws:iam::111122223333:people/bob")))
    assert err.message.startswith('IAM resource path must either be "*" or start with user/, ')


def test_missing_statement_is_named():
    assert error_of({"Version": "2012-10-17"}).message == "Missing required field Statement"


def test_the_error_says_where_and_names_the_code_as_iam_does():
    err = error_of(doc({"Action": "s3:GetObject", "Resource": "*"}))
    assert str(err) == "Statement[0].Effect: MalformedPolicyDocument: Missing required field Effect"


def test_a_policy_file_error_names_the_file(tmp_path):
    from grader.aws.iam import load_policy_file

    path = tmp_path / "p.json"
    path.write_text(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}'
    )
    with pytest.raises(MalformedPolicyError) as info:
        load_policy_file(path)
    assert str(info.value) == (
        f"{path} at Statement[0]: MalformedPolicyDocument: Policy statement must contain resources."
    )


def test_json_nested_deeper_than_python_reads_is_a_syntax_error():
    deep = '{"Version": "2012-10-17", "Statement": ' + "[" * 5000 + "]" * 5000 + "}"
    assert error_of(deep).message == "Syntax errors in policy."


def test_a_document_far_larger_than_any_aws_policy_is_refused_with_its_size():
    """Whether given as text or as a decoded object, a multi-megabyte document is an input
    error naming its size, not minutes of work."""
    from grader.aws.iam.policy import MalformedPolicyError, parse_policy

    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    huge = {"Version": "2012-10-17", "Statement": [statement] * 30_000}
    for document in (huge, json.dumps(huge)):
        with pytest.raises(
            MalformedPolicyError, match=r"too large to read \(1,[0-9,]+ characters\)"
        ):
            parse_policy(document)
    # a large but real-sized policy still parses
    parse_policy({"Version": "2012-10-17", "Statement": [statement] * 100})
