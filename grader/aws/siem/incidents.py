"""The planted stories: two intrusions, the benign look-alikes that are events rather than
streams, and the sign-in cases for cross-source correlation.

Each story is planned up front as ``Planted`` events (a time, a whole record, the labels it
carries); the generator writes them when the clock reaches them and reads their eventIDs
back for labels.json. Intruders use what ordinary people use: a stock CLI, a browser, the
organization's own credentials; what gives them away is what they do, from where.

1. The hunt: an IAM user's access key leaks. From an address no one in the organization
   uses, the key is checked (GetCallerIdentity), the estate is mapped across every region,
   a second key is made for another IAM user, a bucket of customer exports is copied out,
   and persistence is left: a new user with a key, AdministratorAccess and an inline
   policy allowing everything, AdministratorAccess on a workload role, and a console
   password for another existing user.
2. Stolen instance credentials (a build runner's role in dev) used from outside: GuardDuty
   disabled, CloudTrail stopped and deleted, SSH opened to the world, instances launched in
   regions the organization never uses, a snapshot and a bucket shared with an outside
   account.
3. Alone: an IAM user's console sign-in without MFA; the root user signing in and looking
   around.
4. Benign look-alikes of single calls: a new hire onboarded, a trail updated, and
   (``admin_lookalikes``) the near misses of a loosened rule for the admin, GuardDuty and
   credentials scenarios.
5. Sign-ins for cross-source correlation (``correlation_cases``): the pattern both ways,
   and the near misses a loosened correlation lets in.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass, field
from typing import Any

from .baseline import HOME, iso, run_instances_op
from .emit import Op
from .org import ALL_REGIONS, CLI_V1, UNUSED_REGIONS, Ids, Organization, Person
from .recordkit import (
    api_record,
    console_login,
    identity_role,
    identity_root,
    identity_user,
    identity_user_console,
)


@dataclass
class Planted:
    ts: int
    record: dict[str, Any]
    tags: tuple[str, ...]  # scenario ids, look-alike ids, "hunt:<part>", "corr:<case>"


@dataclass
class Plan:
    events: list[Planted] = field(default_factory=list)
    # Planted with IDs of their own (a generator apart from ``Ids``) and written to log
    # files of their own, so adding them moves nothing else a seed writes.
    apart: list[Planted] = field(default_factory=list)
    idp: list[tuple[float, dict[str, Any], tuple[str, ...]]] = field(default_factory=list)
    hunt: dict[str, Any] = field(default_factory=dict)
    correlation: list[dict[str, Any]] = field(default_factory=list)

    def add(self, ts: int, record: dict[str, Any], *tags: str) -> None:
        self.events.append(Planted(ts, record, tags))


def _op_record(
    session_ident: dict[str, Any],
    account: str,
    ip: str,
    agent: str,
    op: Op,
    region: str,
    *,
    console: bool = False,
) -> dict[str, Any]:
    return api_record(
        identity=session_ident,
        source=op.source,
        name=op.name,
        region=op.region or region,
        ip=ip,
        agent=agent,
        account=account,
        params=op.params,
        response=op.response if op.error is None else None,
        read_only=op.read_only,
        error=op.error,
        resources=op.resources,
        data_event=op.data,
        extra=op.extra,
        console=console,
    )


def _call(
    source: str,
    name: str,
    params: Any = None,
    response: Any = None,
    *,
    read_only: bool = False,
    region: str | None = None,
    error: tuple[str, str] | None = None,
) -> Op:
    return Op(
        f"{source}.amazonaws.com", name, read_only, params, response, region=region, error=error
    )


def _iam(name: str, params: Any, response: Any = None, *, read_only: bool = False) -> Op:
    return _call("iam", name, params, response, read_only=read_only, region="us-east-1")


ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
# Real AWS managed policies whose names begin like AdministratorAccess's (IAM's "AWS
# managed policies" list).
ADMIN_LOOKALIKE_POLICIES = (
    "arn:aws:iam::aws:policy/AdministratorAccess-Amplify",
    "arn:aws:iam::aws:policy/AdministratorAccess-AWSElasticBeanstalk",
)
EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def policy_text(document: dict[str, Any]) -> str:
    """A policy document as CloudTrail shows an inline policy: the JSON the caller sent."""
    return json.dumps(document, indent=4)


def _new_key(ids: Ids, user: str, created: str) -> dict[str, Any]:
    return {
        "accessKey": {
            "userName": user,
            "accessKeyId": "AKIA" + ids.token(16),
            "status": "Active",
            "createDate": created,
        }
    }


def hunt_story(org: Organization, ids: Ids, plan: Plan, t0: int, selected: set[str]) -> None:
    rng = ids.rng
    owner = org.people[1]
    other = org.people[6]
    profiled = "deploy-legacy"  # a service user that never had a console password
    prod = org.accounts["prod"]
    ips = rng.sample(org.networks["elsewhere"].addresses, 2)
    agent = CLI_V1
    ident = identity_user(owner, prod)
    leaked = ("leaked-access-key",)
    t = t0

    def emit(op: Op, region: str, *tags: str, ip: str = ips[0], s3: bool = False) -> dict[str, Any]:
        ua = f"[{agent}]" if s3 else agent
        rec = _op_record(ident, prod.id, ip, ua, op, region)
        plan.add(t, rec, *leaked, *tags)
        return rec

    first = emit(_call("sts", "GetCallerIdentity", read_only=True), "us-east-1", "hunt:first")
    plan.hunt["first_record"] = first
    # Discovery: who am I allowed to be, what is there, in every region.
    if "discovery-burst-across-regions" in selected:
        disc = ("discovery-burst-across-regions",)
        t += rng.randint(20, 90)
        emit(_iam("GetUser", {"userName": owner.login}, read_only=True), "us-east-1", *disc)
        t += rng.randint(2, 8)
        emit(
            _iam("ListAttachedUserPolicies", {"userName": owner.login}, read_only=True),
            "us-east-1",
            *disc,
        )
        t += rng.randint(2, 8)
        emit(_iam("ListUsers", {"maxItems": 1000}, read_only=True), "us-east-1", *disc)
        t += rng.randint(2, 8)
        emit(
            _call("ec2", "DescribeRegions", {"regionSet": {}, "allRegions": False}, read_only=True),
            "us-east-1",
            *disc,
        )
        for region in ALL_REGIONS:
            for name, params in (
                ("DescribeInstances", {"instancesSet": {}, "filterSet": {}}),
                (
                    "DescribeSecurityGroups",
                    {"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}},
                ),
                (
                    "DescribeSnapshots",
                    {
                        "snapshotSet": {},
                        "ownersSet": {"items": [{"owner": "self"}]},
                        "filterSet": {},
                    },
                ),
            ):
                t += rng.randint(0, 2)
                emit(_call("ec2", name, params, read_only=True), region, *disc)
        t += rng.randint(3, 10)
        emit(
            _call("s3", "ListBuckets", {"Host": "s3.amazonaws.com"}, read_only=True),
            "us-east-1",
            *disc,
        )
        t += rng.randint(1, 4)
        emit(_call("lambda", "ListFunctions20150331", None, read_only=True), HOME, *disc)
        t += rng.randint(1, 4)
        emit(
            _call(
                "secretsmanager",
                "ListSecrets",
                None,
                read_only=True,
                error=(
                    "AccessDeniedException",
                    f"User: {ident['arn']} is not authorized to perform: secretsmanager:ListSecrets because no identity-based policy allows the secretsmanager:ListSecrets action",
                ),
            ),
            HOME,
            *disc,
        )
    # A key for another user.
    persistence: dict[str, list[str]] = {
        "access_keys": [],
        "users": [],
        "login_profiles": [],
        "policies": [],
    }
    creds = ("credentials-created-for-another-user",)
    if "credentials-created-for-another-user" in selected:
        t += rng.randint(120, 600)
        emit(_iam("ListAccessKeys", {"userName": other.login}, read_only=True), "us-east-1")
        t += rng.randint(5, 30)
        key = _new_key(ids, other.login, iso(t))
        emit(
            _iam("CreateAccessKey", {"userName": other.login}, key),
            "us-east-1",
            *creds,
            "hunt:persistence",
        )
        persistence["access_keys"].append(key["accessKey"]["accessKeyId"])
    # Exfiltration: list, then copy the customer exports out, from a second address.
    taken: list[str] = []
    bucket = org.buckets["prod"][0]
    if "object-exfiltration-burst" in selected:
        t += rng.randint(300, 1500)
        host = f"{bucket}.s3.{HOME}.amazonaws.com"
        emit(
            Op(
                "s3.amazonaws.com",
                "ListObjects",
                True,
                {"bucketName": bucket, "Host": host, "prefix": "", "max-keys": 1000},
                data=True,
                resources=[{"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}],
                extra=_s3_extra(ids, 0, 48_213),
            ),
            HOME,
            "object-exfiltration-burst",
            ip=ips[1],
            s3=True,
        )
        for i in range(rng.randint(180, 320)):
            key_name = f"exports/customers-{2025 + i // 200}-{i % 12 + 1:02d}-{i:04d}.csv.gz"
            t += rng.choice((0, 0, 1))
            op = Op(
                "s3.amazonaws.com",
                "GetObject",
                True,
                {"bucketName": bucket, "Host": host, "key": key_name},
                data=True,
                resources=[
                    {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key_name}"},
                    {"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
                ],
                extra=_s3_extra(ids, 0, rng.randint(200_000, 6_000_000)),
            )
            emit(op, HOME, "object-exfiltration-burst", ip=ips[1], s3=True)
            taken.append(key_name)
    # Persistence: a new user with a key and administrator rights; a password for another.
    if "credentials-created-for-another-user" in selected or "admin-policy-attached" in selected:
        new_user = rng.choice(
            ("backup-sync", "ci-deployer-legacy", "monitoring-agent", "s3-replication")
        )
        t += rng.randint(200, 900)
        emit(
            _iam(
                "CreateUser",
                {"userName": new_user},
                {
                    "user": {
                        "path": "/",
                        "userName": new_user,
                        "userId": "AIDA" + ids.token(17),
                        "arn": f"arn:aws:iam::{prod.id}:user/{new_user}",
                        "createDate": iso(t),
                    }
                },
            ),
            "us-east-1",
            "hunt:persistence",
        )
        persistence["users"].append(new_user)
        if "credentials-created-for-another-user" in selected:
            t += rng.randint(3, 20)
            key = _new_key(ids, new_user, iso(t))
            emit(
                _iam("CreateAccessKey", {"userName": new_user}, key),
                "us-east-1",
                *creds,
                "hunt:persistence",
            )
            persistence["access_keys"].append(key["accessKey"]["accessKeyId"])
        if "admin-policy-attached" in selected:
            t += rng.randint(3, 20)
            emit(
                _iam("AttachUserPolicy", {"userName": new_user, "policyArn": ADMIN_POLICY}),
                "us-east-1",
                "admin-policy-attached",
                "hunt:persistence",
            )
            persistence["policies"].append(f"{new_user}:{ADMIN_POLICY}")
            # The other forms of the same technique: a workload role made administrator,
            # and an inline policy allowing everything (no managed policy named at all).
            workloads = [
                r
                for r in org.roles.values()
                if r.account.id == prod.id and not r.path.startswith("/aws-service-role/")
            ]
            role = rng.choice(workloads)
            t += rng.randint(20, 120)
            emit(
                _iam("AttachRolePolicy", {"roleName": role.name, "policyArn": ADMIN_POLICY}),
                "us-east-1",
                "admin-policy-attached",
                "hunt:persistence",
            )
            persistence["policies"].append(f"role/{role.name}:{ADMIN_POLICY}")
            inline = rng.choice(("sync", "ops", "backup"))
            t += rng.randint(20, 120)
            emit(
                _iam(
                    "PutUserPolicy",
                    {
                        "userName": new_user,
                        "policyName": inline,
                        "policyDocument": policy_text(EVERYTHING),
                    },
                ),
                "us-east-1",
                "admin-policy-attached",
                "hunt:persistence",
            )
            persistence["policies"].append(f"{new_user}:inline/{inline}")
        if "credentials-created-for-another-user" in selected:
            t += rng.randint(30, 200)
            emit(
                _iam(
                    "CreateLoginProfile",
                    {"userName": profiled, "passwordResetRequired": False},
                    {
                        "loginProfile": {
                            "userName": profiled,
                            "createDate": iso(t),
                            "passwordResetRequired": False,
                        }
                    },
                ),
                "us-east-1",
                *creds,
                "hunt:persistence",
            )
            persistence["login_profiles"].append(profiled)
    plan.hunt.update(
        {
            "access_key_id": owner.access_key,
            "user": owner.login,
            "account": prod.id,
            "source_ips": ips,
            "user_agent": agent,
            "buckets": [bucket] if taken else [],
            "objects": taken,
            "persistence": persistence,
        }
    )


def _s3_extra(ids: Ids, bytes_in: int, bytes_out: int) -> dict[str, Any]:
    import base64

    return {
        "SignatureVersion": "SigV4",
        "CipherSuite": "TLS_AES_128_GCM_SHA256",
        "bytesTransferredIn": bytes_in,
        "AuthenticationMethod": "AuthHeader",
        "x-amz-id-2": base64.b64encode(ids.rng.getrandbits(408).to_bytes(51, "big")).decode(),
        "bytesTransferredOut": bytes_out,
    }


def instance_credentials_story(
    org: Organization, ids: Ids, plan: Plan, t0: int, selected: set[str]
) -> None:
    rng = ids.rng
    dev = org.accounts["dev"]
    role = org.roles["build-instance"]
    instance = f"i-0{rng.getrandbits(64):016x}"
    ident = identity_role(role, instance, "ASIA" + ids.token(16), iso(t0 - rng.randint(600, 3000)))
    ip = rng.choice(
        [a for a in org.networks["elsewhere"].addresses if a not in plan.hunt.get("source_ips", ())]
    )
    agent = CLI_V1
    t = t0

    def emit(op: Op, region: str, *tags: str) -> None:
        plan.add(t, _op_record(ident, dev.id, ip, agent, op, region), *tags)

    emit(_call("sts", "GetCallerIdentity", read_only=True), "us-east-1")
    if "cloudtrail-stopped-or-guardduty-disabled" in selected:
        tag = "cloudtrail-stopped-or-guardduty-disabled"
        t += rng.randint(30, 120)
        emit(_call("guardduty", "ListDetectors", None, read_only=True), HOME)
        t += rng.randint(3, 15)
        emit(
            _call(
                "guardduty", "UpdateDetector", {"detectorId": "6ab2c0e7d1f94a3b", "enable": False}
            ),
            HOME,
            tag,
        )
        t += rng.randint(10, 60)
        trail = f"arn:aws:cloudtrail:{HOME}:{dev.id}:trail/dev-account-trail"
        emit(_call("cloudtrail", "StopLogging", {"name": trail}), HOME, tag)
    if "ssh-open-to-world" in selected:
        t += rng.randint(60, 300)
        sg = f"sg-0{rng.getrandbits(64):016x}"
        emit(
            _call(
                "ec2",
                "AuthorizeSecurityGroupIngress",
                {
                    "groupId": sg,
                    "ipPermissions": {
                        "items": [
                            {
                                "ipProtocol": "tcp",
                                "fromPort": 22,
                                "toPort": 22,
                                "groups": {},
                                "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
                                "ipv6Ranges": {},
                                "prefixListIds": {},
                            }
                        ]
                    },
                },
                {
                    "requestId": "",
                    "_return": True,
                    "securityGroupRuleSet": {
                        "items": [
                            {
                                "groupOwnerId": dev.id,
                                "groupId": sg,
                                "securityGroupRuleId": f"sgr-0{rng.getrandbits(64):016x}",
                                "isEgress": False,
                                "ipProtocol": "tcp",
                                "fromPort": 22,
                                "toPort": 22,
                                "cidrIpv4": "0.0.0.0/0",
                            }
                        ]
                    },
                },
            ),
            HOME,
            "ssh-open-to-world",
        )
    if "instances-in-unused-regions" in selected:
        for region in rng.sample(UNUSED_REGIONS, 3):
            t += rng.randint(20, 120)
            emit(
                run_instances_op(
                    dev,
                    region,
                    rng.choice(("c5.4xlarge", "g4dn.xlarge", "c6i.8xlarge")),
                    rng,
                    count=rng.randint(4, 10),
                ),
                region,
                "instances-in-unused-regions",
            )
    if "resource-shared-outside" in selected:
        outside = org.external_accounts[0]
        t += rng.randint(60, 400)
        snap = f"snap-0{rng.getrandbits(64):016x}"
        emit(
            _call(
                "ec2",
                "ModifySnapshotAttribute",
                {
                    "snapshotId": snap,
                    "createVolumePermission": {"add": {"items": [{"userId": outside}]}},
                    "attributeType": "CREATE_VOLUME_PERMISSION",
                },
                {"requestId": "", "_return": True},
            ),
            HOME,
            "resource-shared-outside",
        )
        bucket = org.buckets["dev"][0]
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{outside}:root"},
                    "Action": ["s3:GetObject", "s3:ListBucket"],
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                }
            ],
        }
        t += rng.randint(20, 200)
        emit(
            _call(
                "s3",
                "PutBucketPolicy",
                {
                    "bucketName": bucket,
                    "Host": f"{bucket}.s3.{HOME}.amazonaws.com",
                    "bucketPolicy": policy,
                    "policy": "",
                },
            ),
            HOME,
            "resource-shared-outside",
        )
    if "cloudtrail-stopped-or-guardduty-disabled" in selected:
        t += rng.randint(60, 300)
        trail = f"arn:aws:cloudtrail:{HOME}:{dev.id}:trail/dev-account-trail"
        emit(
            _call("cloudtrail", "DeleteTrail", {"name": trail}),
            HOME,
            "cloudtrail-stopped-or-guardduty-disabled",
        )


def no_mfa_login(org: Organization, ids: Ids, plan: Plan, t0: int) -> None:
    rng = ids.rng
    person = org.people[13]
    prod = org.accounts["prod"]
    ip = rng.choice(org.networks["carrier"].addresses[:40])
    browser = _browser(org, rng)
    rec = console_login(
        identity=identity_user(person, prod), account=prod.id, ip=ip, agent=browser, mfa_used="No"
    )
    plan.add(t0, rec, "console-login-without-mfa")
    ident = identity_user_console(person, prod, "ASIA" + ids.token(16), iso(t0), mfa=False)
    t = t0
    for name, params in (
        ("DescribeInstances", {"instancesSet": {}, "filterSet": {}}),
        (
            "DescribeSecurityGroups",
            {"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}},
        ),
    ):
        t += rng.randint(10, 60)
        plan.add(
            t,
            _op_record(
                ident,
                prod.id,
                ip,
                "AWS Internal",
                _call("ec2", name, params, read_only=True),
                HOME,
                console=True,
            ),
        )


def root_use(org: Organization, ids: Ids, plan: Plan, t0: int) -> None:
    rng = ids.rng
    prod = org.accounts["prod"]
    ip = rng.choice(org.networks["elsewhere"].addresses)
    browser = _browser(org, rng)
    tag = "root-account-use"
    rec = console_login(
        identity=identity_root(prod), account=prod.id, ip=ip, agent=browser, mfa_used="Yes"
    )
    plan.add(t0, rec, tag)
    ident = identity_root(prod, "ASIA" + ids.token(16))
    t = t0
    for op in (
        _iam("GetAccountSummary", None, read_only=True),
        _iam("ListUsers", {"maxItems": 100}, read_only=True),
        _iam("GetAccountPasswordPolicy", None, read_only=True),
        _call("ec2", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}, read_only=True),
        _call("s3", "ListBuckets", {"Host": "s3.amazonaws.com"}, read_only=True),
    ):
        t += rng.randint(15, 90)
        plan.add(t, _op_record(ident, prod.id, ip, "AWS Internal", op, HOME, console=True), tag)


def onboarding(org: Organization, ids: Ids, plan: Plan, t0: int) -> None:
    """An administrator sets up a new hire in the console, from the office."""
    rng = ids.rng
    admin = org.people[0]
    prod = org.accounts["prod"]
    role = org.sso_roles[("prod", "AdministratorAccess")]
    ident = identity_role(role, admin.email, "ASIA" + ids.token(16), iso(t0 - 1800))
    ip = admin.network.addresses[0]
    hire = rng.choice(("riku.okada", "mio.fujita", "sota.ishikawa", "hina.ogawa"))
    tag = "onboarding-new-hire"
    t = t0
    steps = [
        _iam(
            "CreateUser",
            {"userName": hire, "tags": [{"key": "team", "value": "app"}]},
            {
                "user": {
                    "path": "/",
                    "userName": hire,
                    "userId": "AIDA" + ids.token(17),
                    "arn": f"arn:aws:iam::{prod.id}:user/{hire}",
                    "createDate": iso(t0),
                }
            },
        ),
        _iam("AddUserToGroup", {"groupName": "developers", "userName": hire}),
        _iam(
            "CreateLoginProfile",
            {"userName": hire, "passwordResetRequired": True},
            {
                "loginProfile": {
                    "userName": hire,
                    "createDate": iso(t0 + 60),
                    "passwordResetRequired": True,
                }
            },
        ),
        _iam("CreateAccessKey", {"userName": hire}, _new_key(ids, hire, iso(t0 + 120))),
    ]
    for op in steps:
        plan.add(
            t, _op_record(ident, prod.id, ip, "AWS Internal", op, "us-east-1", console=True), tag
        )
        t += rng.randint(20, 70)


def trail_update(org: Organization, ids: Ids, plan: Plan, t0: int) -> None:
    """The security team adds S3 data events to the organization trail: changed, not stopped."""
    rng = ids.rng
    person = org.people[3]
    sec = org.accounts["security"]
    role = org.sso_roles[("security", "AdministratorAccess")]
    ident = identity_role(role, person.email, "ASIA" + ids.token(16), iso(t0 - 900))
    trail = f"arn:aws:cloudtrail:{HOME}:{sec.id}:trail/org-trail"
    ip = person.network.addresses[0]
    agent = person.cli + " md/command#cloudtrail.put-event-selectors"
    tag = "trail-updated-not-stopped"
    plan.add(
        t0,
        _op_record(
            ident,
            sec.id,
            ip,
            agent.replace("put-event-selectors", "update-trail"),
            _call(
                "cloudtrail",
                "UpdateTrail",
                {"name": trail, "isMultiRegionTrail": True, "includeGlobalServiceEvents": True},
            ),
            HOME,
        ),
        tag,
    )
    plan.add(
        t0 + rng.randint(30, 120),
        _op_record(
            ident,
            sec.id,
            ip,
            agent,
            _call(
                "cloudtrail",
                "PutEventSelectors",
                {
                    "trailName": trail,
                    "advancedEventSelectors": [
                        {
                            "name": "S3 data events",
                            "fieldSelectors": [
                                {"field": "eventCategory", "equals": ["Data"]},
                                {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                            ],
                        }
                    ],
                },
            ),
            HOME,
        ),
        tag,
    )


def admin_lookalikes(org: Organization, ids: Ids, plan: Plan, t0: int) -> None:
    """Office-hours near misses of the admin, GuardDuty and credentials scenarios, each a
    look-alike of scenarios.py, spread over the afternoon from ``t0``."""
    rng = ids.rng
    prod, sec = org.accounts["prod"], org.accounts["security"]
    admin = org.people[0]
    ident = identity_role(
        org.sso_roles[("prod", "AdministratorAccess")],
        admin.email,
        "ASIA" + ids.token(16),
        iso(t0 - 1200),
    )
    ip = admin.network.addresses[0]
    t = t0
    # A deployment role gets Amplify's administrator policy, in the console.
    op = _iam(
        "AttachRolePolicy",
        {"roleName": "amplify-console-deploy", "policyArn": rng.choice(ADMIN_LOOKALIKE_POLICIES)},
    )
    plan.add(
        t,
        _op_record(ident, prod.id, ip, "AWS Internal", op, "us-east-1", console=True),
        "managed-policy-named-like-admin",
    )
    # A scoped inline policy: read the exports bucket, nothing else.
    scoped = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{org.buckets['prod'][0]}/*",
            }
        ],
    }
    op = _iam(
        "PutRolePolicy",
        {
            "roleName": org.roles["pipeline"].name,
            "policyName": "read-exports",
            "policyDocument": policy_text(scoped),
        },
    )
    t += rng.randint(600, 3600)
    plan.add(
        t,
        _op_record(ident, prod.id, ip, "AWS Internal", op, "us-east-1", console=True),
        "scoped-inline-policy",
    )
    # The security team tunes GuardDuty from the CLI: changed, still enabled.
    expert = org.people[3]
    sec_ident = identity_role(
        org.sso_roles[("security", "AdministratorAccess")],
        expert.email,
        "ASIA" + ids.token(16),
        iso(t - 600),
    )
    op = _call(
        "guardduty",
        "UpdateDetector",
        {"detectorId": ids.hex(32), "findingPublishingFrequency": "FIFTEEN_MINUTES"},
    )
    t += rng.randint(600, 3600)
    plan.add(
        t,
        _op_record(sec_ident, sec.id, expert.network.addresses[0], expert.cli, op, HOME),
        "detector-changed-not-disabled",
    )
    # An IAM user rotates their own key, naming themselves (as the CLI lets them).
    user = org.people[9]
    t += rng.randint(600, 3600)
    op = _iam("CreateAccessKey", {"userName": user.login}, _new_key(ids, user.login, iso(t)))
    plan.add(
        t,
        _op_record(
            identity_user(user, prod), prod.id, user.network.addresses[0], user.cli, op, "us-east-1"
        ),
        "own-access-key-rotated",
    )


# --- correlation: the IdP's sign-ins against the console's -----------------------------


def _idp(
    plan: Plan,
    ts: float,
    person: Person,
    ip: str,
    agent: str,
    success: bool,
    case: str,
    where: tuple[str, str],
    uuid: str = "",
) -> None:
    """An IdP sign-in of a case; with no ``uuid`` the generator gives it one."""
    event = {
        "uuid": uuid,
        "published": "",
        "eventType": "user.session.start",
        "actor": {
            "id": person.idp_id,
            "type": "User",
            "alternateId": person.email,
            "displayName": person.display,
        },
        "client": {
            "ipAddress": ip,
            "userAgent": {"rawUserAgent": agent},
            "geographicalContext": {"country": where[0], "city": where[1]},
        },
        "outcome": {
            "result": "SUCCESS" if success else "FAILURE",
            "reason": None if success else "INVALID_CREDENTIALS",
        },
        "displayMessage": "User login to Okta",
    }
    plan.idp.append((ts, event, (f"corr:{case}",)))


def correlation_cases(
    org: Organization, ids: Ids, plan: Plan, day_start: int, own: random.Random
) -> None:
    """Planted on one day (``day_start`` is midnight in Tokyo), from 18:00 to 23:35, when
    nobody's ordinary sign-in comes near: a workday's begins by 11:00, an on-call weekend's
    by 16:00 (baseline.People). No person of a case signs in elsewhere in the plan either
    (no_mfa_login's IAM user, people[13], is in none), and where a person has two cases
    (people[9]: 1 and 4; people[6]: 2 and 5) no event of one pairs with an event of the
    other, so each case is the pattern exactly when it is labelled so.

    Cases 1-4 draw from ``ids.rng`` (but for 1 and 2's addresses); 5 and 6 came later and
    draw only from ``own``, so that adding them changed nothing else a seed writes (they go
    to ``plan.apart``)."""
    rng = ids.rng
    prod = org.accounts["prod"]
    away = ("Netherlands", "Amsterdam")
    home = ("Japan", "Tokyo")
    used = set(plan.hunt.get("source_ips", ()))
    elsewhere = [a for a in org.networks["elsewhere"].addresses if a not in used]

    def case(case_id: str, expected: bool, person: Person, description: str) -> dict[str, Any]:
        return _case(plan, case_id, expected, person, description)

    # The two pattern cases' addresses are drawn per seed (from ``own``, so nothing else a
    # seed writes changes): a query that names addresses seen in a practice dataset must
    # not find the grader's cases.
    first_ip, second_ip = own.sample(elsewhere, 2)
    # 1. IdP failures, then an AWS console success within 30 minutes (from the same place).
    p = org.people[9]
    ip = first_ip
    browser = _browser(org, rng)
    t = day_start + 20 * 3600 + rng.randint(0, 1800)
    c = case(
        "idp-failure-then-console-success",
        True,
        p,
        "IdP sign-ins fail, then the AWS console sign-in succeeds within 30 minutes",
    )
    c["source_ips"].append(ip)
    for i in range(3):
        _idp(plan, t + i * rng.uniform(20, 60), p, ip, browser, False, c["id"], away)
    plan.add(
        int(t + rng.randint(8, 25) * 60),
        console_login(identity=identity_user(p, prod), account=prod.id, ip=ip, agent=browser),
        f"corr:{c['id']}",
    )
    # 2. The reverse: AWS console sign-ins fail, then the IdP's succeeds within 30 minutes.
    p = org.people[6]
    ip = second_ip
    t = day_start + 21 * 3600 + rng.randint(0, 1800)
    c = case(
        "console-failure-then-idp-success",
        True,
        p,
        "AWS console sign-ins fail, then the IdP sign-in succeeds within 30 minutes",
    )
    c["source_ips"].append(ip)
    for i in range(2):
        plan.add(
            int(t + i * rng.randint(20, 50)),
            console_login(
                identity=_failed_user(p, prod),
                account=prod.id,
                ip=ip,
                agent=browser,
                success=False,
                mfa_used="No",
            ),
            f"corr:{c['id']}",
        )
    _idp(plan, t + rng.randint(6, 20) * 60, p, ip, browser, True, c["id"], away)
    # 3. Near miss: an IdP failure, then an IdP success, then the console: a typo.
    p = org.people[4]
    ip = p.network.addresses[-1]
    t = day_start + 19 * 3600 + rng.randint(0, 1800)
    c = case(
        "idp-typo-then-success-then-console",
        False,
        p,
        "An IdP failure, an IdP success, then the console: benign",
    )
    c["source_ips"].append(ip)
    _idp(plan, t, p, ip, p.browser, False, c["id"], home)
    _idp(plan, t + rng.uniform(30, 90), p, ip, p.browser, True, c["id"], home)
    role = org.sso_roles[("dev", "PowerUserAccess")]
    ident = identity_role(role, p.email, "ASIA" + ids.token(16), iso(t + 150))
    plan.add(
        int(t + 180),
        console_login(
            identity=ident,
            account=org.accounts["dev"].id,
            ip=ip,
            agent=p.browser,
            mfa_used="No",
            sso=True,
        ),
        f"corr:{c['id']}",
    )
    # 4. Near miss: an IdP failure, and a console sign-in 45 minutes later. An IAM user
    # (the console does not go through the IdP); not people[13], whose sign-in without MFA
    # (no_mfa_login) can fall at any hour and would make a real match of the failure.
    # people[9] is case 1's, 50 minutes or more later.
    p = org.people[9]
    ip = p.network.addresses[0]
    t = day_start + 18 * 3600 + rng.randint(0, 1200)
    c = case(
        "idp-failure-console-after-45-minutes",
        False,
        p,
        "An IdP failure and a console sign-in 45 minutes later: outside the window",
    )
    c["source_ips"].append(ip)
    _idp(plan, t, p, ip, p.browser, False, c["id"], home)
    plan.add(
        int(t + 45 * 60 + rng.randint(0, 300)),
        console_login(identity=identity_user(p, prod), account=prod.id, ip=ip, agent=p.browser),
        f"corr:{c['id']}",
    )
    _near_misses_apart(org, plan, day_start, own)


def lookalikes_apart(org: Organization, plan: Plan, t0: int, rng: random.Random) -> None:
    """Look-alikes added after the rest, planted apart (IDs and all from ``rng``, so
    nothing else a seed writes moves): a developer's IAM user attaching managed policies
    that are not AdministratorAccess, and reading report objects one by one through the
    afternoon from ``t0``."""
    prod = org.accounts["prod"]
    dev = org.people[9]  # an IAM user; their correlation cases are after 18:00
    ident = identity_user(dev, prod)
    ip = dev.network.addresses[-1]

    def plant(ts: int, op: Op, tag: str, *, s3: bool = False) -> None:
        agent = f"[{dev.cli}]" if s3 else dev.cli  # S3 records the agent in brackets
        rec = _op_record(ident, prod.id, ip, agent, op, op.region or HOME)
        rec["eventTime"] = iso(ts)
        rec["eventID"] = _uuid(rng)
        if "requestID" in rec:
            rec["requestID"] = f"{rng.getrandbits(64):016X}" if s3 else _uuid(rng)
        plan.apart.append(Planted(ts, rec, (tag,)))

    t = t0
    for params in (
        {"roleName": "audit-readonly", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
        {"userName": dev.login, "policyArn": "arn:aws:iam::aws:policy/IAMUserChangePassword"},
    ):
        name = "AttachRolePolicy" if "roleName" in params else "AttachUserPolicy"
        plant(t, _iam(name, params), "iam-user-attaches-other-policies")
        t += rng.randint(120, 900)
    bucket = org.buckets["prod"][2]
    host = f"{bucket}.s3.{HOME}.amazonaws.com"
    for i in range(rng.randint(45, 60)):
        t += rng.randint(150, 400)  # one file every few minutes: never a burst
        key = f"reports/weekly/{2026 - i // 52}-w{52 - i % 52:02d}.pdf"
        op = Op(
            "s3.amazonaws.com",
            "GetObject",
            True,
            {"bucketName": bucket, "Host": host, "key": key},
            data=True,
            resources=[
                {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
                {"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
            ],
            extra={
                "SignatureVersion": "SigV4",
                "CipherSuite": "TLS_AES_128_GCM_SHA256",
                "bytesTransferredIn": 0,
                "AuthenticationMethod": "AuthHeader",
                "x-amz-id-2": base64.b64encode(rng.getrandbits(408).to_bytes(51, "big")).decode(),
                "bytesTransferredOut": rng.randint(80_000, 900_000),
            },
        )
        plant(t, op, "iam-user-reads-reports", s3=True)


def _near_misses_apart(org: Organization, plan: Plan, day_start: int, rng: random.Random) -> None:
    """Cases 5 and 6, the near misses that trap the two loosenings cases 3 and 4 do not: a
    window widened to 45 minutes (case 4 lies at 45-50), and matching on the address
    instead of the person. Everything here, IDs included, comes from ``rng``."""
    prod = org.accounts["prod"]

    def sign_in(
        ts: int, person: Person, ip: str, agent: str, case_id: str, success: bool = True
    ) -> None:
        if success:
            identity = identity_user(person, prod)
            rec = console_login(identity=identity, account=prod.id, ip=ip, agent=agent)
        else:
            rec = console_login(
                identity=_failed_user(person, prod),
                account=prod.id,
                ip=ip,
                agent=agent,
                success=False,
                mfa_used="No",
            )
        rec["eventTime"] = iso(ts)
        rec["eventID"] = _uuid(rng)
        plan.apart.append(Planted(ts, rec, (f"corr:{case_id}",)))

    # 5. Near miss: an IdP failure at home in the evening, then the console 35-44 minutes
    # later. An IAM user again; people[6] is case 2's, which ends by 21:50 and holds no
    # IdP failure this console sign-in could pair with.
    p = org.people[6]
    carrier = org.networks["carrier"]
    ip = rng.choice(carrier.addresses[40:])  # not the addresses no_mfa_login draws from
    t = day_start + 22 * 3600 + rng.randint(0, 900)
    at = t + rng.randint(35 * 60, 44 * 60)
    c = _case(
        plan,
        "idp-failure-console-after-40-minutes",
        False,
        p,
        "An IdP failure and the person's console sign-in 35-44 minutes later: "
        "outside the 30-minute window",
    )
    c["source_ips"].append(ip)
    _idp(plan, t, p, ip, p.browser, False, c["id"], (carrier.country, carrier.city), _uuid(rng))
    sign_in(at, p, ip, p.browser, c["id"])
    # 6. Near miss: someone fails at the IdP; a colleague (an IAM user) behind the same VPN
    # address signs in to the console minutes later. Two people, not one.
    a, b = org.people[12], org.people[1]
    vpn = org.networks["vpn"]
    ip = vpn.addresses[rng.randrange(len(vpn.addresses))]
    t = day_start + 23 * 3600 + rng.randint(0, 600)
    c = _case(
        plan,
        "colleague-same-address",
        False,
        b,
        f"{a.login} fails at the IdP; {b.login}, behind the same VPN address, signs in "
        "to the console: two people, not one",
    )
    c["source_ips"].append(ip)
    for i in range(2):
        _idp(
            plan,
            t + i * rng.uniform(15, 40),
            a,
            ip,
            a.browser,
            False,
            c["id"],
            (vpn.country, vpn.city),
            _uuid(rng),
        )
    sign_in(t + rng.randint(8, 25) * 60, b, ip, b.browser, c["id"])
    _reverse_near_misses(org, plan, day_start, rng, sign_in)


def _reverse_near_misses(
    org: Organization, plan: Plan, day_start: int, rng: random.Random, sign_in: Any
) -> None:
    """Cases 7-9, the near misses of the loosenings 1-6 do not trap: a window with no
    direction (an IdP failure just after a console success), the reverse direction without
    its "no success between" (a console failure, the right password, then the IdP) and the
    reverse window widened (the IdP success 35-44 minutes after the console failure).
    People 9 and 6 again, each event at least 40 minutes from their other cases' (1 ends by
    20:55, 4 by 19:30; 2 runs 21:00-21:50, 5 from 22:00), so none pairs across cases."""
    home = org.networks["carrier"]
    where = (home.country, home.city)
    # 7. A console success, then an IdP failure 5-10 minutes later: wrong order.
    p = org.people[9]
    ip = rng.choice(home.addresses[40:])
    t = day_start + 21 * 3600 + 30 * 60 + rng.randint(0, 600)
    c = _case(plan, "console-success-then-idp-failure", False, p,
              "A console sign-in, then an IdP failure minutes later: the order is wrong")  # fmt: skip
    c["source_ips"].append(ip)
    sign_in(t, p, ip, p.browser, c["id"])
    _idp(plan, t + rng.randint(300, 600), p, ip, p.browser, False, c["id"], where, _uuid(rng))
    # 8. Console failure, a console success (the right password), then the IdP's success.
    t = day_start + 22 * 3600 + 30 * 60 + rng.randint(0, 600)
    c = _case(plan, "console-failure-then-success-then-idp", False, p,
              "A console failure, the right password a minute later, then the IdP: benign")  # fmt: skip
    c["source_ips"].append(ip)
    sign_in(t, p, ip, p.browser, c["id"], success=False)
    sign_in(t + rng.randint(40, 90), p, ip, p.browser, c["id"])
    _idp(plan, t + rng.randint(300, 900), p, ip, p.browser, True, c["id"], where, _uuid(rng))
    # 9. A console failure, then the IdP's success 35-44 minutes later: outside the window.
    p = org.people[6]
    ip = rng.choice(home.addresses[40:])
    t = day_start + 19 * 3600 + rng.randint(0, 600)
    c = _case(plan, "console-failure-idp-success-after-40-minutes", False, p,
              "A console failure and an IdP success 35-44 minutes later: outside the window")  # fmt: skip
    c["source_ips"].append(ip)
    sign_in(t, p, ip, p.browser, c["id"], success=False)
    _idp(plan, t + rng.randint(35 * 60, 44 * 60), p, ip, p.browser, True, c["id"], where,
         _uuid(rng))  # fmt: skip


def _case(
    plan: Plan, case_id: str, expected: bool, person: Person, description: str
) -> dict[str, Any]:
    """A correlation case's labels; ``person`` is the one whose console sign-in it holds."""
    entry: dict[str, Any] = {
        "id": case_id,
        "expected": expected,
        "user": person.login,
        "email": person.email,
        "description": description,
        "source_ips": [],
        "idp_uuids": [],
        "eventIDs": [],
    }
    plan.correlation.append(entry)
    return entry


def _uuid(rng: random.Random) -> str:
    """A version-4 UUID from ``rng``, as Emitter.uuid makes them."""
    x = f"{rng.getrandbits(128):032x}"
    return f"{x[:8]}-{x[8:12]}-4{x[13:16]}-{'89ab'[int(x[16], 16) & 3]}{x[17:20]}-{x[20:]}"


def _browser(org: Organization, rng: random.Random) -> str:
    """A browser someone in the organization uses (so the string gives nothing away)."""
    return rng.choice(sorted({p.browser for p in org.people}))


def _failed_user(person: Person, account: Any) -> dict[str, Any]:
    # A failed console sign-in names the user but carries no principal (the user is not
    # yet authenticated): "AWS Management Console sign-in events", CloudTrail User Guide.
    return {
        "type": "IAMUser",
        "principalId": person.user_id,
        "accountId": account.id,
        "accessKeyId": "",
        "userName": person.login,
    }


def pick_times(rng: random.Random, start: int, days: int, count: int) -> list[int]:
    """``count`` distinct moments spread over the span, each at least an hour from its ends."""
    span = days * 86400
    slots = sorted(rng.sample(range(count * 3), count))
    return [start + 3600 + int((span - 3 * 3600) * (s + rng.random()) / (count * 3)) for s in slots]
