"""Sigma rules become DuckDB SQL that matches exactly the CloudTrail records they should.

Every construct runs against hand-written, real-shaped CloudTrail records where it must
match and where it must not; the seven detections are written the way SigmaHQ writes
CloudTrail rules.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import duckdb
import pytest

from grader.aws.errors import GraderError
from grader.aws.siem.sigma import VIEW_TEXT_COLUMNS, SigmaDetection, SigmaRuleError, convert

ACCOUNT = "111122223333"


def _iam_user(name: str) -> dict:
    return {
        "type": "IAMUser",
        "principalId": "AIDA" + name.upper().replace(".", "")[:12].ljust(12, "X"),
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        "accountId": ACCOUNT,
        "accessKeyId": "ASIAQ3EXAMPLE7KEY001",
        "userName": name,
        "sessionContext": {
            "sessionIssuer": {},
            "webIdFederationData": {},
            "attributes": {"creationDate": "2026-11-02T08:55:10Z", "mfaAuthenticated": "true"},
        },
    }


def _role_session(role: str, session: str, mfa: str = "false") -> dict:
    return {
        "type": "AssumedRole",
        "principalId": f"AROAQ3EXAMPLEROLE0001:{session}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
        "accountId": ACCOUNT,
        "accessKeyId": "ASIAQ3EXAMPLE7KEY002",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROAQ3EXAMPLEROLE0001",
                "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                "accountId": ACCOUNT,
                "userName": role,
            },
            "webIdFederationData": {},
            "attributes": {"creationDate": "2026-11-02T08:40:00Z", "mfaAuthenticated": mfa},
        },
    }


ROOT = {
    "type": "Root",
    "principalId": ACCOUNT,
    "arn": f"arn:aws:iam::{ACCOUNT}:root",
    "accountId": ACCOUNT,
    "accessKeyId": "",
}


def _record(event_id: str, source: str, name: str, identity: dict, **extra) -> dict:
    record = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": "2026-11-02T09:14:03Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "ap-northeast-1",
        "sourceIPAddress": "198.51.100.23",
        "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22",
        "requestParameters": None,
        "responseElements": None,
        "requestID": "6f1c1d0e-1b64-4a7e-9a52-" + event_id[-12:].rjust(12, "0"),
        "eventID": event_id,
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    record.update(extra)
    return record


def _console_login(event_id: str, identity: dict, mfa_used: str, ip: str) -> dict:
    return _record(
        event_id,
        "signin.amazonaws.com",
        "ConsoleLogin",
        identity,
        sourceIPAddress=ip,
        userAgent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0",
        responseElements={"ConsoleLogin": "Success"},
        additionalEventData={
            "LoginTo": "https://console.aws.amazon.com/console/home",
            "MobileVersion": "No",
            "MFAUsed": mfa_used,
        },
        eventType="AwsConsoleSignIn",
    )


def _ingress(event_id: str, from_port: int, to_port: int, cidrs: list[str]) -> dict:
    return _record(
        event_id,
        "ec2.amazonaws.com",
        "AuthorizeSecurityGroupIngress",
        _role_session("ops-admin", "kenji.sato"),
        requestParameters={
            "groupId": "sg-0a1b2c3d4e5f60718",
            "ipPermissions": {
                "items": [
                    {
                        "ipProtocol": "tcp",
                        "fromPort": from_port,
                        "toPort": to_port,
                        "groups": {},
                        "ipRanges": {"items": [{"cidrIp": c} for c in cidrs]},
                        "ipv6Ranges": {},
                        "prefixListIds": {},
                    }
                ]
            },
        },
        responseElements={"_return": True, "securityGroupRuleSet": {"items": []}},
    )


def _public_access_block(event_id: str, blocked: bool) -> dict:
    config = {
        "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
        "BlockPublicAcls": blocked,
        "IgnorePublicAcls": blocked,
        "BlockPublicPolicy": blocked,
        "RestrictPublicBuckets": blocked,
    }
    return _record(
        event_id,
        "s3.amazonaws.com",
        "PutBucketPublicAccessBlock",
        _role_session("ops-admin", "kenji.sato"),
        requestParameters={
            "publicAccessBlock": "",
            "bucketName": "corp-reports-2026",
            "PublicAccessBlockConfiguration": config,
            "Host": "corp-reports-2026.s3.ap-northeast-1.amazonaws.com",
        },
        additionalEventData={"SignatureVersion": "SigV4", "bytesTransferredIn": 258.0},
    )


def _bucket_acl(event_id: str, grantee_uri: str) -> dict:
    return _record(
        event_id,
        "s3.amazonaws.com",
        "PutBucketAcl",
        _role_session("ops-admin", "kenji.sato"),
        requestParameters={
            "bucketName": "corp-reports-2026",
            "AccessControlPolicy": {
                "AccessControlList": {
                    "Grant": [
                        {
                            "Grantee": {"xsi:type": "CanonicalUser", "ID": "a1b2c3"},
                            "Permission": "FULL_CONTROL",
                        },
                        {
                            "Grantee": {"xsi:type": "Group", "URI": grantee_uri},
                            "Permission": "READ",
                        },
                    ]
                },
                "Owner": {"ID": "a1b2c3"},
            },
            "acl": "",
        },
    )


RECORDS = [
    _console_login("login-no-mfa", _iam_user("taro.yamada"), "No", "203.0.113.10"),
    _console_login("login-mfa", _iam_user("hanako.suzuki"), "Yes", "198.51.100.7"),
    # A console login through IAM Identity Center: MFA happened at the identity provider,
    # so CloudTrail says MFAUsed "No" for an AssumedRole: a trap for a naive rule.
    _console_login(
        "login-sso",
        _role_session("AWSReservedSSO_Admin_0123", "taro.yamada@example.co.jp"),
        "No",
        "2001:db8:1::5",
    ),
    _record(
        "root-list",
        "s3.amazonaws.com",
        "ListBuckets",
        ROOT,
        readOnly=True,
        sourceIPAddress="2001:db8:1::5",
        userAgent="[S3Console/0.4]",
    ),
    _record(
        "root-service",
        "trustedadvisor.amazonaws.com",
        "RefreshCheck",
        {**ROOT, "invokedBy": "trustedadvisor.amazonaws.com"},
        eventType="AwsServiceEvent",
        sourceIPAddress="trustedadvisor.amazonaws.com",
    ),
    _record(
        "stop-logging",
        "cloudtrail.amazonaws.com",
        "StopLogging",
        _role_session("ci-deploy", "gh-actions-8841"),
        requestParameters={"name": f"arn:aws:cloudtrail:ap-northeast-1:{ACCOUNT}:trail/org"},
    ),
    _record(
        "update-trail",
        "cloudtrail.amazonaws.com",
        "UpdateTrail",
        _role_session("ci-deploy", "gh-actions-8842"),
        requestParameters={"name": "org", "isMultiRegionTrail": True},
        responseElements={"name": "org", "logFileValidationEnabled": True},
    ),
    _record(
        "key-for-other",
        "iam.amazonaws.com",
        "CreateAccessKey",
        _iam_user("admin.ito"),
        requestParameters={"userName": "taro.yamada"},
        responseElements={
            "accessKey": {
                "accessKeyId": "AKIAQ3EXAMPLENEWKEY1",
                "status": "Active",
                "userName": "taro.yamada",
                "createDate": "Nov 2, 2026, 9:14:03 AM",
            }
        },
    ),
    _record(
        "key-for-self",
        "iam.amazonaws.com",
        "CreateAccessKey",
        _iam_user("Taro.Yamada"),
        requestParameters={"userName": "taro.yamada"},
    ),
    _record(
        "key-no-user",
        "iam.amazonaws.com",
        "CreateAccessKey",
        _iam_user("hanako.suzuki"),
        requestParameters={},
    ),
    _record(
        "attach-admin",
        "iam.amazonaws.com",
        "AttachUserPolicy",
        _role_session("ops-admin", "kenji.sato"),
        requestParameters={
            "userName": "taro.yamada",
            "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess",
        },
    ),
    _record(
        "attach-readonly",
        "iam.amazonaws.com",
        "AttachRolePolicy",
        _role_session("ops-admin", "kenji.sato"),
        requestParameters={
            "roleName": "auditor",
            "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
        },
    ),
    _public_access_block("bucket-unblocked", blocked=False),
    _public_access_block("bucket-blocked", blocked=True),
    _bucket_acl("acl-all-users", "http://acs.amazonaws.com/groups/global/AllUsers"),
    _bucket_acl("acl-log-delivery", "http://acs.amazonaws.com/groups/s3/LogDelivery"),
    _ingress("sg-ssh-world", 22, 22, ["10.0.0.0/8", "0.0.0.0/0"]),
    _ingress("sg-ssh-office", 22, 22, ["203.0.113.0/24"]),
    _ingress("sg-https-world", 443, 443, ["0.0.0.0/0"]),
    _record(
        "odd-get",
        "s3.amazonaws.com",
        "GetObject",
        _iam_user("batch.loader"),
        readOnly=True,
        userAgent="loader/1.0 (100%_sure*) tag?",
        errorCode="AccessDenied",
        errorMessage="first line\nsecond line",
        requestParameters={"bucketName": "corp-reports-2026", "key": "q3/summary.csv"},
        additionalEventData={
            "x-amz-id-2": "Zm9vYmFy",
            "bytesTransferredOut": 1024.0,
            "cipher suite": "ECDHE-RSA-AES128-GCM-SHA256",
        },
        resources=[
            {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::corp-reports-2026/q3/summary.csv"},
            {
                "accountId": ACCOUNT,
                "type": "AWS::S3::Bucket",
                "ARN": "arn:aws:s3:::corp-reports-2026",
            },
        ],
    ),
]
ALL = {r["eventID"] for r in RECORDS}


@pytest.fixture(scope="module")
def db() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE cloudtrail(event_id VARCHAR, record JSON)")
    con.executemany(
        "INSERT INTO cloudtrail VALUES (?, ?)", [(r["eventID"], json.dumps(r)) for r in RECORDS]
    )
    return con


@pytest.fixture(scope="module")
def typed_db(db: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """The same records with the view's text columns beside record, as the store has them."""
    columns = ", ".join(
        f"json_extract_string(record, '$.{path}') AS {name}"
        for path, name in VIEW_TEXT_COLUMNS.items()
        if name != "event_id"
    )
    con = duckdb.connect()
    con.execute("CREATE TABLE raw(event_id VARCHAR, record JSON)")
    con.executemany(
        "INSERT INTO raw VALUES (?, ?)", [(r["eventID"], json.dumps(r)) for r in RECORDS]
    )
    con.execute(f"CREATE VIEW cloudtrail AS SELECT event_id, record, {columns} FROM raw")
    return con


def rule_text(detection: str, **header: str) -> str:
    head = {
        "title": "Test rule",
        "id": "5b8f3c2e-7d41-4a9e-b1c6-2f0e8d9a7c31",
        "status": "test",
        "level": "medium",
    }
    head.update(header)
    lines = [f"{k}: {v}" for k, v in head.items()]
    lines += ["logsource:", "  product: aws", "  service: cloudtrail", "detection:"]
    lines.append(textwrap.indent(textwrap.dedent(detection).strip("\n"), "  "))
    return "\n".join(lines) + "\n"


def hits(db: duckdb.DuckDBPyConnection, rule: str | Path) -> set[str]:
    detection = convert(rule)
    return {row[0] for row in db.execute(detection.sql).fetchall()}


def match(db: duckdb.DuckDBPyConnection, detection: str) -> set[str]:
    return hits(db, rule_text(detection))


# --- each construct, where it must and must not match ---------------------------------------

CONSTRUCTS = [
    pytest.param(
        "sel: {userIdentity.type: Root}\ncondition: sel",
        {"root-list", "root-service"},
        id="dotted-path",
    ),
    pytest.param(
        "sel: {userIdentity.type: root}\ncondition: sel",
        {"root-list", "root-service"},
        id="equality-is-case-insensitive",
    ),
    pytest.param(
        "sel: {userIdentity.type|cased: root}\ncondition: sel",
        set(),
        id="cased-equality-misses-other-case",
    ),
    pytest.param(
        "sel: {userIdentity.type|cased: Root}\ncondition: sel",
        {"root-list", "root-service"},
        id="cased-equality-matches-same-case",
    ),
    pytest.param(
        "sel: {eventName: [StopLogging, DeleteTrail, CreateAccessKey]}\ncondition: sel",
        {"stop-logging", "key-for-other", "key-for-self", "key-no-user"},
        id="list-is-or",
    ),
    pytest.param(
        "sel: {userIdentity.invokedBy: trustedadvisor.amazonaws.com}\ncondition: sel",
        {"root-service"},
        id="missing-field-never-matches",
    ),
    pytest.param(
        "sel: {userIdentity.type: Root, userIdentity.invokedBy: null}\ncondition: sel",
        {"root-list"},
        id="null-matches-missing-field",
    ),
    pytest.param(
        "sel: {eventSource: iam.amazonaws.com, requestParameters: null}\ncondition: sel",
        set(),
        id="null-misses-empty-object",
    ),
    pytest.param(
        "sel: {eventSource: signin.amazonaws.com, requestParameters: null}\ncondition: sel",
        {"login-no-mfa", "login-mfa", "login-sso"},
        id="null-matches-json-null",
    ),
    pytest.param(
        "sel: {userIdentity.invokedBy: trustedadvisor.amazonaws.com}\ncondition: not sel",
        ALL - {"root-service"},
        id="not-matches-records-without-the-field",
    ),
    pytest.param(
        "sel: {userAgent: 'aws-cli/*'}\ncondition: sel",
        {r["eventID"] for r in RECORDS if r["userAgent"].startswith("aws-cli/")},
        id="star-wildcard",
    ),
    pytest.param(
        "sel: {userIdentity.type: 'R??t'}\ncondition: sel",
        {"root-list", "root-service"},
        id="question-mark-wildcard",
    ),
    pytest.param(
        "sel: {userIdentity.type: 'R?t'}\ncondition: sel",
        set(),
        id="question-mark-is-exactly-one-character",
    ),
    pytest.param(
        r"sel: {userAgent: 'loader/1.0 (100%_sure\*) tag\?'}" + "\ncondition: sel",
        {"odd-get"},
        id="escaped-wildcards-and-sql-like-characters-are-literal",
    ),
    pytest.param(
        r"sel: {userAgent: 'loader/1.0 (100%_sure\*) tagX'}" + "\ncondition: sel",
        set(),
        id="escaped-question-mark-is-not-a-wildcard",
    ),
    pytest.param(
        r"sel: {userAgent: 'loader/1.0 (100%Xsure\*) tag\?'}" + "\ncondition: sel",
        set(),
        id="sql-underscore-is-not-a-wildcard",
    ),
    pytest.param(
        "sel: {userAgent|contains: CHROME}\ncondition: sel",
        {"login-no-mfa", "login-mfa", "login-sso"},
        id="contains",
    ),
    pytest.param(
        "sel: {userAgent|contains|cased: CHROME}\ncondition: sel",
        set(),
        id="contains-cased",
    ),
    pytest.param(
        "sel: {userIdentity.arn|startswith: 'arn:aws:sts::'}\ncondition: sel",
        {r["eventID"] for r in RECORDS if r["userIdentity"]["type"] == "AssumedRole"},
        id="startswith",
    ),
    pytest.param(
        "sel: {userIdentity.arn|endswith: ':root'}\ncondition: sel",
        {"root-list", "root-service"},
        id="endswith",
    ),
    pytest.param(
        "sel: {userAgent|contains|all: [Windows, Chrome]}\ncondition: sel",
        {"login-no-mfa", "login-mfa", "login-sso"},
        id="all-every-value-matches",
    ),
    pytest.param(
        "sel: {userAgent|contains|all: [Windows, Firefox]}\ncondition: sel",
        set(),
        id="all-one-value-missing",
    ),
    pytest.param(
        "sel: {userIdentity.arn|re: '^arn:aws:iam::[0-9]{12}:root$'}\ncondition: sel",
        {"root-list", "root-service"},
        id="re",
    ),
    pytest.param(
        "sel: {userIdentity.arn|re: '^ARN:AWS:IAM::[0-9]{12}:ROOT$'}\ncondition: sel",
        set(),
        id="re-is-case-sensitive",
    ),
    pytest.param(
        "sel: {userIdentity.arn|re|i: '^ARN:AWS:IAM::[0-9]{12}:ROOT$'}\ncondition: sel",
        {"root-list", "root-service"},
        id="re-i",
    ),
    pytest.param(
        "sel: {errorMessage|re: '^second'}\ncondition: sel", set(), id="re-caret-is-text-start"
    ),
    pytest.param("sel: {errorMessage|re|m: '^second'}\ncondition: sel", {"odd-get"}, id="re-m"),
    pytest.param(
        "sel: {errorMessage|re: 'line.second'}\ncondition: sel", set(), id="re-dot-not-newline"
    ),
    pytest.param("sel: {errorMessage|re|s: 'line.second'}\ncondition: sel", {"odd-get"}, id="re-s"),
    pytest.param(
        "sel: {sourceIPAddress|cidr: 203.0.113.0/24}\ncondition: sel",
        {"login-no-mfa"},
        id="cidr-ipv4",
    ),
    pytest.param(
        "sel: {sourceIPAddress|cidr: [198.51.100.0/30, 198.51.100.16/28]}\ncondition: sel",
        ALL
        - {
            "login-no-mfa",
            "login-mfa",
            "login-sso",
            "root-list",
            "root-service",
        },
        id="cidr-ipv4-list-edges",
    ),
    pytest.param(
        "sel: {sourceIPAddress|cidr: '2001:db8::/32'}\ncondition: sel",
        {"login-sso", "root-list"},
        id="cidr-ipv6",
    ),
    pytest.param(
        "sel: {sourceIPAddress|cidr: '2001:db8:2::/48'}\ncondition: sel",
        set(),
        id="cidr-ipv6-outside",
    ),
    pytest.param(
        "sel: {sourceIPAddress|cidr: '::/0'}\ncondition: sel",
        {"login-sso", "root-list"},
        id="cidr-ipv6-never-matches-ipv4-or-names",
    ),
    pytest.param(
        "sel: {userIdentity.invokedBy|exists: true}\ncondition: sel",
        {"root-service"},
        id="exists-true",
    ),
    pytest.param(
        "sel: {eventSource: iam.amazonaws.com, requestParameters.userName|exists: false}\n"
        "condition: sel",
        {"key-no-user", "attach-readonly"},
        id="exists-false",
    ),
    pytest.param(
        "sel: {eventName: CreateAccessKey, requestParameters.userName|fieldref: "
        "userIdentity.userName}\ncondition: sel",
        {"key-for-self"},
        id="fieldref-equal-case-insensitively",
    ),
    pytest.param(
        "sel: {eventName: CreateAccessKey}\n"
        "same: {requestParameters.userName|fieldref: userIdentity.userName}\n"
        "condition: sel and not same",
        {"key-for-other", "key-no-user"},
        id="fieldref-negated",
    ),
    pytest.param(
        "sel: {userIdentity.arn|fieldref|endswith: requestParameters.userName}\ncondition: sel",
        {"key-for-self"},
        id="fieldref-endswith",
    ),
    pytest.param(
        "sel: {additionalEventData.bytesTransferredOut|gt: 1000}\ncondition: sel",
        {"odd-get"},
        id="gt",
    ),
    pytest.param(
        "sel: {additionalEventData.bytesTransferredOut|gt: 1024}\ncondition: sel",
        set(),
        id="gt-is-strict",
    ),
    pytest.param(
        "sel: {additionalEventData.bytesTransferredOut|gte: 1024}\ncondition: sel",
        {"odd-get"},
        id="gte",
    ),
    pytest.param(
        "sel: {requestParameters.ipPermissions.items.fromPort|lt: 100}\ncondition: sel",
        {"sg-ssh-world", "sg-ssh-office"},
        id="lt-through-an-array",
    ),
    pytest.param(
        "sel: {requestParameters.ipPermissions.items.toPort|lte: 22}\ncondition: sel",
        {"sg-ssh-world", "sg-ssh-office"},
        id="lte",
    ),
    pytest.param(
        "sel: {requestParameters.ipPermissions.items.fromPort: 22}\ncondition: sel",
        {"sg-ssh-world", "sg-ssh-office"},
        id="number-equals-json-number",
    ),
    pytest.param(
        "sel: {requestParameters.ipPermissions.items.fromPort: '22'}\ncondition: sel",
        {"sg-ssh-world", "sg-ssh-office"},
        id="string-equals-json-number-text",
    ),
    pytest.param(
        "sel: {eventSource: s3.amazonaws.com, readOnly: false}\ncondition: sel",
        {"bucket-unblocked", "bucket-blocked", "acl-all-users", "acl-log-delivery"},
        id="false-matches-json-false",
    ),
    pytest.param(
        "sel: {readOnly: true}\ncondition: sel",
        {"root-list", "odd-get"},
        id="true-matches-json-true",
    ),
    pytest.param(
        "sel: {userIdentity.sessionContext.attributes.mfaAuthenticated: false}\ncondition: sel",
        {r["eventID"] for r in RECORDS if r["userIdentity"]["type"] == "AssumedRole"},
        id="boolean-matches-the-string-false",
    ),
    pytest.param(
        "sel: {requestParameters.ipPermissions.items.ipRanges.items.cidrIp: 0.0.0.0/0}\n"
        "condition: sel",
        {"sg-ssh-world", "sg-https-world"},
        id="path-through-nested-arrays-any-element",
    ),
    pytest.param(
        "sel: {requestParameters.AccessControlPolicy.AccessControlList.Grant.Grantee.URI"
        "|endswith: /global/AllUsers}\ncondition: sel",
        {"acl-all-users"},
        id="path-through-a-plain-array",
    ),
    pytest.param(
        "sel: {resources.ARN: 'arn:aws:s3:::corp-reports-2026'}\ncondition: sel",
        {"odd-get"},
        id="top-level-resources-array",
    ),
    pytest.param(
        "sel: {additionalEventData.x-amz-id-2: Zm9vYmFy}\ncondition: sel",
        {"odd-get"},
        id="key-with-dashes",
    ),
    pytest.param(
        "sel: {additionalEventData.cipher suite|startswith: ECDHE}\ncondition: sel",
        {"odd-get"},
        id="key-with-a-space",
    ),
    pytest.param(
        "sel: {responseElements|contains: logFileValidationEnabled}\ncondition: sel",
        {"update-trail"},
        id="object-compares-as-its-json-text",
    ),
    pytest.param(
        "keywords: [MFAUSED]\ncondition: keywords",
        {"login-no-mfa", "login-mfa", "login-sso"},
        id="keyword-searches-the-whole-record",
    ),
    pytest.param(
        "keywords: [nothing-like-this, 'acs.amazonaws.com/groups/global']\ncondition: keywords",
        {"acl-all-users"},
        id="keyword-list-is-or",
    ),
    pytest.param(
        "keywords:\n  '|all': [StopLogging, gh-actions]\ncondition: keywords",
        {"stop-logging"},
        id="keyword-all",
    ),
    pytest.param(
        "keywords:\n  '|cased': [stoplogging]\ncondition: keywords",
        set(),
        id="keyword-cased",
    ),
    pytest.param(
        "a: {eventSource: iam.amazonaws.com}\nb: {userIdentity.type: IAMUser}\n"
        "c: {eventName: AttachUserPolicy}\ncondition: a and (b or c)",
        {"key-for-other", "key-for-self", "key-no-user", "attach-admin"},
        id="and-or-parentheses",
    ),
    pytest.param(
        "a: {eventSource: iam.amazonaws.com}\nb: {userIdentity.type: IAMUser}\n"
        "c: {eventName: AttachUserPolicy}\ncondition: a and b or c",
        {"key-for-other", "key-for-self", "key-no-user", "attach-admin"},
        id="and-binds-tighter-than-or",
    ),
    pytest.param(
        "a: {eventSource: iam.amazonaws.com}\nb: {userIdentity.type: IAMUser}\n"
        "condition: a and not b",
        {"attach-admin", "attach-readonly"},
        id="not",
    ),
    pytest.param(
        "selection_root: {userIdentity.type: Root}\nselection_stop: {eventName: StopLogging}\n"
        "other: {eventName: ConsoleLogin}\ncondition: 1 of selection_*",
        {"root-list", "root-service", "stop-logging"},
        id="one-of-pattern",
    ),
    pytest.param(
        "selection_root: {userIdentity.type: Root}\nselection_s3: {eventSource: s3.amazonaws.com}\n"
        "other: {eventName: ConsoleLogin}\ncondition: all of selection_*",
        {"root-list"},
        id="all-of-pattern",
    ),
    pytest.param(
        "a: {userIdentity.type: Root}\nb: {eventName: StopLogging}\ncondition: 1 of them",
        {"root-list", "root-service", "stop-logging"},
        id="one-of-them",
    ),
    pytest.param(
        "a: {userIdentity.type: Root}\nb: {eventSource: s3.amazonaws.com}\ncondition: all of them",
        {"root-list"},
        id="all-of-them",
    ),
    pytest.param(
        "a:\n  - {eventName: StopLogging}\n  - {userIdentity.type: Root, readOnly: true}\n"
        "condition: a",
        {"stop-logging", "root-list"},
        id="list-of-maps-is-or",
    ),
    pytest.param(
        "a: {additionalEventData.x-amz-id-2|base64: foobar}\ncondition: a",
        {"odd-get"},
        id="base64",
    ),
    pytest.param(
        "a: {additionalEventData.x-amz-id-2|base64offset|contains: oba}\ncondition: a",
        {"odd-get"},
        id="base64offset",
    ),
    pytest.param(
        "a: {additionalEventData.x-amz-id-2|base64offset|contains: xyz}\ncondition: a",
        set(),
        id="base64offset-other-text",
    ),
    pytest.param(
        "a: {eventTime|hour: 9, eventName: StopLogging}\ncondition: a",
        {"stop-logging"},
        id="hour",
    ),
    pytest.param(
        "a: {eventTime|hour: 10}\ncondition: a",
        set(),
        id="hour-other",
    ),
    pytest.param(
        "a: {eventName: StopLogging}\nb: {eventName: UpdateTrail}\ncondition: [a, b]",
        {"stop-logging", "update-trail"},
        id="condition-list-is-or",
    ),
]


@pytest.mark.parametrize("detection, expected", CONSTRUCTS)
def test_each_construct_matches_exactly_the_records_it_should(
    db: duckdb.DuckDBPyConnection, detection: str, expected: set[str]
) -> None:
    assert match(db, detection) == expected


@pytest.mark.parametrize("detection, expected", CONSTRUCTS)
def test_reading_the_views_text_columns_matches_the_same_records(
    typed_db: duckdb.DuckDBPyConnection, detection: str, expected: set[str]
) -> None:
    converted = convert(rule_text(detection), typed_columns=True)
    assert {row[0] for row in typed_db.execute(converted.sql).fetchall()} == expected


def test_typed_columns_replace_the_json_reads_they_stand_for() -> None:
    text = rule_text(
        "a: {eventName: [StopLogging, DeleteTrail], userIdentity.type: Root}\ncondition: a"
    )
    sql = convert(text, typed_columns=True).sql
    assert "event_name" in sql and "user_type" in sql
    assert "$.eventName" not in sql and "$.userIdentity.type" not in sql
    assert "event_name" not in convert(text).sql


# --- SigmaHQ-shaped detections ------------------------------------------------------------------

RULES = {
    "console_login_without_mfa": (
        """
        title: AWS Console Login Without MFA By An IAM User
        id: 0f4a5c1e-2b7d-4c8e-9f10-3a6b7c8d9e01
        status: experimental
        description: An IAM user signed in to the console with a password only.
        references:
            - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
        author: Cloud Security Labs
        date: 2026-11-02
        tags:
            - attack.initial-access
            - attack.t1078.004
        logsource:
            product: aws
            service: cloudtrail
        detection:
            selection:
                eventSource: signin.amazonaws.com
                eventName: ConsoleLogin
                userIdentity.type: IAMUser
                additionalEventData.MFAUsed: 'No'
                responseElements.ConsoleLogin: Success
            condition: selection
        falsepositives:
            - Break-glass users without MFA by design
        level: high
        """,
        {"login-no-mfa"},
    ),
    "root_activity": (
        """
        title: AWS Root Account Activity
        id: 1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5061
        status: test
        description: The root user made a call itself, not through a service.
        author: Cloud Security Labs
        date: 2026-11-02
        tags:
            - attack.privilege-escalation
            - attack.t1078.004
        logsource:
            product: aws
            service: cloudtrail
        detection:
            selection:
                userIdentity.type: Root
            filter_service_event:
                eventType: AwsServiceEvent
            filter_invoked_by:
                userIdentity.invokedBy|exists: true
            condition: selection and not 1 of filter_*
        level: medium
        """,
        {"root-list"},
    ),
    "trail_stopped_or_deleted": (
        """
        title: AWS CloudTrail Logging Stopped Or Trail Deleted
        id: 2f3e4d5c-6b7a-4899-8a1b-2c3d4e5f6a72
        status: test
        tags:
            - attack.defense-evasion
            - attack.t1562.008
        logsource:
            product: aws
            service: cloudtrail
        detection:
            selection:
                eventSource: cloudtrail.amazonaws.com
                eventName:
                    - StopLogging
                    - DeleteTrail
            condition: selection
        level: high
        """,
        {"stop-logging"},
    ),
    "access_key_for_another_user": (
        """
        title: AWS Access Key Created For Another IAM User
        id: 3a4b5c6d-7e8f-4901-9b2c-3d4e5f6a7b83
        status: experimental
        tags:
            - attack.persistence
            - attack.t1098.001
        logsource:
            product: aws
            service: cloudtrail
        detection:
            selection:
                eventSource: iam.amazonaws.com
                eventName: CreateAccessKey
                requestParameters.userName|exists: true
            filter_self:
                requestParameters.userName|fieldref: userIdentity.userName
            condition: selection and not filter_self
        level: medium
        """,
        {"key-for-other"},
    ),
    "administrator_policy_attached": (
        """
        title: AWS Administrator Managed Policy Attached
        id: 4b5c6d7e-8f90-4a12-8c3d-4e5f6a7b8c94
        status: test
        tags:
            - attack.privilege-escalation
            - attack.t1098.003
        logsource:
            product: aws
            service: cloudtrail
        detection:
            selection:
                eventSource: iam.amazonaws.com
                eventName|startswith: Attach
                eventName|endswith: Policy
                requestParameters.policyArn|endswith: ':policy/AdministratorAccess'
            condition: selection
        level: high
        """,
        {"attach-admin"},
    ),
    "s3_bucket_made_public": (
        """
        title: AWS S3 Bucket Opened To The Public
        id: 5c6d7e8f-9012-4b23-9d4e-5f6a7b8c9da5
        status: experimental
        tags:
            - attack.exfiltration
            - attack.t1537
        logsource:
            product: aws
            service: cloudtrail
        detection:
            selection_block_removed:
                eventSource: s3.amazonaws.com
                eventName: PutBucketPublicAccessBlock
                requestParameters.PublicAccessBlockConfiguration.BlockPublicPolicy: false
            selection_block_deleted:
                eventSource: s3.amazonaws.com
                eventName: DeletePublicAccessBlock
            selection_acl:
                eventSource: s3.amazonaws.com
                eventName: PutBucketAcl
                requestParameters.AccessControlPolicy.AccessControlList.Grant.Grantee.URI:
                    - 'http://acs.amazonaws.com/groups/global/AllUsers'
                    - 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers'
            condition: 1 of selection_*
        level: high
        """,
        {"bucket-unblocked", "acl-all-users"},
    ),
    "ssh_open_to_the_world": (
        """
        title: AWS Security Group Opens SSH To The Internet
        id: 6d7e8f90-1234-4c45-8e5f-6a7b8c9daeb6
        status: experimental
        tags:
            - attack.initial-access
            - attack.t1190
        logsource:
            product: aws
            service: cloudtrail
        detection:
            selection:
                eventSource: ec2.amazonaws.com
                eventName: AuthorizeSecurityGroupIngress
                requestParameters.ipPermissions.items.fromPort|lte: 22
                requestParameters.ipPermissions.items.toPort|gte: 22
            selection_world:
                - requestParameters.ipPermissions.items.ipRanges.items.cidrIp: 0.0.0.0/0
                - requestParameters.ipPermissions.items.ipv6Ranges.items.cidrIpv6: '::/0'
            condition: selection and selection_world
        level: high
        """,
        {"sg-ssh-world"},
    ),
}


@pytest.mark.parametrize("name", sorted(RULES))
def test_a_sigmahq_shaped_rule_hits_its_attack_and_none_of_the_lookalikes(
    db: duckdb.DuckDBPyConnection, tmp_path: Path, name: str
) -> None:
    text, expected = RULES[name]
    path = tmp_path / f"{name}.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    assert hits(db, path) == expected


def test_the_rule_metadata_comes_through() -> None:
    detection = convert(textwrap.dedent(RULES["root_activity"][0]))
    assert isinstance(detection, SigmaDetection)
    assert detection.title == "AWS Root Account Activity"
    assert detection.id == "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5061"
    assert detection.level == "medium"
    assert detection.status == "test"
    assert detection.techniques == ("T1078.004",)
    assert detection.sql.startswith("SELECT event_id FROM cloudtrail WHERE ")
    assert detection.sql.endswith(detection.where)


def test_sub_techniques_and_techniques_are_upper_cased_and_tactics_left_out() -> None:
    text = rule_text("a: {eventName: X}\ncondition: a")
    text = text.replace(
        "detection:",
        "tags:\n  - attack.t1078\n  - attack.t1098.001\n  - attack.persistence\n"
        "  - cve.2021-44228\ndetection:",
    )
    assert convert(text).techniques == ("T1078", "T1098.001")


def test_a_rule_file_given_as_a_string_path_is_read(tmp_path: Path) -> None:
    path = tmp_path / "rule.yml"
    path.write_text(rule_text("a: {eventName: StopLogging}\ncondition: a"), encoding="utf-8")
    assert convert(str(path)).file == str(path)


def test_the_where_clause_selects_more_columns_when_the_view_has_them(
    db: duckdb.DuckDBPyConnection,
) -> None:
    detection = convert(rule_text("a: {eventName: StopLogging}\ncondition: a"))
    rows = db.execute(
        f"SELECT event_id, record->>'$.eventTime' FROM cloudtrail WHERE {detection.where}"
    ).fetchall()
    assert rows == [("stop-logging", "2026-11-02T09:14:03Z")]


# --- refusals -----------------------------------------------------------------------------------


def _refused(tmp_path: Path, text: str) -> SigmaRuleError:
    path = tmp_path / "broken.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SigmaRuleError) as caught:
        convert(path)
    assert isinstance(caught.value, GraderError)
    assert str(path) in str(caught.value)
    return caught.value


def test_a_rule_for_another_log_source_is_refused(tmp_path: Path) -> None:
    text = rule_text("a: {eventName: X}\ncondition: a").replace(
        "service: cloudtrail", "service: s3"
    )
    assert "product: aws, service: cloudtrail" in str(_refused(tmp_path, text))


def test_a_windows_rule_is_refused(tmp_path: Path) -> None:
    text = rule_text("a: {Image|endswith: cmd.exe}\ncondition: a")
    text = text.replace("product: aws", "product: windows").replace(
        "service: cloudtrail", "category: process_creation"
    )
    assert "product: windows" in str(_refused(tmp_path, text))


@pytest.mark.parametrize(
    "condition",
    [
        "selection | count() by userIdentity.arn > 10",
        "selection | near other",
        "selection | count() > 5",
    ],
)
def test_an_aggregation_is_refused_not_mistranslated(tmp_path: Path, condition: str) -> None:
    text = rule_text(
        f"selection: {{eventName: X}}\nother: {{eventName: Y}}\ncondition: {condition}"
    )
    error = _refused(tmp_path, text)
    assert "aggregation" in str(error)
    assert condition in str(error)


def test_a_correlation_rule_is_refused(tmp_path: Path) -> None:
    base = rule_text("selection: {eventName: ConsoleLogin}\ncondition: selection", name="logins")
    correlation = textwrap.dedent(
        """
        title: Many console logins
        correlation:
            type: event_count
            rules:
                - logins
            group-by:
                - userIdentity.arn
            timespan: 10m
            condition:
                gte: 10
        """
    )
    assert "correlation" in str(_refused(tmp_path, base + "---\n" + correlation))


def test_broken_yaml_is_refused_with_its_line(tmp_path: Path) -> None:
    text = rule_text("a: {eventName: X}\ncondition: a") + "level: [unclosed\n"
    error = _refused(tmp_path, text)
    assert error.line is not None and error.line >= 10
    assert "YAML" in str(error)


def test_a_condition_naming_an_undefined_selection_is_refused(tmp_path: Path) -> None:
    error = _refused(tmp_path, rule_text("a: {eventName: X}\ncondition: a and b"))
    assert "'b' not defined" in str(error)


def test_an_unknown_modifier_is_refused(tmp_path: Path) -> None:
    error = _refused(tmp_path, rule_text("a: {eventName|sounds_like: X}\ncondition: a"))
    assert "sounds_like" in str(error)


def test_a_rule_without_a_detection_is_refused(tmp_path: Path) -> None:
    text = "title: x\nlogsource: {product: aws, service: cloudtrail}\n"
    assert "detection" in str(_refused(tmp_path, text))


def test_a_regex_re2_cannot_run_is_refused_when_converted_not_when_run(tmp_path: Path) -> None:
    # Look-ahead is Perl's, not RE2's (the engine of both pySigma's check and DuckDB).
    error = _refused(tmp_path, rule_text("a: {userAgent|re: '^(?!aws-cli)'}\ncondition: a"))
    assert "(?!" in str(error)


def test_a_cidr_keyword_without_a_field_is_refused(tmp_path: Path) -> None:
    error = _refused(tmp_path, rule_text("a:\n  '|cidr': 10.0.0.0/8\ncondition: a"))
    assert "needs a field" in str(error)


def test_an_invalid_cidr_is_refused(tmp_path: Path) -> None:
    error = _refused(tmp_path, rule_text("a: {sourceIPAddress|cidr: 10.0.0.300/8}\ncondition: a"))
    assert "CIDR" in str(error)


def test_a_missing_rule_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yml"
    with pytest.raises(SigmaRuleError, match="cannot read") as caught:
        convert(str(missing))
    assert caught.value.file == str(missing)


def test_a_placeholder_without_a_pipeline_is_refused(tmp_path: Path) -> None:
    error = _refused(tmp_path, rule_text("a: {sourceIPAddress|expand: '%office%'}\ncondition: a"))
    assert "placeholder" in str(error)


def test_a_rule_given_as_text_names_itself_in_errors() -> None:
    with pytest.raises(SigmaRuleError, match="<sigma rule>"):
        convert(
            "title: x\nlogsource: {product: gcp, service: audit}\ndetection: {a: {b: c}, condition: a}\n"
        )
