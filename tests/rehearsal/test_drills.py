"""Issue 7, step 4: failure drills on a live stack (blue serving through the router).

Each drill leaves blue active and serving, and removes whatever it started.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from components.providers import router_config
from testkit import docker
from tests.rehearsal.load import Load
from tests.rehearsal.stack import Rehearsal
from togather_deploy.commands import runner
from togather_deploy.config.model import DeployConfig
from togather_deploy.db.migrations.database import connect, read_version
from togather_deploy.db.snapshots.dump import Target
from togather_deploy.db.snapshots.restore import restore_snapshot
from togather_deploy.db.snapshots.store import list_snapshots
from togather_deploy.errors import DeployError, HealthError
from togather_deploy.ops import router_files

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def live(stack: Rehearsal) -> Rehearsal:
    stack.bootstrap()
    return stack


@pytest.fixture
def no_green(live: Rehearsal) -> Iterator[Rehearsal]:
    yield live
    docker.remove(live.cfg.name("app-green"))
    assert router_files.read_active_color(live.cfg.router_dir) == "blue"


def _only_blue_served(load: Load) -> None:
    r = load.result()
    assert r.failures == 0 and set(r.slots) == {"blue"} and r.requests > 0, r


def test_green_at_the_wrong_version_is_refused(no_green: Rehearsal) -> None:
    s = no_green
    mislabelled = s.preview(green={"version": "v3"}, health={"timeoutSeconds": 10})  # image answers v2
    with Load(s.public_url + "/api/v1/events") as load:
        s.start_slot("green", mislabelled)
        with pytest.raises(HealthError) as caught:
            s.gate("green", mislabelled)
    assert "v3" in str(caught.value) and "v2" in str(caught.value)
    _only_blue_served(load)


def test_router_config_failing_nginx_t_is_never_loaded(live: Rehearsal) -> None:
    s = live
    conf = router_files.read_text(f"{s.cfg.router_dir}/nginx.conf")
    workers = s.router_workers()
    typo: DeployConfig = s.preview(router={"jsModule": "/usr/lib/nginx/modules/ngx_http_jss_module.so"})
    with Load(s.public_url + "/api/v1/events") as load, \
            pytest.raises(DeployError, match="nginx -t") as caught:
        router_config.apply(s.router_props(typo), None)
    assert "ngx_http_jss_module.so" in str(caught.value)
    assert router_files.read_text(f"{s.cfg.router_dir}/nginx.conf") == conf  # live file untouched
    assert s.router_workers() == workers  # no reload: the same worker processes serve
    _only_blue_served(load)


def test_idle_container_replaced_while_traffic_flows(no_green: Rehearsal) -> None:
    s = no_green
    green = s.preview(green={"version": "v2"})
    s.start_slot("green", green)
    s.gate("green", green)
    first = docker.state(green.name("app-green"))["StartedAt"]
    with Load(s.public_url + "/api/v1/events") as load:
        s.start_slot("green", green)  # remove + run: a new container at the same fixed address
        s.gate("green", green)
    assert docker.state(green.name("app-green"))["StartedAt"] != first
    _only_blue_served(load)
    # the preview listener's pool to green held connections to the old container: dead ones
    # are retried on fresh connections, so it finds the new container (no reload)
    deadline = time.monotonic() + 20
    while s.served_preview() != ("green", "v2"):
        assert time.monotonic() < deadline, "preview never reached the replaced green"
        time.sleep(0.5)


def test_database_restarted_mid_release(no_green: Rehearsal) -> None:
    s = no_green
    s.psql("INSERT INTO events (name, starts_at) VALUES ('drill-marker', now())")
    rows = s.psql("SELECT count(*) FROM events")
    s.add_migrations(4)
    db = s.cfg.name("db")
    with Load(s.public_url + "/api/v1/events") as load:
        snap = s.snapshot("release v2 (interrupted)")
        runner.run(("docker", "kill", db), timeout=60)  # the database dies after the snapshot
        with pytest.raises(DeployError) as caught:
            s.migrate(snapshot=snap.name)
        assert "cannot connect" in str(caught.value) and s.password not in str(caught.value)
        runner.run(("docker", "start", db), timeout=60)
        s.wait_database()
        with connect(s.host_db_url) as conn:
            state = read_version(conn)
        assert (state.version, state.dirty) == (3, False)  # nothing half-applied
        assert s.psql("SELECT count(*) FROM events") == rows  # nothing lost
        # and the snapshot taken before the failure restores, through docker exec, beside the live data
        restore_snapshot(s.host_db_url, s.cfg.snapshots.dir, snap.name,
                         target=Target("container", db), into="restore_check")
        assert s.psql("SELECT count(*) FROM events WHERE name = 'drill-marker'", "restore_check") == "1"
        time.sleep(1)  # snapshot names carry the second
        s.snapshot("release v2 (re-run)")
        assert [a.version for a in s.migrate().applied] == [4]  # the re-run succeeds
    _only_blue_served(load)
    assert len(list_snapshots(s.cfg.snapshots.dir)) >= 3


def test_database_killed_during_a_migration(no_green: Rehearsal) -> None:
    """The worst instant: PostgreSQL dies while a migration's transaction is open."""
    s = no_green
    s.add_migrations(4)
    s.migrate()  # whatever earlier drills left pending
    with open(f"{s.migrations_dir}/000005_backfill_slowly.up.sql", "w") as fh:
        fh.write("ALTER TABLE events ADD COLUMN drill_note text;\n"
                 "UPDATE events SET drill_note = 'x';\nSELECT pg_sleep(20);\n")
    errors: list[BaseException] = []

    def release() -> None:
        try:
            s.migrate()
        except BaseException as exc:  # inspected below
            errors.append(exc)

    worker = threading.Thread(target=release)
    with Load(s.public_url + "/api/v1/events") as load:
        worker.start()
        deadline = time.monotonic() + 30
        while "pg_sleep" not in s.psql("SELECT string_agg(query, ' ') FROM pg_stat_activity"):
            assert time.monotonic() < deadline, "the migration never started"
            time.sleep(0.2)
        runner.run(("docker", "kill", s.cfg.name("db")), timeout=60)
        worker.join(60)
        assert not worker.is_alive()
        runner.run(("docker", "start", s.cfg.name("db")), timeout=60)
        s.wait_database()
    assert len(errors) == 1 and isinstance(errors[0], DeployError), errors
    assert "000005_backfill_slowly" in str(errors[0]) and s.password not in str(errors[0])
    # the file and its version bump were one transaction: nothing half-applied, not dirty
    assert s.psql("SELECT version::text || dirty::text FROM schema_migrations") == "4false"
    assert s.psql("SELECT count(*) FROM information_schema.columns WHERE column_name = 'drill_note'") == "0"
    with open(f"{s.migrations_dir}/000005_backfill_slowly.up.sql", "w") as fh:
        fh.write("ALTER TABLE events ADD COLUMN drill_note text;\nUPDATE events SET drill_note = 'x';\n")
    assert [a.version for a in s.migrate().applied] == [5]  # the re-run succeeds
    _only_blue_served(load)
