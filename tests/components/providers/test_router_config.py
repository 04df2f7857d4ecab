"""``RouterConfig`` provider: called over the wire like the engine, validated by the real ``nginx -t``."""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from components.providers.router_config import RouterConfigProvider, params_to_dict
from testkit.nginx import (
    NginxRouter,
    host_params,
    nginx_argv,
    nginx_available,
    prepare_dir,
    start_router,
)
from testkit.provider_wire import ProviderCallError, ProviderWire
from testkit.stub_app import StubApp
from togather_deploy.ops import maintenance_flag, router_files
from togather_deploy.render.nginx import CONF_FILE, JS_FILE

pytestmark = [pytest.mark.nginx,
              pytest.mark.skipif(not nginx_available(), reason="nginx + njs not installed: scripts/test")]


def router_props(conf_dir: str, **overrides: Any) -> dict[str, Any]:
    p = host_params({"blue": "127.0.0.1:1", "green": "127.0.0.1:2"}, conf_dir, **overrides)
    if os.path.isdir(os.path.dirname(conf_dir)):
        prepare_dir(conf_dir)  # logs/ and temp/ as a real nginx under -p needs them
    return {"router_dir": conf_dir, "params": params_to_dict(p), "container": "",
            "image": "nginx:1.27.3", "initial_color": "blue"}


def test_diff_is_pure_and_ignores_the_initial_colour(workdir: str) -> None:
    d = os.path.join(workdir, "absent")
    params = params_to_dict(host_params({"blue": "127.0.0.1:1", "green": "127.0.0.1:2"}, d))
    olds: dict[str, Any] = {"router_dir": d, "params": params, "container": "", "image": "nginx:1",
                            "initial_color": "blue"}
    news: dict[str, Any] = {**olds, "params": {**params}}
    provider = RouterConfigProvider()
    assert not provider.diff("x", olds, {**news, "initial_color": "green"}).changes
    news["params"]["maintenance"] = True
    assert provider.diff("x", olds, news).changes
    assert not os.path.exists(d)


def test_create_writes_validated_files_and_the_initial_colour(workdir: str,
                                                                      wire: ProviderWire) -> None:
    d = os.path.join(workdir, "router")
    props = router_props(d)
    result = wire.create(RouterConfigProvider(), props)
    assert result.outs["validated_with"] == "host" and result.outs["reloaded"] is False
    assert router_files.read_active_color(d) == "blue"
    assert "js_import router from router.js;" in str(router_files.read_text(os.path.join(d, CONF_FILE)))
    assert sorted(os.listdir(d)) == sorted(["active_color", CONF_FILE, JS_FILE, "logs", "temp"])
    # the colour file is never overwritten by this provider
    router_files.write_active_color(d, "green")
    again = wire.update(RouterConfigProvider(), "router-config", result.outs, props)
    assert again.outs == result.outs
    assert router_files.read_active_color(d) == "green"


def test_refresh_sees_a_vanished_or_edited_file_and_the_next_update_writes_it_again(
        workdir: str, wire: ProviderWire) -> None:
    """``read`` (``pulumi refresh``) records what the host holds; ``diff`` compares it with the
    rendered text, purely; ``read`` itself never writes."""
    d = os.path.join(workdir, "router")
    props = router_props(d)
    provider = RouterConfigProvider()
    created = wire.create(provider, props).outs
    assert wire.read(provider, "router-config", created).outs == created  # the host as recorded
    assert not wire.diff(provider, "router-config", created, props).changes
    conf = os.path.join(d, CONF_FILE)
    written = router_files.read_text(conf)
    os.unlink(conf)
    with open(os.path.join(d, JS_FILE), "a", encoding="utf-8") as fh:
        fh.write("// an edit by hand\n")
    refreshed = wire.read(provider, "router-config", created).outs
    assert refreshed["conf_sha256"] == "" and refreshed["js_sha256"] != created["js_sha256"]
    assert not os.path.exists(conf)
    assert wire.diff(provider, "router-config", refreshed, props).changes
    repaired = wire.update(provider, "router-config", refreshed, props).outs
    assert router_files.read_text(conf) == written and "an edit by hand" not in str(
        router_files.read_text(os.path.join(d, JS_FILE)))
    assert repaired["conf_sha256"] == created["conf_sha256"]
    assert not wire.diff(provider, "router-config", wire.read(provider, "router-config", repaired).outs,
                         props).changes


@pytest.fixture
def live(workdir: str) -> Iterator[tuple[NginxRouter, StubApp]]:
    with StubApp(slot="blue", version="v1") as blue:
        r = start_router({"blue": f"127.0.0.1:{blue.port}", "green": "127.0.0.1:1"},
                         os.path.join(workdir, "router"))
        with r:
            yield r, blue


def test_a_config_failing_nginx_t_is_never_written_nor_loaded(live: tuple[NginxRouter, StubApp],
                                                              wire: ProviderWire) -> None:
    router, blue = live
    props = {"router_dir": router.conf_dir, "params": params_to_dict(router.params), "container": "",
             "image": "nginx:1.27.3", "initial_color": "blue"}
    good = wire.create(RouterConfigProvider(), props)
    before = router_files.read_text(os.path.join(router.conf_dir, CONF_FILE))
    bad = dataclasses.replace(router.params, client_max_body_size="10 q")  # structural, invalid
    with pytest.raises(ProviderCallError) as info:
        wire.update(RouterConfigProvider(), "router-config", good.outs,
                     {**props, "params": params_to_dict(bad)})
    assert "fails `nginx -t`" in info.value.message and "client_max_body_size" in info.value.message
    assert router_files.read_text(os.path.join(router.conf_dir, CONF_FILE)) == before
    assert not [n for n in os.listdir(router.conf_dir) if "candidate" in n or "hostcheck" in n]
    # even an operator's reload now keeps serving: the bad text never reached the live file
    subprocess.run(nginx_argv(router.conf_dir, "-s", "reload"), check=True, capture_output=True)
    with urllib.request.urlopen(router.url + "/x", timeout=10) as resp:
        assert resp.headers["X-Togather-Slot"] == "blue"


def test_a_valid_structural_change_is_written_without_touching_the_colour(live: tuple[NginxRouter, StubApp],
                                                                          wire: ProviderWire) -> None:
    router, _ = live
    props = {"router_dir": router.conf_dir, "params": params_to_dict(router.params), "container": "",
             "image": "nginx:1.27.3", "initial_color": "green"}
    first = wire.create(RouterConfigProvider(), props)
    bigger = dataclasses.replace(router.params, client_max_body_size="20m")
    changed = {**props, "params": params_to_dict(bigger)}
    out = wire.update(RouterConfigProvider(), "router-config", first.outs, changed).outs
    assert out["conf_sha256"] != first.outs["conf_sha256"]
    assert out["reloaded"] is False  # no router container: nothing to signal
    assert router_files.read_active_color(router.conf_dir) == "blue"


def test_a_colour_file_from_before_the_mode_bit_gets_its_mode_before_the_new_config(
        live: tuple[NginxRouter, StubApp], wire: ProviderWire) -> None:
    """Until 2026-12-03 ``active_color`` was 0644 whatever its word, and the router read the
    word; the new config routes by the mode bit, so a blue file must gain it first."""
    router, _ = live
    path = os.path.join(router.conf_dir, "active_color")
    os.chmod(path, 0o644)
    router_files.atomic_write(os.path.join(router.conf_dir, CONF_FILE), "# an older rendering\n")
    props = {"router_dir": router.conf_dir, "params": params_to_dict(router.params), "container": "",
             "image": "nginx:1.27.3", "initial_color": "green"}
    wire.create(RouterConfigProvider(), props)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o755
    d = router.conf_dir
    assert router_files.read_active_color(d) == router_files.routed_color(d) == "blue"
    with urllib.request.urlopen(router.url + "/x", timeout=10) as resp:
        assert resp.headers["X-Togather-Slot"] == "blue"


def _docker_with_running_router(workdir: str, router_dir: str) -> tuple[dict[str, str], str]:
    """A recording ``docker`` whose ``exec`` runs the real nginx on the shared directory, as
    ``docker exec`` would inside the router (no engine can run in the unit tests)."""
    bindir, log = os.path.join(workdir, "bin"), os.path.join(workdir, "docker.log")
    os.makedirs(bindir)
    with open(os.path.join(bindir, "docker"), "w") as fh:
        fh.write(f"""#!/bin/sh
echo "$*" >> {log}
case "$1" in
  inspect) echo true ;;
  exec) shift 2; exec "$@" -p {router_dir}/ ;;
esac
""")
    os.chmod(os.path.join(bindir, "docker"), 0o755)
    return {"PATH": f"{bindir}:{os.environ['PATH']}"}, log


def test_a_running_router_validates_inside_and_reloads_only_for_a_structural_change(
        workdir: str, wire: ProviderWire) -> None:
    d = os.path.join(workdir, "router")
    props = {**router_props(d), "container": "dev-router"}
    env, log = _docker_with_running_router(workdir, d)
    first = wire.create(RouterConfigProvider(), props, env=env).outs
    assert first["validated_with"] == "container" and first["reloaded"] is False  # first write
    same = wire.update(RouterConfigProvider(), "router-config", first, props, env=env).outs
    assert same == first
    on = {**props, "params": {**props["params"], "maintenance": True}}
    flagged = wire.update(RouterConfigProvider(), "router-config", first, on, env=env).outs
    assert flagged["reloaded"] is False and flagged["conf_sha256"] == first["conf_sha256"]
    assert maintenance_flag.read(d) == "Back shortly."  # router.maintenance: the file, no reload
    changed = {**props, "params": {**props["params"], "client_max_body_size": "20m"}}
    out = wire.update(RouterConfigProvider(), "router-config", flagged, changed, env=env).outs
    assert out["reloaded"] is True
    assert maintenance_flag.read(d) is None  # and back off with the declarative value
    bad = {**props, "params": {**props["params"], "client_max_body_size": "1 0"}}
    with pytest.raises(ProviderCallError, match="fails `nginx -t` \\(container\\)"):
        wire.update(RouterConfigProvider(), "router-config", out, bad, env=env)
    with open(log) as fh:
        calls = fh.read().splitlines()
    assert f"exec dev-router nginx -t -q -c {d}/nginx.candidate.conf" in calls
    assert calls.count("kill --signal HUP -- dev-router") == 1  # never for unchanged or invalid text


def test_router_maintenance_and_the_operator_verb_agree(workdir: str, wire: ProviderWire) -> None:
    """The declarative key writes the file only when the key changes: the verb's message
    survives a ``pulumi up`` that adopts ``router.maintenance: true``, and an unrelated
    update leaves the verb's file alone."""
    d = os.path.join(workdir, "router")
    props = router_props(d)
    first = wire.create(RouterConfigProvider(), props).outs
    assert maintenance_flag.read(d) is None
    maintenance_flag.turn_on(d, "Moving to a bigger server")  # scripts/maintenance on
    on = {**props, "params": {**props["params"], "maintenance": True}}
    adopted = wire.update(RouterConfigProvider(), "router-config", first, on).outs
    assert maintenance_flag.read(d) == "Moving to a bigger server"
    bigger = {**on, "params": {**on["params"], "client_max_body_size": "20m"}}
    wire.update(RouterConfigProvider(), "router-config", adopted, bigger)
    assert maintenance_flag.read(d) == "Moving to a bigger server"
