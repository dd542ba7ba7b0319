"""``grader fapi thumbprint`` and ``grader fapi serve``: the FAPI engine as tools.

``thumbprint`` prints a certificate's RFC 8705 ``x5t#S256``, the value a certificate-bound
token carries in ``cnf``, so a learner can compare it with what an introspection endpoint or
an authorizer event says. ``serve`` runs the whole stack (authorization server, mTLS API
gateway, authorizer) on 127.0.0.1 until Ctrl-C and prints the ``curl`` commands that walk the
flow by hand, then each decision as it happens.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from grader.errors import ExitCode

STDIN = "-"
_CERT_BEGIN = re.compile(rb"-----BEGIN (X509 )?CERTIFICATE-----")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "fapi",
        help="the FAPI engine: mTLS and certificate-bound tokens, offline",
        description="Use the FAPI engine directly: certificate thumbprints (RFC 8705), offline.",
    )
    fapi = p.add_subparsers(dest="fapi_command", metavar="FAPI_COMMAND", required=True)

    t = fapi.add_parser(
        "thumbprint",
        help="a certificate's x5t#S256 (RFC 8705)",
        description="Print a certificate's x5t#S256 as RFC 8705 defines it: base64url "
        "without padding of the SHA-256 of its DER encoding, the value a certificate-bound "
        "token holds in cnf. Reads PEM (LF or CRLF line ends, with or without the text "
        "'openssl x509 -text' prints before it; the first certificate of several) or DER.",
    )
    t.add_argument(
        "cert", metavar="CERT", help=f"the certificate file (PEM or DER; {STDIN} reads stdin)"
    )
    t.add_argument(
        "--json",
        action="store_true",
        help="print the thumbprint with the certificate's subject, issuer and dates as JSON",
    )
    t.set_defaults(run=cmd_thumbprint)

    _register_serve(fapi)


def cmd_thumbprint(args: argparse.Namespace) -> int:
    from grader.aws.fapi.pki import load_certificate, read_certificate, thumbprint

    if args.cert == STDIN:
        data = sys.stdin.buffer.read()
        cert, name = load_certificate(data, "<stdin>"), "<stdin>"
    else:
        path = Path(args.cert)
        cert, name = read_certificate(path), str(path)
        data = path.read_bytes()
    count = len(_CERT_BEGIN.findall(data))
    value = thumbprint(cert)
    if args.json:
        answer = {
            "file": name,
            "x5t#S256": value,
            "subject": cert.subject.rfc4514_string(),
            "issuer": cert.issuer.rfc4514_string(),
            "serialNumber": format(cert.serial_number, "x"),
            "notBefore": cert.not_valid_before_utc.isoformat(),
            "notAfter": cert.not_valid_after_utc.isoformat(),
            "certificatesInFile": max(count, 1),
        }
        print(json.dumps(answer, indent=2))
        return ExitCode.OK
    if count > 1:
        # A truststore or a chain: say which certificate the thumbprint is of.
        print(
            f"grader: warning: {name} holds {count} certificates; this is the thumbprint of "
            f"the first ({cert.subject.rfc4514_string()})",
            file=sys.stderr,
        )
    print(value)
    return ExitCode.OK


# --- grader fapi serve ----------------------------------------------------------------------

# The learner's authorizer: the function Lambda calls, how long one call may take, and how
# long one warm process may live (a serve session lasts as long as the person wants).
HANDLER = "handler"
AUTHORIZER_TIMEOUT = 5.0
WORKER_LIFETIME = 24 * 3600.0
# The gateway's own deadline for the authorizer: the jailed call's, plus time to restart it.
GATEWAY_AUTHORIZER_TIMEOUT = AUTHORIZER_TIMEOUT + 5.0
POLL_SECONDS = 0.1
# The subfolder of the credentials folder that holds what the authorizer needs, and nothing
# else: a learner's authorizer may read it, never the apps' private keys beside it.
AUTHORIZER_FOLDER = "authorizer"
CA_FILE = "ca.pem"
# The credentials a person walks the flow with (written as NAME.pem and NAME.key).
WALK_CREDENTIALS = ("app-one", "app-two", "attacker", "expired")
API_PATH = "/accounts"


def _register_serve(fapi: Any) -> None:
    s = fapi.add_parser(
        "serve",
        help="the whole FAPI stack on 127.0.0.1, to walk the flow by hand with curl",
        description="Run an OAuth 2.0 authorization server issuing certificate-bound tokens "
        "(PKCE, tls_client_auth, introspection) and an API behind mutual TLS with a Lambda "
        "authorizer, on 127.0.0.1 with a fresh throwaway PKI, until Ctrl-C. Prints the curl "
        "commands that walk the flow by hand (authorization request, token request with "
        "app-one's certificate, API call, the same token with app-two's certificate, an "
        "untrusted certificate), then each request and decision as it happens.",
    )
    s.add_argument(
        "--authorizer",
        metavar="FILE",
        type=Path,
        help="your Lambda authorizer (a Python file with handler(event, context)), run in "
        "the jail with INTROSPECTION_URL, AUTHORIZER_CERT_FILE, AUTHORIZER_KEY_FILE and "
        "AUTH_SERVER_CA_FILE set; default: the built-in one, which checks the binding",
    )
    s.add_argument(
        "--payload-version",
        choices=("1.0", "2.0"),
        default="2.0",
        help="the authorizer event's payload format version (default: 2.0)",
    )
    s.add_argument(
        "--token-format",
        choices=("jwt", "opaque"),
        default="jwt",
        help="access tokens as signed JWTs or opaque strings (default: jwt)",
    )
    s.add_argument(
        "--credentials",
        metavar="DIR",
        type=Path,
        help="write the certificates and keys for curl here and keep them "
        "(default: a private temporary folder, removed on exit)",
    )
    s.set_defaults(run=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    if args.authorizer is not None:
        _check_authorizer_file(args.authorizer)
    log = _Log()
    with _ctrl_c_stops():
        stack = contextlib.ExitStack()
        follower = None
        try:
            follower = _Follower(*_start(args, stack, log), log)
            while True:
                time.sleep(POLL_SECONDS)
                follower.show_new()
        except KeyboardInterrupt:
            if follower is None:
                raise  # interrupted while starting: exit 130, as any command
            log.show(["Stopping..."])
        finally:
            with _signals_ignored():  # a second Ctrl-C must not leave a server or keys behind
                stack.close()
    follower.show_new()  # what was answered in the last moments, before the servers closed
    gone = "kept" if args.credentials is not None else "removed"
    log.show([f"Stopped: both servers are closed; the credentials folder is {gone}."])
    return ExitCode.OK


def _start(
    args: argparse.Namespace, stack: contextlib.ExitStack, log: _Log
) -> tuple[Any, Any, dict[str, str]]:
    """Make the PKI, write the credentials, start both servers (each closed by ``stack``)
    and print the banner and the walk: (authorization server, gateway, names by thumbprint)."""
    import shutil
    import tempfile

    from grader.aws.fapi.authserver import AuthorizationServer
    from grader.aws.fapi.gateway import ApiGateway
    from grader.aws.fapi.pki import AUTHORIZER_CLIENT, CLIENT_APPS, make_pki

    if args.credentials is None:
        folder = Path(tempfile.mkdtemp(prefix="grader-fapi-"))  # mode 0700
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
    else:
        folder = _credentials_folder(args.credentials)
    pki = make_pki()
    _write_credentials(pki, folder)
    registered = (*CLIENT_APPS, AUTHORIZER_CLIENT)
    server = stack.enter_context(
        AuthorizationServer(
            pki,
            clients={name: pki.clients[name].cert for name in registered},
            token_format=args.token_format,
        )
    )
    if args.authorizer is None:
        authorizer = _builtin_authorizer(server.url, pki, log)
    else:
        authorizer = stack.enter_context(
            _JailedAuthorizer(args.authorizer, folder / AUTHORIZER_FOLDER, server.url, log)
        )
    gateway = stack.enter_context(
        ApiGateway(
            pki,
            truststore_pem=pki.client_truststore_pem,
            authorizer=authorizer,
            payload_version=args.payload_version,
            disable_execute_api_endpoint=True,
            authorizer_timeout=GATEWAY_AUTHORIZER_TIMEOUT,
        )
    )
    log.show(
        _banner(args, server.url, gateway, folder) + walkthrough(folder, server.url, gateway.url)
    )
    names = {credential.thumbprint: name for name, credential in pki.clients.items()}
    return server, gateway, names


class _Log:
    """What serve prints, whole lines at once. Notes from the authorizer (which runs in the
    gateway's threads) wait in ``pending`` so that :class:`_Follower` prints them in order,
    between the introspection they made and the gateway's decision."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[str] = []

    def show(self, lines: list[str]) -> None:
        with self._lock:
            print("\n".join(lines), flush=True)

    def note(self, text: str) -> None:
        with self._lock:
            self._pending.append(text)

    def pending(self) -> list[str]:
        with self._lock:
            notes, self._pending = self._pending, []
        return [f"{_now()}  {note}" for note in notes]


def _credentials_folder(folder: Path) -> Path:
    from grader.errors import UsageError

    if folder.exists() and not folder.is_dir():
        raise UsageError("--credentials: this is a file, not a folder", file=folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"--credentials: cannot make the folder ({exc.strerror or exc})", file=folder
        ) from None
    return folder.resolve()


def _write_credentials(pki: Any, folder: Path) -> None:
    """The server CA bundle and the walk's certificates and keys; the authorizer's own
    credential and the CA bundle again in its subfolder (the one its jail may read)."""
    from grader.aws.fapi.pki import AUTHORIZER_CLIENT

    (folder / CA_FILE).write_bytes(pki.server_truststore_pem)
    for name in WALK_CREDENTIALS:
        pki.clients[name].write(folder)
    own = folder / AUTHORIZER_FOLDER
    pki.clients[AUTHORIZER_CLIENT].write(own)
    (own / CA_FILE).write_bytes(pki.server_truststore_pem)


def _authorizer_env(folder: Path, server_url: str) -> dict[str, str]:
    """What a Lambda authorizer is configured with (lab 6 uses the same contract)."""
    from grader.aws.fapi.pki import AUTHORIZER_CLIENT

    return {
        "INTROSPECTION_URL": f"{server_url}/introspect",
        "AUTHORIZER_CERT_FILE": str(folder / f"{AUTHORIZER_CLIENT}.pem"),
        "AUTHORIZER_KEY_FILE": str(folder / f"{AUTHORIZER_CLIENT}.key"),
        "AUTH_SERVER_CA_FILE": str(folder / CA_FILE),
    }


def _builtin_authorizer(server_url: str, pki: Any, log: _Log) -> Any:
    from grader.aws.fapi.authorizers import certificate_bound_authorizer
    from grader.aws.fapi.pki import AUTHORIZER_CLIENT

    return certificate_bound_authorizer(
        f"{server_url}/introspect",
        pki.server_truststore_pem,
        pki.clients[AUTHORIZER_CLIENT],
        on_refusal=lambda why: log.note(f"authorizer refused: {why}"),
    )


def _check_authorizer_file(path: Path) -> None:
    """A missing file is reported before anything starts; what the file holds is judged by
    loading it in the jail (:meth:`_JailedAuthorizer.__enter__`)."""
    from grader.errors import UsageError

    if not path.is_file():
        why = "this is a folder, not a Python file" if path.is_dir() else "no such file"
        raise UsageError(f"--authorizer: {why}", file=path)


class _JailedAuthorizer:
    """The learner's ``handler(event, context)``, warm in one jailed process, as the
    gateway's authorizer (the worker serves one call at a time, as one warm Lambda
    environment does). A handler that raises or times out is a 500 for that request and a
    line in the log; a call past its deadline costs a cold start, never the server."""

    def __init__(self, path: Path, folder: Path, server_url: str, log: _Log) -> None:
        from grader.grading.learner import LearnerCodeError
        from grader.grading.learner_worker import LearnerWorker

        self._error = LearnerCodeError
        self._log = log
        port = int(server_url.rsplit(":", 1)[1])
        self._worker = LearnerWorker(
            path,
            HANDLER,
            env=_authorizer_env(folder, server_url),
            readable=[folder],
            reach=[port],
            lifetime=WORKER_LIFETIME,
        )

    def __enter__(self) -> _JailedAuthorizer:
        """Load the file in the jail now: a syntax error, an import that fails or no
        ``handler`` is an input error at start-up, not a 500 on the first request."""
        from grader.errors import UsageError

        try:
            self._printed(self._worker.start(timeout=AUTHORIZER_TIMEOUT).output)
        except self._error as exc:
            self._worker.close()
            raise UsageError(f"{exc} (--authorizer)") from None
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._worker.close()

    def __call__(self, event: dict[str, Any]) -> Any:
        context = {
            "functionName": "authorizer",
            "awsRequestId": str(uuid.uuid4()),
            "timeoutSeconds": AUTHORIZER_TIMEOUT,
        }
        try:
            result = self._worker.call(event, context, timeout=AUTHORIZER_TIMEOUT)
        except self._error as exc:
            self._printed(exc.output)
            self._log.note(f"authorizer error: {exc}")
            raise
        self._printed(result.output)
        return result.value

    def _printed(self, output: str) -> None:
        for line in output.splitlines():
            self._log.note(f"authorizer printed: {line}")


def _banner(args: argparse.Namespace, server_url: str, gateway: Any, folder: Path) -> list[str]:
    if args.authorizer is None:
        who = (
            "built-in: introspects the token over mTLS as api-authorizer and compares its "
            "cnf x5t#S256 with the call's certificate"
        )
    else:
        who = f"{args.authorizer}: your handler(event, context), in the jail"
    if args.credentials is not None:
        where = "kept after exit"
    else:
        where = "a private temporary folder, removed on exit"
    return [
        "grader fapi serve: the FAPI stack on 127.0.0.1, until Ctrl-C",
        "",
        f"  authorization server   {server_url}",
        f"  metadata               {server_url}/.well-known/oauth-authorization-server",
        f"  API (mTLS domain)      {gateway.url}",
        f"  API default endpoint   {gateway.default_url}   (disabled: answers 403)",
        f"  authorizer             {who}",
        f"  payload version        {args.payload_version}",
        f"  token format           {args.token_format}",
        f"  credentials            {folder}   ({where})",
        "",
    ]


def walkthrough(folder: Path, server_url: str, api_url: str) -> list[str]:
    """The flow by hand, as lines to print: prose, then the commands of each step indented
    by four spaces (continuation lines by eight). Each command talks to 127.0.0.1 only."""
    import shlex
    from urllib.parse import quote, urlencode

    from grader.aws.fapi.authserver import CODE_LIFETIME, default_redirect_uri, new_pkce_pair

    verifier, challenge = new_pkce_pair()
    redirect_uri = default_redirect_uri("app-one")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": "app-one",
            "redirect_uri": redirect_uri,
            "state": "walk-by-hand",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        quote_via=quote,
    )
    ca = f'--cacert "$CREDS/{CA_FILE}"'

    def mtls(name: str) -> str:
        return f'--cert "$CREDS/{name}.pem" --key "$CREDS/{name}.key" {ca}'

    def api_call(name: str) -> list[str]:
        return [
            f"    curl -sS -w '\\nHTTP %{{http_code}}\\n' {mtls(name)} \\",
            f'        -H "Authorization: Bearer $TOKEN" "$API{API_PATH}"',
        ]

    own = f"$CREDS/{AUTHORIZER_FOLDER}/api-authorizer"
    return [
        "Walk the flow by hand: paste the indented lines into a shell (bash or zsh), in order.",
        "They talk to 127.0.0.1 only.",
        "",
        f"    CREDS={shlex.quote(str(folder))}; AUTH={server_url}; API={api_url}",
        "",
        "Step 1. The authorization request, as the user's browser sends it for app-one (no",
        "client certificate), with a PKCE challenge made for this walk:",
        f"  code_verifier  = {verifier}",
        f"  code_challenge = BASE64URL(SHA-256(code_verifier)) = {challenge}",
        "The user (alice) consents at once: the answer is a 302 to app-one's redirect URI,",
        "with the code in it.",
        f"    LOCATION=$(curl -sS -o /dev/null -w '%{{redirect_url}}' {ca} \\",
        f'        "$AUTH/authorize?{query}") && echo "$LOCATION"',
        "    CODE=$(echo \"$LOCATION\" | sed -e 's/.*[?&]code=//' -e 's/&.*//')",
        "",
        f"Step 2. The token request, within {CODE_LIFETIME} s of step 1, over mutual TLS with "
        "app-one's",
        "certificate (tls_client_auth) and the PKCE verifier. The token is bound to that",
        "certificate: its cnf x5t#S256 is the certificate's thumbprint.",
        f"    ANSWER=$(curl -sS {mtls('app-one')} \\",
        '        -d grant_type=authorization_code -d client_id=app-one -d "code=$CODE" \\',
        f"        --data-urlencode redirect_uri={redirect_uri} -d code_verifier={verifier} \\",
        '        "$AUTH/token") && echo "$ANSWER"',
        '    TOKEN=$(echo "$ANSWER" | sed -e \'s/.*"access_token": *"//\' -e \'s/".*//\')',
        "",
        "Step 3. The API call with the token and app-one's certificate: 200.",
        *api_call("app-one"),
        "",
        "Step 4. The same token with app-two's certificate, as a thief who stole it would",
        "send it: 403 (the authorizer compares the binding with the certificate of the call).",
        *api_call("app-two"),
        "",
        "Step 5. A certificate the API's truststore does not vouch for (the attacker's, from",
        "a rogue CA), then one whose dates have passed: the TLS handshake is refused, and no",
        "HTTP request is ever made (curl reports a TLS error, HTTP 000).",
        *api_call("attacker"),
        *api_call("expired"),
        "",
        "The binding: the thumbprint of app-one's certificate...",
        '    grader fapi thumbprint "$CREDS/app-one.pem"',
        "...is the token's cnf x5t#S256, as introspection tells the authorizer:",
        f'    curl -sS --cert "{own}.pem" --key "{own}.key" {ca} \\',
        '        -d "token=$TOKEN" "$AUTH/introspect"; echo',
        "",
        "Requests and decisions follow as they happen (Ctrl-C stops the servers):",
    ]


class _Follower:
    """Prints each request of both servers once, in the order a walk makes them: the
    authorization server's (the introspection an authorizer made), the authorizer's notes,
    the gateway's decisions, the handshakes it refused."""

    def __init__(self, server: Any, gateway: Any, names: dict[str, str], log: _Log) -> None:
        self.server, self.gateway, self.names, self.log = server, gateway, names, log
        self.seen_auth = self.seen_calls = self.seen_refused = 0

    def show_new(self) -> None:
        lines = []
        for request in self.server.requests[self.seen_auth :]:
            self.seen_auth += 1
            who = _cert(request.client_thumbprint, self.names)
            lines.append(
                f"{_now()}  auth  {request.method} {request.path}  {who}  {request.status}"
            )
        lines.extend(self.log.pending())
        for call in self.gateway.calls[self.seen_calls :]:
            self.seen_calls += 1
            lines.append(
                f"{_now()}  api   {call.endpoint}  {call.method} {call.path}  "
                f"{_cert(call.thumbprint, self.names)}  authorizer {call.authorizer}  "
                f"-> {call.status} {call.reason}"
            )
        for endpoint, why in self.gateway.refused_handshakes[self.seen_refused :]:
            self.seen_refused += 1
            lines.append(f"{_now()}  api   {endpoint}  handshake refused: {_tls_reason(why)}")
        if lines:
            self.log.show(lines)


def _cert(thumb: str | None, names: dict[str, str]) -> str:
    if thumb is None:
        return "no certificate"
    name = names.get(thumb)
    return f"cert {thumb[:8]}..." + (f" ({name})" if name else "")


def _tls_reason(why: str) -> str:
    """OpenSSL's reason without the source location (``(_ssl.c:1000)``)."""
    return re.sub(r"\s*\(_ssl\.c:\d+\)$", "", why)


def _now() -> str:
    return time.strftime("%H:%M:%S")


@contextlib.contextmanager
def _ctrl_c_stops() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt even where the shell started us with SIGINT ignored
    (``grader fapi serve &`` in a script): serve runs until it is told to stop."""
    try:
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    """Ctrl-C and SIGTERM ignored inside the block (in the main thread; elsewhere no-op)."""
    wanted = (signal.SIGINT, signal.SIGTERM)
    try:
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in wanted}
    except ValueError:  # not the main thread: signals are not ours to change
        yield
        return
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
