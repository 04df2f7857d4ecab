"""``togather:registry``: credentials for pulling the app images from a private registry.

    pulumi config set --path togather:registry.server ghcr.io
    pulumi config set --path togather:registry.username your-bot
    pulumi config set --secret --path togather:registry.password ghp_your-read-only-token

``server`` must be the registry of ``image`` (``ghcr.io`` for ``ghcr.io/org/server``; Docker
Hub's is ``docker.io``), so the credentials can only ever be offered to that host. The
password must be stored as a secret; a plain-text one is refused, without showing it. The
stack-file reader of the read-only verbs does not decrypt it (``password`` is then ``None``:
known to exist, not known); the program and the releasing verbs get the value.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from togather_deploy.config import fields as f
from togather_deploy.config.secrets import is_secret
from togather_deploy.errors import ConfigError

KEY = "registry"
_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?"


@dataclass(frozen=True)
class RegistryConfig:
    server: str
    username: str
    password: str | None = field(default=None, repr=False)
    """``None`` when the reader could not decrypt it (the read-only verbs)."""


def image_registry(image: str) -> str:
    """The registry host of a repository: its first component when that looks like a host
    (has a dot or a port, or is ``localhost``), else Docker Hub."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def read_registry(s: f.Section, image: str, secret_keys: Collection[str]) -> RegistryConfig | None:
    raw = {k: s.get(k) for k in ("server", "username", "password")}
    encrypted = is_secret(s.key("password"), secret_keys)
    if not any(f.present(v) for v in raw.values()) and (not encrypted or s.path in secret_keys):
        s.done()  # absent, or a whole-object secret this reader cannot decrypt
        return None
    server = f.string(s.key("server"), raw["server"], pattern=_HOST,
                      allowed="a registry host like ghcr.io (no scheme, no path)")
    username = f.string(s.key("username"), raw["username"], pattern=r"[^\s]{1,256}",
                        allowed="the registry user name")
    password = f.optional_string(s.key("password"), raw["password"])
    s.done()
    if password is not None and not encrypted:
        raise ConfigError(f"{s.key('password')}: is a secret but was stored in plain text",
                          key=s.key("password"),
                          fix=f"pulumi config set --secret --path togather:{s.key('password')} TOKEN")
    if password is None and s.key("password") not in secret_keys:  # not even an encrypted leaf
        raise ConfigError(f"{s.key('password')}: missing", key=s.key("password"),
                          fix=f"pulumi config set --secret --path togather:{s.key('password')} TOKEN "
                              "(a read-only token: docs/operations.md, section 17)")
    expected = image_registry(image)
    if server.lower() != expected.lower():
        raise ConfigError(f"{s.key('server')}: {server} is not the registry of image {image} ({expected})",
                          key=s.key("server"),
                          fix=f"pulumi config set --path togather:{s.key('server')} {expected}")
    return RegistryConfig(server=server, username=username, password=password)
