"""HTTPS at the router: rendered text, the real ``nginx -t``, and a real nginx serving TLS
with certificates from a throwaway CA: redirects, challenges, headers, and a rotation
that needs no reload."""

from __future__ import annotations

import dataclasses
import http.client
import os
import socket
import ssl
from collections.abc import Iterator

import pytest

from testkit.nginx import (
    HOST_JS_MODULE,
    NginxRouter,
    nginx_available,
    nginx_test,
    private_dir,
    start_router,
    write_config,
)
from testkit.ports import free_port
from testkit.stub_app import StubApp
from testkit.tls import TestCA, nobody_uid
from togather_deploy.config.model import DeployConfig, load_config
from togather_deploy.hostfs.paths import make_dirs
from togather_deploy.ops.tls import files as tls_files
from togather_deploy.ops.traffic_verify import check_public
from togather_deploy.render.nginx import render_nginx_conf, router_params
from togather_deploy.render.nginx_tls import TlsParams, local_verify_url, public_url


@pytest.fixture
def workdir() -> Iterator[str]:
    with private_dir() as d:
        yield d


needs_nginx = pytest.mark.skipif(not nginx_available(), reason="nginx + njs not installed: scripts/test")
HOST = "events.test"


def _cfg(**tls: object) -> DeployConfig:
    return load_config({"image": "ghcr.io/x/server", "blue": {"version": "v1"}, "environment": "production",
                        "domain": "events.example.org", "tls": tls,
                        "appEnv": {"CORS_ALLOWED_ORIGINS": "https://events.example.org"}},
                       project="togather-deploy", stack="prod", project_dir="/srv")


def test_off_renders_no_tls_and_on_renders_https_redirect_and_per_handshake_certificate() -> None:
    assert "ssl" not in render_nginx_conf(router_params(_cfg(mode="off")))
    conf = render_nginx_conf(router_params(_cfg(domains=["www.example.org"], realIpFrom=["10.0.0.0/8"])))
    assert "listen 0.0.0.0:8443 ssl http2;" in conf
    assert "ssl_certificate /etc/togather-router/tls/$togather_tls_cert.crt;" in conf
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in conf and "CBC" not in conf and ":DHE-" not in conf
    assert "return 308 https://$togather_https_host$request_uri;" in conf
    assert "www.example.org www.example.org;" in conf and "default events.example.org;" in conf
    assert "set_real_ip_from 10.0.0.0/8;" in conf and "max-age=31536000\"" in conf
    assert "listen 0.0.0.0:8081;" in conf  # the preview listener stays plain
    assert "set_real_ip_from" not in render_nginx_conf(router_params(_cfg()))


@needs_nginx
@pytest.mark.nginx
def test_nginx_t_accepts_the_container_tls_config(workdir: str) -> None:
    conf_dir = os.path.join(workdir, "router")
    p = dataclasses.replace(router_params(_cfg(httpsPort=8443, hsts={"includeSubDomains": True})),
                            conf_dir=conf_dir, js_module=HOST_JS_MODULE, error_log="logs/error.log",
                            pid="logs/nginx.pid")
    write_config(p)
    result = nginx_test(conf_dir)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def ca() -> TestCA:
    return TestCA()


@pytest.fixture
def tls_router(workdir: str, ca: TestCA) -> Iterator[tuple[NginxRouter, StubApp]]:
    if not nginx_available():
        pytest.skip("nginx + njs not installed: scripts/test")
    conf_dir = os.path.join(workdir, "router")
    port = free_port()
    tls = TlsParams(port=port, cert_dir=os.path.join(conf_dir, "tls"),
                    challenge_root=os.path.join(conf_dir, "acme"), domains=(HOST, "www." + HOST),
                    public_https_port=port, real_ip_from=("127.0.0.0/8",))
    key = tls_files.new_key_pem()
    os.makedirs(conf_dir, exist_ok=True)
    tls_files.install(os.path.join(workdir, "state"), conf_dir, ca.issue((HOST,), key), key,
                      worker_uid=nobody_uid())
    with StubApp(slot="blue", version="v1") as blue, StubApp(slot="green", version="v2") as green, \
            start_router({"blue": f"127.0.0.1:{blue.port}", "green": f"127.0.0.1:{green.port}"}, conf_dir,
                         tls=tls) as r:
        yield r, blue


def _client(ca: TestCA, conn_port: int, *, alpn: bool = False) -> tuple[ssl.SSLSocket, ssl.SSLContext]:
    ctx = ssl.create_default_context(cadata=ca.pem.decode())
    if alpn:
        ctx.set_alpn_protocols(["h2", "http/1.1"])
    sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", conn_port), timeout=10),
                           server_hostname=HOST)
    return sock, ctx


def _serial(sock: ssl.SSLSocket) -> str:
    from cryptography import x509
    der = sock.getpeercert(binary_form=True)
    assert der is not None
    return hex(x509.load_der_x509_certificate(der).serial_number)


@pytest.mark.nginx
def test_https_is_verified_h2_and_the_app_sees_https_and_the_real_client(
        tls_router: tuple[NginxRouter, StubApp], ca: TestCA) -> None:
    router, blue = tls_router
    port = router.params.tls.port  # type: ignore[union-attr]
    sock, _ = _client(ca, port, alpn=True)
    assert sock.selected_alpn_protocol() == "h2" and sock.version() in ("TLSv1.3", "TLSv1.2")
    sock.close()
    ctx = ssl.create_default_context(cadata=ca.pem.decode())
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    conn.sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname=HOST)
    conn.request("GET", "/version", headers={"Host": HOST, "X-Forwarded-For": "203.0.113.9"})
    resp = conn.getresponse()
    assert resp.status == 200 and b"v1" in resp.read()
    assert resp.getheader("Strict-Transport-Security") == "max-age=31536000"
    seen = blue.state.headers_seen[-1]
    assert seen["X-Forwarded-Proto"] == "https"
    assert seen["X-Real-IP"] == "203.0.113.9"  # 127.0.0.1 is in realIpFrom: its XFF is believed


@pytest.mark.nginx
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_old_protocols_and_cbc_suites_are_refused_by_the_server(
        tls_router: tuple[NginxRouter, StubApp], ca: TestCA) -> None:
    port = tls_router[0].params.tls.port  # type: ignore[union-attr]

    def handshake(version: ssl.TLSVersion, ciphers: str) -> str:
        ctx = ssl.create_default_context(cadata=ca.pem.decode())
        ctx.set_ciphers(ciphers + ":@SECLEVEL=0")  # the client would take it: only nginx can refuse
        ctx.minimum_version = ctx.maximum_version = version
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname=HOST) as s:
            return str((s.cipher() or ("",))[0])

    gcm = "ECDHE-ECDSA-AES128-GCM-SHA256"
    assert handshake(ssl.TLSVersion.TLSv1_2, gcm) == gcm
    for version, ciphers in [(ssl.TLSVersion.TLSv1_1, "ALL"),
                             (ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-SHA")]:
        with pytest.raises(ssl.SSLError):
            handshake(version, ciphers)


@pytest.mark.nginx
def test_port_80_redirects_everything_but_acme_challenges(tls_router: tuple[NginxRouter, StubApp]) -> None:
    router, blue = tls_router
    port = router.params.tls.port  # type: ignore[union-attr]
    token_dir = tls_files.challenge_dir(router.conf_dir)
    make_dirs(token_dir, 0o755)  # as acme_issue writes it: readable by the workers, whatever the umask
    tls_files.write_file(os.path.join(token_dir, "tok-123"), b"tok-123.thumb", mode=0o644)
    for host, path, location in [(HOST, "/health", f"https://{HOST}:{port}/health"),
                                 ("www." + HOST, "/a?b=1", f"https://www.{HOST}:{port}/a?b=1"),
                                 ("evil.example", "/x", f"https://{HOST}:{port}/x")]:
        conn = http.client.HTTPConnection("127.0.0.1", router.params.listen_port, timeout=10)
        conn.request("POST", path, body=b"{}", headers={"Host": host})
        resp = conn.getresponse()
        resp.read()
        assert (resp.status, resp.getheader("Location")) == (308, location)
    assert blue.state.hits["/health"] == 0  # port 80 never reaches the app
    conn = http.client.HTTPConnection("127.0.0.1", router.params.listen_port, timeout=10)
    conn.request("GET", "/.well-known/acme-challenge/tok-123", headers={"Host": HOST})
    resp = conn.getresponse()
    assert (resp.status, resp.read()) == (200, b"tok-123.thumb")
    conn.request("GET", "/.well-known/acme-challenge/missing", headers={"Host": HOST})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 404
    preview = http.client.HTTPConnection("127.0.0.1", router.params.preview_port, timeout=10)
    preview.request("GET", "/version")
    assert b"v2" in preview.getresponse().read()  # plain, idle colour, as before


@pytest.mark.nginx
def test_a_renewed_certificate_is_served_on_the_next_handshake_without_a_reload(
        tls_router: tuple[NginxRouter, StubApp], ca: TestCA, workdir: str) -> None:
    router, _ = tls_router
    port = router.params.tls.port  # type: ignore[union-attr]
    kept, _ = _client(ca, port)
    before = _serial(kept)
    state = os.path.join(workdir, "state")
    pair = tls_files.current(state)
    assert pair is not None
    tls_files.install(state, router.conf_dir, ca.issue((HOST,), pair[1]), pair[1], worker_uid=nobody_uid())
    fresh, _ = _client(ca, port)
    assert _serial(fresh) != before
    kept.sendall(f"GET /version HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
    assert kept.recv(4096).startswith(b"HTTP/1.1 200")  # the open connection keeps working
    assert "reload" not in router.error_log()
    key_path = os.path.join(router.conf_dir, "tls", "live.key")
    assert os.stat(key_path).st_mode & 0o777 == 0o600
    assert os.stat(os.path.join(state, "tls", "live.key")).st_mode & 0o777 == 0o600


@pytest.mark.nginx
def test_a_flip_is_verified_over_loopback_https_where_port_80_only_redirects(
        tls_router: tuple[NginxRouter, StubApp]) -> None:
    router, _ = tls_router
    https = f"https://127.0.0.1:{router.params.tls.port}"  # type: ignore[union-attr]
    assert check_public(https, "/version", "blue", "v1", 5.0) is None
    router.switch("green")
    assert check_public(https, "/version", "green", "v2", 5.0) is None
    assert check_public(router.url, "/version", "green", "v2", 5.0) is not None  # the 308 is no proof
    cfg = _cfg(httpsPort=8443)
    assert public_url(cfg) == "https://events.example.org:8443"
    assert local_verify_url(cfg) == "https://127.0.0.1:8443"
    assert public_url(_cfg(mode="off")) == "http://events.example.org:80"
