"""A Lambda authorizer for certificate-bound tokens that does it right: the reference one.

It is what lab 6 asks a learner to write, and what ``grader fapi serve`` runs when no
authorizer file is given: take the bearer token, introspect it over mutual TLS as the
authorizer's own client (RFC 7662 with RFC 8705's ``tls_client_auth``), refuse a token that
is not active, and compare the token's ``cnf`` / ``x5t#S256`` with the thumbprint of the
client certificate API Gateway saw in the handshake (RFC 8705 section 3): a token stolen
and replayed with another certificate is refused. It fails closed: a missing header, an
authorization server that is down, slow or answers nonsense, an event without a
certificate, all end in a refusal, never in an Allow.

The certificate is where API Gateway puts it for the event's payload version:
``requestContext.authentication.clientCert`` for 2.0, ``requestContext.identity.clientCert``
for 1.0 (and REST). The answer is the shape that version takes: a simple response
(``isAuthorized``) for 2.0, an IAM policy with a ``principalId`` for 1.0.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any

from .authserver import https_request
from .events import HTTP_V2
from .pki import Credential, client_context, thumbprint

# Seconds the authorizer waits for the introspection answer; well inside the gateway's own
# deadline for the authorizer, so a slow server is a refusal, not a 500.
INTROSPECTION_TIMEOUT = 3.0

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class Refused(Exception):
    """Why a request is refused (the message), raised inside the handler and turned into
    the version's deny answer."""


def certificate_bound_authorizer(
    introspection_url: str,
    ca_pem: bytes | str,
    credential: Credential,
    *,
    timeout: float = INTROSPECTION_TIMEOUT,
    on_refusal: Callable[[str], None] | None = None,
) -> Handler:
    """The handler ``(event) -> answer`` of a Lambda authorizer that introspects the bearer
    token at ``introspection_url`` (trusting ``ca_pem``, authenticating with
    ``credential``'s certificate) and allows the call only when the token is active and
    bound to the certificate of the call. ``on_refusal`` hears why each refusal happened
    (the answer itself says only "no", as a real authorizer's does). The URL must be on
    https://127.0.0.1 (the course is offline); any other is refused, like any error."""
    tls = client_context(ca_pem, credential)

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        try:
            token = bearer_token(event)
            pem = client_cert_pem(event)
            claims = _introspect(introspection_url, token, tls, timeout)
            if claims.get("active") is not True:
                raise Refused("the token is not active (unknown, expired or revoked)")
            bound = (claims.get("cnf") or {}).get("x5t#S256")
            if not isinstance(bound, str):
                raise Refused("the token is not bound to a certificate (no cnf x5t#S256)")
            presented = thumbprint(pem.encode("ascii"), "the event's client certificate")
            if not hmac.compare_digest(bound, presented):
                raise Refused(
                    f"the token is bound to {bound[:8]}..., the call came with "
                    f"{presented[:8]}... (a stolen token?)"
                )
        except Exception as exc:  # noqa: BLE001 - fail closed: every error is a refusal
            if on_refusal is not None:
                on_refusal(str(exc) if isinstance(exc, Refused) else _describe(exc))
            return deny(event)
        return allow(event, claims)

    return handler


def bearer_token(event: Mapping[str, Any]) -> str:
    """The token of the ``Authorization: Bearer`` header (any case of the name, as payload
    1.0 keeps the client's case), or :class:`Refused`."""
    headers = event.get("headers") or {}
    values = [v for k, v in headers.items() if isinstance(k, str) and k.lower() == "authorization"]
    if not values or not isinstance(values[0], str):
        raise Refused("no Authorization header")
    scheme, _, token = values[0].strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused("the Authorization header is not 'Bearer TOKEN'")
    return token.strip()


def client_cert_pem(event: Mapping[str, Any]) -> str:
    """The PEM of the client certificate of the call, where the event's payload version
    puts it, or :class:`Refused` (an endpoint without mTLS sends none)."""
    context = event.get("requestContext") or {}
    if event.get("version") == HTTP_V2:
        holder = context.get("authentication") or {}
    else:
        holder = context.get("identity") or {}
    cert = holder.get("clientCert") or {}
    pem = cert.get("clientCertPem") if isinstance(cert, Mapping) else None
    if not isinstance(pem, str) or not pem:
        raise Refused("the event has no client certificate (a call without mTLS?)")
    return pem


def allow(event: Mapping[str, Any], claims: Mapping[str, Any]) -> dict[str, Any]:
    """The version's Allow, passing who the token is for on to the integration."""
    context = {"sub": str(claims.get("sub", "")), "clientId": str(claims.get("client_id", ""))}
    if event.get("version") == HTTP_V2:
        return {"isAuthorized": True, "context": context}
    return {
        "principalId": context["sub"] or "unknown",
        "policyDocument": _policy("Allow", event),
        "context": context,
    }


def deny(event: Mapping[str, Any]) -> dict[str, Any]:
    """The version's refusal (API Gateway answers 403)."""
    if event.get("version") == HTTP_V2:
        return {"isAuthorized": False}
    return {"principalId": "unknown", "policyDocument": _policy("Deny", event)}


def _policy(effect: str, event: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Action": "execute-api:Invoke",
                "Effect": effect,
                "Resource": str(event.get("methodArn") or event.get("routeArn") or "*"),
            }
        ],
    }


def _introspect(url: str, token: str, tls: Any, timeout: float) -> dict[str, Any]:
    try:
        reply = https_request("POST", url, context=tls, form={"token": token}, timeout=timeout)
    except TimeoutError:
        raise Refused(f"introspection did not answer within {timeout:g} s") from None
    except OSError as exc:
        raise Refused(f"introspection failed: {_describe(exc)}") from None
    if reply.status != 200:
        raise Refused(f"introspection answered HTTP {reply.status}")
    try:
        claims = json.loads(reply.body)
    except ValueError:
        raise Refused("introspection answered something that is not JSON") from None
    if not isinstance(claims, dict):
        raise Refused("introspection answered JSON that is not an object")
    return claims


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


__all__ = [
    "INTROSPECTION_TIMEOUT",
    "Refused",
    "allow",
    "bearer_token",
    "certificate_bound_authorizer",
    "client_cert_pem",
    "deny",
]
