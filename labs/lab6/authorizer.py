"""The shop API's Lambda authorizer: certificate-bound access tokens (RFC 8705).

API Gateway has already checked, in the TLS handshake, that the client's certificate chains
to the truststore. This function must check the rest. Today it only asks the authorization
server whether the token is active, which is what any bearer-token API does.

Environment (set on the function, as on Lambda):
  INTROSPECTION_URL      the authorization server's introspection endpoint
  AUTHORIZER_CERT_FILE   this function's own client certificate (PEM) ...
  AUTHORIZER_KEY_FILE    ... and its key: introspection authenticates callers by mTLS
  AUTH_SERVER_CA_FILE    the CA bundle that verifies the authorization server

Try it by hand: grader fapi serve --authorizer labs/lab6/authorizer.py
"""

import json
import os
import ssl
import urllib.parse
import urllib.request


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
    # TODO (task 2): the function has 3 seconds in all. What happens here when the
    # authorization server is slow?
    with urllib.request.urlopen(request, context=_tls()) as reply:
        return json.load(reply)


def handler(event: dict, context: dict) -> dict:
    # TODO (task 2): this reads the token where payload format version 2.0 puts it only.
    token = event["headers"]["authorization"].removeprefix("Bearer ")
    answer = introspect(token)
    # TODO (task 2): an active token is not enough. Whose certificate is it bound to
    # (answer["cnf"]["x5t#S256"]), and whose certificate is on this connection?
    # TODO (task 2): and if anything above fails?
    return {"isAuthorized": answer.get("active") is True}
