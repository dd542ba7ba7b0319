"""The benign baseline: an organization's ordinary days in CloudTrail and the IdP's log.

People sign in in the morning (IdP with MFA, then the console through IAM Identity Center,
or as IAM users with MFA), work through office hours in Tokyo time with a lunch dip, read
far more than they write and now and then hit AccessDenied. Machines work around the
clock: the orders API's tasks and a Lambda handler read and write S3 and KMS, AWS services
assume roles and act through service-linked roles (``invokedBy``), AWS Config describes,
the data pipeline reads thousands of objects each night, the security account's posture
scanner sweeps every region daily, and CI (GitHub Actions through OIDC) deploys on
workdays. Each source is a ``Stream`` with a rate per 5-minute slice; machine streams scale
to reach the requested event count, people do not.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .emit import Emitter, Op, Session
from .org import (
    ALL_REGIONS,
    CONSOLE_INTERNAL,
    GO_SDK,
    JAVA_SDK,
    JST,
    TERRAFORM,
    Account,
    Ids,
    Organization,
    Person,
)
from .recordkit import (
    api_record,
    console_login,
    identity_role,
    identity_service,
    identity_user,
    identity_user_console,
    raw_slot,
    slot,
)

SLICE = 300
HOME = "ap-northeast-1"


def iso(ts: float) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def local_hour(ts: float) -> float:
    return ((ts + JST * 3600) % 86400) / 3600


def is_workday(ts: float) -> bool:
    # 1970-01-01 was a Thursday: (days + 3) % 7 gives Monday = 0.
    return (int((ts + JST * 3600) // 86400) + 3) % 7 < 5


# --- the calls ------------------------------------------------------------------------


def _fill_get(vals: dict[str, str], em: Any) -> None:
    rng = em.rng
    vals["k"] = (
        f"{rng.randrange(2025, 2027)}/{rng.randrange(1, 13):02d}/{rng.randrange(1, 29):02d}/part-{rng.getrandbits(20):05x}.parquet"
    )
    vals["b"] = str(rng.randrange(40_000, 9_000_000))
    vals["x"] = em.amz_id()


def _fill_asset(vals: dict[str, str], em: Any) -> None:
    rng = em.rng
    vals["k"] = (
        f"static/{rng.choice(('img', 'css', 'js', 'fonts'))}/{rng.getrandbits(32):08x}.{rng.choice(('webp', 'css', 'js', 'woff2'))}"
    )
    vals["b"] = str(rng.randrange(800, 400_000))
    vals["x"] = em.amz_id()


def _fill_export(vals: dict[str, str], em: Any) -> None:
    rng = em.rng
    vals["k"] = f"exports/{rng.getrandbits(40):010x}.csv.gz"
    vals["b"] = str(rng.randrange(2_000, 900_000))
    vals["x"] = em.amz_id()


def s3_object_op(
    bucket: str,
    name: str,
    region: str,
    fill: Callable[[dict[str, str], Any], None],
    *,
    prefix: str = "",
) -> Op:
    """A GetObject/PutObject data event whose key and byte count vary per call."""
    read = name == "GetObject"
    extra = {
        "SignatureVersion": "SigV4",
        "CipherSuite": "TLS_AES_128_GCM_SHA256",
        "bytesTransferredIn": 0 if read else raw_slot("b"),
        "AuthenticationMethod": "AuthHeader",
        "x-amz-id-2": slot("x"),
        "bytesTransferredOut": raw_slot("b") if read else 0,
    }
    key = prefix + slot("k")
    return Op(
        "s3.amazonaws.com",
        name,
        read_only=read,
        params={"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com", "key": key},
        response=None if read else {"x-amz-server-side-encryption": "aws:kms"},
        resources=[
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
            {"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
        ],
        data=True,
        extra=extra,
        fill=fill,
    )


def _ro(source: str, name: str, params: Any = None, region: str | None = None) -> Op:
    return Op(f"{source}.amazonaws.com", name, True, params, region=region)


def _rw(source: str, name: str, params: Any = None, response: Any = None) -> Op:
    return Op(f"{source}.amazonaws.com", name, False, params, response)


def _denied(source: str, name: str, action: str, resource: str, code: str = "AccessDenied") -> Op:
    message = (
        f"User: {{arn}} is not authorized to perform: {action} on resource: {resource} "
        f"because no identity-based policy allows the {action} action"
    )
    if code == "Client.UnauthorizedOperation":
        message = "You are not authorized to perform this operation. " + message
    region = "us-east-1" if source == "iam" else None
    # A refused call keeps the readOnly of its API: a denied ListUsers is still a read.
    read_only = name.startswith(("Get", "List", "Describe"))
    return Op(
        f"{source}.amazonaws.com", name, read_only, None, error=(code, message), region=region
    )


def human_ops(
    org: Organization, account: Account, team: str, admin: bool
) -> list[tuple[Op, float]]:
    """What a person in ``team`` does in ``account``, with weights."""
    acct = account.id
    bucket = org.buckets[account.name][0]
    ops: list[tuple[Op, float]] = [
        (_ro("sts", "GetCallerIdentity"), 3),
        (_ro("ec2", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}), 6),
        (
            _ro(
                "ec2",
                "DescribeSecurityGroups",
                {"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}},
            ),
            2,
        ),
        (_ro("ec2", "DescribeVpcs", {"vpcSet": {}, "filterSet": {}}), 1),
        (_ro("s3", "ListBuckets", {"Host": "s3.ap-northeast-1.amazonaws.com"}), 3),
        (_ro("cloudformation", "DescribeStacks", {"stackName": "orders-api"}), 3),
        (_ro("logs", "DescribeLogGroups", {"limit": 50}), 3),
        (_ro("logs", "FilterLogEvents", {"logGroupName": "/ecs/orders-api", "limit": 100}), 4),
        (_ro("lambda", "ListFunctions20150331", {"maxItems": 50}), 2),
        (_ro("ecs", "DescribeServices", {"cluster": "orders", "services": ["orders-api"]}), 3),
        (_ro("monitoring", "GetMetricData", {"maxDatapoints": 1440}), 4),
        (_ro("ssm", "GetParameter", {"name": "/orders/feature-flags", "withDecryption": False}), 2),
        (_ro("kms", "ListAliases", {"limit": 100}), 1),
        (_ro("iam", "GetRole", {"roleName": "orders-api-task"}, "us-east-1"), 1),
        (_ro("iam", "ListRoles", {"maxItems": 100}, "us-east-1"), 1),
        (_ro("health", "DescribeEvents", {"filter": {"eventStatusCodes": ["open"]}}), 1),
        (
            _ro(
                "s3",
                "GetBucketPolicy",
                {
                    "bucketName": bucket,
                    "Host": f"{bucket}.s3.ap-northeast-1.amazonaws.com",
                    "policy": "",
                },
            ),
            1,
        ),
        (
            _denied(
                "secretsmanager",
                "GetSecretValue",
                "secretsmanager:GetSecretValue",
                f"arn:aws:secretsmanager:ap-northeast-1:{acct}:secret:orders/db-AbCdEf",
                "AccessDeniedException",
            ),
            0.2,
        ),
        (_denied("iam", "ListUsers", "iam:ListUsers", f"arn:aws:iam::{acct}:user/"), 0.3),
        (
            _denied(
                "ec2",
                "TerminateInstances",
                "ec2:TerminateInstances",
                f"arn:aws:ec2:ap-northeast-1:{acct}:instance/*",
                "Client.UnauthorizedOperation",
            ),
            0.2,
        ),
    ]
    if team in ("platform", "app"):
        ops += [
            (
                _rw(
                    "ecs",
                    "UpdateService",
                    {"cluster": "orders", "service": "orders-api", "forceNewDeployment": True},
                ),
                0.6,
            ),
            (
                _rw(
                    "ssm",
                    "PutParameter",
                    {"name": "/orders/feature-flags", "type": "String", "overwrite": True},
                    {"version": 12, "tier": "Standard"},
                ),
                0.4,
            ),
            (
                _rw(
                    "ec2",
                    "StartInstances",
                    {"instancesSet": {"items": [{"instanceId": "i-0a1b2c3d4e5f60718"}]}},
                ),
                0.3,
            ),
            (
                _rw(
                    "ec2",
                    "StopInstances",
                    {
                        "instancesSet": {"items": [{"instanceId": "i-0a1b2c3d4e5f60718"}]},
                        "force": False,
                    },
                ),
                0.3,
            ),
            (_ro("ecr", "DescribeImages", {"repositoryName": "orders-api", "maxResults": 100}), 1),
            (_ro("cloudformation", "DescribeStackEvents", {"stackName": "orders-api"}), 2),
        ]
    if team == "data":
        data_bucket = org.buckets[account.name][-1] if account.name == "prod" else bucket
        ops += [
            (s3_object_op(data_bucket, "GetObject", HOME, _fill_get, prefix="adhoc/"), 2),
            (
                _rw(
                    "athena",
                    "StartQueryExecution",
                    {"queryString": "***OMITTED***", "workGroup": "analysts"},
                    {"queryExecutionId": "3f2b6f1e-0d7a-4b8e-9f51-2c9a8f6d1e00"},
                ),
                2,
            ),
            (
                _ro(
                    "athena",
                    "GetQueryExecution",
                    {"queryExecutionId": "3f2b6f1e-0d7a-4b8e-9f51-2c9a8f6d1e00"},
                ),
                3,
            ),
            (_ro("glue", "GetTables", {"databaseName": "curated"}), 2),
            (
                _ro(
                    "s3",
                    "GetBucketLocation",
                    {
                        "bucketName": bucket,
                        "Host": f"{bucket}.s3.ap-northeast-1.amazonaws.com",
                        "location": "",
                    },
                ),
                1,
            ),
        ]
    if team == "security":
        ops += [
            (_ro("guardduty", "ListFindings", {"detectorId": "d4b2c7e1a9f3", "maxResults": 50}), 3),
            (_ro("guardduty", "GetFindings", {"detectorId": "d4b2c7e1a9f3"}), 3),
            (_ro("guardduty", "ListDetectors", {"maxResults": 50}), 1),
            (_ro("securityhub", "GetFindings", {"maxResults": 100}), 3),
            (_ro("cloudtrail", "LookupEvents", {"maxResults": 50}), 2),
            (_ro("cloudtrail", "DescribeTrails", {"includeShadowTrails": True}), 1),
            (_ro("cloudtrail", "GetTrailStatus", {"name": "org-trail"}), 1),
            (_ro("config", "DescribeConfigRules", None), 1),
        ]
    if admin:
        ops += [
            (_ro("iam", "ListUsers", {"maxItems": 100}, "us-east-1"), 1),
            (_ro("iam", "ListAccessKeys", {"userName": "deploy-legacy"}, "us-east-1"), 0.5),
            (
                _ro(
                    "iam",
                    "GetAccountAuthorizationDetails",
                    {"filter": ["User", "Role"]},
                    "us-east-1",
                ),
                0.2,
            ),
            (_ro("organizations", "ListAccounts", None, "us-east-1"), 0.5),
        ]
    return ops


@dataclass(eq=False)
class Stream:
    """A source of calls: sessions and weighted calls, and a rate per 5-minute slice."""

    name: str
    rate: Callable[[int], float]  # expected calls in the slice starting at ts
    session: Callable[[int], Session | None]  # the credentials in use at ts (None: idle)
    ops: list[tuple[Op, float]]
    scaled: bool = True
    region_mix: float = 0.08  # share of calls in us-east-1
    label: str | None = None  # a look-alike id whose eventIDs to keep
    label_when: Callable[[int], bool] | None = None
    _ops: list[Op] = field(default_factory=list)
    _cum: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        total = 0.0
        for op, weight in self.ops:
            total += weight
            self._ops.append(op)
            self._cum.append(total)


def run_stream(stream: Stream, em: Emitter, t0: int, k: float, labels: dict[str, list[str]]) -> int:
    """Emit the stream's calls for the slice starting at ``t0``; return how many."""
    expected = stream.rate(t0) * (k if stream.scaled else 1.0)
    if expected <= 0:
        return 0
    rng = em.rng
    n = int(expected + rng.random())
    if not n:
        return 0
    session = stream.session(t0)
    if session is None:
        return 0
    rand = rng.random
    mix = stream.region_mix
    keep = None
    if stream.label and (stream.label_when is None or stream.label_when(t0)):
        keep = labels.setdefault(stream.label, [])
    for op in rng.choices(stream._ops, cum_weights=stream._cum, k=n):
        ts = t0 + int(rand() * SLICE)
        eid = em.call(session, op, ts, "us-east-1" if rand() < mix else HOME)
        if keep is not None and len(keep) < 1000:
            keep.append(eid)
    return n


# --- people ---------------------------------------------------------------------------


@dataclass
class Workday:
    """A person's day: when they start and stop, and their sessions."""

    person: Person
    start: int
    end: int
    console: Session
    cli: Session


def _human_rate(day: Workday, ts: int) -> float:
    if ts < day.start or ts >= day.end:
        return 0.0
    hour = local_hour(ts)
    lunch = 0.3 if 12.0 <= hour < 13.0 else 1.0
    return 28 / 12 * lunch  # about 28 calls an hour


class People:
    """Plans each person's workday and emits their sign-ins and calls."""

    def __init__(self, org: Organization, em: Emitter, ids: Ids) -> None:
        self.org = org
        self.em = em
        self.ids = ids
        self.days: list[Workday] = []
        self.streams: list[Stream] = []
        self.sso_logins: list[str] = []
        self.skip_signin: set[tuple[str, int]] = set()  # (login, day) planted elsewhere

    def plan_day(self, day_start: int) -> list[tuple[int, Callable[[], None]]]:
        """The day's sign-ins as (time, action) and the day's call streams."""
        rng = self.ids.rng
        org = self.org
        self.days, self.streams = [], []
        actions: list[tuple[int, Callable[[], None]]] = []
        workday = is_workday(day_start + 12 * 3600)
        for index, person in enumerate(org.people):
            if not workday and not (index == 2 and rng.random() < 0.7):  # on call
                continue
            if workday and rng.random() < 0.06:  # a day off
                continue
            begin = day_start + int(person.start_hour * 3600 + rng.uniform(-900, 1500))
            length = (
                int(rng.uniform(7.5, 10.5) * 3600) if workday else int(rng.uniform(0.5, 1.5) * 3600)
            )
            if not workday:
                begin = day_start + int(rng.uniform(10, 16) * 3600)
            ip = rng.choice(person.network.addresses)
            if rng.random() < 0.1:
                ip = rng.choice(org.networks["carrier"].addresses)  # working from home
            account = self._account_for(person, rng)
            console, cli = self._sessions(person, account, ip, begin)
            day = Workday(person, begin, begin + length, console, cli)
            self.days.append(day)
            ops = human_ops(org, account, person.team, person.admin)
            self.streams.append(
                Stream(
                    f"{person.login}/console",
                    lambda ts, d=day: _human_rate(d, ts) * 0.5,
                    lambda ts, s=console: s,
                    ops,
                    scaled=False,
                    region_mix=0.1,
                )
            )
            self.streams.append(
                Stream(
                    f"{person.login}/cli",
                    lambda ts, d=day: _human_rate(d, ts) * 0.5,
                    lambda ts, s=cli: s,
                    ops,
                    scaled=False,
                    region_mix=0.1,
                )
            )
            if (person.login, day_start) not in self.skip_signin:
                actions.append((begin - 120, lambda d=day, a=account, i=ip: self._sign_in(d, a, i)))
        return actions

    def _account_for(self, person: Person, rng: random.Random) -> Account:
        accounts = self.org.accounts
        if person.iam_user:
            return accounts["prod"]  # the IAM users live in prod
        if person.team == "security":
            return accounts["security"] if rng.random() < 0.6 else accounts["prod"]
        return accounts["dev"] if rng.random() < 0.6 else accounts["prod"]

    def permission_set(self, person: Person, account: Account) -> str:
        if person.admin:
            return "AdministratorAccess"
        if person.team == "security":
            return "SecurityAudit"
        if account.name == "prod" and person.team != "platform":
            return "ReadOnlyAccess"
        return "PowerUserAccess"

    def _sessions(
        self, person: Person, account: Account, ip: str, begin: int
    ) -> tuple[Session, Session]:
        ids = self.ids
        created = iso(begin - 40)  # the sign-in just before work starts
        if person.iam_user:
            console_ident = identity_user_console(person, account, "ASIA" + ids.token(16), created)
            cli_ident = identity_user(person, account)
        else:
            role = self.org.sso_roles[(account.name, self.permission_set(person, account))]
            console_ident = identity_role(role, person.email, "ASIA" + ids.token(16), created)
            cli_ident = identity_role(role, person.email, "ASIA" + ids.token(16), created)
        browser = person.browser if ids.rng.random() < 0.5 else CONSOLE_INTERNAL
        console = Session(console_ident, account, ip, browser, console=True)
        cli = Session(
            cli_ident, account, ip, person.cli, cli_command=person.cli.startswith("aws-cli/2")
        )
        return console, cli

    def _sign_in(self, day: Workday, account: Account, ip: str) -> None:
        person, em, rng = day.person, self.em, self.ids.rng
        ts = day.start - rng.randint(70, 110)
        idp_sign_in(em, person, ts, ip, person.browser, success=True)
        ident = day.console.identity
        if person.iam_user:
            rec = console_login(
                identity=identity_user(person, account),
                account=account.id,
                ip=ip,
                agent=person.browser,
            )
        else:
            rec = console_login(
                identity=dict(ident),
                account=account.id,
                ip=ip,
                agent=person.browser,
                mfa_used="No",  # MFA happened at the IdP; AWS records "No" (recordkit)
                sso=True,
            )
        eid = em.record(day.start - rng.randint(41, 50), rec)
        if not person.iam_user:
            self.sso_logins.append(eid)


def idp_sign_in(
    em: Emitter,
    person: Person,
    ts: float,
    ip: str,
    agent: str,
    *,
    success: bool,
    country: str = "Japan",
    city: str = "Tokyo",
    mfa: bool = True,
) -> list[str]:
    """An Okta-like sign-in: a session start, and the MFA step when it succeeded."""
    out = []
    events = [("user.session.start", "User login to Okta")]
    if success and mfa:
        events.append(("user.authentication.auth_via_mfa", "Authentication of user via MFA"))
    for offset, (etype, message) in enumerate(events):
        moment = ts + offset * em.rng.uniform(4, 20)
        uid = em.uuid()
        em.writer.add_idp(
            moment,
            {
                "uuid": uid,
                "published": _ms(moment),
                "eventType": etype,
                "actor": {
                    "id": person.idp_id,
                    "type": "User",
                    "alternateId": person.email,
                    "displayName": person.display,
                },
                "client": {
                    "ipAddress": ip,
                    "userAgent": {"rawUserAgent": agent},
                    "geographicalContext": {"country": country, "city": city},
                },
                "outcome": {
                    "result": "SUCCESS" if success else "FAILURE",
                    "reason": None if success else "INVALID_CREDENTIALS",
                },
                "displayMessage": message,
            },
        )
        out.append(uid)
    return out


def _ms(ts: float) -> str:
    whole = int(ts)
    return iso(whole)[:-1] + f".{int((ts - whole) * 1000):03d}Z"


# --- machines -------------------------------------------------------------------------


class Hourly:
    """A workload's role session, renewed every hour (new key, new creation time)."""

    def __init__(self, make: Callable[[int], Session]) -> None:
        self.make = make
        self.hour = -1
        self.current: Session | None = None

    def __call__(self, ts: int) -> Session:
        hour = ts // 3600
        if hour != self.hour or self.current is None:
            self.hour = hour
            self.current = self.make(hour * 3600)
        return self.current


def _diurnal(base: float) -> Callable[[int], float]:
    def rate(ts: int) -> float:
        hour = local_hour(ts)
        busy = 1.6 if 8 <= hour < 22 else 0.5
        return base / 12 * busy

    return rate


def machine_streams(org: Organization, ids: Ids) -> list[Stream]:
    prod = org.accounts["prod"]
    services = Session(
        identity_service("lambda.amazonaws.com"), prod, "", "", invoked_by="lambda.amazonaws.com"
    )
    roles = org.roles
    nat = ("198.51.100.40", "198.51.100.41", "198.51.100.42")
    assets, exports, raw, curated = org.buckets["prod"]

    def role_session(
        role_key: str,
        session_name: str | Callable[[], str],
        ip: str,
        agent: str,
        invoked_by: str | None = None,
    ) -> Hourly:
        role = roles[role_key]

        def make(ts: int) -> Session:
            name = session_name() if callable(session_name) else session_name
            ident = identity_role(
                role, name, "ASIA" + ids.token(16), iso(ts), invoked_by=invoked_by
            )
            return Session(ident, role.account, ip, agent, invoked_by=invoked_by)

        return Hourly(make)

    app_ops = [
        (s3_object_op(exports, "GetObject", HOME, _fill_asset), 10),
        (s3_object_op(exports, "PutObject", HOME, _fill_export), 3),
        (_ro("kms", "Decrypt", {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}), 4),
        (
            _ro(
                "kms",
                "GenerateDataKey",
                {"keySpec": "AES_256", "keyId": f"arn:aws:kms:{HOME}:{prod.id}:alias/orders"},
            ),
            2,
        ),
        (
            _ro(
                "secretsmanager",
                "GetSecretValue",
                {"secretId": f"arn:aws:secretsmanager:{HOME}:{prod.id}:secret:orders/db-AbCdEf"},
            ),
            1,
        ),
        (
            _ro(
                "ssm", "GetParameters", {"names": ["/orders/feature-flags"], "withDecryption": True}
            ),
            1,
        ),
        (
            Op(
                "s3.amazonaws.com",
                "GetObject",
                True,
                {
                    "bucketName": exports,
                    "Host": f"{exports}.s3.{HOME}.amazonaws.com",
                    "key": "exports/latest.json",
                },
                error=("NoSuchKey", "The specified key does not exist."),
                data=True,
                resources=[
                    {
                        "type": "AWS::S3::Object",
                        "ARN": f"arn:aws:s3:::{exports}/exports/latest.json",
                    },
                    {"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{exports}"},
                ],
                extra={
                    "SignatureVersion": "SigV4",
                    "CipherSuite": "TLS_AES_128_GCM_SHA256",
                    "bytesTransferredIn": 0,
                    "AuthenticationMethod": "AuthHeader",
                    "x-amz-id-2": slot("x"),
                    "bytesTransferredOut": 243,
                },
                fill=lambda v, em: v.__setitem__("x", em.amz_id()),
            ),
            0.3,
        ),
    ]
    lambda_ops = [
        (s3_object_op(assets, "PutObject", HOME, _fill_asset), 3),
        (
            _ro(
                "kms",
                "GenerateDataKey",
                {"keySpec": "AES_256", "keyId": f"arn:aws:kms:{HOME}:{prod.id}:alias/orders"},
            ),
            2,
        ),
        (_ro("dynamodb", "DescribeTable", {"tableName": "orders"}), 1),
        (
            _rw(
                "sns",
                "Publish",
                {"topicArn": f"arn:aws:sns:{HOME}:{prod.id}:orders-events"},
                {"messageId": "7c1f0e2a-5b1d-5c8e-9a4f-0e6d2b3c4a51"},
            ),
            1,
        ),
    ]
    config_ops = [
        (_ro("ec2", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}), 3),
        (
            _ro(
                "ec2",
                "DescribeSecurityGroups",
                {"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}},
            ),
            3,
        ),
        (_ro("ec2", "DescribeVolumes", {"volumeSet": {}, "filterSet": {}}), 2),
        (
            _ro(
                "s3",
                "GetBucketAcl",
                {"bucketName": assets, "Host": f"{assets}.s3.{HOME}.amazonaws.com", "acl": ""},
            ),
            1,
        ),
        (_ro("iam", "GetRole", {"roleName": "orders-api-task"}, "us-east-1"), 1),
    ]
    sts_ops = [
        (
            Op(
                "sts.amazonaws.com",
                "AssumeRole",
                True,
                {"roleArn": roles["app-task"].arn, "roleSessionName": "orders-api-task"},
            ),
            2,
        ),
        (
            Op(
                "sts.amazonaws.com",
                "AssumeRole",
                True,
                {"roleArn": roles["lambda-exec"].arn, "roleSessionName": "orders-events-handler"},
            ),
            2,
        ),
        (Op("kms.amazonaws.com", "Decrypt", True, {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}), 1),
    ]
    pipeline_ops = [
        (s3_object_op(raw, "GetObject", HOME, _fill_get, prefix="events/"), 20),
        (s3_object_op(curated, "PutObject", HOME, _fill_get, prefix="orders/"), 4),
        (_ro("glue", "GetTable", {"databaseName": "raw", "name": "events"}), 0.3),
        (_ro("kms", "Decrypt", {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}), 1),
    ]
    cache = org.buckets["dev"][1]
    build_ops = [
        (s3_object_op(cache, "GetObject", HOME, _fill_asset, prefix="cache/"), 4),
        (s3_object_op(cache, "PutObject", HOME, _fill_asset, prefix="cache/"), 2),
        (_ro("ecr", "GetAuthorizationToken", None), 1),
        (_ro("ecr", "BatchCheckLayerAvailability", {"repositoryName": "orders-api"}), 1),
        (_ro("sts", "GetCallerIdentity"), 0.5),
    ]
    scale_out = run_instances_op(prod, HOME, "m7g.large", random.Random(f"asg/{org.seed}"))
    autoscaling_ops = [
        (_ro("ec2", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}), 4),
        (scale_out, 1),
        (
            _rw(
                "ec2",
                "TerminateInstances",
                {"instancesSet": {"items": [{"instanceId": "i-0c5e9a7b2d4f61830"}]}},
            ),
            1,
        ),
    ]
    sec_ops = [
        (_ro("guardduty", "ListFindings", {"detectorId": "d4b2c7e1a9f3", "maxResults": 50}), 2),
        (_ro("securityhub", "GetFindings", {"maxResults": 100}), 2),
        (_ro("guardduty", "GetFindings", {"detectorId": "d4b2c7e1a9f3"}), 1),
    ]

    def pipeline_rate(ts: int) -> float:
        hour = local_hour(ts)
        return 3000 / 12 if 1.0 <= hour < 3.0 else 30 / 12

    def pipeline_night(ts: int) -> bool:
        return 1.0 <= local_hour(ts) < 3.0

    vpce_ip = "10.20.%d.%d"
    pipeline_ip = vpce_ip % (ids.rng.randint(1, 40), ids.rng.randint(2, 250))
    return [
        Stream(
            "orders-api",
            _diurnal(1200),
            role_session("app-task", lambda: ids.hex(32), ids.rng.choice(nat), JAVA_SDK),
            app_ops,
            region_mix=0.0,
        ),
        Stream(
            "orders-events",
            _diurnal(400),
            role_session("lambda-exec", "orders-events-handler", nat[0], org.boto3_lambda),
            lambda_ops,
            region_mix=0.0,
        ),
        Stream(
            "aws-services",
            _diurnal(60),
            lambda ts: services,
            sts_ops,
            region_mix=0.0,
        ),
        Stream(
            "config-prod",
            _diurnal(150),
            role_session(
                "config-prod", "AWSConfig-Describe", "", "", invoked_by="config.amazonaws.com"
            ),
            config_ops,
            region_mix=0.4,
        ),
        Stream(
            "config-dev",
            _diurnal(60),
            role_session(
                "config-dev", "AWSConfig-Describe", "", "", invoked_by="config.amazonaws.com"
            ),
            config_ops,
            region_mix=0.4,
        ),
        Stream(
            "pipeline",
            pipeline_rate,
            role_session(
                "pipeline", lambda: f"etl-{ids.hex(8)}", pipeline_ip, GO_SDK.format(api="s3#1.79.2")
            ),
            pipeline_ops,
            region_mix=0.0,
            label="pipeline-batch-read",
            label_when=pipeline_night,
        ),
        Stream(
            "build-runner",
            _diurnal(80),
            role_session("build-instance", lambda: f"i-0{ids.hex(16)}", "198.51.100.43", org.boto3),
            build_ops,
            region_mix=0.0,
        ),
        Stream(
            "autoscaling",
            lambda ts: 6 / 12,
            role_session(
                "autoscaling-prod", "AutoScaling", "", "", invoked_by="autoscaling.amazonaws.com"
            ),
            autoscaling_ops,
            scaled=False,
            region_mix=0.0,
        ),
        Stream(
            "security-findings",
            lambda ts: 8 / 12,
            role_session("cspm", "findings-export", nat[2], org.boto3_lambda),
            sec_ops,
            scaled=False,
            region_mix=0.0,
        ),
    ]


# --- jobs: CI deployments and the posture scanner's sweep -----------------------------


def ci_job(
    org: Organization, em: Emitter, ids: Ids, ts: int, account_name: str, region: str, repo: str
) -> list[str]:
    """A GitHub Actions deployment: OIDC sign-in, then a terraform/CLI run; event IDs."""
    account = org.accounts[account_name]
    role = org.roles[f"gha-deploy-{account_name}"]
    rng = ids.rng
    provider = f"arn:aws:iam::{account.id}:oidc-provider/token.actions.githubusercontent.com"
    subject = f"repo:{org.github_org}/{repo}:ref:refs/heads/main"
    ip = rng.choice(org.networks["ci"].addresses)
    session_name = "GitHubActions"
    key = "ASIA" + ids.token(16)
    out = []
    rec = api_record(
        identity={
            "type": "WebIdentityUser",
            "principalId": f"{provider}:sts.amazonaws.com:{subject}",
            "userName": subject,
            "identityProvider": provider,
        },
        source="sts.amazonaws.com",
        name="AssumeRoleWithWebIdentity",
        region=region,
        ip=ip,
        agent="aws-sdk-nodejs/2.1692.0 linux/v20.19.2 configure-aws-credentials-for-github-actions promise",
        account=account.id,
        params={"roleArn": role.arn, "roleSessionName": session_name, "durationSeconds": 3600},
        response={
            "credentials": {
                "accessKeyId": key,
                "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLE",
                "expiration": "Dec 1, 2026, 10:00:00 AM",
            },
            "subjectFromWebIdentityToken": subject,
            "assumedRoleUser": {
                "assumedRoleId": f"{role.role_id}:{session_name}",
                "arn": f"arn:aws:sts::{account.id}:assumed-role/{role.name}/{session_name}",
            },
            "provider": provider,
            "audience": "sts.amazonaws.com",
        },
        resources=[{"accountId": account.id, "type": "AWS::IAM::Role", "ARN": role.arn}],
    )
    out.append(em.record(ts, rec))
    ident = identity_role(role, session_name, key, iso(ts), web_identity=provider)
    tf = Session(ident, account, ip, TERRAFORM.format(api="ec2#1.226.0"))
    calls = [
        _ro("ec2", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}),
        _ro(
            "ec2",
            "DescribeSecurityGroups",
            {"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}},
        ),
        _ro("iam", "GetRole", {"roleName": "orders-api-task"}, "us-east-1"),
        _ro("ecs", "DescribeTaskDefinition", {"taskDefinition": "orders-api"}),
        _ro("ecr", "GetAuthorizationToken", None),
        _ro("ecs", "DescribeServices", {"cluster": "orders", "services": ["orders-api"]}),
    ]
    writes = [
        _rw(
            "ecs",
            "RegisterTaskDefinition",
            {"family": "orders-api", "networkMode": "awsvpc"},
            {"taskDefinition": {"family": "orders-api", "revision": rng.randint(100, 900)}},
        ),
        _rw(
            "ecs",
            "UpdateService",
            {"cluster": "orders", "service": "orders-api", "forceNewDeployment": False},
        ),
        _rw(
            "lambda",
            "UpdateFunctionCode20150331v2",
            {"functionName": "orders-events-handler", "publish": True},
        ),
    ]
    t = ts + rng.randint(5, 30)
    for _ in range(rng.randint(25, 60)):
        t += rng.randint(1, 6)
        out.append(em.call(tf, rng.choice(calls), t, region))
    for op in writes:
        t += rng.randint(2, 20)
        out.append(em.call(tf, op, t, region))
    if account_name == "dev":
        # An ephemeral integration-test instance, launched and later terminated.
        t += rng.randint(5, 30)
        out.append(em.call(tf, run_instances_op(account, region, "t3.medium", rng), t, region))
    return out


def run_instances_op(
    account: Account,
    region: str,
    itype: str,
    rng: random.Random,
    *,
    count: int = 1,
    ami: str | None = None,
) -> Op:
    ami = ami or f"ami-0{rng.getrandbits(64):016x}"
    instance = f"i-0{rng.getrandbits(64):016x}"
    return Op(
        "ec2.amazonaws.com",
        "RunInstances",
        False,
        {
            "instancesSet": {"items": [{"imageId": ami, "minCount": count, "maxCount": count}]},
            "instanceType": itype,
            "blockDeviceMapping": {},
            "monitoring": {"enabled": False},
            "disableApiTermination": False,
            "disableApiStop": False,
            "clientToken": f"{rng.getrandbits(128):032x}",
        },
        {
            "requestId": "",
            "reservationId": f"r-0{rng.getrandbits(64):016x}",
            "ownerId": account.id,
            "groupSet": {},
            "instancesSet": {
                "items": [
                    {
                        "instanceId": instance,
                        "imageId": ami,
                        "instanceState": {"code": 0, "name": "pending"},
                        "instanceType": itype,
                    }
                ]
            },
        },
    )


def key_rotation(org: Organization, em: Emitter, ids: Ids, ts: int) -> str:
    """KMS rotating a customer managed key on its own: an ``AwsServiceEvent`` (the example
    in "AWS service events", CloudTrail User Guide)."""
    prod = org.accounts["prod"]
    key_id = ids.uuid()
    rec = {
        "eventVersion": "1.08",
        "userIdentity": {"accountId": prod.id, "invokedBy": "kms.amazonaws.com"},
        "eventTime": "",
        "eventSource": "kms.amazonaws.com",
        "eventName": "RotateKey",
        "awsRegion": HOME,
        "sourceIPAddress": "kms.amazonaws.com",
        "userAgent": "kms.amazonaws.com",
        "requestParameters": None,
        "responseElements": None,
        "eventID": "",
        "readOnly": False,
        "resources": [
            {
                "accountId": prod.id,
                "type": "AWS::KMS::Key",
                "ARN": f"arn:aws:kms:{HOME}:{prod.id}:key/{key_id}",
            }
        ],
        "eventType": "AwsServiceEvent",
        "managementEvent": True,
        "recipientAccountId": prod.id,
        "serviceEventDetails": {"keyId": key_id},
        "eventCategory": "Management",
    }
    return em.record(ts, rec)


SWEEP_CALLS = (
    ("ec2", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}),
    (
        "ec2",
        "DescribeSecurityGroups",
        {"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}},
    ),
    (
        "ec2",
        "DescribeSnapshots",
        {"snapshotSet": {}, "ownersSet": {"items": [{"owner": "self"}]}, "filterSet": {}},
    ),
    ("ec2", "DescribeVpcs", {"vpcSet": {}, "filterSet": {}}),
    ("lambda", "ListFunctions20150331", None),
    ("rds", "DescribeDBInstances", None),
    ("guardduty", "ListDetectors", None),
    ("cloudtrail", "DescribeTrails", {"includeShadowTrails": True}),
)


def posture_sweep(org: Organization, em: Emitter, ids: Ids, ts: int) -> list[str]:
    """The posture scanner assumes its role in each member account and describes every
    region (the daily sweep a CSPM does); event IDs."""
    out = []
    rng = ids.rng
    scanner = org.roles["cspm"]
    t = ts
    for name in ("prod", "dev"):
        account = org.accounts[name]
        role = org.roles[f"cspm-{name}"]
        caller = identity_role(scanner, "posture-sweep", "ASIA" + ids.token(16), iso(ts))
        session = f"posture-{ids.hex(12)}"
        rec = api_record(
            identity=caller,
            source="sts.amazonaws.com",
            name="AssumeRole",
            region=HOME,
            ip="198.51.100.42",
            agent=org.boto3_lambda,
            account=account.id,
            params={"roleArn": role.arn, "roleSessionName": session, "durationSeconds": 3600},
            response={
                "assumedRoleUser": {
                    "assumedRoleId": f"{role.role_id}:{session}",
                    "arn": f"arn:aws:sts::{account.id}:assumed-role/{role.name}/{session}",
                }
            },
            resources=[{"accountId": account.id, "type": "AWS::IAM::Role", "ARN": role.arn}],
        )
        rec["sharedEventID"] = em.uuid()
        out.append(em.record(t, rec))
        ident = identity_role(role, session, "ASIA" + ids.token(16), iso(t))
        s = Session(ident, account, "198.51.100.42", org.boto3_lambda)
        for region in ALL_REGIONS:
            for source, call, params in SWEEP_CALLS:
                t += rng.randint(0, 2)
                out.append(em.call(s, _sweep_op(source, call, params), t, region))
    return out


_SWEEP_OPS: dict[tuple[str, str], Op] = {}


def _sweep_op(source: str, name: str, params: Any) -> Op:
    op = _SWEEP_OPS.get((source, name))
    if op is None:
        op = _SWEEP_OPS[(source, name)] = _ro(source, name, params)
    return op
