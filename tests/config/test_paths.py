"""``stateDir`` / ``snapshots.dir``: only a directory of the tool's own is accepted."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from togather_deploy.config.model import load_config
from togather_deploy.errors import EXIT_CONFIG, ConfigError

MINIMAL = {"image": "ghcr.io/togather-foundation/server", "blue": {"version": "v1.0.0"},
           "environment": "development"}


def load(raw: dict[str, Any]) -> Any:
    return load_config({**MINIMAL, **raw}, project="togather-deploy", stack="t",
                       project_dir="/srv/deploy")


def error(raw: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(raw)
    assert info.value.exit_code == EXIT_CONFIG
    return info.value


REFUSED = ["../../..", "/", "/root", "/home", "/var", "/etc", "//", "/var/lib", "/usr/./",
           "/var/lib/x/../..", "state/../../..", "/proc/self", "~root",
           "/tmp", "/tmp/", "/dev/shm/x"]  # noqa: S108 (refused, not used)
SYSTEM = ("/", "/root", "/home", "/var", "/etc", "/tmp")  # noqa: S108 (refused, not used)


@pytest.mark.parametrize("value", REFUSED)
@pytest.mark.parametrize("key", ["stateDir", "snapshots.dir"])
def test_system_directories_and_dotdot_are_refused(key: str, value: str) -> None:
    raw = {"stateDir": value} if key == "stateDir" else {"snapshots": {"dir": value}}
    e = error(raw)
    text = str(e)
    assert text.startswith(f"{key}: must be ") and repr(value) in text, text
    assert e.key == key and e.fix and "togather:" in e.fix


def test_dotdot_is_refused_even_when_it_stays_inside() -> None:
    assert "without '..'" in str(error({"stateDir": "/var/lib/togather/../togather/x"}))


def test_control_characters_are_refused() -> None:
    assert "control characters" in str(error({"snapshots": {"dir": "/srv/snap\nx"}}))


def test_good_paths_are_normalised() -> None:
    cfg = load({"stateDir": "/var/lib/togather-deploy//prod/", "snapshots": {"dir": "/backups/t"}})
    assert cfg.state_dir == "/var/lib/togather-deploy/prod"
    assert cfg.snapshots.dir == "/backups/t"


def test_relative_paths_are_taken_from_the_project_directory() -> None:
    cfg = load({"stateDir": ".state/dev"})
    assert cfg.state_dir == "/srv/deploy/.state/dev"
    assert cfg.snapshots.dir == "/srv/deploy/.state/dev/snapshots"
    assert load({"snapshots": {"dir": "./snaps"}}).snapshots.dir == "/srv/deploy/snaps"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="/.~a\x00\n", max_size=12))
def test_any_value_is_a_safe_path_or_a_config_error(value: str) -> None:
    try:
        cfg = load({"stateDir": value})
    except ConfigError as exc:
        assert exc.key == "stateDir"
    else:
        assert cfg.state_dir.startswith("/") and ".." not in cfg.state_dir.split("/")
        assert cfg.state_dir not in SYSTEM
