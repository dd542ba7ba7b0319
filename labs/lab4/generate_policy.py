"""A least-privilege policy from a CloudTrail trail: what one role did between two markers.

Lab 4, task 1. Complete ``generate(records, principal_arn)``. The grader calls it on trails it
generates at every run (other roles, Regions, days and services than data/trail), so make it
work from the records, never from names you read in the shipped trail.

Plain Python only: no AWS SDK, no network, and no ``import grader`` (your file must work on
its own). Try it on the shipped trail:

    python labs/lab4/generate_policy.py labs/lab4/data/trail \\
        arn:aws:iam::123456789012:role/deploy-role

Each record is a dict exactly as CloudTrail writes it (eventTime, eventSource, eventName,
userIdentity, readOnly, ...). See docs/least-privilege/lab4.md, task 1.
"""

from __future__ import annotations

import gzip
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

MARKER_COUNT = 3  # the same harmless call three times in a row...
MARKER_SPAN = timedelta(seconds=60)  # ...within a minute

# TODO (task 1): the exceptions to "<prefix>:<eventName>" that the deployment trails contain.
# Look each one up (offline: `grader trail actions EVENT_SOURCE EVENT_NAME`, or
# `grader trail actions --list`; the lab page links AWS's references) and fill in the tables:
#
# - endpoints whose IAM prefix is not the first label of eventSource:
#   monitoring.amazonaws.com (CloudWatch) and tagging.amazonaws.com (Resource Groups Tagging);
# - Lambda event names that end with the API version: GetFunction20150331v2,
#   UpdateFunctionCode20150331v2, PublishVersion20150331, UpdateAlias20150331 ...;
# - S3 operations whose permission has another name: ListBuckets, ListObjects, HeadObject,
#   CopyObject (two actions), and the multipart upload calls CreateMultipartUpload,
#   UploadPart, CompleteMultipartUpload;
# - Lambda's Invoke data event;
# - sts GetCallerIdentity, which needs no permission at all.
SOURCE_PREFIX: dict[str, str] = {}
EVENT_ACTIONS: dict[tuple[str, str], list[str]] = {}


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def own_calls(records: list[dict], principal_arn: str) -> list[dict]:
    """The principal's own calls, oldest first.

    TODO (task 1): keep only the calls whose permissions came from ``principal_arn`` (a role
    ARN). Every session of the role counts: the role is in
    userIdentity.sessionContext.sessionIssuer.arn. Calls an AWS service made (a
    userIdentity.invokedBy, an AWSService identity, an AwsServiceEvent) are not the role's.
    """
    return sorted(records, key=lambda r: parse_time(r["eventTime"]))


def window_calls(records: list[dict], principal_arn: str) -> list[dict]:
    """The principal's calls between its opening marker and its closing marker.

    TODO (task 1): a marker is MARKER_COUNT identical calls (same eventSource and eventName),
    read-only, one after the other among the principal's own calls, within MARKER_SPAN.
    Return the calls after the first marker and before the next, markers excluded.
    """
    return own_calls(records, principal_arn)


def actions(record: dict) -> list[str]:
    """The IAM actions one call needed (an empty list when it needed none).

    TODO (task 1): apply the exceptions in the tables above.
    """
    prefix = record["eventSource"].split(".")[0]
    return [f"{prefix}:{record['eventName']}"]


def generate(records: list[dict], principal_arn: str) -> dict:
    """The identity policy allowing what ``principal_arn`` did inside its marker window.

    TODO (task 1): group the actions into statements (one per service reads well) and return
    the policy document: {"Version": "2012-10-17", "Statement": [...]}.
    """
    used = sorted({a for record in window_calls(records, principal_arn) for a in actions(record)})
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": used, "Resource": "*"}],
    }


def load_trail(folder: str) -> list[dict]:
    """Every record of a trail folder in CloudTrail's S3 layout (``*.json.gz`` files)."""
    records: list[dict] = []
    for path in sorted(Path(folder).rglob("*.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as file:
            records.extend(json.load(file)["Records"])
    return records


if __name__ == "__main__":
    # python generate_policy.py data/trail arn:aws:iam::123456789012:role/deploy-role
    print(json.dumps(generate(load_trail(sys.argv[1]), sys.argv[2]), indent=2))
