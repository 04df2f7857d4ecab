"""``scripts/status``: real probes of demo-app processes, the router's colour file, lock, audit."""

from __future__ import annotations

import io
import json
import os
import subprocess
import time
from datetime import UTC, datetime

import pytest

from testkit.demo_app import prepare_database, start_demo_app
from testkit.fake_pulumi import install_fake_pulumi, write_stack
from testkit.ports import free_port
from togather_deploy import ROOT
from togather_deploy.cli import status as status_cli
from togather_deploy.cli.main import parser_for
from togather_deploy.db.snapshots import store as snapshots
from togather_deploy.ops import audit, lock, router_files
from togather_deploy.ops.context import OpsContext

STACK = "test"


def make_project(tmp_path, blue_port, green_port, active="blue", stop_idle=False):
    project = str(tmp_path / "project")
    write_stack(project, STACK, {
        "environment": "development", "activeColor": active, "image": "togather-demo-app",
        "blue": {"version": "v1.0.0", "hostPort": blue_port},
        "green": {"version": "v1.1.0", "hostPort": green_port}, "stateDir": "state",
        "stopIdleSlot": stop_idle})
    return project


def run_status(project, *args):
    fake = install_fake_pulumi(os.path.join(project, "..", "fake"))
    proc = subprocess.run([os.path.join(ROOT, "scripts", "status"), STACK, "--project-dir", project,
                           *args], env=fake.env(), capture_output=True, text=True, timeout=60,
                          check=False)
    assert fake.calls() == []  # status is read-only: it never runs pulumi
    return proc


@pytest.mark.postgres
def test_status_reports_everything(tmp_path, database_url):
    prepare_database(database_url)
    blue = start_demo_app(port=free_port(), version="v1.0.0", slot="blue", database_url=database_url)
    green = start_demo_app(port=free_port(), version="v0.9.9", slot="green", database_url=database_url)
    try:
        project = make_project(tmp_path, blue.port, green.port)
        state = os.path.join(project, "state")
        router_files.ensure_dir(os.path.join(state, "router"))
        router_files.write_active_color(os.path.join(state, "router"), "green")
        snaps = os.path.join(state, "snapshots")
        os.makedirs(snaps)
        snap = os.path.join(snaps, snapshots.snapshot_name(
            "togather", datetime(2026, 11, 1, tzinfo=UTC), "v1.0.0"))
        with open(snap, "wb") as fh:
            fh.write(b"x" * 42)
        for kind in ("deployment.started", "deployment.completed"):
            audit.append(state, audit.make_event(kind, stack=STACK, version="v1.1.0",
                                                 from_color="blue", to_color="green"))
        with lock.stack_lock(state, STACK, version="v2.0.0"):
            human = run_status(project)
            as_json = run_status(project, "--json")
    finally:
        blue.stop()
        green.stop()
    assert human.returncode == 0, human.stderr
    assert "MISMATCH" in human.stdout and "green (router), blue (stack config)" in human.stdout
    assert "--target" in human.stdout and "::traffic-switch$" in human.stdout  # a plain up changes nothing
    assert "WRONG VERSION" in human.stdout  # green answers v0.9.9 but is configured v1.1.0
    assert os.path.basename(snap) in human.stdout and "42 bytes" in human.stdout
    assert "HELD by" in human.stdout and f"pid {os.getpid()}" in human.stdout
    assert "deployment.completed" in human.stdout
    data = json.loads(as_json.stdout)
    assert data["active_color_router"] == "green" and data["active_color_config"] == "blue"
    assert data["mismatch"] is True
    slots = {s["color"]: s for s in data["slots"]}
    assert slots["blue"]["health"] == "healthy" and slots["blue"]["version"] == "v1.0.0"
    assert slots["green"]["health"].endswith("(WRONG VERSION)")
    assert data["snapshot"]["size_bytes"] == 42 and data["lock"]["held"] is True
    assert [e["event"] for e in data["events"]] == ["deployment.started", "deployment.completed"]


def test_status_with_nothing_running(tmp_path):
    project = make_project(tmp_path, free_port(), free_port(), stop_idle=True)
    proc = run_status(project)
    assert proc.returncode == 0, proc.stderr
    assert "no router file yet" in proc.stdout and "MISMATCH" not in proc.stdout
    assert "no active_color file (every request gets 503" in proc.stdout
    assert "::traffic-switch$" in proc.stdout
    assert proc.stdout.count(" down ") == 1  # the active colour: an outage
    assert "stopped (stopIdleSlot)" in proc.stdout  # the idle colour: stopped by design
    assert "lock: free" in proc.stdout and "recent events: none" in proc.stdout


def test_corrupt_router_file_is_reported_not_fatal(tmp_path):
    project = make_project(tmp_path, free_port(), free_port())
    router = os.path.join(project, "state", "router")
    os.makedirs(router)
    with open(os.path.join(router, "active_color"), "w") as fh:
        fh.write("purple\n")
    out = io.StringIO()
    ctx = OpsContext(project_dir=project, stack=STACK, out=out, err=io.StringIO(), clock=time.time)
    assert status_cli.main([STACK, "--project-dir", project], ctx=ctx) == 0
    assert "purple" in out.getvalue()


def test_a_word_the_mode_bit_contradicts_is_a_problem_with_its_fix(tmp_path):
    """nginx routes by the mode bit: a hand-edited word (or a pre-bit file) is reported."""
    project = make_project(tmp_path, free_port(), free_port())
    router = os.path.join(project, "state", "router")
    os.makedirs(router)
    router_files.write_active_color(router, "blue")
    os.chmod(os.path.join(router, "active_color"), 0o644)
    out = io.StringIO()
    ctx = OpsContext(project_dir=project, stack=STACK, out=out, err=io.StringIO(), clock=time.time)
    status_cli.main([STACK, "--project-dir", project, "--json"], ctx=ctx)
    data = json.loads(out.getvalue())
    problem = next(p for p in data["problems"] if p.startswith("router:"))
    assert "says blue but its mode routes green" in problem and "chmod 755" in problem


def test_bad_config_exits_10(tmp_path):
    project = str(tmp_path / "p")
    write_stack(project, STACK, {"image": "x", "activeColor": "green"})  # green has no version
    proc = run_status(project)
    assert proc.returncode == 10 and "activeColor" in proc.stderr


def test_parser_accepts_documented_forms():
    p = parser_for("status")
    assert p.parse_args(["production"]).stack == "production"
    assert p.parse_args(["production", "--json"]).json is True
