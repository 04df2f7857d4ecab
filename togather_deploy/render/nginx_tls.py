"""HTTPS for the router (issue 12), rendered as text pieces that ``render.nginx`` splices in.

With ``RouterParams.tls`` set, the router has three listeners:

* ``tls.port`` (8443 in the container, published on ``httpsPort``): the public
  server of ``render.nginx`` with ``ssl http2``. ``$scheme`` is ``https`` there, so
  the app gets ``X-Forwarded-Proto: https`` from the unchanged proxy headers.
* ``listen_port`` (published on ``publicPort``, 80): only
  ``/.well-known/acme-challenge/`` (files from ``tls.challenge_root``, written by
  ``ops.acme_issue``) and a 308 to https for everything else, health paths
  included, so monitors follow (308 keeps the method and body, unlike 301).
* the preview listener: unchanged, loopback and plain.

**Rotation without a reload.** ``ssl_certificate`` holds a variable
(``$togather_tls_cert``, a constant ``map`` of ``$ssl_server_name``, so no client
input ever reaches a path), and nginx ≥ 1.15.9 then loads the certificate from
the file *per handshake*. A renewal renames a new ``live.crt`` into place and the
next handshake serves it; established connections keep theirs. The private key
is kept across renewals (``ops.acme_issue`` reuses it, like certbot's
``--reuse-key``), so the certificate and key nginx reads with two separate opens
always match. The price (no cache before nginx 1.27.4's ``ssl_certificate_cache``)
is two file reads and a PEM parse per full handshake, measured by
``benchmarks/tls_rotation.py``; session resumption (the shared cache below) skips it.

**Protocols and ciphers:** Mozilla's "intermediate" profile (v5.7): TLS 1.2 and 1.3
only, ECDHE key exchange with AEAD ciphers (AES-GCM, ChaCha20-Poly1305), no CBC, no
RSA key exchange, so every suite has forward secrecy. It is the profile for a public
site: every browser since 2014-ish (Android 4.4.2, Firefox 27, Chrome 31, Safari 9,
Java 8) connects. "Modern" (TLS 1.3 only) would shut out older Android/Java clients
for no practical gain. SSL Labs grades this A+ with HSTS of ≥ 6 months (A without
HSTS); it caps a grade at B for TLS 1.0/1.1 or non-forward-secret suites, which this
profile has none of. Let's Encrypt no longer runs OCSP (2025), so no stapling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from togather_deploy.config.model import DeployConfig
from togather_deploy.render.containers import ROUTER_CONF_DIR, ROUTER_HTTPS_PORT

CERT_DIR = "tls"
"""Sub-directory of the router's config dir holding ``live.crt`` / ``live.key``."""
CHALLENGE_DIR = "acme"
"""Sub-directory of the router's config dir served at ``/.well-known/acme-challenge/``."""
CERT_NAME = "live"
CHALLENGE_PREFIX = "/.well-known/acme-challenge/"
PROTOCOLS = "TLSv1.2 TLSv1.3"
# Mozilla intermediate v5.7, TLS 1.2 suites (OpenSSL's TLS 1.3 defaults are all AEAD + PFS).
# Its DHE suites are left out: they need a dhparam file and add no client that ECDHE misses.
CIPHERS = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
           "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
           "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305")


@dataclass(frozen=True)
class TlsParams:
    port: int
    """HTTPS listener port as nginx sees it (8443 in the container)."""
    cert_dir: str
    """Directory as nginx sees it holding ``live.crt`` (chain) and ``live.key``."""
    challenge_root: str
    """``root`` for ACME challenges: files live in ``<root>/.well-known/acme-challenge/``."""
    domains: tuple[str, ...]
    """Names we redirect to as themselves; any other Host goes to ``domains[0]``."""
    public_https_port: int = 443
    """The port clients use (for the redirect's ``Location``)."""
    hsts_max_age: int = 31536000
    hsts_include_subdomains: bool = False
    real_ip_from: tuple[str, ...] = ()
    per_handshake: bool = True
    """False renders a static certificate path (the benchmark's baseline only)."""


def container_tls(cfg: DeployConfig) -> TlsParams | None:
    """The containerised router's TLS: files under its mounted config dir; ``None`` when off."""
    if not cfg.tls.enabled:
        return None
    return TlsParams(
        port=ROUTER_HTTPS_PORT, cert_dir=f"{ROUTER_CONF_DIR}/{CERT_DIR}",
        challenge_root=f"{ROUTER_CONF_DIR}/{CHALLENGE_DIR}", domains=cfg.tls.domains,
        public_https_port=cfg.tls.https_port, hsts_max_age=cfg.tls.hsts_max_age,
        hsts_include_subdomains=cfg.tls.hsts_include_subdomains, real_ip_from=cfg.tls.real_ip_from)


def public_url(cfg: DeployConfig) -> str:
    """What clients use: ``https://domain`` (port only when not 443) with TLS on, else http."""
    host = cfg.domain if cfg.domain != "_" else "localhost"
    if cfg.tls.enabled:
        return f"https://{host}" + ("" if cfg.tls.https_port == 443 else f":{cfg.tls.https_port}")
    return f"http://{host}:{cfg.public_port}"


def local_verify_url(cfg: DeployConfig) -> str:
    """Where a flip is verified from the host: the router's HTTPS port when TLS is on (port 80
    only redirects), on loopback; ``ops.traffic_verify`` skips name checks for loopback HTTPS."""
    if cfg.tls.enabled:
        return f"https://127.0.0.1:{cfg.tls.https_port}"
    return f"http://127.0.0.1:{cfg.public_port}"


def cert_path(t: TlsParams, ext: str) -> str:
    name = "$togather_tls_cert" if t.per_handshake else CERT_NAME
    return f"{t.cert_dir.rstrip('/')}/{name}.{ext}"


def main_directives(t: TlsParams | None) -> str:
    """Main-context lines: the workers' user, fixed so the installed key (0600) can be owned by
    it (``ops.tls.files.ROUTER_WORKER_UID``). ``nobody``/``nogroup`` exist in every Debian-based
    image (the official nginx one's own ``nginx`` user does not exist in Debian's package)."""
    return "user nobody nogroup;\n" if t is not None else ""


def http_directives(t: TlsParams | None) -> str:
    """``http {}``-level lines: the TLS profile, the redirect host map and real-IP trust."""
    if t is None:
        return ""
    hosts = "\n".join(f"        {d} {d};" for d in t.domains)
    lines = [
        "    # HTTPS (togather_deploy/render/nginx_tls.py): Mozilla intermediate profile",
        f"    ssl_protocols {PROTOCOLS};",
        f"    ssl_ciphers {CIPHERS};",
        "    ssl_prefer_server_ciphers off;",
        "    ssl_ecdh_curve X25519:prime256v1:secp384r1;",
        # ~4000 sessions per MB; a resumed session skips the per-handshake certificate load
        "    ssl_session_cache shared:togather_tls:10m;",
        "    ssl_session_timeout 1d;",
        # tickets off: nginx never rotates the ticket key, which would void forward secrecy
        "    ssl_session_tickets off;",
        f"    map $ssl_server_name $togather_tls_cert {{ default {CERT_NAME}; }}",
        "    map $host $togather_https_host {",
        f"        default {t.domains[0]};",
        hosts,
        "    }",
        *_real_ip(t.real_ip_from),
    ]
    return "\n".join(lines) + "\n"


def _real_ip(networks: Sequence[str]) -> list[str]:
    if not networks:  # nobody is trusted: $remote_addr is the TCP peer
        return []
    return [*(f"    set_real_ip_from {n};" for n in networks),
            "    real_ip_header X-Forwarded-For;",
            "    real_ip_recursive on;"]


def https_listen(t: TlsParams, addr: str) -> str:
    """Replaces the public server's ``listen`` line: TLS, HTTP/2, the certificate, HSTS."""
    # `listen ... http2` works on 1.22 (tests) and 1.27 (router image; deprecated there in
    # favour of `http2 on;`, which 1.22 lacks): one text for both.
    lines = [f"        listen {addr}:{t.port} ssl http2;",
             f"        ssl_certificate {cert_path(t, 'crt')};",
             f"        ssl_certificate_key {cert_path(t, 'key')};"]
    if t.hsts_max_age:
        sub = "; includeSubDomains" if t.hsts_include_subdomains else ""
        hsts = f"max-age={t.hsts_max_age}{sub}"
        lines.append(f"        add_header Strict-Transport-Security \"{hsts}\" always;")
    return "\n".join(lines)


def redirect_server(t: TlsParams, addr: str, port: int) -> str:
    """The plain-HTTP server: ACME challenges, then 308 to https for everything."""
    suffix = "" if t.public_https_port == 443 else f":{t.public_https_port}"
    return f"""    server {{
        listen {addr}:{port};
        server_name _;
        set $togather_color "";  # the access log names it; nothing is proxied here
        location ^~ {CHALLENGE_PREFIX} {{
            root {t.challenge_root.rstrip('/')};
            default_type text/plain;
            try_files $uri =404;
        }}
        location / {{
            return 308 https://$togather_https_host{suffix}$request_uri;
        }}
    }}
"""
