"""A minimal PostgreSQL wire-protocol (v3) client: standard library only.

Enough for a health check: connect (optionally over TLS), authenticate (trust,
cleartext, MD5, SCRAM-SHA-256), run simple queries, and report the server's
ErrorResponse with its SQLSTATE. One connection per use, every socket
operation bounded by ``timeout``. Values come back as text (``None`` for NULL).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from pgauth import AuthError, ScramClient, md5_password

PROTOCOL_V3 = 196608
SSL_REQUEST = 80877103


class PgError(Exception):
    """A failure talking to PostgreSQL. ``code`` is the SQLSTATE when the server sent one."""

    def __init__(self, message: str, code: str | None = None, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.fields = fields or {}


@dataclass(frozen=True)
class Dsn:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    dbname: str
    sslmode: str = "prefer"


def parse_dsn(url: str) -> Dsn:
    """``postgres[ql]://user:password@host:port/db?sslmode=...`` into its parts."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise PgError(f"DATABASE_URL must start with postgres:// (got scheme {parts.scheme!r})")
    query = parse_qs(parts.query)
    user = unquote(parts.username or "postgres")
    return Dsn(host=parts.hostname or "127.0.0.1", port=parts.port or 5432, user=user,
               password=unquote(parts.password or ""),
               dbname=unquote(parts.path.lstrip("/")) or user,
               sslmode=query.get("sslmode", ["prefer"])[0])


def _cstr(value: str) -> bytes:
    return value.encode() + b"\x00"


def _message(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("!I", len(payload) + 4) + payload


def _error_fields(payload: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in payload.split(b"\x00"):
        if item:
            out[chr(item[0])] = item[1:].decode(errors="replace")
    return out


class Connection:
    """One authenticated session. Use as a context manager; ``close`` sends Terminate."""

    def __init__(self, dsn: Dsn, timeout: float = 2.0) -> None:
        self.dsn = dsn
        try:
            self.sock: socket.socket = socket.create_connection((dsn.host, dsn.port), timeout=timeout)
        except OSError as exc:
            raise PgError(f"cannot connect to {dsn.host}:{dsn.port}: {exc}") from exc
        try:
            if dsn.sslmode not in ("disable", "allow"):
                self._negotiate_tls()
            self._startup()
        except OSError as exc:
            self.sock.close()
            raise PgError(f"connection to {dsn.host}:{dsn.port} failed: {exc}") from exc
        except PgError:
            self.sock.close()
            raise

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _negotiate_tls(self) -> None:
        self.sock.sendall(struct.pack("!II", 8, SSL_REQUEST))
        answer = self._exact(1)
        if answer == b"S":
            ctx = ssl.create_default_context()
            if self.dsn.sslmode in ("prefer", "require"):  # libpq: encryption without verification
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            self.sock = ctx.wrap_socket(self.sock, server_hostname=self.dsn.host)
        elif self.dsn.sslmode in ("require", "verify-ca", "verify-full"):
            raise PgError(f"sslmode={self.dsn.sslmode} but the server does not offer TLS")

    def _exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise PgError("server closed the connection")
            buf += chunk
        return buf

    def _read(self) -> tuple[bytes, bytes]:
        header = self._exact(5)
        (length,) = struct.unpack("!I", header[1:])
        return header[:1], self._exact(length - 4)

    def _raise(self, payload: bytes) -> None:
        fields = _error_fields(payload)
        raise PgError(fields.get("M", "unknown error"), code=fields.get("C"), fields=fields)

    def _startup(self) -> None:
        params = _cstr("user") + _cstr(self.dsn.user) + _cstr("database") + _cstr(self.dsn.dbname)
        params += _cstr("application_name") + _cstr("togather-demo-app") + b"\x00"
        body = struct.pack("!I", PROTOCOL_V3) + params
        self.sock.sendall(struct.pack("!I", len(body) + 4) + body)
        scram: ScramClient | None = None
        while True:
            kind, payload = self._read()
            if kind == b"E":
                self._raise(payload)
            if kind == b"Z":
                return
            if kind != b"R":
                continue  # ParameterStatus, BackendKeyData, notices
            (code,) = struct.unpack("!I", payload[:4])
            if code == 3:
                self.sock.sendall(_message(b"p", _cstr(self.dsn.password)))
            elif code == 5:
                self.sock.sendall(_message(b"p", md5_password(self.dsn.user, self.dsn.password,
                                                              payload[4:8]) + b"\x00"))
            elif code == 10:
                if b"SCRAM-SHA-256\x00" not in payload[4:]:
                    raise PgError("server offers no SASL mechanism this client knows")
                scram = ScramClient(self.dsn.password)
                first = scram.first_message()
                self.sock.sendall(_message(b"p", _cstr("SCRAM-SHA-256")
                                           + struct.pack("!I", len(first)) + first))
            elif code == 11 and scram is not None:
                try:
                    final = scram.final_message(payload[4:].decode())
                except AuthError as exc:
                    raise PgError(str(exc)) from exc
                self.sock.sendall(_message(b"p", final))
            elif code == 12 and scram is not None:
                try:
                    scram.verify(payload[4:].decode())
                except AuthError as exc:
                    raise PgError(str(exc)) from exc
            elif code != 0:
                raise PgError(f"unsupported authentication method (code {code})")

    def query(self, sql: str) -> tuple[list[str], list[tuple[str | None, ...]]]:
        """Run one simple query; return (column names, rows of text values)."""
        self.sock.sendall(_message(b"Q", _cstr(sql)))
        columns: list[str] = []
        rows: list[tuple[str | None, ...]] = []
        error: bytes | None = None
        while True:
            kind, payload = self._read()
            if kind == b"T":
                columns = self._columns(payload)
            elif kind == b"D":
                rows.append(self._row(payload))
            elif kind == b"E":
                error = payload
            elif kind == b"Z":
                if error is not None:
                    self._raise(error)
                return columns, rows

    @staticmethod
    def _columns(payload: bytes) -> list[str]:
        (count,) = struct.unpack("!H", payload[:2])
        names, pos = [], 2
        for _ in range(count):
            end = payload.index(b"\x00", pos)
            names.append(payload[pos:end].decode())
            pos = end + 1 + 18  # table oid, attnum, type oid, typlen, typmod, format
        return names

    @staticmethod
    def _row(payload: bytes) -> tuple[str | None, ...]:
        (count,) = struct.unpack("!H", payload[:2])
        values: list[str | None] = []
        pos = 2
        for _ in range(count):
            (size,) = struct.unpack("!i", payload[pos:pos + 4])
            pos += 4
            if size < 0:
                values.append(None)
            else:
                values.append(payload[pos:pos + size].decode())
                pos += size
        return tuple(values)

    def close(self) -> None:
        with contextlib.suppress(OSError):  # the server may already be gone
            self.sock.sendall(_message(b"X", b""))
        self.sock.close()


def connect(url: str, timeout: float = 2.0) -> Connection:
    return Connection(parse_dsn(url), timeout=timeout)
