"""Issue 7, steps 1-3: from nothing to blue, release green under load, roll back.

Real containers from the stack's own specs, real migrations and ``pg_dump``
through ``docker exec``, the router pooling connections to each slot's fixed address, the providers' own
gate and switch (``active_color`` replaced, no reload, verified through the
public port, the old colour drained and stopped), wrk through the published
port. The tests run in order on one stack.
"""

from __future__ import annotations

from typing import Any

import pytest

from testkit import docker
from tests.rehearsal.load import Load, flip_latency
from tests.rehearsal.spec_check import mismatches
from tests.rehearsal.stack import Rehearsal
from togather_deploy.db.snapshots.store import list_snapshots, verify_snapshot
from togather_deploy.render.containers import app_spec, database_spec, router_spec

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SLOW = "/api/v1/slow?ms=300"


def test_step1_from_nothing_traffic_reaches_blue(stack: Rehearsal) -> None:
    stack.bootstrap()
    assert stack.served() == ("blue", "v1")
    assert stack.psql("SELECT version FROM schema_migrations") == "3"
    (snap,) = list_snapshots(stack.cfg.snapshots.dir)
    assert verify_snapshot(snap).size > 0 and snap.meta and snap.meta["mode"] == "container"
    # the data → running system half of "one source of truth"
    for spec in (database_spec(stack.cfg, stack.password), router_spec(stack.cfg),
                 app_spec(stack.cfg, "blue", stack.secrets_for())):
        assert mismatches(spec) == [], spec.name


def test_step2_release_green_with_a_migration_under_load(stack: Rehearsal) -> None:
    stack.add_migrations(4)
    stack.configure(green={"version": "v2"})
    before = len(list_snapshots(stack.cfg.snapshots.dir))
    switched: list[dict[str, Any]] = []
    workers = stack.router_workers()
    with Load(stack.public_url + "/api/v1/events") as load, \
            Load(stack.public_url + SLOW, connections=4, threads=1) as slow:
        snap = stack.snapshot("release v2")
        assert verify_snapshot(snap).size > 0 and snap.meta and snap.meta["schema_version"] == 3
        assert len(list_snapshots(stack.cfg.snapshots.dir)) == before + 1
        result = stack.migrate(snapshot=snap.name)
        assert [a.version for a in result.applied] == [4]
        stack.start_slot("green")
        assert stack.gate("green")["version_seen"] == "v2"
        flipped = flip_latency("127.0.0.1", stack.cfg.public_port, lambda: switched.append(
            stack.switch("green")), "green")
    fast, slowed = load.result(), slow.result()
    assert fast.failures == 0 and slowed.failures == 0, (fast, slowed)
    assert fast.slots.get("blue", 0) > 0 and fast.slots.get("green", 0) > 0, fast
    assert flipped < 30 and switched[0]["previous_color"] == "blue"
    assert stack.served() == ("green", "v2")
    assert stack.router_workers() == workers  # the flip never reloaded nginx
    assert mismatches(app_spec(stack.cfg, "green", stack.secrets_for())) == []
    # stopIdleSlot (the default): blue drained and stopped, never removed
    assert switched[0]["idle_stopped"] is True
    assert docker.state(stack.cfg.name("app-blue"))["Running"] is False


def test_step3_roll_back_to_blue_switch_only(stack: Rehearsal) -> None:
    workers = stack.router_workers()
    with Load(stack.public_url + "/api/v1/events") as load, \
            Load(stack.public_url + SLOW, connections=4, threads=1) as slow:
        assert stack.gate("blue")["started"] is True  # the stopped colour is started, then proven
        flip_latency("127.0.0.1", stack.cfg.public_port, lambda: stack.switch("blue"), "blue")
    assert load.result().failures == 0 and slow.result().failures == 0
    assert stack.served() == ("blue", "v1")
    assert stack.router_workers() == workers
    assert docker.state(stack.cfg.name("app-green"))["Running"] is False
