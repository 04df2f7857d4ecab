"""``DbSnapshot``'s provider, called over the wire like the engine, against real PostgreSQL."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from components.providers.db_snapshot import DbSnapshotProvider, snapshot_reason
from testkit.pg import SUPERUSER_PASSWORD, PostgresServer, start_postgres
from testkit.ports import closed_port, free_port
from testkit.provider_wire import ProviderCallError, ProviderWire
from togather_deploy.db.snapshots.store import list_snapshots, snapshot_name, verify_file


def inputs(url: str, directory: str, **over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "databaseUrl": url, "snapshotDir": directory, "mode": "host", "dbContainer": None,
        "appVersion": "v1.4.0", "migrationFiles": {"000001_a.up.sql": "aa", "000001_a.down.sql": "bb"},
        "retentionDays": 7, "keepMin": 3}
    base.update(over)
    return base


def test_check_rejects_bad_settings_and_says_why(wire: ProviderWire) -> None:
    provider = DbSnapshotProvider()
    result = wire.check(provider, {}, inputs("u", "relative", mode="docker", keepMin=0))
    assert {f.property for f in result.failures} == {"mode", "snapshotDir", "keepMin"}
    result = wire.check(provider, {}, inputs("u", "/s", mode="container"))
    assert [f.property for f in result.failures] == ["dbContainer"]


def test_check_explains_why_a_snapshot_is_taken(wire: ProviderWire) -> None:
    old = inputs("u", "/s", reason="first deployment of v1.4.0")
    new = inputs("u", "/s", appVersion="v1.5.0",
                 migrationFiles={"000001_a.up.sql": "aa", "000002_b.up.sql": "cc"})
    result = wire.check(DbSnapshotProvider(), old, new)
    assert result.failures == []
    assert result.inputs["reason"] == ("app version v1.4.0 → v1.5.0; "
                                       "migration files changed: +000002_b")
    assert snapshot_reason({}, new) == "first deployment of v1.5.0"


def test_diff_retakes_only_on_version_or_files(wire: ProviderWire) -> None:
    old = {**inputs("u", "/s"), "file": "x.sql.gz", "reason": "r"}
    same = wire.diff(DbSnapshotProvider(), "/s", old, {**inputs("u", "/s"), "reason": "r"})
    assert same.changes is False
    moved = wire.diff(DbSnapshotProvider(), "/s", old, inputs("u", "/s", appVersion="v2"))
    assert moved.changes is True and not moved.replaces


@pytest.mark.postgres
def test_create_update_delete_for_real(database_url: str, tmp_path: str, wire: ProviderWire) -> None:
    directory = os.path.join(tmp_path, "snaps")
    os.makedirs(directory)
    db = database_url.rsplit("/", 1)[1]
    old = datetime.now(UTC) - timedelta(days=30)
    for i in range(4):  # four expired snapshots: retention keeps the newest keepMin=3 overall
        with open(os.path.join(directory, snapshot_name(db, old - timedelta(hours=i), "v0")), "wb") as fh:
            fh.write(b"old")
    provider = DbSnapshotProvider()
    props = wire.check(provider, {}, inputs(database_url, directory)).inputs
    created = wire.create(provider, props)
    outs = created.outs
    assert outs["file"].startswith(f"{db}_") and outs["file"].endswith("_v1.4.0.sql.gz")
    assert outs["sha256"] == verify_file(os.path.join(directory, outs["file"])).sha256
    assert outs["reason"] == "first deployment of v1.4.0" and len(outs["pruned"]) == 2
    assert len(list_snapshots(directory)) == 3
    # Only retention changed: no new snapshot, the recorded one stays.
    news = wire.check(provider, props, inputs(database_url, directory, keepMin=5)).inputs
    kept = wire.update(provider, created.id, outs, news).outs
    assert kept["file"] == outs["file"] and len(list_snapshots(directory)) == 3
    # A new app version: a new snapshot, with the reason in its metadata.
    news = wire.check(provider, props, inputs(database_url, directory, appVersion="v1.5.0")).inputs
    again = wire.update(provider, created.id, kept, news).outs
    assert again["file"] != outs["file"] and again["file"].endswith("_v1.5.0.sql.gz")
    latest = list_snapshots(directory)[0]
    assert latest.meta is not None and latest.meta["reason"] == "app version v1.4.0 → v1.5.0"
    assert again["pruned"] and len(list_snapshots(directory)) == 3  # keepMin=3: one old one went
    wire.delete(provider, created.id, again)
    names = {s.name for s in list_snapshots(directory)}
    assert {outs["file"], again["file"]} <= names and len(names) == 3


@pytest.mark.postgres
def test_failed_snapshot_fails_the_step_and_leaves_nothing(database_url: str, tmp_path: str,
                                                           wire: ProviderWire) -> None:
    directory = os.path.join(tmp_path, "snaps")
    props = inputs(database_url, directory)
    with pytest.raises(ProviderCallError) as err:
        wire.create(DbSnapshotProvider(), props, env={"PATH": str(tmp_path)})
    assert "pg_dump" in err.value.message and "test-superuser-pw" not in err.value.message
    assert not os.path.exists(directory) or os.listdir(directory) == []


@pytest.mark.postgres
@pytest.mark.slow
def test_the_first_snapshot_waits_for_a_database_still_booting(tmp_path: str, wire: ProviderWire) -> None:
    """The database container was just created: a real PostgreSQL comes up after create started."""
    port = free_port()
    late: list[PostgresServer] = []
    starter = threading.Timer(2.0, lambda: late.append(start_postgres(port)))
    starter.start()
    try:
        url = f"postgresql://postgres:{SUPERUSER_PASSWORD}@127.0.0.1:{port}/postgres"
        directory = os.path.join(tmp_path, "snaps")
        props = wire.check(DbSnapshotProvider(), {}, inputs(url, directory, waitSeconds=120)).inputs
        outs = wire.create(DbSnapshotProvider(), props).outs
        assert late, "the snapshot was taken before the database existed?"
        assert verify_file(os.path.join(directory, outs["file"])).sha256 == outs["sha256"]
    finally:
        starter.join()
        for server in late:
            server.stop()


def test_a_database_that_never_comes_up_fails_within_the_bound(tmp_path: str, wire: ProviderWire) -> None:
    started = time.monotonic()
    with closed_port() as port, pytest.raises(ProviderCallError) as err:
        url = f"postgresql://postgres:hush-0123456789@127.0.0.1:{port}/postgres"
        wire.create(DbSnapshotProvider(), inputs(url, os.path.join(tmp_path, "s"), waitSeconds=2))
    assert time.monotonic() - started < 60
    assert err.value.type_name == "SnapshotError" and "within 2s" in err.value.message
    assert "hush-0123456789" not in err.value.message
