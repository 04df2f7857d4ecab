"""``HealthGate``: a slot is proven healthy at its version before anything relies on it.

Contract
- State recorded: the colour, the slot's loopback base URL, the expected
  version, the slot's container name and id, whether this colour is the one to
  serve (``active``), the health settings, and the verdict of the last run:
  ``status``, ``version_seen``, ``checked_at`` (UTC ISO-8601). Nothing secret.
- Inputs: ``GateInputs`` (``components.providers.inputs``), parsed alike by
  every method (the engine's ``2.0`` consecutive probes become ``2``).
- ``check``: pure; refuses an unknown colour or an empty version.
- ``diff``: pure; an update (never a replace) when anything recorded changes.
- ``create``/``update``: the gate runs (``togather_deploy.ops.health.wait_healthy``) when
  the colour is new, its container was replaced, its version or URL changed, or
  it is about to serve while stopped (``active`` became true, as in a rollback to a
  stopped colour; a running colour already proven here is probed by the switch).
  A stopped container is started first (``docker start``): that is the
  "start → gate → switch" of a rollback. Any other change (health settings, the
  colour going idle) records the new inputs and keeps the previous verdict, so
  an idle, stopped colour is never woken up for nothing. A gate that times out
  fails the update with ``HealthError`` (last HTTP status, failing checks,
  version seen); the traffic switch depends on the gate, so an unproven colour
  is never switched to. Each probe round is reported to the operator's progress file when
  the verb set one (``togather_deploy.ops.progress_file``; not an input, no diff).
  With ``stop_on_failure`` (``stopIdleSlot``, and the colour
  does not serve) the failed colour is stopped first: after any outcome one colour runs.
- ``delete``: nothing (the gate owns no real object).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
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

from components.providers import inputs as provider_inputs
from components.providers.failures import operator_errors
from togather_deploy.commands import docker as docker_cli
from togather_deploy.commands import runner
from togather_deploy.config.model import COLORS
from togather_deploy.errors import HealthError
from togather_deploy.ops import progress_file
from togather_deploy.ops.health import Probe, wait_healthy
from togather_deploy.ops.traffic_verify import stop_failed

TRIGGER_KEYS = ("color", "base_url", "version", "container", "container_id")


@dataclass(frozen=True)
class GateInputs:
    """The gate's inputs as ``check`` validated them (``components.providers.inputs``)."""

    color: str
    base_url: str
    """The slot's loopback base URL."""
    version: str
    """The version the slot must report."""
    container: str = ""
    """The slot's container name ("": nothing to start)."""
    container_id: str = ""
    """Changes when the container is replaced (unknown in preview until then)."""
    active: bool = False
    """This colour is the one to serve."""
    path: str = "/health"
    interval_seconds: float = 1.0
    timeout_seconds: float = 120.0
    consecutive: int = 2
    allow_degraded: bool = False
    stop_on_failure: bool = False
    """``stopIdleSlot`` and this colour does not serve now: a failed gate stops it (one colour
    runs). Observed by the program from the router's ``active_color``: never a change alone."""

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> GateInputs:
        return provider_inputs.parse(cls, props)


OBSERVED = frozenset({"stop_on_failure"})
"""Inputs the program observes rather than sets: never a reason to update by themselves."""


def needs_run(olds: Mapping[str, Any] | None, news: Mapping[str, Any]) -> bool:
    """Whether the gate must probe again (see the module docstring)."""
    if not olds or "checked_at" not in olds:
        return True
    new = GateInputs.from_props(news)
    if any(olds.get(k, "") != getattr(new, k) for k in TRIGGER_KEYS):
        return True
    if new.active and not olds.get("active"):
        # About to serve: a stopped colour (a rollback) is started and proven again. One still
        # running, proven at this version in this container, is probed by the switch itself
        # just before the flip: the consecutive checks again would only slow the flip (~2 s).
        return runner.container_running(new.container) is not True
    return False


def ensure_started(container: str) -> bool:
    """Start the slot's container when Docker says it is stopped; True when it was started."""
    if runner.container_running(container) is False:
        runner.run(docker_cli.start_argv(container), timeout=120, what=f"starting {container}")
        return True
    return False


def run_gate(props: Mapping[str, Any]) -> dict[str, Any]:
    """Start the slot if stopped, then wait until it is healthy at its version: the verdict."""
    return _run_gate(GateInputs.from_props(props))


def _run_gate(i: GateInputs) -> dict[str, Any]:
    started = ensure_started(i.container)
    begun = time.monotonic()

    def on_probe(p: Probe) -> None:  # the waiting operator sees each round (ops.progress_file)
        progress_file.report(f"{i.color} at {i.version}: {time.monotonic() - begun:5.1f}s of "
                             f"{i.timeout_seconds:.0f}s: {p.describe()}")

    try:
        p = wait_healthy(i.base_url, version=i.version, allow_degraded=i.allow_degraded,
                         consecutive=i.consecutive, timeout_s=i.timeout_seconds,
                         interval_s=i.interval_seconds, health_path=i.path, on_probe=on_probe)
    except HealthError as exc:
        exc.slot = exc.slot or i.color
        if i.stop_on_failure and i.container:
            exc.context["stopIdleSlot"] = stop_failed(i.container)
        raise
    return {"status": p.status, "version_seen": p.version, "started": started,
            "checked_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


@operator_errors
class HealthGateProvider(ResourceProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = provider_inputs.check_failures(GateInputs, news)
        if failures:
            return CheckResult(news, failures)
        i = GateInputs.from_props(news)
        if i.color not in COLORS and not provider_inputs.is_unknown(i.color):
            failures.append(CheckFailure("color", f"must be blue or green, got {i.color!r}"))
        if not i.version:
            failures.append(CheckFailure("version", "a gate needs the version the slot must report"))
        return CheckResult(provider_inputs.props(i), failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        new = provider_inputs.props(GateInputs.from_props(news))
        old = provider_inputs.problems(GateInputs, olds)[0]  # recorded outputs; absent = default
        changed = [k for k in new if k not in OBSERVED and old.get(k) != new[k]]
        return DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        i = GateInputs.from_props(props)
        return CreateResult(f"gate-{i.color}", outs={**provider_inputs.props(i), **_run_gate(i)})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        i = GateInputs.from_props(news)
        if not needs_run(olds, news):
            return UpdateResult(outs={**olds, **provider_inputs.props(i)})
        return UpdateResult(outs={**provider_inputs.props(i), **_run_gate(i)})

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
