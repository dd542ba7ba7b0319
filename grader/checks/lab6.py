"""lab6 — a token a thief cannot use: the API's mTLS domain and truststore, a Lambda
authorizer for certificate-bound tokens, and authorizer settings that leave no way round.

Every verdict is an end-to-end scenario over real TLS on 127.0.0.1 (lab6_scenario): a fresh
PKI, the FAPI engine's authorization server, its API-Gateway-like front with the learner's
truststore and settings, and the learner's authorizer.py running warm in the jail, which can
reach the authorization server's port and nothing else. Task 3's scenarios use a correct
authorizer of the engine's, so that they judge the settings alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.aws.errors import GraderError
from grader.aws.fapi.apiconfig import ApiSettings, DomainSettings, load_api, load_domain
from grader.aws.fapi.events import HTTP_V1, HTTP_V2
from grader.aws.fapi.gateway import ApiGateway
from grader.aws.fapi.pki import load_certificates, reissue, thumbprint
from grader.checks._support import fail, listing
from grader.checks.lab6_scenario import (
    ACCOUNT,
    CONTEXT,
    DOMAIN,
    FUNCTION_TIMEOUT,
    REFUSED,
    REGION,
    SLOW_SERVER_DELAY,
    TRUSTED_CA,
    TRUSTSTORE_BUCKET,
    TRUSTSTORE_KEY,
    Roles,
    Stage,
    call_api,
    close_stage,
    open_stage,
    roles,
    run_truststore,
    shipped_names,
    shipped_twins,
)

DOCS = "fapi/lab6.md"
# What the checks import on first use: a class's grading process imports it once, before
# it forks a grading child per learner (grader.grading.zygote).
PRELOAD = ("grader.aws.fapi.authorizers", "grader.grading.learner_worker")
CHAPTER = "fapi/index.md"
SANDBOX_SERVICES = ("s3", "apigatewayv2")
# The checks wait out the function's time-outs (a slow authorization server): a class's
# grading runs this lab's pairs beside the computing ones (grader.grading.classroom_pool).
WAITS_ON_TIMERS = True
TRUSTSTORE, DOMAIN_FILE, AUTHORIZER, API = (
    "truststore.pem",
    "domain.json",
    "authorizer.py",
    "api.json",
)
# How long the gateway waits for the authorizer: the function's own timeout ends it first.
GATEWAY_WAIT = FUNCTION_TIMEOUT + 1.0


def _input_failure(name: str, exc: GraderError, what: str, task: int) -> None:
    fail(
        expected=f"{name} to be {what}",
        found=str(exc).replace(str(Path.cwd()) + "/", ""),
        fix="correct what the message names (the starter is restored by `grader reset`)",
        docs=f"{DOCS}#task-{task}",
    )


# ---------------------------------------------------------------- the stage


@pytest.fixture(scope="module")
def stage() -> Iterator[Stage]:
    """This run's PKI and authorization server."""
    stage = open_stage()
    try:
        yield stage
    finally:
        close_stage(stage)


@pytest.fixture(scope="module")
def cast(seed: int) -> Roles:
    return roles(seed)


class LearnerAuthorizer:
    """The learner's handler, warm in the jail, as the gateway's authorizer; it keeps what
    went wrong so a failure can show the learner's own error."""

    def __init__(self, worker: Any, error: type[Exception]):
        self.worker = worker
        self.error_type = error
        self.errors: list[str] = []

    def __call__(self, event: dict[str, Any]) -> Any:
        try:
            return self.worker.call(event, CONTEXT, timeout=FUNCTION_TIMEOUT).value
        except self.error_type as exc:
            self.errors.append(str(exc))
            raise

    def last_error(self) -> str:
        return self.errors[-1] if self.errors else ""


@pytest.fixture(scope="module")
def authorizer(lab_dir: Path, stage: Stage, learner_code: Any) -> Iterator[LearnerAuthorizer]:
    port = int(stage.server.url.rsplit(":", 1)[1])
    worker = learner_code.worker(
        lab_dir / AUTHORIZER,
        "handler",
        env=stage.env,
        readable=[stage.folder],
        reach=[port],
        lifetime=60.0,
    )
    with worker:
        yield LearnerAuthorizer(worker, learner_code.Error)


def _try_api(lab_dir: Path) -> ApiSettings | None:
    try:
        return load_api(lab_dir / API)
    except GraderError:
        return None


def _gateway(stage: Stage, authorizer: Any, **options: Any) -> ApiGateway:
    if isinstance(authorizer, LearnerAuthorizer):
        authorizer.errors.clear()  # a failure quotes this scenario's error, never an older one
    options.setdefault("truststore_pem", stage.pki.client_truststore_pem)
    return ApiGateway(
        stage.pki,
        authorizer=authorizer,
        authorizer_timeout=GATEWAY_WAIT,
        region=REGION,
        account_id=ACCOUNT,
        **options,
    )


def _task2_options(lab_dir: Path, version: str | None = None) -> dict[str, Any]:
    """The learner's payload version and response mode (task 2 judges the function: the
    truststore is the right one, nothing is cached). Under the other version, the answer
    may take any shape that version accepts."""
    api = _try_api(lab_dir)
    mine = api.authorizer.payload_version if api else HTTP_V2
    if version is None or version == mine:
        # api.json's choice; the starter's (simple responses on) while api.json is broken
        return {
            "payload_version": mine,
            "simple_responses": api.authorizer.simple_responses if api else True,
        }
    return {"payload_version": version, "simple_responses": None if version == HTTP_V2 else False}


def _said(status: int | str) -> str:
    return {200: "200 (let in)", 403: "403 (refused)", 500: "500 (the authorizer failed)"}.get(
        status, str(status)
    )


def _authorizer_failed(authorizer: LearnerAuthorizer, status: int | str) -> str:
    """What the learner's function did, when the gateway answered 500."""
    if status == 500 and authorizer.last_error():
        return f"; your function: {authorizer.last_error()}"
    if status == 500:
        return "; its answer was not one API Gateway accepts for this payload version"
    return ""


# ---------------------------------------------------------------- task 1: domain, truststore


@pytest.fixture(scope="module")
def domain(lab_dir: Path) -> DomainSettings:
    try:
        return load_domain(lab_dir / DOMAIN_FILE, region=REGION)
    except GraderError as exc:
        _input_failure(DOMAIN_FILE, exc, "a CreateDomainName request with mutual TLS", 1)


@pytest.fixture(scope="module")
def truststore(lab_dir: Path) -> list:
    try:
        return load_certificates((lab_dir / TRUSTSTORE).read_bytes(), TRUSTSTORE)
    except (GraderError, OSError) as exc:
        fail(
            expected=f"{TRUSTSTORE} to hold CA certificates in PEM",
            found=str(exc),
            fix="copy the CA certificates it needs from data/certs/ into it, one after another",
            docs=f"{DOCS}#task-1",
        )


@pytest.mark.check(task=1, points=1, gate="task")
def test_the_domain_and_truststore_are_requests_api_gateway_accepts(
    domain: DomainSettings, truststore: list
) -> None:
    """domain.json is a CreateDomainName request for a Regional domain with mutual TLS
    (TLS 1.2, an ACM certificate from the API's Region, a truststore S3 URI), and
    truststore.pem holds CA certificates."""
    not_ca = [cert.subject.rfc4514_string() for cert in truststore if not _is_ca(cert)]
    if not_ca:
        fail(
            expected="a truststore of CA certificates",
            found=f"not a CA: {listing(not_ca, 3)}",
            fix="a truststore holds the CAs that issue client certificates, not the clients' own",
            docs=f"{CHAPTER}#mutual-tls-on-api-gateway",
        )


def _is_ca(cert: Any) -> bool:
    from cryptography import x509

    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


@pytest.mark.check(task=1, points=2)
def test_the_domain_deploys_with_its_truststore_in_s3(
    lab_dir: Path, domain: DomainSettings, aws
) -> None:
    """The truststore goes to the shop's truststore bucket at the domain's TruststoreUri and
    the domain deploys to the sandbox (CreateDomainName) with MutualTlsAuthentication."""
    wanted = f"s3://{TRUSTSTORE_BUCKET}/{TRUSTSTORE_KEY}"
    if domain.domain_name != DOMAIN or domain.truststore_bucket != TRUSTSTORE_BUCKET:
        fail(
            expected=f"the domain {DOMAIN} with its truststore in the bucket {TRUSTSTORE_BUCKET}",
            found=f"{domain.domain_name} with TruststoreUri {domain.truststore_uri}",
            fix=f"use the names data/README.md gives (for example {wanted})",
            docs=f"{DOCS}#task-1",
        )
    s3 = aws.client("s3")
    region = aws.region  # the sandbox's; a bucket outside us-east-1 names its Region
    where = (
        {}
        if region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    )
    s3.create_bucket(Bucket=domain.truststore_bucket, **where)
    body = (lab_dir / TRUSTSTORE).read_bytes()
    s3.put_object(Bucket=domain.truststore_bucket, Key=domain.truststore_key, Body=body)
    client = aws.client("apigatewayv2")
    try:
        client.create_domain_name(**domain.request)
        stored = client.get_domain_name(DomainName=domain.domain_name)
    except Exception as exc:  # botocore's ClientError or ParamValidationError
        fail(
            expected="the domain to deploy",
            found=f"{type(exc).__name__}: {exc}",
            fix="fix what the API names",
            docs=f"{DOCS}#task-1",
        )
    uri = (stored.get("MutualTlsAuthentication") or {}).get("TruststoreUri", "")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    fetched = s3.get_object(Bucket=bucket, Key=key)["Body"].read() if bucket and key else b""
    if fetched != body:
        fail(
            expected="the deployed domain's TruststoreUri to lead to your truststore.pem",
            found=f"TruststoreUri {uri!r}",
            fix="point TruststoreUri at the object the truststore is uploaded to",
            docs=f"{CHAPTER}#mutual-tls-on-api-gateway",
        )


@pytest.mark.check(task=1, points=2)
def test_the_truststore_holds_exactly_the_ca_of_the_legitimate_clients(
    lab_dir: Path, truststore: list
) -> None:
    """truststore.pem holds exactly the CA that issues the shop's client certificates: not
    the server CA, not the partner's test CA, nothing twice."""
    from cryptography.hazmat.primitives import hashes

    names = shipped_names(lab_dir / "data" / "certs")
    prints = [cert.fingerprint(hashes.SHA256()).hex() for cert in truststore]
    found = [
        names.get(p, cert.subject.rfc4514_string())
        for p, cert in zip(prints, truststore, strict=True)
    ]
    if found != [TRUSTED_CA]:
        extra = [name for name in found if name != TRUSTED_CA]
        missing = TRUSTED_CA not in found
        why = []
        if missing:
            why.append(f"the CA of the shop's clients ({TRUSTED_CA}) is missing")
        if extra:
            why.append(f"it also trusts {listing(extra, 3)}")
        if found.count(TRUSTED_CA) > 1:
            why.append(f"{TRUSTED_CA} is in it {found.count(TRUSTED_CA)} times")
        fail(
            expected=f"exactly one CA, {TRUSTED_CA}",
            found="; ".join(why),
            fix="every CA in a truststore can issue a certificate the API lets through the "
            "handshake: keep only the one that issues the shop's clients",
            docs=f"{CHAPTER}#mutual-tls-on-api-gateway",
        )


@pytest.mark.check(task=1, points=3)
def test_handshakes_without_a_valid_trusted_certificate_are_refused(
    lab_dir: Path, stage: Stage, cast: Roles, truststore: list
) -> None:
    """With your truststore, the custom domain refuses the TLS handshake of a client with no
    certificate, with the partner test CA's certificate, with an expired one and with one
    not yet valid; the shop's apps get through."""
    trust = run_truststore(truststore, shipped_twins(lab_dir / "data" / "certs", stage.pki))
    token = stage.server.issue_token(cast.victim, stage.pki.clients[cast.victim])
    wrong = []
    with _gateway(stage, lambda event: {"isAuthorized": True}, truststore_pem=trust) as gw:
        for who, label in (
            (None, "no certificate"),
            ("attacker", "a certificate from the partner test CA"),
            ("expired", "an expired certificate from the shop's client CA"),
            ("not_yet_valid", "a certificate from the shop's client CA not valid yet"),
        ):
            got = call_api(stage, gw.url, who, token)
            if got != REFUSED:
                wrong.append(f"{label}: the handshake succeeded ({_said(got)})")
        for app in (cast.victim, cast.thief):
            got = call_api(stage, gw.url, app, token)
            if got == REFUSED:
                wrong.append(f"{app}, a legitimate app: its handshake was refused")
    if wrong:
        fail(
            expected="only certificates from the shop's client CA, within their dates, to "
            "complete the handshake",
            found=listing(wrong, 6),
            fix="the truststore decides who gets through the handshake: exactly the CA that "
            "issues the shop's clients",
            docs=f"{CHAPTER}#mutual-tls-on-api-gateway",
        )


# ---------------------------------------------------------------- task 2: the authorizer


@pytest.mark.check(task=2, points=3, gate="task")
def test_the_legitimate_app_completes_the_flow_and_calls_the_api(
    lab_dir: Path, stage: Stage, cast: Roles, authorizer: LearnerAuthorizer
) -> None:
    """An app gets a token by the OAuth flow (PKCE, mTLS at the token endpoint) and calls the
    API with it and its own certificate: your authorizer lets it in (200)."""
    token = stage.token(cast.victim)
    with _gateway(stage, authorizer, **_task2_options(lab_dir)) as gw:
        got = call_api(stage, gw.url, cast.victim, token, cast.paths[0])
    if got != 200:
        fail(
            expected=f"{cast.victim}'s call with its own token and certificate: 200",
            found=_said(got) + _authorizer_failed(authorizer, got),
            fix="introspect the token, and allow when it is active and bound to this certificate",
            docs=f"{DOCS}#task-2",
        )


@pytest.mark.check(task=2, points=3)
def test_a_stolen_token_with_another_apps_certificate_is_refused(
    lab_dir: Path, stage: Stage, cast: Roles, authorizer: LearnerAuthorizer
) -> None:
    """The same token presented by another legitimate app with its own valid certificate (a
    stolen token), or with another certificate in its owner's name (its predecessor, whose
    key leaked), is refused (403), while its owner still gets in."""
    token = stage.token(cast.victim)
    lookalike = reissue(stage.pki, cast.victim)
    with _gateway(stage, authorizer, **_task2_options(lab_dir)) as gw:
        got = {
            f"{cast.thief} presenting {cast.victim}'s token": call_api(
                stage, gw.url, cast.thief, token, cast.paths[1]
            ),
            f"another certificate in {cast.victim}'s name (same subject, same CA)": call_api(
                stage, gw.url, lookalike, token, cast.paths[1]
            ),
        }
        owner = call_api(stage, gw.url, cast.victim, token, cast.paths[1])
    wrong = [f"{who}: {_said(status)}" for who, status in got.items() if status != 403]
    if wrong or owner != 200:
        bound = thumbprint(stage.pki.clients[cast.victim].cert)
        statuses = [*got.values(), owner]
        fail(
            expected=f"every other certificate refused (403); {cast.victim} itself: 200",
            found=listing([*wrong, f"{cast.victim}: {_said(owner)}"])
            + _authorizer_failed(authorizer, next((s for s in statuses if s == 500), 0)),
            fix="the token is bound to one certificate, not to a name: introspection answers "
            f'cnf["x5t#S256"] (this run: {bound}), and your function must compare it with the '
            "thumbprint of the certificate in the event, refusing when they differ. An "
            "active token alone proves nothing about who presents it",
            docs=f"{CHAPTER}#certificate-bound-tokens-rfc-8705",
        )


@pytest.mark.check(task=2, points=2)
def test_expired_and_revoked_tokens_are_refused(
    lab_dir: Path, stage: Stage, cast: Roles, authorizer: LearnerAuthorizer
) -> None:
    """A token that has expired, and one the authorization server has revoked, are refused
    (403) even with their owner's certificate."""
    owner = stage.pki.clients[cast.victim]
    expired = stage.server.issue_token(cast.victim, owner, lifetime=-60)
    revoked = stage.token(cast.victim)
    stage.server.revoke(revoked)
    with _gateway(stage, authorizer, **_task2_options(lab_dir)) as gw:
        got = {
            "expired": call_api(stage, gw.url, cast.victim, expired),
            "revoked": call_api(stage, gw.url, cast.victim, revoked),
        }
    wrong = [f"the {kind} token: {_said(status)}" for kind, status in got.items() if status != 403]
    if wrong:
        fail(
            expected="both refused: 403",
            found=listing(wrong) + _authorizer_failed(authorizer, next(iter(got.values()))),
            fix='refuse unless introspection answers "active": true. Reading the JWT yourself '
            "cannot tell you it was revoked: only the authorization server knows",
            docs=f"{CHAPTER}#introspection-or-a-self-contained-token",
        )


@pytest.mark.check(task=2, points=2)
def test_both_payload_versions_are_handled(
    lab_dir: Path, stage: Stage, cast: Roles, authorizer: LearnerAuthorizer
) -> None:
    """The same function works under the other payload format version too (1.0 puts the
    certificate under requestContext.identity and wants an IAM policy back; 2.0 under
    requestContext.authentication): its owner gets in, a thief does not."""
    mine = _task2_options(lab_dir)["payload_version"]
    other = HTTP_V1 if mine == HTTP_V2 else HTTP_V2
    token = stage.token(cast.victim)
    with _gateway(stage, authorizer, **_task2_options(lab_dir, other)) as gw:
        owner = call_api(stage, gw.url, cast.victim, token, cast.paths[2])
        failure = _authorizer_failed(authorizer, owner)
        thief = call_api(stage, gw.url, cast.thief, token, cast.paths[2])
    if owner != 200 or thief != 403:
        fail(
            expected=f"under payload {other}: {cast.victim} 200, {cast.thief} with the stolen "
            "token 403",
            found=f"{cast.victim}: {_said(owner)}; {cast.thief}: {_said(thief)}{failure}",
            fix="read the version field: 1.0 has the certificate in "
            "requestContext.identity.clientCert and wants principalId and a policyDocument "
            "allowing execute-api:Invoke on methodArn; 2.0 has it in "
            "requestContext.authentication.clientCert",
            docs=f"{CHAPTER}#the-lambda-authorizer",
        )


@pytest.mark.check(task=2, points=2)
def test_a_slow_or_unreachable_authorization_server_means_no(
    lab_dir: Path, stage: Stage, cast: Roles, authorizer: LearnerAuthorizer
) -> None:
    """When the authorization server is slower than the function's 3-second timeout, or down,
    your function still answers in time, and answers no (403): it fails closed."""
    token = stage.token(cast.victim)
    got = {}
    with _gateway(stage, authorizer, **_task2_options(lab_dir)) as gw:
        stage.server.delay = SLOW_SERVER_DELAY
        try:
            got["slow"] = call_api(stage, gw.url, cast.victim, token)
            slow_error = _authorizer_failed(authorizer, got["slow"])
        finally:
            stage.server.delay = 0.0
        with stage.server.down():
            got["down"] = call_api(stage, gw.url, cast.victim, token)
            down_error = _authorizer_failed(authorizer, got["down"])
    if got["slow"] != 403 or got["down"] != 403:
        timed_out = "did not return within" in slow_error
        fail(
            expected="a refusal from your function (403) in both cases, within its 3 s",
            found=f"server slow: {_said(got['slow'])}{slow_error}; server down: "
            f"{_said(got['down'])}{down_error}",
            fix="give the introspection call a timeout well under 3 s (say 1.5 s) so your "
            "function can still answer"
            if timed_out
            else "catch every failure of the check and answer a refusal: an authorizer that "
            "cannot ask must say no (and never yes)",
            docs=f"{CHAPTER}#timeouts-and-failing-closed",
        )


# ---------------------------------------------------------------- task 3: api.json


@pytest.fixture(scope="module")
def api(lab_dir: Path) -> ApiSettings:
    try:
        return load_api(lab_dir / API)
    except GraderError as exc:
        _input_failure(API, exc, "a CreateApi and a CreateAuthorizer request", 3)


@pytest.fixture(scope="module")
def reference_authorizer(stage: Stage) -> Any:
    """A correct authorizer (the engine's), so task 3 judges the settings alone."""
    from grader.aws.fapi.authorizers import certificate_bound_authorizer
    from grader.aws.fapi.pki import AUTHORIZER_CLIENT

    return certificate_bound_authorizer(
        stage.env["INTROSPECTION_URL"],
        stage.pki.server_truststore_pem,
        stage.pki.clients[AUTHORIZER_CLIENT],
    )


def _settings_gateway(stage: Stage, api: ApiSettings, authorizer: Any, **extra: Any) -> ApiGateway:
    """The gateway with the learner's authorizer settings and a correct authorizer."""
    return _gateway(
        stage,
        authorizer,
        payload_version=api.authorizer.payload_version,
        simple_responses=None,  # the reference answers in its own shape
        identity_sources=api.authorizer.identity_sources,
        **extra,
    )


@pytest.mark.check(task=3, points=1, gate="task")
def test_the_api_and_its_authorizer_deploy(api: ApiSettings, aws) -> None:
    """api.json is a CreateApi request for an HTTP API and a CreateAuthorizer request for a
    REQUEST (Lambda) authorizer, and both deploy to the sandbox."""
    client = aws.client("apigatewayv2")
    try:
        api_id = client.create_api(**api.request)["ApiId"]
        client.create_authorizer(ApiId=api_id, **api.authorizer_request)
    except Exception as exc:  # botocore's ClientError or ParamValidationError
        fail(
            expected="the API and its authorizer to deploy",
            found=f"{type(exc).__name__}: {exc}",
            fix="fix what the API names",
            docs=f"{DOCS}#task-3",
        )


@pytest.mark.check(task=3, points=2)
def test_the_default_endpoint_cannot_bypass_mtls(
    api: ApiSettings, stage: Stage, cast: Roles, reference_authorizer: Any
) -> None:
    """A request to the default execute-api endpoint, which never asks for a client
    certificate, is turned away before any authorizer runs: the endpoint is disabled."""
    token = stage.token(cast.victim)
    with _settings_gateway(
        stage,
        api,
        reference_authorizer,
        disable_execute_api_endpoint=api.disable_execute_api_endpoint,
    ) as gw:
        got = call_api(stage, gw.default_url, None, token)
        reached = [call.authorizer for call in gw.calls if call.endpoint == "default"]
    if got != 403 or reached != ["skipped"]:
        fail(
            expected="the default endpoint to answer 403 without running the authorizer",
            found=f"a request with a token and no certificate at all reached your authorizer "
            f"there ({_said(got)}): the only thing between it and the API is the function",
            fix="mutual TLS is a property of the custom domain only; clients of "
            "https://API_ID.execute-api.REGION.amazonaws.com never show a certificate. Set "
            '"DisableExecuteApiEndpoint": true in Api',
            docs=f"{CHAPTER}#the-default-endpoint",
        )


@pytest.mark.check(task=3, points=2)
def test_caching_cannot_hand_a_thief_the_owners_answer(
    api: ApiSettings, stage: Stage, cast: Roles, reference_authorizer: Any
) -> None:
    """With your authorizer settings (identity sources, result TTL) and a correct authorizer,
    the owner's call followed at once by a thief's with the same token: the thief is refused."""
    settings = api.authorizer
    token = stage.token(cast.victim)
    with _settings_gateway(stage, api, reference_authorizer, result_ttl=settings.result_ttl) as gw:
        owner = call_api(stage, gw.url, cast.victim, token)
        thief = call_api(stage, gw.url, cast.thief, token)
        how = gw.calls[-1].authorizer if gw.calls else "?"
    if owner != 200 or thief != 403:
        fail(
            expected=f"{cast.victim} 200, then {cast.thief} with the same token 403",
            found=f"{cast.victim}: {_said(owner)}; {cast.thief}: {_said(thief)} (the "
            f"authorizer's answer was {how} for the thief; identity sources "
            f"{json.dumps(list(settings.identity_sources))}, TTL {settings.result_ttl} s)",
            fix="an answer is cached under the identity sources' values: with the token "
            "alone as the key, the thief's request finds the owner's Allow. Turn caching off "
            "(AuthorizerResultTtlInSeconds 0) or make the certificate part of the key",
            docs=f"{CHAPTER}#caching-the-authorizers-answer",
        )
