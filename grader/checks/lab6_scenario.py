"""lab6's hidden inputs and its stage: a fresh PKI, the authorization server, calls over TLS.

Every run makes a new PKI (new keys, certificates dated around now), so no thumbprint, token
or certificate can be written into an answer. The CA certificates the learner assembles the
truststore from (labs/lab6/data/certs/) stand for their fresh twins: the truststore the
gateway gets holds the twin of each shipped CA the learner chose, and any other certificate
as it is. The seed picks the victim and the thief among the two apps, and the paths called.
"""

from __future__ import annotations

import http.client
import random
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from grader.aws.fapi.authserver import AuthorizationServer, client_flow
from grader.aws.fapi.pki import (
    AUTHORIZER_CLIENT,
    CLIENT_APPS,
    Credential,
    Pki,
    client_context,
    load_certificate,
    make_pki,
    truststore_pem,
)

REGION = "ap-northeast-1"
ACCOUNT = "123456789012"
DOMAIN = "api.shop.example"
TRUSTSTORE_BUCKET = "shop-example-truststore"
TRUSTSTORE_KEY = "api/truststore.pem"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:shop-api-authorizer"
# The authorizer function's timeout (data/README.md): the jail's wall limit for each call.
FUNCTION_TIMEOUT = 3.0
# How slow the authorization server is in the "slow server" scenario: longer than the
# function's whole timeout, so only an authorizer that gives up in time can answer.
SLOW_SERVER_DELAY = FUNCTION_TIMEOUT + 2.0
# The shipped CAs (labs/lab6/data/certs/) and which CA of the fresh PKI each stands for.
SHIPPED_CAS = {
    "shop-client-ca.pem": "client_ca",
    "shop-server-ca.pem": "server_ca",
    "partner-test-ca.pem": "rogue_ca",
}
TRUSTED_CA = "shop-client-ca.pem"  # the one CA that issues the clients the API accepts
PATHS = ("/accounts", "/accounts/1234-5678/balances", "/accounts/1234-5678/transactions")
# What the function's second argument holds (Lambda's context, as JSON data).
CONTEXT = {
    "functionName": "shop-api-authorizer",
    "invokedFunctionArn": FUNCTION_ARN,
    "memoryLimitInMB": 128,
    "timeoutSeconds": FUNCTION_TIMEOUT,
}
REFUSED = "handshake refused"
_SHA256 = hashes.SHA256()


@dataclass(frozen=True)
class Roles:
    """Who plays whom in this run."""

    victim: str  # the app whose token is stolen
    thief: str  # the other legitimate app, presenting the stolen token
    paths: tuple[str, ...]


def roles(seed: int) -> Roles:
    rng = random.Random(f"lab6:{seed}")
    victim, thief = rng.sample(CLIENT_APPS, 2)
    return Roles(victim, thief, tuple(rng.sample(PATHS, len(PATHS))))


def shipped_twins(certs_dir: Path, pki: Pki) -> dict[str, Credential]:
    """Each shipped CA's fingerprint (SHA-256 of its DER, hex) -> its fresh twin."""
    twins = {}
    for name, attribute in SHIPPED_CAS.items():
        cert = load_certificate((certs_dir / name).read_bytes(), name)
        twins[cert.fingerprint(_SHA256).hex()] = getattr(pki, attribute)
    return twins


def shipped_names(certs_dir: Path) -> dict[str, str]:
    """Each shipped CA's fingerprint -> its file name."""
    return {
        load_certificate((certs_dir / name).read_bytes(), name).fingerprint(_SHA256).hex(): name
        for name in SHIPPED_CAS
    }


def run_truststore(learner: list[x509.Certificate], twins: dict[str, Credential]) -> bytes:
    """The truststore the gateway gets for this run: the twin of each shipped CA chosen,
    any other certificate unchanged."""
    chosen: list[Credential | x509.Certificate] = []
    for cert in learner:
        twin = twins.get(cert.fingerprint(_SHA256).hex())
        chosen.append(twin if twin is not None else cert)
    return truststore_pem(*chosen)


@dataclass
class Stage:
    """The run's PKI, its authorization server and the files the authorizer is given."""

    pki: Pki
    server: AuthorizationServer
    folder: Path
    env: dict[str, str] = field(default_factory=dict)

    def token(self, app: str) -> str:
        """A token for ``app`` by the real flow (PKCE, mTLS at the token endpoint)."""
        return client_flow(self.server, self.pki.clients[app], self.pki)["access_token"]


def open_stage() -> Stage:
    """A fresh PKI and a running authorization server (stop it with ``close_stage``)."""
    pki = make_pki()
    clients = {name: pki.clients[name].cert for name in (*CLIENT_APPS, AUTHORIZER_CLIENT)}
    server = AuthorizationServer(pki, clients=clients).start()
    folder = Path(tempfile.mkdtemp(prefix="grader-lab6-"))
    cert, key = pki.clients[AUTHORIZER_CLIENT].write(folder)
    ca = folder / "auth-server-ca.pem"
    ca.write_bytes(pki.server_truststore_pem)
    env = {
        "INTROSPECTION_URL": f"{server.url}/introspect",
        "AUTHORIZER_CERT_FILE": str(cert),
        "AUTHORIZER_KEY_FILE": str(key),
        "AUTH_SERVER_CA_FILE": str(ca),
    }
    return Stage(pki, server, folder, env)


def close_stage(stage: Stage) -> None:
    import shutil

    stage.server.stop()
    shutil.rmtree(stage.folder, ignore_errors=True)


def call_api(
    stage: Stage,
    url: str,
    app: str | Credential | None,
    token: str | None,
    path: str = PATHS[0],
) -> int | str:
    """One GET over TLS 1.2+ as ``app`` (a client's name or a credential; None: no
    certificate): the status, or REFUSED when the handshake fails (TLS 1.3 may only tell
    the client on its first read)."""
    credential = stage.pki.clients[app] if isinstance(app, str) else app
    context = client_context(stage.pki.server_truststore_pem, credential)
    host, port = url.removeprefix("https://").rsplit(":", 1)
    conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=10)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        conn.request("GET", path, headers=headers)
        return conn.getresponse().status
    except (ssl.SSLError, ConnectionError):
        return REFUSED
    finally:
        conn.close()
