"""Certificates from a real ACME server: Let's Encrypt's test CA (pebble) validating HTTP-01
through the real router nginx on loopback. Issuance, renewal with no reload, an unreachable
challenge (clear error, old certificate kept, HTTP still serving), a refused order, and an
HTTPS request verified against pebble's root."""

from __future__ import annotations

import http.client
import io
import json
import os
import socket
import ssl
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from cryptography import x509

from testkit.nginx import NginxRouter, nginx_available, private_dir, start_router
from testkit.pebble import Pebble, pebble_available, start_pebble
from testkit.ports import free_port
from testkit.receiver import Receiver
from testkit.tls import nobody_uid
from togather_deploy.cli import cert as cert_cli
from togather_deploy.config.model import DeployConfig, load_config
from togather_deploy.ops import audit
from togather_deploy.ops.tls import acme_issue, files, renewal
from togather_deploy.render.nginx_tls import TlsParams

pytestmark = [pytest.mark.nginx,
              pytest.mark.skipif(not (nginx_available() and pebble_available()),
                                 reason="nginx + njs and pebble not installed: scripts/test")]
DOMAINS = ("events.test", "www.events.test")


@dataclass
class World:
    cfg: DeployConfig
    router: NginxRouter
    pebble: Pebble
    receiver: Receiver

    @property
    def https_port(self) -> int:
        return self.router.params.tls.port  # type: ignore[union-attr]

    def served(self, *, root: bytes | None = None) -> x509.Certificate:
        """The certificate a new handshake gets, verified against pebble's root."""
        ctx = ssl.create_default_context(cadata=(root or self.pebble.root_pem()).decode())
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.https_port), timeout=10),
                             server_hostname=DOMAINS[0]) as s:
            der = s.getpeercert(binary_form=True)
        assert der is not None
        return x509.load_der_x509_certificate(der)

    def renew(self, **kw: Any) -> renewal.RenewResult:
        return renewal.renew(self.cfg, ca_bundle=self.pebble.ca_file, worker_uid=nobody_uid(), **kw)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with private_dir("togather-acme-") as d, Receiver() as rec:
        http_port = free_port()
        peb = start_pebble(os.path.join(d, "pebble"), http_port)
        raw = {"image": "ghcr.io/x/server", "blue": {"version": "v1"}, "environment": "production",
               "domain": DOMAINS[0], "stateDir": os.path.join(d, "state"),
               "appEnv": {"CORS_ALLOWED_ORIGINS": "https://events.test"},
               "notify": {"webhookUrl": rec.url + "/hook", "retries": 0},
               "tls": {"directoryUrl": peb.directory_url, "domains": [DOMAINS[1]],
                       "email": "ops@events.test"}}
        with open(os.path.join(d, "Pulumi.acme.yaml"), "w", encoding="utf-8") as fh:  # for scripts/cert
            yaml.safe_dump({"config": {f"togather:{k}": v for k, v in raw.items()}}, fh)
        cfg = load_config(raw, project="togather-deploy", stack="acme", project_dir=d)
        os.makedirs(cfg.router_dir)
        port = free_port()
        tls = TlsParams(port=port, cert_dir=os.path.join(cfg.router_dir, "tls"),
                        challenge_root=os.path.join(cfg.router_dir, "acme"), domains=DOMAINS,
                        public_https_port=port)
        try:
            with start_router({"blue": "127.0.0.1:1", "green": "127.0.0.1:2"}, cfg.router_dir,
                              listen_port=http_port, tls=tls) as router:
                yield World(cfg, router, peb, rec)
        finally:
            peb.stop()


def _prom(cfg: DeployConfig) -> str:
    with open(os.path.join(cfg.state_dir, "metrics", renewal.METRICS_FILE), encoding="utf-8") as fh:
        return fh.read()


def _mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_first_issuance_through_the_router_is_served_and_verified_against_pebbles_root(world: World) -> None:
    assert renewal.status(world.cfg).due  # nothing yet
    result = world.renew()
    assert result.renewed and not result.status.due
    cert = world.served()  # raises unless the chain verifies against pebble's root for events.test
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == set(DOMAINS)
    tls_dir = files.state_tls_dir(world.cfg.state_dir)
    assert _mode(tls_dir) == 0o700
    assert _mode(os.path.join(tls_dir, "account.key")) == 0o600
    assert _mode(os.path.join(tls_dir, "live.key")) == 0o600
    assert _mode(os.path.join(world.cfg.router_dir, "tls", "live.key")) == 0o600
    assert os.listdir(files.challenge_dir(world.cfg.router_dir)) == []  # answers cleaned up
    prom = _prom(world.cfg)
    assert f'togather_tls_certificate_expiry_timestamp_seconds{{domain="{DOMAINS[0]}"}} ' \
           f"{cert.not_valid_after_utc.timestamp():.0f}" in prom
    assert "togather_tls_renewal_last_success 1" in prom
    assert audit.read_events(world.cfg.state_dir)[-1]["event"] == "certificate.renewed"


def test_renewal_is_a_no_op_until_due_then_a_new_certificate_is_served_without_reload(world: World) -> None:
    before = world.served()
    assert not world.renew().renewed  # pebble's certificates last years: not due
    assert world.served().serial_number == before.serial_number
    kept = files.current(world.cfg.state_dir)
    assert world.renew(force=True).renewed
    after = world.served()
    assert after.serial_number != before.serial_number
    assert files.current(world.cfg.state_dir)[1] == kept[1]  # type: ignore[index]  # same key
    assert "reload" not in world.router.error_log()


def test_an_unreachable_challenge_fails_clearly_keeps_the_old_certificate_and_http_serving(
        world: World) -> None:
    before = world.served()
    world.receiver.requests.clear()
    acme_root = os.path.join(world.cfg.router_dir, "acme")
    err_out = io.StringIO()
    os.chmod(acme_root, 0o700)  # nginx's workers (nobody) can no longer read the answers: 403
    try:
        with pytest.raises(acme_issue.AcmeError) as info:
            world.renew(force=True)
        code = cert_cli.main(["renew", world.cfg.stack, "--force", "--ca-bundle", world.pebble.ca_file,
                              "--project-dir", os.path.dirname(world.cfg.state_dir)],
                             out=io.StringIO(), err=err_out)
    finally:
        os.chmod(acme_root, 0o755)
    err = info.value
    assert err.context["domain"] in DOMAINS
    assert err.context["challenge_url"].startswith(f"http://{err.context['domain']}/.well-known/acme-challenge/")
    assert err.problem and err.problem["type"] == "urn:ietf:params:acme:error:unauthorized"
    assert "returned 404" in err.problem["detail"] and "port 80" in (err.fix or "")  # try_files: 404
    assert world.served().serial_number == before.serial_number  # the old certificate keeps serving
    plain = http.client.HTTPConnection("127.0.0.1", world.router.params.listen_port, timeout=10)
    plain.request("GET", "/health", headers={"Host": DOMAINS[0]})
    assert plain.getresponse().status == 308
    failed = [e for e in audit.read_events(world.cfg.state_dir) if e["event"] == "certificate.renewal_failed"]
    assert len(failed) >= 2  # the library call and scripts/cert, each audited
    # the token is a long random path segment, which the audit redactor hides like a credential
    prefix = f"http://{err.context['domain']}/.well-known/acme-challenge/"
    assert failed[-2]["challenge_url"].startswith(prefix)
    assert failed[-2]["kept"] == before.not_valid_after_utc.isoformat()
    assert failed[-2]["problem"]["type"] == err.problem["type"]
    assert world.receiver.requests and world.receiver.requests[0]["path"] == "/hook"
    assert "renewal_failed" in json.dumps(world.receiver.requests[0]["body"])
    prom = _prom(world.cfg)
    assert "togather_tls_renewal_last_success 0" in prom
    assert code == 1
    shown = err_out.getvalue()
    assert "ACME validation failed for" in shown and "challenge_url: http://" in shown
    assert "problem: {'type': 'urn:ietf:params:acme:error:unauthorized'" in shown


def test_a_refused_order_names_the_problem_and_installs_nothing(world: World) -> None:
    before = files.current(world.cfg.state_dir)
    req = acme_issue.IssueRequest(world.pebble.directory_url, ("bad_name.events.test",),
                                  world.cfg.state_dir, world.cfg.router_dir,
                                  ca_bundle=world.pebble.ca_file, worker_uid=nobody_uid())
    with pytest.raises(acme_issue.AcmeError) as info:
        acme_issue.issue(req)
    assert info.value.problem and info.value.problem["type"] == "urn:ietf:params:acme:error:malformed"
    assert "bad_name.events.test" in str(info.value) and info.value.exit_code == 1
    assert files.current(world.cfg.state_dir) == before
