"""PostgreSQL connection URLs: built with percent-encoding, parsed without echoing a password.

Every URL this project writes (the app's ``DATABASE_URL``, ``pg_dump --dbname=``)
comes from ``build_url``, which percent-encodes the user, password and database
name, so a password holding ``:@/#?%`` reaches the server intact and a name like
``db?host=elsewhere`` cannot redirect a connection (and its password) to
another server. Database names typed by an operator are checked against the
identifier grammar first (``database_name``). Tools connect from the parsed parts
(``DbUrl.connect_kwargs``), never by handing the raw text to libpq.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from togather_deploy.errors import ConfigError

IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]{0,62}"
URL_KEY = "--database-url"


def database_name(name: str, key: str) -> str:
    """``name`` if it is a plain SQL identifier, else a ``ConfigError`` naming ``key``."""
    if not isinstance(name, str) or not re.fullmatch(IDENTIFIER, name):
        raise ConfigError(f"{key}: {name!r} is not a database name (letters, digits and _, "
                          "not starting with a digit, at most 63)", key=key,
                          fix="choose a name like togather_inspect")
    return name


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def build_url(user: str, password: str | None, host: str, port: int, dbname: str, *,
              scheme: str = "postgresql", params: dict[str, str] | None = None) -> str:
    """``scheme://user:password@host:port/dbname?params`` with every part percent-encoded."""
    auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password is not None else "")
    netloc = f"{auth}@{_host(host)}:{int(port)}"
    return urlunsplit((scheme, netloc, "/" + quote(dbname, safe=""), urlencode(params or {}), ""))


@dataclass(frozen=True)
class DbUrl:
    """The parts of a ``postgresql://`` URL the tools need (password kept out of repr)."""

    user: str
    host: str
    port: int
    dbname: str
    password: str | None = field(default=None, repr=False)
    params: tuple[tuple[str, str], ...] = ()
    """Query parameters (``sslmode=disable``...), passed on as libpq keywords."""

    def __repr__(self) -> str:
        return f"DbUrl({self.safe})"

    @property
    def safe(self) -> str:
        """The URL with the password replaced by ``***``: safe for messages."""
        return build_url(self.user, None, self.host, self.port, self.dbname).replace(
            "@", ":***@", 1) if self.password else self.without_password

    @property
    def without_password(self) -> str:
        return build_url(self.user, None, self.host, self.port, self.dbname, params=dict(self.params))

    def with_dbname(self, dbname: str, key: str = "--into") -> DbUrl:
        return DbUrl(self.user, self.host, self.port, database_name(dbname, key), self.password,
                     self.params)

    def connect_kwargs(self) -> dict[str, Any]:
        """libpq keywords, one per part: nothing in a value can be read as another keyword."""
        kwargs: dict[str, Any] = dict(self.params)
        kwargs.update(host=self.host, port=self.port, user=self.user, dbname=self.dbname)
        if self.password is not None:
            kwargs["password"] = self.password
        return kwargs


def parse_url(url: str, key: str = URL_KEY) -> DbUrl:
    """Parse a database URL; a bad one is a ``ConfigError`` that never echoes the password."""
    shape = "postgresql://USER:PASSWORD@HOST:PORT/DBNAME (percent-encode : @ / # ? % in the password)"
    try:
        parts = urlsplit(url or "")
        port = parts.port or 5432
        host = parts.hostname
    except ValueError:
        raise ConfigError(f"{key}: the database URL cannot be parsed", key=key,
                          fix=f"write it as {shape}") from None
    dbname = unquote(parts.path[1:]) if parts.path.startswith("/") else ""
    if parts.scheme not in ("postgres", "postgresql") or not host or not dbname or parts.fragment:
        raise ConfigError(f"{key}: the database URL must look like {shape}", key=key,
                          fix="pass --database-url-file FILE or set DATABASE_URL")
    return DbUrl(user=unquote(parts.username or "postgres"), host=host, port=port,
                 dbname=database_name(dbname, f"{key} (database name)"),
                 password=unquote(parts.password) if parts.password is not None else None,
                 params=tuple(parse_qsl(parts.query)))


def redact(text: str, url: str | None) -> str:
    """``text`` with the URL's password (raw and decoded) and the full URL removed."""
    if not url:
        return text
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        try:
            safe = parse_url(url).safe
        except ConfigError:
            safe = "postgresql://***"
        text = text.replace(url, safe)
        for secret in {password, unquote(password)}:
            if len(secret) >= 3:
                text = text.replace(secret, "***")
    return text
