"""``declare_db_lifecycle`` under Pulumi's mocks: order, inputs, secrets, program-time validation."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pulumi
import pytest
from pulumi.runtime import mocks as pm
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.db_lifecycle import declare_db_lifecycle, migration_inputs
from testkit.program import Registration, _Mocks, _Recorder, is_secret, reveal
from togather_deploy import ROOT
from togather_deploy.config.model import DeployConfig, load_config
from togather_deploy.errors import ConfigError

DATA = os.path.join(ROOT, "tests", "data", "migrations")
DSN = "postgresql://togather:pw-secret-123@127.0.0.1:15432/togather"


def _config(migrations_dir: str) -> DeployConfig:
    raw = {"image": "ghcr.io/togather/server", "environment": "test", "blue": {"version": "v1"},
           "stateDir": "/srv/togather", "migrations": {"dir": migrations_dir, "lint": "error"},
           "snapshots": {"keepMin": 4, "retentionDays": 9}}
    return load_config(raw, project="togather-deploy", stack="dev", project_dir="/srv/togather")


def _run(cfg: DeployConfig) -> list[Registration]:
    mocks = _Mocks()
    monitor = _Recorder(mocks)
    pm.set_mocks(mocks, project="togather-deploy", stack="dev", preview=False, monitor=monitor)

    def program() -> None:
        db = pulumi.CustomResource("test:index:Db", "db", {})
        declare_db_lifecycle("release", cfg, target_version="v1.5.0", database_url=pulumi.Output.secret(DSN),
                             db_container_name="togather-deploy-dev-db", depends_on=[db])

    _sync_await(run_pulumi_func(program))
    return monitor.registrations


def test_declares_snapshot_then_migrations_with_secret_url() -> None:
    regs = {r.name: r for r in _run(_config(os.path.join(DATA, "unsafe")))}
    snap, mig = regs["release-snapshot"], regs["release-migrations"]
    assert snap.type == "pulumi-python:dynamic/togather:DbSnapshot"
    assert mig.type == "pulumi-python:dynamic/togather:Migrations"
    assert any(d.endswith("::db") for d in snap.dependencies)
    assert any(d.endswith("::release-snapshot") for d in mig.dependencies)
    for reg in (snap, mig):
        assert is_secret(reg.inputs["databaseUrl"]) and reveal(reg.inputs["databaseUrl"]) == DSN
    assert snap.inputs["appVersion"] == "v1.5.0" and snap.inputs["mode"] == "container"
    assert snap.inputs["dbContainer"] == "togather-deploy-dev-db"
    assert snap.inputs["keepMin"] == 4 and snap.inputs["retentionDays"] == 9
    assert snap.inputs["snapshotDir"] == "/srv/togather/snapshots"
    assert mig.inputs["lint"] == "error" and mig.inputs["migrationsDir"] == os.path.join(DATA, "unsafe")
    assert sorted(mig.inputs["lintFindings"]) == ["000005_drop_events_description.up.sql"]
    assert len(mig.inputs["migrationFiles"]) == 10


def test_bad_directory_stops_the_program_naming_the_file(tmp_path: Any) -> None:
    work = os.path.join(tmp_path, "m")
    shutil.copytree(os.path.join(DATA, "safe"), work)
    open(os.path.join(work, "000003_dupe.up.sql"), "w").close()
    with pytest.raises(ConfigError) as err:
        migration_inputs(work)
    assert "000003" in str(err.value) and "used twice" in str(err.value)
