"""``nginx -t`` of a candidate router config: argv builders, the private check dir, the engine's floats."""

from __future__ import annotations

import os

import pytest

from components.providers.router_config import RouterConfigInputs, RouterConfigProvider
from testkit.nginx import nginx_available
from testkit.provider_wire import UNKNOWN, ProviderWire
from tests.components.providers.test_router_config import router_props
from togather_deploy.ops import router_files
from togather_deploy.ops.router_check import host_check_conf, validate_argv
from togather_deploy.render.nginx import CONF_FILE

pytestmark = [pytest.mark.nginx,
              pytest.mark.skipif(not nginx_available(), reason="nginx + njs not installed: scripts/test")]


def test_argv_builders_and_the_image_is_never_an_option(workdir: str) -> None:
    i = RouterConfigInputs.from_props({**router_props(workdir), "image": "--privileged"})
    assert validate_argv(i, running=True, host_nginx=None)[:3] == ("docker", "exec", "")
    argv = validate_argv(i, running=False, host_nginx="/usr/sbin/nginx", check_dir="/x")
    assert argv[:2] == ("/usr/sbin/nginx", "-t") and argv[-1] == "/x/nginx.hostcheck.conf"
    image = validate_argv(i, running=False, host_nginx=None)
    assert image[:3] == ("docker", "run", "--rm")
    assert image.index("--") == image.index("--privileged") - 1  # after `--`: a positional
    # --mount, not -v: a ":" in the state dir cannot split the bind (hardening item 11)
    assert image[image.index("--mount") + 1].startswith(f"type=bind,source={i.router_dir},")
    conf = host_check_conf(i, "/private/x")
    assert "router.candidate.js" in conf and "pid /private/x/nginx.pid;" in conf
    assert "client_body_temp_path /private/x/nginx-client-body;" in conf


def test_the_engine_s_float_port_renders_an_int_and_passes_nginx_t(workdir: str, wire: ProviderWire) -> None:
    d = os.path.join(workdir, "router")
    props = router_props(d, listen_addr="0.0.0.0", listen_port=8080)  # noqa: S104
    checked = wire.check(RouterConfigProvider(), {}, props)
    assert not checked.failures
    out = wire.create(RouterConfigProvider(), checked.inputs).outs  # 8080 arrives as 8080.0
    assert out["validated_with"] == "host"
    conf = str(router_files.read_text(os.path.join(d, CONF_FILE)))
    assert "listen 0.0.0.0:8080;" in conf and "8080.0" not in conf
    assert wire.diff(RouterConfigProvider(), "router-config", out, checked.inputs).changes is False


def test_a_fractional_port_is_a_check_failure_naming_the_field(workdir: str, wire: ProviderWire) -> None:
    props = router_props(os.path.join(workdir, "router"), listen_port=8080.5)
    (failure,) = wire.check(RouterConfigProvider(), {}, props).failures
    assert failure.property == "params.listen_port" and "8080.5" in failure.reason


def test_planted_symlinks_in_tmpdir_are_never_followed(workdir: str, wire: ProviderWire) -> None:
    planted = os.path.join(workdir, "tmp")
    os.makedirs(planted)
    victim = os.path.join(workdir, "victim")
    with open(victim, "w") as fh:
        fh.write("precious\n")
    before = os.stat(victim)
    names = ["togather-router-check.pid", "nginx-client-body", "nginx-proxy", "nginx-fastcgi",
             "nginx-uwsgi", "nginx-scgi"]
    for name in names:
        os.symlink(victim, os.path.join(planted, name))
    d = os.path.join(workdir, "router")
    wire.create(RouterConfigProvider(), router_props(d), env={"TMPDIR": planted})
    after = os.stat(victim)
    with open(victim) as fh:
        assert fh.read() == "precious\n"
    assert (after.st_uid, after.st_gid, after.st_mode) == (before.st_uid, before.st_gid, before.st_mode)
    assert sorted(os.listdir(planted)) == sorted(names)  # and the private check dir is gone


def test_preview_with_an_unknown_image_or_container_is_an_update(workdir: str,
                                                                 preview_wire: ProviderWire) -> None:
    d = os.path.join(workdir, "no", "router")  # no parent: router_props prepares nothing
    props = router_props(d)
    for key in ("image", "container"):
        news = {**props, key: UNKNOWN}
        assert preview_wire.check(RouterConfigProvider(), props, news).failures == []
        assert preview_wire.diff(RouterConfigProvider(), "router-config", props, news).changes is True
    assert preview_wire.diff(RouterConfigProvider(), "router-config", props, props).changes is False
    assert os.listdir(workdir) == []  # preview wrote nothing
