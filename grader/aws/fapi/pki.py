"""A throwaway PKI for the FAPI stack, certificate thumbprints, and TLS contexts.

Everything the mTLS labs need is made here at run time, in memory: a server CA and the
server's certificate, a client CA and two legitimate client apps, an attacker whose
certificate comes from a CA the API does not trust, and two client certificates whose dates
are wrong. Nothing is written to disk unless a caller asks (``Credential.write``), so no key
ever outlives the test or check that made it. EC P-256 keys: generating RSA keys would be
the slowest step of every check.

``thumbprint`` is RFC 8705's ``x5t#S256`` (section 3.1): base64url, without padding, of the
SHA-256 of the certificate's DER encoding. ``load_certificate`` accepts the shapes learners
actually have on disk and refuses anything that is not a whole certificate, so a thumbprint
is never computed over garbage.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import os
import re
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from grader.aws.errors import GraderError

# The host names the server certificate answers for: loopback, and the two names the
# course's pages use for the authorization server and the API's custom domain.
SERVER_DNS_NAMES = ("localhost", "auth.shop.example", "api.shop.example")
SERVER_IPS = ("127.0.0.1",)
# The legitimate client apps (RFC 8705's tls_client_auth clients), by name.
CLIENT_APPS = ("app-one", "app-two")
# The API's Lambda authorizer is a client of the authorization server too: it authenticates
# to the introspection endpoint with its own certificate (tls_client_auth), issued by the
# client CA like the apps'.
AUTHORIZER_CLIENT = "api-authorizer"
ORGANIZATION = "Shop Example"

# Validity windows, relative to ``now``. CAs cover every leaf's window (including the
# expired and not-yet-valid ones), so a leaf's dates are the only thing wrong with it.
CA_BEFORE = timedelta(days=365)
CA_AFTER = timedelta(days=3650)
LEAF_BEFORE = timedelta(hours=1)  # a little clock skew between machines is normal
LEAF_AFTER = timedelta(days=90)
EXPIRED = (timedelta(days=60), timedelta(days=30))  # valid from now-60d until now-30d
NOT_YET_VALID = (timedelta(days=30), timedelta(days=60))  # valid from now+30d until now+60d

# A certificate is a few kB; a file far larger than this is the wrong file.
MAX_CERT_FILE_BYTES = 1024 * 1024

# One PEM block: its label and its body. The label must repeat at the END line.
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
_PEM_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")
# The labels RFC 7468 (and older OpenSSL) give a certificate.
_CERT_LABELS = (b"CERTIFICATE", b"X509 CERTIFICATE")


class CertificateError(GraderError):
    """A certificate (or truststore) cannot be read: truncated, not PEM or DER, or empty."""


@dataclass(frozen=True)
class Credential:
    """A certificate and its private key, in objects and in PEM."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey = field(repr=False)
    cert_pem: bytes = field(repr=False)
    key_pem: bytes = field(repr=False)
    # The certificate followed by its issuing CA (just the certificate for a root): what a
    # server sends so a client that trusts only the root can build the path.
    chain_pem: bytes = field(repr=False)
    name: str

    @property
    def thumbprint(self) -> str:
        """RFC 8705's ``x5t#S256`` of this certificate."""
        return thumbprint(self.cert)

    def write(self, folder: str | Path) -> tuple[Path, Path]:
        """Write ``<name>.pem`` (the certificate) and ``<name>.key`` (the key, mode 0600) into
        ``folder``; for ``curl --cert/--key``, ``openssl`` and servers that read files."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        cert_path = folder / f"{self.name}.pem"
        key_path = folder / f"{self.name}.key"
        cert_path.write_bytes(self.cert_pem)
        _write_private(key_path, self.key_pem)
        return cert_path, key_path


@dataclass(frozen=True)
class Pki:
    """Every credential of the stack. ``clients`` holds the legitimate apps (``app-one``,
    ``app-two``), the API authorizer's own credential (``api-authorizer``), the
    ``attacker`` (issued by ``rogue_ca``) and ``expired`` and
    ``not_yet_valid`` (issued by ``client_ca``, dates outside ``now``)."""

    now: datetime
    server_ca: Credential
    client_ca: Credential
    rogue_ca: Credential
    server: Credential
    clients: dict[str, Credential]

    @property
    def client_truststore_pem(self) -> bytes:
        """The truststore the API should have: exactly the CA of the legitimate clients."""
        return truststore_pem(self.client_ca)

    @property
    def server_truststore_pem(self) -> bytes:
        """What a client trusts to reach the servers: the server CA."""
        return truststore_pem(self.server_ca)


def make_pki(now: datetime | None = None) -> Pki:
    """A fresh PKI whose dates are relative to ``now`` (default: the current time, UTC)."""
    now = _utc(now or datetime.now(UTC))
    server_ca = _make_ca("server-ca", "Shop Example Server CA", now)
    client_ca = _make_ca("client-ca", "Shop Example Client CA", now)
    rogue_ca = _make_ca("rogue-ca", "Rogue Client CA", now, organization="Not Shop Example")
    server = _make_leaf(
        "server",
        server_ca,
        not_before=now - LEAF_BEFORE,
        not_after=now + LEAF_AFTER,
        usage=ExtendedKeyUsageOID.SERVER_AUTH,
        sans=[
            *(x509.DNSName(name) for name in SERVER_DNS_NAMES),
            *(x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVER_IPS),
        ],
        common_name=SERVER_DNS_NAMES[-1],
    )
    clients: dict[str, Credential] = {}
    for name in (*CLIENT_APPS, AUTHORIZER_CLIENT):
        clients[name] = _make_client(name, client_ca, now - LEAF_BEFORE, now + LEAF_AFTER)
    clients["attacker"] = _make_client("attacker", rogue_ca, now - LEAF_BEFORE, now + LEAF_AFTER)
    clients["expired"] = _make_client("expired", client_ca, now - EXPIRED[0], now - EXPIRED[1])
    clients["not_yet_valid"] = _make_client(
        "not_yet_valid", client_ca, now + NOT_YET_VALID[0], now + NOT_YET_VALID[1]
    )
    return Pki(
        now=now,
        server_ca=server_ca,
        client_ca=client_ca,
        rogue_ca=rogue_ca,
        server=server,
        clients=clients,
    )


def reissue(pki: Pki, name: str, new_name: str | None = None) -> Credential:
    """Another certificate for client ``name``: the same subject from the same CA, with a
    new key and serial (a rotated certificate, or one whose predecessor's key leaked). Its
    thumbprint differs, which is the point: RFC 8705 binds a token to one certificate, not
    to a name."""
    old = pki.clients[name]
    issuer = pki.rogue_ca if name == "attacker" else pki.client_ca
    common_name = old.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    return _make_leaf(
        new_name or f"{name}-reissued",
        issuer,
        not_before=old.cert.not_valid_before_utc,
        not_after=old.cert.not_valid_after_utc,
        usage=ExtendedKeyUsageOID.CLIENT_AUTH,
        sans=list(old.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value),
        common_name=str(common_name),
    )


def truststore_pem(*cas: Credential | x509.Certificate) -> bytes:
    """The CA certificates one after another in PEM: a truststore (API Gateway's format)."""
    parts = []
    for ca in cas:
        cert = ca.cert if isinstance(ca, Credential) else ca
        parts.append(cert.public_bytes(serialization.Encoding.PEM))
    return b"".join(parts)


# --- thumbprints and loading ---------------------------------------------------------


def thumbprint(cert: x509.Certificate | bytes, name: str = "<certificate>") -> str:
    """RFC 8705's ``x5t#S256``: base64url without padding of SHA-256 over the DER.

    ``cert`` may be a certificate object or its bytes (PEM or DER, e.g. what
    ``SSLSocket.getpeercert(binary_form=True)`` returns)."""
    if not isinstance(cert, x509.Certificate):
        cert = load_certificate(cert, name)
    digest = cert.fingerprint(hashes.SHA256())
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def load_certificate(data: bytes, name: str = "<certificate>") -> x509.Certificate:
    """The first certificate in ``data``: PEM (LF or CRLF, with any text before it, such as
    ``openssl x509 -text`` prints, and other blocks around it) or DER."""
    if not data.strip():
        raise CertificateError("the file is empty; expected a certificate (PEM or DER)", file=name)
    if _PEM_BEGIN.search(data):
        blocks = _pem_blocks(data, name)
        for index, (label, block) in enumerate(blocks, start=1):
            if label in _CERT_LABELS:
                return _load_pem_block(block, name, index)
        labels = ", ".join(label.decode() for label, _ in blocks)
        raise CertificateError(f"no CERTIFICATE block in this PEM file (found {labels})", file=name)
    try:
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise CertificateError(
            "not a certificate: no PEM 'BEGIN CERTIFICATE' line, and not valid DER either "
            "(is the file truncated, or is it another kind of file?)",
            file=name,
        ) from None


def load_certificates(data: bytes, name: str = "<truststore>") -> list[x509.Certificate]:
    """Every certificate of a PEM truststore, in order. A truststore holds certificates
    only: an empty one, a broken block, or a key in it is an error."""
    if not _PEM_BEGIN.search(data):
        what = "empty" if not data.strip() else "not PEM (no 'BEGIN CERTIFICATE' line)"
        raise CertificateError(
            f"the truststore is {what}; expected one or more PEM CA certificates", file=name
        )
    certs = []
    for index, (label, block) in enumerate(_pem_blocks(data, name), start=1):
        if label not in _CERT_LABELS:
            raise CertificateError(
                f"PEM block {index} is a {label.decode()}, not a CERTIFICATE; a truststore "
                "holds CA certificates only",
                file=name,
            )
        certs.append(_load_pem_block(block, name, index))
    return certs


def read_certificate(path: str | Path) -> x509.Certificate:
    """``load_certificate`` on a file, with a missing or unreadable file as an error."""
    p = Path(path)
    try:
        if p.is_dir():
            raise CertificateError("this is a folder, not a certificate file", file=p)
        if p.stat().st_size > MAX_CERT_FILE_BYTES:
            raise CertificateError(
                f"the file is over {MAX_CERT_FILE_BYTES:,} bytes; a certificate is a few kB. "
                "Is it the right file?",
                file=p,
            )
        data = p.read_bytes()
    except FileNotFoundError:
        raise CertificateError("no such file", file=p) from None
    except OSError as exc:
        raise CertificateError(f"cannot read it ({exc.strerror or exc})", file=p) from None
    return load_certificate(data, str(p))


def _pem_blocks(data: bytes, name: str) -> list[tuple[bytes, bytes]]:
    """(label, base64 body) for each PEM block; a BEGIN with no matching END is truncation."""
    blocks = [(m.group(1), m.group(2)) for m in _PEM_BLOCK.finditer(data)]
    if len(_PEM_BEGIN.findall(data)) != len(blocks):
        raise CertificateError(
            "a PEM block has a BEGIN line but no matching END line: the file is truncated",
            file=name,
        )
    return blocks


def _load_pem_block(body: bytes, name: str, index: int) -> x509.Certificate:
    # Rebuild the block as RFC 7468 writes it, so that line ends (LF, CRLF, CR), indenting,
    # trailing spaces and blank lines from copying and pasting do not matter, nor the
    # older "X509 CERTIFICATE" label; the base64 itself is left for cryptography to judge.
    text = b"".join(body.split())
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    block = b"\n".join([b"-----BEGIN CERTIFICATE-----", *lines, b"-----END CERTIFICATE-----\n"])
    try:
        return x509.load_pem_x509_certificate(block)
    except ValueError:
        raise CertificateError(
            f"PEM block {index} is not a valid certificate (damaged or truncated base64)",
            file=name,
        ) from None


# --- TLS contexts ---------------------------------------------------------------------


def server_context(
    credential: Credential, *, client_cas_pem: bytes | str | None, require_client_cert: bool
) -> ssl.SSLContext:
    """A TLS 1.2+ server context presenting ``credential``'s chain. With
    ``require_client_cert`` the handshake fails unless the client shows a certificate that
    chains to ``client_cas_pem`` and is within its dates (API Gateway's mTLS); with
    ``client_cas_pem`` alone a certificate is verified when one is sent."""
    if require_client_cert and not client_cas_pem:
        raise ValueError("require_client_cert needs client_cas_pem to verify against")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    _load_credential(ctx, credential)
    if client_cas_pem:
        ctx.load_verify_locations(cadata=_text(client_cas_pem))
        ctx.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
    return ctx


def client_context(trust_pem: bytes | str, credential: Credential | None = None) -> ssl.SSLContext:
    """A TLS 1.2+ client context that trusts only ``trust_pem`` (host names checked) and, when
    given, presents ``credential`` as its client certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(cadata=_text(trust_pem))
    if credential is not None:
        _load_credential(ctx, credential)
    return ctx


def _text(pem: bytes | str) -> str:
    # ssl reads PEM trust anchors from a str; bytes would be taken for DER.
    return pem.decode("ascii") if isinstance(pem, bytes) else pem


def _load_credential(ctx: ssl.SSLContext, credential: Credential) -> None:
    # ssl loads a certificate and key only from files: write them to a private temporary
    # folder that is gone as soon as they are loaded.
    with _private_folder() as folder:
        cert_path = folder / "chain.pem"
        key_path = folder / "key.pem"
        cert_path.write_bytes(credential.chain_pem)
        _write_private(key_path, credential.key_pem)
        ctx.load_cert_chain(cert_path, key_path)


@contextlib.contextmanager
def _private_folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="grader-fapi-") as folder:
        yield Path(folder)  # mkdtemp makes it mode 0700


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT


# --- making certificates ----------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _credential(
    name: str,
    cert: x509.Certificate,
    key: ec.EllipticCurvePrivateKey,
    issuer: Credential | None,
) -> Credential:
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    chain_pem = cert_pem + (issuer.cert_pem if issuer is not None else b"")
    return Credential(cert, key, cert_pem, key_pem, chain_pem, name)


def _make_ca(
    name: str, common_name: str, now: datetime, organization: str = ORGANIZATION
) -> Credential:
    key = _new_key()
    subject = _name(common_name, organization)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CA_BEFORE)
        .not_valid_after(now + CA_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return _credential(name, cert, key, None)


def _make_client(
    name: str, issuer: Credential, not_before: datetime, not_after: datetime
) -> Credential:
    # A DNS SAN too, so RFC 8705's tls_client_auth_san_dns can name the client.
    return _make_leaf(
        name,
        issuer,
        not_before=not_before,
        not_after=not_after,
        usage=ExtendedKeyUsageOID.CLIENT_AUTH,
        sans=[x509.DNSName(f"{name.replace('_', '-')}.clients.shop.example")],
        common_name=name,
    )


def _make_leaf(
    name: str,
    issuer: Credential,
    *,
    not_before: datetime,
    not_after: datetime,
    usage: x509.ObjectIdentifier,
    sans: list[x509.GeneralName],
    common_name: str,
) -> Credential:
    key = _new_key()
    organization = issuer.cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, str(organization)))
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
        .sign(issuer.key, hashes.SHA256())
    )
    return _credential(name, cert, key, issuer)
