"""The calls a generated trail is made of, each with the IAM actions it needs written by hand.

The ground truth of a generated trail comes from here, not from ``actions.py``, so a test
that compares a generated policy with it checks the mapping tables instead of repeating
them. Each ``Call`` says what CloudTrail records (source, name, parameters, resources) and
what a person reading the Service Authorization Reference would grant for it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ScenarioNames:
    """The names a scenario's calls refer to, chosen once per seed."""

    account: str
    region: str
    partition: str
    app: str
    bucket: str
    build: str
    functions: tuple[str, ...]
    stack: str
    key_id: str
    parameters: tuple[str, ...]
    secret: str
    cfn_role: str
    alarm: str

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{self.account if account else ''}:{resource}"
        )

    @property
    def bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.bucket}"

    def object_arn(self, key: str) -> str:
        return f"{self.bucket_arn}/{key}"

    def function_arn(self, name: str) -> str:
        return self.arn("lambda", f"function:{name}")

    @property
    def key_arn(self) -> str:
        return self.arn("kms", f"key/{self.key_id}")

    @property
    def stack_arn(self) -> str:
        return self.arn("cloudformation", f"stack/{self.stack}/{self.key_id[:8]}-stack")


@dataclass(frozen=True)
class Call:
    """One API call as CloudTrail records it, and the actions and ARNs it truly needs."""

    source: str
    name: str
    read_only: bool
    actions: tuple[str, ...]  # hand-written: what the Service Authorization Reference needs
    params: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    resources: tuple[tuple[str, str], ...] = ()  # (CloudTrail resource type, ARN)
    data_event: bool = False
    truth_arns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    denied_code: str = "AccessDenied"
    denied_resource: str = "*"

    @property
    def key(self) -> tuple[str, str]:
        return self.source, self.name


def _s3_object(
    ctx: ScenarioNames, name: str, key: str, actions: tuple[str, ...], read: bool
) -> Call:
    obj = ctx.object_arn(key)
    return Call(
        "s3.amazonaws.com",
        name,
        read,
        actions,
        {
            "bucketName": ctx.bucket,
            "Host": f"{ctx.bucket}.s3.{ctx.region}.amazonaws.com",
            "key": key,
        },
        resources=(("AWS::S3::Object", obj), ("AWS::S3::Bucket", ctx.bucket_arn)),
        data_event=True,
        truth_arns={a: (obj,) for a in actions},
        denied_resource=obj,
    )


def _lambda(
    ctx: ScenarioNames, event: str, action: str, fn: str, read: bool, **params: Any
) -> Call:
    arn = ctx.function_arn(fn)
    return Call(
        "lambda.amazonaws.com",
        event,
        read,
        (action,),
        {"functionName": fn, **params},
        truth_arns={action: (arn,)},
        denied_resource=arn,
    )


def _cfn(ctx: ScenarioNames, name: str, read: bool, **params: Any) -> Call:
    action = f"cloudformation:{name}"
    return Call(
        "cloudformation.amazonaws.com",
        name,
        read,
        (action,),
        {"stackName": ctx.stack, **params},
        truth_arns={action: (ctx.arn("cloudformation", f"stack/{ctx.stack}/*"),)},
    )


def upload_artifact(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    """The build artifact goes to S3 (one PUT, or a multipart upload for a big one)."""
    key = f"builds/{ctx.build}/{ctx.app}.zip"
    if rng.random() < 0.5:
        return [_s3_object(ctx, "PutObject", key, ("s3:PutObject",), False)]
    return [
        _s3_object(ctx, "CreateMultipartUpload", key, ("s3:PutObject",), False),
        _s3_object(ctx, "UploadPart", key, ("s3:PutObject",), False),
        _s3_object(ctx, "UploadPart", key, ("s3:PutObject",), False),
        _s3_object(ctx, "CompleteMultipartUpload", key, ("s3:PutObject",), False),
    ]


def change_set(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    """CloudFormation: create, inspect and execute a change set, then wait for the stack.

    The change set names a CloudFormation service role, so ``iam:PassRole`` is checked here,
    and never logged.
    """
    cs = f"deploy-{ctx.build}"
    cs_arn = ctx.arn("cloudformation", f"changeSet/{cs}/{ctx.key_id[-8:]}")
    calls = [
        _cfn(
            ctx,
            "CreateChangeSet",
            False,
            changeSetName=cs,
            changeSetType="UPDATE",
            templateURL=f"https://{ctx.bucket}.s3.{ctx.region}.amazonaws.com/builds/{ctx.build}/template.yaml",
            capabilities=["CAPABILITY_IAM"],
            roleARN=ctx.cfn_role,
        ),
        _cfn(ctx, "DescribeChangeSet", True, changeSetName=cs_arn),
        _cfn(ctx, "ExecuteChangeSet", False, changeSetName=cs_arn),
    ]
    for _ in range(rng.randint(1, 3)):  # polling, interleaved so it never looks like a marker
        calls.append(_cfn(ctx, "DescribeStackEvents", True))
        calls.append(_cfn(ctx, "DescribeStacks", True))
    return calls


def update_functions(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    """Lambda: look at each function, ship the new code, publish a version."""
    calls: list[Call] = []
    key = f"builds/{ctx.build}/{ctx.app}.zip"
    for fn in ctx.functions:
        calls.append(_lambda(ctx, "GetFunction20150331v2", "lambda:GetFunction", fn, True))
        calls.append(
            _lambda(
                ctx,
                "UpdateFunctionCode20150331v2",
                "lambda:UpdateFunctionCode",
                fn,
                False,
                s3Bucket=ctx.bucket,
                s3Key=key,
                publish=False,
                dryRun=False,
            )
        )
        calls.append(
            _lambda(
                ctx,
                "PublishVersion20150331",
                "lambda:PublishVersion",
                fn,
                False,
                codeSha256=_sha(rng),
            )
        )
    return calls


def _sha(rng: random.Random) -> str:
    import base64

    return base64.b64encode(rng.randbytes(32)).decode()


# Optional steps: each a function of (ctx, rng) -> calls, with the phase it belongs to
# (0 prepare, 1 after upload, 2 after CloudFormation, 3 verify).
def _get_parameter(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    name = rng.choice(ctx.parameters)
    arn = ctx.arn("ssm", f"parameter{name}")
    return [
        Call(
            "ssm.amazonaws.com",
            "GetParameter",
            True,
            ("ssm:GetParameter",),
            {"name": name, "withDecryption": True},
            truth_arns={"ssm:GetParameter": (arn,)},
            denied_resource=arn,
        )
    ]


def _get_parameters_by_path(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    path = f"/{ctx.app}/prod"
    return [
        Call(
            "ssm.amazonaws.com",
            "GetParametersByPath",
            True,
            ("ssm:GetParametersByPath",),
            {"path": path, "recursive": True, "withDecryption": True},
        )
    ]


def _decrypt(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    return [
        Call(
            "kms.amazonaws.com",
            "Decrypt",
            True,
            ("kms:Decrypt",),
            {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
            resources=(("AWS::KMS::Key", ctx.key_arn),),
            truth_arns={"kms:Decrypt": (ctx.key_arn,)},
            denied_resource=ctx.key_arn,
        )
    ]


def _generate_data_key(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    return [
        Call(
            "kms.amazonaws.com",
            "GenerateDataKey",
            True,
            ("kms:GenerateDataKey",),
            {"keyId": ctx.key_arn, "keySpec": "AES_256"},
            resources=(("AWS::KMS::Key", ctx.key_arn),),
            truth_arns={"kms:GenerateDataKey": (ctx.key_arn,)},
        )
    ]


def _get_secret(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    return [
        Call(
            "secretsmanager.amazonaws.com",
            "GetSecretValue",
            True,
            ("secretsmanager:GetSecretValue",),
            {"secretId": ctx.secret},
            truth_arns={"secretsmanager:GetSecretValue": (ctx.secret,)},
            denied_resource=ctx.secret,
        )
    ]


def _ecr_login(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    return [
        Call("ecr.amazonaws.com", "GetAuthorizationToken", True, ("ecr:GetAuthorizationToken",)),
        Call(
            "ecr.amazonaws.com",
            "DescribeImages",
            True,
            ("ecr:DescribeImages",),
            {"repositoryName": ctx.app, "imageIds": [{"imageTag": ctx.build}]},
        ),
    ]


def _who_am_i(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    # The job prints its identity once: no permission needed, so no action in the truth.
    return [Call("sts.amazonaws.com", "GetCallerIdentity", True, ())]


def _validate_template(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    return [
        Call(
            "cloudformation.amazonaws.com",
            "ValidateTemplate",
            True,
            ("cloudformation:ValidateTemplate",),
            {
                "templateURL": f"https://{ctx.bucket}.s3.amazonaws.com/builds/{ctx.build}/template.yaml"
            },
        )
    ]


def _head_object(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    key = f"builds/{ctx.build}/{ctx.app}.zip"
    return [_s3_object(ctx, "HeadObject", key, ("s3:GetObject",), True)]


def _download_config(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    return [_s3_object(ctx, "GetObject", f"config/{ctx.app}/prod.json", ("s3:GetObject",), True)]


def _list_builds(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    return [
        Call(
            "s3.amazonaws.com",
            "ListObjects",
            True,
            ("s3:ListBucket",),
            {
                "bucketName": ctx.bucket,
                "Host": f"{ctx.bucket}.s3.{ctx.region}.amazonaws.com",
                "list-type": "2",
                "prefix": "builds/",
            },
            resources=(("AWS::S3::Bucket", ctx.bucket_arn),),
            data_event=True,
            truth_arns={"s3:ListBucket": (ctx.bucket_arn,)},
        )
    ]


def _promote_artifact(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    src, dst = f"builds/{ctx.build}/{ctx.app}.zip", f"releases/{ctx.app}-latest.zip"
    arns = (ctx.object_arn(dst), ctx.object_arn(src))
    return [
        Call(
            "s3.amazonaws.com",
            "CopyObject",
            False,
            ("s3:GetObject", "s3:PutObject"),
            {
                "bucketName": ctx.bucket,
                "Host": f"{ctx.bucket}.s3.{ctx.region}.amazonaws.com",
                "key": dst,
                "x-amz-copy-source": f"{ctx.bucket}/{src}",
            },
            resources=(
                ("AWS::S3::Object", ctx.object_arn(src)),
                ("AWS::S3::Object", ctx.object_arn(dst)),
                ("AWS::S3::Bucket", ctx.bucket_arn),
            ),
            data_event=True,
            # every object the event names, for both actions: the engine cannot tell apart
            # the source and the copy from the resources element alone
            truth_arns={"s3:GetObject": tuple(sorted(arns)), "s3:PutObject": tuple(sorted(arns))},
        )
    ]


def _update_alias(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    return [
        _lambda(ctx, "UpdateAlias20150331", "lambda:UpdateAlias", fn, False, name="live")
        for fn in ctx.functions
    ]


def _function_configuration(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    fn = rng.choice(ctx.functions)
    return [
        _lambda(
            ctx, "GetFunctionConfiguration20150331v2", "lambda:GetFunctionConfiguration", fn, True
        ),
        _lambda(
            ctx,
            "UpdateFunctionConfiguration20150331v2",
            "lambda:UpdateFunctionConfiguration",
            fn,
            False,
            timeout=30,
            memorySize=rng.choice([256, 512, 1024]),
        ),
    ]


def _smoke_test(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    fn = ctx.functions[0]
    arn = ctx.function_arn(fn)
    return [
        Call(
            "lambda.amazonaws.com",
            "Invoke",
            False,
            ("lambda:InvokeFunction",),
            {"functionName": arn, "invocationType": "RequestResponse", "qualifier": "live"},
            resources=(("AWS::Lambda::Function", arn),),
            data_event=True,
            truth_arns={"lambda:InvokeFunction": (arn,)},
        )
    ]


def _log_retention(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    fn = rng.choice(ctx.functions)
    group = f"/aws/lambda/{fn}"
    arn = ctx.arn("logs", f"log-group:{group}")
    return [
        Call(
            "logs.amazonaws.com",
            "PutRetentionPolicy",
            False,
            ("logs:PutRetentionPolicy",),
            {"logGroupName": group, "retentionInDays": rng.choice([14, 30, 90])},
            truth_arns={"logs:PutRetentionPolicy": (arn,)},
            denied_resource=arn,
        )
    ]


def _check_alarms(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    arn = ctx.arn("cloudwatch", f"alarm:{ctx.alarm}")
    return [
        Call(
            "monitoring.amazonaws.com",
            "DescribeAlarms",
            True,
            ("cloudwatch:DescribeAlarms",),
            {"alarmNames": [ctx.alarm]},
            truth_arns={"cloudwatch:DescribeAlarms": (arn,)},
        )
    ]


def _put_alarm(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    arn = ctx.arn("cloudwatch", f"alarm:{ctx.alarm}")
    return [
        Call(
            "monitoring.amazonaws.com",
            "PutMetricAlarm",
            False,
            ("cloudwatch:PutMetricAlarm",),
            {
                "alarmName": ctx.alarm,
                "metricName": "Errors",
                "namespace": "AWS/Lambda",
                "statistic": "Sum",
                "period": 60,
                "evaluationPeriods": 1,
                "threshold": 1.0,
                "comparisonOperator": "GreaterThanOrEqualToThreshold",
            },
            truth_arns={"cloudwatch:PutMetricAlarm": (arn,)},
            denied_resource=arn,
        )
    ]


def _tagged_resources(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    return [
        Call(
            "tagging.amazonaws.com",
            "GetResources",
            True,
            ("tag:GetResources",),
            {"tagFilters": [{"key": "app", "values": [ctx.app]}]},
        )
    ]


def _security_groups(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    return [
        Call(
            "ec2.amazonaws.com",
            "DescribeSecurityGroups",
            True,
            ("ec2:DescribeSecurityGroups",),
            {
                "securityGroupSet": {},
                "filterSet": {
                    "items": [{"name": "tag:app", "valueSet": {"items": [{"value": ctx.app}]}}]
                },
            },
            denied_code="Client.UnauthorizedOperation",
        )
    ]


def _get_role(ctx: ScenarioNames, rng: random.Random) -> list[Call]:
    name = ctx.cfn_role.rsplit("/", 1)[1]
    return [
        Call(
            "iam.amazonaws.com",
            "GetRole",
            True,
            ("iam:GetRole",),
            {"roleName": name},
            truth_arns={"iam:GetRole": (f"arn:{ctx.partition}:iam::{ctx.account}:role/{name}",)},
        )
    ]


# name -> (phase, builder); the pool a seed picks optional steps from.
OPTIONAL_STEPS: dict[str, tuple[int, Any]] = {
    "get-parameter": (0, _get_parameter),
    "get-parameters-by-path": (0, _get_parameters_by_path),
    "decrypt": (0, _decrypt),
    "generate-data-key": (0, _generate_data_key),
    "get-secret": (0, _get_secret),
    "ecr-login": (0, _ecr_login),
    "who-am-i": (0, _who_am_i),
    "validate-template": (0, _validate_template),
    "security-groups": (0, _security_groups),
    "get-role": (0, _get_role),
    "list-builds": (1, _list_builds),
    "head-object": (1, _head_object),
    "download-config": (0, _download_config),
    "promote-artifact": (3, _promote_artifact),
    "update-alias": (3, _update_alias),
    "function-configuration": (2, _function_configuration),
    "smoke-test": (3, _smoke_test),
    "log-retention": (3, _log_retention),
    "check-alarms": (3, _check_alarms),
    "put-alarm": (3, _put_alarm),
    "tagged-resources": (3, _tagged_resources),
}

# Steps whose single call can be the one the principal is denied (Access Analyzer keeps
# denied calls in a generated policy, so the truth keeps them too).
DENIABLE_STEPS = (
    "get-parameter",
    "get-secret",
    "decrypt",
    "log-retention",
    "put-alarm",
    "security-groups",
)

# Harmless read-only commands an engineer might run three times as a marker. None of their
# actions is used by the work, so a policy that includes the markers is visibly wrong.
MARKER_CALLS: tuple[Call, ...] = (
    Call("sts.amazonaws.com", "GetCallerIdentity", True, ()),
    Call(
        "s3.amazonaws.com",
        "ListBuckets",
        True,
        ("s3:ListAllMyBuckets",),
        {"Host": "s3.amazonaws.com"},
    ),
    Call("ec2.amazonaws.com", "DescribeRegions", True, ("ec2:DescribeRegions",), {"regionSet": {}}),
    Call("iam.amazonaws.com", "ListAccountAliases", True, ("iam:ListAccountAliases",)),
)

# Calls the principal makes outside the window (yesterday's run, cleanup afterwards); no
# work step uses their actions, so including them is a visible mistake.
OUTSIDE_CALLS: tuple[Call, ...] = (
    Call("lambda.amazonaws.com", "ListFunctions20150331", True, ("lambda:ListFunctions",)),
    Call("cloudformation.amazonaws.com", "ListStacks", True, ("cloudformation:ListStacks",)),
    Call(
        "cloudformation.amazonaws.com",
        "DeleteChangeSet",
        False,
        ("cloudformation:DeleteChangeSet",),
        {"changeSetName": "deploy-previous", "stackName": "app"},
    ),
    Call(
        "logs.amazonaws.com",
        "DescribeLogGroups",
        True,
        ("logs:DescribeLogGroups",),
        {"logGroupNamePrefix": "/aws/lambda/"},
    ),
    Call(
        "ssm.amazonaws.com",
        "PutParameter",
        False,
        ("ssm:PutParameter",),
        {"name": "/deploy/last-run", "type": "String", "overwrite": True},
    ),
)
