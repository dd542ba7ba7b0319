"""Typed answers about one CloudTrail record (a plain ``dict`` as CloudTrail writes it).

Records stay dicts so that a learner's code, a test and this engine all read the same
JSON; these helpers only answer the questions a policy generator asks: who called, when,
which service, was it denied, was it really an AWS service acting. Field meanings follow
"CloudTrail record contents" and "CloudTrail userIdentity element" in the CloudTrail User
Guide (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from ..errors import GraderError
from .sources import prefix_for_source

Record = Mapping[str, Any]

# eventType values (CloudTrail record contents; "Non-API events captured by CloudTrail").
API_CALL = "AwsApiCall"
SERVICE_EVENT = "AwsServiceEvent"
CONSOLE_SIGN_IN = "AwsConsoleSignIn"
CONSOLE_ACTION = "AwsConsoleAction"

# errorCode values that mean "the caller's permissions refused this call". Sources:
# CloudTrail log file examples (AccessDenied), the EC2 API error codes
# (UnauthorizedOperation, recorded by CloudTrail as Client.UnauthorizedOperation), the
# Lambda/KMS/DynamoDB API references (AccessDeniedException) and SNS (AuthorizationError).
DENIED_ERROR_CODES: frozenset[str] = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "AuthorizationError",
        "AuthorizationErrorException",
        "Forbidden",
        "ForbiddenException",
        "NotAuthorized",
        "NotAuthorizedException",
    }
)

_SESSION = re.compile(
    r"^arn:(?P<partition>aws[\w-]*):sts::(?P<account>\d{12}):assumed-role/(?P<role>[^/]+)/(?P<session>.+)$"
)
_ROLE = re.compile(
    r"^arn:(?P<partition>aws[\w-]*):iam::(?P<account>\d{12}):role/(?:.*/)?(?P<role>[^/]+)$"
)


class TrailRecordError(GraderError, ValueError):
    """A record lacks a field the question needs, or holds a value of the wrong form."""


def identity(record: Record) -> Mapping[str, Any]:
    """The ``userIdentity`` element, or an empty mapping when the record has none."""
    value = record.get("userIdentity")
    return value if isinstance(value, Mapping) else {}


def parse_time(value: str | datetime) -> datetime:
    """A timezone-aware UTC datetime from CloudTrail's ``2021-05-19T10:01:02Z`` (or ISO 8601
    with an offset or fractions; a naive datetime is taken as UTC)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not isinstance(value, str):
        raise TrailRecordError(f"a time must be a string, not {type(value).__name__}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise TrailRecordError(
            f"{value!r} is not an ISO 8601 time such as 2021-05-19T10:01:02Z"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def format_time(moment: datetime) -> str:
    """CloudTrail's own spelling of a time: UTC, whole seconds, ``Z``."""
    return parse_time(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_time(record: Record) -> datetime:
    """When the request completed (``eventTime``), as an aware UTC datetime."""
    if "eventTime" not in record:
        raise TrailRecordError("the record has no eventTime")
    return parse_time(record["eventTime"])


def event_key(record: Record) -> tuple[str, str]:
    """``(eventSource, eventName)``: what was called, the unit markers and mappings use."""
    return str(record.get("eventSource", "")), str(record.get("eventName", ""))


def service_prefix(record: Record) -> str:
    """The IAM service prefix of the record's ``eventSource`` (``ec2``, ``cloudwatch``, ...)."""
    source = record.get("eventSource")
    if not isinstance(source, str) or not source:
        raise TrailRecordError("the record has no eventSource")
    return prefix_for_source(source)


def role_arn_from_session(arn: str) -> str | None:
    """``arn:aws:sts::111122223333:assumed-role/Deploy/job-42`` -> the role's IAM ARN.

    The session ARN carries no role path, so this gives ``role/Deploy``; prefer the record's
    ``sessionContext.sessionIssuer.arn`` when it exists (``principal_arn`` does).
    """
    match = _SESSION.match(arn)
    if match is None:
        return None
    return f"arn:{match['partition']}:iam::{match['account']}:role/{match['role']}"


def principal_arn(record: Record) -> str | None:
    """The ARN of the IAM identity whose permissions the call used.

    For a role session that is the role (``sessionIssuer``), not the session, because a
    policy is attached to the role. None for AWS services, anonymous callers and identities
    CloudTrail records without an ARN.
    """
    ident = identity(record)
    kind = ident.get("type")
    if kind == "AWSService":
        return None
    if kind == "AssumedRole":
        issuer = ident.get("sessionContext", {}).get("sessionIssuer", {})
        if isinstance(issuer, Mapping) and issuer.get("arn"):
            return str(issuer["arn"])
        arn = ident.get("arn")
        return role_arn_from_session(arn) if isinstance(arn, str) else None
    arn = ident.get("arn")
    return str(arn) if arn else None


def session_arn(record: Record) -> str | None:
    """The caller's own ARN as recorded (for a role, the session: ``assumed-role/R/s``)."""
    arn = identity(record).get("arn")
    return str(arn) if arn else None


def _role_name(arn: str) -> tuple[str, str] | None:
    match = _ROLE.match(arn) or _SESSION.match(arn)
    return (match["account"], match["role"]) if match else None


def principal_matches(record: Record, principal: str) -> bool:
    """Whether the record was made by ``principal``.

    ``principal`` may be a role ARN (every session of the role matches, with or without the
    role's path), a session ARN (only that session), or a user or root ARN (exact).
    """
    if not principal:
        return False
    if _SESSION.match(principal):
        return session_arn(record) == principal
    caller = principal_arn(record)
    if caller is None:
        return False
    if caller == principal:
        return True
    wanted = _role_name(principal) if _ROLE.match(principal) else None
    return wanted is not None and _ROLE.match(caller) is not None and _role_name(caller) == wanted


def service_made_by(record: Record) -> str | None:
    """The AWS service that made the call (``cloudformation.amazonaws.com``), else None.

    A service acts when the event is an ``AwsServiceEvent``, when the identity is an
    ``AWSService``, or when ``userIdentity.invokedBy`` names the service that sent the request
    on someone's behalf.
    """
    ident = identity(record)
    invoked = ident.get("invokedBy")
    if isinstance(invoked, str) and invoked:
        return invoked
    if ident.get("type") == "AWSService" or record.get("eventType") == SERVICE_EVENT:
        source = record.get("eventSource")
        return str(source) if source else "an AWS service"
    return None


def is_service_made(record: Record) -> bool:
    """Whether an AWS service, not the principal itself, made the call."""
    return service_made_by(record) is not None


def error_code(record: Record) -> str | None:
    """The record's ``errorCode`` (present only when the call failed)."""
    code = record.get("errorCode")
    return str(code) if code else None


def is_denied(record: Record) -> bool:
    """Whether the call failed for lack of permission (``AccessDenied``,
    ``Client.UnauthorizedOperation``, ...), as opposed to another error or success."""
    code = error_code(record)
    if code is None:
        return False
    return code.removeprefix("Client.").removeprefix("Server.") in DENIED_ERROR_CODES


def is_read_only(record: Record) -> bool | None:
    """The record's ``readOnly`` flag; None when CloudTrail did not set one."""
    value = record.get("readOnly")
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def sort_records(records: Iterable[Record]) -> list[Record]:
    """Records in time order; CloudTrail files are not ordered, and equal times keep the
    order they were read in."""
    return sorted(records, key=event_time)


def record_id(record: Record) -> str:
    """A stable identity for a record: its ``eventID``, else its request ID and time."""
    event_id = record.get("eventID")
    if event_id:
        return str(event_id)
    return f"{record.get('requestID', '')}@{record.get('eventTime', '')}:{event_key(record)}"
