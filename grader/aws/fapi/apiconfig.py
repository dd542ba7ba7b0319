"""An HTTP API's mTLS custom domain and Lambda authorizer, read from the API's own requests.

``api.json`` holds ``{"Api": <CreateApi request>, "Authorizer": <CreateAuthorizer request
without ApiId>}`` and ``domain.json`` a ``CreateDomainName`` request, in the JSON boto3's
``apigatewayv2`` client takes. Each is checked first with botocore's own parameter
validation against the service model, then with the rules API Gateway applies on top (each
with its source below), worded like the API's ``BadRequestException``. What comes back is
what :class:`~grader.aws.fapi.gateway.ApiGateway` needs to behave as that API would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.aws import botomodel
from grader.aws.errors import GraderError
from grader.aws.jsonfile import load_json

from .events import HTTP_V1, HTTP_V2, IdentitySourceError, check_identity_sources

SERVICE = "apigatewayv2"
# CreateAuthorizer, AuthorizerResultTtlInSeconds: "The maximum value is 3600, or 1 hour"
# (botocore's validator checks the minimum only).
MAX_RESULT_TTL = 3600
# CreateAuthorizer, AuthorizerPayloadFormatVersion: "Supported values are 1.0 and 2.0".
PAYLOAD_VERSIONS = (HTTP_V1, HTTP_V2)
# API Gateway developer guide, "Mutual TLS authentication for an HTTP API": mutual TLS is
# for Regional custom domain names, with the TLS 1.2 security policy.
MTLS_ENDPOINT_TYPE = "REGIONAL"
MTLS_SECURITY_POLICY = "TLS_1_2"
# The ACM ARN of a certificate: arn:PARTITION:acm:REGION:ACCOUNT:certificate/ID.
_ACM_PARTS = 6


class ApiConfigError(GraderError):
    """A request API Gateway would refuse (``BadRequestException``), with its JSON path."""

    code = "BadRequestException"


@dataclass(frozen=True)
class AuthorizerSettings:
    """What the gateway needs of a REQUEST (Lambda) authorizer."""

    name: str
    payload_version: str
    identity_sources: tuple[str, ...]
    result_ttl: int
    simple_responses: bool
    uri: str


@dataclass(frozen=True)
class ApiSettings:
    name: str
    disable_execute_api_endpoint: bool
    authorizer: AuthorizerSettings
    request: dict[str, Any]  # the CreateApi request, as given
    authorizer_request: dict[str, Any]  # the CreateAuthorizer request, without ApiId


@dataclass(frozen=True)
class DomainSettings:
    domain_name: str
    endpoint_type: str
    security_policy: str
    certificate_arn: str
    truststore_bucket: str
    truststore_key: str
    truststore_version: str | None
    request: dict[str, Any]  # the CreateDomainName request, as given

    @property
    def truststore_uri(self) -> str:
        return f"s3://{self.truststore_bucket}/{self.truststore_key}"


def _check(operation: str, request: Any, file: str | Path, prefix: str) -> None:
    problem = botomodel.request_problem(SERVICE, operation, request)
    if problem is not None:
        message, path = problem
        at = f"{prefix}.{path}" if prefix and path else prefix or path
        raise ApiConfigError(f"{operation}: {message}", file=file, json_path=at)


def _error(message: str, file: str | Path, path: str) -> ApiConfigError:
    return ApiConfigError(message, file=file, json_path=path)


def read_api(document: Mapping[str, Any], file: str | Path = "api.json") -> ApiSettings:
    """The API and its authorizer from ``{"Api": ..., "Authorizer": ...}``."""
    unknown = sorted(set(document) - {"Api", "Authorizer"})
    if unknown or not isinstance(document.get("Api"), dict):
        where = unknown[0] if unknown else "Api"
        raise _error(
            'api.json holds two requests: {"Api": <CreateApi>, "Authorizer": <CreateAuthorizer '
            "without ApiId>}" + (f"; {unknown[0]!r} is neither" if unknown else ""),
            file,
            where,
        )
    if not isinstance(document.get("Authorizer"), dict):
        raise _error(
            "Authorizer must be a CreateAuthorizer request (an object)", file, "Authorizer"
        )
    api = dict(document["Api"])
    _check("CreateApi", api, file, "Api")
    if api["ProtocolType"] != "HTTP":
        raise _error(
            "Lambda authorizers with mutual TLS and payload versions 1.0/2.0 are an HTTP "
            f"API's; ProtocolType must be HTTP, not {api['ProtocolType']}",
            file,
            "Api.ProtocolType",
        )
    raw = dict(document["Authorizer"])
    if "ApiId" in raw:
        raise _error("leave ApiId out: the deploy fills it in", file, "Authorizer.ApiId")
    _check("CreateAuthorizer", {"ApiId": "api", **raw}, file, "Authorizer")
    return ApiSettings(
        name=api["Name"],
        disable_execute_api_endpoint=bool(api.get("DisableExecuteApiEndpoint", False)),
        authorizer=_authorizer(raw, file),
        request=api,
        authorizer_request=raw,
    )


def _authorizer(raw: Mapping[str, Any], file: str | Path) -> AuthorizerSettings:
    at = "Authorizer."
    if raw["AuthorizerType"] != "REQUEST":
        raise _error(
            "a Lambda authorizer has AuthorizerType REQUEST (JWT authorizers check a JWT's "
            "signature and claims, never the client certificate)",
            file,
            at + "AuthorizerType",
        )
    version = raw.get("AuthorizerPayloadFormatVersion")
    if version not in PAYLOAD_VERSIONS:
        raise _error(
            "AuthorizerPayloadFormatVersion is required for an HTTP API's Lambda authorizer: "
            f"one of {', '.join(PAYLOAD_VERSIONS)}" + (f", not {version!r}" if version else ""),
            file,
            at + "AuthorizerPayloadFormatVersion",
        )
    if not raw.get("AuthorizerUri"):
        raise _error(
            "AuthorizerUri is required for a REQUEST authorizer: the Lambda function's "
            "invocation URI",
            file,
            at + "AuthorizerUri",
        )
    simple = bool(raw.get("EnableSimpleResponses", False))
    if simple and version != HTTP_V2:
        raise _error(
            "EnableSimpleResponses is only for payload format version 2.0",
            file,
            at + "EnableSimpleResponses",
        )
    sources = tuple(raw["IdentitySource"])
    try:
        check_identity_sources(sources)
    except IdentitySourceError as exc:
        raise _error(exc.message, file, at + "IdentitySource") from None
    ttl = raw.get("AuthorizerResultTtlInSeconds", 0)
    if ttl > MAX_RESULT_TTL:
        raise _error(
            f"AuthorizerResultTtlInSeconds must be between 0 and {MAX_RESULT_TTL}, not {ttl}",
            file,
            at + "AuthorizerResultTtlInSeconds",
        )
    if ttl > 0 and not sources:
        # CreateAuthorizer, IdentitySource: optional only while caching is off; the
        # identity sources are the cache key.
        raise _error(
            "caching (AuthorizerResultTtlInSeconds > 0) needs at least one IdentitySource: "
            "they are the cache key",
            file,
            at + "IdentitySource",
        )
    return AuthorizerSettings(
        name=raw["Name"],
        payload_version=version,
        identity_sources=sources,
        result_ttl=int(ttl),
        simple_responses=simple,
        uri=raw["AuthorizerUri"],
    )


def read_domain(
    request: Mapping[str, Any], file: str | Path = "domain.json", *, region: str | None = None
) -> DomainSettings:
    """The custom domain from a CreateDomainName request, with mutual TLS, made in
    ``region`` (when given: a Regional domain's certificate must be in its Region)."""
    request = dict(request)
    _check("CreateDomainName", request, file, "")
    configs = request.get("DomainNameConfigurations") or []
    if len(configs) != 1:
        raise _error(
            "give exactly one DomainNameConfigurations entry (the domain's certificate, "
            "endpoint type and security policy)",
            file,
            "DomainNameConfigurations",
        )
    config = configs[0]
    at = "DomainNameConfigurations[0]."
    endpoint = config.get("EndpointType", MTLS_ENDPOINT_TYPE)
    policy = config.get("SecurityPolicy")
    arn = config.get("CertificateArn") or ""
    mtls = request.get("MutualTlsAuthentication")
    if not mtls or not mtls.get("TruststoreUri"):
        raise _error(
            "MutualTlsAuthentication.TruststoreUri is missing: without it the domain "
            "accepts clients without a certificate",
            file,
            "MutualTlsAuthentication",
        )
    if endpoint != MTLS_ENDPOINT_TYPE:
        raise _error(
            f"mutual TLS needs a {MTLS_ENDPOINT_TYPE} endpoint, not {endpoint}",
            file,
            at + "EndpointType",
        )
    if policy != MTLS_SECURITY_POLICY:
        raise _error(
            f"mutual TLS needs the {MTLS_SECURITY_POLICY} security policy"
            + (f", not {policy}" if policy else " (SecurityPolicy is missing)"),
            file,
            at + "SecurityPolicy",
        )
    parts = arn.split(":", 5)
    if len(parts) != _ACM_PARTS or parts[2] != "acm" or not parts[5].startswith("certificate/"):
        raise _error(
            "CertificateArn must be an ACM certificate's ARN "
            "(arn:aws:acm:REGION:ACCOUNT:certificate/ID)",
            file,
            at + "CertificateArn",
        )
    if region is not None and parts[3] != region:
        # API Gateway developer guide, "Custom domain names": a Regional custom domain's
        # certificate comes from ACM in the same Region as the API.
        raise _error(
            f"a Regional custom domain in {region} needs an ACM certificate from {region}; "
            f"this one is in {parts[3] or 'no Region'}",
            file,
            at + "CertificateArn",
        )
    uri = mtls["TruststoreUri"]
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket or not key:
        raise _error(
            f"TruststoreUri must be an S3 URI, s3://BUCKET/KEY, not {uri!r}",
            file,
            "MutualTlsAuthentication.TruststoreUri",
        )
    return DomainSettings(
        domain_name=request["DomainName"],
        endpoint_type=endpoint,
        security_policy=policy,
        certificate_arn=arn,
        truststore_bucket=bucket,
        truststore_key=key,
        truststore_version=mtls.get("TruststoreVersion"),
        request=request,
    )


def load_api(path: str | Path) -> ApiSettings:
    return read_api(load_json(path), str(path))


def load_domain(path: str | Path, *, region: str | None = None) -> DomainSettings:
    return read_domain(load_json(path), str(path), region=region)
