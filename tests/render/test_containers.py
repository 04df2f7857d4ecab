"""Container settings as data (pure builders) and their one mapping to pulumi-docker."""

from __future__ import annotations

import pulumi
import pytest

from components.docker_args import container_args, env_list
from testkit.program import ROOT
from togather_deploy.config.source import from_stack_file
from togather_deploy.render.containers import app_spec, database_spec, database_url, router_spec


@pytest.fixture(scope="module")
def cfg():
    return from_stack_file(ROOT, "dev")


def test_app_spec_identity_ports_and_env(cfg) -> None:
    spec = app_spec(cfg, "green", {"DATABASE_URL": "postgres://x", "JWT_SECRET": "j" * 32})
    assert spec.name == "togather-deploy-dev-app-green"
    assert spec.image == "togather-demo-app:v1.1.0"
    assert spec.aliases == ("app-green",) and spec.network == "togather-deploy-dev-net"
    assert spec.ipv4_address == "10.77.0.11"  # fixed: the router pools connections to it
    assert [(p.internal, p.external, p.ip) for p in spec.ports] == [(8080, 18082, "127.0.0.1")]
    assert spec.env["SLOT"] == spec.env["DEPLOYMENT_SLOT"] == "green"
    assert spec.env["ENVIRONMENT"] == "development"
    # the router's X-Forwarded-For is trusted, so clients don't share one rate-limit bucket
    assert "172.16.0.0/12" in spec.env["TRUSTED_PROXY_CIDRS"]
    assert spec.labels["togather.color"] == "green" and spec.labels["togather.version"] == "v1.1.0"
    assert spec.health is not None and spec.health.interval_s == 30


def test_operator_env_cannot_override_what_the_deploy_owns(cfg) -> None:
    from dataclasses import replace

    from togather_deploy.config.sections import SlotConfig
    green = SlotConfig("green", "v2", {"LOG_LEVEL": "warn"}, 18082)
    tweaked = replace(cfg, app_env={"LOG_LEVEL": "info", "FEATURE_X": "1"}, green=green)
    env = app_spec(tweaked, "green", {}).env
    assert env["LOG_LEVEL"] == "warn" and env["FEATURE_X"] == "1"  # colour env wins over appEnv


def test_database_spec_is_loopback_only_with_pg_isready(cfg) -> None:
    spec = database_spec(cfg, "pw")
    assert [(p.ip, p.external) for p in spec.ports] == [("127.0.0.1", 15432)]
    assert spec.health is not None and spec.health.test[:2] == ("CMD", "pg_isready")
    assert spec.mounts[0].type == "volume" and spec.mounts[0].source == "togather-deploy-dev-pgdata"
    assert database_url(cfg, "pw") == "postgres://togather:pw@db:5432/togather?sslmode=disable"


def test_router_spec_mounts_a_directory_read_only_and_has_no_colour(cfg) -> None:
    spec = router_spec(cfg)
    (mount,) = spec.mounts
    assert mount.type == "bind" and mount.read_only and mount.source == cfg.router_dir
    assert "blue" not in repr(spec) and "green" not in repr(spec)
    public = [p for p in spec.ports if p.ip == "0.0.0.0"]
    assert [(p.internal, p.external) for p in public] == [(8080, 8080)]


def test_container_args_maps_every_spec_field(cfg) -> None:
    spec = database_spec(cfg, "pw")
    args = container_args(spec)
    assert args["name"] == spec.name and args["image"] == spec.image
    assert args["memory"] == spec.memory_mb and args["restart"] == spec.restart
    assert args["destroy_grace_seconds"] == spec.stop_grace_s
    assert args["log_opts"] == {"max-size": "10m", "max-file": "3"}
    (port,) = args["ports"]
    assert (port.internal, port.external, port.ip) == (5432, 15432, "127.0.0.1")
    (net,) = args["networks_advanced"]
    assert net.name == spec.network and net.aliases == ["db"] and net.ipv4_address == "10.77.0.2"
    assert args["healthcheck"].tests == list(spec.health.test)  # type: ignore[union-attr]
    assert args["healthcheck"].interval == "10s"
    assert {(lbl.label, lbl.value) for lbl in args["labels"]} == set(spec.labels.items())
    assert "POSTGRES_PASSWORD=pw" in args["envs"]


def test_env_list_keeps_outputs_as_outputs() -> None:
    secret = pulumi.Output.secret("s3cret")
    out = env_list({"B": "1", "A": secret})
    assert isinstance(out[0], pulumi.Output) and out[1] == "B=1"
