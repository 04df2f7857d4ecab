"""Prometheus without its lifecycle API, reloaded by the program's SIGHUP script.

Real Prometheus on loopback. The script ``monitoring.signal_script`` renders runs
in a real ``/bin/sh``; only ``docker`` is a stand-in (no Docker daemon here): it
answers ``inspect`` with the running state and turns ``kill --signal`` into a
signal to the Prometheus process, which is what the daemon does for a container.
"""

from __future__ import annotations

import os
import stat
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from components.monitoring import signal_script
from testkit.ports import free_port
from tests.integration import monitoring_procs as mp
from togather_deploy.config.model import load_config
from togather_deploy.render.monitoring_containers import prometheus_spec

pytestmark = pytest.mark.monitoring

CONTAINER = "togather-deploy-test-prometheus"
RULE = "groups:\n- name: t\n  rules:\n  - record: {name}\n    expr: vector(1)\n"
DOCKER = """#!/bin/sh
echo "$@" >> "$DOCKER_LOG"
case "$1" in
  inspect) echo "$RUNNING" ;;
  kill) kill -s "$3" "$PROMETHEUS_PID" ;;
esac
"""


def _spec_flags() -> list[str]:
    """The container's own flags, minus the paths and address that only make sense inside it."""
    cfg = load_config({"image": "ghcr.io/togather/server", "environment": "test", "blue": {"version": "v1"},
                       "stateDir": "/srv/t", "monitoring": {"enabled": True}},
                      project="togather-deploy", stack="test", project_dir="/srv/t")
    local = ("--config.file=", "--storage.tsdb.path=", "--web.listen-address=")
    return [f for f in prometheus_spec(cfg).command if not f.startswith(local)]


@pytest.fixture
def prometheus(tmp_path: Any) -> Iterator[mp.Proc]:
    if mp.missing_binaries():
        pytest.fail(f"missing {mp.missing_binaries()}: install the Debian prometheus packages")
    (tmp_path / "rules.yml").write_text(RULE.format(name="before"))
    (tmp_path / "prometheus.yml").write_text("rule_files: [rules.yml]\nscrape_configs: []\n")
    port = free_port()
    proc = mp.start("prometheus", ["prometheus", *_spec_flags(),
                                   f"--config.file={tmp_path / 'prometheus.yml'}",
                                   f"--storage.tsdb.path={tmp_path / 'data'}",
                                   f"--web.listen-address=127.0.0.1:{port}"], str(tmp_path), port)
    yield proc
    proc.stop()


def _hup(tmp_path: Any, prometheus: mp.Proc, running: str) -> list[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    docker = bin_dir / "docker"
    docker.write_text(DOCKER)
    docker.chmod(docker.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "docker.log"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "DOCKER_LOG": str(log),
           "RUNNING": running, "PROMETHEUS_PID": str(prometheus.process.pid)}
    done = subprocess.run(["/bin/sh", "-c", signal_script(CONTAINER, "HUP")], env=env,
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return log.read_text().splitlines()


def _rules(prometheus: mp.Proc) -> list[str]:
    groups = mp.api(prometheus.url, "/api/v1/rules")["groups"]
    return [r["name"] for g in groups for r in g["rules"]]


def _reload_ok(prometheus: mp.Proc) -> str:
    with urllib.request.urlopen(f"{prometheus.url}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    (line,) = [x for x in text.splitlines() if x.startswith("prometheus_config_last_reload_successful ")]
    return line.split()[1]


def test_lifecycle_endpoints_are_refused(prometheus: mp.Proc) -> None:
    for path in ("/-/quit", "/-/reload"):
        request = urllib.request.Request(f"{prometheus.url}{path}", data=b"", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403, path
    assert prometheus.process.poll() is None  # still running


def test_sighup_reloads_changed_rules_and_a_bad_file_shows_in_the_reload_metric(
        tmp_path: Any, prometheus: mp.Proc) -> None:
    mp.wait_for("the first rules", lambda: _rules(prometheus) == ["before"], timeout=30)
    (tmp_path / "rules.yml").write_text(RULE.format(name="after"))
    calls = _hup(tmp_path, prometheus, "true")
    assert calls == [f"inspect --format {{{{.State.Running}}}} {CONTAINER}",
                     f"kill --signal HUP -- {CONTAINER}"]
    mp.wait_for("the new rules", lambda: _rules(prometheus) == ["after"], timeout=30)
    assert _reload_ok(prometheus) == "1"
    (tmp_path / "rules.yml").write_text("groups: [oops")
    _hup(tmp_path, prometheus, "true")
    mp.wait_for("the failed reload", lambda: _reload_ok(prometheus) == "0", timeout=30)
    assert _rules(prometheus) == ["after"]  # the previous config keeps running (ConfigReloadFailed fires)


def test_a_stopped_container_is_left_alone(tmp_path: Any, prometheus: mp.Proc) -> None:
    assert _hup(tmp_path, prometheus, "false") == [f"inspect --format {{{{.State.Running}}}} {CONTAINER}"]
