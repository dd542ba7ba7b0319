"""Does the authorization server issue certificate-bound tokens the way RFC 8705 says, and
refuse every shortcut: a missing or foreign client certificate, a wrong PKCE verifier, a code
used twice, a token that expired or was revoked? Everything runs over real TLS on loopback."""

from __future__ import annotations

import socket
import ssl
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import ECKey, KeySet

from grader.aws.fapi import authserver
from grader.aws.fapi.authserver import (
    AuthorizationServer,
    OAuthError,
    Reply,
    client_flow,
    https_request,
    new_pkce_pair,
)
from grader.aws.fapi.pki import Pki, client_context, make_pki, thumbprint

# A handshake the server refuses surfaces on the client as one of these, depending on whether
# TLS 1.3 reports the alert at the handshake or at the first read.
REFUSED = (ssl.SSLError, ConnectionError)


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


def registered(pki: Pki) -> dict:
    return {name: pki.clients[name].cert for name in ("app-one", "app-two")}


@pytest.fixture(scope="module")
def server(pki):
    with AuthorizationServer(pki, clients=registered(pki)) as running:
        yield running


@pytest.fixture
def fresh(pki):
    """A server of its own, for tests that slow it down or take it down."""
    with AuthorizationServer(pki, clients=registered(pki)) as running:
        yield running


def tls(pki: Pki, name: str | None = None) -> ssl.SSLContext:
    return client_context(pki.server_truststore_pem, pki.clients[name] if name else None)


def authorize(server: AuthorizationServer, pki: Pki, **overrides: str | None) -> Reply:
    """GET /authorize as app-one's browser would, with ``overrides`` (None drops a parameter)."""
    query = {
        "response_type": "code",
        "client_id": "app-one",
        "redirect_uri": server.redirect_uris["app-one"][0],
        "state": "xyz",
        "code_challenge": new_pkce_pair()[1],
        "code_challenge_method": "S256",
    }
    query.update(overrides)
    query = {k: v for k, v in query.items() if v is not None}
    return https_request("GET", f"{server.url}/authorize?{urlencode(query)}", context=tls(pki))


def redirect_params(reply: Reply) -> dict[str, str]:
    assert reply.status == 302, reply.body
    return dict(parse_qsl(urlsplit(reply.headers["location"]).query))


def code_for(server: AuthorizationServer, pki: Pki) -> tuple[str, str]:
    """A fresh authorization code for app-one and its PKCE verifier."""
    verifier, challenge = new_pkce_pair()
    return redirect_params(authorize(server, pki, code_challenge=challenge))["code"], verifier


def redeem(
    server: AuthorizationServer, pki: Pki, code: str, verifier: str, cert: str | None = "app-one"
) -> Reply:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": server.redirect_uris["app-one"][0],
        "code_verifier": verifier,
        "client_id": "app-one",
    }
    return https_request("POST", f"{server.url}/token", context=tls(pki, cert), form=form)


def introspect(server: AuthorizationServer, pki: Pki, token: str, caller="app-two") -> Reply:
    return https_request(
        "POST", f"{server.url}/introspect", context=tls(pki, caller), form={"token": token}
    )


def verified_claims(server: AuthorizationServer, pki: Pki, token: str) -> dict:
    jwks = https_request("GET", f"{server.url}/jwks", context=tls(pki)).json()
    return jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["ES256"]).claims


# -- metadata and the whole flow ---------------------------------------------------------


def test_metadata_announces_mtls_aliases_bound_tokens_and_s256_only(server, pki):
    reply = https_request(
        "GET", f"{server.url}/.well-known/oauth-authorization-server", context=tls(pki)
    )
    meta = reply.json()
    assert reply.status == 200
    assert meta["issuer"] == server.url
    assert meta["tls_client_certificate_bound_access_tokens"] is True
    assert meta["token_endpoint_auth_methods_supported"] == ["tls_client_auth"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["mtls_endpoint_aliases"] == {
        "token_endpoint": f"{server.url}/token",
        "introspection_endpoint": f"{server.url}/introspect",
        "revocation_endpoint": f"{server.url}/revoke",
    }
    assert meta["jwks_uri"] == f"{server.url}/jwks"


def test_app_one_completes_the_flow_and_its_token_is_bound_to_its_certificate(server, pki):
    answer = client_flow(server, pki.clients["app-one"], pki)
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] == 300
    claims = verified_claims(server, pki, answer["access_token"])
    assert claims["cnf"] == {"x5t#S256": thumbprint(pki.clients["app-one"].cert)}
    assert claims["cnf"]["x5t#S256"] != thumbprint(pki.clients["app-two"].cert)
    assert claims["iss"] == server.url
    assert (claims["sub"], claims["client_id"], claims["scope"]) == ("alice", "app-one", "accounts")
    assert claims["aud"] == authserver.DEFAULT_AUDIENCE
    assert claims["exp"] - claims["iat"] == 300
    assert claims["jti"]


def test_the_jwt_signature_verifies_with_jwks_and_a_forged_one_does_not(server, pki):
    token = server.issue_token("app-one", pki.clients["app-one"].cert)
    claims = verified_claims(server, pki, token)
    forged = jwt.encode({"alg": "ES256"}, claims, ECKey.generate_key("P-256"))
    with pytest.raises(BadSignatureError):
        verified_claims(server, pki, forged)


def test_the_request_log_shows_who_called(server, pki):
    client_flow(server, pki.clients["app-two"], pki)
    authorize_call, token_call = server.requests[-2:]
    assert (authorize_call.method, authorize_call.path) == ("GET", "/authorize")
    assert authorize_call.client_thumbprint is None  # the browser shows no certificate
    assert (token_call.method, token_call.path, token_call.status) == ("POST", "/token", 200)
    assert token_call.client_thumbprint == thumbprint(pki.clients["app-two"].cert)


def test_opaque_tokens_are_not_jwts_but_introspection_reads_their_binding(pki):
    with AuthorizationServer(pki, clients=registered(pki), token_format="opaque") as server:
        token = client_flow(server, pki.clients["app-one"], pki)["access_token"]
        assert token.count(".") != 2
        info = introspect(server, pki, token).json()
    assert info["active"] is True
    assert info["cnf"] == {"x5t#S256": thumbprint(pki.clients["app-one"].cert)}


# -- the authorization endpoint ----------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "admin"}, "invalid_scope"),
    ],
)
def test_bad_authorization_requests_are_redirected_back_with_an_error(
    server, pki, overrides, error
):
    answer = redirect_params(authorize(server, pki, **overrides))
    assert answer["error"] == error
    assert answer["state"] == "xyz"
    assert "code" not in answer


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "app-three"},
        {"redirect_uri": "https://evil.example/callback"},
        {"redirect_uri": None},
    ],
)
def test_without_a_trustworthy_redirect_uri_the_error_is_shown_not_redirected(
    server, pki, overrides
):
    reply = authorize(server, pki, **overrides)
    assert reply.status == 400
    assert "location" not in reply.headers


# -- the token endpoint ------------------------------------------------------------------


def test_a_wrong_pkce_verifier_is_refused(server, pki):
    code, _ = code_for(server, pki)
    reply = redeem(server, pki, code, new_pkce_pair()[0])
    assert (reply.status, reply.json()["error"]) == (400, "invalid_grant")


def test_a_code_used_twice_is_refused_and_its_first_token_revoked(server, pki):
    code, verifier = code_for(server, pki)
    first = redeem(server, pki, code, verifier)
    assert first.status == 200
    second = redeem(server, pki, code, verifier)
    assert (second.status, second.json()["error"]) == (400, "invalid_grant")
    assert introspect(server, pki, first.json()["access_token"]).json() == {"active": False}


def test_an_expired_code_is_refused(server, pki, monkeypatch):
    monkeypatch.setattr(authserver, "CODE_LIFETIME", -1)
    code, verifier = code_for(server, pki)
    reply = redeem(server, pki, code, verifier)
    assert (reply.status, reply.json()["error"]) == (400, "invalid_grant")


def test_the_token_endpoint_refuses_a_caller_without_a_client_certificate(server, pki):
    code, verifier = code_for(server, pki)
    reply = redeem(server, pki, code, verifier, cert=None)
    assert (reply.status, reply.json()["error"]) == (401, "invalid_client")


def test_another_registered_clients_certificate_cannot_redeem_app_ones_code(server, pki):
    code, verifier = code_for(server, pki)
    reply = redeem(server, pki, code, verifier, cert="app-two")
    assert (reply.status, reply.json()["error"]) == (401, "invalid_client")


@pytest.mark.parametrize("cert", ["attacker", "expired", "not_yet_valid"])
def test_the_token_endpoint_refuses_the_handshake_of_an_untrusted_or_outdated_cert(
    server, pki, cert
):
    code, verifier = code_for(server, pki)
    with pytest.raises(REFUSED):
        redeem(server, pki, code, verifier, cert=cert)
    refused = thumbprint(pki.clients[cert].cert)
    assert all(call.client_thumbprint != refused for call in server.requests)


def test_client_flow_raises_when_a_step_is_refused(pki):
    clients = {"app-one": pki.clients["app-two"].cert}  # app-one registered with another cert
    with AuthorizationServer(pki, clients=clients) as server, pytest.raises(OAuthError) as caught:
        client_flow(server, pki.clients["app-one"], pki, client_id="app-one")
    assert (caught.value.step, caught.value.error) == ("token", "invalid_client")


# -- introspection and revocation --------------------------------------------------------


def test_introspection_of_a_live_token_returns_its_binding(server, pki):
    token = server.issue_token("app-one", pki.clients["app-one"].cert)
    info = introspect(server, pki, token).json()
    assert info["active"] is True
    assert (info["client_id"], info["sub"], info["scope"]) == ("app-one", "alice", "accounts")
    assert info["cnf"] == {"x5t#S256": thumbprint(pki.clients["app-one"].cert)}
    assert info["exp"] > info["iat"]


def test_expired_revoked_and_unknown_tokens_are_inactive(server, pki):
    expired = server.issue_token("app-one", pki.clients["app-one"].cert, lifetime=-1)
    revoked = server.issue_token("app-one", pki.clients["app-one"].cert)
    server.revoke(revoked)
    for token in (expired, revoked, "no-such-token"):
        assert introspect(server, pki, token).json() == {"active": False}, token


def test_introspection_requires_a_registered_client_certificate(server, pki):
    token = server.issue_token("app-one", pki.clients["app-one"].cert)
    reply = introspect(server, pki, token, caller=None)
    assert (reply.status, reply.json()["error"]) == (401, "invalid_client")
    assert "active" not in reply.json()
    with pytest.raises(REFUSED):
        introspect(server, pki, token, caller="attacker")


def test_a_client_revokes_its_own_token_but_not_anothers(server, pki):
    token = server.issue_token("app-one", pki.clients["app-one"].cert)

    def revoke(caller: str, value: str) -> Reply:
        return https_request(
            "POST", f"{server.url}/revoke", context=tls(pki, caller), form={"token": value}
        )

    assert revoke("app-two", token).status == 400
    assert introspect(server, pki, token).json()["active"] is True
    assert revoke("app-one", token).status == 200
    assert introspect(server, pki, token).json() == {"active": False}
    assert revoke("app-one", "no-such-token").status == 200  # RFC 7009: nothing to tell


# -- a slow or absent server, as a client sees it ----------------------------------------


def test_a_slow_server_makes_a_short_client_timeout_expire(fresh, pki):
    fresh.delay = 1.0  # stop() cuts the wait short, so the test does not pay for it
    with pytest.raises(TimeoutError):
        https_request("GET", f"{fresh.url}/jwks", context=tls(pki), timeout=0.2)


def test_a_slightly_slow_server_still_answers_a_patient_client(fresh, pki):
    fresh.delay = 0.05
    assert https_request("GET", f"{fresh.url}/jwks", context=tls(pki), timeout=2).status == 200


def test_a_client_stuck_in_the_handshake_does_not_hold_up_the_others(fresh, pki):
    with socket.create_connection(("127.0.0.1", urlsplit(fresh.url).port)):  # never says hello
        assert client_flow(fresh, pki.clients["app-one"], pki, timeout=1)["access_token"]


def test_a_server_that_is_down_refuses_connections_and_comes_back_at_the_same_url(fresh, pki):
    url = fresh.url
    with fresh.down(), pytest.raises(ConnectionRefusedError):
        https_request("GET", f"{url}/jwks", context=tls(pki), timeout=0.2)
    assert https_request("GET", f"{url}/jwks", context=tls(pki), timeout=1).status == 200


def test_the_client_helper_never_leaves_loopback(pki):
    with pytest.raises(ValueError, match="offline"):
        https_request("GET", "https://auth.shop.example/jwks", context=tls(pki))
