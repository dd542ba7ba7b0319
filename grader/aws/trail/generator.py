"""Realistic CloudTrail trails for labs, with the answer a policy generator should give.

``generate_trail(seed, ...)`` writes the story of one deployment, told the way CloudTrail
tells it: an engineer's role session runs a harmless command three times (the marker), does
the deployment (S3 artifacts, a CloudFormation change set, Lambda code updates, and a
seed-chosen mix of SSM, KMS, Secrets Manager, ECR, CloudWatch, logs, tagging calls, one of
them denied), runs the marker again, and tidies up. Around it: the same role's calls outside
the window, other people and roles working (one with a name that starts like the
principal's, one that runs its own marker-like triple), console browsing, and calls AWS
services make (CloudFormation with its service role, KMS key rotation, Lambda assuming its
execution role). The same seed always gives the same records.

The ground truth (``GeneratedTrail.actions`` and ``.resources``) comes from the
hand-written ``scenario`` tables, never from the mapping engine, so comparing the engine's
policy with it tests the engine.
"""

from __future__ import annotations

import random
import re
import string
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .layout import write_trail
from .policy import policy_document
from .records import format_time
from .resources import partition
from .scenario import (
    DENIABLE_STEPS,
    MARKER_CALLS,
    OPTIONAL_STEPS,
    OUTSIDE_CALLS,
    Call,
    ScenarioNames,
    change_set,
    update_functions,
    upload_artifact,
)

SCENARIOS = ("deployment",)
_ROLE_ARN = re.compile(r"^arn:(aws[\w-]*):iam::(\d{12}):role/(.+)$")
_VERSION_SUFFIX = re.compile(r"(\d{8}(v\d+)?|\d{4}_\d{2}_\d{2})$")
_SDK_SOURCES = ("lambda.amazonaws.com", "ssm.amazonaws.com", "kms.amazonaws.com")


@dataclass(frozen=True)
class GeneratedTrail:
    """A generated trail and its ground truth."""

    seed: int
    records: list[dict[str, Any]]
    principal_arn: str
    window_start: datetime  # the last call of the opening marker
    window_end: datetime  # the first call of the closing marker
    marker: tuple[str, str]  # (eventSource, eventName) of the marker command
    actions: frozenset[str]  # every IAM action the principal used inside the window
    resources: Mapping[str, frozenset[str]] = field(default_factory=dict)
    denied_actions: frozenset[str] = frozenset()
    outside_actions: frozenset[str] = frozenset()  # used only outside the window
    steps: tuple[str, ...] = ()  # the optional steps this seed chose

    def policy(self) -> dict[str, Any]:
        """The expected generated policy (actions on ``*``)."""
        return policy_document(self.actions)

    def write(self, root: str | Path) -> list[Path]:
        """Write the records under ``root`` in CloudTrail's S3 layout (files shuffled inside,
        as CloudTrail does not order them)."""
        return write_trail(self.records, root, shuffle_seed=self.seed)


class _Ids:
    """Identifiers drawn from the seed, in the shapes AWS uses."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def token(self, length: int, alphabet: str = string.ascii_uppercase + string.digits) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(length))

    def s3_request_id(self) -> str:
        return self.token(16, "0123456789ABCDEF")

    def access_key(self, temporary: bool = True) -> str:
        return ("ASIA" if temporary else "AKIA") + self.token(16)

    def unique_id(self, prefix: str) -> str:
        return prefix + self.token(17)

    def ip(self) -> str:
        block = self.rng.choice(["203.0.113", "198.51.100", "192.0.2"])
        return f"{block}.{self.rng.randint(2, 254)}"


@dataclass
class _Actor:
    """Who calls: their userIdentity, address and user agent."""

    identity: dict[str, Any]
    ip: str
    agent: str
    console: bool = False


def _kebab(name: str) -> str:
    name = _VERSION_SUFFIX.sub("", name)
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def _cli_agent(rng: random.Random) -> str:
    minor = rng.randint(13, 17)
    return (
        f"aws-cli/2.{minor}.{rng.randint(0, 40)} md/awscrt#0.19.19 ua/2.0 "
        "os/linux#5.10.219-208.866.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.8 "
        "md/pyimpl#CPython exec-env/CloudShell cfg/retry-mode#standard md/installer#exe "
        "md/prompt#off"
    )


def _boto_agent(rng: random.Random) -> str:
    v = f"1.34.{rng.randint(60, 140)}"
    return (
        f"Boto3/{v} md/Botocore#{v} ua/2.0 os/linux#5.10.219-208.866.amzn2.x86_64 "
        f"md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/{v}"
    )


_BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)


def _role_session(
    ids: _Ids, role_arn: str, session: str, created: datetime, *, mfa: bool = False
) -> dict[str, Any]:
    match = _ROLE_ARN.match(role_arn)
    assert match is not None
    part, account, path_name = match.groups()
    name = path_name.rsplit("/", 1)[-1]
    role_id = "AROA" + ids.token(17)
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:{part}:sts::{account}:assumed-role/{name}/{session}",
        "accountId": account,
        "accessKeyId": ids.access_key(),
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": role_arn,
                "accountId": account,
                "userName": name,
            },
            "webIdFederationData": {},
            "attributes": {
                "creationDate": format_time(created),
                "mfaAuthenticated": "true" if mfa else "false",
            },
        },
    }


def _iam_user(ids: _Ids, ctx: ScenarioNames, name: str) -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "principalId": ids.unique_id("AIDA"),
        "arn": f"arn:{ctx.partition}:iam::{ctx.account}:user/{name}",
        "accountId": ctx.account,
        "accessKeyId": ids.access_key(temporary=False),
        "userName": name,
    }


class _Builder:
    """Turns calls into records for one generated trail."""

    def __init__(self, ctx: ScenarioNames, ids: _Ids) -> None:
        self.ctx = ctx
        self.ids = ids
        self.records: list[dict[str, Any]] = []

    def call(
        self,
        call: Call,
        when: datetime,
        actor: _Actor,
        *,
        denied: bool = False,
        invoked_by: str | None = None,
    ) -> dict[str, Any]:
        ctx = self.ctx
        identity = dict(actor.identity)
        if invoked_by:
            identity["invokedBy"] = invoked_by
        agent = actor.agent
        if call.source == "s3.amazonaws.com" and not actor.console and not invoked_by:
            agent = f"[{agent}]"  # S3 records the user agent in brackets
        host = call.source.split(".")[0]
        record: dict[str, Any] = {
            "eventVersion": "1.10" if call.data_event else "1.09",
            "userIdentity": identity,
            "eventTime": format_time(when),
            "eventSource": call.source,
            "eventName": call.name,
            "awsRegion": ctx.region,
            "sourceIPAddress": invoked_by or actor.ip,
            "userAgent": invoked_by or agent,
        }
        if denied:
            action = call.actions[0]
            record["errorCode"] = call.denied_code
            who = identity.get("arn", "")
            message = (
                f"User: {who} is not authorized to perform: {action} on resource: "
                f"{call.denied_resource} because no identity-based policy allows the "
                f"{action} action"
            )
            if call.denied_code.endswith("UnauthorizedOperation"):
                message = "You are not authorized to perform this operation. " + message
            record["errorMessage"] = message
        record["requestParameters"] = call.params
        record["responseElements"] = None if (call.read_only or denied) else call.response
        if call.data_event and call.source == "s3.amazonaws.com":
            record["additionalEventData"] = {
                "SignatureVersion": "SigV4",
                "CipherSuite": "TLS_AES_128_GCM_SHA256",
                "bytesTransferredIn": 0
                if call.read_only
                else self.ids.rng.randint(10_000, 9_000_000),
                "AuthenticationMethod": "AuthHeader",
                "x-amz-id-2": self.ids.token(56, string.ascii_letters + string.digits + "+/"),
                "bytesTransferredOut": self.ids.rng.randint(200, 90_000) if call.read_only else 0,
            }
            record["requestID"] = self.ids.s3_request_id()
        else:
            record["requestID"] = self.ids.uuid()
        record["eventID"] = self.ids.uuid()
        record["readOnly"] = call.read_only
        if call.resources:
            record["resources"] = [
                {"accountId": ctx.account, "type": kind, "ARN": arn}
                if kind != "AWS::S3::Object"
                else {"type": kind, "ARN": arn}
                for kind, arn in call.resources
            ]
        record["eventType"] = "AwsApiCall"
        record["managementEvent"] = not call.data_event
        record["recipientAccountId"] = ctx.account
        record["eventCategory"] = "Data" if call.data_event else "Management"
        if not invoked_by:
            record["tlsDetails"] = {
                "tlsVersion": "TLSv1.3",
                "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": f"{host}.{ctx.region}.amazonaws.com",
            }
        if actor.console:
            record["sessionCredentialFromConsole"] = "true"
        self.records.append(record)
        return record

    def service_event(
        self,
        when: datetime,
        source: str,
        name: str,
        details: dict[str, Any],
        resources: list[dict[str, Any]],
    ) -> None:
        """An ``AwsServiceEvent``: the service acted on its own (no caller)."""
        self.records.append(
            {
                "eventVersion": "1.08",
                "userIdentity": {"accountId": self.ctx.account, "invokedBy": source},
                "eventTime": format_time(when),
                "eventSource": source,
                "eventName": name,
                "awsRegion": self.ctx.region,
                "sourceIPAddress": source,
                "userAgent": source,
                "requestParameters": None,
                "responseElements": None,
                "eventID": self.ids.uuid(),
                "readOnly": False,
                "resources": resources,
                "eventType": "AwsServiceEvent",
                "managementEvent": True,
                "recipientAccountId": self.ctx.account,
                "serviceEventDetails": details,
                "eventCategory": "Management",
            }
        )

    def service_assume_role(
        self, when: datetime, service: str, role_arn: str, session: str
    ) -> None:
        """An AWS service assuming a role (its own AwsApiCall, identity ``AWSService``)."""
        call = Call(
            "sts.amazonaws.com",
            "AssumeRole",
            True,
            ("sts:AssumeRole",),
            {"roleArn": role_arn, "roleSessionName": session, "durationSeconds": 3600},
            resources=(("AWS::IAM::Role", role_arn),),
        )
        actor = _Actor({"type": "AWSService", "invokedBy": service}, service, service)
        record = self.call(call, when, actor)
        record["sourceIPAddress"] = service
        record["userAgent"] = service
        record.pop("tlsDetails", None)

    def console_login(self, when: datetime, actor: _Actor) -> None:
        """The console sign-in of a federated admin (``AwsConsoleSignIn``)."""
        self.records.append(
            {
                "eventVersion": "1.09",
                "userIdentity": actor.identity,
                "eventTime": format_time(when),
                "eventSource": "signin.amazonaws.com",
                "eventName": "ConsoleLogin",
                "awsRegion": "us-east-1",
                "sourceIPAddress": actor.ip,
                "userAgent": _BROWSER,
                "requestParameters": None,
                "responseElements": {"ConsoleLogin": "Success"},
                "additionalEventData": {"MobileVersion": "No", "MFAUsed": "Yes"},
                "eventID": self.ids.uuid(),
                "readOnly": False,
                "eventType": "AwsConsoleSignIn",
                "managementEvent": True,
                "recipientAccountId": self.ctx.account,
                "eventCategory": "Management",
            }
        )


def _names(rng: random.Random, ids: _Ids, account: str, region: str) -> ScenarioNames:
    app = rng.choice(["orders", "billing", "catalog", "checkout", "inventory", "profile"])
    env_fns = rng.sample(["api", "worker", "scheduler", "webhook"], k=rng.randint(1, 2))
    part = partition(region)
    return ScenarioNames(
        account=account,
        region=region,
        partition=part,
        app=app,
        bucket=f"{app}-deploy-artifacts-{account}-{region}",
        build=f"{rng.randint(100, 999)}-{ids.token(7, '0123456789abcdef')}",
        functions=tuple(f"{app}-{fn}" for fn in env_fns),
        stack=f"{app}-prod",
        key_id=ids.uuid(),
        parameters=(f"/{app}/prod/db-url", f"/{app}/prod/feature-flags"),
        secret=f"arn:{part}:secretsmanager:{region}:{account}:secret:{app}/prod/api-key-{ids.token(6, string.ascii_letters)}",
        cfn_role=f"arn:{part}:iam::{account}:role/{app}-cfn-exec",
        alarm=f"{app}-prod-errors",
    )


def _principal_arn(principal_role: str, account: str, region: str) -> str:
    if principal_role.startswith("arn:"):
        if not _ROLE_ARN.match(principal_role):
            raise ValueError(f"principal_role {principal_role!r} is not an IAM role ARN")
        return principal_role
    return f"arn:{partition(region)}:iam::{account}:role/{principal_role.strip('/')}"


def _work_plan(
    rng: random.Random, ctx: ScenarioNames, marker: Call
) -> tuple[list[tuple[Call, bool]], list[str]]:
    """The principal's calls inside the window, in order, each with whether it is denied."""
    pool = [
        name
        for name in OPTIONAL_STEPS
        if not (marker.name == "GetCallerIdentity" and name == "who-am-i")
    ]
    chosen = rng.sample(pool, k=rng.randint(3, 6))
    deniable = [name for name in DENIABLE_STEPS if name not in chosen]
    denied = rng.choice(deniable)
    phases: dict[int, list[tuple[Call, bool]]] = {p: [] for p in range(5)}
    for name in chosen + [denied]:
        phase, build = OPTIONAL_STEPS[name]
        calls = build(ctx, rng)
        phases[phase].extend((c, name == denied) for c in calls)
    for calls in phases.values():
        rng.shuffle(calls)
    plan = (
        phases[0]
        + [(c, False) for c in upload_artifact(ctx, rng)]
        + phases[1]
        + [(c, False) for c in change_set(ctx, rng)]
        + phases[2]
        + [(c, False) for c in update_functions(ctx, rng)]
        + phases[3]
    )
    return plan, sorted(chosen + [denied])


def generate_trail(
    seed: int,
    *,
    account: str = "123456789012",
    region: str = "ap-northeast-1",
    principal_role: str = "deploy-role",
    scenario: str = "deployment",
    start: datetime | None = None,
) -> GeneratedTrail:
    """A deterministic trail for ``seed`` and its ground truth (see the module docstring).

    ``principal_role`` is a role name (``deploy-role``, ``ci/deploy-role``) or a role ARN.
    ``start`` fixes the day; by default the seed picks one in 2024.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    if not re.fullmatch(r"\d{12}", account):
        raise ValueError(f"account {account!r} must be 12 digits")
    rng = random.Random(f"trail/{scenario}/{seed}")
    ids = _Ids(rng)
    ctx = _names(rng, ids, account, region)
    principal = _principal_arn(principal_role, account, region)
    base = start or datetime(2024, 1, 1, tzinfo=UTC) + timedelta(
        days=rng.randint(0, 330), hours=rng.randint(0, 8), minutes=rng.randint(0, 59)
    )
    base = base.replace(microsecond=0)
    b = _Builder(ctx, ids)

    engineer = rng.choice(["taro.yamada", "hanako.sato", "kenji.suzuki", "yui.tanaka"])
    work_ip = ids.ip()
    cli, boto = _cli_agent(rng), _boto_agent(rng)
    session_created = base - timedelta(minutes=rng.randint(2, 20))
    me = _role_session(ids, principal, engineer, session_created)
    actor_cli = _Actor(me, work_ip, cli)
    actor_sdk = _Actor(me, work_ip, boto)
    earlier = _role_session(
        ids, principal, f"{engineer}-{ids.token(4, '0123456789')}", base - timedelta(hours=3)
    )
    actor_earlier = _Actor(earlier, ids.ip(), cli)

    marker = rng.choice(MARKER_CALLS)
    plan, steps = _work_plan(rng, ctx, marker)
    outside = rng.sample(OUTSIDE_CALLS, k=rng.randint(2, 3))

    # The principal's own timeline, one call per distinct second.
    t = base
    for call in outside[:1]:
        b.call(call, t - timedelta(minutes=rng.randint(10, 40)), actor_earlier)
    for _ in range(3):
        t += timedelta(seconds=rng.randint(2, 8))
        b.call(marker, t, actor_cli)
    window_start = t
    truth: set[str] = set()
    denied_actions: set[str] = set()
    resources: dict[str, set[str]] = {}
    exec_time = t
    for call, denied in plan:
        t += timedelta(seconds=rng.randint(3, 25))
        actor = actor_sdk if call.source in _SDK_SOURCES and rng.random() < 0.5 else actor_cli
        b.call(call, t, actor, denied=denied)
        truth.update(call.actions)
        if denied:
            denied_actions.update(call.actions)
        for action, arns in call.truth_arns.items():
            resources.setdefault(action, set()).update(arns)
        if call.name == "ExecuteChangeSet":
            exec_time = t
    t += timedelta(seconds=rng.randint(10, 50))
    window_end = t
    for i in range(3):
        if i:
            t += timedelta(seconds=rng.randint(2, 8))
        b.call(marker, t, actor_cli)
    for call in outside[1:]:
        t += timedelta(seconds=rng.randint(30, 400))
        b.call(call, t, actor_cli)

    _service_events(b, rng, ctx, exec_time, window_start, window_end)
    _noise(b, rng, ids, ctx, principal, window_start, window_end)

    outside_only = {a for c in outside for a in c.actions} - truth
    for action in truth:
        resources.setdefault(action, set())
    return GeneratedTrail(
        seed=seed,
        records=sorted(b.records, key=lambda r: r["eventTime"]),
        principal_arn=principal,
        window_start=window_start,
        window_end=window_end,
        marker=marker.key,
        actions=frozenset(truth),
        resources={a: frozenset(r) for a, r in sorted(resources.items())},
        denied_actions=frozenset(denied_actions),
        outside_actions=frozenset(outside_only),
        steps=tuple(steps),
    )


def _service_events(
    b: _Builder,
    rng: random.Random,
    ctx: ScenarioNames,
    exec_time: datetime,
    lo: datetime,
    hi: datetime,
) -> None:
    """CloudFormation acting with its service role, KMS rotating a key, Lambda assuming its
    execution role: calls by AWS services, never the principal's to grant."""
    b.service_assume_role(
        exec_time + timedelta(seconds=1),
        "cloudformation.amazonaws.com",
        ctx.cfn_role,
        "AWSCloudFormation",
    )
    cfn = _role_session(b.ids, ctx.cfn_role, "AWSCloudFormation", exec_time)
    cfn_actor = _Actor(cfn, "cloudformation.amazonaws.com", "cloudformation.amazonaws.com")
    for fn in ctx.functions:
        call = Call(
            "lambda.amazonaws.com",
            "UpdateFunctionConfiguration20150331v2",
            False,
            ("lambda:UpdateFunctionConfiguration",),
            {"functionName": fn, "description": f"{ctx.app} build {ctx.build}"},
        )
        b.call(
            call,
            exec_time + timedelta(seconds=rng.randint(3, 20)),
            cfn_actor,
            invoked_by="cloudformation.amazonaws.com",
        )
    b.call(
        Call(
            "logs.amazonaws.com",
            "CreateLogGroup",
            False,
            ("logs:CreateLogGroup",),
            {"logGroupName": f"/aws/lambda/{ctx.functions[0]}"},
        ),
        exec_time + timedelta(seconds=rng.randint(3, 20)),
        cfn_actor,
        invoked_by="cloudformation.amazonaws.com",
    )
    rotate = lo + (hi - lo) * rng.random()
    b.service_event(
        rotate.replace(microsecond=0),
        "kms.amazonaws.com",
        "RotateKey",
        {"keyId": ctx.key_id},
        [{"accountId": ctx.account, "type": "AWS::KMS::Key", "ARN": ctx.key_arn}],
    )
    exec_role = f"arn:{ctx.partition}:iam::{ctx.account}:role/{ctx.functions[0]}-exec"
    b.service_assume_role(
        (lo + (hi - lo) * rng.random()).replace(microsecond=0),
        "lambda.amazonaws.com",
        exec_role,
        ctx.functions[0],
    )


def _noise(
    b: _Builder,
    rng: random.Random,
    ids: _Ids,
    ctx: ScenarioNames,
    principal: str,
    lo: datetime,
    hi: datetime,
) -> None:
    """Other principals at work around and inside the window."""

    def when(spread: int = 1200) -> datetime:
        span = (hi - lo).total_seconds() + 2 * spread
        return (lo - timedelta(seconds=spread) + timedelta(seconds=rng.random() * span)).replace(
            microsecond=0
        )

    # A federated administrator browsing the console (read-only, from the console).
    admin_role = f"arn:{ctx.partition}:iam::{ctx.account}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_{ids.token(16, '0123456789abcdef')}"
    admin = _Actor(
        _role_session(ids, admin_role, "admin@example.com", lo - timedelta(minutes=30), mfa=True),
        ids.ip(),
        "AWS Internal",
        console=True,
    )
    b.console_login(lo - timedelta(minutes=rng.randint(20, 29)), admin)
    console_reads = [
        Call("cloudformation.amazonaws.com", "DescribeStacks", True, (), {"stackName": ctx.stack}),
        Call(
            "cloudformation.amazonaws.com",
            "DescribeStackEvents",
            True,
            (),
            {"stackName": ctx.stack},
        ),
        Call("lambda.amazonaws.com", "ListFunctions20150331", True, (), None),
        Call(
            "lambda.amazonaws.com",
            "GetFunction20150331v2",
            True,
            (),
            {"functionName": ctx.functions[0]},
        ),
        Call("s3.amazonaws.com", "ListBuckets", True, (), {"Host": "s3.amazonaws.com"}),
        Call(
            "s3.amazonaws.com",
            "GetBucketPolicyStatus",
            True,
            (),
            {"bucketName": ctx.bucket, "policyStatus": ""},
        ),
        Call(
            "ec2.amazonaws.com",
            "DescribeInstances",
            True,
            (),
            {"instancesSet": {}, "filterSet": {}},
        ),
        Call("monitoring.amazonaws.com", "DescribeAlarms", True, (), {"maxRecords": 100}),
    ]
    for _ in range(rng.randint(6, 12)):
        b.call(rng.choice(console_reads), when(), admin)

    # A CI user fetching artifacts, and a role whose name starts like the principal's.
    ci = _Actor(_iam_user(ids, ctx, "ci-bot"), ids.ip(), _boto_agent(rng))
    for _ in range(rng.randint(2, 5)):
        key = f"builds/{rng.randint(100, 999)}/{ctx.app}.zip"
        obj = ctx.object_arn(key)
        b.call(
            Call(
                "s3.amazonaws.com",
                "GetObject",
                True,
                (),
                {
                    "bucketName": ctx.bucket,
                    "Host": f"{ctx.bucket}.s3.{ctx.region}.amazonaws.com",
                    "key": key,
                },
                resources=(("AWS::S3::Object", obj), ("AWS::S3::Bucket", ctx.bucket_arn)),
                data_event=True,
            ),
            when(),
            ci,
        )
    twin_arn = principal + "-canary"
    twin = _Actor(
        _role_session(ids, twin_arn, f"canary-{ids.token(6, '0123456789')}", lo),
        ids.ip(),
        _boto_agent(rng),
    )
    twin_calls = [
        Call(
            "states.amazonaws.com",
            "StartExecution",
            False,
            (),
            {"stateMachineArn": ctx.arn("states", f"stateMachine:{ctx.app}-canary")},
        ),
        Call(
            "dynamodb.amazonaws.com", "DescribeTable", True, (), {"tableName": f"{ctx.app}-orders"}
        ),
        Call(
            "ssm.amazonaws.com",
            "PutParameter",
            False,
            (),
            {"name": f"/{ctx.app}/canary/last", "type": "String", "overwrite": True},
        ),
    ]
    for call in twin_calls:
        b.call(call, when(0), twin)

    # A monitoring role running its own marker-like triple inside the window.
    monitor = _Actor(
        _role_session(ids, f"arn:{ctx.partition}:iam::{ctx.account}:role/monitoring", "probe", lo),
        ids.ip(),
        _boto_agent(rng),
    )
    t0 = when(0)
    for i in range(3):
        b.call(
            Call("sts.amazonaws.com", "GetCallerIdentity", True, ()),
            t0 + timedelta(seconds=2 * i),
            monitor,
        )
