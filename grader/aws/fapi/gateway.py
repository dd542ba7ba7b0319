"""An API-Gateway-like front on loopback: mTLS custom domain, Lambda authorizer, caching.

It behaves as an HTTP API with a Lambda authorizer behind a custom domain with mutual TLS:

- the custom domain (``.url``) requires a client certificate that chains to the
  truststore and is within its dates, over TLS 1.2 or later; otherwise the handshake fails
  and no request is ever read (API Gateway's mTLS);
- the default ``execute-api`` endpoint (``.default_url``) is plain HTTPS, without client
  certificates: it reaches the same authorizer with no certificate in the event, which is
  why it must be disabled; disabled, it still accepts connections and answers 403
  (API Gateway guide, "Disable the default endpoint");
- a request missing an identity source gets 401 without calling the authorizer; the
  authorizer gets ``authorizer_timeout`` seconds, and a timeout, an exception or a
  malformed answer is a 500: the gateway fails closed;
- the answer is enforced: a simple response (``isAuthorized``, payload 2.0) or an IAM
  policy allowing ``execute-api:Invoke`` on the route's ARN, wildcards matched as IAM does
  and an explicit Deny winning;
- answers are cached by the identity sources' values for ``result_ttl`` seconds: a cached
  answer serves any request with the same values, whatever its certificate, unless a
  certificate variable (``$context.identity.clientCert.clientCertPem``) is a source too.

The authorizer is any callable ``(event) -> dict``; the grading layer passes one that runs
learner code in its jail. It runs in a daemon thread, so a hung authorizer costs the request
its deadline but never blocks the server (the jail's own wall limit ends the work itself).
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509

from grader.aws.iam.arns import arn_matches
from grader.aws.iam.wildcards import wildcard_match

from .events import (
    HTTP_V1,
    HTTP_V2,
    Request,
    authorizer_event,
    check_identity_sources,
    context_variables,
    execute_api_arn,
    identity_values,
)
from .pki import Pki, load_certificates, server_context, thumbprint

Authorizer = Callable[[dict[str, Any]], Any]
Backend = Callable[[dict[str, Any]], tuple[int, Any]]

# API Gateway's default gateway responses for HTTP APIs (status, body).
UNAUTHORIZED = (401, {"message": "Unauthorized"})
FORBIDDEN = (403, {"message": "Forbidden"})
INTERNAL_ERROR = (500, {"message": "Internal Server Error"})

INVOKE_ACTION = "execute-api:Invoke"
# Policy elements the gateway does not evaluate: a statement using one fails closed (500)
# rather than being read as something it does not say.
_UNSUPPORTED = ("NotAction", "NotResource", "Condition", "NotPrincipal", "Principal")
HANDSHAKE_TIMEOUT = 5.0  # seconds a client gets to finish the TLS handshake
CLOSE_GRACE = 1.0  # seconds ``close`` waits for requests under way (an idle keep-alive too)


class MalformedAnswer(Exception):
    """The authorizer's answer is not one API Gateway accepts (it answers 500)."""


@dataclass(frozen=True)
class Verdict:
    """The enforced answer: allowed or not, and what reaches the backend."""

    allowed: bool
    context: dict[str, Any] = field(default_factory=dict)
    principal_id: str | None = None


@dataclass(frozen=True)
class Call:
    """One request the gateway answered: where, with which certificate, what it decided."""

    endpoint: str  # "custom" (mTLS) or "default" (execute-api)
    method: str
    path: str
    thumbprint: str | None  # x5t#S256 of the client certificate, None without one
    authorizer: str  # "invoked", "cached" or "skipped"
    status: int
    reason: str


# --- the authorizer's answer --------------------------------------------------------------


def _strings(value: Any, element: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    raise MalformedAnswer(f"{element} must be a string or a list of strings")


def policy_allows(document: Any, arn: str) -> bool:
    """Whether an IAM policy document allows ``execute-api:Invoke`` on ``arn``: a matching
    Deny wins, then a matching Allow, else no (IAM's evaluation logic). Actions compare
    without case, ARNs with it, ``*`` and ``?`` as IAM globs."""
    if not isinstance(document, Mapping) or "Statement" not in document:
        raise MalformedAnswer("policyDocument must be an object with a Statement")
    statements = document["Statement"]
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise MalformedAnswer("Statement must be an object or a non-empty list")
    allowed = False
    for statement in statements:
        if not isinstance(statement, Mapping):
            raise MalformedAnswer("each Statement must be an object")
        unsupported = [key for key in _UNSUPPORTED if key in statement]
        if unsupported:
            raise MalformedAnswer(f"unsupported policy element {unsupported[0]}")
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise MalformedAnswer('Effect must be "Allow" or "Deny"')
        actions = _strings(statement.get("Action"), "Action")
        resources = _strings(statement.get("Resource"), "Resource")
        if not any(wildcard_match(a, INVOKE_ACTION, ignore_case=True) for a in actions):
            continue
        if not any(r == "*" or arn_matches(r, arn) for r in resources):
            continue
        if effect == "Deny":
            return False
        allowed = True
    return allowed


def _context(answer: Mapping[str, Any]) -> dict[str, Any]:
    context = answer.get("context", {})
    if context is None:
        return {}
    if not isinstance(context, Mapping):
        raise MalformedAnswer("context must be an object")
    return dict(context)


def enforce(
    answer: Any, *, payload_version: str, arn: str, simple_responses: bool | None = None
) -> Verdict:
    """Read the authorizer's answer as API Gateway does, or raise :class:`MalformedAnswer`.

    Payload 2.0 takes a simple response (``isAuthorized``, a boolean) when the authorizer
    has EnableSimpleResponses, else an IAM policy (``None``: either, for a gateway not told
    which); payload 1.0 an IAM policy only (with a ``principalId``)."""
    if not isinstance(answer, Mapping):
        raise MalformedAnswer("the answer must be a JSON object")
    if payload_version == HTTP_V2 and simple_responses and "isAuthorized" not in answer:
        raise MalformedAnswer("simple responses are on, and the answer has no isAuthorized")
    simple = simple_responses is not False
    if payload_version == HTTP_V2 and simple and "isAuthorized" in answer:
        if not isinstance(answer["isAuthorized"], bool):
            raise MalformedAnswer("isAuthorized must be a boolean")
        return Verdict(answer["isAuthorized"], _context(answer))
    if "policyDocument" not in answer:
        wanted = (
            "isAuthorized nor policyDocument"
            if payload_version == HTTP_V2 and simple
            else "policyDocument"
        )
        raise MalformedAnswer(f"the answer has no {wanted}")
    principal = answer.get("principalId")
    if payload_version == HTTP_V1 and not isinstance(principal, str):
        raise MalformedAnswer("principalId must be a string")
    allowed = policy_allows(answer["policyDocument"], arn)
    return Verdict(allowed, _context(answer), principal if isinstance(principal, str) else None)


def call_with_deadline(authorizer: Authorizer, event: dict[str, Any], timeout: float) -> Any:
    """Run ``authorizer(event)`` in a daemon thread; raise TimeoutError past ``timeout``
    seconds and re-raise what it raised."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["answer"] = authorizer(event)
        except BaseException as exc:  # anything it raises is a 500
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="fapi-authorizer", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"the authorizer did not answer within {timeout} s")
    error = outcome.get("error")
    if isinstance(error, Exception):
        raise error
    if error is not None:  # SystemExit and the like: still the authorizer's failure, a 500
        raise RuntimeError(f"the authorizer raised {type(error).__name__}") from error
    return outcome.get("answer")


def default_backend(info: dict[str, Any]) -> tuple[int, Any]:
    """A small JSON answer that shows what reached the integration."""
    return 200, {
        "ok": True,
        "path": info["path"],
        "principalId": info["principal_id"],
        "context": info["authorizer_context"],
    }


# --- the gateway --------------------------------------------------------------------------


class ApiGateway:
    """Both endpoints of one HTTP API on 127.0.0.1, served while the context is open."""

    def __init__(
        self,
        pki: Pki,
        *,
        truststore_pem: bytes,
        authorizer: Authorizer,
        payload_version: str = HTTP_V2,
        identity_sources: Sequence[str] = ("$request.header.Authorization",),
        result_ttl: float = 0,
        simple_responses: bool | None = None,
        disable_execute_api_endpoint: bool = False,
        authorizer_timeout: float = 10.0,
        backend: Backend | None = None,
        api_id: str = "a1b2c3d4e5",
        stage: str = "$default",
        route_key: str = "$default",
        region: str = "us-east-1",
        account_id: str = "123456789012",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if payload_version not in (HTTP_V1, HTTP_V2):
            raise ValueError(f"payload_version must be 1.0 or 2.0, not {payload_version!r}")
        check_identity_sources(identity_sources)
        load_certificates(truststore_pem)  # a broken truststore is the user's error, early
        self.pki = pki
        self.truststore_pem = truststore_pem
        self.authorizer = authorizer
        self.payload_version = payload_version
        self.identity_sources = tuple(identity_sources)
        self.result_ttl = result_ttl
        self.simple_responses = simple_responses
        self.disable_execute_api_endpoint = disable_execute_api_endpoint
        self.authorizer_timeout = authorizer_timeout
        self.backend = backend or default_backend
        self.api_id, self.stage, self.route_key = api_id, stage, route_key
        self.region, self.account_id = region, account_id
        self.clock = clock
        self.calls: list[Call] = []
        self.refused_handshakes: list[tuple[str, str]] = []  # (endpoint, why)
        self._cache: dict[tuple[str, ...], tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._servers: list[_TlsServer] = []
        self._threads: list[threading.Thread] = []

    # -- lifecycle

    def __enter__(self) -> ApiGateway:
        mtls = server_context(
            self.pki.server, client_cas_pem=self.truststore_pem, require_client_cert=True
        )
        plain = server_context(self.pki.server, client_cas_pem=None, require_client_cert=False)
        try:
            for name, context in (("custom", mtls), ("default", plain)):
                server = _TlsServer(("127.0.0.1", 0), _Handler, context, self, name)
                self._servers.append(server)
                thread = threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": 0.05},
                    name=f"fapi-gateway-{name}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop both endpoints and free their ports."""
        for server in self._servers:
            server.shutdown()
        for server in self._servers:
            server.join_connections(CLOSE_GRACE)
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=2)
        self._servers.clear()
        self._threads.clear()

    @property
    def url(self) -> str:
        """The custom domain (mTLS required)."""
        return f"https://127.0.0.1:{self._servers[0].server_address[1]}"

    @property
    def default_url(self) -> str:
        """The default execute-api endpoint (no client certificate)."""
        return f"https://127.0.0.1:{self._servers[1].server_address[1]}"

    # -- one request

    def handle(self, endpoint: str, request: Request, cert_der: bytes | None) -> tuple[int, Any]:
        """Decide one request; record it in ``calls``; return (status, body)."""
        cert = x509.load_der_x509_certificate(cert_der) if cert_der else None
        cert_print = thumbprint(cert) if cert is not None else None
        status, body, invoked, reason = self._decide(endpoint, request, cert, cert_print)
        call = Call(endpoint, request.method, request.raw_path, cert_print, invoked, status, reason)
        with self._lock:
            self.calls.append(call)
        return status, body

    def _decide(
        self, endpoint: str, request: Request, cert: x509.Certificate | None, cert_print: str | None
    ) -> tuple[int, Any, str, str]:
        if endpoint == "default" and self.disable_execute_api_endpoint:
            return (*FORBIDDEN, "skipped", "default endpoint disabled")
        domain = self._domain_name(endpoint, request)
        context = context_variables(
            request,
            cert,
            api_id=self.api_id,
            stage=self.stage,
            domain_name=domain,
            account_id=self.account_id,
        )
        identity = identity_values(request, self.identity_sources, context=context)
        if identity is None:
            return (*UNAUTHORIZED, "skipped", "identity source missing or empty")
        arn = execute_api_arn(
            region=self.region,
            account_id=self.account_id,
            api_id=self.api_id,
            stage=self.stage,
            method=request.method,
            path=request.raw_path,
            route_key=self.route_key,
        )
        answer, invoked = self._cached(tuple(identity))
        if answer is None:
            invoked = "invoked"
            event = authorizer_event(
                request,
                cert,
                version=self.payload_version,
                api_id=self.api_id,
                stage=self.stage,
                route_key=self.route_key,
                identity=identity,
                region=self.region,
                domain_name=domain,
                account_id=self.account_id,
                path_parameters=self._path_parameters(request),
            )
            try:
                answer = call_with_deadline(self.authorizer, event, self.authorizer_timeout)
            except TimeoutError:
                return (*INTERNAL_ERROR, invoked, "authorizer timed out")
            except Exception as exc:
                return (*INTERNAL_ERROR, invoked, f"authorizer raised {type(exc).__name__}")
        try:
            verdict = enforce(
                answer,
                payload_version=self.payload_version,
                arn=arn,
                simple_responses=self.simple_responses,
            )
        except MalformedAnswer as exc:
            return (*INTERNAL_ERROR, invoked, f"malformed authorizer answer: {exc}")
        if invoked == "invoked":
            self._remember(tuple(identity), answer)
        if not verdict.allowed:
            return (*FORBIDDEN, invoked, "authorizer denied")
        info = {
            "endpoint": endpoint,
            "method": request.method,
            "path": request.raw_path,
            "query": request.raw_query,
            "headers": list(request.headers),
            "body": request.body,
            "thumbprint": cert_print,
            "principal_id": verdict.principal_id,
            "authorizer_context": verdict.context,
        }
        try:
            status, body = self.backend(info)
        except Exception as exc:
            return (*INTERNAL_ERROR, invoked, f"backend raised {type(exc).__name__}")
        return status, body, invoked, "allowed"

    def _domain_name(self, endpoint: str, request: Request) -> str:
        """The custom domain the client asked for, or the execute-api host name."""
        if endpoint == "default":
            return f"{self.api_id}.execute-api.{self.region}.amazonaws.com"
        return request.host.rsplit(":", 1)[0] if request.host.count(":") == 1 else request.host

    def _path_parameters(self, request: Request) -> dict[str, str]:
        """``{proxy}`` for a greedy route such as ``ANY /{proxy+}``."""
        _, _, route_path = self.route_key.partition(" ")
        if not route_path.endswith("/{proxy+}"):
            return {}
        prefix = route_path[: -len("{proxy+}")]
        if request.raw_path.startswith(prefix):
            return {"proxy": request.raw_path[len(prefix) :]}
        return {}

    # -- the authorizer cache: keyed by the identity sources' values only, as on AWS

    def _cached(self, key: tuple[str, ...]) -> tuple[Any, str]:
        if self.result_ttl <= 0:
            return None, "invoked"
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None and entry[0] > self.clock():
                return entry[1], "cached"
            self._cache.pop(key, None)
        return None, "invoked"

    def _remember(self, key: tuple[str, ...], answer: Any) -> None:
        if self.result_ttl > 0:
            with self._lock:
                self._cache[key] = (self.clock() + self.result_ttl, answer)


# --- HTTP over TLS --------------------------------------------------------------------------


class _TlsServer(ThreadingHTTPServer):
    """Accepts plain sockets and does each TLS handshake in the connection's own thread, so
    a slow or failing client never holds up the accept loop."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        context: ssl.SSLContext,
        gateway: ApiGateway,
        endpoint: str,
    ) -> None:
        self.context = context
        self.gateway = gateway
        self.endpoint = endpoint
        self._workers: list[threading.Thread] = []
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # ThreadingMixIn keeps no daemon threads; these are kept so ``join_connections`` can
        # let in-flight requests finish (and log) before the gateway reports it is closed.
        worker = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), daemon=True
        )
        with self.gateway._lock:
            self._workers = [w for w in self._workers if w.is_alive()] + [worker]
        worker.start()

    def join_connections(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds in all for the connections under way."""
        deadline = time.monotonic() + timeout
        with self.gateway._lock:
            workers = list(self._workers)
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            with self.gateway._lock:
                self.gateway.refused_handshakes.append((self.endpoint, str(exc)))
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            with contextlib.suppress(OSError):
                tls.shutdown(socket.SHUT_RDWR)
            tls.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5  # an idle keep-alive connection is closed after this
    server: _TlsServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the gateway's ``calls`` is the log."""

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path, _, query = self.path.partition("?")
        request = Request(
            method=self.command,
            raw_path=path,
            raw_query=query,
            headers=tuple(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            host=self.headers.get("Host") or "127.0.0.1",
            protocol=self.request_version,
        )
        cert_der = self.connection.getpeercert(binary_form=True)
        status, payload = self.server.gateway.handle(self.server.endpoint, request, cert_der)
        if isinstance(payload, bytes):
            data, kind = payload, "application/octet-stream"
        elif isinstance(payload, str):
            data, kind = payload.encode(), "text/plain; charset=utf-8"
        else:
            data, kind = json.dumps(payload).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle
