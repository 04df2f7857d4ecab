"""``scripts/deploy`` and ``scripts/rollback`` end to end: real nginx, two demo-app processes,
the real health gate and the real ``TrafficSwitch`` code, with only the Pulumi engine faked.

The fake ``pulumi up`` runs ``_ENGINE``: what the program's resources do on this host —
the ``HealthGate`` (``wait_healthy``) of each colour whose version changed, then the
``TrafficSwitch`` (``traffic_switch.switch``) to the stack's ``activeColor`` — and, like
the engine, reports a provider failure as its traceback.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from testkit.demo_app import get_json, prepare_database, start_demo_app
from testkit.fake_pulumi import install_fake_pulumi, read_stack, run_script, write_stack
from testkit.nginx import nginx_available, start_router
from testkit.ports import free_port
from togather_deploy.ops import audit

pytestmark = [pytest.mark.nginx, pytest.mark.postgres, pytest.mark.slow]
STACK = "e2e"

_ENGINE = r"""
import json, os, sys, traceback
sys.path.insert(0, os.environ["FAKE_PULUMI_REPO"])  # the program's own dir, as the engine runs it
from togather_deploy.ops import health
from components import traffic
from components.providers import traffic_switch
from togather_deploy.config.source import from_stack_file
cwd, stack = os.environ["FAKE_PULUMI_CWD"], os.environ["FAKE_PULUMI_STACK"]
cfg = from_stack_file(cwd, stack)
state_file = os.path.join(cwd, ".engine-state.json")  # the engine's memory of passed gates
gated = json.load(open(state_file)) if os.path.exists(state_file) else {}
try:
    for color in cfg.deployed_colors:  # a HealthGate re-runs only when its slot's version changes
        if gated.get(color) == cfg.slot(color).version:
            continue
        h = cfg.health
        health.wait_healthy(traffic.local_url(cfg.slot(color).host_port),
                            version=cfg.slot(color).version, allow_degraded=h.allow_degraded,
                            consecutive=h.consecutive, timeout_s=h.timeout_seconds,
                            interval_s=h.interval_seconds, health_path=h.path)
        gated[color] = cfg.slot(color).version
        json.dump(gated, open(state_file, "w"))
    props = traffic.switch_props(cfg, idle_container="", gate_checked_at=0)
    print("switched:", traffic_switch.switch(props)["active_color"])
except Exception:
    print("error: Exception calling application:")
    print(traceback.format_exc())
    raise SystemExit(1)
"""


@pytest.fixture
def world(tmp_path, database_url):
    if not nginx_available():
        pytest.fail("nginx with the njs module is not installed: run scripts/test")
    prepare_database(database_url)
    blue = start_demo_app(port=free_port(), version="v1.0.0", slot="blue", database_url=database_url)
    green = start_demo_app(port=free_port(), version="v1.1.0", slot="green", database_url=database_url)
    # not under pytest's basetemp: another pytest session resets /tmp/pytest-of-<user> to 0700,
    # which would lock nginx's unprivileged workers out of the router directory mid-test
    base = tempfile.mkdtemp(prefix="togather-e2e-")
    os.chmod(base, 0o711)
    project = os.path.join(base, "project")
    router_dir = os.path.join(project, "state", "router")
    router = start_router({"blue": f"127.0.0.1:{blue.port}", "green": f"127.0.0.1:{green.port}"},
                          router_dir, active="blue")
    write_stack(project, STACK, {
        "environment": "development", "activeColor": "blue", "image": "togather-demo-app",
        "blue": {"version": "v1.0.0", "hostPort": blue.port},
        "green": {"version": "v0.9.0", "hostPort": green.port},
        "publicPort": router.params.listen_port, "router": {"previewPort": router.params.preview_port},
        "stateDir": "state", "stopIdleSlot": False,
        "health": {"timeoutSeconds": 20, "intervalSeconds": 1, "consecutive": 2}})
    fake = install_fake_pulumi(str(tmp_path / "fake"))
    try:
        yield project, fake, router, blue, green
    finally:
        router.stop()
        blue.stop()
        green.stop()
        shutil.rmtree(base, ignore_errors=True)


def _serving(router) -> tuple[str, str]:
    _, body, headers = get_json(router.url + "/version")
    return headers.get("X-Togather-Slot", "?"), body.get("version", "?")


def test_deploy_switches_real_traffic_and_status_agrees(world):
    project, fake, router, _blue, _green = world
    fake.rule("up", run=[sys.executable, "-c", _ENGINE])
    assert _serving(router) == ("blue", "v1.0.0")
    proc = run_script(fake, "deploy", STACK, "v1.1.0", "--project-dir", project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _serving(router) == ("green", "v1.1.0")
    status = json.loads(run_script(fake, "status", STACK, "--project-dir", project, "--json").stdout)
    assert status["active_color_router"] == status["active_color_config"] == "green"
    assert status["mismatch"] is False
    assert {s["color"]: s["health"] for s in status["slots"]} == {"blue": "healthy",
                                                                   "green": "healthy"}


def test_unverifiable_switch_is_restored_for_real(world):
    project, fake, router, _blue, green = world
    # between the release and the switch, green falls over: the real switch refuses it
    fake.rule("up", nth=2, write={green.control_file: json.dumps({"health": "unhealthy"})},
              run=[sys.executable, "-c", _ENGINE])
    fake.rule("up", run=[sys.executable, "-c", _ENGINE])
    proc = run_script(fake, "deploy", STACK, "v1.1.0", "--project-dir", project)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "not switching to green" in proc.stderr
    assert fake.verbs()[-3:] == ["config set togather:activeColor=blue", "up", "stack output"]
    assert read_stack(project, STACK)["activeColor"] == "blue"
    assert _serving(router) == ("blue", "v1.0.0")
    events = [e["event"] for e in audit.read_events(os.path.join(project, "state"))]
    assert events == ["deployment.started", "deployment.rolled_back"]


def test_two_ci_deploys_in_a_row_from_fresh_checkouts(world):
    """Each CI run checks out the committed stack file (activeColor: blue). The second deploy
    must still release on the colour that is idle *now* (blue), read from the backend."""
    project, fake, router, _blue, _green = world
    fake.rule("up", run=[sys.executable, "-c", _ENGINE])
    stack_file = os.path.join(project, f"Pulumi.{STACK}.yaml")
    with open(stack_file) as fh:
        committed = fh.read()
    first = run_script(fake, "deploy", STACK, "v1.1.0", "--project-dir", project)
    assert first.returncode == 0, first.stdout + first.stderr
    assert _serving(router) == ("green", "v1.1.0")
    with open(stack_file, "w") as fh:
        fh.write(committed)
    second = run_script(fake, "deploy", STACK, "v1.0.0", "--project-dir", project)
    assert second.returncode == 0, second.stdout + second.stderr
    assert _serving(router) == ("blue", "v1.0.0")


def test_rollback_goes_back_through_the_real_gate(world):
    project, fake, router, _blue, _green = world
    fake.rule("up", run=[sys.executable, "-c", _ENGINE])
    assert run_script(fake, "deploy", STACK, "v1.1.0", "--project-dir", project).returncode == 0
    proc = run_script(fake, "rollback", STACK, "--project-dir", project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _serving(router) == ("blue", "v1.0.0")
    assert read_stack(project, STACK)["activeColor"] == "blue"


def _wrk_summary(text: str) -> dict[str, int]:
    """Requests, non-2xx/3xx responses and socket errors from wrk's report."""
    requests = re.search(r"^\s*([0-9]+) requests in", text, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses: ([0-9]+)", text)
    sock = re.search(r"Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)",
                     text)
    return {"requests": int(requests.group(1)) if requests else 0,
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": sum(int(g) for g in sock.groups()) if sock else 0}


def test_deploy_and_rollback_under_load_lose_no_request(world):
    """Keep-alive clients that never retry (wrk) while the operator scripts flip twice."""
    project, fake, router, _blue, _green = world
    if shutil.which("wrk") is None:
        pytest.fail("wrk is not installed: run scripts/test")
    fake.rule("up", run=[sys.executable, "-c", _ENGINE])
    load = subprocess.Popen(["wrk", "-t2", "-c16", "-d25s", router.url + "/api/v1/events"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(1)
        deployed = run_script(fake, "deploy", STACK, "v1.1.0", "--project-dir", project)
        rolled = run_script(fake, "rollback", STACK, "--project-dir", project)
    finally:
        out, _ = load.communicate(timeout=60)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    summary = _wrk_summary(out)
    print(json.dumps({"wrk_during_deploy_and_rollback": summary}))
    assert summary["requests"] > 1000, out
    assert summary["non_2xx"] == 0 and summary["socket_errors"] == 0, out
    colors = {entry["color"] for entry in router.access_log()}
    assert colors >= {"blue", "green"}  # traffic really moved both ways
