"""The API-Gateway-like front over real TLS on loopback: is mTLS enforced at the handshake,
is the authorizer's answer enforced (and failing closed), and does caching behave as on AWS?"""

from __future__ import annotations

import http.client
import json
import ssl
import sys
import threading
from typing import Any

import pytest

from grader.aws.fapi.gateway import ApiGateway, enforce, policy_allows
from grader.aws.fapi.pki import Pki, client_context, make_pki, thumbprint

API = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5"
ROUTE = "ANY /{proxy+}"
ARN = f"{API}/prod/GET/accounts/42"  # what a GET /accounts/42 is checked against


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


def call(
    pki: Pki, url: str, client: str | None, token: str | None = "tok", path: str = "/accounts/42"
) -> tuple[int, Any]:
    """One GET over TLS, presenting ``client``'s certificate (None: no certificate)."""
    context = client_context(pki.server_truststore_pem, pki.clients[client] if client else None)
    port = int(url.rsplit(":", 1)[1])
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=2)
    try:
        conn.request("GET", path, headers={"Authorization": token} if token else {})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


class Recorder:
    """An authorizer that keeps its events and answers what ``decide`` says."""

    def __init__(self, decide=lambda event: {"isAuthorized": True}) -> None:
        self.events: list[dict] = []
        self.decide = decide

    def __call__(self, event: dict) -> Any:
        self.events.append(event)
        return self.decide(event)


def gateway(pki: Pki, authorizer, **options) -> ApiGateway:
    options.setdefault("stage", "prod")
    options.setdefault("route_key", ROUTE)
    return ApiGateway(
        pki, truststore_pem=pki.client_truststore_pem, authorizer=authorizer, **options
    )


def policy(*statements: dict) -> dict:
    return {
        "principalId": "app",
        "policyDocument": {"Version": "2012-10-17", "Statement": list(statements)},
    }


def allow(resource: Any, action: Any = "execute-api:Invoke") -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def deny(resource: Any) -> dict:
    return {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": resource}


# --- mTLS at the handshake ----------------------------------------------------------------


@pytest.mark.parametrize("client", [None, "attacker", "expired", "not_yet_valid"])
def test_the_handshake_is_refused_without_a_trusted_valid_certificate(pki, client):
    authorizer = Recorder()
    # With TLS 1.3 the client learns of the refusal at its first read, hence the request.
    with gateway(pki, authorizer) as gw, pytest.raises((ssl.SSLError, ConnectionError)):
        call(pki, gw.url, client)
    assert gw.calls == [] and authorizer.events == []
    assert [endpoint for endpoint, _ in gw.refused_handshakes] == ["custom"]


def test_a_legitimate_client_gets_through_and_its_thumbprint_is_logged(pki):
    with gateway(pki, Recorder()) as gw:
        assert call(pki, gw.url, "app-one")[0] == 200
    assert gw.calls[0].thumbprint == thumbprint(pki.clients["app-one"].cert)
    assert gw.calls[0].authorizer == "invoked"


def test_a_truststore_with_another_ca_refuses_the_legitimate_client(pki):
    gw = ApiGateway(pki, truststore_pem=pki.server_truststore_pem, authorizer=Recorder())
    with gw, pytest.raises((ssl.SSLError, ConnectionError)):
        call(pki, gw.url, "app-one")


# --- identity sources and simple answers --------------------------------------------------


def test_a_request_without_the_token_gets_401_and_never_reaches_the_authorizer(pki):
    authorizer = Recorder()
    with gateway(pki, authorizer) as gw:
        assert call(pki, gw.url, "app-one", token=None) == (401, {"message": "Unauthorized"})
    assert authorizer.events == []
    assert gw.calls[0].authorizer == "skipped"


@pytest.mark.parametrize(("verdict", "status"), [(True, 200), (False, 403)])
def test_a_simple_answer_allows_or_forbids(pki, verdict, status):
    with gateway(pki, Recorder(lambda e: {"isAuthorized": verdict})) as gw:
        got = call(pki, gw.url, "app-one")
    assert got[0] == status
    if not verdict:
        assert got[1] == {"message": "Forbidden"}


def test_the_authorizer_sees_the_token_and_certificate_where_payload_2_puts_them(pki):
    authorizer = Recorder()
    with gateway(pki, authorizer) as gw:
        call(pki, gw.url, "app-two", token="Bearer abc")
    event = authorizer.events[0]
    assert event["identitySource"] == ["Bearer abc"]
    assert event["routeArn"] == ARN
    pem = event["requestContext"]["authentication"]["clientCert"]["clientCertPem"]
    assert thumbprint(pem.encode()) == pki.clients["app-two"].thumbprint


def test_the_context_reaches_the_backend(pki):
    seen: list[dict] = []

    def backend(info: dict) -> tuple[int, Any]:
        seen.append(info)
        return 201, {"created": True}

    answer = {"isAuthorized": True, "context": {"client_id": "app-one"}}
    with gateway(pki, Recorder(lambda e: answer), backend=backend) as gw:
        assert call(pki, gw.url, "app-one") == (201, {"created": True})
    assert seen[0]["authorizer_context"] == {"client_id": "app-one"}
    assert seen[0]["thumbprint"] == pki.clients["app-one"].thumbprint


# --- IAM policy answers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statements", "allowed"),
    [
        ([allow(ARN)], True),
        ([allow(f"{API}/*")], True),
        ([allow(f"{API}/prod/GET/accounts/*")], True),
        ([allow(f"{API}/prod/*/accounts/4?")], True),
        ([allow("*")], True),
        ([allow(ARN, action="execute-api:*")], True),
        ([allow(ARN, action=["s3:GetObject", "EXECUTE-API:invoke"])], True),
        ([allow(f"{API}/prod/POST/*")], False),  # another method
        ([allow(f"{API}/dev/*")], False),  # another stage
        ([allow(f"{API}/prod/GET/accounts/4")], False),  # a prefix is not a match
        ([allow(ARN.upper())], False),  # ARNs compare with case
        ([allow(ARN, action="execute-api:ManageConnections")], False),
        ([allow("*"), deny(ARN)], False),  # an explicit deny wins
        ([deny(f"{API}/*/GET/*"), allow(ARN)], False),
        ([deny(f"{API}/prod/POST/*"), allow(ARN)], True),
        ([], None),  # no statement at all: malformed
    ],
)
def test_policy_answers_follow_iam_wildcards_and_explicit_deny(statements, allowed):
    answer = policy(*statements)
    if allowed is None:
        with pytest.raises(Exception, match="Statement"):
            enforce(answer, payload_version="2.0", arn=ARN)
        return
    assert enforce(answer, payload_version="2.0", arn=ARN).allowed is allowed
    assert policy_allows(answer["policyDocument"], ARN) is allowed


@pytest.mark.parametrize(
    ("statements", "status"),
    [([allow(f"{API}/prod/GET/*")], 200), ([allow("*"), deny(f"{API}/*/GET/accounts/*")], 403)],
)
def test_a_policy_answer_is_enforced_end_to_end(pki, statements, status):
    with gateway(pki, Recorder(lambda e: policy(*statements)), payload_version="1.0") as gw:
        assert call(pki, gw.url, "app-one")[0] == status


# --- failing closed -----------------------------------------------------------------------


def _raises(event: dict) -> dict:
    raise RuntimeError("introspection endpoint down")


@pytest.mark.parametrize(
    ("version", "answer"),
    [
        ("2.0", lambda e: None),
        ("2.0", lambda e: "Allow"),
        ("2.0", lambda e: {"isAuthorized": "true"}),
        ("2.0", lambda e: {"isAuthorized": True, "context": ["not", "a", "map"]}),
        ("2.0", lambda e: policy({"Effect": "allow", "Action": "*", "Resource": "*"})),
        ("2.0", lambda e: policy({"Effect": "Allow", "Resource": "*"})),
        ("2.0", lambda e: policy({**allow("*"), "Condition": {"Bool": {"x": "true"}}})),
        ("1.0", lambda e: {"isAuthorized": True}),  # 1.0 takes IAM policies only
        ("1.0", lambda e: {"policyDocument": policy(allow("*"))["policyDocument"]}),
        ("2.0", _raises),
        ("2.0", lambda e: sys.exit(1)),
    ],
)
def test_a_broken_authorizer_answer_is_a_500_never_an_allow(pki, version, answer):
    with gateway(pki, Recorder(answer), payload_version=version) as gw:
        assert call(pki, gw.url, "app-one") == (500, {"message": "Internal Server Error"})


@pytest.mark.parametrize(
    ("simple", "answer", "status"),
    [
        (True, {"isAuthorized": True}, 200),
        (True, policy(allow("*")), 500),  # simple responses on: isAuthorized is expected
        (False, policy(allow("*")), 200),
        (False, {"isAuthorized": True}, 500),  # off: only an IAM policy is read
        (None, {"isAuthorized": True}, 200),  # not told: either shape
        (None, policy(allow("*")), 200),
    ],
)
def test_payload_2_reads_the_answer_shape_enable_simple_responses_chooses(
    pki, simple, answer, status
):
    with gateway(pki, Recorder(lambda e: answer), simple_responses=simple) as gw:
        assert call(pki, gw.url, "app-one")[0] == status


def test_a_slow_authorizer_times_out_with_500(pki):
    release = threading.Event()

    def slow(event: dict) -> dict:
        release.wait(5)
        return {"isAuthorized": True}

    try:
        with gateway(pki, slow, authorizer_timeout=0.2) as gw:
            assert call(pki, gw.url, "app-one")[0] == 500
        assert gw.calls[0].reason == "authorizer timed out"
    finally:
        release.set()


# --- caching ------------------------------------------------------------------------------


def bound_to(pki: Pki, app: str):
    """An authorizer that checks certificate binding: the token belongs to ``app``."""
    expected = pki.clients[app].thumbprint

    def decide(event: dict) -> dict:
        pem = event["requestContext"]["authentication"]["clientCert"]["clientCertPem"]
        return {"isAuthorized": thumbprint(pem.encode()) == expected}

    return Recorder(decide)


def test_a_cached_answer_lets_a_stolen_token_through_with_another_certificate(pki):
    authorizer = bound_to(pki, "app-one")
    with gateway(pki, authorizer, result_ttl=300) as gw:
        assert call(pki, gw.url, "app-one")[0] == 200
        assert call(pki, gw.url, "app-two")[0] == 200  # the thief, served from the cache
    assert len(authorizer.events) == 1
    assert [c.authorizer for c in gw.calls] == ["invoked", "cached"]
    assert gw.calls[0].thumbprint != gw.calls[1].thumbprint


def test_without_caching_the_stolen_token_is_refused(pki):
    authorizer = bound_to(pki, "app-one")
    with gateway(pki, authorizer, result_ttl=0) as gw:
        assert call(pki, gw.url, "app-one")[0] == 200
        assert call(pki, gw.url, "app-two")[0] == 403
    assert len(authorizer.events) == 2


def test_a_certificate_in_the_identity_sources_keeps_the_cache_safe(pki):
    authorizer = bound_to(pki, "app-one")
    sources = ("$request.header.Authorization", "$context.identity.clientCert.clientCertPem")
    with gateway(pki, authorizer, result_ttl=300, identity_sources=sources) as gw:
        assert call(pki, gw.url, "app-one")[0] == 200
        assert call(pki, gw.url, "app-two")[0] == 403
        assert call(pki, gw.url, "app-one")[0] == 200
    assert [c.authorizer for c in gw.calls] == ["invoked", "invoked", "cached"]


def test_the_cache_is_keyed_by_identity_values_and_expires(pki):
    now = [0.0]
    authorizer = Recorder()
    with gateway(pki, authorizer, result_ttl=10, clock=lambda: now[0]) as gw:
        call(pki, gw.url, "app-one", token="a")
        call(pki, gw.url, "app-one", token="b")  # another token: another key
        call(pki, gw.url, "app-one", token="a")
        now[0] = 11.0
        call(pki, gw.url, "app-one", token="a")  # expired
    assert [c.authorizer for c in gw.calls] == ["invoked", "invoked", "cached", "invoked"]


def test_a_cached_policy_is_checked_again_against_each_route(pki):
    answer = policy(allow(f"{API}/prod/GET/accounts/*"))
    with gateway(pki, Recorder(lambda e: answer), result_ttl=300) as gw:
        assert call(pki, gw.url, "app-one", path="/accounts/1")[0] == 200
        assert call(pki, gw.url, "app-one", path="/admin")[0] == 403
    assert gw.calls[1].authorizer == "cached"


# --- the default execute-api endpoint -----------------------------------------------------


def test_the_default_endpoint_skips_mtls_when_enabled(pki):
    authorizer = Recorder()
    with gateway(pki, authorizer) as gw:
        assert call(pki, gw.default_url, None)[0] == 200
    assert "authentication" not in authorizer.events[0]["requestContext"]
    assert gw.calls[0].endpoint == "default" and gw.calls[0].thumbprint is None


def test_the_disabled_default_endpoint_answers_403_without_the_authorizer(pki):
    authorizer = Recorder()
    with gateway(pki, authorizer, disable_execute_api_endpoint=True) as gw:
        assert call(pki, gw.default_url, None) == (403, {"message": "Forbidden"})
        assert call(pki, gw.url, "app-one")[0] == 200  # the custom domain still works
    assert len(authorizer.events) == 1


def test_the_servers_stop_with_the_context(pki):
    with gateway(pki, Recorder()) as gw:
        url = gw.url
    with pytest.raises(OSError):
        call(pki, url, "app-one")
