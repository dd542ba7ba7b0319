"""How fast is a SIEM question over a million CloudTrail records? DuckDB against a Python scan.

Writes (or reuses) a dataset of N records in CloudTrail's S3 layout, then times: loading it
into DuckDB (``open_dataset``), running ten detections on it, and the floor a learner would
otherwise write: a plain-Python scan of the same gzip files (``json.load`` per file, one
loop over the records testing the same ten conditions). Prints seconds and the ratio, and
checks that both found the same hits. Target: load + ten detections under 10 s on 2 cores.

The dataset comes from the SIEM generator (``grader.aws.siem.generate``), or with
``--synthetic`` (or when the generator fails) from the quick writer below: realistic shapes,
the ten patterns planted at low rates.
Run: python bench/bench_siem_query.py [N] [DIR] [--synthetic]
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from grader.aws.siem.store import open_dataset

ACCOUNT = "111122223333"
REGIONS = ("ap-northeast-1", "us-east-1", "eu-west-1", "us-west-2")
START = datetime(2026, 11, 2, tzinfo=UTC)
READS = (
    ("ec2.amazonaws.com", "DescribeInstances"),
    ("ec2.amazonaws.com", "DescribeSecurityGroups"),
    ("s3.amazonaws.com", "ListBuckets"),
    ("iam.amazonaws.com", "ListRoles"),
    ("lambda.amazonaws.com", "ListFunctions20150331"),
    ("sts.amazonaws.com", "GetCallerIdentity"),
    ("kms.amazonaws.com", "Decrypt"),
    ("s3.amazonaws.com", "GetObject"),
)
WRITES = (
    ("ec2.amazonaws.com", "RunInstances"),
    ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2"),
    ("s3.amazonaws.com", "PutObject"),
    ("cloudformation.amazonaws.com", "CreateChangeSet"),
)
AGENTS = (
    "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.9",
    "Boto3/1.35.10 md/Botocore#1.35.10 ua/2.0 os/linux#5.10.223 lang/python#3.12.4",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko)",
    "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux api/ec2#1.171.0",
)
USERS = [f"user{i:02d}" for i in range(40)]


def _identity(rng: random.Random, kind: str, user: str) -> dict[str, Any]:
    if kind == "Root":
        return {
            "type": "Root",
            "principalId": ACCOUNT,
            "arn": f"arn:aws:iam::{ACCOUNT}:root",
            "accountId": ACCOUNT,
            "accessKeyId": "ASIA" + "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ234567", k=16)),
        }
    if kind == "IAMUser":
        return {
            "type": "IAMUser",
            "principalId": "AIDA" + user.upper().ljust(17, "X"),
            "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}",
            "accountId": ACCOUNT,
            "accessKeyId": "AKIA" + user.upper().ljust(16, "Q"),
            "userName": user,
        }
    email = f"{user}@example.co.jp"
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLEROLEID0001:{email}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/{email}",
        "accountId": ACCOUNT,
        "accessKeyId": "ASIA" + user.upper().ljust(16, "S"),
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROAEXAMPLEROLEID0001",
                "arn": f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef",
                "accountId": ACCOUNT,
                "userName": "AWSReservedSSO_Admin_0123456789abcdef",
            },
            "attributes": {
                "creationDate": "2026-11-02T00:00:00Z",
                "mfaAuthenticated": rng.choice(["true", "false"]),
            },
        },
    }


def _record(rng: random.Random, when: datetime, region: str) -> dict[str, Any]:
    user = rng.choice(USERS)
    roll = rng.random()
    kind = "AssumedRole" if roll < 0.7 else ("IAMUser" if roll < 0.9995 else "Root")
    source, name = rng.choice(READS) if rng.random() < 0.8 else rng.choice(WRITES)
    params: dict[str, Any] | None = {"maxResults": 50}
    extra: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    event_type, error = "AwsApiCall", None
    special = rng.random()
    if special < 0.002:
        source, name, event_type = "signin.amazonaws.com", "ConsoleLogin", "AwsConsoleSignIn"
        params = None
        response = {"ConsoleLogin": rng.choice(["Success", "Success", "Failure"])}
        extra = {
            "LoginTo": "https://console.aws.amazon.com/console/home",
            "MobileVersion": "No",
            "MFAUsed": rng.choice(["Yes", "Yes", "No"]),
        }
    elif special < 0.0025:
        source, name = "cloudtrail.amazonaws.com", rng.choice(["StopLogging", "UpdateTrail"])
        params = {"name": f"arn:aws:cloudtrail:{region}:{ACCOUNT}:trail/org-trail"}
    elif special < 0.003:
        source, name = "iam.amazonaws.com", "CreateAccessKey"
        params = {"userName": rng.choice(USERS)}
    elif special < 0.0035:
        source, name = "iam.amazonaws.com", rng.choice(["AttachUserPolicy", "AttachRolePolicy"])
        policy = rng.choice(["AdministratorAccess", "ReadOnlyAccess", "AmazonS3ReadOnlyAccess"])
        params = {"userName": rng.choice(USERS), "policyArn": f"arn:aws:iam::aws:policy/{policy}"}
    elif special < 0.004:
        source, name = "guardduty.amazonaws.com", rng.choice(["DeleteDetector", "ListDetectors"])
        params = {"detectorId": "12abc34d567e8fa901bc2d34e56789f0"}
    elif special < 0.0045:
        source, name = "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"
        cidr = rng.choice(["0.0.0.0/0", "10.0.0.0/8", "203.0.113.0/24"])
        params = {
            "groupId": "sg-0123456789abcdef0",
            "ipPermissions": {
                "items": [
                    {
                        "ipProtocol": "tcp",
                        "fromPort": rng.choice([22, 443]),
                        "toPort": 22,
                        "ipRanges": {"items": [{"cidrIp": cidr}]},
                    }
                ]
            },
        }
    elif special < 0.005:
        source, name = "ec2.amazonaws.com", "ModifySnapshotAttribute"
        params = {
            "snapshotId": "snap-0123456789abcdef0",
            "attributeType": "CREATE_VOLUME_PERMISSION",
            "createVolumePermission": {"add": {"items": [{"group": rng.choice(["all", "x"])}]}},
        }
    if special > 0.99:
        error = rng.choice(["AccessDenied", "Client.UnauthorizedOperation"])
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": _identity(rng, kind, user),
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": f"198.51.100.{rng.randrange(1, 60)}",
        "userAgent": rng.choice(AGENTS),
        "requestParameters": params,
        "responseElements": response,
        "requestID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "eventID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "readOnly": name.startswith(("Describe", "List", "Get")),
        "eventType": event_type,
        "managementEvent": name not in ("GetObject", "PutObject"),
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management" if name not in ("GetObject", "PutObject") else "Data",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"{source.split('.')[0]}.{region}.amazonaws.com",
        },
    }
    if extra:
        record["additionalEventData"] = extra
    if error:
        record["errorCode"] = error
        record["errorMessage"] = "You are not authorized to perform this operation."
    return record


def write_synthetic(root: Path, count: int, seed: int = 7) -> None:
    """``count`` records over three days in CloudTrail's S3 layout: a file per region per
    five minutes, delivered 5-20 minutes after its newest event."""
    rng = random.Random(seed)
    span = 3 * 86400
    slots = span // 300
    per_file = max(1, count // (slots * len(REGIONS)))
    written = 0
    for slot in range(slots):
        for region in REGIONS:
            if written >= count:
                return
            n = min(per_file if slot < slots - 1 else count - written, count - written)
            base = START + timedelta(seconds=slot * 300)
            records = [
                _record(rng, base + timedelta(seconds=rng.randrange(300)), region) for _ in range(n)
            ]
            written += n
            delivered = base + timedelta(minutes=5 + rng.randrange(16))
            unique = "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=16))
            name = f"{ACCOUNT}_CloudTrail_{region}_{delivered:%Y%m%dT%H%M}Z_{unique}.json.gz"
            folder = root / f"AWSLogs/{ACCOUNT}/CloudTrail/{region}/{delivered:%Y/%m/%d}"
            folder.mkdir(parents=True, exist_ok=True)
            body = json.dumps({"Records": records}, separators=(",", ":")).encode()
            (folder / name).write_bytes(gzip.compress(body, compresslevel=1, mtime=0))


# The ten detections, as SQL over the contract's views...
DETECTIONS: dict[str, str] = {
    "console-login-without-mfa": """SELECT event_id FROM cloudtrail
        WHERE event_name = 'ConsoleLogin' AND additional_event_data->>'MFAUsed' = 'No'
          AND response_elements->>'ConsoleLogin' = 'Success'""",
    "root-use": """SELECT event_id FROM cloudtrail
        WHERE user_type = 'Root' AND event_type <> 'AwsServiceEvent'""",
    "trail-stopped": """SELECT event_id FROM cloudtrail WHERE event_source = 'cloudtrail.amazonaws.com'
        AND event_name IN ('StopLogging', 'DeleteTrail')""",
    "key-for-another-user": """SELECT event_id FROM cloudtrail WHERE event_name = 'CreateAccessKey'
        AND request_parameters->>'userName' IS DISTINCT FROM user_name""",
    "admin-policy-attached": """SELECT event_id FROM cloudtrail
        WHERE event_name IN ('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy')
          AND request_parameters->>'policyArn' = 'arn:aws:iam::aws:policy/AdministratorAccess'""",
    "guardduty-deleted": """SELECT event_id FROM cloudtrail
        WHERE event_source = 'guardduty.amazonaws.com' AND event_name = 'DeleteDetector'""",
    "ssh-open-to-world": """SELECT event_id FROM cloudtrail
        WHERE event_name = 'AuthorizeSecurityGroupIngress'
          AND request_parameters::VARCHAR LIKE '%"cidrIp":"0.0.0.0/0"%'""",
    "snapshot-shared-public": """SELECT event_id FROM cloudtrail
        WHERE event_name = 'ModifySnapshotAttribute'
          AND request_parameters::VARCHAR LIKE '%"group":"all"%'""",
    "mfa-less-sso-writes": """SELECT event_id FROM cloudtrail
        WHERE user_type = 'AssumedRole' AND mfa_authenticated = false AND NOT read_only
          AND event_name = 'RunInstances' AND aws_region = 'eu-west-1'""",
    "denied-burst": """WITH d AS (SELECT event_id, access_key_id,
            time_bucket(INTERVAL 10 MINUTE, event_time) AS slot FROM cloudtrail
            WHERE error_code IN ('AccessDenied', 'Client.UnauthorizedOperation'))
        SELECT event_id FROM d WHERE (access_key_id, slot) IN (
            SELECT (access_key_id, slot) FROM d GROUP BY ALL HAVING count(*) >= 3)""",
}


def python_scan(root: Path) -> dict[str, set[str]]:
    """... and as the plain-Python loop a learner would otherwise write."""
    hits: dict[str, set[str]] = defaultdict(set)
    denied: dict[tuple[Any, datetime], list[str]] = defaultdict(list)
    for path in sorted(root.rglob("*.json.gz")):
        with gzip.open(path) as handle:
            records = json.load(handle)["Records"]
        for r in records:
            ident = r.get("userIdentity") or {}
            name, source, eid = r.get("eventName"), r.get("eventSource"), r["eventID"]
            params = r.get("requestParameters") or {}
            if (
                name == "ConsoleLogin"
                and (r.get("additionalEventData") or {}).get("MFAUsed") == "No"
                and (r.get("responseElements") or {}).get("ConsoleLogin") == "Success"
            ):
                hits["console-login-without-mfa"].add(eid)
            if ident.get("type") == "Root" and r.get("eventType") != "AwsServiceEvent":
                hits["root-use"].add(eid)
            if source == "cloudtrail.amazonaws.com" and name in ("StopLogging", "DeleteTrail"):
                hits["trail-stopped"].add(eid)
            if name == "CreateAccessKey" and params.get("userName") != _user_name(ident):
                hits["key-for-another-user"].add(eid)
            if (
                name in ("AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy")
                and params.get("policyArn") == "arn:aws:iam::aws:policy/AdministratorAccess"
            ):
                hits["admin-policy-attached"].add(eid)
            if source == "guardduty.amazonaws.com" and name == "DeleteDetector":
                hits["guardduty-deleted"].add(eid)
            if name == "AuthorizeSecurityGroupIngress" and '"cidrIp":"0.0.0.0/0"' in json.dumps(
                params, separators=(",", ":")
            ):
                hits["ssh-open-to-world"].add(eid)
            if name == "ModifySnapshotAttribute" and '"group":"all"' in json.dumps(
                params, separators=(",", ":")
            ):
                hits["snapshot-shared-public"].add(eid)
            attrs = (ident.get("sessionContext") or {}).get("attributes") or {}
            if (
                ident.get("type") == "AssumedRole"
                and attrs.get("mfaAuthenticated") == "false"
                and r.get("readOnly") is False
                and name == "RunInstances"
                and r.get("awsRegion") == "eu-west-1"
            ):
                hits["mfa-less-sso-writes"].add(eid)
            if r.get("errorCode") in ("AccessDenied", "Client.UnauthorizedOperation"):
                when = datetime.fromisoformat(r["eventTime"].replace("Z", "+00:00"))
                slot = when.replace(minute=when.minute - when.minute % 10, second=0)
                denied[(ident.get("accessKeyId"), slot)].append(eid)
    for ids in denied.values():
        if len(ids) >= 3:
            hits["denied-burst"].update(ids)
    return hits


def _user_name(ident: dict[str, Any]) -> str | None:
    if ident.get("userName"):
        return ident["userName"]
    if ident.get("type") in ("AssumedRole", "FederatedUser"):
        return str(ident.get("arn", "")).rsplit("/", 1)[-1] or None
    return None


def _dataset(count: int, folder: Path, synthetic: bool) -> str:
    """Fill ``folder`` with about ``count`` records (or reuse what is there)."""
    if any(folder.rglob("*.json.gz")):
        return "reused"
    if not synthetic:
        try:
            from grader.aws.siem.generate import generate

            generate(folder, seed=7, days=3, events=count)
            return "the SIEM generator"
        except Exception as exc:  # its work may be half done; the bench still runs
            print(f"(the SIEM generator failed: {exc!r}; using the synthetic writer)")
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
    write_synthetic(folder, count)
    return "the bench's synthetic writer"


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--synthetic"]
    synthetic = "--synthetic" in sys.argv
    count = int(args[0]) if args else 1_000_000
    kind = "synthetic" if synthetic else "generated"
    default = Path(tempfile.gettempdir()) / f"bench-siem-{kind}-{count}"
    folder = Path(args[1]) if len(args) > 1 else default
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    origin = _dataset(count, folder, synthetic)
    files = sum(1 for _ in folder.rglob("*.json.gz"))
    print(f"dataset: {folder} ({files} files, from {origin}, {time.perf_counter() - start:.1f} s)")
    print(f"cores: {os.cpu_count()}")

    start, cpu = time.perf_counter(), time.process_time()
    dataset = open_dataset(folder)
    load = time.perf_counter() - start
    load_cpu = time.process_time() - cpu
    rows = dataset.count()
    found: dict[str, set[str]] = {}
    times: dict[str, float] = {}
    for name, sql in DETECTIONS.items():
        t = time.perf_counter()
        found[name] = {row[0] for row in dataset.sql(sql)}
        times[name] = time.perf_counter() - t
    duck = load + sum(times.values())
    dataset.close()

    start = time.perf_counter()
    scanned = python_scan(folder)
    scan = time.perf_counter() - start

    print(f"records: {rows:,}")
    print(f"duckdb load:               {load:7.2f} s   (CPU {load_cpu:.1f} s over all threads)")
    for name, seconds in times.items():
        same = "same" if found[name] == scanned.get(name, set()) else "DIFFERENT"
        print(f"  {name:28s} {seconds:7.3f} s  {len(found[name]):6,} hits ({same} as Python)")
    print(f"duckdb load + 10 queries:  {duck:7.2f} s   (target: under 10 s)")
    print(f"python scan, 10 conditions:{scan:7.2f} s")
    print(f"ratio python / duckdb:     {scan / duck:7.1f}x   (load + 10 queries)")
    queries = sum(times.values())
    print(
        f"ratio once loaded:         {scan / queries:7.0f}x   (a new question: one more scan "
        f"of the files against {queries / len(times) * 1000:.0f} ms per query)"
    )


if __name__ == "__main__":
    main()
