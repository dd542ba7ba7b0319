"""The Lambda authorizer event: does each shape put the token and the certificate where API
Gateway puts them (REST, HTTP API payload 1.0 and 2.0), with the certificate's real fields?"""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from grader.aws.fapi.events import (
    IdentitySourceError,
    Request,
    asn1_time,
    authorizer_event,
    check_identity_sources,
    client_cert_fields,
    context_variables,
    distinguished_name,
    execute_api_arn,
    identity_values,
    serial_text,
)

WHEN = dt.datetime(2020, 3, 12, 19, 3, 58, tzinfo=dt.UTC)
ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request"


def _cert(serial: int, not_after: dt.datetime) -> x509.Certificate:
    """A self-signed certificate whose subject lists C first, as the AWS samples' do."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Washington"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, "Seattle"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example, Inc."),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Security"),
            x509.NameAttribute(NameOID.COMMON_NAME, "My Client"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(dt.datetime(2020, 8, 29, 0, 28, 21, tzinfo=dt.UTC))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )


@pytest.fixture(scope="module")
def cert() -> x509.Certificate:
    return _cert(1, dt.datetime(2120, 8, 5, 0, 28, 21, tzinfo=dt.UTC))


@pytest.fixture
def request_() -> Request:
    return Request(
        method="GET",
        raw_path="/request",
        raw_query="p1=a&p1=b&p2=c",
        headers=(
            ("Host", "api.shop.example"),
            ("Authorization", "Bearer tok"),
            ("X-Multi", "one"),
            ("x-multi", "two"),
            ("Cookie", "c1=1; c2=2"),
            ("User-Agent", "agent/1"),
        ),
        source_ip="127.0.0.1",
        time=WHEN,
        request_id="req-1",
    )


def _event(request: Request, cert: x509.Certificate | None, version: str) -> dict:
    return authorizer_event(
        request,
        cert,
        version=version,
        api_id="abcdef123",
        stage="test",
        route_key="GET /request",
        identity_source=("$request.header.Authorization", "$request.querystring.p2"),
        stage_variables={"v": "1"},
    )


# --- the certificate's fields -------------------------------------------------------------


def test_dns_keep_the_certificates_order_with_commas_and_no_spaces(cert):
    assert distinguished_name(cert.subject) == (
        "C=US,ST=Washington,L=Seattle,O=Example\\, Inc.,OU=Security,CN=My Client"
    )


def test_a_small_serial_is_decimal_and_a_long_one_is_colon_hex(cert):
    assert serial_text(cert) == "1"
    long = _cert(0xA1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1, dt.datetime(2121, 1, 1, tzinfo=dt.UTC))
    assert serial_text(long) == ":".join(["a1"] * 16)


def test_validity_dates_are_written_as_openssl_prints_them(cert):
    fields = client_cert_fields(cert)
    assert fields["validity"] == {
        "notBefore": "Aug 29 00:28:21 2020 GMT",
        "notAfter": "Aug  5 00:28:21 2120 GMT",
    }
    assert asn1_time(dt.datetime(2019, 5, 28, 12, 30, 2, tzinfo=dt.UTC)) == (
        "May 28 12:30:02 2019 GMT"
    )


def test_the_pem_in_the_event_is_the_certificate_itself(cert):
    pem = client_cert_fields(cert)["clientCertPem"]
    assert x509.load_pem_x509_certificate(pem.encode()) == cert


# --- payload 2.0 --------------------------------------------------------------------------


def test_v2_has_the_http_api_shape(request_, cert):
    event = _event(request_, cert, "2.0")
    assert set(event) == {
        "version",
        "type",
        "routeArn",
        "identitySource",
        "routeKey",
        "rawPath",
        "rawQueryString",
        "cookies",
        "headers",
        "queryStringParameters",
        "requestContext",
        "stageVariables",
    }
    assert (event["version"], event["type"], event["routeKey"]) == (
        "2.0",
        "REQUEST",
        "GET /request",
    )
    assert event["routeArn"] == ARN
    assert set(event["requestContext"]) == {
        "accountId",
        "apiId",
        "authentication",
        "domainName",
        "domainPrefix",
        "http",
        "requestId",
        "routeKey",
        "stage",
        "time",
        "timeEpoch",
    }
    assert event["requestContext"]["http"] == {
        "method": "GET",
        "path": "/request",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "agent/1",
    }
    assert event["requestContext"]["time"] == "12/Mar/2020:19:03:58 +0000"
    assert event["requestContext"]["timeEpoch"] == 1584039838000


def test_v2_carries_the_certificate_under_authentication(request_, cert):
    context = _event(request_, cert, "2.0")["requestContext"]
    assert context["authentication"]["clientCert"] == client_cert_fields(cert)
    assert "identity" not in context


def test_v2_lists_identity_values_and_lowercases_and_joins_headers(request_, cert):
    event = _event(request_, cert, "2.0")
    assert event["identitySource"] == ["Bearer tok", "c"]
    assert event["headers"]["x-multi"] == "one,two"
    assert event["headers"]["authorization"] == "Bearer tok"
    assert all(name == name.lower() for name in event["headers"])
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["c1=1", "c2=2"]
    assert event["queryStringParameters"] == {"p1": "a,b", "p2": "c"}


def test_v2_without_mtls_has_no_certificate(request_):
    assert "authentication" not in _event(request_, None, "2.0")["requestContext"]


# --- payload 1.0 and REST -----------------------------------------------------------------


def test_v1_has_method_arn_and_joined_identity_source(request_, cert):
    event = _event(request_, cert, "1.0")
    assert event["version"] == "1.0"
    assert event["methodArn"] == ARN
    assert event["identitySource"] == "Bearer tok,c"
    assert event["authorizationToken"] == "Bearer tok,c"
    assert "routeArn" not in event and "multiValueHeaders" not in event
    assert {"resource", "path", "httpMethod", "headers", "queryStringParameters"} <= set(event)
    assert event["headers"]["Authorization"] == "Bearer tok"  # names keep their case


def test_v1_carries_the_certificate_under_identity(request_, cert):
    context = _event(request_, cert, "1.0")["requestContext"]
    assert context["identity"]["clientCert"] == client_cert_fields(cert)
    assert context["identity"]["clientCert"]["subjectDN"].startswith("C=US,")
    assert "authentication" not in context
    assert {"path", "accountId", "resourceId", "stage", "requestId", "resourcePath"} <= set(context)


def test_rest_request_authorizer_has_multi_value_maps_and_no_version(request_, cert):
    event = _event(request_, cert, "REST")
    assert "version" not in event and "identitySource" not in event
    assert event["type"] == "REQUEST" and event["methodArn"] == ARN
    assert event["multiValueHeaders"]["X-Multi"] == ["one"]
    assert event["multiValueHeaders"]["x-multi"] == ["two"]
    assert event["multiValueQueryStringParameters"] == {"p1": ["a", "b"], "p2": ["c"]}
    assert event["queryStringParameters"] == {"p1": "b", "p2": "c"}
    assert event["requestContext"]["identity"]["clientCert"]["serialNumber"] == "1"


def test_v1_without_mtls_has_a_null_certificate(request_):
    assert _event(request_, None, "1.0")["requestContext"]["identity"]["clientCert"] is None


def test_an_unknown_version_is_refused(request_, cert):
    with pytest.raises(ValueError):
        _event(request_, cert, "3.0")


# --- identity sources and ARNs ------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ((("authorization", "t"),), ["t"]),
        ((("AUTHORIZATION", "t"),), ["t"]),
        ((("Authorization", ""),), None),
        ((), None),
    ],
)
def test_identity_values_need_every_source_present_and_non_empty(headers, expected):
    request = Request(method="GET", raw_path="/", headers=headers)
    assert identity_values(request, ["$request.header.Authorization"]) == expected


@pytest.mark.parametrize("source", ["$request.header.", "request.header.Authorization", "token"])
def test_a_malformed_identity_source_is_a_user_error(source):
    with pytest.raises(IdentitySourceError, match="Invalid identity source"):
        check_identity_sources([source])


@pytest.mark.parametrize(
    ("route_key", "expected_tail"),
    [("$default", "prod/$default"), ("GET /pets/{id}", "prod/GET/pets/7")],
)
def test_the_execute_api_arn_follows_the_route(route_key, expected_tail):
    arn = execute_api_arn(
        region="eu-west-1",
        account_id="111122223333",
        api_id="api1",
        stage="prod",
        method="get",
        path="/pets/7",
        route_key=route_key,
    )
    assert arn == f"arn:aws:execute-api:eu-west-1:111122223333:api1/{expected_tail}"


def test_context_sources_can_name_the_client_certificate(cert):
    request = Request(method="GET", raw_path="/", headers=(("Authorization", "t"),))
    sources = ["$request.header.Authorization", "$context.identity.clientCert.subjectDN"]
    context = context_variables(request, cert, api_id="a", stage="s", domain_name="api.example")
    assert identity_values(request, sources, context=context) == [
        "t",
        distinguished_name(cert.subject),
    ]
    without = context_variables(request, None, api_id="a", stage="s", domain_name="api.example")
    assert identity_values(request, sources, context=without) is None
