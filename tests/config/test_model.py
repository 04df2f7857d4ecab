"""Stack config validation: typed defaults, and every bad input is a ConfigError naming its key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from testkit.program import ROOT, stack_config
from togather_deploy.config.model import load_config
from togather_deploy.config.source import from_stack_file
from togather_deploy.errors import EXIT_CONFIG, ConfigError

MINIMAL = {"image": "ghcr.io/togather-foundation/server", "blue": {"version": "v1.0.0"},
           "environment": "development"}


def load(raw: dict[str, Any], secret_keys: tuple[str, ...] = ()) -> Any:
    return load_config(raw, project="togather-deploy", stack="t", project_dir="/srv/deploy",
                       secret_keys=secret_keys)


def error(raw: dict[str, Any], secret_keys: tuple[str, ...] = ()) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(raw, secret_keys)
    assert info.value.exit_code == EXIT_CONFIG
    return info.value


@pytest.mark.parametrize("stack", ["dev", "staging", "production"])
def test_committed_stack_files_are_valid(stack: str) -> None:
    cfg = from_stack_file(ROOT, stack)
    assert cfg.slot(cfg.active_color).version


def test_defaults() -> None:
    cfg = load(MINIMAL)
    assert cfg.active_color == "blue" and cfg.deployed_colors == ("blue",)
    assert cfg.health.path == "/health" and cfg.health.consecutive == 3
    assert cfg.snapshots.keep_min == 3 and cfg.snapshots.mode == "container"
    assert cfg.state_dir == "/var/lib/togather-deploy/t"
    assert cfg.snapshots.dir == "/var/lib/togather-deploy/t/snapshots"
    assert cfg.migrations.dir == "/srv/deploy/migrations"
    assert cfg.stop_idle_slot is True and cfg.monitoring.enabled is False
    assert cfg.name("app-blue") == "togather-deploy-t-app-blue"


def test_pulumi_passes_scalars_as_strings() -> None:
    cfg = load({**MINIMAL, "publicPort": "8080", "stopIdleSlot": "false",
                "health": json.dumps({"timeoutSeconds": "30"})})
    assert cfg.public_port == 8080 and cfg.stop_idle_slot is False
    assert cfg.health.timeout_seconds == 30


@pytest.mark.parametrize(("raw", "message"), [
    ({"health": {"timeoutSeconds": "ten"}}, "health.timeoutSeconds: must be an integer ≥ 1, got 'ten'"),
    ({"activeColor": "red"}, "activeColor: must be one of blue | green, got 'red'"),
    ({"publicPort": 70000}, "publicPort: must be an integer ≥ 1 and ≤ 65535"),
    ({"database": {"image": "postgis/postgis:latest"}}, "database.image: must be an image pinned by tag"),
    ({"database": {"image": "postgis/postgis"}}, "database.image: must be an image pinned by tag"),
    ({"helth": {}}, "helth: unknown key"),
    ({"health": {"timeout": 3}}, "health.timeout: unknown key (allowed here: allowDegraded, consecutive"),
    ({"blue": {"version": "v 1"}}, "blue.version: must be an image tag"),
    ({"appEnv": {"DATABASE_URL": "x"}}, "appEnv.DATABASE_URL: DATABASE_URL is set by togather-deploy"),
    ({"appEnv": {"1BAD": "x"}}, "appEnv.1BAD: must be an environment variable name"),
    ({"migrations": {"lint": "loud"}}, "migrations.lint: must be one of warn | error"),
    ({"stopIdleSlot": "yes"}, "stopIdleSlot: must be true or false, got 'yes'"),
    ({"activeColor": "green"}, "activeColor: green has no version"),
    ({"environment": "production"}, "appEnv.CORS_ALLOWED_ORIGINS: the server requires it"),
    ({"green": {"version": "v2", "hostPort": 18081}},
     "green.hostPort: port 18081 is already used by blue.hostPort"),
])
def test_bad_input_names_key_value_and_what_is_allowed(raw: dict, message: str) -> None:
    assert message in str(error({**MINIMAL, **raw}))


def test_unknown_key_error_says_how_to_remove_it() -> None:
    assert "pulumi config rm --path togather:helth" in str(error({**MINIMAL, "helth": 1}))


def test_secrets_must_be_stored_encrypted_and_long_enough() -> None:
    e = error({**MINIMAL, "jwtSecret": "x" * 40})
    assert "jwtSecret: is a secret but was stored in plain text" in str(e)
    assert "pulumi config set --secret togather:jwtSecret" in str(e)
    e = error({**MINIMAL, "jwtSecret": "short"}, secret_keys=("jwtSecret",))
    assert "jwtSecret: must be at least 32 characters, got 5" in str(e)
    cfg = load({**MINIMAL, "jwtSecret": "s" * 40}, secret_keys=("jwtSecret",))
    assert cfg.secrets.jwt_secret == "s" * 40


def test_secrets_never_appear_in_repr() -> None:
    cfg = load({**MINIMAL, "jwtSecret": "TOPSECRET" * 4, "appSecrets": {"ADMIN_PASSWORD": "hunter2hunter2"}},
               secret_keys=("jwtSecret", "appSecrets"))
    assert "TOPSECRET" not in repr(cfg) and "hunter2" not in repr(cfg)


def test_relative_paths_resolve_against_the_project() -> None:
    cfg = load({**MINIMAL, "stateDir": ".state/x", "migrations": {"dir": "../server/migrations"}})
    assert cfg.state_dir == "/srv/deploy/.state/x"
    assert cfg.migrations.dir == "/srv/server/migrations"


# Property-based: whatever the operator types, the only failure is our ConfigError.
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=12),
                    st.floats(allow_nan=True), st.sampled_from(["blue", "green", "v1", "true", "80"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=8)
KEYS = list(stack_config("production")) + ["appEnv", "health", "snapshots", "router", "notify",
                                           "monitoring", "appSecrets", "jwtSecret", "build"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), values, max_size=6),
       st.booleans())
def test_random_config_only_ever_fails_with_config_error(overrides: dict, json_encode: bool) -> None:
    raw: dict[str, Any] = {**stack_config("production"), **overrides}
    if json_encode:
        raw = {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in raw.items()}
    try:
        load(raw, secret_keys=tuple(raw))
    except ConfigError as exc:
        assert exc.key or exc.file or str(exc)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["timeoutSeconds", "consecutive", "path", "allowDegraded",
                                        "intervalSeconds"]), values, max_size=4))
def test_random_health_sections(section: dict) -> None:
    try:
        cfg = load({**MINIMAL, "health": section})
    except ConfigError as exc:
        assert str(exc).startswith("health")
    else:
        assert cfg.health.timeout_seconds >= 1


@pytest.mark.parametrize(("raw", "key", "other"), [
    ({"publicPort": 3000}, "monitoring.grafanaPort", "publicPort"),
    ({"database": {"hostPort": 9090}}, "monitoring.prometheusPort", "database.hostPort"),
    ({"monitoring": {"enabled": True, "alertmanagerPort": 9090}}, "monitoring.alertmanagerPort",
     "monitoring.prometheusPort"),
    ({"blue": {"version": "v1.0.0", "hostPort": 9093}}, "monitoring.alertmanagerPort", "blue.hostPort"),
])
def test_monitoring_ports_are_in_the_duplicate_port_check(raw, key, other) -> None:
    e = error({**MINIMAL, **raw, "monitoring": {"enabled": True, **raw.get("monitoring", {})}})
    assert str(e).startswith(f"{key}: port ") and f"already used by {other}" in str(e)
    assert e.key == key and f"togather:{key}" in str(e)


def test_monitoring_ports_are_free_while_monitoring_is_off() -> None:
    assert load({**MINIMAL, "publicPort": 3000}).public_port == 3000
