"""Each policy validator called with passing and failing resource properties."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs, Secret
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policy import rules

Validator = Callable[[ResourceValidationArgs, Any], None]


def check(validator: Validator, props: dict[str, Any], *, typ: str = rules.CONTAINER,
          protect: bool = False, parent_type: str = "") -> list[str]:
    """Run one validator the way the analyzer does (unknown-checking proxy); return messages."""
    opts = PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)
    chain = f"{parent_type}${typ}" if parent_type else typ
    args = ResourceValidationArgs(typ, unknown_checking_proxy(props), f"urn:pulumi:s::p::{chain}::r", "r",
                                  opts, None)
    messages: list[str] = []
    validator(args, lambda message, urn=None: messages.append(message))
    return messages


def container(**props: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"name": "togather-deploy-production-app-blue", "image": "ghcr.io/x/server:v1.4.0",
                            "memory": 512, "envs": [], "ports": [], "labels": [
                                {"label": "togather.role", "value": "app"}]}
    return {**base, **props}


def role(name: str) -> list[dict[str, str]]:
    return [{"label": "togather.project", "value": "togather-deploy"},
            {"label": "togather.role", "value": name}]


# --- ports -------------------------------------------------------------------------------------

def test_loopback_ports_pass() -> None:
    props = container(ports=[{"internal": 8080, "external": 18081, "ip": "127.0.0.1"},
                             {"internal": 9000, "external": 9000, "ip": "::1"}])
    assert check(rules.loopback_ports_only, props) == []


@pytest.mark.parametrize("port", [
    {"internal": 8080, "external": 18081, "ip": "0.0.0.0"},
    {"internal": 8080, "external": 18081, "ip": "192.168.1.10"},
    {"internal": 8080, "external": 18081},  # no ip: docker binds every address
])
def test_public_port_on_anything_but_the_router_fails(port: dict[str, Any]) -> None:
    (message,) = check(rules.loopback_ports_only, container(ports=[port]))
    assert "port 8080" in message and "togather.role=router" in message


def test_router_may_listen_publicly() -> None:
    props = container(labels=role("router"), ports=[{"internal": 8080, "external": 80, "ip": "0.0.0.0"}])
    assert check(rules.loopback_ports_only, props) == []
    props["labels"] = role("grafana")
    assert len(check(rules.loopback_ports_only, props)) == 1


# --- images ------------------------------------------------------------------------------------

@pytest.mark.parametrize("ref", ["postgis/postgis:16-3.4", "ghcr.io/org/server:v1.4.0",
                                 "registry:5000/team/app:1.2", "nginx@sha256:" + "a" * 64,
                                 "sha256:" + "b" * 64])
def test_pinned_images_pass(ref: str) -> None:
    assert check(rules.pinned_images, container(image=ref, labels=[])) == []
    assert check(rules.pinned_images, {"name": ref}, typ=rules.REMOTE_IMAGE) == []


@pytest.mark.parametrize("ref", ["nginx", "nginx:latest", "registry:5000/team/app", "ghcr.io/org/server:"])
def test_unpinned_images_fail(ref: str) -> None:
    (message,) = check(rules.pinned_images, container(image=ref))
    assert "not pinned" in message
    assert len(check(rules.pinned_images, {"name": ref}, typ=rules.REMOTE_IMAGE)) == 1
    assert len(check(rules.pinned_images, {"imageName": ref}, typ=rules.IMAGE)) == 1


@pytest.mark.parametrize(("tag", "ok"), [("v1.4.0", True), ("1.4.0-rc.1", True), ("1e6e0af", True),
                                       ("1.5", False), ("v1", False), ("latest", False),
                                       ("stable", False), ("main", False)])
def test_the_app_runs_an_exact_release(tag: str, ok: bool) -> None:
    ref = f"ghcr.io/org/server:{tag}"
    found = check(rules.pinned_images, container(image=ref))
    assert (found == []) is ok, found
    under_slot = check(rules.pinned_images, {"name": ref}, typ=rules.REMOTE_IMAGE,
                       parent_type=rules.APP_SLOT_TYPE)
    assert (under_slot == []) is ok
    if tag in ("1.5", "v1"):  # only the app must name an exact release; postgis:16-3.4 is fine
        assert check(rules.pinned_images, {"name": f"postgis/postgis:{tag}"}, typ=rules.REMOTE_IMAGE) == []


@pytest.mark.parametrize("ref", ["-v=/:/host:rw", "nginx:1.27\n--privileged", "nginx:1.27 --privileged",
                                 "-v=/:/host@sha256:" + "a" * 64, "Nginx:1.27", "nginx:-x"])
def test_malformed_references_are_not_pinned(ref: str) -> None:
    assert len(check(rules.pinned_images, container(image=ref, labels=[]))) == 1


def test_unknown_image_during_preview_is_not_a_violation() -> None:
    assert check(rules.pinned_images, container(image=UNKNOWN_STRING_VALUE)) == []


# --- database volume ---------------------------------------------------------------------------

def test_protected_database_volume_passes() -> None:
    volume = {"name": "togather-deploy-production-pgdata",
              "labels": [{"label": "togather.role", "value": "database-data"}]}
    assert check(rules.protected_database_volume, volume, typ=rules.VOLUME, protect=True) == []


@pytest.mark.parametrize("volume", [
    {"name": "togather-deploy-production-pgdata"},
    {"name": "anything", "labels": [{"label": "togather.role", "value": "database-data"}]},
])
def test_unprotected_database_volume_fails(volume: dict[str, Any]) -> None:
    (message,) = check(rules.protected_database_volume, volume, typ=rules.VOLUME, protect=False)
    assert "protect=True" in message


def test_other_volumes_need_no_protection() -> None:
    assert check(rules.protected_database_volume, {"name": "togather-deploy-production-grafana-data"},
                 typ=rules.VOLUME) == []


# --- memory ------------------------------------------------------------------------------------

def test_memory_limit_passes() -> None:
    assert check(rules.memory_limit, container(memory=128)) == []


@pytest.mark.parametrize("memory", [None, 0])
def test_missing_memory_limit_fails(memory: Any) -> None:
    props = container(memory=memory)
    if memory is None:
        del props["memory"]
    (message,) = check(rules.memory_limit, props)
    assert "memory" in message


# --- grafana -----------------------------------------------------------------------------------

def test_grafana_with_anonymous_access_off_passes() -> None:
    props = container(envs=["GF_AUTH_ANONYMOUS_ENABLED=false", "GF_USERS_ALLOW_SIGN_UP=false"])
    assert check(rules.grafana_anonymous_off, props) == []


@pytest.mark.parametrize("value", ["true", "TRUE", "1"])
def test_grafana_anonymous_access_fails(value: str) -> None:
    (message,) = check(rules.grafana_anonymous_off, container(envs=[f"GF_AUTH_ANONYMOUS_ENABLED={value}"]))
    assert "GF_AUTH_ANONYMOUS_ENABLED" in message


# --- secrets -----------------------------------------------------------------------------------

def test_secret_looking_env_vars_as_secrets_pass() -> None:
    props = container(envs=[Secret("DATABASE_URL=postgres://u:pw@db/x"), Secret("JWT_SECRET=" + "x" * 32),
                            "LOG_LEVEL=debug", "CSRF_KEY=", "SLOT=blue"])
    assert check(rules.secret_env_values, props) == []
    whole = container(envs=Secret(["POSTGRES_PASSWORD=pw", "API_TOKEN=t"]))
    assert check(rules.secret_env_values, whole) == []


@pytest.mark.parametrize("name", ["POSTGRES_PASSWORD", "JWT_SECRET", "CSRF_KEY", "GITHUB_TOKEN",
                                  "DATABASE_URL", "DATA_SOURCE_NAME", "SENTRY_DSN"])
def test_plain_secret_looking_env_var_fails(name: str) -> None:
    (message,) = check(rules.secret_env_values, container(envs=[f"{name}=hunter2-value", "SLOT=blue"]))
    assert name in message
    assert "hunter2" not in message  # a violation never prints the value


def test_a_url_with_a_password_is_a_secret_whatever_its_name() -> None:
    (message,) = check(rules.secret_env_values, container(envs=["UPSTREAM=https://bot:hunter2@api.example"]))
    assert "UPSTREAM" in message and "hunter2" not in message
    assert check(rules.secret_env_values, container(envs=["UPSTREAM=https://api.example/x@y"])) == []


def test_every_policy_is_mandatory_and_documented() -> None:
    from pulumi_policy import EnforcementLevel

    pack = rules.policies()
    assert len({p.name for p in pack}) == 6
    for p in pack:
        assert p.enforcement_level == EnforcementLevel.MANDATORY
        assert p.description
