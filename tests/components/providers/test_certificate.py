"""The Certificate provider over the wire (real gRPC, as the engine calls it), against real pebble
and the real router nginx: issuance in create, a re-run adopts instead of ordering, diff is pure,
delete keeps the files; mode files installs a secret pair that never reaches the outputs."""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography import x509

from components.providers.certificate import CertificateProvider
from testkit.nginx import NginxRouter, nginx_available, private_dir, start_router
from testkit.pebble import Pebble, pebble_available, start_pebble
from testkit.ports import free_port
from testkit.provider_wire import UNKNOWN, ProviderWire, Secret
from testkit.tls import TestCA, nobody_uid
from togather_deploy.ops.tls import files
from togather_deploy.render.nginx_tls import TlsParams

DOMAIN = "events.test"


@pytest.fixture(scope="module")
def acme_world() -> Iterator[tuple[Pebble, NginxRouter, str]]:
    if not (nginx_available() and pebble_available()):
        pytest.skip("nginx + njs and pebble not installed: scripts/test")
    with private_dir("togather-certprov-") as d:
        http_port, port = free_port(), free_port()
        peb = start_pebble(os.path.join(d, "pebble"), http_port)
        router_dir = os.path.join(d, "state", "router")
        os.makedirs(router_dir)
        tls = TlsParams(port=port, cert_dir=os.path.join(router_dir, "tls"),
                        challenge_root=os.path.join(router_dir, "acme"), domains=(DOMAIN,),
                        public_https_port=port)
        try:
            with start_router({"blue": "127.0.0.1:1", "green": "127.0.0.1:2"}, router_dir,
                              listen_port=http_port, tls=tls) as router:
                yield peb, router, os.path.join(d, "state")
        finally:
            peb.stop()


def _props(peb: Pebble, state: str, **over: Any) -> dict[str, Any]:
    return {"mode": "acme", "domains": [DOMAIN], "directory_url": peb.directory_url, "state_dir": state,
            "router_dir": os.path.join(state, "router"), "email": "ops@events.test",
            "worker_uid": nobody_uid(), "ca_bundle": peb.ca_file, **over}


def _serial(router: NginxRouter) -> int:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # only which certificate is served
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", router.params.tls.port)),  # type: ignore[union-attr]
                         server_hostname=DOMAIN) as s:
        der = s.getpeercert(binary_form=True)
    assert der is not None
    return int(x509.load_der_x509_certificate(der).serial_number)


@pytest.mark.nginx
def test_create_issues_a_rerun_adopts_diff_is_pure_and_delete_keeps_the_certificate(
        acme_world: tuple[Pebble, NginxRouter, str], wire: ProviderWire, preview_wire: ProviderWire) -> None:
    peb, router, state = acme_world
    provider = CertificateProvider()
    checked = wire.check(provider, {}, _props(peb, state))
    assert checked.failures == []
    first = wire.create(provider, checked.inputs)
    assert first.outs["names"] == [DOMAIN] and first.outs["not_after"]
    with open(os.path.join(state, "metrics", "togather_tls.prom"), encoding="utf-8") as fh:
        assert f'togather_tls_certificate_expiry_timestamp_seconds{{domain="{DOMAIN}"}}' in fh.read()
    serial = _serial(router)
    again = wire.create(provider, checked.inputs)  # an interrupted `pulumi up` re-run: no new order
    assert again.outs["not_after"] == first.outs["not_after"] and _serial(router) == serial
    assert wire.diff(provider, "certificate", first.outs, checked.inputs).changes is False
    moved = wire.check(provider, {}, _props(peb, state, domains=[DOMAIN, "www." + DOMAIN])).inputs
    diffed = wire.diff(provider, "certificate", first.outs, moved)
    assert diffed.changes is True and diffed.replaces == []
    assert preview_wire.diff(provider, "certificate", first.outs, {**checked.inputs,
                                                                   "domains": UNKNOWN}).changes is True
    updated = wire.update(provider, "certificate", first.outs, moved)
    assert sorted(updated.outs["names"]) == [DOMAIN, "www." + DOMAIN] and _serial(router) != serial
    serial = _serial(router)
    same = wire.update(provider, "certificate", updated.outs, moved)  # nothing to do: adopted
    assert same.outs["not_after"] == updated.outs["not_after"] and _serial(router) == serial
    other_ca = {**updated.outs, "directory_url": "https://acme-staging.example/dir"}
    wire.update(provider, "certificate", other_ca, moved)  # e.g. staging → production: a new order
    assert _serial(router) != serial
    wire.delete(provider, "certificate", updated.outs)
    assert files.current(state) is not None
    assert os.path.exists(os.path.join(state, "router", "tls", "live.crt"))


def test_check_names_a_bad_input_without_showing_a_secret(wire: ProviderWire) -> None:
    bad = {"mode": "files", "domains": [DOMAIN], "directory_url": "x", "state_dir": "/s",
           "router_dir": "/r", "key": Secret(12345)}
    (failure,) = wire.check(CertificateProvider(), {}, bad).failures
    assert failure.property == "key" and "12345" not in failure.reason


def test_files_mode_installs_the_given_pair_and_keeps_it_out_of_the_outputs(wire: ProviderWire) -> None:
    with private_dir("togather-certfiles-") as state:
        key = files.new_key_pem()
        cert = TestCA().issue((DOMAIN,), key)
        props = {"mode": "files", "domains": [DOMAIN], "directory_url": "https://unused.example/dir",
                 "state_dir": state, "router_dir": os.path.join(state, "router"), "worker_uid": os.getuid(),
                 "certificate": Secret(cert.decode()), "key": Secret(key.decode())}
        applied = wire.create(CertificateProvider(), props)
        assert files.current(state) == (cert, key)
        assert "key" not in applied.outs and "certificate" not in applied.outs
        assert key.decode() not in repr(applied.outs) and applied.outs["files_sha256"]
        assert applied.outs["names"] == [DOMAIN]


@pytest.mark.nginx
def test_refresh_sees_a_lost_or_broken_served_pair_and_update_installs_it(wire: ProviderWire) -> None:
    """A targeted refresh (``read``) records what the router reads now and never writes; an
    empty expiry makes the pure ``diff`` an update, which installs the pair again."""
    p = CertificateProvider()
    with private_dir("togather-certread-") as state:
        key = files.new_key_pem()
        cert = TestCA().issue((DOMAIN,), key)
        router_dir = os.path.join(state, "router")
        props = {"mode": "files", "domains": [DOMAIN], "directory_url": "https://unused.example/dir",
                 "state_dir": state, "router_dir": router_dir, "worker_uid": os.getuid(),
                 "certificate": Secret(cert.decode()), "key": Secret(key.decode())}
        created = wire.create(p, props).outs
        assert wire.read(p, "certificate", created).outs == created
        assert not wire.diff(p, "certificate", created, props).changes
        served = os.path.join(files.router_cert_dir(router_dir), "live.crt")
        for damage in ("lost", "broken"):
            if damage == "lost":
                os.unlink(served)
            else:
                with open(served, "w", encoding="ascii") as fh:
                    fh.write("not a certificate\n")
            read = wire.read(p, "certificate", created).outs
            assert (read["names"], read["not_after"]) == ([], "")
            assert os.path.exists(served) == (damage == "broken")  # read never writes
            assert wire.diff(p, "certificate", read, props).changes
            again = wire.update(p, "certificate", read, props).outs
            assert files.read_bytes(served) == cert and again["names"] == [DOMAIN]
            assert not wire.diff(p, "certificate", wire.read(p, "certificate", again).outs, props).changes
