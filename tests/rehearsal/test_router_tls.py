"""The router *container* serving HTTPS: the real spec (``router_spec``), the real config
writer (``RouterConfig``'s ``apply``: candidate, ``nginx -t``, live files), the real image the
rehearsal builds, a certificate from a throwaway CA installed by ``ops.tls.files``. Checks
verified TLS + HTTP/2 on the published HTTPS port, the 308 on the plain port, the key's owner
(the workers' ``nobody``), and a rotation served on the next handshake without a reload."""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import time
from collections.abc import Iterator

import pytest
from cryptography import x509

from components.providers import router_config
from testkit import docker, images
from testkit.nginx import private_dir
from testkit.ports import free_port
from testkit.tls import TestCA
from tests.rehearsal.app_images import NGINX_JS_MODULE
from tests.rehearsal.rehearsal_config import private_subnet
from togather_deploy.commands import docker as docker_cli
from togather_deploy.commands import runner
from togather_deploy.config.model import DeployConfig, load_config
from togather_deploy.ops.tls import files
from togather_deploy.render.containers import router_spec
from togather_deploy.render.nginx import router_params

pytestmark = pytest.mark.docker
DOMAIN = "events.example.org"


@pytest.fixture(scope="module")
def routed() -> Iterator[tuple[DeployConfig, TestCA]]:
    reason = docker.engine_unavailable()
    if reason:
        pytest.skip(reason)
    image = images.planned_tags()["nginx"]
    if not images.image_exists(image):
        pytest.skip(f"{image} not built: tests/rehearsal (scripts/build-base-images)")
    with private_dir("togather-tlsdocker-") as d:
        os.chmod(d, 0o755)
        cfg = load_config({"image": "ghcr.io/x/server", "blue": {"version": "v1"},
                           "environment": "production", "domain": DOMAIN,
                           "stateDir": os.path.join(d, "state"), "publicPort": free_port(),
                           "appEnv": {"CORS_ALLOWED_ORIGINS": f"https://{DOMAIN}"},
                           "router": {"image": image, "previewPort": free_port(),
                                      "jsModule": NGINX_JS_MODULE},
                           "tls": {"mode": "acme", "httpsPort": free_port(), "publicBind": "127.0.0.1"},
                           # its own subnet: the router takes a fixed address on it (network.subnet)
                           "network": {"subnet": private_subnet()}},
                          project="togather-deploy", stack=f"tls{os.getpid()}", project_dir=d)
        ca = TestCA()
        key = files.new_key_pem()
        router_config.apply(router_config.router_config_props(cfg, router_params(cfg)), None)
        files.install(cfg.state_dir, cfg.router_dir, ca.issue((DOMAIN,), key), key)
        net = cfg.network
        runner.run(docker_cli.network_create_argv(cfg.network_name, subnet=net.subnet, gateway=net.gateway,
                                                  ip_range=net.ip_range), timeout=60)
        try:
            docker.run_spec(router_spec(cfg))
            yield cfg, ca
        finally:
            print(docker.logs(cfg.name("router"))[-2000:])
            docker.remove(cfg.name("router"))
            runner.run(docker_cli.network_rm_argv(cfg.network_name), check=False, timeout=60)


def _handshake(cfg: DeployConfig, ca: TestCA) -> tuple[str | None, list[str]]:
    ctx = ssl.create_default_context(cadata=ca.pem.decode())
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    for _ in range(100):  # docker-proxy accepts before nginx listens: retry the first one
        try:
            with ctx.wrap_socket(socket.create_connection(("127.0.0.1", cfg.tls.https_port), timeout=5),
                                 server_hostname=DOMAIN) as s:
                der = s.getpeercert(binary_form=True)
                assert der is not None
                san = x509.load_der_x509_certificate(der).extensions.get_extension_for_class(
                    x509.SubjectAlternativeName).value
                return s.selected_alpn_protocol(), list(san.get_values_for_type(x509.DNSName))
        except (ssl.SSLError, ConnectionError):
            time.sleep(0.1)
    raise AssertionError("no TLS handshake with the router container")


def test_the_router_container_serves_verified_https_and_redirects_port_80(
        routed: tuple[DeployConfig, TestCA]) -> None:
    cfg, ca = routed
    assert _handshake(cfg, ca) == ("h2", [DOMAIN])
    conn = http.client.HTTPConnection("127.0.0.1", cfg.public_port, timeout=10)
    conn.request("GET", "/health", headers={"Host": DOMAIN})
    resp = conn.getresponse()
    assert (resp.status, resp.getheader("Location")) == (308, f"https://{DOMAIN}:{cfg.tls.https_port}/health")
    assert os.stat(os.path.join(cfg.router_dir, "tls", "live.key")).st_uid == files.ROUTER_WORKER_UID


def test_a_renewed_certificate_reaches_the_container_without_a_reload(
        routed: tuple[DeployConfig, TestCA]) -> None:
    cfg, ca = routed
    pair = files.current(cfg.state_dir)
    assert pair is not None
    files.install(cfg.state_dir, cfg.router_dir, ca.issue((DOMAIN, "www." + DOMAIN), pair[1]), pair[1])
    assert _handshake(cfg, ca)[1] == [DOMAIN, "www." + DOMAIN]
    assert "reload" not in docker.logs(cfg.name("router")).lower()
