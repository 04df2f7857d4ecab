"""Dynamic providers through the real engine: numbers arrive as floats, config as the CLI stores it.

A program that declares only the router's config files (``RouterConfig``, a dynamic provider
validated with the host's real ``nginx -t``) needs no resource plugin, so this runs wherever the
CLI and the language host are built. It failed before the provider converted the engine's floats:
``listen 0.0.0.0:8080.0;`` and nginx refused it.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from testkit.engine import Engine, Workspace
from testkit.ports import free_port
from togather_deploy.render.containers import ROUTER_PREVIEW_PORT, ROUTER_PUBLIC_PORT

pytestmark = [pytest.mark.engine, pytest.mark.nginx]

PROGRAM = '''
import pulumi
from components.runtime_config import from_pulumi_runtime
from components.router import declare_router_config

cfg = from_pulumi_runtime()
files = declare_router_config("router-config", cfg, pulumi.ResourceOptions())
pulumi.export("routerDir", cfg.router_dir)
'''


@pytest.fixture
def workspace(engine: Engine, tmp_path: Path) -> Workspace:
    if shutil.which("nginx") is None:
        pytest.skip("nginx is not installed: run scripts/test, which installs it")
    return Workspace(engine, str(tmp_path), entries=("components", "togather_deploy", "venv"),
                     program=PROGRAM)


def test_router_config_through_the_engine_renders_integer_ports(workspace: Workspace,
                                                                tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "router").mkdir(parents=True)
    public, preview = free_port(), free_port()
    workspace.init_stack("wire", {
        "togather:environment": "test", "togather:image": "togather-demo-app",
        "togather:activeColor": "blue", "togather:blue": {"version": "v1"},
        "togather:publicPort": public, "togather:stateDir": str(state),
        "togather:router": {"previewPort": preview},
    })
    preview_run = workspace.pulumi("preview", "--stack", "wire", "--diff")
    assert "router-config" in preview_run.stdout

    workspace.pulumi("up", "--yes", "--stack", "wire")

    router_dir = workspace.outputs("wire")["routerDir"]
    with open(os.path.join(router_dir, "nginx.conf"), encoding="utf-8") as fh:
        conf = fh.read()
    listens = re.findall(r"^\s*listen ([^;]*);", conf, re.MULTILINE)
    # the container's own ports (published on the host's public/preview ports by the container)
    assert listens == [f"0.0.0.0:{ROUTER_PUBLIC_PORT}", f"0.0.0.0:{ROUTER_PREVIEW_PORT}"], listens

    again = workspace.pulumi("up", "--yes", "--stack", "wire")
    assert re.search(r"\b\d+ unchanged", again.stdout) and "updated" not in again.stdout, again.stdout
