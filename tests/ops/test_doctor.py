"""``scripts/doctor``'s checks against the real things: the real Pulumi CLI (built by
scripts/build-engine) on a real file backend, real sockets, the real Docker CLI, real files."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess

import pytest

from testkit.engine import find_engine
from testkit.fake_pulumi import write_stack
from togather_deploy import ROOT
from togather_deploy.config.model import DeployConfig
from togather_deploy.config.source import from_stack_file
from togather_deploy.ops import doctor

STACK = "test"


def _cfg(tmp_path, **extra: object) -> DeployConfig:
    d = str(tmp_path / "project")
    write_stack(d, STACK, {"environment": "development", "image": "x/server", "blue": {"version": "v1.0.0"},
                           "stateDir": "state", **extra})
    return from_stack_file(d, STACK)


def test_a_port_held_by_another_process_fails_naming_it(tmp_path) -> None:
    with contextlib.closing(socket.socket()) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        cfg = _cfg(tmp_path, blue={"version": "v1.0.0", "hostPort": port})
        check = doctor.check_ports(cfg, doctor.runner.run)
    assert check.level == "fail" and f"127.0.0.1:{port} (app-blue; held by a host process)" in check.detail


def test_memory_counts_both_colours_and_monitoring(tmp_path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:        2621440 kB\n")  # 2.5 GiB
    plain = doctor.check_memory(_cfg(tmp_path), str(meminfo))
    assert plain.level == "warn" and "container limits 2176 MiB (both colours)" in plain.detail
    monitored = doctor.check_memory(_cfg(tmp_path, monitoring={"enabled": True}), str(meminfo))
    assert monitored.level == "fail" and "3200 MiB (both colours, monitoring)" in monitored.detail
    meminfo.write_text("MemTotal:        8388608 kB\n")
    assert doctor.check_memory(_cfg(tmp_path), str(meminfo)).level == "ok"


def test_state_dir_modes_and_owner(tmp_path) -> None:
    cfg = _cfg(tmp_path)
    assert doctor.check_state_dir(cfg).detail.endswith("will be created (0700)")
    os.makedirs(cfg.state_dir, mode=0o700)
    assert doctor.check_state_dir(cfg).level == "ok"
    os.chmod(cfg.state_dir, 0o775)
    bad = doctor.check_state_dir(cfg)
    assert bad.level == "fail" and "chmod go-w" in bad.fix


def test_dns_is_a_warning_behind_nat_and_ok_when_it_points_here(tmp_path) -> None:
    cfg = _cfg(tmp_path, domain="events.example.org")
    assert doctor.check_dns(cfg, doctor.runner.run, lambda _h: {"127.0.0.1"}).level == "ok"
    assert doctor.check_dns(cfg, doctor.runner.run, lambda _h: {"203.0.113.9"}).level == "warn"
    assert doctor.check_dns(_cfg(tmp_path), doctor.runner.run).level == "ok"  # domain: _


def test_disk_wants_room_for_more_snapshots(tmp_path) -> None:
    cfg = _cfg(tmp_path)
    os.makedirs(cfg.snapshots.dir)
    with open(os.path.join(cfg.snapshots.dir, "togather_20261101T000000Z_v1.0.0.sql.gz"), "wb") as fh:
        fh.truncate(1 << 40)  # a sparse 1 TiB "snapshot": three more do not fit on this disk
    check = doctor.check_disk(cfg)
    assert check.level == "fail" and "newest snapshot 1048576 MiB" in check.detail


def test_the_real_pulumi_cli_and_a_file_backend(tmp_path, monkeypatch) -> None:
    engine = find_engine()
    if isinstance(engine, str):
        pytest.skip(engine)
    backend = tmp_path / "backend"
    backend.mkdir()
    monkeypatch.setenv("PATH", f"{engine.bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{backend}")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "doctor-test")
    cfg = _cfg(tmp_path)
    checks = {c.name: c for c in doctor.run_checks(cfg, os.path.dirname(cfg.state_dir), env=os.environ)}
    assert checks["pulumi"].level == "ok" and engine.version.lstrip("v") in checks["pulumi"].detail
    assert checks["passphrase"].level == "ok" and checks["backend"].level == "ok"
    monkeypatch.setenv("PULUMI_BACKEND_URL", "s3://no-such-bucket-togather?endpoint=127.0.0.1:9&region=x")
    assert doctor.check_backend(doctor.runner.run, os.environ).level == "fail"


def test_the_script_lists_every_check_and_exits_1_on_a_failure(tmp_path) -> None:
    cfg = _cfg(tmp_path, domain="does-not-exist.invalid")
    proc = subprocess.run([os.path.join(ROOT, "scripts", "doctor"), STACK, "--project-dir",
                           os.path.dirname(cfg.state_dir)], capture_output=True, text=True, timeout=120,
                          check=False, env={**os.environ, "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for name in ("pulumi", "passphrase", "backend", "docker", "stateDir", "disk", "ports", "memory", "dns"):
        assert f" {name} " in proc.stdout
    assert "NOT ready:" in proc.stdout and "fix:" in proc.stdout
