"""``TrafficSwitch``: the only thing a colour flip changes, verified, reverted on failure.

Contract
- State recorded: the router directory, the public URL it verifies through, the
  colour and version now serving, the target slot's loopback URL, the colour and
  version it replaced, the switch latency, and what happened to the old colour
  (``idle_stopped``, ``idle_stop_error``). Nothing secret.
- Inputs: ``SwitchInputs`` (``components.providers.inputs``), parsed the same
  way by every method. ``None`` outputs (no previous colour, no stop error) are
  absent from the state, as the engine drops them.
- ``check``: pure; the colour must be blue/green and have a version.
- ``diff``: pure; an update when the colour, its version, the router directory
  or the public URL change. ``switch_summary`` gives the preview line
  ``activeColor: blue → green (v1.4.0 → v1.5.0)``, carried as the ``change`` input.
- ``create``/``update``: (1) one direct look at the target slot's ``/health``
  (refused, unhealthy, degraded-when-not-allowed or wrong version: fail, nothing
  touched; the ``HealthGate`` this resource depends on did the real proving);
  (2) atomically replace ``active_color`` (staged: temp written and fsynced
  first, then the rename alone flips the router; no nginx reload, ever);
  (3) verify THROUGH THE PUBLIC PORT that the router reports the new colour
  (``X-Togather-Slot``) and the new version answers (``X-Togather-Version`` or
  the ``/version`` body) within ``verify_timeout``; then fsync the directory.
  ``latency_ms`` is rename → verified. On any failure the previous file is put
  back and the update fails with the reason. Re-running it is idempotent.
- After a verified switch with ``stop_idle_slot``: wait ``drain_seconds`` (only
  requests already in flight can still reach the old colour) and ``docker stop``
  the old colour's container — the server finishes in-flight requests on SIGTERM
  — but never remove it, so a rollback is start → gate → switch. A failed stop
  is recorded, not raised: the switch itself succeeded and must not be reverted.

Trade-off of ``stopIdleSlot`` (default on): a stopped idle colour cannot run a
second River job worker on different code (the upstream's known hazard: two
versions processing the same queue), and frees its memory and database
connections. The price is a slower rollback (the container must start and pass
the gate again: seconds to a minute instead of an instant flip) and no warm
standby. Keep it warm (``stopIdleSlot: false``) only when jobs are
version-compatible and an instant rollback matters more.
- ``read`` (a refresh targeted at the resource) records as ``active_color`` the colour the
  host's file names by word and mode alike ("" when it is lost, garbled or hand-edited out
  of agreement); it never writes. The next ``update`` then switches to the configured
  colour again: health look, write, verified, as for any flip.
- ``delete``: nothing (the router keeps serving the last verified colour).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from components.providers import inputs as provider_inputs
from components.providers.failures import operator_errors
from togather_deploy.config.model import COLORS
from togather_deploy.errors import SwitchError
from togather_deploy.ops import router_files
from togather_deploy.ops.health import probe, verdict
from togather_deploy.ops.traffic_verify import stop_failed, stop_idle, verify

TRIGGER_KEYS = ("active_color", "version", "router_dir", "public_url")


def switch_summary(from_color: str | None, from_version: str | None, to_color: str, to_version: str) -> str:
    """``activeColor: blue → green (v1.4.0 → v1.5.0)`` — the preview line of a flip."""
    return (f"activeColor: {from_color or 'none'} → {to_color} "
            f"({from_version or 'none'} → {to_version})")


@contextlib.contextmanager
def restored_on_failure(directory: str, previous: str | None) -> Iterator[None]:
    """Whatever goes wrong inside (even an interrupt), the previous colour file comes back."""
    try:
        yield
    except BaseException:
        if previous is not None:
            router_files.write_active_color(directory, previous)
        raise


@dataclass(frozen=True)
class SwitchInputs:
    """The switch's inputs as ``check`` validated them (``components.providers.inputs``)."""

    router_dir: str
    """Host directory holding ``active_color``."""
    public_url: str
    """The router's public URL: the switch is verified through it."""
    active_color: str
    version: str
    """The version the colour must answer with."""
    target_url: str
    """The colour's loopback base URL (one direct health look before flipping)."""
    health_path: str = "/health"
    allow_degraded: bool = False
    verify_path: str = "/version"
    verify_timeout: float = 10.0
    stop_idle_slot: bool = False
    idle_container: str = ""
    target_container: str = ""
    """The colour switched to: stopped again when the switch fails (``stopIdleSlot``)."""
    drain_seconds: float = 0.0
    gate_checked_at: Any = None
    """Only orders the switch after the gate (any value; never read, never a trigger)."""
    change: str = ""
    """The preview line (``switch_summary``)."""

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> SwitchInputs:
        return provider_inputs.parse(cls, props)


def switch(props: Mapping[str, Any]) -> dict[str, Any]:
    i = SwitchInputs.from_props(props)
    d, color, version = i.router_dir, i.active_color, i.version
    target = probe(i.target_url, path=i.health_path, timeout=5)
    why = verdict(target, version=version, allow_degraded=i.allow_degraded)
    previous = router_files.read_active_color(d)
    # stopIdleSlot: a colour that fails its switch is stopped again, so one colour runs
    stop_target = i.stop_idle_slot and previous not in (None, color) and bool(i.target_container)
    if why is not None:
        raise SwitchError(f"not switching to {color}: its slot is not healthy at {version}: {why}",
                          slot=color, context=_stopped({"slot": target.describe()}, stop_target, i),
                          fix=f"scripts/health-check {i.target_url} --version {version}")
    try:
        with router_files.staged_active_color(d, color) as flip, restored_on_failure(d, previous):
            started = time.monotonic()
            flip.commit()
            why = verify(i.public_url, i.verify_path, color, version, i.verify_timeout)
            if why is not None:
                raise SwitchError(f"switch to {color} ({version}) not verified through "
                                  f"{i.public_url}: {why}; restored {previous or 'nothing'}",
                                  slot=color,
                                  fix="check the router (docker logs) and the slot, then pulumi up")
            verified = time.monotonic()  # the directory fsync (leaving the block) is durability only
    except SwitchError as exc:
        if stop_target:  # the old colour is back: drain what was routed here, then stop
            exc.context["stopIdleSlot"] = stop_failed(i.target_container, drain_s=i.drain_seconds)
        raise
    latency_ms = round((verified - started) * 1000, 2)
    stopped, stop_error = False, None
    if i.stop_idle_slot and previous not in (None, color):
        stopped, stop_error = stop_idle(i.idle_container, i.drain_seconds, 15)
    return {**provider_inputs.props(i), "previous_color": previous, "latency_ms": latency_ms,
            "idle_stopped": stopped, "idle_stop_error": stop_error}


def _stopped(context: dict[str, Any], stop: bool, i: SwitchInputs) -> dict[str, Any]:
    return {**context, "stopIdleSlot": stop_failed(i.target_container)} if stop else context


@operator_errors
class TrafficSwitchProvider(ResourceProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = provider_inputs.check_failures(SwitchInputs, news)
        if failures:
            return CheckResult(news, failures)
        i = SwitchInputs.from_props(news)
        if i.active_color not in COLORS and not provider_inputs.is_unknown(i.active_color):
            failures.append(CheckFailure("active_color", f"must be blue or green, got {i.active_color!r}"))
        if not i.version:
            failures.append(CheckFailure("version", f"{i.active_color} has no version to serve"))
        return CheckResult(provider_inputs.props(i), failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        new = SwitchInputs.from_props(news)
        changed = [k for k in TRIGGER_KEYS if olds.get(k) != getattr(new, k)]
        return DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("traffic-switch", outs=switch(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        i = SwitchInputs.from_props(news)
        if not any(olds.get(k) != getattr(i, k) for k in TRIGGER_KEYS):
            return UpdateResult(outs={**olds, **provider_inputs.props(i)})
        return UpdateResult(outs=switch(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        directory = props.get("router_dir")
        if not isinstance(directory, str) or not isinstance(props.get("active_color"), str):
            return ReadResult(id_, props)  # nothing recorded to compare
        return ReadResult(id_, {**props, "active_color": router_files.settled_color(directory)})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class TrafficSwitch(Resource):
    """Flips ``active_color``; depends on the active colour's ``HealthGate``."""

    active_color: pulumi.Output[str]
    latency_ms: pulumi.Output[float]

    def __init__(self, name: str, props: Mapping[str, Any],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        outs = {"previous_color": None, "latency_ms": None, "idle_stopped": None, "idle_stop_error": None}
        super().__init__(TrafficSwitchProvider(), name, {**props, **outs}, opts)

