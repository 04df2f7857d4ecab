"""Certificate and key files: where they live, how they are created and installed.

Layout (all under the stack's state dir, which the deploy tooling owns):

    <state_dir>/tls/account.key      ACME account key        0600, never leaves this dir
    <state_dir>/tls/live.key         certificate key         0600, kept across renewals
    <state_dir>/tls/live.crt         certificate chain       0644 (public)
    <router_dir>/tls/live.{crt,key}  what nginx reads        key 0600 owned by nginx's worker
    <router_dir>/acme/.well-known/acme-challenge/<token>     HTTP-01 answers, while issuing

``install`` writes each file as temp → fsync → ``rename``, the key before the
certificate, so a handshake (which opens both, ``render.nginx_tls``) sees the
old pair or the new pair. A key that stays the same across renewals (the
default) makes the pair consistent at every instant; a new key has a window of
one rename between the two files. The installed key is chowned to the router's
worker *before* its rename: a key nginx's worker cannot read fails handshakes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from togather_deploy.errors import DeployError
from togather_deploy.hostfs.paths import make_dirs
from togather_deploy.render.nginx_tls import CERT_DIR, CERT_NAME, CHALLENGE_DIR, CHALLENGE_PREFIX

ACCOUNT_KEY = "account.key"
ROUTER_WORKER_UID = 65534
"""uid of ``nobody``, which the router's workers run as with TLS on (``render.nginx_tls``)."""


def state_tls_dir(state_dir: str) -> str:
    return os.path.join(state_dir, "tls")


def router_cert_dir(router_dir: str) -> str:
    return os.path.join(router_dir, CERT_DIR)


def challenge_dir(router_dir: str) -> str:
    """Host directory the router serves at ``/.well-known/acme-challenge/``."""
    return os.path.join(router_dir, CHALLENGE_DIR, CHALLENGE_PREFIX.strip("/"))


def write_file(path: str, data: bytes, *, mode: int, uid: int | None = None) -> None:
    """Atomically replace ``path``; mode and owner are set on the temp file, before the rename."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
        if uid is not None:
            os.fchown(fd, uid, -1)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def read_bytes(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def new_key_pem() -> bytes:
    """A fresh ECDSA P-256 key (fast handshakes; every client since ~2013 takes ECDSA)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def ensure_key(path: str) -> bytes:
    """The key at ``path``, created 0600 (in a 0700 directory) when missing."""
    existing = read_bytes(path)
    if existing is not None:
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)  # never leave a private key readable by others
        return existing
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    pem = new_key_pem()
    write_file(path, pem, mode=0o600)
    return pem


def not_after(cert_pem: bytes) -> dt.datetime:
    """Expiry of the first (leaf) certificate in a PEM chain, timezone-aware UTC."""
    try:
        return x509.load_pem_x509_certificates(cert_pem)[0].not_valid_after_utc
    except (ValueError, IndexError) as exc:
        raise DeployError("not a PEM certificate chain", cause=exc,
                          fix="check tls.certificate, or delete <state_dir>/tls/live.crt and "
                          "run `cert renew` to issue a new one") from None


def names(cert_pem: bytes) -> tuple[str, ...]:
    """DNS names of the leaf certificate's subjectAltName."""
    cert = x509.load_pem_x509_certificates(cert_pem)[0]
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    return tuple(san.get_values_for_type(x509.DNSName))


def install(state_dir: str, router_dir: str, cert_pem: bytes, key_pem: bytes, *,
            worker_uid: int | None = ROUTER_WORKER_UID) -> None:
    """Keep the pair in the state dir and hand it to the router (key first, see above)."""
    tls_dir = state_tls_dir(state_dir)
    os.makedirs(tls_dir, mode=0o700, exist_ok=True)
    write_file(os.path.join(tls_dir, f"{CERT_NAME}.key"), key_pem, mode=0o600)
    write_file(os.path.join(tls_dir, f"{CERT_NAME}.crt"), cert_pem, mode=0o644)
    served = router_cert_dir(router_dir)
    make_dirs(served, 0o755)  # the workers open both files at each handshake
    key_path = os.path.join(served, f"{CERT_NAME}.key")
    if read_bytes(key_path) != key_pem:
        write_file(key_path, key_pem, mode=0o600, uid=worker_uid)
    write_file(os.path.join(served, f"{CERT_NAME}.crt"), cert_pem, mode=0o644)


def current(state_dir: str) -> tuple[bytes, bytes] | None:
    """The kept (certificate chain, key), or ``None`` before the first issuance."""
    tls_dir = state_tls_dir(state_dir)
    cert = read_bytes(os.path.join(tls_dir, f"{CERT_NAME}.crt"))
    key = read_bytes(os.path.join(tls_dir, f"{CERT_NAME}.key"))
    return (cert, key) if cert is not None and key is not None else None
