"""A least-privilege policy from a CloudTrail trail: what one role did between two markers.

Reference solution for lab 4, task 1. Plain Python: no AWS SDK and no grader import, so the
file works on its own (``python generate_policy.py TRAIL.json ROLE_ARN``).
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

MARKER_COUNT = 3  # the same harmless call three times in a row...
MARKER_SPAN = timedelta(seconds=60)  # ...within a minute

# Endpoints whose IAM service prefix is not the first label of the eventSource.
# Service Authorization Reference (prefixes) and each service's CloudTrail page.
SOURCE_PREFIX = {
    "monitoring.amazonaws.com": "cloudwatch",
    "tagging.amazonaws.com": "tag",
    "email.amazonaws.com": "ses",
}

# Event names that carry the API version after the operation (Lambda: GetFunction20150331v2).
VERSION_SUFFIX = {
    "lambda.amazonaws.com": re.compile(r"^([A-Za-z]+?)\d{8}(?:v\d+)?$"),
    "cloudfront.amazonaws.com": re.compile(r"^([A-Za-z]+?)\d{4}_\d{2}_\d{2}$"),
}

# Operations whose permission has another name, or which need several actions (or none).
# S3: "Required permissions for Amazon S3 API operations"; Lambda: Invoke is InvokeFunction;
# STS: GetCallerIdentity needs no permission.
EVENT_ACTIONS = {
    ("s3.amazonaws.com", "ListBuckets"): ["s3:ListAllMyBuckets"],
    ("s3.amazonaws.com", "ListObjects"): ["s3:ListBucket"],
    ("s3.amazonaws.com", "ListObjectsV2"): ["s3:ListBucket"],
    ("s3.amazonaws.com", "HeadBucket"): ["s3:ListBucket"],
    ("s3.amazonaws.com", "HeadObject"): ["s3:GetObject"],
    ("s3.amazonaws.com", "CopyObject"): ["s3:GetObject", "s3:PutObject"],
    ("s3.amazonaws.com", "CreateMultipartUpload"): ["s3:PutObject"],
    ("s3.amazonaws.com", "UploadPart"): ["s3:PutObject"],
    ("s3.amazonaws.com", "CompleteMultipartUpload"): ["s3:PutObject"],
    ("lambda.amazonaws.com", "Invoke"): ["lambda:InvokeFunction"],
    ("sts.amazonaws.com", "GetCallerIdentity"): [],
    ("signin.amazonaws.com", "ConsoleLogin"): [],
}


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def caller(record: dict) -> str | None:
    """The IAM identity whose permissions the call used: for a role session, the role."""
    identity = record.get("userIdentity") or {}
    if identity.get("type") == "AssumedRole":
        issuer = (identity.get("sessionContext") or {}).get("sessionIssuer") or {}
        return issuer.get("arn")
    return identity.get("arn")


def made_by_a_service(record: dict) -> bool:
    """A call an AWS service made (on its own, or on the principal's behalf)."""
    identity = record.get("userIdentity") or {}
    return (
        bool(identity.get("invokedBy"))
        or identity.get("type") == "AWSService"
        or record.get("eventType") == "AwsServiceEvent"
    )


def own_calls(records: list[dict], principal_arn: str) -> list[dict]:
    """The principal's own calls, oldest first."""
    mine = [r for r in records if caller(r) == principal_arn and not made_by_a_service(r)]
    return sorted(mine, key=lambda r: parse_time(r["eventTime"]))


def markers(calls: list[dict]) -> list[tuple[int, int]]:
    """(first, last) indexes of each run of identical read-only calls that is a marker."""
    found = []
    i = 0
    while i < len(calls):
        key = (calls[i]["eventSource"], calls[i]["eventName"])
        start = parse_time(calls[i]["eventTime"])
        j = i + 1
        while (
            j < len(calls)
            and (calls[j]["eventSource"], calls[j]["eventName"]) == key
            and parse_time(calls[j]["eventTime"]) - start <= MARKER_SPAN
        ):
            j += 1
        if j - i >= MARKER_COUNT and calls[i].get("readOnly") is not False:
            found.append((i, j - 1))
            i = j
        else:
            i += 1
    return found


def window_calls(records: list[dict], principal_arn: str) -> list[dict]:
    """The principal's calls between each marker and the next."""
    calls = own_calls(records, principal_arn)
    runs = markers(calls)
    inside = []
    for (_, opening_end), (closing_start, _) in zip(runs, runs[1:], strict=False):
        inside.extend(calls[opening_end + 1 : closing_start])
    return inside


def actions(record: dict) -> list[str]:
    """The IAM actions one call needed."""
    source, name = record["eventSource"], record["eventName"]
    pattern = VERSION_SUFFIX.get(source)
    if pattern and pattern.match(name):
        name = pattern.match(name).group(1)
    if (source, name) in EVENT_ACTIONS:
        return EVENT_ACTIONS[(source, name)]
    prefix = SOURCE_PREFIX.get(source, source.split(".")[0])
    return [f"{prefix}:{name}"]


def generate(records: list[dict], principal_arn: str) -> dict:
    """The identity policy allowing what ``principal_arn`` did inside its marker window."""
    used = {action for record in window_calls(records, principal_arn) for action in actions(record)}
    by_service: dict[str, set[str]] = {}
    for action in used:
        by_service.setdefault(action.split(":")[0], set()).add(action)
    statements = [
        {
            "Sid": re.sub(r"[^A-Za-z0-9]", "", prefix.title()) + "Actions",
            "Effect": "Allow",
            "Action": sorted(by_service[prefix]),
            "Resource": "*",
        }
        for prefix in sorted(by_service)
    ]
    return {"Version": "2012-10-17", "Statement": statements}


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
