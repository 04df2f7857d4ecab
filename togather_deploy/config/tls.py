"""The ``togather:tls`` section: HTTPS at the router (issue 12).

    tls:
      mode: acme            # off | acme | files; default acme on staging/production with a domain
      email: ops@example.org            # acme: optional contact for the ACME account
      directoryUrl: https://acme-v02.api.letsencrypt.org/directory
      domains: [www.example.org]        # extra names on the certificate (``domain`` is always first)
      certificate: <secret PEM>         # files: chain, leaf first
      key: <secret PEM>                 # files: its private key (must be a secret)
      hsts: {maxAgeSeconds: 31536000, includeSubDomains: false}
      httpsPort: 443
      publicBind: 0.0.0.0               # 127.0.0.1 when a CDN/tunnel on this host fronts the node
      realIpFrom: [173.245.48.0/20]     # proxies whose X-Forwarded-For is believed; empty = nobody

Every key is validated here, before anything changes: a complaint names the key,
the value and the fix. ``key`` (and ``certificate``) are read only as secrets; the
certificate is public data, so a plain-text one is accepted, a plain-text key never.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from togather_deploy.config import fields as f
from togather_deploy.errors import ConfigError, invalid

MODES = ("off", "acme", "files")
LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"
LETS_ENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory"
HOST = r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
# One year: the minimum the HSTS preload list accepts, and what SSL Labs wants for A+.
DEFAULT_HSTS_MAX_AGE = 31536000


@dataclass(frozen=True)
class TlsConfig:
    mode: str
    """``off`` (plain HTTP), ``acme`` (issued and renewed by the stack) or ``files``."""
    domains: tuple[str, ...]
    """Every name on the certificate, the stack's ``domain`` first."""
    email: str | None = None
    directory_url: str = LETS_ENCRYPT
    certificate: str | None = field(default=None, repr=False)
    key: str | None = field(default=None, repr=False)
    hsts_max_age: int = DEFAULT_HSTS_MAX_AGE
    """0 sends no Strict-Transport-Security header."""
    hsts_include_subdomains: bool = False
    https_port: int = 443
    public_bind: str = "0.0.0.0"  # noqa: S104 (the documented default: a public node)
    real_ip_from: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return self.mode != "off"


def default_mode(environment: str, domain: str) -> str:
    """``acme`` for staging/production stacks that have a real domain, else ``off``."""
    return "acme" if environment in ("staging", "production") and domain != "_" else "off"


def read_tls(s: f.Section, *, environment: str, domain: str,
             secret_keys: Collection[str] = ()) -> TlsConfig:
    """Read and validate ``tls`` (``s``) for a stack whose ``domain`` is already validated."""
    mode = f.choice(s.key("mode"), s.get("mode"), MODES, default_mode(environment, domain))
    extra = _hosts(s.key("domains"), s.get("domains"))
    cert = f.optional_string(s.key("certificate"), s.get("certificate"))
    key = f.optional_string(s.key("key"), s.get("key"))
    hsts = s.section("hsts")
    cfg = TlsConfig(
        mode=mode,
        domains=tuple(dict.fromkeys((domain, *extra))) if domain != "_" else extra,
        email=f.optional_string(s.key("email"), s.get("email"), pattern=r"[^@\s]+@[^@\s]+\.[^@\s]+",
                                allowed="an e-mail address like ops@example.org"),
        directory_url=f.string(s.key("directoryUrl"), s.get("directoryUrl"), LETS_ENCRYPT,
                               pattern=r"https://[^\s]+",
                               allowed=f"an https:// ACME directory URL (Let's Encrypt: {LETS_ENCRYPT}, "
                               f"staging: {LETS_ENCRYPT_STAGING})"),
        certificate=cert,
        key=key,
        hsts_max_age=f.integer(hsts.key("maxAgeSeconds"), hsts.get("maxAgeSeconds"),
                               DEFAULT_HSTS_MAX_AGE, minimum=0, maximum=63072000),
        hsts_include_subdomains=f.boolean(hsts.key("includeSubDomains"),
                                          hsts.get("includeSubDomains"), False),
        https_port=f.port(s.key("httpsPort"), s.get("httpsPort"), 443),
        public_bind=_address(s.key("publicBind"), s.get("publicBind")),
        real_ip_from=_networks(s.key("realIpFrom"), s.get("realIpFrom")),
    )
    hsts.done()
    s.done()
    _check_mode(s, cfg, domain, secret_keys)
    return cfg


def _check_mode(s: f.Section, cfg: TlsConfig, domain: str, secret_keys: Collection[str]) -> None:
    if cfg.mode == "off":
        return
    if domain == "_":
        raise ConfigError(f"{s.key('mode')}: {cfg.mode} needs the stack's domain (it is '_')",
                          key="domain", fix="pulumi config set togather:domain events.example.org "
                          f"(or pulumi config set --path togather:{s.key('mode')} off)")
    if cfg.mode == "acme":
        for name in ("certificate", "key"):
            if getattr(cfg, name) is not None:
                raise ConfigError(f"{s.key(name)}: only used with mode files, mode is acme",
                                  key=s.key(name), fix=f"pulumi config rm --path togather:{s.key(name)}")
        return
    for name in ("certificate", "key"):
        # a value held encrypted that this reader was not given (scripts read the stack file
        # without decrypting) is present: only the program needs it, and it gets it
        if getattr(cfg, name) is None and s.key(name) not in secret_keys:
            raise ConfigError(f"{s.key(name)}: is required with mode files", key=s.key(name),
                              fix=f"pulumi config set --secret --path togather:{s.key(name)} "
                              f"< {name}.pem")
    if not any(k in secret_keys for k in (s.path, s.key("key"))):
        raise ConfigError(f"{s.key('key')}: is a private key but was stored in plain text",
                          key=s.key("key"),
                          fix=f"pulumi config set --secret --path togather:{s.key('key')} < key.pem")
    for name, marker in (("certificate", "-----BEGIN CERTIFICATE-----"), ("key", "PRIVATE KEY-----")):
        if getattr(cfg, name) is not None and marker not in getattr(cfg, name):
            # never echo the value: the key is secret and a certificate is long
            raise ConfigError(f"{s.key(name)}: is not a PEM {name} (no '{marker}' line)",
                              key=s.key(name), fix=f"set it from the PEM file: pulumi config set "
                              f"--secret --path togather:{s.key(name)} < {name}.pem")


def _list(key: str, value: Any, allowed: str) -> list[Any]:
    if not f.present(value):
        return []
    if isinstance(value, str):  # Pulumi passes a list set with --path as JSON text
        try:
            value = json.loads(value) if value.lstrip().startswith("[") else \
                [v.strip() for v in value.split(",") if v.strip()]
        except ValueError:
            raise invalid(key, value, allowed) from None
    if not isinstance(value, (list, tuple)):
        raise invalid(key, value, allowed)
    return list(value)


def _hosts(key: str, value: Any) -> tuple[str, ...]:
    allowed = "a list of host names like [www.example.org] (no wildcards: HTTP-01 cannot prove them)"
    names = _list(key, value, allowed)
    for i, name in enumerate(names):
        if not isinstance(name, str) or not re.fullmatch(HOST, name):
            raise invalid(f"{key}[{i}]", name, allowed)
    return tuple(n.lower() for n in names)


def _address(key: str, value: Any) -> str:
    allowed = "an IP address to bind the public ports to: 0.0.0.0, :: or 127.0.0.1"
    text = f.string(key, value, "0.0.0.0", allowed=allowed)  # noqa: S104
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise invalid(key, text, allowed) from None


def _networks(key: str, value: Any) -> tuple[str, ...]:
    allowed = "a list of CIDRs like [10.0.0.0/8, 2400:cb00::/32] (host bits zero)"
    out = []
    for i, item in enumerate(_list(key, value, allowed)):
        try:
            out.append(str(ipaddress.ip_network(str(item), strict=True)))
        except ValueError:
            raise invalid(f"{key}[{i}]", item, allowed) from None
    if any(n in ("0.0.0.0/0", "::/0") for n in out):
        raise ConfigError(f"{key}: trusting every address lets any client forge its IP",
                          key=key, fix="list only your CDN's or proxy's ranges")
    return tuple(out)


def tls_ports(tls: TlsConfig) -> dict[str, int]:
    """Host ports this section binds, for the stack-wide clash check."""
    return {"tls.httpsPort": tls.https_port} if tls.enabled else {}
