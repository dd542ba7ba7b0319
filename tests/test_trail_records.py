"""CloudTrail record helpers: who called, when, which service, denied or service-made."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from grader.aws.trail.records import (
    TrailRecordError,
    event_time,
    is_denied,
    is_read_only,
    is_service_made,
    principal_arn,
    principal_matches,
    role_arn_from_session,
    service_made_by,
    service_prefix,
    sort_records,
)

ROLE = "arn:aws:iam::111122223333:role/ci/deploy-role"
SESSION = "arn:aws:sts::111122223333:assumed-role/deploy-role/alice"


def session_record(session: str = "alice", issuer: bool = True, **extra) -> dict:
    ident = {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLE:{session}",
        "arn": f"arn:aws:sts::111122223333:assumed-role/deploy-role/{session}",
        "accountId": "111122223333",
    }
    if issuer:
        ident["sessionContext"] = {
            "sessionIssuer": {"type": "Role", "arn": ROLE, "userName": "deploy-role"}
        }
    return {
        "eventTime": "2021-05-19T10:01:02Z",
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeInstances",
        "userIdentity": ident,
        **extra,
    }


def test_role_session_is_attributed_to_its_role_with_path() -> None:
    assert principal_arn(session_record()) == ROLE


def test_role_is_derived_from_the_session_arn_without_session_context() -> None:
    assert principal_arn(session_record(issuer=False)) == (
        "arn:aws:iam::111122223333:role/deploy-role"
    )
    assert role_arn_from_session("arn:aws:iam::111122223333:user/bob") is None


def test_user_and_service_principals() -> None:
    user = {"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/bob"}}
    service = {"userIdentity": {"type": "AWSService", "invokedBy": "lambda.amazonaws.com"}}
    assert principal_arn(user) == "arn:aws:iam::111122223333:user/bob"
    assert principal_arn(service) is None


@pytest.mark.parametrize(
    ("principal", "record", "expected"),
    [
        (ROLE, session_record("alice"), True),
        (ROLE, session_record("bob", issuer=False), True),  # path-less derived role ARN
        ("arn:aws:iam::111122223333:role/deploy-role", session_record("bob"), True),
        (SESSION, session_record("alice"), True),
        (SESSION, session_record("bob"), False),  # a session ARN names one session only
        ("arn:aws:iam::111122223333:role/deploy", session_record("alice"), False),
        ("arn:aws:iam::999999999999:role/deploy-role", session_record("alice"), False),
        ("", session_record("alice"), False),
    ],
)
def test_principal_matches(principal: str, record: dict, expected: bool) -> None:
    assert principal_matches(record, principal) is expected


def test_role_name_prefix_is_not_a_match() -> None:
    record = session_record()
    record["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] = ROLE + "-canary"
    assert not principal_matches(record, ROLE)


def test_event_time_is_aware_utc() -> None:
    assert event_time(session_record()) == datetime(2021, 5, 19, 10, 1, 2, tzinfo=UTC)
    offset = session_record(eventTime="2021-05-19T19:01:02+09:00")
    assert event_time(offset) == datetime(2021, 5, 19, 10, 1, 2, tzinfo=UTC)


@pytest.mark.parametrize("value", ["yesterday", "", 17])
def test_bad_event_time_is_a_clear_error(value: object) -> None:
    with pytest.raises(TrailRecordError, match="time"):
        event_time(session_record(eventTime=value))
    with pytest.raises(TrailRecordError, match="no eventTime"):
        event_time({})


@pytest.mark.parametrize(
    ("source", "prefix"),
    [
        ("ec2.amazonaws.com", "ec2"),
        ("monitoring.amazonaws.com", "cloudwatch"),
        ("tagging.amazonaws.com", "tag"),
        ("runtime.lex.amazonaws.com", "lex"),
        ("elasticloadbalancing.amazonaws.com", "elasticloadbalancing"),
    ],
)
def test_service_prefix(source: str, prefix: str) -> None:
    assert service_prefix({"eventSource": source}) == prefix


def test_service_made_calls() -> None:
    invoked = session_record()
    invoked["userIdentity"]["invokedBy"] = "cloudformation.amazonaws.com"
    service_event = {"eventType": "AwsServiceEvent", "eventSource": "kms.amazonaws.com"}
    aws_service = {"userIdentity": {"type": "AWSService"}, "eventSource": "sts.amazonaws.com"}
    assert service_made_by(invoked) == "cloudformation.amazonaws.com"
    assert service_made_by(service_event) == "kms.amazonaws.com"
    assert is_service_made(aws_service)
    assert not is_service_made(session_record())


@pytest.mark.parametrize(
    ("code", "denied"),
    [
        ("AccessDenied", True),
        ("AccessDeniedException", True),
        ("Client.UnauthorizedOperation", True),
        ("UnauthorizedOperation", True),
        ("NoSuchKey", False),
        ("ThrottlingException", False),
        (None, False),
    ],
)
def test_denied_calls(code: str | None, denied: bool) -> None:
    record = session_record(**({"errorCode": code} if code else {}))
    assert is_denied(record) is denied


def test_read_only_and_sorting() -> None:
    assert is_read_only(session_record(readOnly=True)) is True
    assert is_read_only(session_record(readOnly="false")) is False
    assert is_read_only(session_record()) is None
    late = session_record(eventTime="2021-05-19T10:05:00Z", eventID="late")
    early = session_record(eventTime="2021-05-19T10:00:00Z", eventID="early")
    assert [r["eventID"] for r in sort_records([late, early])] == ["early", "late"]
