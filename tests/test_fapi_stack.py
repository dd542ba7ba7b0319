"""The FAPI engine's parts fit together, over real TLS on 127.0.0.1: an app completes the
OAuth flow, calls the API through the mTLS front, and an authorizer that introspects the
token and compares its binding with the certificate of the call lets it in; the same token
presented with another app's certificate (a stolen token) is refused, and an authorizer
that checks only the token lets the thief in - the mistake lab 6 teaches."""

from __future__ import annotations

import http.client
import json

import pytest

from grader.aws.fapi.authserver import AuthorizationServer, client_flow, https_request
from grader.aws.fapi.gateway import ApiGateway
from grader.aws.fapi.pki import client_context, make_pki, thumbprint


@pytest.fixture(scope="module")
def pki():
    return make_pki()


def authorizer_for(server: AuthorizationServer, pki, *, check_binding: bool):
    """A Lambda authorizer (payload 2.0): introspect the bearer token (authenticating as
    app-two, the registered client this test lends it) and, if asked, compare the token's
    cnf with the thumbprint of the certificate API Gateway saw."""
    introspection = client_context(pki.server_truststore_pem, pki.clients["app-two"])

    def handler(event: dict) -> dict:
        token = event["headers"]["authorization"].removeprefix("Bearer ")
        reply = https_request(
            "POST", server.url + "/introspect", context=introspection, form={"token": token}
        )
        answer = json.loads(reply.body)
        if not answer.get("active"):
            return {"isAuthorized": False}
        if check_binding:
            pem = event["requestContext"]["authentication"]["clientCert"]["clientCertPem"]
            bound = answer.get("cnf", {}).get("x5t#S256")
            return {"isAuthorized": bound == thumbprint(pem.encode())}
        return {"isAuthorized": True}

    return handler


def call(pki, gateway: ApiGateway, app: str, token: str) -> int:
    context = client_context(pki.server_truststore_pem, pki.clients[app])
    port = int(gateway.url.rsplit(":", 1)[1])
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=5)
    try:
        conn.request("GET", "/accounts", headers={"Authorization": f"Bearer {token}"})
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.mark.parametrize("check_binding, thief_status", [(True, 403), (False, 200)])
def test_a_stolen_token_is_refused_only_when_the_binding_is_checked(
    pki, check_binding, thief_status
):
    clients = {name: pki.clients[name].cert for name in ("app-one", "app-two")}
    with AuthorizationServer(pki, clients=clients) as server:
        token = client_flow(server, pki.clients["app-one"], pki)["access_token"]
        authorizer = authorizer_for(server, pki, check_binding=check_binding)
        with ApiGateway(
            pki, truststore_pem=pki.client_truststore_pem, authorizer=authorizer
        ) as api:
            assert call(pki, api, "app-one", token) == 200
            assert call(pki, api, "app-two", token) == thief_status
