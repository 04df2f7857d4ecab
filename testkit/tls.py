"""A throwaway certificate authority for router tests (real X.509 via ``cryptography``).

``TestCA().issue(("events.test",), key_pem)`` returns a PEM chain signed by the CA,
so a client can verify it against ``ca.pem`` exactly as browsers verify a real one.
Serial numbers are random: a test tells two issuances apart by serial.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import pwd
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def nobody_uid() -> int:
    """Debian's nginx started as root runs its workers as ``nobody``."""
    return pwd.getpwnam("nobody").pw_uid


class TestCA:
    __test__ = False  # not a pytest class

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "togather test CA")])
        now = dt.datetime.now(dt.UTC)
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - dt.timedelta(days=1))
                     .not_valid_after(now + dt.timedelta(days=30))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.pem = self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, names: Sequence[str], key_pem: bytes, *, days: int = 90,
              ips: Sequence[str] = ()) -> bytes:
        key = serialization.load_pem_private_key(key_pem, None)
        now = dt.datetime.now(dt.UTC)
        leaf = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
                .issuer_name(self.cert.subject).public_key(key.public_key())  # type: ignore[arg-type]
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(days=days))
                .add_extension(x509.SubjectAlternativeName(
                    [*(x509.DNSName(n) for n in names),
                     *(x509.IPAddress(ipaddress.ip_address(a)) for a in ips)]), critical=False)
                .sign(self.key, hashes.SHA256()))
        return leaf.public_bytes(serialization.Encoding.PEM) + self.pem
