"""``scripts/maintenance``: the real script against a real nginx router; ``pulumi`` is the fake
(it edits the stack file like the real ``pulumi config set``)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from testkit.fake_pulumi import FakePulumi, install_fake_pulumi, read_stack, run_script, write_stack
from testkit.nginx import NginxRouter, nginx_available, private_dir, start_router
from testkit.receiver import Receiver
from testkit.stub_app import StubApp
from togather_deploy.errors import EXIT_CONFIG, EXIT_LOCKED
from togather_deploy.ops import audit, lock, maintenance_flag

STACK = "test"
pytestmark = [pytest.mark.nginx,
              pytest.mark.skipif(not nginx_available(), reason="nginx + njs not installed: scripts/test")]


@pytest.fixture
def fake(tmp_path) -> FakePulumi:
    return install_fake_pulumi(str(tmp_path / "fake"))


@pytest.fixture
def live() -> Iterator[tuple[str, NginxRouter]]:
    """A project whose stack's router directory is served by a real nginx."""
    with private_dir() as d:
        project = os.path.join(d, "project")
        slot = StubApp(version="v1", slot="blue").start()
        router = start_router({"blue": f"127.0.0.1:{slot.port}", "green": f"127.0.0.1:{slot.port}"},
                              os.path.join(project, "state", "router"))
        with router, Receiver() as hook:
            write_stack(project, STACK, {"environment": "development", "image": "x/server",
                                         "blue": {"version": "v1"}, "stateDir": "state",
                                         "notify": {"webhookUrl": hook.url, "retries": 0}})
            yield project, router
        slot.stop()


def status_of(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_on_and_off_switch_the_live_router_and_keep_the_config_in_agreement(fake, live) -> None:
    project, router = live
    proc = run_script(fake, "maintenance", STACK, "on", "--message", "Upgrading, back at 21:00",
                      "--project-dir", project, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert result["maintenance"] == "on" and result["changed"] and result["config_updated"]
    assert read_stack(project, STACK)["router"] in ({"maintenance": "true"}, {"maintenance": True})
    status, body = status_of(router.url + "/events")
    assert status == 503 and b"Upgrading, back at 21:00" in body
    assert status_of(router.url + "/healthz")[0] == 200
    assert [n["ok"] for n in result["notifications"]] == [True]
    # again: idempotent, nothing to notify
    again = json.loads(run_script(fake, "maintenance", STACK, "on", "--message", "Upgrading, back at 21:00",
                                  "--project-dir", project, "--json").stdout)
    assert not again["changed"] and not again["config_updated"] and again["notifications"] == []
    proc = run_script(fake, "maintenance", STACK, "off", "--project-dir", project)
    assert proc.returncode == 0 and "maintenance off" in proc.stdout
    assert status_of(router.url + "/events")[0] == 200
    assert read_stack(project, STACK)["router"] in ({"maintenance": "false"}, {"maintenance": False})
    events = audit.read_events(os.path.join(project, "state"))
    assert [e["event"] for e in events] == ["maintenance.on", "maintenance.on", "maintenance.off"]
    assert "reload" not in router.error_log().lower()


def test_bad_message_or_held_lock_changes_nothing(fake, live) -> None:
    project, router = live
    proc = run_script(fake, "maintenance", STACK, "on", "--message", "x" * 600, "--project-dir", project)
    assert proc.returncode == EXIT_CONFIG and "--message" in proc.stderr
    with lock.stack_lock(os.path.join(project, "state"), STACK, version="v2"):
        proc = run_script(fake, "maintenance", STACK, "on", "--project-dir", project)
    assert proc.returncode == EXIT_LOCKED, proc.stderr
    assert maintenance_flag.read(router.conf_dir) is None and status_of(router.url + "/x")[0] == 200
    assert fake.verbs() == [] and "router" not in read_stack(project, STACK)


def test_a_failing_config_set_leaves_the_router_alone(fake, live) -> None:
    project, router = live
    fake.rule("config set", exit=255, stderr="error: passphrase must be set")
    proc = run_script(fake, "maintenance", STACK, "on", "--project-dir", project)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "setting router.maintenance failed" in proc.stderr
    assert maintenance_flag.read(router.conf_dir) is None and status_of(router.url + "/x")[0] == 200


def test_no_config_only_switches_the_router(fake, live) -> None:
    project, router = live
    proc = run_script(fake, "maintenance", STACK, "on", "--no-config", "--project-dir", project)
    assert proc.returncode == 0, proc.stderr
    assert fake.verbs() == [] and status_of(router.url + "/x")[0] == 503


def test_help_has_arguments_exit_codes_and_an_example() -> None:
    proc = run_script(None, "maintenance", "--help")
    assert proc.returncode == 0
    for text in ("--message", "--no-config", "exit codes:", "3 a deploy or rollback holds the lock",
                 "example:", "scripts/maintenance production on"):
        assert text in proc.stdout
    assert "``" not in proc.stdout  # no RST markup
