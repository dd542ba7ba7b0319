"""The FAPI stack's throwaway PKI: chains, dates, EKUs and SANs, RFC 8705 thumbprints
checked against openssl, the certificate shapes learners have on disk, and real mTLS
handshakes on 127.0.0.1."""

from __future__ import annotations

import base64
import contextlib
import shutil
import socket
import socketserver
import ssl
import stat
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from ipaddress import ip_address

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from grader.aws.errors import GraderError
from grader.aws.fapi.pki import (
    CertificateError,
    Pki,
    client_context,
    load_certificate,
    load_certificates,
    make_pki,
    reissue,
    server_context,
    thumbprint,
    truststore_pem,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
TIMEOUT = 5.0  # a handshake on loopback takes milliseconds; this only stops a hang


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki(NOW)


# --- chains, dates, EKUs, SANs ---------------------------------------------------------


def verify_server(ca, cert, name: x509.GeneralName, at: datetime = NOW) -> None:
    verifier = PolicyBuilder().store(Store([ca.cert])).time(at).build_server_verifier(name)
    verifier.verify(cert.cert, [])


def verify_client(ca, cert, at: datetime = NOW) -> None:
    verifier = PolicyBuilder().store(Store([ca.cert])).time(at).build_client_verifier()
    verifier.verify(cert.cert, [])


@pytest.mark.parametrize(
    "name",
    [
        x509.DNSName("localhost"),
        x509.DNSName("auth.shop.example"),
        x509.DNSName("api.shop.example"),
        x509.IPAddress(ip_address("127.0.0.1")),
    ],
)
def test_does_the_server_certificate_verify_for_every_name_it_serves(pki, name):
    verify_server(pki.server_ca, pki.server, name)


def test_is_the_server_certificate_refused_for_another_name(pki):
    with pytest.raises(VerificationError):
        verify_server(pki.server_ca, pki.server, x509.DNSName("evil.example"))


def test_do_the_server_sans_name_exactly_the_loopback_and_the_two_hosts(pki):
    san = pki.server.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {
        "localhost",
        "auth.shop.example",
        "api.shop.example",
    }
    assert san.get_values_for_type(x509.IPAddress) == [ip_address("127.0.0.1")]


@pytest.mark.parametrize("app", ["app-one", "app-two"])
def test_do_the_legitimate_apps_chain_to_the_client_ca(pki, app):
    verify_client(pki.client_ca, pki.clients[app])


def test_does_the_attacker_chain_only_to_the_rogue_ca(pki):
    verify_client(pki.rogue_ca, pki.clients["attacker"])  # a real certificate...
    with pytest.raises(VerificationError):
        verify_client(pki.client_ca, pki.clients["attacker"])  # ...that the API does not trust


def test_is_the_rogue_ca_a_different_ca_from_the_client_ca(pki):
    rogue, client = pki.rogue_ca.cert, pki.client_ca.cert
    assert rogue.subject != client.subject
    assert rogue.public_key() != client.public_key()
    assert rogue not in load_certificates(pki.client_truststore_pem)


def test_does_a_server_certificate_not_pass_as_a_client_or_across_cas(pki):
    with pytest.raises(VerificationError):
        verify_client(pki.server_ca, pki.server)  # serverAuth only
    with pytest.raises(VerificationError):
        verify_server(pki.client_ca, pki.server, x509.DNSName("localhost"))


@pytest.mark.parametrize("name", ["expired", "not_yet_valid"])
def test_are_the_badly_dated_certificates_wrong_only_in_their_dates(pki, name):
    cred = pki.clients[name]
    with pytest.raises(VerificationError):
        verify_client(pki.client_ca, cred)
    middle = (
        cred.cert.not_valid_before_utc
        + (cred.cert.not_valid_after_utc - cred.cert.not_valid_before_utc) / 2
    )
    verify_client(pki.client_ca, cred, at=middle)


def test_are_the_dates_relative_to_now(pki):
    certs = {name: cred.cert for name, cred in pki.clients.items()}
    assert certs["expired"].not_valid_after_utc < NOW
    assert certs["not_yet_valid"].not_valid_before_utc > NOW
    for name in ("app-one", "app-two", "attacker"):
        assert certs[name].not_valid_before_utc <= NOW < certs[name].not_valid_after_utc
    for ca in (pki.server_ca, pki.client_ca, pki.rogue_ca):
        for cert in certs.values():
            assert ca.cert.not_valid_before_utc <= cert.not_valid_before_utc
            assert cert.not_valid_after_utc <= ca.cert.not_valid_after_utc


def test_is_a_pki_made_without_now_valid_today():
    fresh = make_pki()
    now = datetime.now(UTC)
    assert fresh.clients["app-one"].cert.not_valid_before_utc <= now
    assert fresh.clients["expired"].cert.not_valid_after_utc < now


def test_do_the_clients_carry_client_auth_and_the_server_server_auth(pki):
    def ekus(cred):
        return list(cred.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)

    for cred in pki.clients.values():
        assert ekus(cred) == [ExtendedKeyUsageOID.CLIENT_AUTH], cred.name
    assert ekus(pki.server) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_are_only_the_cas_cas(pki):
    def is_ca(cred):
        return cred.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca

    assert all(is_ca(ca) for ca in (pki.server_ca, pki.client_ca, pki.rogue_ca))
    assert not any(is_ca(cred) for cred in (pki.server, *pki.clients.values()))


def test_are_the_keys_ec_p256(pki):
    for cred in (pki.server_ca, pki.server, *pki.clients.values()):
        assert cred.cert.public_key().curve.name == "secp256r1"


def test_does_the_chain_put_the_certificate_before_its_issuer(pki):
    assert load_certificates(pki.server.chain_pem) == [pki.server.cert, pki.server_ca.cert]
    assert load_certificates(pki.clients["attacker"].chain_pem)[1] == pki.rogue_ca.cert


def test_does_write_put_the_key_in_a_private_file(pki, tmp_path):
    cert_path, key_path = pki.clients["app-one"].write(tmp_path / "creds")
    assert load_certificate(cert_path.read_bytes()) == pki.clients["app-one"].cert
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert key.public_key() == pki.clients["app-one"].cert.public_key()


def test_are_the_credentials_named_for_their_files(pki):
    names = [pki.server_ca.name, pki.client_ca.name, pki.rogue_ca.name, pki.server.name]
    assert names == ["server-ca", "client-ca", "rogue-ca", "server"]
    assert all(name == cred.name for name, cred in pki.clients.items())


def test_does_a_truststore_hold_the_cas_in_order(pki):
    store = truststore_pem(pki.client_ca, pki.rogue_ca.cert)
    assert load_certificates(store) == [pki.client_ca.cert, pki.rogue_ca.cert]


# --- thumbprints -----------------------------------------------------------------------


def openssl_thumbprint(path) -> str:
    der = subprocess.run(
        ["openssl", "x509", "-in", str(path), "-outform", "DER"], check=True, capture_output=True
    ).stdout
    digest = subprocess.run(
        ["openssl", "dgst", "-sha256", "-binary"], input=der, check=True, capture_output=True
    ).stdout
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
@pytest.mark.parametrize("name", ["app-one", "attacker", "expired"])
def test_does_the_thumbprint_match_openssl(pki, tmp_path, name):
    cred = pki.clients[name]
    cert_path, _ = cred.write(tmp_path)
    assert thumbprint(cred.cert) == openssl_thumbprint(cert_path)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_is_openssl_text_output_read_as_the_certificate_after_it(pki, tmp_path):
    cert_path, _ = pki.clients["app-two"].write(tmp_path)
    text = subprocess.run(
        ["openssl", "x509", "-in", str(cert_path), "-text"], check=True, capture_output=True
    ).stdout
    assert text.startswith(b"Certificate:")
    assert thumbprint(text) == openssl_thumbprint(cert_path)


def test_is_the_thumbprint_unpadded_base64url_of_32_bytes(pki):
    for cred in pki.clients.values():
        value = thumbprint(cred.cert)
        assert len(value) == 43 and "=" not in value
        assert set(value) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len({thumbprint(cred.cert) for cred in pki.clients.values()}) == len(pki.clients)


def test_is_the_thumbprint_the_same_from_an_object_pem_or_der(pki):
    cred = pki.clients["app-one"]
    der = cred.cert.public_bytes(serialization.Encoding.DER)
    assert thumbprint(cred.cert) == thumbprint(cred.cert_pem) == thumbprint(der)
    assert cred.thumbprint == thumbprint(cred.cert)


# --- what load_certificate accepts ---------------------------------------------------


def test_are_crlf_line_ends_read(pki):
    crlf = pki.server.cert_pem.replace(b"\n", b"\r\n")
    assert load_certificate(crlf) == pki.server.cert


@pytest.mark.parametrize(
    "paste",
    [
        lambda pem: pem.replace(b"\n", b"\r"),  # classic Mac line ends
        lambda pem: b"".join(b"    " + line for line in pem.splitlines(True)),  # indented
        lambda pem: pem.replace(b"\n", b" \t\n"),  # trailing whitespace
        lambda pem: pem.replace(b"\n", b"\n\n"),  # blank lines
        lambda pem: b"\xef\xbb\xbf" + pem.rstrip(),  # a BOM, no final newline
    ],
)
def test_do_copy_and_paste_damages_to_whitespace_not_matter(pki, paste):
    assert load_certificate(paste(pki.server.cert_pem)) == pki.server.cert


def test_is_text_before_the_pem_skipped(pki):
    data = b"subject=CN = app-one\nissuer=CN = Shop Example Client CA\n" + pki.server.cert_pem
    assert load_certificate(data) == pki.server.cert


def test_is_the_first_certificate_taken_from_several_blocks(pki):
    data = pki.server.key_pem + pki.server.chain_pem  # a key, the leaf, then its CA
    assert load_certificate(data) == pki.server.cert


def test_is_der_read(pki):
    assert load_certificate(pki.server.cert.public_bytes(serialization.Encoding.DER)) == (
        pki.server.cert
    )


def test_is_the_old_x509_certificate_label_read(pki):
    old = pki.server.cert_pem.replace(b"CERTIFICATE-----", b"X509 CERTIFICATE-----")
    assert load_certificate(old) == pki.server.cert


def bad_inputs(pki) -> dict[str, bytes]:
    pem = pki.clients["app-one"].cert_pem
    lines = pem.splitlines(keepends=True)
    der = pki.clients["app-one"].cert.public_bytes(serialization.Encoding.DER)
    return {
        "empty": b"",
        "blank": b"\n \r\n",
        "garbage": b"\x00\x01 not a certificate at all \xff",
        "text": b"hello, I am a certificate\n",
        "truncated pem": pem[: len(pem) // 2],
        "pem missing middle lines": b"".join(lines[:3] + lines[-2:]),
        "pem bad base64": pem.replace(lines[2], b"!!!!" + lines[2][4:]),
        "truncated der": der[:-10],
        "der with bytes after it": der + b"\x00",
        "key only": pki.clients["app-one"].key_pem,
    }


@pytest.mark.parametrize(
    "case",
    [
        "empty",
        "blank",
        "garbage",
        "text",
        "truncated pem",
        "pem missing middle lines",
        "pem bad base64",
        "truncated der",
        "der with bytes after it",
        "key only",
    ],
)
def test_is_a_broken_certificate_an_error_naming_the_file(pki, case):
    data = bad_inputs(pki)[case]
    with pytest.raises(CertificateError) as caught:
        thumbprint(data, "my-cert.pem")
    assert isinstance(caught.value, GraderError) and caught.value.exit_code == 2
    assert caught.value.file == "my-cert.pem"
    assert str(caught.value).startswith("my-cert.pem: ")


def test_does_the_error_say_what_is_wrong(pki):
    data = bad_inputs(pki)
    with pytest.raises(CertificateError, match="truncated"):
        load_certificate(data["truncated pem"])
    with pytest.raises(CertificateError, match="no CERTIFICATE block.*PRIVATE KEY"):
        load_certificate(data["key only"])
    with pytest.raises(CertificateError, match="empty"):
        load_certificate(data["empty"])


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"just words\n", "not PEM"),
        (b"-----BEGIN CERTIFICATE-----\nMIIB\n", "truncated"),
        (b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "block 1"),
    ],
)
def test_is_an_empty_or_broken_truststore_an_error(data, message):
    with pytest.raises(CertificateError, match=message):
        load_certificates(data, "truststore.pem")


def test_is_a_key_in_a_truststore_an_error(pki):
    with pytest.raises(CertificateError, match="block 2 is a PRIVATE KEY"):
        load_certificates(pki.client_ca.cert_pem + pki.client_ca.key_pem)


# --- TLS handshakes on loopback ---------------------------------------------------------


class _Handler(socketserver.BaseRequestHandler):
    """Answers one line: the x5t#S256 of the client's certificate, or 'none'."""

    def handle(self) -> None:
        self.request.settimeout(TIMEOUT)
        with self.server.context.wrap_socket(self.request, server_side=True) as tls:
            tls.recv(64)
            der = tls.getpeercert(binary_form=True)
            tls.sendall((thumbprint(der) if der else "none").encode())


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        pass  # a refused handshake is what these tests expect; no traceback on stderr


@contextlib.contextmanager
def tls_server(context: ssl.SSLContext) -> Iterator[int]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.context = context
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)


def exchange(port: int, context: ssl.SSLContext, host: str = "localhost") -> str:
    """Handshake, send a line, read the answer. In TLS 1.3 a refused client certificate
    shows on the first read, not in the handshake, so both count as refused."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        tls.sendall(b"hello\n")
        answer = tls.recv(64)
    if not answer:
        raise ConnectionError("the server closed the connection")
    return answer.decode()


@pytest.fixture(scope="module")
def mtls_port(pki) -> Iterator[int]:
    context = server_context(
        pki.server, client_cas_pem=pki.client_truststore_pem, require_client_cert=True
    )
    with tls_server(context) as port:
        yield port


@pytest.mark.parametrize("app", ["app-one", "app-two"])
def test_does_a_legitimate_app_complete_the_mtls_handshake(pki, mtls_port, app):
    cred = pki.clients[app]
    answer = exchange(mtls_port, client_context(pki.server_truststore_pem, cred))
    assert answer == thumbprint(cred.cert)  # the server sees exactly this certificate


@pytest.mark.parametrize("host", ["127.0.0.1", "api.shop.example", "auth.shop.example"])
def test_does_the_client_accept_the_server_under_each_of_its_names(pki, mtls_port, host):
    context = client_context(pki.server_truststore_pem, pki.clients["app-one"])
    assert exchange(mtls_port, context, host=host)


@pytest.mark.parametrize("who", [None, "attacker", "expired", "not_yet_valid"])
def test_is_the_handshake_refused_without_a_trusted_valid_certificate(pki, mtls_port, who):
    cred = pki.clients[who] if who else None
    with pytest.raises((ssl.SSLError, ConnectionError)):
        exchange(mtls_port, client_context(pki.server_truststore_pem, cred))


def test_does_a_client_refuse_a_server_it_does_not_trust(pki, mtls_port):
    context = client_context(pki.client_truststore_pem, pki.clients["app-one"])
    with pytest.raises(ssl.SSLCertVerificationError):
        exchange(mtls_port, context)


def test_does_a_client_refuse_a_name_the_server_certificate_lacks(pki, mtls_port):
    context = client_context(pki.server_truststore_pem, pki.clients["app-one"])
    with pytest.raises(ssl.SSLCertVerificationError):
        exchange(mtls_port, context, host="evil.example")


def test_is_a_client_certificate_optional_when_not_required(pki):
    context = server_context(
        pki.server, client_cas_pem=pki.client_truststore_pem, require_client_cert=False
    )
    with tls_server(context) as port:
        assert exchange(port, client_context(pki.server_truststore_pem)) == "none"
        app = pki.clients["app-one"]
        assert exchange(port, client_context(pki.server_truststore_pem, app)) == app.thumbprint


def test_do_the_contexts_take_pem_as_text_too(pki, mtls_port):
    app = pki.clients["app-one"]
    context = client_context(pki.server_truststore_pem.decode(), app)
    assert exchange(mtls_port, context) == app.thumbprint
    server_context(
        pki.server, client_cas_pem=pki.client_ca.cert_pem.decode(), require_client_cert=True
    )


def test_is_tls_1_2_the_minimum_on_both_sides(pki):
    server = server_context(pki.server, client_cas_pem=None, require_client_cert=False)
    client = client_context(pki.server_truststore_pem)
    assert server.minimum_version == client.minimum_version == ssl.TLSVersion.TLSv1_2


def test_is_requiring_a_certificate_without_cas_a_mistake(pki):
    with pytest.raises(ValueError):
        server_context(pki.server, client_cas_pem=None, require_client_cert=True)


def test_a_reissued_certificate_has_the_same_name_and_another_thumbprint(pki):
    again = reissue(pki, "app-one")
    original = pki.clients["app-one"]
    assert again.cert.subject == original.cert.subject
    assert again.cert.issuer == original.cert.issuer
    assert again.thumbprint != original.thumbprint
    verify_client(pki.client_ca, again, at=NOW)
