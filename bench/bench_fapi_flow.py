"""How many full FAPI round trips per second over loopback TLS: the OAuth flow (authorize,
token over mTLS) plus one API call through the mTLS front, whose authorizer introspects the
token over mTLS and checks its certificate binding: five TLS handshakes per round trip.
Beside it, a bare TLS handshake with a client certificate on the same machine (the floor).

Run: python bench/bench_fapi_flow.py [ROUNDS]
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.aws.fapi.authserver import (  # noqa: E402
    AuthorizationServer,
    client_flow,
    https_request,
)
from grader.aws.fapi.gateway import ApiGateway  # noqa: E402
from grader.aws.fapi.pki import client_context, make_pki, server_context, thumbprint  # noqa: E402


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    pki = make_pki()
    app = pki.clients["app-one"]
    clients = {name: pki.clients[name].cert for name in ("app-one", "app-two")}
    introspection = client_context(pki.server_truststore_pem, pki.clients["app-two"])
    caller = client_context(pki.server_truststore_pem, app)

    with AuthorizationServer(pki, clients=clients) as server:

        def authorizer(event: dict) -> dict:
            token = event["headers"]["authorization"].removeprefix("Bearer ")
            reply = https_request(
                "POST", server.url + "/introspect", context=introspection, form={"token": token}
            )
            answer = json.loads(reply.body)
            pem = event["requestContext"]["authentication"]["clientCert"]["clientCertPem"]
            bound = answer.get("cnf", {}).get("x5t#S256")
            return {
                "isAuthorized": bool(answer.get("active")) and bound == thumbprint(pem.encode())
            }

        with ApiGateway(
            pki, truststore_pem=pki.client_truststore_pem, authorizer=authorizer
        ) as api:
            port = int(api.url.rsplit(":", 1)[1])
            start = time.perf_counter()
            for _ in range(rounds):
                token = client_flow(server, app, pki)["access_token"]
                conn = http.client.HTTPSConnection("127.0.0.1", port, context=caller, timeout=5)
                conn.request("GET", "/accounts", headers={"Authorization": f"Bearer {token}"})
                assert conn.getresponse().status == 200
                conn.close()
            flows = rounds / (time.perf_counter() - start)

    # the floor: bare mTLS handshakes against a loopback socket
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    srv = server_context(
        pki.server, client_cas_pem=pki.client_truststore_pem, require_client_cert=True
    )
    count = rounds * 5
    start = time.perf_counter()

    def accept() -> None:
        for _ in range(count):
            conn, _ = listener.accept()
            try:
                with srv.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=accept)
    thread.start()
    for _ in range(count):
        raw = socket.create_connection(("127.0.0.1", port))
        with caller.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b"x")
    thread.join()
    handshakes = count / (time.perf_counter() - start)
    listener.close()

    print(f"{'measure':<58} {'per second':>11}")
    print(f"{'OAuth flow + API call (5 mTLS handshakes, introspection)':<58} {flows:>11,.1f}")
    print(f"{'bare mTLS handshakes on loopback (the floor)':<58} {handshakes:>11,.1f}")
    print(f"\nflow time / 5 handshakes: {handshakes / 5 / flows:.2f}x the floor; {rounds} rounds")


if __name__ == "__main__":
    main()
