"""The real ``__main__.py`` under Pulumi's mocks, for every committed stack file."""

from __future__ import annotations

import pytest

from testkit.program import ROOT, is_secret, reveal, run_program, stack_config
from togather_deploy.config.source import from_stack_file

STACKS = ("dev", "staging", "production")
CONTAINER = "docker:index/container:Container"


@pytest.fixture(scope="module", params=STACKS)
def run(request):
    return request.param, run_program(request.param)


def test_names_follow_project_stack_role(run) -> None:
    stack, result = run
    cfg = from_stack_file(ROOT, stack)
    names = set(result.containers())
    assert f"togather-deploy-{stack}-db" in names
    assert f"togather-deploy-{stack}-router" in names
    for color in cfg.deployed_colors:
        assert f"togather-deploy-{stack}-app-{color}" in names


def test_every_image_is_pinned(run) -> None:
    _, result = run
    for name, reg in result.containers().items():
        image = reg.inputs["image"]
        if image.startswith("sha256:"):  # app slots use the pulled image's id
            image = image.split(":", 1)[1][12:]
        assert ":" in image and not image.endswith(":latest"), (name, image)


def test_only_the_router_listens_publicly(run) -> None:
    _, result = run
    for name, reg in result.containers().items():
        for port in reg.inputs.get("ports", []):
            if name.endswith("-router") and port["internal"] in (8080, 8443):  # http; https with tls
                assert port["ip"] == "0.0.0.0"
            else:
                assert port["ip"] == "127.0.0.1", (name, port)


def test_every_child_is_parented_to_its_component(run) -> None:
    _, result = run
    components = [r.name for r in result.registrations if r.type.startswith("togather:deploy:")]
    assert {"database", "router", "app-secrets"} <= set(components)
    for reg in result.registrations:
        owner = [c for c in components if reg.name.startswith(f"{c}-")]
        if owner:
            assert reg.parent.endswith(f"::{max(owner, key=len)}"), (reg.name, reg.parent)
        else:
            assert reg.parent.endswith("::pulumi:pulumi:Stack::togather-deploy-" + _), reg.name


def test_release_order_is_declared_as_dependencies(run) -> None:
    _, result = run
    snapshot = result.named("db-snapshot")
    migrations = result.named("db-migrations")
    # Depending on a component means depending on its children (the engine expands it).
    assert any(d.endswith("::database-container") for d in snapshot.dependencies)
    assert any(d.endswith("::db-snapshot") for d in migrations.dependencies)
    for reg in result.of_type("docker:index/container:Container"):
        if "-app-" in reg.inputs["name"]:
            assert any(d.endswith("::db-migrations") for d in reg.dependencies)
            assert any(d.endswith("::live-slot-guard") for d in reg.dependencies)
    # the host directories exist before anything writes or mounts them
    for name in ("db-snapshot", "router-config", "router-container"):
        assert any(d.endswith("::host-dirs-create") for d in result.named(name).dependencies), name
    create = result.named("host-dirs-create")
    assert "-m togather_deploy.hostfs.paths 0700:" in create.inputs["create"]
    assert "delete" not in create.inputs
    switch = result.named("traffic-switch")
    assert any(d.endswith(f"::traffic-gate-{cfg_active(result)}") for d in switch.dependencies)
    assert any(d.endswith("::router-container") for d in switch.dependencies)


def cfg_active(result) -> str:
    return result.named("traffic-switch").inputs["active_color"]


def test_database_volume_survives_destroy(run) -> None:
    _, result = run
    (volume,) = result.of_type("docker:index/volume:Volume")
    assert volume.protect and volume.retain_on_delete


def test_secrets_are_secret(run) -> None:
    _, result = run
    containers = result.containers()
    for name, reg in containers.items():
        if "-app-" in name or name.endswith("-db"):
            assert is_secret(reg.inputs["envs"]), name
    assert not any("rrrr" in str(reg.inputs) for reg in result.registrations
                   if reg.type.startswith("togather:deploy:"))


def test_every_container_has_memory_limit_restart_and_log_rotation(run) -> None:
    _, result = run
    for name, reg in result.containers().items():
        assert reg.delete_before_replace, name  # fixed names: the old one must go first
        assert reg.inputs["memory"] > 0, name
        assert reg.inputs["restart"] == "unless-stopped", name
        assert reg.inputs["logOpts"]["max-size"], name


def test_app_health_check_is_production_sane(run) -> None:
    _, result = run
    for name, reg in result.containers().items():
        if "-app-" in name:
            assert reg.inputs["healthcheck"]["interval"] == "30s"
            assert reg.inputs["mustRun"] is False  # a stopped idle slot must stay stopped


def test_colour_without_version_has_no_container() -> None:
    raw = stack_config("production")
    result = run_program("production", raw)
    names = set(result.containers())
    assert "togather-deploy-production-app-blue" in names
    assert "togather-deploy-production-app-green" not in names


def test_router_inputs_do_not_depend_on_active_colour() -> None:
    raw = stack_config("dev")
    blue = run_program("dev", {**raw, "activeColor": "blue"})
    green = run_program("dev", {**raw, "activeColor": "green"})
    router_blue = blue.containers()["togather-deploy-dev-router"].inputs
    router_green = green.containers()["togather-deploy-dev-router"].inputs
    assert router_blue == router_green


def test_the_router_pools_to_the_addresses_the_slots_have() -> None:
    """One subnet, one address per colour: the network's IPAM, each slot's fixed address and
    the upstream the router's config names must agree, or a pooled router reaches nothing."""
    raw = {**stack_config("dev"), "green": {"version": "v1.1.0"}, "network": {"subnet": "10.9.8.0/24"}}
    result = run_program("dev", raw)
    net = result.named("network")
    assert net.delete_before_replace  # fixed name: the old network must go before the new one
    assert net.inputs["ipamConfigs"] == [{"subnet": "10.9.8.0/24", "gateway": "10.9.8.1",
                                          "ipRange": "10.9.8.128/25"}]
    upstreams = result.named("router-config").inputs["params"]["upstreams"]
    for color in ("blue", "green"):
        (endpoint,) = result.containers()[f"togather-deploy-dev-app-{color}"].inputs["networksAdvanced"]
        assert upstreams[color] == f"{endpoint['ipv4Address']}:8080"
        assert endpoint["ipv4Address"].startswith("10.9.8.")


def test_app_env_carries_slot_identity_and_operator_env() -> None:
    raw = {**stack_config("dev"), "appEnv": '{"LOG_LEVEL": "debug"}'}
    result = run_program("dev", raw, secrets={"jwtSecret": "j" * 40})
    env = reveal(result.containers()["togather-deploy-dev-app-green"].inputs["envs"])
    assert "SLOT=green" in env and "DEPLOYMENT_SLOT=green" in env
    assert "LOG_LEVEL=debug" in env and "ENVIRONMENT=development" in env
    assert "JWT_SECRET=" + "j" * 40 in env  # operator's secret wins over the generated one
    assert any(e.startswith("DATABASE_URL=postgres://togather:") and "@db:5432/" in e for e in env)


def test_stop_grace_is_the_container_s_own_stop_timeout(run) -> None:
    """Docker's default is 10 s: PostgreSQL's 60 s must apply to every `docker stop`, not only deletes."""
    stack, result = run
    containers = result.containers()
    db = containers[f"togather-deploy-{stack}-db"].inputs
    assert db["stopTimeout"] == db["destroyGraceSeconds"] == 60
    assert "stopSignal" not in db  # the postgres image's own SIGINT (fast shutdown) stays
    for name, reg in containers.items():
        assert reg.inputs["stopTimeout"] == reg.inputs["destroyGraceSeconds"] >= 15, name


def _seconds(duration: str) -> int:
    assert duration.endswith("s"), duration
    return int(duration[:-1])


def test_database_is_healthy_before_its_dependents_run(run) -> None:
    """Created = healthy (pulumi-docker waits), and the wait outlasts Docker's own verdict."""
    stack, result = run
    db = result.containers()[f"togather-deploy-{stack}-db"].inputs
    hc = db["healthcheck"]
    assert hc["tests"][:4] == ["CMD", "pg_isready", "-h", "127.0.0.1"]  # TCP, as the clients connect
    assert db["wait"] is True
    probe = _seconds(hc["interval"]) + _seconds(hc["timeout"])
    unhealthy_by = _seconds(hc["startPeriod"]) + hc["retries"] * probe
    assert unhealthy_by < db["waitTimeout"] <= 300, (unhealthy_by, db["waitTimeout"])
    for name, reg in result.containers().items():
        if name != f"togather-deploy-{stack}-db":
            assert not reg.inputs.get("wait"), name  # only the database has dependents that connect at once


def test_monitoring_waits_for_the_host_directories() -> None:
    """node-exporter bind-mounts <stateDir>/metrics: Docker refuses a bind source that is missing."""
    result = run_program("production")  # monitoring enabled
    names = ["monitoring-node-exporter", "monitoring-prometheus-config", "monitoring-alertmanager-config",
             "monitoring-grafana-provisioning", "monitoring-postgres-exporter-config"]
    for name in names:
        assert any(d.endswith("::host-dirs-create") for d in result.named(name).dependencies), name
