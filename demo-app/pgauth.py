"""Password authentication for the PostgreSQL wire protocol: SCRAM-SHA-256 and MD5.

Pure functions of the password and the server's challenge (no sockets), so they
are tested against the RFC 7677 vector as well as a real server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os


class AuthError(Exception):
    """The server's SCRAM answers do not check out."""


class ScramClient:
    """The client side of SCRAM-SHA-256 (RFC 5802/7677) as PostgreSQL uses it."""

    def __init__(self, password: str, nonce: str | None = None, user: str = "") -> None:
        self.password = password
        self.nonce = nonce or base64.b64encode(os.urandom(18)).decode()
        # PostgreSQL ignores the SCRAM user name (it uses the startup one), so libpq sends none.
        self.first_bare = f"n={user},r={self.nonce}"
        self.server_signature = b""

    def first_message(self) -> bytes:
        return ("n,," + self.first_bare).encode()

    def final_message(self, server_first: str) -> bytes:
        attrs = dict(item.split("=", 1) for item in server_first.split(","))
        if not attrs["r"].startswith(self.nonce):
            raise AuthError("SCRAM: server nonce does not extend the client nonce")
        salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(), base64.b64decode(attrs["s"]),
                                     int(attrs["i"]))
        client_key = hmac.digest(salted, b"Client Key", "sha256")
        without_proof = f"c=biws,r={attrs['r']}"
        auth = f"{self.first_bare},{server_first},{without_proof}".encode()
        signature = hmac.digest(hashlib.sha256(client_key).digest(), auth, "sha256")
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        server_key = hmac.digest(salted, b"Server Key", "sha256")
        self.server_signature = hmac.digest(server_key, auth, "sha256")
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def verify(self, server_final: str) -> None:
        attrs = dict(item.split("=", 1) for item in server_final.split(","))
        if "v" not in attrs or not hmac.compare_digest(base64.b64decode(attrs["v"]),
                                                       self.server_signature):
            raise AuthError("SCRAM: the server's signature does not match (not the real server?)")


def md5_password(user: str, password: str, salt: bytes) -> bytes:
    inner = hashlib.md5((password + user).encode()).hexdigest()  # noqa: S324 - the protocol's own scheme
    return ("md5" + hashlib.md5(inner.encode() + salt).hexdigest()).encode()  # noqa: S324
