"""lab6: does the solution pass, does the starter fail, does every check fail on a wrong
answer a learner could give, and do equivalent right answers pass? Each case is the reference
solution with one change, graded by the real runner (the authorizer in the real jail, every
scenario over real TLS on 127.0.0.1)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from grader.checks import lab6_scenario as scenario
from grader.course.checkinfo import read_checks
from grader.course.labs import load_course
from grader.grading.runner import run_lab
from tests.conftest import COURSE, ROOT

LAB = load_course(COURSE).lab("lab6")
SOLUTION = {name: (ROOT / "solutions" / "lab6" / name).read_text() for name in LAB.files}
CERTS = COURSE / "labs" / "lab6" / "data" / "certs"
AUTH, API, DOMAIN, TRUST = "authorizer.py", "api.json", "domain.json", "truststore.pem"


def grade(tmp_path: Path, seed: int = 11, **files: str):
    folder = tmp_path / "lab6"
    shutil.copytree(COURSE / "labs" / "lab6", folder)
    for name in LAB.files:
        (folder / name).write_text(files.get(name, SOLUTION[name]))
    result = run_lab(LAB, folder, seed=seed)
    assert result.problem is None, result.problem
    return {c.id: c for c in result.checks}


def authorizer(old: str, new: str) -> dict[str, str]:
    """The solution's authorizer with one change (which must apply)."""
    assert old in SOLUTION[AUTH], old
    return {AUTH: SOLUTION[AUTH].replace(old, new, 1)}


def api(**changes) -> dict[str, str]:
    doc = json.loads(SOLUTION[API])
    for key, value in changes.items():
        part = (
            "Api" if key in ("DisableExecuteApiEndpoint", "Name", "ProtocolType") else "Authorizer"
        )
        doc[part][key] = value
    return {API: json.dumps(doc, indent=2)}


def domain(**changes) -> dict[str, str]:
    doc = json.loads(SOLUTION[DOMAIN])
    for key, value in changes.items():
        if key == "MutualTlsAuthentication":
            doc.pop(key) if value is None else doc.update({key: value})
        else:
            doc["DomainNameConfigurations"][0][key] = value
    return {DOMAIN: json.dumps(doc, indent=2)}


def ca(name: str) -> str:
    return (CERTS / name).read_text()


@pytest.fixture(scope="module")
def solution_result(tmp_path_factory):
    return grade(tmp_path_factory.mktemp("solution"))


def test_solution_passes_every_check(solution_result):
    wrong = {c.id: (c.found, c.message) for c in solution_result.values() if c.status != "passed"}
    assert wrong == {}
    assert set(solution_result) == {c.name for c in read_checks(LAB.checks_module)}


def test_starter_fails_every_task(tmp_path):
    result = run_lab(LAB, LAB.folder, seed=3)
    failed_tasks = {c.task for c in result.checks if c.status == "failed"}
    assert failed_tasks == {1, 2, 3}
    failed = {c.id for c in result.checks if c.status == "failed"}
    assert {
        "test_the_domain_and_truststore_are_requests_api_gateway_accepts",
        "test_a_stolen_token_with_another_apps_certificate_is_refused",
        "test_both_payload_versions_are_handled",
        "test_a_slow_or_unreachable_authorization_server_means_no",
        "test_the_default_endpoint_cannot_bypass_mtls",
        "test_caching_cannot_hand_a_thief_the_owners_answer",
    } <= failed


def test_the_starter_authorizer_fails_the_stolen_token_check_explaining_binding(tmp_path):
    starter = (COURSE / "labs" / "lab6" / AUTH).read_text()
    check = grade(tmp_path, **{AUTH: starter})[
        "test_a_stolen_token_with_another_apps_certificate_is_refused"
    ]
    assert check.status == "failed"
    assert "x5t#S256" in check.fix and "bound" in check.fix


# Who the certificate says it is, instead of which certificate it is.
SAME_NAME = """from cryptography import x509

    subject = x509.load_pem_x509_certificate(cert.encode()).subject.rfc4514_string()
    return f"CN={answer['client_id']}" in subject"""
NO_ROUNDING = 'base64.urlsafe_b64encode(digest).decode("ascii")'
# A token read without asking the authorization server: signature unchecked, revocation unseen.
LOCAL_JWT = """def introspect(token: str) -> dict:
    import time
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return dict(claims, active=claims["exp"] > time.time())


def _unused(token: str) -> dict:"""

# (check that must fail, files changed from the solution, the mistake)
WRONG = [
    ("test_the_truststore_holds_exactly_the_ca_of_the_legitimate_clients",
     {TRUST: ca("shop-client-ca.pem") + ca("shop-server-ca.pem")},
     "the server CA trusted too"),
    ("test_handshakes_without_a_valid_trusted_certificate_are_refused",
     {TRUST: ca("shop-client-ca.pem") + ca("partner-test-ca.pem")},
     "the partner's test CA trusted: the attacker gets through"),
    ("test_handshakes_without_a_valid_trusted_certificate_are_refused",
     {TRUST: ca("shop-server-ca.pem")},
     "the server CA instead of the client CA: the apps are refused"),
    ("test_the_domain_and_truststore_are_requests_api_gateway_accepts",
     domain(MutualTlsAuthentication=None), "no mutual TLS at all"),
    ("test_the_domain_and_truststore_are_requests_api_gateway_accepts",
     domain(SecurityPolicy="TLS_1_0"), "TLS 1.0 policy"),
    ("test_the_domain_and_truststore_are_requests_api_gateway_accepts",
     domain(EndpointType="EDGE"), "an edge-optimized domain"),
    ("test_the_domain_and_truststore_are_requests_api_gateway_accepts",
     domain(CertificateArn="arn:aws:acm:us-east-1:123456789012:certificate/3f6b2c1e-8d4a-4f0e-9b7c-5a1d2e3f4a5b"),
     "a certificate from another Region"),
    ("test_the_domain_deploys_with_its_truststore_in_s3",
     domain(MutualTlsAuthentication={"TruststoreUri": "s3://shop-example-truststores/api/truststore.pem"}),
     "a look-alike bucket"),
    ("test_a_stolen_token_with_another_apps_certificate_is_refused",
     authorizer("return isinstance(bound, str) and hmac.compare_digest(bound, thumbprint(cert))",
                "return True"),
     "any active token"),
    ("test_a_stolen_token_with_another_apps_certificate_is_refused",
     authorizer("return isinstance(bound, str) and hmac.compare_digest(bound, thumbprint(cert))",
                "return bound is None or hmac.compare_digest(bound, thumbprint(cert)) or len(bound) > 0"),
     "a comparison that cannot fail"),
    ("test_a_stolen_token_with_another_apps_certificate_is_refused",
     authorizer("return isinstance(bound, str) and hmac.compare_digest(bound, thumbprint(cert))",
                SAME_NAME),
     "the certificate's name compared with the token's client, not the certificate itself"),
    ("test_the_legitimate_app_completes_the_flow_and_calls_the_api",
     authorizer('base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")', NO_ROUNDING),
     "the thumbprint with its base64 padding"),
    ("test_the_legitimate_app_completes_the_flow_and_calls_the_api",
     authorizer('base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")', "digest.hex()"),
     "the thumbprint in hex"),
    ("test_expired_and_revoked_tokens_are_refused",
     authorizer('def introspect(token: str) -> dict:', LOCAL_JWT),
     "the JWT read locally: a revoked token still passes"),
    ("test_both_payload_versions_are_handled",
     authorizer('if event.get("version") == "2.0":\n        cert', 'if True:\n        cert'),
     "payload 2.0's place only"),
    ("test_both_payload_versions_are_handled",
     authorizer('    if event.get("version") == "2.0":\n        return {"isAuthorized": allowed}',
                '    return {"isAuthorized": allowed}'),
     "a simple response for payload 1.0"),
    ("test_a_slow_or_unreachable_authorization_server_means_no",
     authorizer("context=_tls(), timeout=INTROSPECTION_TIMEOUT", "context=_tls()"),
     "no timeout on introspection"),
    ("test_a_slow_or_unreachable_authorization_server_means_no",
     authorizer("        allowed = False\n", "        allowed = True\n"),
     "fails open"),
    ("test_caching_cannot_hand_a_thief_the_owners_answer",
     api(AuthorizerResultTtlInSeconds=300), "answers cached by token for five minutes"),
    ("test_the_default_endpoint_cannot_bypass_mtls",
     api(DisableExecuteApiEndpoint=False), "the default endpoint left on"),
    ("test_the_api_and_its_authorizer_deploy",
     api(AuthorizerType="JWT"), "a JWT authorizer"),
]  # fmt: skip


@pytest.mark.parametrize("check, files, why", WRONG, ids=[w[2] for w in WRONG])
def test_each_wrong_answer_fails_its_check(tmp_path, check, files, why):
    assert grade(tmp_path, **files)[check].status == "failed", why


EQUIVALENT = [
    ({TRUST: ca("shop-client-ca.pem").replace("\n", "\r\n")}, "a truststore with CRLF line ends"),
    (api(AuthorizerResultTtlInSeconds=300,
         IdentitySource=["$request.header.Authorization", "$context.identity.clientCert.clientCertPem"]),
     "caching keyed on the token and the certificate"),
    (api(AuthorizerPayloadFormatVersion="1.0", EnableSimpleResponses=False), "payload 1.0"),
]  # fmt: skip


@pytest.mark.parametrize("files, why", EQUIVALENT, ids=[e[1] for e in EQUIVALENT])
def test_each_equivalent_answer_passes(tmp_path, files, why):
    graded = grade(tmp_path, **files).values()
    failed = {c.id: (c.found, c.message) for c in graded if c.status != "passed"}
    assert failed == {}, why


def test_the_roles_are_seeded_and_both_apps_play_each_part():
    assert scenario.roles(5) == scenario.roles(5)
    assert {scenario.roles(seed).victim for seed in range(20)} == set(scenario.CLIENT_APPS)


def test_every_shipped_ca_has_a_twin_and_the_trusted_one_is_the_client_ca():
    pki = scenario.make_pki()
    twins = scenario.shipped_twins(CERTS, pki)
    assert len(twins) == len(scenario.SHIPPED_CAS) == len(list(CERTS.glob("*.pem")))
    names = scenario.shipped_names(CERTS)
    trusted = next(p for p, name in names.items() if name == scenario.TRUSTED_CA)
    assert twins[trusted] is pki.client_ca
