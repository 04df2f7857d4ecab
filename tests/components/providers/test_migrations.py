"""``Migrations``' provider, called over the wire like the engine, against real PostgreSQL."""

from __future__ import annotations

import os
import shutil

import psycopg
import pytest

from components.providers.migrations import MigrationsProvider
from testkit.provider_wire import UNKNOWN, ProviderCallError, ProviderWire
from togather_deploy import ROOT
from togather_deploy.db.migrations.files import fingerprint, read_directory
from togather_deploy.db.migrations.lint import lint_sql

DATA = os.path.join(ROOT, "tests", "data", "migrations")


def inputs(url: str, directory: str, **over: object) -> dict[str, object]:
    texts = read_directory(directory)
    findings = {n: [str(f) for f in lint_sql(n, t)] for n, t in texts.items() if n.endswith(".up.sql")}
    base: dict[str, object] = {
        "databaseUrl": url, "migrationsDir": directory, "migrationFiles": fingerprint(texts),
        "lintFindings": {k: v for k, v in findings.items() if v}, "appVersion": "v1.4.0",
        "snapshot": "togather_20261101T120000Z_v1.4.0.sql.gz", "lint": "warn", "lockTimeoutSeconds": 5}
    base.update(over)
    return base


def test_check_lists_pending_and_warns_only_for_new_files(wire: ProviderWire) -> None:
    provider = MigrationsProvider()
    safe, unsafe = inputs("u", os.path.join(DATA, "safe")), inputs("u", os.path.join(DATA, "unsafe"))
    first = wire.check(provider, {}, unsafe)
    assert first.failures == [] and first.inputs["lintWarnings"] == []
    assert first.inputs["pending"][-1] == "000005_drop_events_description"
    later = wire.check(provider, safe, unsafe)
    assert later.inputs["pending"] == ["000005_drop_events_description"]
    assert [w.split(": [")[1].split("]")[0] for w in later.inputs["lintWarnings"]] == [
        "drop-column", "index-not-concurrent"]
    assert later.failures == []
    strict = wire.check(provider, safe, {**unsafe, "lint": "error"})
    assert [f.property for f in strict.failures] == ["lintWarnings"]
    assert "000005_drop_events_description.up.sql:2" in strict.failures[0].reason


def test_check_names_the_bad_file(wire: ProviderWire) -> None:
    bad = inputs("u", os.path.join(DATA, "safe"))
    bad["migrationFiles"] = {**bad["migrationFiles"], "000009_x.down.sql": "h"}  # type: ignore[dict-item]
    result = wire.check(MigrationsProvider(), {}, bad)
    assert result.failures[0].property == "migrationFiles"
    assert "000009_x.down.sql" in result.failures[0].reason


def test_diff_by_recorded_version(wire: ProviderWire) -> None:
    news = inputs("u", os.path.join(DATA, "safe"))
    done = wire.diff(MigrationsProvider(), "id", {**news, "schemaVersion": 4}, news)
    assert done.changes is False
    behind = wire.diff(MigrationsProvider(), "id", {**news, "schemaVersion": 2}, news)
    assert behind.changes is True


@pytest.mark.postgres
def test_create_then_update_applies_only_new_files(database_url: str, tmp_path: str,
                                                   wire: ProviderWire) -> None:
    work = os.path.join(tmp_path, "m")
    shutil.copytree(os.path.join(DATA, "safe"), work)
    provider = MigrationsProvider()
    props = wire.check(provider, {}, inputs(database_url, work)).inputs
    outs = wire.create(provider, props).outs
    assert outs["schemaVersion"] == 4 and [a["version"] for a in outs["applied"]] == [1, 2, 3, 4]
    assert outs["applied"][3]["transactional"] is False and outs["applied"][0]["durationS"] >= 0
    with open(os.path.join(work, "000005_add_events_url.up.sql"), "w") as fh:
        fh.write("ALTER TABLE events ADD COLUMN url text;\n")
    news = wire.check(provider, props, inputs(database_url, work)).inputs
    assert news["pending"] == ["000005_add_events_url"]
    assert wire.diff(provider, "id", outs, news).changes is True
    updated = wire.update(provider, "id", outs, news).outs
    assert updated["schemaVersion"] == 5
    assert [a["name"] for a in updated["applied"]] == ["000005_add_events_url"]
    again = wire.update(provider, "id", updated, news).outs  # idempotent
    assert again["applied"] == [] and again["schemaVersion"] == 5
    wire.delete(provider, "id", again)
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT version, dirty FROM schema_migrations").fetchall() == [(5, False)]


@pytest.mark.postgres
def test_failure_is_clear_and_redacted(database_url: str, tmp_path: str, wire: ProviderWire) -> None:
    provider = MigrationsProvider()
    props = inputs(database_url, os.path.join(DATA, "bad_sql"))
    with pytest.raises(ProviderCallError) as err:
        wire.create(provider, props)
    assert err.value.type_name == "MigrationError"
    assert "000002_half_broken.up.sql failed at line 5" in err.value.message
    assert "test-superuser-pw" not in err.value.message


@pytest.mark.postgres
def test_files_changed_since_preview_are_refused(database_url: str, tmp_path: str,
                                                 wire: ProviderWire) -> None:
    work = os.path.join(tmp_path, "m")
    shutil.copytree(os.path.join(DATA, "safe"), work)
    props = inputs(database_url, work)
    with open(os.path.join(work, "000003_add_events_status.up.sql"), "a") as fh:
        fh.write("-- edited after preview\n")
    with pytest.raises(ProviderCallError) as err:
        wire.create(MigrationsProvider(), props)
    assert "changed between preview and update: ~000003_add_events_status" in err.value.message
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('schema_migrations')").fetchone() == (None,)


def test_preview_with_the_new_snapshot_unknown_shows_an_update(preview_wire: ProviderWire) -> None:
    """A new DbSnapshot is due: its file name is unknown in preview; migrations will run after it."""
    news = inputs("u", os.path.join(DATA, "safe"))
    olds = {**news, "schemaVersion": 4}
    unknown = {**news, "snapshot": UNKNOWN}
    checked = preview_wire.check(MigrationsProvider(), news, unknown)
    assert checked.failures == [] and checked.inputs["snapshot"] == UNKNOWN
    assert preview_wire.diff(MigrationsProvider(), "id", olds, unknown).changes is True
    assert preview_wire.diff(MigrationsProvider(), "id", olds, news).changes is False


def test_a_fractional_lock_timeout_is_kept_and_text_is_refused(wire: ProviderWire) -> None:
    news = inputs("u", os.path.join(DATA, "safe"), lockTimeoutSeconds=2.5)
    assert wire.check(MigrationsProvider(), {}, news).inputs["lockTimeoutSeconds"] == 2.5
    bad = wire.check(MigrationsProvider(), {}, {**news, "lockTimeoutSeconds": "2m"})
    assert [f.property for f in bad.failures] == ["lockTimeoutSeconds"]
