"""Live progress of ``pulumi up`` through the Automation API, against the REAL engine.

The program declares one ``HealthGate`` (the real dynamic provider) on a stub slot that turns
healthy only after a while. ``AutomationEngine.up`` must report, while the update runs: the
gate starting, its probe rounds (from the provider process, through the progress file), and
the gate finishing with its elapsed time — in that order. A gate that never passes must fail
with exit 4, classified from the engine's structured events (the failed resource and its
error diagnostic), not from the CLI's text.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from testkit.engine import Engine, Workspace
from testkit.stub_app import StubApp
from togather_deploy.errors import DeployError, ExitCode
from togather_deploy.ops.automation import AutomationEngine
from togather_deploy.ops.context import OpsContext
from togather_deploy.ops.engine import Progress

pytestmark = [pytest.mark.engine]

PROGRAM = '''
import pulumi
from components.providers.health_gate import HealthGate

conf = pulumi.Config("togather")
gate = HealthGate("green-gate", {
    "color": "green", "base_url": conf.require("gateUrl"), "version": conf.require("gateVersion"),
    "interval_seconds": 0.3, "timeout_seconds": float(conf.require("gateTimeout")),
    "consecutive": 2, "path": "/health"})
pulumi.export("gateStatus", gate.status)
'''


@pytest.fixture
def workspace(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    ws = Workspace(engine, str(tmp_path), entries=("components", "togather_deploy", "venv"),
                   program=PROGRAM)
    for key in ("PATH", "PULUMI_HOME", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE",
                "PULUMI_SKIP_UPDATE_CHECK", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "NO_COLOR"):
        monkeypatch.setenv(key, ws.env[key])  # the API runs the CLI with our environment
    return ws


def _up(ws: Workspace, tmp_path: Path, seen: list[Progress]) -> None:
    ctx = OpsContext(project_dir=ws.project, stack="live", log_dir=str(tmp_path / "logs"))
    AutomationEngine(ctx, policy_packs=()).up("pulumi up", seen.append)


def test_up_reports_each_resource_and_the_gate_wait_as_it_happens(workspace: Workspace,
                                                                 tmp_path: Path) -> None:
    with StubApp(slot="green", version="v2.0.0") as app:
        app.state.ready, app.state.status = False, "unhealthy"
        workspace.init_stack("live", {"togather:gateUrl": app.url, "togather:gateVersion": "v2.0.0",
                                      "togather:gateTimeout": "60"})
        seen: list[Progress] = []

        def turn_healthy_once_the_gate_waits() -> None:  # however slow the engine starts
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not any(p.name == "health-gate" for p in seen):
                time.sleep(0.05)
            time.sleep(2.0)
            app.state.ready, app.state.status = True, "healthy"

        threading.Thread(target=turn_healthy_once_the_gate_waits, daemon=True).start()
        _up(workspace, tmp_path, seen)

    kinds = [(p.kind, p.name) for p in seen]
    start = kinds.index(("start", "green-gate"))
    done = kinds.index(("done", "green-gate"))
    rounds = [i for i, p in enumerate(seen) if p.kind == "log" and p.name == "health-gate"]
    # live: rounds arrive while the gate runs (the last may be read just after its "done": the
    # file is polled every 0.3 s, the event stream is pushed)
    assert rounds and start < rounds[0] < rounds[1] < done, kinds
    assert "green at v2.0.0" in seen[rounds[0]].message
    messages = [seen[i].message for i in rounds]
    assert any("HTTP 503" in m for m in messages), messages  # the wait itself was shown
    took = seen[done].seconds
    assert seen[start].op == "create" and took is not None
    assert took >= 1.5  # it waited for the slot (healthy after 2 s)
    assert not list((tmp_path / "logs").glob("progress-*"))  # the progress file is removed


def test_a_gate_that_never_passes_is_exit_4_from_the_engine_events(workspace: Workspace,
                                                                  tmp_path: Path) -> None:
    with StubApp(slot="green", version="v1.0.0") as app:  # answers the wrong version
        workspace.init_stack("live", {"togather:gateUrl": app.url, "togather:gateVersion": "v2.0.0",
                                      "togather:gateTimeout": "2"})
        seen: list[Progress] = []
        with pytest.raises(DeployError) as caught:
            _up(workspace, tmp_path, seen)
    assert caught.value.exit_code == ExitCode.HEALTH
    assert "green-gate" in caught.value.context["failed resources"]
    assert any(p.kind == "failed" and p.name == "green-gate" for p in seen)
    assert any(p.kind == "log" and p.message.startswith("error:") for p in seen)
