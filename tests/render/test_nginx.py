"""The router config: pure renderer checks, the real ``nginx -t`` on every variant, and
the behaviour of a real nginx in front of two stub slots on loopback."""

from __future__ import annotations

import dataclasses
import gzip
import http.client
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from testkit.nginx import (
    HOST_JS_MODULE,
    NginxRouter,
    host_params,
    nginx_available,
    nginx_test,
    start_router,
    write_config,
)
from testkit.stub_app import StubApp
from togather_deploy.config.model import DeployConfig, load_config
from togather_deploy.ops import maintenance_flag
from togather_deploy.render.nginx import render_nginx_conf, render_router_js, router_params

needs_nginx = pytest.mark.skipif(not nginx_available(), reason="nginx + njs not installed: scripts/test")


def _cfg(**raw: object) -> DeployConfig:
    return load_config({"image": "ghcr.io/x/server", "blue": {"version": "v1"}, "environment": "test",
                        **raw}, project="togather-deploy", stack="dev",
                       project_dir=os.path.dirname(os.path.abspath(__file__)))


def test_container_params_come_from_specs_and_config() -> None:
    p = router_params(_cfg(domain="events.example.org", router={"maintenance": True,
                                                                 "clientMaxBodySize": "2m"}))
    assert p.upstreams == {"blue": "10.77.0.10:8080", "green": "10.77.0.11:8080"}
    assert (p.listen_port, p.preview_port, p.conf_dir) == (8080, 8081, "/etc/togather-router")
    assert p.maintenance and p.server_name == "events.example.org"
    conf = render_nginx_conf(p)
    assert "resolver" not in conf and "client_max_body_size 2m;" in conf
    assert "server_tokens off;" in conf


def test_rendered_text_never_depends_on_the_active_colour() -> None:
    blue, green = _cfg(), _cfg(activeColor="green", green={"version": "v2"})
    assert render_nginx_conf(router_params(blue)) == render_nginx_conf(router_params(green))
    assert render_router_js(router_params(blue)) == render_router_js(router_params(green))


@needs_nginx
@pytest.mark.nginx
@pytest.mark.parametrize("variant", ["host", "host-maintenance", "container", "container-maintenance"])
def test_nginx_t_accepts_every_variant(workdir: str, variant: str) -> None:
    conf_dir = os.path.join(workdir, "router")
    if variant.startswith("container"):
        # the container's own params, with only the two host paths translated
        p = dataclasses.replace(router_params(_cfg(router={"maintenance": "maintenance" in variant})),
                                conf_dir=conf_dir, js_module=HOST_JS_MODULE,
                                error_log="logs/error.log", pid="logs/nginx.pid")
    else:
        p = host_params({"blue": "127.0.0.1:1", "green": "127.0.0.1:2"}, conf_dir,
                        maintenance="maintenance" in variant)
    write_config(p)
    result = nginx_test(conf_dir)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def slots() -> Iterator[tuple[StubApp, StubApp]]:
    with StubApp(slot="blue", version="v1") as blue, StubApp(slot="green", version="v2") as green:
        yield blue, green


@pytest.fixture
def router(workdir: str, slots: tuple[StubApp, StubApp]) -> Iterator[NginxRouter]:
    if not nginx_available():
        pytest.skip("nginx + njs not installed: scripts/test")
    blue, green = slots
    with start_router({"blue": f"127.0.0.1:{blue.port}", "green": f"127.0.0.1:{green.port}"},
                      os.path.join(workdir, "router")) as r:
        yield r


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()



@pytest.mark.nginx
def test_public_reaches_active_preview_reaches_idle_and_a_flip_needs_no_reload(
        router: NginxRouter, slots: tuple[StubApp, StubApp]) -> None:
    assert _get(router.url + "/version")[1]["X-Togather-Slot"] == "blue"
    assert b"v1" in _get(router.url + "/version")[2]
    assert b"v2" in _get(router.preview_url + "/version")[2]
    router.switch("green")
    status, headers, body = _get(router.url + "/version")
    assert (status, headers["X-Togather-Slot"]) == (200, "green") and b"v2" in body
    blue_hits = sum(slots[0].state.hits.values())
    for _ in range(20):  # nothing new reaches the old colour: its pool is not the one picked
        _get(router.url + "/x")
    assert sum(slots[0].state.hits.values()) == blue_hits
    assert _get(router.preview_url + "/")[1]["X-Togather-Slot"] == "blue"
    router.switch("blue")
    assert _get(router.url + "/")[1]["X-Togather-Slot"] == "blue"
    assert "reload" not in router.error_log()


@pytest.mark.nginx
def test_a_kept_alive_client_connection_reaches_the_new_colour(router: NginxRouter) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", router.params.listen_port, timeout=10)
    try:
        for expected in ("blue", "green", "blue"):
            router.switch(expected)
            conn.request("GET", "/")
            resp = conn.getresponse()
            resp.read()
            assert resp.getheader("X-Togather-Slot") == expected
            assert f'"slot": "{expected}"'.encode() in _get(router.url + "/")[2]
    finally:
        conn.close()


@pytest.mark.nginx
def test_forwarded_headers_request_id_and_json_access_log(router: NginxRouter,
                                                          slots: tuple[StubApp, StubApp]) -> None:
    blue, _ = slots
    status, headers, _ = _get(router.url + "/x", {"X-Request-ID": "req-123"})
    assert status == 200 and headers["X-Request-ID"] == "req-123"
    seen = blue.state.headers_seen[-1]
    assert seen["X-Request-ID"] == "req-123"
    assert seen["X-Forwarded-For"] == "127.0.0.1" and seen["X-Forwarded-Proto"] == "http"
    assert seen["X-Forwarded-Host"].startswith("127.0.0.1")
    _, headers, _ = _get(router.url + "/y", {"X-Request-ID": "bad id with spaces"})
    assert len(headers["X-Request-ID"]) == 32  # replaced by nginx's own $request_id
    entry = [e for e in router.access_log() if e["uri"] == "/x"][-1]
    assert entry["request_id"] == "req-123" and entry["color"] == "blue"
    assert entry["upstream_addr"] == f"127.0.0.1:{blue.port}" and entry["status"] == 200
    assert isinstance(entry["request_time"], float)


@pytest.mark.nginx
def test_metrics_refused_to_public_slot_header_everywhere_no_server_version(
        router: NginxRouter, slots: tuple[StubApp, StubApp]) -> None:
    for path in ("/metrics", "/metrics?x=1", "/metrics/"):
        status, headers, _ = _get(router.url + path)
        assert status == 404 and headers["X-Togather-Slot"] == "blue"
    assert slots[0].state.hits["/metrics"] == 0
    assert _get(router.url + "/x")[1]["Server"] == "nginx"


@pytest.mark.nginx
def test_body_size_limit(workdir: str, slots: tuple[StubApp, StubApp]) -> None:
    blue, green = slots
    with start_router({"blue": f"127.0.0.1:{blue.port}", "green": f"127.0.0.1:{green.port}"},
                      os.path.join(workdir, "r"), client_max_body_size="1k") as r:
        req = urllib.request.Request(r.url + "/post", data=b"x" * 500, method="POST")
        assert urllib.request.urlopen(req, timeout=10).status == 200
        req = urllib.request.Request(r.url + "/post", data=b"x" * 5000, method="POST")
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(req, timeout=10)
        assert info.value.code == 413


@pytest.mark.nginx
def test_event_stream_is_neither_buffered_nor_gzipped(router: NginxRouter) -> None:
    with socket.create_connection(("127.0.0.1", router.params.listen_port), timeout=10) as sock:
        sock.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
        start, data = time.monotonic(), b""
        while b"data: first" not in data and time.monotonic() - start < 5:
            data += sock.recv(4096)
        assert b"data: first" in data
        assert b"data: second" not in data  # the first event arrived before the stream ended
        assert b"content-encoding" not in data.lower()
    # JSON, by contrast, is compressed for clients that ask
    req = urllib.request.Request(router.url + "/x" + "y" * 400, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        if resp.headers.get("Content-Encoding") == "gzip":
            assert b"slot" in gzip.decompress(resp.read())


@pytest.mark.nginx
def test_maintenance_mode_serves_503_but_health_stays_reachable(router: NginxRouter) -> None:
    """The ``maintenance`` file switches it per request: on, message, off — no reload."""
    assert _get(router.url + "/api/v1/events")[0] == 200
    maintenance_flag.turn_on(router.conf_dir, "Upgrading <db> & co")
    status, headers, body = _get(router.url + "/api/v1/events")
    assert status == 503 and b"maintenance" in body.lower()
    assert b"Upgrading &lt;db&gt; &amp; co" in body  # the message, as text not markup
    assert headers["X-Togather-Slot"] == "blue"
    for path in ("/health", "/healthz", "/readyz"):
        assert _get(router.url + path)[0] == 200
    assert _get(router.preview_url + "/x")[0] == 200  # smoke tests of the idle colour still work
    maintenance_flag.turn_on(router.conf_dir, "")
    assert b"Back shortly." in _get(router.url + "/x")[2]
    maintenance_flag.turn_off(router.conf_dir)
    assert _get(router.url + "/api/v1/events")[0] == 200
    assert "reload" not in router.error_log().lower()


def test_the_rendered_config_never_depends_on_maintenance() -> None:
    """So the declarative ``router.maintenance`` never costs a reload either."""
    p = router_params(_cfg())
    on = dataclasses.replace(p, maintenance=True)
    assert render_nginx_conf(p) == render_nginx_conf(on) and render_router_js(p) == render_router_js(on)


@pytest.mark.nginx
def test_nginx_routes_by_the_mode_bit_and_without_the_file_to_no_slot(router: NginxRouter) -> None:
    """The router reads no word: the owner-exec bit routes (``render.active_file``), which
    every write gives together with the word. No file: 503, never a guessed colour."""
    path = os.path.join(router.conf_dir, "active_color")
    for mode, active, idle in ((0o644, "green", "blue"), (0o755, "blue", "green")):
        os.chmod(path, mode)
        assert _get(router.url + "/x")[1]["X-Togather-Slot"] == active
        assert _get(router.preview_url + "/x")[1]["X-Togather-Slot"] == idle
    os.unlink(path)
    for url in (router.url, router.preview_url):
        status, headers, _ = _get(url + "/x")
        assert status == 503 and "X-Togather-Slot" not in headers


def test_each_colour_has_a_kept_alive_pool_at_its_fixed_address() -> None:
    """Pooled HTTP/1.1 upstreams per colour, chosen by name per request; a subnet of the
    operator's choice moves the addresses; no ``Connection: close`` workaround."""
    conf = render_nginx_conf(router_params(_cfg(network={"subnet": "192.168.77.0/26"})))
    for color, ip in (("blue", "192.168.77.10"), ("green", "192.168.77.11")):
        block = conf.split(f"upstream togather_{color} {{", 1)[1].split("}", 1)[0]
        assert f"server {ip}:8080;" in block and "keepalive 64;" in block
        assert f"set $togather_upstream togather_{color};" in conf
    assert conf.count('proxy_set_header Connection "";') == 4 and "Connection close" not in conf
    assert conf.count("proxy_http_version 1.1;") == 4
    assert conf.count("proxy_next_upstream error timeout;") == 4  # not non_idempotent: see _PROXY
