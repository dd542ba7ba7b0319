"""Reading an HTTP API's authorizer and its mTLS custom domain from the API's own requests:
what API Gateway accepts loads, and what it would refuse is an error naming the JSON path."""

from __future__ import annotations

import copy
import json

import pytest

from grader.aws.errors import GraderError
from grader.aws.fapi.apiconfig import ApiConfigError, load_api, load_domain, read_api, read_domain

AUTHORIZER = {
    "Name": "certificate-bound-tokens",
    "AuthorizerType": "REQUEST",
    "AuthorizerUri": "arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:ap-northeast-1:123456789012:function:auth/invocations",
    "AuthorizerPayloadFormatVersion": "2.0",
    "EnableSimpleResponses": True,
    "IdentitySource": ["$request.header.Authorization"],
    "AuthorizerResultTtlInSeconds": 0,
}
API = {"Api": {"Name": "shop", "ProtocolType": "HTTP", "DisableExecuteApiEndpoint": True}}
CERT = "arn:aws:acm:ap-northeast-1:123456789012:certificate/3f6b2c1e"
DOMAIN = {
    "DomainName": "api.shop.example",
    "DomainNameConfigurations": [
        {"CertificateArn": CERT, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}
    ],
    "MutualTlsAuthentication": {"TruststoreUri": "s3://bucket/api/truststore.pem"},
}


def api_doc(api=None, **authorizer):
    doc = copy.deepcopy(API)
    doc["Api"].update(api or {})
    doc["Authorizer"] = {**AUTHORIZER, **authorizer}
    return {k: v for k, v in doc.items() if v is not None}


def test_a_right_api_reads_into_the_gateways_settings():
    api = read_api(api_doc())
    assert api.disable_execute_api_endpoint is True
    assert api.authorizer.payload_version == "2.0"
    assert api.authorizer.identity_sources == ("$request.header.Authorization",)
    assert api.authorizer.result_ttl == 0 and api.authorizer.simple_responses is True


def test_the_default_endpoint_is_on_unless_disabled():
    doc = api_doc()
    del doc["Api"]["DisableExecuteApiEndpoint"]
    assert read_api(doc).disable_execute_api_endpoint is False


@pytest.mark.parametrize(
    "doc, path, words",
    [
        (api_doc(api={"ProtocolType": "WEBSOCKET"}), "Api.ProtocolType", "HTTP"),
        (api_doc(api={"Bogus": 1}), "Api.Bogus", "Unknown parameter"),
        (api_doc(AuthorizerType="JWT"), "Authorizer.AuthorizerType", "REQUEST"),
        (api_doc(AuthorizerType="LAMBDA"), "Authorizer.AuthorizerType", "enum"),
        (api_doc(AuthorizerPayloadFormatVersion="3.0"), "Authorizer.AuthorizerPayloadFormatVersion", "1.0, 2.0"),
        (api_doc(AuthorizerPayloadFormatVersion="1.0"), "Authorizer.EnableSimpleResponses", "2.0"),
        (api_doc(AuthorizerResultTtlInSeconds=3601), "Authorizer.AuthorizerResultTtlInSeconds", "3600"),
        (api_doc(AuthorizerResultTtlInSeconds=300, IdentitySource=[]), "Authorizer.IdentitySource", "cache key"),
        (api_doc(IdentitySource=["Authorization"]), "Authorizer.IdentitySource", "$request.header"),
        (api_doc(AuthorizerUri=""), "Authorizer.AuthorizerUri", "invocation URI"),
        (api_doc(ApiId="abc"), "Authorizer.ApiId", "leave ApiId out"),
        ({"Api": API["Api"]}, "Authorizer", "CreateAuthorizer"),
        ({**api_doc(), "Routes": []}, "Routes", "neither"),
    ],
)  # fmt: skip
def test_what_api_gateway_refuses_is_an_error_at_its_json_path(doc, path, words):
    with pytest.raises(ApiConfigError) as caught:
        read_api(doc)
    assert caught.value.location.json_path == path
    assert words in str(caught.value)


def domain_doc(mtls="keep", **config):
    doc = copy.deepcopy(DOMAIN)
    doc["DomainNameConfigurations"][0].update(config)
    if mtls is None:
        del doc["MutualTlsAuthentication"]
    elif mtls != "keep":
        doc["MutualTlsAuthentication"] = mtls
    return doc


def test_a_right_domain_names_its_truststore_object():
    domain = read_domain(domain_doc(), region="ap-northeast-1")
    assert (domain.truststore_bucket, domain.truststore_key) == ("bucket", "api/truststore.pem")
    assert domain.truststore_uri == "s3://bucket/api/truststore.pem"


@pytest.mark.parametrize(
    "doc, path, words",
    [
        (domain_doc(mtls=None), "MutualTlsAuthentication", "without a certificate"),
        (domain_doc(SecurityPolicy="TLS_1_0"), "DomainNameConfigurations[0].SecurityPolicy", "TLS_1_2"),
        (domain_doc(SecurityPolicy="TLS_1_3"), "DomainNameConfigurations[0].SecurityPolicy", "enum"),
        (domain_doc(EndpointType="EDGE"), "DomainNameConfigurations[0].EndpointType", "REGIONAL"),
        (domain_doc(CertificateArn="arn:aws:iam::123456789012:server-certificate/x"),
         "DomainNameConfigurations[0].CertificateArn", "ACM"),
        (domain_doc(CertificateArn=CERT.replace("ap-northeast-1", "us-east-1")),
         "DomainNameConfigurations[0].CertificateArn", "from ap-northeast-1"),
        (domain_doc(mtls={"TruststoreUri": "https://bucket.s3.amazonaws.com/t.pem"}),
         "MutualTlsAuthentication.TruststoreUri", "s3://BUCKET/KEY"),
        (domain_doc(mtls={"TruststoreUri": "s3://bucket"}), "MutualTlsAuthentication.TruststoreUri", "S3 URI"),
        ({"DomainName": "api.shop.example", "MutualTlsAuthentication": DOMAIN["MutualTlsAuthentication"]},
         "DomainNameConfigurations", "exactly one"),
        ({**domain_doc(), "DomainName": 42}, "DomainName", "Invalid type"),
    ],
)  # fmt: skip
def test_what_a_mtls_domain_cannot_be_is_an_error_at_its_json_path(doc, path, words):
    with pytest.raises(ApiConfigError) as caught:
        read_domain(doc, region="ap-northeast-1")
    assert caught.value.location.json_path == path
    assert words in str(caught.value)


def test_broken_json_names_file_line_and_column(tmp_path):
    broken = tmp_path / "api.json"
    broken.write_text('{"Api": {"Name": "shop",\n "ProtocolType": "HTTP"\n')
    with pytest.raises(GraderError) as caught:
        load_api(broken)
    assert "api.json:3" in str(caught.value)
    good = tmp_path / "domain.json"
    good.write_text(json.dumps(domain_doc()))
    assert load_domain(good).domain_name == "api.shop.example"
