"""Condition operators, one question per documented rule."""

from __future__ import annotations

import pytest

from grader.aws.iam.evaluate import evaluate
from grader.aws.iam.policy import parse_policy
from grader.aws.iam.request import Request


def when(condition: dict, context: dict, version: str = "2012-10-17") -> bool:
    """Is s3:GetObject on * allowed by one Allow statement with ``condition``?"""
    policy = parse_policy(
        {
            "Version": version,
            "Statement": {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": condition,
            },
        }
    )
    return evaluate([policy], Request("s3:GetObject", "*", context=context)).allowed


# --- strings ----------------------------------------------------------------------------


def test_string_equals_is_case_sensitive():
    cond = {"StringEquals": {"aws:PrincipalTag/team": "red"}}
    assert when(cond, {"aws:PrincipalTag/team": "red"})
    assert not when(cond, {"aws:PrincipalTag/team": "Red"})


def test_condition_key_names_ignore_case():
    cond = {"StringEquals": {"AWS:principaltag/TEAM": "red"}}
    assert when(cond, {"aws:PrincipalTag/team": "red"})


def test_string_equals_ignore_case():
    cond = {"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "RED"}}
    assert when(cond, {"aws:PrincipalTag/team": "red"})
    assert not when(cond, {"aws:PrincipalTag/team": "blue"})


def test_string_not_equals_ignore_case():
    cond = {"StringNotEqualsIgnoreCase": {"aws:PrincipalTag/team": "RED"}}
    assert not when(cond, {"aws:PrincipalTag/team": "red"})
    assert when(cond, {"aws:PrincipalTag/team": "blue"})


def test_several_values_for_one_key_are_ored():
    cond = {"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}
    assert when(cond, {"aws:RequestedRegion": "eu-central-1"})
    assert not when(cond, {"aws:RequestedRegion": "us-east-1"})


def test_negated_operator_with_several_values_must_match_none_of_them():
    cond = {"StringNotEquals": {"aws:PrincipalAccount": ["111122223333", "444455556666"]}}
    assert not when(cond, {"aws:PrincipalAccount": "444455556666"})
    assert when(cond, {"aws:PrincipalAccount": "777788889999"})


def test_several_keys_in_one_block_are_anded():
    cond = {"StringEquals": {"aws:PrincipalTag/team": "red", "aws:PrincipalTag/role": "ops"}}
    assert when(cond, {"aws:PrincipalTag/team": "red", "aws:PrincipalTag/role": "ops"})
    assert not when(cond, {"aws:PrincipalTag/team": "red", "aws:PrincipalTag/role": "dev"})


def test_several_operator_blocks_are_anded():
    cond = {
        "StringEquals": {"aws:PrincipalTag/team": "red"},
        "Bool": {"aws:SecureTransport": "true"},
    }
    assert when(cond, {"aws:PrincipalTag/team": "red", "aws:SecureTransport": "true"})
    assert not when(cond, {"aws:PrincipalTag/team": "red", "aws:SecureTransport": "false"})


def test_string_like_wildcards_and_case():
    cond = {"StringLike": {"s3:prefix": ["home/*", "tmp/?"]}}
    assert when(cond, {"s3:prefix": "home/ana/notes.txt"})
    assert when(cond, {"s3:prefix": "tmp/x"})
    assert not when(cond, {"s3:prefix": "tmp/xy"})
    assert not when(cond, {"s3:prefix": "HOME/ana"})


def test_string_not_like():
    cond = {"StringNotLike": {"s3:prefix": "secret/*"}}
    assert when(cond, {"s3:prefix": "public/a"})
    assert not when(cond, {"s3:prefix": "secret/a"})


def test_string_equals_treats_star_literally():
    cond = {"StringEquals": {"s3:prefix": "home/*"}}
    assert not when(cond, {"s3:prefix": "home/ana"})
    assert when(cond, {"s3:prefix": "home/*"})


# --- missing keys -----------------------------------------------------------------------


def test_missing_key_makes_a_positive_operator_false():
    assert not when({"StringEquals": {"aws:PrincipalTag/team": "red"}}, {})


@pytest.mark.parametrize(
    "operator,value",
    [
        ("StringNotEquals", "red"),
        ("StringNotLike", "r*"),
        ("ArnNotLike", "arn:aws:iam::*:role/x"),
        ("NotIpAddress", "10.0.0.0/8"),
        ("NumericNotEquals", "1"),
    ],
)
def test_missing_key_makes_a_negated_operator_true(operator, value):
    # the condition-operators reference: "the right key is not present, the condition is true"
    assert when({operator: {"aws:SomeKey": value}}, {})


def test_if_exists_is_true_when_key_is_missing_and_tests_it_when_present():
    cond = {"StringLikeIfExists": {"ec2:InstanceType": ["t3.*"]}}
    assert when(cond, {})
    assert when(cond, {"ec2:InstanceType": "t3.micro"})
    assert not when(cond, {"ec2:InstanceType": "p4d.24xlarge"})


def test_negated_if_exists_is_true_when_key_is_missing():
    cond = {"StringNotEqualsIfExists": {"aws:ResourceTag/env": "prod"}}
    assert when(cond, {})
    assert not when(cond, {"aws:ResourceTag/env": "prod"})


def test_null_true_means_the_key_is_absent():
    cond = {"Null": {"aws:TokenIssueTime": "true"}}
    assert when(cond, {})
    assert not when(cond, {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"})


def test_null_false_means_the_key_is_present():
    cond = {"Null": {"aws:TokenIssueTime": False}}
    assert not when(cond, {})
    assert when(cond, {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"})


# --- numbers, dates, booleans, binary, IP -----------------------------------------------


@pytest.mark.parametrize(
    "operator,value,expected",
    [
        ("NumericEquals", "10", True),
        ("NumericEquals", "10.0", True),
        ("NumericNotEquals", "10", False),
        ("NumericLessThan", "10", False),
        ("NumericLessThanEquals", "10", True),
        ("NumericGreaterThan", "9.5", True),
        ("NumericGreaterThanEquals", "11", False),
    ],
)
def test_numeric_operators_compare_numbers(operator, value, expected):
    assert when({operator: {"s3:max-keys": value}}, {"s3:max-keys": "10"}) is expected


def test_numeric_operator_with_a_non_number_request_value_does_not_match():
    assert not when({"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "many"})


@pytest.mark.parametrize(
    "operator,value,expected",
    [
        ("DateEquals", "2024-03-01T12:00:00Z", True),
        ("DateNotEquals", "2024-03-01T12:00:00Z", False),
        ("DateLessThan", "2024-03-01T12:00:01Z", True),
        ("DateLessThanEquals", "2024-03-01", False),
        ("DateGreaterThan", "2024-03-01", True),
        ("DateGreaterThanEquals", "2024-03-01T13:00:00+01:00", True),
        ("DateLessThan", "1709294401", True),  # epoch seconds, one second later
        ("DateGreaterThan", "1709294401", False),
    ],
)
def test_date_operators_accept_iso_8601_and_epoch(operator, value, expected):
    ctx = {"aws:CurrentTime": "2024-03-01T12:00:00Z"}
    assert when({operator: {"aws:CurrentTime": value}}, ctx) is expected


def test_date_request_value_may_be_epoch_seconds():
    cond = {"DateLessThan": {"aws:EpochTime": "2024-03-01T00:00:00Z"}}
    assert when(cond, {"aws:EpochTime": "1709251199"})
    assert not when(cond, {"aws:EpochTime": "1709251200"})


def test_bool_operator():
    cond = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert when(cond, {"aws:MultiFactorAuthPresent": True})
    assert not when(cond, {"aws:MultiFactorAuthPresent": "false"})
    assert not when(cond, {})


def test_binary_equals_compares_decoded_bytes():
    cond = {"BinaryEquals": {"aws:SomeBlob": "aGVsbG8="}}  # b"hello"
    assert when(cond, {"aws:SomeBlob": "aGVsbG8="})
    assert not when(cond, {"aws:SomeBlob": "d29ybGQ="})


def test_ip_address_with_ipv4_and_ipv6_ranges():
    cond = {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8:1234:5678::/64"]}}
    assert when(cond, {"aws:SourceIp": "203.0.113.77"})
    assert when(cond, {"aws:SourceIp": "2001:DB8:1234:5678::9"})
    assert not when(cond, {"aws:SourceIp": "198.51.100.1"})
    assert not when(cond, {"aws:SourceIp": "2001:db8:1234:9999::1"})


def test_ip_address_without_prefix_means_one_address():
    cond = {"IpAddress": {"aws:SourceIp": "203.0.113.5"}}
    assert when(cond, {"aws:SourceIp": "203.0.113.5"})
    assert not when(cond, {"aws:SourceIp": "203.0.113.6"})


def test_not_ip_address():
    cond = {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
    assert when(cond, {"aws:SourceIp": "192.0.2.1"})
    assert not when(cond, {"aws:SourceIp": "10.1.2.3"})


# --- ARNs -------------------------------------------------------------------------------


def test_arn_like_matches_segment_by_segment():
    cond = {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:111122223333:alerts-*"}}
    assert when(cond, {"aws:SourceArn": "arn:aws:sns:eu-west-1:111122223333:alerts-high"})
    assert not when(cond, {"aws:SourceArn": "arn:aws:sns:eu-west-1:999999999999:alerts-high"})


def test_arn_like_star_does_not_cross_a_colon_where_string_like_does():
    pattern = "arn:aws:someservice:*:111122223333:finance/*"
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/doc.txt"
    assert when({"StringLike": {"aws:SourceArn": pattern}}, {"aws:SourceArn": value})
    assert not when({"ArnLike": {"aws:SourceArn": pattern}}, {"aws:SourceArn": value})


def test_arn_equals_behaves_like_arn_like():
    cond = {"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::logs-*"}}
    assert when(cond, {"aws:SourceArn": "arn:aws:s3:::logs-2024"})


def test_arn_not_like():
    cond = {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin"}}
    assert when(cond, {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/dev"})
    assert not when(cond, {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/admin"})


# --- set operators ----------------------------------------------------------------------

ALLOWED_TAGS = {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}}
FORBIDDEN_TAGS = {"ForAnyValue:StringEquals": {"aws:TagKeys": ["owner", "cost"]}}


def test_for_all_values_needs_every_request_value_in_the_policy_list():
    assert when(ALLOWED_TAGS, {"aws:TagKeys": ["team", "env"]})
    assert not when(ALLOWED_TAGS, {"aws:TagKeys": ["team", "owner"]})


def test_for_all_values_is_true_when_the_key_is_absent_or_empty():
    assert when(ALLOWED_TAGS, {})
    assert when(ALLOWED_TAGS, {"aws:TagKeys": []})


def test_for_any_value_needs_one_request_value_in_the_policy_list():
    assert when(FORBIDDEN_TAGS, {"aws:TagKeys": ["team", "cost"]})
    assert not when(FORBIDDEN_TAGS, {"aws:TagKeys": ["team", "env"]})


def test_for_any_value_is_false_when_the_key_is_absent_or_empty():
    assert not when(FORBIDDEN_TAGS, {})
    assert not when(FORBIDDEN_TAGS, {"aws:TagKeys": []})


def test_for_all_values_with_a_negated_operator_forbids_every_listed_value():
    cond = {"ForAllValues:StringNotEquals": {"aws:TagKeys": ["owner"]}}
    assert when(cond, {"aws:TagKeys": ["team", "env"]})
    assert not when(cond, {"aws:TagKeys": ["team", "owner"]})


def test_for_any_value_with_a_negated_operator_needs_one_unlisted_value():
    cond = {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["team"]}}
    assert when(cond, {"aws:TagKeys": ["team", "env"]})
    assert not when(cond, {"aws:TagKeys": ["team"]})


def test_for_any_value_string_like():
    cond = {"ForAnyValue:StringLike": {"aws:TagKeys": ["cost-*"]}}
    assert when(cond, {"aws:TagKeys": ["team", "cost-center"]})


def test_set_operator_with_if_exists_is_true_when_key_is_absent():
    cond = {"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": ["team"]}}
    assert when(cond, {})


def test_multivalued_key_without_set_operator_matches_if_any_value_does():
    cond = {"StringEquals": {"aws:TagKeys": "team"}}
    assert when(cond, {"aws:TagKeys": ["env", "team"]})
    assert not when({"StringNotEquals": {"aws:TagKeys": "team"}}, {"aws:TagKeys": ["env", "team"]})


# --- policy variables in condition values -----------------------------------------------


def test_variable_in_a_string_condition_value():
    cond = {"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}}
    assert when(cond, {"aws:username": "ana", "aws:ResourceTag/owner": "ana"})
    assert not when(cond, {"aws:username": "ana", "aws:ResourceTag/owner": "bo"})


def test_variable_without_a_value_matches_nothing_but_satisfies_a_negated_operator():
    eq = {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}
    ne = {"StringNotEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}
    assert not when(eq, {"aws:ResourceTag/team": "red"})
    assert when(ne, {"aws:ResourceTag/team": "red"})


def test_variable_with_a_default_uses_it_when_the_key_is_missing():
    cond = {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team, 'shared'}"}}
    assert when(cond, {"aws:ResourceTag/team": "shared"})
    assert when(cond, {"aws:ResourceTag/team": "red", "aws:PrincipalTag/team": "red"})
    assert not when(cond, {"aws:ResourceTag/team": "shared", "aws:PrincipalTag/team": "red"})


def test_variable_value_is_literal_even_in_string_like():
    # a tag value of "*" must not turn into a wildcard
    cond = {"StringLike": {"s3:prefix": "home/${aws:PrincipalTag/dir}/*"}}
    assert when(cond, {"s3:prefix": "home/ana/x", "aws:PrincipalTag/dir": "ana"})
    assert not when(cond, {"s3:prefix": "home/bo/x", "aws:PrincipalTag/dir": "*"})


def test_special_variables_stand_for_literal_characters():
    cond = {"StringLike": {"s3:prefix": "report${*}${?}${$}"}}
    assert when(cond, {"s3:prefix": "report*?$"})
    assert not when(cond, {"s3:prefix": "reportXY$"})


def test_variables_are_plain_text_in_a_2008_policy():
    cond = {"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}}
    ctx = {"aws:username": "ana", "aws:ResourceTag/owner": "ana"}
    assert not when(cond, ctx, version="2008-10-17")
    assert when(cond, {"aws:ResourceTag/owner": "${aws:username}"}, version="2008-10-17")


def test_variables_are_plain_text_when_version_is_missing():
    policy = parse_policy(
        {
            "Statement": {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:ResourceTag/owner": "${aws:username}"}},
            }
        }
    )
    ctx = {"aws:username": "ana", "aws:ResourceTag/owner": "ana"}
    assert not evaluate([policy], Request("s3:GetObject", "*", context=ctx)).allowed


def test_variables_are_not_substituted_in_numeric_values():
    cond = {"NumericEquals": {"s3:max-keys": "${aws:limit}"}}
    assert not when(cond, {"s3:max-keys": "5", "aws:limit": "5"})
