"""Parsing and validating a golang-migrate migrations directory."""

from __future__ import annotations

import os

import pytest

from togather_deploy import ROOT
from togather_deploy.db.migrations.files import (
    describe_changes,
    fingerprint,
    load_migrations,
    parse_migrations,
    pending_names,
    read_directory,
)
from togather_deploy.errors import EXIT_CONFIG, ConfigError

DATA = os.path.join(ROOT, "tests", "data", "migrations")


def test_reads_the_safe_fixture_in_version_order() -> None:
    migrations = load_migrations(os.path.join(DATA, "safe"))
    assert [m.version for m in migrations] == [1, 2, 3, 4]
    assert migrations[0].name == "000001_create_events"
    assert migrations[0].down_name == "000001_create_events.down.sql"
    assert "CREATE TABLE events" in migrations[0].up_sql


@pytest.mark.parametrize("names, culprit, words", [
    (["000001_a.up.sql", "1_b.up.sql"], "1_b.up.sql", "used twice"),
    (["000001_a.up.sql", "000002_b.down.sql"], "000002_b.down.sql", "without an up"),
    (["000001_a.up.sql", "v2_bad.up.sql"], "v2_bad.up.sql", "not a migration file name"),
    (["000001_a.sql"], "000001_a.sql", "not a migration file name"),
])
def test_bad_directories_name_the_file(names: list[str], culprit: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_migrations({n: "SELECT 1;" for n in names}, "/m")
    assert culprit in str(err.value) and words in str(err.value)
    assert err.value.exit_code == EXIT_CONFIG


def test_unreadable_file_is_named(tmp_path: os.PathLike[str]) -> None:
    bad = os.path.join(tmp_path, "000001_a.up.sql")
    with open(bad, "wb") as fh:
        fh.write(b"\xff\xfe not utf-8")
    with pytest.raises(ConfigError) as err:
        read_directory(str(tmp_path))
    assert "000001_a.up.sql" in str(err.value) and "cannot be read" in str(err.value)


def test_missing_directory_names_the_key(tmp_path: os.PathLike[str]) -> None:
    with pytest.raises(ConfigError) as err:
        read_directory(os.path.join(tmp_path, "nope"))
    assert err.value.key == "migrations.dir"


def test_describe_changes_says_what_changed() -> None:
    old = fingerprint({"000001_a.up.sql": "x", "000002_b.up.sql": "y", "000002_b.down.sql": "z"})
    new = fingerprint({"000001_a.up.sql": "x2", "000002_b.up.sql": "y", "000003_c.up.sql": "w"})
    assert describe_changes(old, new) == "~000001_a, +000003_c"
    assert describe_changes(new, new) == ""


def test_pending_names_by_recorded_version() -> None:
    names = ["000001_a.up.sql", "000001_a.down.sql", "000002_b.up.sql", "000010_c.up.sql"]
    assert pending_names(names, None) == ["000001_a", "000002_b", "000010_c"]
    assert pending_names(names, 2) == ["000010_c"]
