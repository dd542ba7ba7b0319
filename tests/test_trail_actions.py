"""Event -> IAM action mapping: the default rule and each kind of exception."""

from __future__ import annotations

import random
from urllib.parse import quote

import botocore.session
import pytest

from grader.aws.iam.catalog import Catalog, load_catalog
from grader.aws.trail import apigateway, scenario
from grader.aws.trail.actions import (
    EVENT_ACTIONS,
    HTTP_VERB,
    NO_PERMISSION,
    S3_VERSIONED_ACTIONS,
    SERVICE_EVENT_KIND,
    UNMAPPABLE,
    VERSIONED,
    action_for,
    check_actions,
    map_event,
    passed_roles,
)
from grader.aws.trail.generator import _Ids, _names
from grader.aws.trail.sources import EVENT_SOURCE_PREFIX


def event(source: str, name: str, **extra) -> dict:
    return {
        "eventTime": "2024-03-01T10:00:00Z",
        "eventSource": source,
        "eventName": name,
        "eventType": "AwsApiCall",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/bob"},
        **extra,
    }


def test_default_is_prefix_and_event_name() -> None:
    assert action_for(event("ec2.amazonaws.com", "StartInstances")) == "ec2:StartInstances"
    assert map_event(event("ec2.amazonaws.com", "StartInstances")).kind == "default"


@pytest.mark.parametrize(
    ("source", "name", "action"),
    [
        ("monitoring.amazonaws.com", "DescribeAlarms", "cloudwatch:DescribeAlarms"),
        ("email.amazonaws.com", "SendEmail", "ses:SendEmail"),
        ("tagging.amazonaws.com", "GetResources", "tag:GetResources"),
        ("cloudcontrolapi.amazonaws.com", "GetResource", "cloudformation:GetResource"),
        ("logs.amazonaws.com", "PutRetentionPolicy", "logs:PutRetentionPolicy"),
        ("states.amazonaws.com", "StartExecution", "states:StartExecution"),
    ],
)
def test_endpoints_named_unlike_their_prefix(source: str, name: str, action: str) -> None:
    assert action_for(event(source, name)) == action


@pytest.mark.parametrize(
    ("name", "action"),
    [
        ("GetFunction20150331v2", "lambda:GetFunction"),
        ("UpdateFunctionCode20150331v2", "lambda:UpdateFunctionCode"),
        ("PublishVersion20150331", "lambda:PublishVersion"),
        ("PutFunctionConcurrency20171031", "lambda:PutFunctionConcurrency"),
        ("TagResource20170331v2", "lambda:TagResource"),
        ("GetFunctionUrlConfig", "lambda:GetFunctionUrlConfig"),
        ("Invoke", "lambda:InvokeFunction"),
    ],
)
def test_lambda_event_names_with_api_versions(name: str, action: str) -> None:
    assert action_for(event("lambda.amazonaws.com", name)) == action


def test_cloudfront_version_suffix() -> None:
    mapping = map_event(event("cloudfront.amazonaws.com", "UpdateDistribution2020_05_31"))
    assert mapping.actions == ("cloudfront:UpdateDistribution",)
    assert mapping.kind == VERSIONED


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("HeadObject", "s3:GetObject"),
        ("HeadBucket", "s3:ListBucket"),
        ("ListObjects", "s3:ListBucket"),
        ("ListObjectsV2", "s3:ListBucket"),
        ("ListBuckets", "s3:ListAllMyBuckets"),
        ("ListObjectVersions", "s3:ListBucketVersions"),
        ("ListParts", "s3:ListMultipartUploadParts"),
        ("DeleteObjects", "s3:DeleteObject"),
        ("CreateMultipartUpload", "s3:PutObject"),
        ("UploadPart", "s3:PutObject"),
        ("CompleteMultipartUpload", "s3:PutObject"),
        ("PutBucketLifecycle", "s3:PutLifecycleConfiguration"),
        ("GetBucketEncryption", "s3:GetEncryptionConfiguration"),
        ("GetBucketPolicyStatus", "s3:GetBucketPolicyStatus"),
        ("GetObjectAttributes", "s3:GetObjectAttributes"),
        ("CopyObject", ["s3:GetObject", "s3:PutObject"]),
    ],
)
def test_s3_operations_whose_permission_has_another_name(name: str, expected) -> None:
    assert action_for(event("s3.amazonaws.com", name)) == expected


def test_s3_version_id_needs_the_version_permission() -> None:
    params = {"bucketName": "b", "key": "k", "versionId": "v1"}
    assert action_for(event("s3.amazonaws.com", "GetObject", requestParameters=params)) == (
        "s3:GetObjectVersion"
    )
    assert action_for(event("s3.amazonaws.com", "HeadObject", requestParameters=params)) == (
        "s3:GetObjectVersion"
    )
    assert action_for(event("s3.amazonaws.com", "DeleteObject", requestParameters=params)) == (
        "s3:DeleteObjectVersion"
    )


@pytest.mark.parametrize(
    "record",
    [
        event("sts.amazonaws.com", "GetCallerIdentity"),
        event("signin.amazonaws.com", "ConsoleLogin", eventType="AwsConsoleSignIn"),
        event("signin.amazonaws.com", "SwitchRole"),
    ],
)
def test_events_that_need_no_permission(record: dict) -> None:
    assert action_for(record) is None
    assert map_event(record).kind == NO_PERMISSION


def test_assume_role_keeps_its_action() -> None:
    assert action_for(event("sts.amazonaws.com", "AssumeRole")) == "sts:AssumeRole"


def test_calls_made_by_aws_services_are_not_the_principals() -> None:
    invoked = event("lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2")
    invoked["userIdentity"] = {
        "type": "AssumedRole",
        "arn": "arn:aws:sts::111122223333:assumed-role/cfn-exec/AWSCloudFormation",
        "invokedBy": "cloudformation.amazonaws.com",
    }
    assert action_for(invoked) is None
    mapping = map_event(invoked)
    assert mapping.service_made == "cloudformation.amazonaws.com"
    assert mapping.actions == ("lambda:UpdateFunctionConfiguration",)  # kept for review
    rotate = event("kms.amazonaws.com", "RotateKey", eventType="AwsServiceEvent")
    rotate["userIdentity"] = {"accountId": "111122223333", "invokedBy": "kms.amazonaws.com"}
    assert action_for(rotate) is None
    assert map_event(rotate).kind == SERVICE_EVENT_KIND


APIGW = "apigateway.amazonaws.com"
REST = "arn:aws:apigateway:eu-west-1::/restapis"


def apigw(operation: str, /, **params) -> dict:
    return event(APIGW, operation, awsRegion="eu-west-1", requestParameters=params or None)


@pytest.mark.parametrize(
    ("name", "params", "action", "arn"),
    [
        ("CreateRestApi", {"name": "shop"}, "apigateway:POST", REST),
        ("GetRestApis", {}, "apigateway:GET", REST),
        ("GetRestApi", {"restApiId": "a1"}, "apigateway:GET", f"{REST}/a1"),
        ("DeleteRestApi", {"restApiId": "a1"}, "apigateway:DELETE", f"{REST}/a1"),
        ("ImportRestApi", {"mode": "import"}, "apigateway:POST", REST),
        ("PutRestApi", {"restApiId": "a1"}, "apigateway:PUT", f"{REST}/a1"),
        (
            "UpdateMethod",
            {"restApiId": "a1", "resourceId": "r1", "httpMethod": "GET"},
            "apigateway:PATCH",
            f"{REST}/a1/resources/r1/methods/GET",
        ),
        (
            "PutIntegration",
            {"restApiId": "a1", "resourceId": "r1", "httpMethod": "POST"},
            "apigateway:PUT",
            f"{REST}/a1/resources/r1/methods/POST/integration",
        ),
        (  # a new resource is a POST on its parent
            "CreateResource",
            {"restApiId": "a1", "parentId": "root", "pathPart": "pets"},
            "apigateway:POST",
            f"{REST}/a1/resources/root",
        ),
        (
            "TestInvokeMethod",
            {"restApiId": "a1", "resourceId": "r1", "httpMethod": "GET"},
            "apigateway:POST",
            f"{REST}/a1/resources/r1/methods/GET",
        ),
        (
            "FlushStageCache",
            {"restApiId": "a1", "stageName": "prod"},
            "apigateway:DELETE",
            f"{REST}/a1/stages/prod/cache/data",
        ),
        ("CreateStage", {"restApiId": "a1"}, "apigateway:POST", f"{REST}/a1/stages"),
        (  # the same name on an HTTP API: apiId, and the /apis path
            "CreateStage",
            {"apiId": "h1", "stageName": "prod"},
            "apigateway:POST",
            "arn:aws:apigateway:eu-west-1::/apis/h1/stages",
        ),
        (
            "UpdateRoute",
            {"apiId": "h1", "routeId": "rt1"},
            "apigateway:PATCH",
            "arn:aws:apigateway:eu-west-1::/apis/h1/routes/rt1",
        ),
        ("ImportApi", {}, "apigateway:PUT", "arn:aws:apigateway:eu-west-1::/apis"),
        (
            "GenerateClientCertificate",
            {},
            "apigateway:POST",
            "arn:aws:apigateway:eu-west-1::/clientcertificates",
        ),
    ],
)
def test_api_gateway_calls_are_http_verbs_on_resource_paths(
    name: str, params: dict, action: str, arn: str
) -> None:
    mapping = map_event(apigw(name, **params))
    assert (mapping.kind, mapping.actions, mapping.resources) == (HTTP_VERB, (action,), (arn,))
    assert action_for(apigw(name, **params)) == action


def test_api_gateway_path_missing_from_the_request_is_the_collection_wildcarded() -> None:
    mapping = map_event(apigw("UpdateMethod", restApiId="a1"))
    assert mapping.actions == ("apigateway:PATCH",)
    assert mapping.resources == (f"{REST}/a1/resources/*",)
    assert "wildcard" in mapping.note
    assert map_event(apigw("DeleteRestApi")).resources == (f"{REST}/*",)


def test_api_gateway_tags_take_the_url_encoded_arn_and_the_apis_verb() -> None:
    stage = "arn:aws:apigateway:eu-west-1::/restapis/a1/stages/prod"
    rest = map_event(apigw("TagResource", resourceArn=stage))
    assert rest.actions == ("apigateway:PUT",)
    assert rest.resources == (
        "arn:aws:apigateway:eu-west-1::/tags/"
        "arn%3Aaws%3Aapigateway%3Aeu-west-1%3A%3A%2Frestapis%2Fa1%2Fstages%2Fprod",
    )
    http = map_event(apigw("TagResource", resourceArn="arn:aws:apigateway:eu-west-1::/apis/h1"))
    assert http.actions == ("apigateway:POST",)  # HTTP APIs tag with POST


def test_api_gateway_resource_policy_change_needs_update_rest_api_policy() -> None:
    patch = [{"op": "replace", "path": "/policy", "value": "{}"}]
    mapping = map_event(apigw("UpdateRestApi", restApiId="a1", patchOperations=patch))
    assert mapping.actions == ("apigateway:PATCH", "apigateway:UpdateRestApiPolicy")
    renamed = [{"op": "replace", "path": "/name", "value": "shop"}]
    plain = map_event(apigw("UpdateRestApi", restApiId="a1", patchOperations=renamed))
    assert plain.actions == ("apigateway:PATCH",)


def test_api_gateway_arn_follows_the_region_partition() -> None:
    record = apigw("GetRestApis")
    record["awsRegion"] = "cn-north-1"
    assert map_event(record).resources == ("arn:aws-cn:apigateway:cn-north-1::/restapis",)


def test_api_gateway_operation_in_no_table_is_left_to_a_person() -> None:
    mapping = map_event(apigw("FrobnicateRestApi", restApiId="a1"))
    assert mapping.kind == UNMAPPABLE
    assert mapping.actions == ()
    assert "apigateway:POST" in mapping.note and "FrobnicateRestApi" in mapping.note
    unscoped = map_event(apigw("CreatePortal"))  # a verb from the name, no known path
    assert (unscoped.actions, unscoped.resources) == (("apigateway:POST",), ())


def _botocore_operations(service: str) -> list[tuple[str, str, str, dict[str, str]]]:
    """(operation, verb, IAM path, requestParameters) for each operation of a botocore
    model: the request path without "/v2" and query, placeholders filled with sample values
    under the names CloudTrail records."""
    model = botocore.session.get_session().get_service_model(service)
    found = []
    for name in model.operation_names:
        operation = model.operation_model(name)
        path = operation.http["requestUri"].split("?", 1)[0].removeprefix("/v2")
        params: dict[str, str] = {}
        members = operation.input_shape.members if operation.input_shape else {}
        for member, shape in members.items():
            if shape.serialization.get("location") != "uri":
                continue
            key = member[:1].lower() + member[1:]
            params[key] = "ARN" if key == "resourceArn" else f"v-{key}"
            path = path.replace("{" + shape.serialization["name"] + "}", params[key])
        if service == "apigatewayv2" and "resourceArn" in params:
            params["resourceArn"] = "arn:aws:apigateway:eu-west-1::/apis/h1"
        found.append((name, operation.http["method"], path, params))
    return found


@pytest.mark.parametrize("service", ["apigateway", "apigatewayv2"])
def test_api_gateway_tables_agree_with_the_sdk_model(service: str) -> None:
    for name, verb, path, params in _botocore_operations(service):
        if service == "apigatewayv2" and "apiId" not in params and "resourceArn" not in params:
            params["apiId"] = "h1"  # what tells an HTTP API call from a REST API one
        mapping = map_event(apigw(name, **params))
        assert mapping.actions[:1] == (f"apigateway:{verb}",), name
        known = name in apigateway.REST_PATHS or name in apigateway.V2_PATHS
        assert len(mapping.resources) == known, name
        for arn in mapping.resources:
            if "/tags/" in arn:
                path = path.replace("ARN", quote(params["resourceArn"], safe=""))
            assert arn == f"arn:aws:apigateway:eu-west-1::{path}", name


def test_passed_roles_are_listed_not_mapped() -> None:
    record = event(
        "lambda.amazonaws.com",
        "UpdateFunctionConfiguration20150331v2",
        requestParameters={"functionName": "f", "role": "arn:aws:iam::111122223333:role/exec"},
    )
    assert passed_roles(record) == ("arn:aws:iam::111122223333:role/exec",)
    assert action_for(record) == "lambda:UpdateFunctionConfiguration"
    assert passed_roles(event("ec2.amazonaws.com", "DescribeInstances")) == ()


def test_check_actions_reports_what_the_catalog_lacks() -> None:
    tiny = Catalog([("s3", "Amazon S3", "", {"GetObject": "Read"})])
    assert check_actions(["S3:getobject", "s3:HeadObject"], tiny) == (
        ["s3:GetObject"],
        ["s3:HeadObject"],
    )


def test_every_table_action_is_in_the_catalog() -> None:
    catalog = load_catalog()
    table = {a for actions in EVENT_ACTIONS.values() for a in actions}
    table |= set(S3_VERSIONED_ACTIONS) | set(S3_VERSIONED_ACTIONS.values())
    table |= {f"apigateway:{verb}" for _, verb in apigateway.VERB_BY_PREFIX}
    table |= set(apigateway.PATCH_PATH_ACTIONS.values())
    assert check_actions(table, catalog)[1] == []
    for prefix in set(EVENT_SOURCE_PREFIX.values()):
        assert catalog.known_service(prefix), prefix


def _scenario_calls() -> list[scenario.Call]:
    rng = random.Random(1)
    ctx = _names(rng, _Ids(rng), "111122223333", "us-east-1")
    calls = list(scenario.MARKER_CALLS) + list(scenario.OUTSIDE_CALLS)
    calls += scenario.change_set(ctx, rng) + scenario.update_functions(ctx, rng)
    for _ in range(4):  # both upload shapes
        calls += scenario.upload_artifact(ctx, rng)
    for _phase, build in scenario.OPTIONAL_STEPS.values():
        calls += build(ctx, rng)
    return calls


def test_every_generator_action_is_in_the_catalog_and_mapped_alike() -> None:
    catalog = load_catalog()
    calls = _scenario_calls()
    assert check_actions({a for c in calls for a in c.actions}, catalog)[1] == []
    for call in calls:  # the hand-written truth agrees with the engine, call by call
        record = event(call.source, call.name, requestParameters=call.params)
        assert map_event(record).actions == call.actions, call.key
