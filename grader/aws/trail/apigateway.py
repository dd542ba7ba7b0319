"""API Gateway's management calls: an HTTP verb on a resource path, not a named action.

IAM does not name API Gateway's management actions after operations. A call needs
``apigateway:<HTTP verb of the request>`` on ``arn:<partition>:apigateway:<region>::<path>``,
where the path is the one the request was sent to: CreateRestApi is ``POST /restapis``, so it
needs ``apigateway:POST`` on ``arn:aws:apigateway:us-east-1::/restapis``; UpdateMethod is
``PATCH /restapis/ID/resources/RID/methods/GET``. Sources:

- "How Amazon API Gateway works with IAM" and "Control access to a REST API with IAM
  permissions" (action = HTTP verb, resource = resource path):
  https://docs.aws.amazon.com/apigateway/latest/developerguide/security_iam_service-with-iam.html
  https://docs.aws.amazon.com/apigateway/latest/developerguide/permissions.html
- "API Gateway Amazon Resource Name (ARN) reference" (the ARN of each resource path):
  https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html
- each operation's verb and path in the API references (REST APIs, and HTTP and WebSocket
  APIs, whose paths start with ``/v2``, which the IAM path leaves out):
  https://docs.aws.amazon.com/apigateway/latest/api/API_Operations.html
  https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/resources.html

Both APIs log to ``apigateway.amazonaws.com`` and share some operation names
(``CreateStage``, ``GetDeployments``, ...); ``requestParameters`` tells them apart: a REST API
call names ``restApiId``, an HTTP or WebSocket API call ``apiId``. The path's placeholders are
the ``requestParameters`` names CloudTrail records (``restApiId``, ``resourceId``, ``httpMethod``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from .records import Record
from .resources import partition

SOURCE = "apigateway.amazonaws.com"

# The verb an operation's name gives (API Gateway's REST semantics, as the API references
# show them): Get* reads, Create* adds to a collection, Put* replaces, Update* patches.
VERB_BY_PREFIX: tuple[tuple[str, str], ...] = (
    ("Get", "GET"),
    ("Create", "POST"),
    ("Put", "PUT"),
    ("Update", "PATCH"),
    ("Delete", "DELETE"),
)

# Operations whose verb their name does not give, from the request syntax of each operation
# in the REST API reference (https://docs.aws.amazon.com/apigateway/latest/api/API_Operations.html).
VERB_EXCEPTIONS: dict[str, str] = {
    "GenerateClientCertificate": "POST",
    "ImportApiKeys": "POST",  # POST /apikeys?mode=import
    "ImportRestApi": "POST",  # POST /restapis?mode=import
    "ImportDocumentationParts": "PUT",
    "TestInvokeAuthorizer": "POST",
    "TestInvokeMethod": "POST",
    "FlushStageAuthorizersCache": "DELETE",
    "FlushStageCache": "DELETE",
    "TagResource": "PUT",
    "UntagResource": "DELETE",
    "RejectDomainNameAccessAssociation": "POST",
}

# The same for HTTP and WebSocket APIs (API Gateway V2), from its API reference
# (https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/resources.html). Its
# TagResource is POST where the REST API's is PUT.
V2_VERB_EXCEPTIONS: dict[str, str] = {
    "ImportApi": "PUT",
    "ReimportApi": "PUT",
    "ExportApi": "GET",
    "ResetAuthorizersCache": "DELETE",
    "TagResource": "POST",
    "UntagResource": "DELETE",
    "DisablePortal": "DELETE",
    "PreviewPortal": "POST",
    "PublishPortal": "POST",
    "ListPortals": "GET",
    "ListPortalProducts": "GET",
    "ListProductPages": "GET",
    "ListProductRestEndpointPages": "GET",
    "ListRoutingRules": "GET",
}

# The IAM resource path of each REST API operation: the request path of the REST API
# reference, query string left out. Private domain names' access associations, whose ARNs
# also carry the account, are not listed: their calls keep Resource "*".
REST_PATHS: dict[str, str] = {
    "GetAccount": "/account",
    "UpdateAccount": "/account",
    "CreateApiKey": "/apikeys",
    "GetApiKeys": "/apikeys",
    "ImportApiKeys": "/apikeys",
    "GetApiKey": "/apikeys/{apiKey}",
    "UpdateApiKey": "/apikeys/{apiKey}",
    "DeleteApiKey": "/apikeys/{apiKey}",
    "GenerateClientCertificate": "/clientcertificates",
    "GetClientCertificates": "/clientcertificates",
    "GetClientCertificate": "/clientcertificates/{clientCertificateId}",
    "UpdateClientCertificate": "/clientcertificates/{clientCertificateId}",
    "DeleteClientCertificate": "/clientcertificates/{clientCertificateId}",
    "CreateDomainName": "/domainnames",
    "GetDomainNames": "/domainnames",
    "GetDomainName": "/domainnames/{domainName}",
    "UpdateDomainName": "/domainnames/{domainName}",
    "DeleteDomainName": "/domainnames/{domainName}",
    "CreateBasePathMapping": "/domainnames/{domainName}/basepathmappings",
    "GetBasePathMappings": "/domainnames/{domainName}/basepathmappings",
    "GetBasePathMapping": "/domainnames/{domainName}/basepathmappings/{basePath}",
    "UpdateBasePathMapping": "/domainnames/{domainName}/basepathmappings/{basePath}",
    "DeleteBasePathMapping": "/domainnames/{domainName}/basepathmappings/{basePath}",
    "CreateRestApi": "/restapis",
    "GetRestApis": "/restapis",
    "ImportRestApi": "/restapis",
    "GetRestApi": "/restapis/{restApiId}",
    "PutRestApi": "/restapis/{restApiId}",
    "UpdateRestApi": "/restapis/{restApiId}",
    "DeleteRestApi": "/restapis/{restApiId}",
    "CreateAuthorizer": "/restapis/{restApiId}/authorizers",
    "GetAuthorizers": "/restapis/{restApiId}/authorizers",
    "GetAuthorizer": "/restapis/{restApiId}/authorizers/{authorizerId}",
    "TestInvokeAuthorizer": "/restapis/{restApiId}/authorizers/{authorizerId}",
    "UpdateAuthorizer": "/restapis/{restApiId}/authorizers/{authorizerId}",
    "DeleteAuthorizer": "/restapis/{restApiId}/authorizers/{authorizerId}",
    "CreateDeployment": "/restapis/{restApiId}/deployments",
    "GetDeployments": "/restapis/{restApiId}/deployments",
    "GetDeployment": "/restapis/{restApiId}/deployments/{deploymentId}",
    "UpdateDeployment": "/restapis/{restApiId}/deployments/{deploymentId}",
    "DeleteDeployment": "/restapis/{restApiId}/deployments/{deploymentId}",
    "CreateDocumentationPart": "/restapis/{restApiId}/documentation/parts",
    "GetDocumentationParts": "/restapis/{restApiId}/documentation/parts",
    "ImportDocumentationParts": "/restapis/{restApiId}/documentation/parts",
    "GetDocumentationPart": "/restapis/{restApiId}/documentation/parts/{documentationPartId}",
    "UpdateDocumentationPart": "/restapis/{restApiId}/documentation/parts/{documentationPartId}",
    "DeleteDocumentationPart": "/restapis/{restApiId}/documentation/parts/{documentationPartId}",
    "CreateDocumentationVersion": "/restapis/{restApiId}/documentation/versions",
    "GetDocumentationVersions": "/restapis/{restApiId}/documentation/versions",
    "GetDocumentationVersion": (
        "/restapis/{restApiId}/documentation/versions/{documentationVersion}"
    ),
    "UpdateDocumentationVersion": (
        "/restapis/{restApiId}/documentation/versions/{documentationVersion}"
    ),
    "DeleteDocumentationVersion": (
        "/restapis/{restApiId}/documentation/versions/{documentationVersion}"
    ),
    "GetGatewayResponses": "/restapis/{restApiId}/gatewayresponses",
    "GetGatewayResponse": "/restapis/{restApiId}/gatewayresponses/{responseType}",
    "PutGatewayResponse": "/restapis/{restApiId}/gatewayresponses/{responseType}",
    "UpdateGatewayResponse": "/restapis/{restApiId}/gatewayresponses/{responseType}",
    "DeleteGatewayResponse": "/restapis/{restApiId}/gatewayresponses/{responseType}",
    "CreateModel": "/restapis/{restApiId}/models",
    "GetModels": "/restapis/{restApiId}/models",
    "GetModel": "/restapis/{restApiId}/models/{modelName}",
    "UpdateModel": "/restapis/{restApiId}/models/{modelName}",
    "DeleteModel": "/restapis/{restApiId}/models/{modelName}",
    "GetModelTemplate": "/restapis/{restApiId}/models/{modelName}/default_template",
    "CreateRequestValidator": "/restapis/{restApiId}/requestvalidators",
    "GetRequestValidators": "/restapis/{restApiId}/requestvalidators",
    "GetRequestValidator": "/restapis/{restApiId}/requestvalidators/{requestValidatorId}",
    "UpdateRequestValidator": "/restapis/{restApiId}/requestvalidators/{requestValidatorId}",
    "DeleteRequestValidator": "/restapis/{restApiId}/requestvalidators/{requestValidatorId}",
    "GetResources": "/restapis/{restApiId}/resources",
    "CreateResource": "/restapis/{restApiId}/resources/{parentId}",  # POST on the parent
    "GetResource": "/restapis/{restApiId}/resources/{resourceId}",
    "UpdateResource": "/restapis/{restApiId}/resources/{resourceId}",
    "DeleteResource": "/restapis/{restApiId}/resources/{resourceId}",
    "PutMethod": "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}",
    "GetMethod": "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}",
    "UpdateMethod": "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}",
    "DeleteMethod": "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}",
    "TestInvokeMethod": "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}",
    "PutMethodResponse": (
        "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}/responses/{statusCode}"
    ),
    "GetMethodResponse": (
        "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}/responses/{statusCode}"
    ),
    "UpdateMethodResponse": (
        "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}/responses/{statusCode}"
    ),
    "DeleteMethodResponse": (
        "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}/responses/{statusCode}"
    ),
    "PutIntegration": (
        "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}/integration"
    ),
    "GetIntegration": (
        "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}/integration"
    ),
    "UpdateIntegration": (
        "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}/integration"
    ),
    "DeleteIntegration": (
        "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}/integration"
    ),
    "PutIntegrationResponse": (
        "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}"
        "/integration/responses/{statusCode}"
    ),
    "GetIntegrationResponse": (
        "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}"
        "/integration/responses/{statusCode}"
    ),
    "UpdateIntegrationResponse": (
        "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}"
        "/integration/responses/{statusCode}"
    ),
    "DeleteIntegrationResponse": (
        "/restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}"
        "/integration/responses/{statusCode}"
    ),
    "CreateStage": "/restapis/{restApiId}/stages",
    "GetStages": "/restapis/{restApiId}/stages",
    "GetStage": "/restapis/{restApiId}/stages/{stageName}",
    "UpdateStage": "/restapis/{restApiId}/stages/{stageName}",
    "DeleteStage": "/restapis/{restApiId}/stages/{stageName}",
    "FlushStageAuthorizersCache": "/restapis/{restApiId}/stages/{stageName}/cache/authorizers",
    "FlushStageCache": "/restapis/{restApiId}/stages/{stageName}/cache/data",
    "GetExport": "/restapis/{restApiId}/stages/{stageName}/exports/{exportType}",
    "GetSdk": "/restapis/{restApiId}/stages/{stageName}/sdks/{sdkType}",
    "GetSdkTypes": "/sdktypes",
    "GetSdkType": "/sdktypes/{id}",
    # The tagged resource's ARN, URL-encoded, is the last segment (see _segment).
    "GetTags": "/tags/{resourceArn}",
    "TagResource": "/tags/{resourceArn}",
    "UntagResource": "/tags/{resourceArn}",
    "CreateUsagePlan": "/usageplans",
    "GetUsagePlans": "/usageplans",
    "GetUsagePlan": "/usageplans/{usagePlanId}",
    "UpdateUsagePlan": "/usageplans/{usagePlanId}",
    "DeleteUsagePlan": "/usageplans/{usagePlanId}",
    "CreateUsagePlanKey": "/usageplans/{usagePlanId}/keys",
    "GetUsagePlanKeys": "/usageplans/{usagePlanId}/keys",
    "GetUsagePlanKey": "/usageplans/{usagePlanId}/keys/{keyId}",
    "DeleteUsagePlanKey": "/usageplans/{usagePlanId}/keys/{keyId}",
    "UpdateUsage": "/usageplans/{usagePlanId}/keys/{keyId}/usage",
    "GetUsage": "/usageplans/{usagePlanId}/usage",
    "CreateVpcLink": "/vpclinks",
    "GetVpcLinks": "/vpclinks",
    "GetVpcLink": "/vpclinks/{vpcLinkId}",
    "UpdateVpcLink": "/vpclinks/{vpcLinkId}",
    "DeleteVpcLink": "/vpclinks/{vpcLinkId}",
}

# HTTP and WebSocket APIs: the API reference's request path without its "/v2". Domain names,
# VPC links and tags have the REST API's paths and are not repeated. Portals and routing rules
# (whose ARNs carry the account) are not listed: their calls keep Resource "*".
V2_PATHS: dict[str, str] = {
    "CreateApi": "/apis",
    "GetApis": "/apis",
    "ImportApi": "/apis",
    "GetApi": "/apis/{apiId}",
    "ReimportApi": "/apis/{apiId}",
    "UpdateApi": "/apis/{apiId}",
    "DeleteApi": "/apis/{apiId}",
    "CreateAuthorizer": "/apis/{apiId}/authorizers",
    "GetAuthorizers": "/apis/{apiId}/authorizers",
    "GetAuthorizer": "/apis/{apiId}/authorizers/{authorizerId}",
    "UpdateAuthorizer": "/apis/{apiId}/authorizers/{authorizerId}",
    "DeleteAuthorizer": "/apis/{apiId}/authorizers/{authorizerId}",
    "DeleteCorsConfiguration": "/apis/{apiId}/cors",
    "CreateDeployment": "/apis/{apiId}/deployments",
    "GetDeployments": "/apis/{apiId}/deployments",
    "GetDeployment": "/apis/{apiId}/deployments/{deploymentId}",
    "UpdateDeployment": "/apis/{apiId}/deployments/{deploymentId}",
    "DeleteDeployment": "/apis/{apiId}/deployments/{deploymentId}",
    "ExportApi": "/apis/{apiId}/exports/{specification}",
    "CreateIntegration": "/apis/{apiId}/integrations",
    "GetIntegrations": "/apis/{apiId}/integrations",
    "GetIntegration": "/apis/{apiId}/integrations/{integrationId}",
    "UpdateIntegration": "/apis/{apiId}/integrations/{integrationId}",
    "DeleteIntegration": "/apis/{apiId}/integrations/{integrationId}",
    "CreateIntegrationResponse": "/apis/{apiId}/integrations/{integrationId}/integrationresponses",
    "GetIntegrationResponses": "/apis/{apiId}/integrations/{integrationId}/integrationresponses",
    "GetIntegrationResponse": (
        "/apis/{apiId}/integrations/{integrationId}/integrationresponses/{integrationResponseId}"
    ),
    "UpdateIntegrationResponse": (
        "/apis/{apiId}/integrations/{integrationId}/integrationresponses/{integrationResponseId}"
    ),
    "DeleteIntegrationResponse": (
        "/apis/{apiId}/integrations/{integrationId}/integrationresponses/{integrationResponseId}"
    ),
    "CreateModel": "/apis/{apiId}/models",
    "GetModels": "/apis/{apiId}/models",
    "GetModel": "/apis/{apiId}/models/{modelId}",
    "UpdateModel": "/apis/{apiId}/models/{modelId}",
    "DeleteModel": "/apis/{apiId}/models/{modelId}",
    "GetModelTemplate": "/apis/{apiId}/models/{modelId}/template",
    "CreateRoute": "/apis/{apiId}/routes",
    "GetRoutes": "/apis/{apiId}/routes",
    "GetRoute": "/apis/{apiId}/routes/{routeId}",
    "UpdateRoute": "/apis/{apiId}/routes/{routeId}",
    "DeleteRoute": "/apis/{apiId}/routes/{routeId}",
    "DeleteRouteRequestParameter": (
        "/apis/{apiId}/routes/{routeId}/requestparameters/{requestParameterKey}"
    ),
    "CreateRouteResponse": "/apis/{apiId}/routes/{routeId}/routeresponses",
    "GetRouteResponses": "/apis/{apiId}/routes/{routeId}/routeresponses",
    "GetRouteResponse": "/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId}",
    "UpdateRouteResponse": "/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId}",
    "DeleteRouteResponse": "/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId}",
    "CreateStage": "/apis/{apiId}/stages",
    "GetStages": "/apis/{apiId}/stages",
    "GetStage": "/apis/{apiId}/stages/{stageName}",
    "UpdateStage": "/apis/{apiId}/stages/{stageName}",
    "DeleteStage": "/apis/{apiId}/stages/{stageName}",
    "DeleteAccessLogSettings": "/apis/{apiId}/stages/{stageName}/accesslogsettings",
    "ResetAuthorizersCache": "/apis/{apiId}/stages/{stageName}/cache/authorizers",
    "DeleteRouteSettings": "/apis/{apiId}/stages/{stageName}/routesettings/{routeKey}",
    "CreateApiMapping": "/domainnames/{domainName}/apimappings",
    "GetApiMappings": "/domainnames/{domainName}/apimappings",
    "GetApiMapping": "/domainnames/{domainName}/apimappings/{apiMappingId}",
    "UpdateApiMapping": "/domainnames/{domainName}/apimappings/{apiMappingId}",
    "DeleteApiMapping": "/domainnames/{domainName}/apimappings/{apiMappingId}",
}

# Calls that need a named action besides the verb. Changing a REST API's resource policy
# (an UpdateRestApi patch of /policy) needs apigateway:UpdateRestApiPolicy as well as
# apigateway:PATCH: "Create and attach an API Gateway resource policy to an API"
# https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-resource-policies-create-attach.html
PATCH_PATH_ACTIONS: dict[tuple[str, str], str] = {
    ("UpdateRestApi", "/policy"): "apigateway:UpdateRestApiPolicy",
}

_PLACEHOLDER = re.compile(r"^\{(?P<name>\w+)\}$")


@dataclass(frozen=True)
class ApiGatewayCall:
    """What one API Gateway management call needed: actions, the resource ARN, and a note.

    ``arn`` is None when no path is known for the operation (the action stays on ``*``);
    ``exact`` is False when the path ends in a wildcard because ``requestParameters`` lacked
    part of it.
    """

    actions: tuple[str, ...]
    arn: str | None
    exact: bool
    note: str


def _params(record: Record) -> Mapping[str, Any]:
    params = record.get("requestParameters")
    return params if isinstance(params, Mapping) else {}


def is_v2(operation: str, params: Mapping[str, Any]) -> bool:
    """Whether the call went to the HTTP and WebSocket API (V2) rather than the REST API.

    Only V2 has ``apiId``; a shared name without it is a REST API call, except TagResource
    on an ``/apis/`` ARN.
    """
    if operation not in REST_PATHS and operation not in VERB_EXCEPTIONS:
        return operation in V2_PATHS or operation in V2_VERB_EXCEPTIONS
    if operation not in V2_PATHS and operation not in V2_VERB_EXCEPTIONS:
        return False
    tagged = params.get("resourceArn")
    return "apiId" in params or (isinstance(tagged, str) and "/apis/" in unquote(tagged))


def verb_for(operation: str, v2: bool = False) -> str | None:
    """The HTTP verb of ``operation`` (None when neither its name nor a table gives one)."""
    table = V2_VERB_EXCEPTIONS if v2 else VERB_EXCEPTIONS
    if operation in table:
        return table[operation]
    for prefix, verb in VERB_BY_PREFIX:
        if operation.startswith(prefix):
            return verb
    return None


def path_template(operation: str, v2: bool = False) -> str | None:
    """The resource path template of ``operation``, or None when none is known."""
    if v2 and operation in V2_PATHS:
        return V2_PATHS[operation]
    return REST_PATHS.get(operation)


def _segment(name: str, value: str) -> str:
    """A path segment from a parameter: a tagged ARN is URL-encoded, as the API expects."""
    return quote(unquote(value), safe="") if name == "resourceArn" else value


def fill_path(template: str, params: Mapping[str, Any]) -> tuple[str, bool]:
    """``template`` with its placeholders from ``params``, and whether it is exact.

    Where a placeholder has no value, the path stops at that collection with a wildcard
    (``/restapis/a1/resources/*``): broader than the call needed, but never narrower, so the
    draft still allows the call; a person can narrow it.
    """
    parts: list[str] = []
    for segment in template.strip("/").split("/"):
        match = _PLACEHOLDER.match(segment)
        if match is None:
            parts.append(segment)
            continue
        value = params.get(match["name"])
        if not isinstance(value, str) or not value:
            return "/" + "/".join([*parts, "*"]), False
        parts.append(_segment(match["name"], value))
    return "/" + "/".join(parts), True


def resource_arn(record: Record, path: str) -> str:
    """The ARN of an API Gateway resource path in the record's region (no account)."""
    region = str(record.get("awsRegion") or "us-east-1")
    return f"arn:{partition(region)}:apigateway:{region}::{path}"


def _extra_actions(operation: str, params: Mapping[str, Any]) -> tuple[str, ...]:
    patches = params.get("patchOperations")
    if not isinstance(patches, list):
        return ()
    paths = {p.get("path") for p in patches if isinstance(p, Mapping)}
    return tuple(
        action
        for (op, prefix), action in PATCH_PATH_ACTIONS.items()
        if op == operation and any(isinstance(p, str) and p.startswith(prefix) for p in paths)
    )


def map_call(operation: str, record: Record) -> ApiGatewayCall | None:
    """The actions and resource ARN an API Gateway management call needed, or None when
    its verb is unknown (a new operation none of the tables name)."""
    params = _params(record)
    v2 = is_v2(operation, params)
    verb = verb_for(operation, v2)
    if verb is None:
        return None
    actions = (f"apigateway:{verb}", *_extra_actions(operation, params))
    template = path_template(operation, v2)
    if template is None:
        note = f"{operation} is {verb}; no resource path is known for it, scope it by hand"
        return ApiGatewayCall(actions, None, False, note)
    path, exact = fill_path(template, params)
    note = f"{operation} is {verb} {path}"
    if not exact:
        note += f" (requestParameters lack part of {template}: the collection, wildcarded)"
    return ApiGatewayCall(actions, resource_arn(record, path), exact, note)
