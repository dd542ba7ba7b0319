"""The shop API's Lambda authorizer: certificate-bound access tokens (RFC 8705).

API Gateway has already checked, in the TLS handshake, that the client's certificate chains
to the truststore. This function checks the rest: the token is active (the authorization
server says so through introspection) and bound to the very certificate of this connection.

Environment (set on the function, as on Lambda):
  INTROSPECTION_URL      the authorization server's introspection endpoint
  AUTHORIZER_CERT_FILE   this function's own client certificate (PEM) ...
  AUTHORIZER_KEY_FILE    ... and its key: introspection authenticates callers by mTLS
  AUTH_SERVER_CA_FILE    the CA bundle that verifies the authorization server
"""

import base64
import hashlib
import hmac
import json
import os
import ssl
import urllib.parse
import urllib.request

# The function has 3 seconds in all; introspection must give up well before that, so the
# function can still answer (with a refusal) instead of being cut off.
INTROSPECTION_TIMEOUT = 1.5


def _tls() -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=os.environ["AUTH_SERVER_CA_FILE"])
    context.load_cert_chain(os.environ["AUTHORIZER_CERT_FILE"], os.environ["AUTHORIZER_KEY_FILE"])
    return context


def introspect(token: str) -> dict:
    """RFC 7662: ask the authorization server what it knows of ``token``."""
    request = urllib.request.Request(
        os.environ["INTROSPECTION_URL"],
        data=urllib.parse.urlencode({"token": token}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    with urllib.request.urlopen(request, context=_tls(), timeout=INTROSPECTION_TIMEOUT) as reply:
        return json.load(reply)


def thumbprint(pem: str) -> str:
    """RFC 8705's x5t#S256: base64url, without padding, of the SHA-256 of the DER."""
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _token_and_certificate(event: dict) -> tuple[str, str]:
    """Where API Gateway puts them depends on the payload format version."""
    if event.get("version") == "2.0":
        cert = event["requestContext"]["authentication"]["clientCert"]["clientCertPem"]
        headers = event.get("headers") or {}  # names already lower-cased
    else:
        cert = event["requestContext"]["identity"]["clientCert"]["clientCertPem"]
        headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ValueError("no bearer token")
    return token, cert


def _allowed(event: dict) -> bool:
    token, cert = _token_and_certificate(event)
    answer = introspect(token)
    if answer.get("active") is not True:
        return False
    bound = (answer.get("cnf") or {}).get("x5t#S256")
    # A token without a binding is a plain bearer token: not good enough here.
    return isinstance(bound, str) and hmac.compare_digest(bound, thumbprint(cert))


def handler(event: dict, context: dict) -> dict:
    try:
        allowed = _allowed(event)
    except Exception as exc:  # no certificate, no token, server slow or down: refuse
        print(f"refused: {type(exc).__name__}: {exc}")
        allowed = False
    if event.get("version") == "2.0":
        return {"isAuthorized": allowed}  # the API has EnableSimpleResponses on
    return {
        "principalId": "shop-client",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if allowed else "Deny",
                    "Resource": event["methodArn"],
                }
            ],
        },
    }
