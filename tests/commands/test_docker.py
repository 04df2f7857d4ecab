"""ContainerSpec → docker CLI argv: every spec field mapped, secrets never on the command line."""

from __future__ import annotations

import shlex
from dataclasses import replace

import pytest

from testkit.program import ROOT
from togather_deploy.commands import docker as cli
from togather_deploy.config.source import from_stack_file
from togather_deploy.render.containers import HealthSpec, MountSpec, app_spec, database_spec, router_spec
from togather_deploy.render.monitoring_containers import prometheus_spec

SECRETS = {"DATABASE_URL": "postgres://togather:s3cret-pw@db:5432/togather",
           "JWT_SECRET": "j" * 40, "CSRF_KEY": "c" * 40, "SMTP_PASSWORD": "mail-s3cret"}


@pytest.fixture(scope="module")
def cfg():
    return from_stack_file(ROOT, "dev")


def _pairs(argv: tuple[str, ...], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == flag]


def test_database_run_argv_maps_every_field(cfg) -> None:
    spec = database_spec(cfg, "s3cret-pw")
    argv = cli.run_argv(spec)
    assert argv[:5] == ("docker", "run", "-d", "--name", "togather-deploy-dev-db")
    assert _pairs(argv, "--network") == ["togather-deploy-dev-net"]
    assert _pairs(argv, "--network-alias") == ["db"]
    assert _pairs(argv, "--ip") == ["10.77.0.2"]
    assert _pairs(argv, "--publish") == ["127.0.0.1:15432:5432"]
    assert _pairs(argv, "--mount") == [
        "type=volume,source=togather-deploy-dev-pgdata,target=/var/lib/postgresql/data"]
    assert _pairs(argv, "--health-cmd") == ["pg_isready -h 127.0.0.1 -U togather -d togather"]
    assert _pairs(argv, "--health-interval") == ["10s"]
    assert _pairs(argv, "--memory") == [f"{cfg.database.memory_mb}m"]
    assert _pairs(argv, "--restart") == ["unless-stopped"]
    assert _pairs(argv, "--stop-timeout") == ["60"]
    assert _pairs(argv, "--log-opt") == ["max-size=10m", "max-file=3"]
    assert "togather.role=database" in _pairs(argv, "--label")
    assert argv[-1] == spec.image  # no command: the image's entrypoint runs


def test_secrets_travel_in_the_environment_never_in_argv(cfg) -> None:
    spec = app_spec(cfg, "blue", SECRETS)
    argv = cli.run_argv(spec, secret_names={"SMTP_PASSWORD"})
    joined = " ".join(argv)
    for value in SECRETS.values():
        assert value not in joined
    envs = _pairs(argv, "--env")
    assert {"DATABASE_URL", "JWT_SECRET", "CSRF_KEY", "SMTP_PASSWORD"} <= set(envs)
    assert "SLOT=blue" in envs and "SERVER_PORT=8080" in envs  # plain values stay inline
    assert cli.run_env(spec, {"SMTP_PASSWORD"}) == SECRETS
    db = database_spec(cfg, "pg-s3cret")
    assert "pg-s3cret" not in " ".join(cli.run_argv(db))
    assert cli.run_env(db) == {"POSTGRES_PASSWORD": "pg-s3cret"}


def test_extra_networks_follow_the_first_which_keeps_the_aliases(cfg) -> None:
    argv = cli.run_argv(prometheus_spec(cfg))
    at = argv.index("--network")
    assert argv[at:at + 6] == ("--network", "togather-deploy-dev-monitoring-net",
                               "--network-alias", "prometheus", "--network", "togather-deploy-dev-net")


def test_router_argv_keeps_command_and_read_only_directory_mount(cfg) -> None:
    spec = router_spec(cfg)
    argv = cli.run_argv(spec)
    image_at = argv.index(spec.image)
    assert argv[image_at + 1:] == spec.command
    assert _pairs(argv, "--mount") == [f"type=bind,source={cfg.router_dir},"
                                       "target=/etc/togather-router,readonly"]
    assert _pairs(argv, "--publish") == [f"0.0.0.0:{cfg.public_port}:8080",
                                         f"127.0.0.1:{cfg.router.preview_port}:8081"]
    assert _pairs(argv, "--network-alias") == []


def test_health_forms(cfg) -> None:
    base = router_spec(cfg)
    shell = replace(base, health=HealthSpec(("CMD-SHELL", "curl -f localhost || exit 1")))
    assert _pairs(cli.run_argv(shell), "--health-cmd") == ["curl -f localhost || exit 1"]
    quoted = replace(base, health=HealthSpec(("CMD", "sh", "-c", "echo 'a b'")))
    assert _pairs(cli.run_argv(quoted), "--health-cmd") == ["sh -c 'echo '\"'\"'a b'\"'\"''"]
    assert "--no-healthcheck" in cli.run_argv(replace(base, health=HealthSpec(("NONE",))))
    assert not [a for a in cli.run_argv(replace(base, health=None)) if a.startswith("--health")]
    with pytest.raises(ValueError, match="health check"):
        cli.run_argv(replace(base, health=HealthSpec(("CMD",))))


def test_bad_specs_are_refused_with_the_field_named(cfg) -> None:
    base = router_spec(cfg)
    with pytest.raises(ValueError, match="commas"):
        cli.run_argv(replace(base, mounts=(MountSpec("bind", "/a,b", "/x"),)))
    with pytest.raises(ValueError, match="bind or volume"):
        cli.run_argv(replace(base, mounts=(MountSpec("tmpfs", "x", "/x"),)))
    with pytest.raises(ValueError, match="aliases and a fixed address need a network"):
        cli.run_argv(replace(base, network="", aliases=("x",)))
    with pytest.raises(ValueError, match="fixed address need a network"):
        cli.run_argv(replace(base, network="", aliases=(), ipv4_address="10.77.0.9"))
    with pytest.raises(ValueError, match="extra networks need a"):
        cli.run_argv(replace(base, network="", ipv4_address=None, extra_networks=("x",)))
    with pytest.raises(ValueError, match="plain string"):
        cli.run_argv(replace(base, env={"A": object()}))
    with pytest.raises(ValueError, match="docker CLI uses it"):
        cli.run_env(replace(base, env={"PATH": "/x"}), {"PATH"})


def test_object_argv() -> None:
    labels = {"togather.stack": "dev", "togather.project": "p"}
    assert cli.network_create_argv("n", labels) == (
        "docker", "network", "create", "--driver", "bridge",
        "--label", "togather.project=p", "--label", "togather.stack=dev", "--", "n")
    assert cli.network_create_argv("n", subnet="10.1.2.0/24", gateway="10.1.2.1",
                                   ip_range="10.1.2.128/25") == (
        "docker", "network", "create", "--driver", "bridge", "--subnet", "10.1.2.0/24",
        "--gateway", "10.1.2.1", "--ip-range", "10.1.2.128/25", "--", "n")
    with pytest.raises(ValueError, match="needs a subnet"):
        cli.network_create_argv("n", gateway="10.1.2.1")
    assert cli.volume_create_argv("v") == ("docker", "volume", "create", "--", "v")
    assert cli.rm_argv("c") == ("docker", "rm", "--force", "--", "c")
    assert cli.state_argv("c") == ("docker", "container", "inspect", "--format", "{{json .State}}",
                                   "--", "c")
    assert cli.stop_argv("c", 15) == ("docker", "stop", "--time", "15", "--", "c")
    assert cli.kill_argv("c", "HUP") == ("docker", "kill", "--signal", "HUP", "--", "c")
    assert cli.ps_argv({"togather.stack": "dev"})[-4:] == (
        "--filter", "label=togather.stack=dev", "--format", "{{.Names}}")
    with pytest.raises(ValueError, match="kind"):
        cli.inspect_argv("pod", "x")


def _from_cli(argv: tuple[str, ...]) -> dict[str, object]:
    health = _pairs(argv, "--health-cmd")
    return {
        "name": _pairs(argv, "--name")[0],
        "ports": sorted(tuple(p.split(":")) for p in _pairs(argv, "--publish")),
        "mounts": sorted(_pairs(argv, "--mount")),
        "networks": _pairs(argv, "--network"),
        "aliases": _pairs(argv, "--network-alias"),
        "health": (shlex.split(health[0]), *[_pairs(argv, f)[0] for f in (
            "--health-interval", "--health-timeout", "--health-retries", "--health-start-period")])
        if health else None,
        "labels": sorted(_pairs(argv, "--label")),
        "memory": _pairs(argv, "--memory")[0],
        "restart": _pairs(argv, "--restart")[0],
        "log": sorted(_pairs(argv, "--log-opt")),
        "grace": _pairs(argv, "--stop-timeout")[0],
        "signal": next(iter(_pairs(argv, "--stop-signal")), None),
        "env": sorted(e.split("=", 1)[0] for e in _pairs(argv, "--env")),
    }


def _from_pulumi(args: dict) -> dict[str, object]:
    hc = args["healthcheck"]
    nets = args["networks_advanced"] or []
    return {
        "name": args["name"],
        "ports": sorted((p.ip, str(p.external), str(p.internal)) for p in args["ports"]),
        "mounts": sorted(f"type={m.type},source={m.source},target={m.target}" + (",readonly" if m.read_only
                                                                                else "")
                         for m in args["mounts"]),
        "networks": [n.name for n in nets],
        "aliases": list(nets[0].aliases or []) if nets else [],
        "health": (list(hc.tests[1:]), hc.interval, hc.timeout, str(hc.retries), hc.start_period)
        if hc else None,
        "labels": sorted(f"{la.label}={la.value}" for la in args["labels"]),
        "memory": f"{args['memory']}m",
        "restart": args["restart"],
        "log": sorted(f"{k}={v}" for k, v in args["log_opts"].items()),
        # the container's own stop timeout; a delete waits just as long
        "grace": str(args["stop_timeout"]) if args["stop_timeout"] == args["destroy_grace_seconds"] else None,
        "signal": args["stop_signal"],
        "env": sorted(e.split("=", 1)[0] for e in args["envs"]),
    }


def test_cli_and_pulumi_mappings_agree_on_every_setting(cfg) -> None:
    """No container setting is written twice: both mappings read the one spec, identically."""
    from components.docker_args import container_args

    for spec in (database_spec(cfg, "pw"), router_spec(cfg), app_spec(cfg, "blue", SECRETS),
                 app_spec(cfg, "green", SECRETS), replace(router_spec(cfg), stop_signal="SIGQUIT"),
                 prometheus_spec(cfg)):
        cli_view = _from_cli(cli.run_argv(spec, {"SMTP_PASSWORD"}))
        assert cli_view == _from_pulumi(container_args(spec)), spec.name
        assert cli_view["name"] == spec.name and cli_view["memory"] == f"{spec.memory_mb}m"


def test_monitoring_secrets_never_reach_argv(cfg) -> None:
    from togather_deploy.render.monitoring_containers import grafana_spec, postgres_exporter_spec
    from togather_deploy.render.pg_exporter import exporter_dsn

    dsn = exporter_dsn("togather_exporter", "exp:@/#?%-pw", host="db", port=5432, database="togather")
    for spec, value in ((grafana_spec(cfg, "graf-admin-s3cret"), "graf-admin-s3cret"),
                        (postgres_exporter_spec(cfg, dsn), "exp%3A%40")):
        argv = cli.run_argv(spec)
        assert value not in " ".join(argv), spec.name
        assert set(cli.run_env(spec)) & {"GF_SECURITY_ADMIN_PASSWORD", "DATA_SOURCE_NAME"}
    assert "exp%3A%40%2F%23%3F%25-pw@db:5432" in dsn
