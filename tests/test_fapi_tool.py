"""`grader fapi thumbprint`, run as a learner runs it, on certificates written for the test."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from grader.aws.fapi.pki import make_pki
from tests.conftest import run_grader


@pytest.fixture(scope="module")
def pki():
    return make_pki()


@pytest.fixture(scope="module")
def folder(pki, tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("fapi-tool")
    pki.clients["app-one"].write(where)
    cert = pki.clients["app-one"].cert
    (where / "app-one.der").write_bytes(cert.public_bytes(serialization.Encoding.DER))
    (where / "app-one-crlf.pem").write_bytes(
        pki.clients["app-one"].cert_pem.replace(b"\n", b"\r\n")
    )
    (where / "server-chain.pem").write_bytes(pki.server.chain_pem)
    pem = pki.clients["app-one"].cert_pem
    (where / "truncated.pem").write_bytes(pem[: len(pem) // 2])
    return where


def expected(cert) -> str:
    """x5t#S256 worked out here, apart from the engine: SHA-256 of the DER, base64url."""
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@pytest.mark.parametrize("file", ["app-one.pem", "app-one-crlf.pem", "app-one.der"])
def test_does_thumbprint_print_the_x5t_s256_of_pem_crlf_or_der(pki, folder, file):
    done = run_grader("fapi", "thumbprint", str(folder / file))
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected(pki.clients["app-one"].cert) + "\n"
    assert done.stderr == ""


def test_does_json_give_the_thumbprint_with_the_certificate(pki, folder):
    done = run_grader("fapi", "thumbprint", str(folder / "app-one.pem"), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["x5t#S256"] == expected(pki.clients["app-one"].cert)
    assert data["subject"] == "CN=app-one,O=Shop Example"
    assert data["issuer"] == "CN=Shop Example Client CA,O=Shop Example"
    assert data["file"] == str(folder / "app-one.pem") and data["certificatesInFile"] == 1


def test_does_a_chain_give_the_first_certificate_with_a_warning(pki, folder):
    done = run_grader("fapi", "thumbprint", str(folder / "server-chain.pem"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected(pki.server.cert) + "\n"
    assert "holds 2 certificates" in done.stderr and "CN=api.shop.example" in done.stderr


def test_does_stdin_work_as_a_file(pki):
    pem = pki.clients["app-two"].cert_pem.decode()
    done = run_grader("fapi", "thumbprint", "-", input=pem)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected(pki.clients["app-two"].cert) + "\n"


@pytest.mark.parametrize(
    "file, message",
    [
        ("truncated.pem", "truncated"),
        ("app-one.key", "no CERTIFICATE block"),
        ("missing.pem", "no such file"),
    ],
)
def test_is_a_bad_file_exit_2_with_one_line_naming_it(folder, file, message):
    done = run_grader("fapi", "thumbprint", str(folder / file))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"grader: error: {folder / file}: ")
    assert message in done.stderr and "Traceback" not in done.stderr
