"""``grader fapi thumbprint``: the FAPI engine's certificate tools.

``thumbprint`` prints a certificate's RFC 8705 ``x5t#S256``, the value a certificate-bound
token carries in ``cnf``, so a learner can compare it with what an introspection endpoint or
an authorizer event says.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
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

    # `grader fapi serve` (the whole stack on loopback) registers its parser on `fapi` here.


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
