"""``HealthGate``: a slot is proven healthy at its version before anything relies on it.

Contract
- State recorded: the colour, the slot's loopback base URL, the expected
  version, the slot's container name and id, whether this colour is the one to
  serve (``active``), the health settings, and the verdict of the last run:
  ``status``, ``version_seen``, ``checked_at`` (UTC ISO-8601). Nothing secret.
- ``check``: pure; refuses an unknown colour or an empty version.
- ``diff``: pure; an update (never a replace) when anything recorded changes.
- ``create``/``update``: the gate runs (``components.health.wait_healthy``) when
  the colour is new, its container was replaced, its version or URL changed, or
  it is about to serve (``active`` became true, as in a rollback to a stopped
  colour). A stopped container is started first (``docker start``): that is the
  "start → gate → switch" of a rollback. Any other change (health settings, the
  colour going idle) records the new inputs and keeps the previous verdict, so
  an idle, stopped colour is never woken up for nothing. A gate that times out
  fails the update with ``HealthError`` (last HTTP status, failing checks,
  version seen); the traffic switch depends on the gate, so an unproven colour
  is never switched to.
- ``delete``: nothing (the gate owns no real object).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from components import runner
from components.config import COLORS
from components.errors import HealthError
from components.health import wait_healthy

INPUT_KEYS = ("color", "base_url", "version", "container", "container_id", "active", "path",
              "interval_seconds", "timeout_seconds", "consecutive", "allow_degraded")
TRIGGER_KEYS = ("color", "base_url", "version", "container", "container_id")


def needs_run(olds: Mapping[str, Any] | None, news: Mapping[str, Any]) -> bool:
    """Whether the gate must probe again (see the module docstring)."""
    if not olds or "checked_at" not in olds:
        return True
    if any(olds.get(k) != news.get(k) for k in TRIGGER_KEYS):
        return True
    return bool(news.get("active")) and not olds.get("active")


def start_argv(container: str) -> runner.Argv:
    return ("docker", "start", container)


def ensure_started(container: str) -> bool:
    """Start the slot's container when Docker says it is stopped; True when it was started."""
    if runner.container_running(container) is False:
        runner.run(start_argv(container), timeout=120, what=f"starting {container}")
        return True
    return False


def run_gate(props: Mapping[str, Any]) -> dict[str, Any]:
    started = ensure_started(str(props.get("container") or ""))
    try:
        p = wait_healthy(props["base_url"], version=props["version"],
                         allow_degraded=bool(props["allow_degraded"]),
                         consecutive=int(props["consecutive"]), timeout_s=float(props["timeout_seconds"]),
                         interval_s=float(props["interval_seconds"]), health_path=props["path"])
    except HealthError as exc:
        exc.slot = exc.slot or props["color"]
        raise
    return {"status": p.status, "version_seen": p.version, "started": started,
            "checked_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: props.get(k) for k in INPUT_KEYS}


class HealthGateProvider(ResourceProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        if news.get("color") not in COLORS:
            failures.append(CheckFailure("color", f"must be blue or green, got {news.get('color')!r}"))
        if not news.get("version"):
            failures.append(CheckFailure("version", "a gate needs the version the slot must report"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in INPUT_KEYS if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"gate-{props['color']}", outs={**_inputs(props), **run_gate(props)})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if not needs_run(olds, news):
            return UpdateResult(outs={**olds, **_inputs(news)})
        return UpdateResult(outs={**_inputs(news), **run_gate(news)})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class HealthGate(Resource):
    """Waits for one colour; the ``TrafficSwitch`` consumes ``checked_at``/``version_seen``."""

    status: pulumi.Output[str]
    version_seen: pulumi.Output[str]
    checked_at: pulumi.Output[str]

    def __init__(self, name: str, props: Mapping[str, Any],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(HealthGateProvider(), name,
                         {**props, "status": None, "version_seen": None, "checked_at": None}, opts)
