"""Transport security's inputs, shared by server and client: the PEM files a TLS setting names, read
and checked before anything binds or dials, and which addresses are loopback.

A bad file is a `ValidationError` naming the setting it came from (a `concerto` flag such as
`--tls-cert`, or a keyword such as `tls_ca`), so that a typo is one line saying what to fix rather
than a handshake that fails later with a generic UNAVAILABLE.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from enum import StrEnum
from pathlib import Path

from models.errors import ValidationError

LOOPBACK = "127.0.0.0/8, ::1, localhost"
"""The addresses `is_loopback` accepts, as error messages and the README spell them."""


class PemKind(StrEnum):
    """What a PEM file must hold; the value ends the PEM label searched for, and is named in errors."""

    CERTIFICATE = "CERTIFICATE"
    PRIVATE_KEY = "PRIVATE KEY"


def read_pem(path: str | os.PathLike[str], *, setting: str, kind: PemKind, entity: str = "TLS setting") -> bytes:
    """The bytes of a PEM file holding a `kind`; a missing, unreadable or wrong file raises a
    `ValidationError` naming `setting`."""
    where = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ValidationError(
            entity, where, setting, f"does not exist; give the path of a PEM {kind.lower()}"
        ) from None
    except IsADirectoryError:
        raise ValidationError(entity, where, setting, f"is a folder; give the path of a PEM {kind.lower()}") from None
    except OSError as exc:
        raise ValidationError(
            entity, where, setting, f"cannot be read ({exc.strerror}); check the permissions"
        ) from None
    if b"ENCRYPTED PRIVATE KEY" in data or b"Proc-Type: 4,ENCRYPTED" in data:
        raise ValidationError(
            entity, where, setting, "is an encrypted key, which gRPC cannot use; give the key unencrypted (owner-only)"
        )
    # "PRIVATE KEY-----" also matches the RSA and EC labels ("-----BEGIN RSA PRIVATE KEY-----").
    if f"{kind}-----".encode() not in data:
        raise ValidationError(entity, where, setting, f"holds no PEM {kind.lower()} ('-----BEGIN {kind}-----')")
    return data


def check_key_pair(
    cert: str | os.PathLike[str], key: str | os.PathLike[str], *, settings: tuple[str, str], entity: str = "TLS setting"
) -> None:
    """Refuse a certificate and key that do not parse or do not belong together (`settings` names
    the two, certificate first); gRPC would only fail at the first handshake."""
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        raise ValidationError(
            entity,
            os.fspath(key),
            settings[1],
            f"does not go with {settings[0]} {os.fspath(cert)!r} ({exc.reason or exc}); "
            "give the private key of that certificate",
        ) from None


def check_trust_roots(path: str | os.PathLike[str], *, setting: str, entity: str = "TLS setting") -> None:
    """Refuse a CA file whose certificates do not parse."""
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=os.fspath(path))
    except ssl.SSLError as exc:
        raise ValidationError(
            entity, os.fspath(path), setting, f"is not a PEM CA certificate bundle ({exc.reason or exc})"
        ) from None


def host_of(address: str) -> str:
    """The host part of a gRPC address: "127.0.0.1:50051" -> "127.0.0.1", "[::1]:0" -> "::1",
    "dns:///localhost:50051" -> "localhost", ":50051" -> "" (every interface)."""
    for scheme in ("dns:///", "dns:", "ipv4:", "ipv6:"):
        if address.startswith(scheme):
            address = address[len(scheme) :]
            break
    if address.startswith("["):
        end = address.find("]")
        return address[1:end] if end > 0 else address
    if address.count(":") == 1:
        return address.rsplit(":", 1)[0]
    return address  # no port, or a bare IPv6 address


def is_loopback(address: str) -> bool:
    """Whether a gRPC address is reachable from this machine only: a loopback IP (127.0.0.0/8,
    ::1), `localhost`, or a Unix socket (`unix:`, `unix-abstract:`)."""
    if address.startswith(("unix:", "unix-abstract:")):
        return True
    host = host_of(address)
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
