"""An OAuth 2.0 authorization server that issues certificate-bound access tokens, on loopback.

It is the "authorization service" of the FAPI chapter, small enough to read in one sitting
but real: HTTPS on 127.0.0.1 with the client certificate requested in the handshake, the
authorization code grant with PKCE (RFC 7636, ``S256`` only), client authentication by TLS
client certificate (``tls_client_auth``, RFC 8705 section 2.1), access tokens bound to the
certificate presented at the token endpoint (``cnf`` / ``x5t#S256``, RFC 8705 section 3),
introspection (RFC 7662), revocation (RFC 7009) and metadata (RFC 8414 with RFC 8705's
``mtls_endpoint_aliases``). Tokens are ES256 JWTs signed with joserfc, or opaque strings that
only introspection can read: the chapter teaches both.

Tests and labs steer it: ``delay`` makes every response slow, ``down()`` refuses connections,
``revoke()`` and ``issue_token()`` skip the protocol, and ``requests`` records who called.
:func:`client_flow` is the whole flow as a client application runs it.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import secrets
import ssl
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from cryptography import x509
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from joserfc.util import urlsafe_b64encode

from .pki import Credential, Pki, client_context, server_context, thumbprint

LOOPBACK = "127.0.0.1"

# RFC 6749 section 4.1.2 advises codes live at most 10 minutes; a minute is plenty on loopback.
CODE_LIFETIME = 60

# RFC 7636 section 4.1: the verifier is 43 to 128 unreserved characters. An S256 challenge is
# base64url of a SHA-256 without padding: exactly 43 characters of the same alphabet.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")

# The resource the tokens are for (their ``aud``): the course's API behind the gateway.
DEFAULT_AUDIENCE = "urn:cloudsec-labs:fapi:api"
DEFAULT_SCOPES = ("accounts",)

# Handshakes happen in the worker thread, so a client that never finishes one costs a thread,
# never the whole server; this bounds how long.
_HANDSHAKE_TIMEOUT = 5.0
_MAX_BODY = 64 * 1024

TokenFormat = Literal["jwt", "opaque"]


def default_redirect_uri(client_id: str) -> str:
    """The redirect URI registered for ``client_id`` unless the server is told otherwise.

    Nothing listens there: :func:`client_flow` reads the code from the ``Location`` header,
    as a native app's loopback redirect (RFC 8252 section 7.3) would receive it.
    """
    return f"https://{LOOPBACK}/callback/{client_id}"


def s256_challenge(verifier: str) -> str:
    """The PKCE ``S256`` code challenge of ``verifier`` (RFC 7636 section 4.2)."""
    return urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode("ascii")


def new_pkce_pair() -> tuple[str, str]:
    """A fresh ``(code_verifier, code_challenge)`` pair for one authorization request."""
    verifier = secrets.token_urlsafe(48)  # 64 characters, all unreserved
    return verifier, s256_challenge(verifier)


@dataclass(frozen=True)
class LoggedRequest:
    """One request the server answered: what was asked, by which certificate, with what result.
    ``client_thumbprint`` is the ``x5t#S256`` of the certificate presented, or None."""

    method: str
    path: str
    client_thumbprint: str | None
    status: int


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    sub: str
    scope: str
    expires_at: float
    used: bool = False
    tokens: list[str] = field(default_factory=list)


@dataclass
class _Token:
    client_id: str
    sub: str
    scope: str
    issued_at: int
    expires_at: int
    thumbprint: str
    revoked: bool = False


@dataclass(frozen=True)
class _Response:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


def _json(status: int, document: Mapping[str, Any], *, extra: Sequence[tuple[str, str]] = ()):
    # RFC 6749 section 5.1: token responses must not be cached; the same holds for
    # introspection answers, which describe a live credential.
    headers = (
        ("Content-Type", "application/json"),
        ("Cache-Control", "no-store"),
        ("Pragma", "no-cache"),
        *extra,
    )
    return _Response(status, json.dumps(document).encode(), headers)


def _oauth_error(status: int, error: str, description: str) -> _Response:
    return _json(status, {"error": error, "error_description": description})


class _ParamError(Exception):
    """A request whose parameters break RFC 6749 section 3.1 (repeated parameters)."""


def _params(text: str) -> dict[str, str]:
    """Form or query parameters; empty values count as omitted and repeats are refused
    (RFC 6749 section 3.1)."""
    params: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        if name in params:
            raise _ParamError(f"the parameter {name!r} is repeated")
        if value:
            params[name] = value
    return params


class AuthorizationServer:
    """An OAuth 2.0 authorization server for certificate-bound tokens, serving HTTPS on
    127.0.0.1 while the ``with`` block runs (``url`` is its base address).

    ``clients`` maps each client_id to the one certificate it authenticates with
    (``tls_client_auth``); ``users`` are the resource owners (the first consents to every
    authorization request unless ``login_hint`` names another); ``redirect_uris`` defaults to
    :func:`default_redirect_uri` per client; ``client_cas_pem`` is what client certificates
    must chain to (default: the PKI's client CA, so the attacker's handshake fails).
    """

    def __init__(
        self,
        pki: Pki,
        *,
        clients: Mapping[str, x509.Certificate],
        users: Sequence[str] = ("alice",),
        token_lifetime: int = 300,
        token_format: TokenFormat = "jwt",
        scopes: Sequence[str] = DEFAULT_SCOPES,
        audience: str = DEFAULT_AUDIENCE,
        redirect_uris: Mapping[str, Sequence[str]] | None = None,
        client_cas_pem: bytes | None = None,
    ) -> None:
        if token_format not in ("jwt", "opaque"):
            raise ValueError(f"token_format must be 'jwt' or 'opaque', not {token_format!r}")
        if not users:
            raise ValueError("the server needs at least one user")
        self.pki = pki
        self.clients = dict(clients)
        self.users = tuple(users)
        self.token_lifetime = token_lifetime
        self.token_format: TokenFormat = token_format
        self.scopes = tuple(scopes)
        self.audience = audience
        self.redirect_uris = {
            client_id: tuple(
                (redirect_uris or {}).get(client_id, [default_redirect_uri(client_id)])
            )
            for client_id in self.clients
        }
        # Seconds every response waits before it is sent: a slow authorization server.
        self.delay: float = 0.0
        self.requests: list[LoggedRequest] = []
        self._thumbprints = {cid: thumbprint(cert) for cid, cert in self.clients.items()}
        self._key = ECKey.generate_key(
            "P-256", parameters={"use": "sig", "alg": "ES256"}, auto_kid=True
        )
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._tokens: dict[str, _Token] = {}
        self._tls = _server_tls(pki, client_cas_pem or pki.client_truststore_pem)
        self._port = 0
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, ``https://127.0.0.1:PORT`` (the issuer identifier too)."""
        if not self._port:
            raise RuntimeError("the authorization server has not been started")
        return f"https://{LOOPBACK}:{self._port}"

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def start(self) -> AuthorizationServer:
        """Serve (again): on a free port the first time, on the same port after ``stop()``
        so URLs handed out earlier stay valid."""
        if self._httpd is not None:
            return self
        httpd = _HTTPServer((LOOPBACK, self._port), _Handler, self, self._tls)
        self._port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._httpd = httpd
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: the port is closed, so connections are refused."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._httpd = self._thread = None
        httpd.closing.set()  # ends the wait of any response held back by ``delay``
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join()

    @contextmanager
    def down(self) -> Iterator[None]:
        """The server is down inside the block (connections refused) and back after it."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def __enter__(self) -> AuthorizationServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- controls for tests and labs -------------------------------------------------------

    def issue_token(
        self,
        client_id: str,
        cert: x509.Certificate | Credential,
        lifetime: int | None = None,
        *,
        sub: str | None = None,
        scope: str | None = None,
    ) -> str:
        """An access token for ``client_id`` bound to ``cert``, without the browser flow.
        A negative ``lifetime`` gives a token that has already expired."""
        return self._mint(
            client_id,
            sub or self.users[0],
            scope or " ".join(self.scopes),
            thumbprint(cert.cert if isinstance(cert, Credential) else cert),
            self.token_lifetime if lifetime is None else lifetime,
        )

    def revoke(self, token: str) -> None:
        """Revoke ``token`` (unknown tokens are ignored, as RFC 7009 has it)."""
        with self._lock:
            record = self._tokens.get(token)
            if record is not None:
                record.revoked = True

    def metadata(self) -> dict[str, Any]:
        """The RFC 8414 metadata document served at ``/.well-known/oauth-authorization-server``."""
        base = self.url
        mtls = ["tls_client_auth"]
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "introspection_endpoint": f"{base}/introspect",
            "revocation_endpoint": f"{base}/revoke",
            "scopes_supported": list(self.scopes),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": mtls,
            "introspection_endpoint_auth_methods_supported": mtls,
            "revocation_endpoint_auth_methods_supported": mtls,
            # RFC 8705 section 3.3 and section 5: this server binds tokens to certificates,
            # and every endpoint asks for the certificate, so the aliases are the same URLs.
            "tls_client_certificate_bound_access_tokens": True,
            "mtls_endpoint_aliases": {
                "token_endpoint": f"{base}/token",
                "introspection_endpoint": f"{base}/introspect",
                "revocation_endpoint": f"{base}/revoke",
            },
            # RFC 9207: the redirect carries ``iss`` so a client can detect mix-up attacks.
            "authorization_response_iss_parameter_supported": True,
        }

    def jwks(self) -> dict[str, Any]:
        """The public signing key as a JWK Set (what ``/jwks`` serves)."""
        return KeySet([self._key]).as_dict(private=False)

    # -- the protocol ----------------------------------------------------------------------

    def _mint(self, client_id: str, sub: str, scope: str, thumb: str, lifetime: int) -> str:
        now = int(time.time())
        if self.token_format == "jwt":
            claims = {
                "iss": self.url,
                "sub": sub,
                "aud": self.audience,
                "client_id": client_id,
                "scope": scope,
                "iat": now,
                "exp": now + lifetime,
                "jti": secrets.token_urlsafe(16),
                "cnf": {"x5t#S256": thumb},
            }
            # RFC 9068 names the type of a JWT access token, so it is not taken for an ID token.
            header = {"alg": "ES256", "kid": self._key.kid, "typ": "at+jwt"}
            token = jwt.encode(header, claims, self._key, algorithms=["ES256"])
        else:
            token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = _Token(client_id, sub, scope, now, now + lifetime, thumb)
        return token

    def _dispatch(
        self, method: str, path: str, query: str, body: str, peer: str | None
    ) -> _Response:
        routes = {
            "/.well-known/oauth-authorization-server": ("GET", lambda: _json(200, self.metadata())),
            "/jwks": ("GET", lambda: _json(200, self.jwks())),
            "/authorize": ("GET", lambda: self._authorize(_params(query))),
            "/token": ("POST", lambda: self._token(_params(body), peer)),
            "/introspect": ("POST", lambda: self._introspect(_params(body), peer)),
            "/revoke": ("POST", lambda: self._revoke(_params(body), peer)),
        }
        if path not in routes:
            return _Response(404, b"not found\n", (("Content-Type", "text/plain"),))
        allowed, handle = routes[path]
        if method != allowed:
            return _Response(405, b"method not allowed\n", (("Allow", allowed),))
        try:
            return handle()
        except _ParamError as exc:
            if path == "/authorize":
                return _Response(400, f"{exc}\n".encode(), (("Content-Type", "text/plain"),))
            return _oauth_error(400, "invalid_request", str(exc))

    def _authorize(self, params: dict[str, str]) -> _Response:
        client_id = params.get("client_id")
        redirect_uri = params.get("redirect_uri")
        # RFC 6749 section 4.1.2.1: with no trustworthy redirect URI, tell the user, never
        # redirect (an open redirector otherwise).
        if client_id not in self.clients:
            return _Response(400, b"unknown client_id\n", (("Content-Type", "text/plain"),))
        if redirect_uri not in self.redirect_uris[client_id]:
            return _Response(
                400,
                b"redirect_uri is not registered for this client\n",
                (("Content-Type", "text/plain"),),
            )

        state = params.get("state")

        def back(**answer: str) -> _Response:
            answer["iss"] = self.url
            if state is not None:
                answer["state"] = state
            return _Response(302, b"", (("Location", f"{redirect_uri}?{urlencode(answer)}"),))

        def error(code: str, description: str) -> _Response:
            return back(error=code, error_description=description)

        if params.get("response_type") != "code":
            return error("unsupported_response_type", "only response_type=code is supported")
        if "code_challenge" not in params:
            return error("invalid_request", "PKCE is required: send code_challenge (S256)")
        if params.get("code_challenge_method") != "S256":
            return error("invalid_request", "code_challenge_method must be S256 (plain is refused)")
        if not _CHALLENGE.fullmatch(params["code_challenge"]):
            return error("invalid_request", "code_challenge is not a base64url SHA-256")
        requested = params.get("scope", " ".join(self.scopes)).split()
        if not requested or not set(requested) <= set(self.scopes):
            return error("invalid_scope", f"scopes supported: {' '.join(self.scopes)}")
        sub = params.get("login_hint", self.users[0])
        if sub not in self.users:
            return error("access_denied", "no such user")

        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = _Code(
                client_id,
                redirect_uri,
                params["code_challenge"],
                sub,
                " ".join(requested),
                time.monotonic() + CODE_LIFETIME,
            )
        return back(code=code)

    def _client(self, params: dict[str, str], peer: str | None) -> str | _Response:
        """The client a request comes from, authenticated by its TLS certificate
        (``tls_client_auth``), or the ``invalid_client`` answer. Without ``client_id`` the
        certificate alone names the client: the token endpoint insists on ``client_id``
        (RFC 8705 section 2), but a resource server's authorizer calling introspection
        often sends only the token, and the certificate is what authenticates it anyway."""
        if peer is None:
            return _oauth_error(401, "invalid_client", "a TLS client certificate is required")
        client_id = params.get("client_id")
        if client_id is None:
            matches = [cid for cid, thumb in self._thumbprints.items() if thumb == peer]
            client_id = matches[0] if matches else None
        if client_id is None or self._thumbprints.get(client_id) != peer:
            return _oauth_error(
                401, "invalid_client", "the client certificate is not the one registered"
            )
        return client_id

    def _token(self, params: dict[str, str], peer: str | None) -> _Response:
        if "client_id" not in params and peer is not None:
            # RFC 8705 section 2.1: tls_client_auth identifies the client by client_id.
            return _oauth_error(400, "invalid_request", "client_id is required")
        client_id = self._client(params, peer)
        if isinstance(client_id, _Response):
            return client_id
        assert peer is not None
        if params.get("grant_type") != "authorization_code":
            return _oauth_error(400, "unsupported_grant_type", "use authorization_code")
        verifier = params.get("code_verifier")
        if verifier is None:
            return _oauth_error(400, "invalid_request", "code_verifier is required (PKCE)")
        with self._lock:
            grant = self._codes.get(params.get("code", ""))
            if grant is None or grant.client_id != client_id:
                return _oauth_error(400, "invalid_grant", "unknown authorization code")
            if grant.used:
                # RFC 6749 section 4.1.2: a code used twice may have been stolen; what it
                # bought is revoked.
                for token in grant.tokens:
                    self._tokens[token].revoked = True
                return _oauth_error(400, "invalid_grant", "the authorization code was already used")
            grant.used = True  # any attempt spends it: a verifier cannot be guessed twice
        if time.monotonic() > grant.expires_at:
            return _oauth_error(400, "invalid_grant", "the authorization code has expired")
        if params.get("redirect_uri") != grant.redirect_uri:
            return _oauth_error(400, "invalid_grant", "redirect_uri differs from the request's")
        if not _VERIFIER.fullmatch(verifier) or not secrets.compare_digest(
            s256_challenge(verifier), grant.challenge
        ):
            return _oauth_error(400, "invalid_grant", "code_verifier does not match the challenge")
        token = self._mint(client_id, grant.sub, grant.scope, peer, self.token_lifetime)
        with self._lock:
            grant.tokens.append(token)
        return _json(
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
                "scope": grant.scope,
            },
        )

    def _introspect(self, params: dict[str, str], peer: str | None) -> _Response:
        caller = self._client(params, peer)
        if isinstance(caller, _Response):
            return caller
        token = params.get("token")
        if token is None:
            return _oauth_error(400, "invalid_request", "token is required")
        with self._lock:
            record = self._tokens.get(token)
        if record is None or record.revoked or record.expires_at <= time.time():
            return _json(200, {"active": False})
        return _json(
            200,
            {
                "active": True,
                "scope": record.scope,
                "client_id": record.client_id,
                "sub": record.sub,
                "aud": self.audience,
                "iss": self.url,
                "iat": record.issued_at,
                "exp": record.expires_at,
                "token_type": "Bearer",
                "cnf": {"x5t#S256": record.thumbprint},
            },
        )

    def _revoke(self, params: dict[str, str], peer: str | None) -> _Response:
        caller = self._client(params, peer)
        if isinstance(caller, _Response):
            return caller
        token = params.get("token")
        if token is None:
            return _oauth_error(400, "invalid_request", "token is required")
        with self._lock:
            record = self._tokens.get(token)
            if record is not None:
                # RFC 7009 section 2.1: a client may revoke only the tokens issued to it.
                if record.client_id != caller:
                    return _oauth_error(
                        400, "invalid_grant", "the token was issued to another client"
                    )
                record.revoked = True
        # Unknown tokens get 200 too: the client cannot act on the difference (section 2.2).
        return _Response(200)


# -- the HTTPS plumbing ----------------------------------------------------------------------


def _server_tls(pki: Pki, client_cas_pem: bytes) -> ssl.SSLContext:
    """The server side of TLS: the server certificate, and a client certificate asked for but
    not required (a browser reaches /authorize without one). One that is sent must chain to
    ``client_cas_pem`` and be within its dates, or the handshake fails, as RFC 8705's
    PKI method (``tls_client_auth``) has it."""
    return server_context(pki.server, client_cas_pem=client_cas_pem, require_client_cert=False)


def _client_tls(pki: Pki, credential: Credential | None) -> ssl.SSLContext:
    """A client's TLS context that trusts the server CA, presenting ``credential`` if given."""
    return client_context(pki.server_truststore_pem, credential)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler, authz: AuthorizationServer, tls: ssl.SSLContext):
        self.authz = authz
        self.tls = tls
        # Set when the server stops, so responses held back by ``delay`` give up at once.
        self.closing = threading.Event()
        super().__init__(address, handler)

    def handle_error(self, request, client_address) -> None:
        # A client that gives up (a timeout shorter than ``delay``) or breaks the TLS session
        # is part of the lessons, not a server fault worth a traceback on the learner's screen.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def finish_request(self, request, client_address) -> None:
        # The TLS handshake runs here, in the request's own thread, rather than in accept():
        # a client stuck mid-handshake must not stall everyone else.
        request.settimeout(_HANDSHAKE_TIMEOUT)
        try:
            conn = self.tls.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
            conn.do_handshake()
        except (ssl.SSLError, OSError):
            return  # refused handshake: an untrusted or expired certificate, or no TLS at all
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            conn.close()


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "cloudsec-authz"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass  # the request log is ``AuthorizationServer.requests``, not stderr

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        authz = self.server.authz
        peer = self._peer_thumbprint()
        parts = urlsplit(self.path)
        body = ""
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit() or int(length) > _MAX_BODY:
            response = _oauth_error(400, "invalid_request", "bad or too large Content-Length")
        else:
            body = self.rfile.read(int(length)).decode("utf-8", "replace")
            response = authz._dispatch(method, parts.path, parts.query, body, peer)
        with authz._lock:
            authz.requests.append(LoggedRequest(method, parts.path, peer, response.status))
        if authz.delay > 0 and self.server.closing.wait(authz.delay):
            return  # stopped while waiting: the client sees the connection close
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def _peer_thumbprint(self) -> str | None:
        der = self.connection.getpeercert(binary_form=True)
        return thumbprint(x509.load_der_x509_certificate(der)) if der else None


# -- the client side -------------------------------------------------------------------------


class OAuthError(Exception):
    """The authorization server refused a step of the flow; ``error`` is its error code."""

    def __init__(self, step: str, status: int, error: str, description: str = "") -> None:
        super().__init__(f"{step}: {status} {error}" + (f" ({description})" if description else ""))
        self.step = step
        self.status = status
        self.error = error
        self.description = description


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, headers (names lower-cased) and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def https_request(
    method: str,
    url: str,
    *,
    context: ssl.SSLContext,
    form: Mapping[str, str] | None = None,
    timeout: float = 5.0,
) -> Reply:
    """One HTTPS request to a loopback server (anything else is refused: the course is
    offline), a form body if ``form`` is given; redirects are returned, not followed."""
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.hostname != LOOPBACK:
        raise ValueError(f"only https://{LOOPBACK} is reachable offline, not {url!r}")
    conn = http.client.HTTPSConnection(LOOPBACK, parts.port, context=context, timeout=timeout)
    try:
        body = urlencode(form).encode() if form is not None else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target or "/", body=body, headers=headers)
        answer = conn.getresponse()
        return Reply(answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read())
    finally:
        conn.close()


def client_flow(
    server: AuthorizationServer,
    client: Credential,
    pki: Pki,
    *,
    client_id: str | None = None,
    scope: str | None = None,
    timeout: float = 5.0,
) -> dict[str, Any]:
    """The authorization code flow as a client application runs it, returning the token
    response: a PKCE pair, ``/authorize`` from the browser (no client certificate), the code
    read from the redirect's ``Location``, then ``/token`` over mutual TLS with ``client``'s
    certificate. ``client_id`` defaults to the one ``server`` registered for that certificate.
    Raises :class:`OAuthError` when a step is refused."""
    if client_id is None:
        client_id = _registered_id(server, client.cert)
    redirect_uri = server.redirect_uris[client_id][0]
    verifier, challenge = new_pkce_pair()
    state = secrets.token_urlsafe(16)
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if scope is not None:
        query["scope"] = scope
    browser = _client_tls(pki, None)
    reply = https_request(
        "GET", f"{server.url}/authorize?{urlencode(query)}", context=browser, timeout=timeout
    )
    if reply.status != 302:
        raise OAuthError("authorize", reply.status, "invalid_request", reply.body.decode())
    location = reply.headers["location"]
    if not location.startswith(redirect_uri + "?"):
        raise OAuthError("authorize", reply.status, "invalid_request", "unexpected redirect")
    answer = dict(parse_qsl(urlsplit(location).query))
    if answer.get("state") != state or answer.get("iss") != server.url:
        raise OAuthError("authorize", reply.status, "invalid_request", "state or iss differs")
    if "error" in answer:
        raise OAuthError(
            "authorize", reply.status, answer["error"], answer.get("error_description", "")
        )
    reply = https_request(
        "POST",
        f"{server.url}/token",
        context=_client_tls(pki, client),
        form={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
            "client_id": client_id,
        },
        timeout=timeout,
    )
    document = reply.json()
    if reply.status != 200:
        raise OAuthError(
            "token", reply.status, document.get("error", "?"), document.get("error_description", "")
        )
    return document


def _registered_id(server: AuthorizationServer, cert: x509.Certificate) -> str:
    wanted = thumbprint(cert)
    for client_id, registered in server.clients.items():
        if thumbprint(registered) == wanted:
            return client_id
    raise ValueError("this certificate is not registered with the authorization server")


__all__ = [
    "CODE_LIFETIME",
    "DEFAULT_AUDIENCE",
    "AuthorizationServer",
    "LoggedRequest",
    "OAuthError",
    "Reply",
    "client_flow",
    "default_redirect_uri",
    "https_request",
    "new_pkce_pair",
    "s256_challenge",
]
