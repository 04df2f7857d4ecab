"""``togather_deploy.db.migrations.release``: a migrations directory names its release in ``VERSION``;
real files in a temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from togather_deploy.db.migrations.release import check_release, recorded_version
from togather_deploy.errors import EXIT_CONFIG, ConfigError


def _dir(tmp_path: Path, version: str | None, *, sql: bool = True) -> str:
    d = tmp_path / "migrations"
    d.mkdir()
    (d / "README.md").write_text("notes\n")
    if sql:
        (d / "000001_init.up.sql").write_text("CREATE TABLE t (id int);\n")
        (d / "000001_init.down.sql").write_text("DROP TABLE t;\n")
    if version is not None:
        (d / "VERSION").write_text(version + "\n")
    return str(d)


def test_matching_release_passes(tmp_path: Path) -> None:
    d = _dir(tmp_path, "v1.5.0")
    assert recorded_version(d) == "v1.5.0"
    check_release(d, "v1.5.0", environment="production")


def test_another_release_is_refused_with_the_copy_step(tmp_path: Path) -> None:
    d = _dir(tmp_path, "v1.4.0")
    with pytest.raises(ConfigError) as info:
        check_release(d, "v1.5.0", environment="production")
    err = info.value
    assert err.exit_code == EXIT_CONFIG and err.key == "migrations.dir"
    assert "belong to v1.4.0, not to v1.5.0" in err.message
    assert err.file == f"{d}/VERSION"
    assert f"echo v1.5.0 > {d}/VERSION" in (err.fix or "")


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_no_version_file_is_refused_outside_development(tmp_path: Path, environment: str) -> None:
    d = _dir(tmp_path, None)
    with pytest.raises(ConfigError, match="do not say which release"):
        check_release(d, "v1.5.0", environment=environment)
    check_release(d, "v1.5.0", environment="development")  # the demo app's migrations


def test_no_sql_means_nothing_to_check(tmp_path: Path) -> None:
    check_release(_dir(tmp_path, None, sql=False), "v1.5.0", environment="production")
    check_release(str(tmp_path / "missing"), "v1.5.0", environment="production")


def test_a_version_file_that_is_not_a_tag_is_refused(tmp_path: Path) -> None:
    d = _dir(tmp_path, "v1.5.0; rm -rf /")
    with pytest.raises(ConfigError, match="does not hold a release tag"):
        check_release(d, "v1.5.0", environment="production")
