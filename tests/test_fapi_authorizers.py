"""The built-in authorizer (grader/aws/fapi/authorizers.py) lets in the app its token was
issued to and nobody else, behind the real gateway over real TLS on 127.0.0.1: a stolen
token is refused on both payload versions, so is a token that is no longer active, and when
the authorization server is down, slow or the call brings no certificate, it refuses
(fails closed) rather than letting the call through or breaking with a 500."""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import pytest

from grader.aws.fapi.authorizers import (
    bearer_token,
    certificate_bound_authorizer,
    client_cert_pem,
)
from grader.aws.fapi.authserver import AuthorizationServer, client_flow
from grader.aws.fapi.gateway import ApiGateway
from grader.aws.fapi.pki import AUTHORIZER_CLIENT, client_context, make_pki


@pytest.fixture(scope="module")
def pki():
    return make_pki()


@pytest.fixture(scope="module")
def server(pki) -> Iterator[AuthorizationServer]:
    names = ("app-one", "app-two", AUTHORIZER_CLIENT)
    with AuthorizationServer(pki, clients={n: pki.clients[n].cert for n in names}) as authz:
        yield authz


@pytest.fixture(scope="module")
def token(server, pki) -> str:
    return client_flow(server, pki.clients["app-one"], pki)["access_token"]


def gateway(pki, server, refusals: list[str], *, version: str = "2.0", **options) -> ApiGateway:
    handler = certificate_bound_authorizer(
        server.url + "/introspect",
        pki.server_truststore_pem,
        pki.clients[AUTHORIZER_CLIENT],
        timeout=options.pop("timeout", 3.0),
        on_refusal=refusals.append,
    )
    return ApiGateway(
        pki,
        truststore_pem=pki.client_truststore_pem,
        authorizer=handler,
        payload_version=version,
        **options,
    )


def call(pki, url: str, token: str, app: str | None) -> tuple[int, bytes]:
    context = client_context(pki.server_truststore_pem, pki.clients[app] if app else None)
    port = int(url.rsplit(":", 1)[1])
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    try:
        conn.request("GET", "/accounts", headers={"Authorization": f"Bearer {token}"})
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_the_owner_gets_in_and_a_thief_with_another_certificate_does_not(
    pki, server, token, version
):
    refusals: list[str] = []
    with gateway(pki, server, refusals, version=version) as api:
        status, body = call(pki, api.url, token, "app-one")
        assert status == 200
        assert b'"sub": "alice"' in body  # the Allow's context reached the integration
        assert call(pki, api.url, token, "app-two")[0] == 403
    assert len(refusals) == 1 and "stolen token" in refusals[0]
    assert [c.reason for c in api.calls] == ["allowed", "authorizer denied"]


def test_a_revoked_token_is_refused_even_with_the_right_certificate(pki, server):
    revoked = client_flow(server, pki.clients["app-one"], pki)["access_token"]
    server.revoke(revoked)
    refusals: list[str] = []
    with gateway(pki, server, refusals) as api:
        assert call(pki, api.url, revoked, "app-one")[0] == 403
        assert call(pki, api.url, "not-a-token-at-all", "app-one")[0] == 403
    assert len(refusals) == 2 and all("not active" in r for r in refusals)


def test_an_authorization_server_that_is_down_means_no_entry_not_an_error(pki, server, token):
    refusals: list[str] = []
    with gateway(pki, server, refusals) as api, server.down():
        assert call(pki, api.url, token, "app-one")[0] == 403
    assert refusals and "introspection failed" in refusals[0]


def test_an_authorization_server_too_slow_to_answer_means_no_entry(pki, server, token):
    refusals: list[str] = []
    server.delay = 1.0
    try:
        with gateway(pki, server, refusals, timeout=0.3) as api:
            assert call(pki, api.url, token, "app-one")[0] == 403
    finally:
        server.delay = 0.0
    assert refusals and "within 0.3 s" in refusals[0]


def test_a_call_on_the_default_endpoint_without_a_certificate_is_refused(pki, server, token):
    refusals: list[str] = []
    with gateway(pki, server, refusals) as api:  # the default endpoint left enabled
        assert call(pki, api.default_url, token, None)[0] == 403
    assert refusals == ["the event has no client certificate (a call without mTLS?)"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Basic dXNlcjpwdw=="}, {"Authorization": "Bearer "}],
)
def test_a_request_without_a_bearer_token_is_refused_before_any_introspection(headers):
    with pytest.raises(Exception, match="Authorization"):
        bearer_token({"version": "2.0", "headers": headers})


def test_the_certificate_is_read_where_each_payload_version_puts_it():
    cert = {"clientCert": {"clientCertPem": "PEM"}}
    assert client_cert_pem({"version": "2.0", "requestContext": {"authentication": cert}}) == "PEM"
    assert client_cert_pem({"version": "1.0", "requestContext": {"identity": cert}}) == "PEM"
    # The 1.0 place in a 2.0 event is not where API Gateway puts it: no certificate there.
    with pytest.raises(Exception, match="no client certificate"):
        client_cert_pem({"version": "2.0", "requestContext": {"identity": cert}})
