"""Throwaway PKI for the TLS tests: a trusted CA, a server certificate for localhost and 127.0.0.1,
client certificates it signed, and a second, untrusted CA with a client certificate of its own.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID = timedelta(days=2)
"""Long enough for any test run; the certificates start an hour back so clock skew cannot matter."""


@dataclass(frozen=True)
class Issued:
    """A certificate and its key as PEM files."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class ThrowawayPki:
    """Every file the TLS tests use, all PEM."""

    ca: Path
    """The CA the server and the mutual-TLS server trust."""
    server: Issued
    """Signed by `ca`, for DNS localhost and IP 127.0.0.1."""
    client: Issued
    """CN "planner-1", signed by `ca`."""
    other_client: Issued
    """CN "approver-1", signed by `ca`."""
    untrusted_ca: Path
    """A second CA nobody trusts."""
    untrusted_client: Issued
    """CN "planner-1" again, signed by `untrusted_ca`: the same name from the wrong issuer."""
    untrusted_server: Issued
    """A server certificate for localhost and 127.0.0.1 signed by `untrusted_ca`."""


class _Authority:
    """A self-signed CA that issues leaf certificates."""

    def __init__(self, name: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.now(UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(self.name)
            .issuer_name(self.name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + VALID)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self.key, hashes.SHA256())
        )

    def write(self, path: Path) -> Path:
        path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        return path

    def issue(self, folder: Path, stem: str, common_name: str, *, server: bool) -> Issued:
        """A leaf certificate: for a server, with SAN DNS localhost and IP 127.0.0.1."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + VALID)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
        )
        if server:
            names: list[x509.GeneralName] = [
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            ]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        issued = Issued(folder / f"{stem}.crt", folder / f"{stem}.key")
        issued.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        issued.key.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        issued.key.chmod(0o600)
        return issued


def make_pki(folder: Path) -> ThrowawayPki:
    """A fresh CA, its server and client certificates, and an untrusted CA, written to `folder`."""
    trusted = _Authority("Concerto test CA")
    untrusted = _Authority("Untrusted test CA")
    return ThrowawayPki(
        ca=trusted.write(folder / "ca.crt"),
        server=trusted.issue(folder, "server", "localhost", server=True),
        client=trusted.issue(folder, "client", "planner-1", server=False),
        other_client=trusted.issue(folder, "other-client", "approver-1", server=False),
        untrusted_ca=untrusted.write(folder / "untrusted-ca.crt"),
        untrusted_client=untrusted.issue(folder, "untrusted-client", "planner-1", server=False),
        untrusted_server=untrusted.issue(folder, "untrusted-server", "localhost", server=True),
    )


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayPki:
    """One throwaway PKI for the whole test session."""
    return make_pki(tmp_path_factory.mktemp("pki"))
