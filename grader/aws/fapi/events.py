"""The Lambda authorizer event, built the way API Gateway builds it.

Three shapes are taught, because where the client certificate and the token sit differs
between them and a learner's authorizer must read both:

- REST API ``REQUEST`` authorizer (no ``version``): ``methodArn``, ``headers`` plus
  ``multiValueHeaders``, certificate under ``requestContext.identity.clientCert``;
- HTTP API, payload 1.0: the REST shape plus ``version``, ``identitySource`` and
  ``authorizationToken`` (the identity values joined by commas);
- HTTP API, payload 2.0: ``routeArn``, ``identitySource`` as a list, ``rawPath``,
  ``rawQueryString``, ``cookies``, header names lower-cased and repeated values joined by
  commas, certificate under ``requestContext.authentication.clientCert``.

Sources: the API Gateway developer guide ("Control access to HTTP APIs with AWS Lambda
authorizers", "Input to an API Gateway Lambda authorizer") and the sample events of
aws/aws-lambda-go (``events/testdata/apigw-*.json``). The certificate's fields come from the
real certificate, written as those samples show them (OpenSSL's print formats).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from grader.aws.errors import GraderError

HTTP_V1 = "1.0"
HTTP_V2 = "2.0"
REST = "REST"
VERSIONS = (HTTP_V1, HTTP_V2, REST)

# Month names as OpenSSL prints them (ASN1_TIME_print), independent of the locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# OpenSSL's short name for the e-mail attribute; cryptography would print a dotted OID.
_DN_NAMES = {NameOID.EMAIL_ADDRESS: "emailAddress"}


class IdentitySourceError(GraderError):
    """An identity source expression API Gateway would reject (a wrong ``api.json``)."""

    code = "BadRequestException"


@dataclass(frozen=True)
class Request:
    """One HTTP request as the gateway received it (headers in order, with duplicates)."""

    method: str
    raw_path: str
    raw_query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    host: str = "localhost"
    protocol: str = "HTTP/1.1"
    time: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def header(self, name: str) -> str | None:
        """The header's values joined by commas (RFC 9110 5.3), or None when absent."""
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ",".join(values) if values else None

    def query_values(self) -> dict[str, list[str]]:
        """Query parameters with every value, in order."""
        out: dict[str, list[str]] = {}
        for key, value in parse_qsl(self.raw_query, keep_blank_values=True):
            out.setdefault(key, []).append(value)
        return out


# --- the client certificate ---------------------------------------------------------------


def distinguished_name(name: x509.Name) -> str:
    """A DN as API Gateway shows it: the certificate's own RDN order (C first when the
    issuer wrote it first), ``,`` between RDNs and no spaces, RFC 4514 escaping."""
    return ",".join(rdn.rfc4514_string(_DN_NAMES) for rdn in name.rdns)


def serial_text(cert: x509.Certificate) -> str:
    """The serial number as OpenSSL's X509_print writes it (and the samples show): in
    decimal when it fits in 8 bytes, else its bytes in lower-case hex joined by colons."""
    serial = cert.serial_number
    length = max(1, (serial.bit_length() + 7) // 8)
    if length <= 8:
        return str(serial)
    return ":".join(f"{b:02x}" for b in serial.to_bytes(length, "big"))


def asn1_time(moment: dt.datetime) -> str:
    """``May 28 12:30:02 2019 GMT``: OpenSSL's ASN1_TIME_print, the day padded by a space."""
    moment = moment.astimezone(dt.UTC)
    return f"{_MONTHS[moment.month - 1]} {moment.day:2d} {moment:%H:%M:%S} {moment.year} GMT"


def client_cert_fields(cert: x509.Certificate) -> dict[str, object]:
    """The ``clientCert`` object of every event shape."""
    return {
        "clientCertPem": cert.public_bytes(Encoding.PEM).decode("ascii"),
        "subjectDN": distinguished_name(cert.subject),
        "issuerDN": distinguished_name(cert.issuer),
        "serialNumber": serial_text(cert),
        "validity": {
            "notBefore": asn1_time(cert.not_valid_before_utc),
            "notAfter": asn1_time(cert.not_valid_after_utc),
        },
    }


# --- identity sources ---------------------------------------------------------------------

# HTTP APIs write ``$request.header.X``; REST APIs ``method.request.header.X``.
_PREFIXES = {
    "$request.header.": "header",
    "$request.querystring.": "query",
    "$stageVariables.": "stage",
    "$context.": "context",
    "method.request.header.": "header",
    "method.request.querystring.": "query",
    "stageVariables.": "stage",
    "context.": "context",
}


def _parse_source(source: str) -> tuple[str, str]:
    for prefix, kind in _PREFIXES.items():
        if source.startswith(prefix) and len(source) > len(prefix):
            return kind, source[len(prefix) :]
    raise IdentitySourceError(
        f"Invalid identity source: {source!r}. Use $request.header.NAME, "
        "$request.querystring.NAME, $stageVariables.NAME or $context.NAME."
    )


def check_identity_sources(sources: Sequence[str]) -> None:
    """Reject expressions API Gateway would refuse, when the gateway is configured."""
    for source in sources:
        _parse_source(source)


def context_variables(
    request: Request,
    cert: x509.Certificate | None,
    *,
    api_id: str,
    stage: str,
    domain_name: str,
    account_id: str = "123456789012",
) -> dict[str, str]:
    """The ``$context`` variables an identity source may name (HTTP API "context variables"
    reference), without the ``$context.`` prefix. The client certificate's are there, which
    is how a cache key can include the certificate and not the token alone."""
    values = {
        "accountId": account_id,
        "apiId": api_id,
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".", 1)[0],
        "httpMethod": request.method,
        "path": request.raw_path,
        "protocol": request.protocol,
        "requestId": request.request_id,
        "stage": stage,
        "identity.sourceIp": request.source_ip,
        "identity.userAgent": request.header("User-Agent") or "",
    }
    if cert is not None:
        fields = client_cert_fields(cert)
        for key in ("clientCertPem", "subjectDN", "issuerDN", "serialNumber"):
            values[f"identity.clientCert.{key}"] = str(fields[key])
        values["identity.clientCert.validity.notBefore"] = asn1_time(cert.not_valid_before_utc)
        values["identity.clientCert.validity.notAfter"] = asn1_time(cert.not_valid_after_utc)
    return values


def identity_values(
    request: Request,
    sources: Sequence[str],
    *,
    stage_variables: Mapping[str, str] | None = None,
    context: Mapping[str, str] | None = None,
) -> list[str] | None:
    """The value of each identity source, or None when one is missing or empty: then API
    Gateway answers 401 without calling the authorizer (CreateAuthorizer, IdentitySource)."""
    values: list[str] = []
    query = request.query_values()
    for source in sources:
        kind, name = _parse_source(source)
        if kind == "header":
            value = request.header(name)
        elif kind == "query":
            found = query.get(name)
            value = ",".join(found) if found else None
        elif kind == "stage":
            value = (stage_variables or {}).get(name)
        else:
            value = (context or {}).get(name)
        if not value:
            return None
        values.append(value)
    return values


# --- the event ----------------------------------------------------------------------------


def execute_api_arn(
    *, region: str, account_id: str, api_id: str, stage: str, method: str, path: str, route_key: str
) -> str:
    """The ARN the authorizer's policy must allow: ``.../api/stage/METHOD/path``, or
    ``.../api/stage/$default`` for an HTTP API's ``$default`` route (the ARN API Gateway
    invokes that route through)."""
    head = f"arn:aws:execute-api:{region}:{account_id}:{api_id}/{stage}/"
    if route_key == "$default":
        return head + "$default"
    return head + f"{method.upper()}/{path.lstrip('/')}"


def _route_path(route_key: str, request: Request) -> str:
    """The route's resource path (``GET /pets`` -> ``/pets``); the request path for
    ``$default``, which matches any path."""
    if route_key == "$default" or " " not in route_key:
        return request.raw_path
    return route_key.split(" ", 1)[1]


def _rest_headers(request: Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    """REST's two maps: the last value of each header, and every value (as sent)."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in request.headers:
        single[key] = value
        multi.setdefault(key, []).append(value)
    return single, multi


def _joined_headers(request: Request, lower: bool) -> dict[str, str]:
    """One entry per header name, repeated values joined by commas."""
    out: dict[str, str] = {}
    for key, value in request.headers:
        name = key.lower() if lower else key
        out[name] = f"{out[name]},{value}" if name in out else value
    return out


def _clf_time(moment: dt.datetime) -> str:
    moment = moment.astimezone(dt.UTC)
    return f"{moment:%d}/{_MONTHS[moment.month - 1]}/{moment:%Y:%H:%M:%S} +0000"


def authorizer_event(
    request: Request,
    cert: x509.Certificate | None,
    *,
    version: str,
    api_id: str,
    stage: str,
    route_key: str = "$default",
    identity_source: Sequence[str] = ("$request.header.Authorization",),
    identity: Sequence[str] | None = None,
    region: str = "us-east-1",
    account_id: str = "123456789012",
    domain_name: str | None = None,
    stage_variables: Mapping[str, str] | None = None,
    path_parameters: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """The event API Gateway passes to a Lambda authorizer for ``request``.

    ``version`` is ``"1.0"`` or ``"2.0"`` (HTTP API payload format) or ``"REST"`` (a REST
    API REQUEST authorizer). ``cert`` is the client certificate of the mTLS handshake, or
    None on an endpoint without mTLS (then the event carries no certificate, as on AWS).
    ``identity`` is the identity sources' values when already resolved.
    """
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {VERSIONS}, not {version!r}")
    if identity is None:
        identity = identity_values(request, identity_source, stage_variables=stage_variables)
    identity = list(identity or [])
    domain = domain_name or request.host
    arn = execute_api_arn(
        region=region,
        account_id=account_id,
        api_id=api_id,
        stage=stage,
        method=request.method,
        path=request.raw_path,
        route_key=route_key,
    )
    where = _Where(
        arn=arn,
        identity=identity,
        api_id=api_id,
        stage=stage,
        route_key=route_key,
        account_id=account_id,
        domain=domain,
        cert=client_cert_fields(cert) if cert is not None else None,
        stage_variables=dict(stage_variables or {}),
        path_parameters=dict(path_parameters or {}),
    )
    if version == HTTP_V2:
        return _event_v2(request, where)
    return _event_v1(request, where, version)


@dataclass(frozen=True)
class _Where:
    """What every shape needs besides the request: where it was received, and by whom."""

    arn: str
    identity: list[str]
    api_id: str
    stage: str
    route_key: str
    account_id: str
    domain: str
    cert: dict[str, object] | None
    stage_variables: dict[str, str]
    path_parameters: dict[str, str]


def _event_v2(request: Request, w: _Where) -> dict[str, object]:
    headers = _joined_headers(request, lower=True)
    # Payload 2.0 moves cookies out of the headers into their own list.
    cookie = headers.pop("cookie", None)
    event: dict[str, object] = {
        "version": HTTP_V2,
        "type": "REQUEST",
        "routeArn": w.arn,
        "identitySource": w.identity,
        "routeKey": w.route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookie:
        event["cookies"] = [c.strip() for c in cookie.replace(",", ";").split(";") if c.strip()]
    event["headers"] = headers
    query = request.query_values()
    if query:
        event["queryStringParameters"] = {k: ",".join(v) for k, v in query.items()}
    context: dict[str, object] = {"accountId": w.account_id, "apiId": w.api_id}
    if w.cert is not None:
        context["authentication"] = {"clientCert": w.cert}
    context.update(
        {
            "domainName": w.domain,
            "domainPrefix": w.domain.split(".", 1)[0],
            "http": {
                "method": request.method,
                "path": request.raw_path,
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": request.header("User-Agent") or "",
            },
            "requestId": request.request_id,
            "routeKey": w.route_key,
            "stage": w.stage,
            "time": _clf_time(request.time),
            "timeEpoch": int(request.time.timestamp() * 1000),
        }
    )
    event["requestContext"] = context
    if w.path_parameters:
        event["pathParameters"] = w.path_parameters
    if w.stage_variables:
        event["stageVariables"] = w.stage_variables
    return event


def _event_v1(request: Request, w: _Where, version: str) -> dict[str, object]:
    resource = _route_path(w.route_key, request)
    query = request.query_values()
    event: dict[str, object] = {}
    if version == HTTP_V1:
        joined = ",".join(w.identity)
        event.update({"version": HTTP_V1, "type": "REQUEST", "methodArn": w.arn})
        event.update({"identitySource": joined, "authorizationToken": joined})
    else:
        event.update({"type": "REQUEST", "methodArn": w.arn})
    event.update({"resource": resource, "path": request.raw_path, "httpMethod": request.method})
    if version == HTTP_V1:
        event["headers"] = _joined_headers(request, lower=False)
        event["queryStringParameters"] = {k: ",".join(v) for k, v in query.items()} or None
    else:
        single, multi = _rest_headers(request)
        event["headers"] = single
        event["multiValueHeaders"] = multi
        event["queryStringParameters"] = {k: v[-1] for k, v in query.items()} or None
        event["multiValueQueryStringParameters"] = dict(query) or None
    event["pathParameters"] = w.path_parameters
    event["stageVariables"] = w.stage_variables
    event["requestContext"] = {
        "path": request.raw_path,
        "accountId": w.account_id,
        "resourceId": _resource_id(resource),
        "stage": w.stage,
        "requestId": request.request_id,
        "identity": {"sourceIp": request.source_ip, "clientCert": w.cert},
        "resourcePath": resource,
        "httpMethod": request.method,
        "apiId": w.api_id,
    }
    return event


def _resource_id(resource: str) -> str:
    """A stable six-character id per resource, standing in for API Gateway's own."""
    return hashlib.sha256(resource.encode()).hexdigest()[:6]
