"""``TrafficSwitch``: the only thing a colour flip changes, verified, reverted on failure.

Contract
- State recorded: the router directory, the public URL it verifies through, the
  colour and version now serving, the target slot's loopback URL, the colour and
  version it replaced, the switch latency, and what happened to the old colour
  (``idle_stopped``, ``idle_stop_error``). Nothing secret.
- ``check``: pure; the colour must be blue/green and have a version.
- ``diff``: pure; an update when the colour, its version, the router directory
  or the public URL change. ``switch_summary`` gives the preview line
  ``activeColor: blue → green (v1.4.0 → v1.5.0)``, carried as the ``change`` input.
- ``create``/``update``: (1) one direct look at the target slot's ``/health``
  (refused, unhealthy, degraded-when-not-allowed or wrong version: fail, nothing
  touched; the ``HealthGate`` this resource depends on did the real proving);
  (2) atomically replace ``active_color`` (temp, fsync, rename, fsync dir; no
  nginx reload, ever); (3) verify THROUGH THE PUBLIC PORT that the router
  reports the new colour (``X-Togather-Slot``) and the new version answers
  (``X-Togather-Version`` or the ``/version`` body) within ``verify_timeout``;
  on any failure the previous file is put back and the update fails with the
  reason. Re-running it is idempotent.
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
- ``delete``: nothing (the router keeps serving the last verified colour).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
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

from components import router_files, runner
from components.config import COLORS
from components.errors import SwitchError
from components.health import probe, verdict

TRIGGER_KEYS = ("active_color", "version", "router_dir", "public_url")


def switch_summary(from_color: str | None, from_version: str | None, to_color: str, to_version: str) -> str:
    """``activeColor: blue → green (v1.4.0 → v1.5.0)`` — the preview line of a flip."""
    return (f"activeColor: {from_color or 'none'} → {to_color} "
            f"({from_version or 'none'} → {to_version})")


def check_public(public_url: str, path: str, color: str, version: str,
                 timeout: float) -> str | None:
    """One request through the router: ``None`` when it shows ``color`` at ``version``."""
    try:
        with urllib.request.urlopen(public_url.rstrip("/") + path, timeout=timeout) as resp:  # noqa: S310
            headers, raw = resp.headers, resp.read(100_000)
    except urllib.error.HTTPError as exc:
        slot, seen = exc.headers.get("X-Togather-Slot"), exc.headers.get("X-Togather-Version")
        if exc.code == 429 and (slot, seen) == (color, version):
            return None  # rate limited, but the router and the app both said who answered
        return f"HTTP {exc.code} (X-Togather-Slot: {slot})"
    except OSError as exc:
        return f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    seen_color = headers.get("X-Togather-Slot")
    seen_version = headers.get("X-Togather-Version")
    if seen_version is None:
        try:
            seen_version = json.loads(raw).get("version")
        except (ValueError, AttributeError):
            seen_version = None
    if seen_color != color or seen_version != version:
        return f"router answered colour {seen_color!r} version {seen_version!r}"
    return None


def verify(public_url: str, path: str, color: str, version: str, timeout_s: float) -> str | None:
    """Poll ``check_public`` (bounded in time and count); ``None`` on success, else the last reason."""
    deadline = time.monotonic() + timeout_s
    pause, why = 0.01, "not checked"
    for _ in range(200):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        why = check_public(public_url, path, color, version, min(5.0, remaining)) or ""
        if not why:
            return None
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, 0.5)
    return why


def stop_argv(container: str, grace_s: int) -> runner.Argv:
    return ("docker", "stop", "--time", str(grace_s), container)


def stop_idle(container: str, drain_s: float, grace_s: int) -> tuple[bool, str | None]:
    if not container:
        return False, None
    if shutil.which("docker") is None:
        return False, "docker CLI not found"
    time.sleep(drain_s)
    result = runner.run(stop_argv(container, grace_s), check=False, timeout=grace_s + 60)
    if result.ok:
        return True, None
    return False, f"docker stop exited {result.returncode}: {result.stderr.strip()[-500:]}"


@contextlib.contextmanager
def restored_on_failure(directory: str, previous: str | None) -> Iterator[None]:
    """Whatever goes wrong inside (even an interrupt), the previous colour file comes back."""
    try:
        yield
    except BaseException:
        if previous is not None:
            router_files.write_active_color(directory, previous)
        raise


def switch(props: Mapping[str, Any]) -> dict[str, Any]:
    d, color, version = props["router_dir"], props["active_color"], props["version"]
    target = probe(props["target_url"], path=props.get("health_path") or "/health", timeout=5)
    why = verdict(target, version=version, allow_degraded=bool(props.get("allow_degraded")))
    if why is not None:
        raise SwitchError(f"not switching to {color}: its slot is not healthy at {version}: {why}",
                          slot=color, context={"slot": target.describe()},
                          fix=f"scripts/health-check {props['target_url']} --version {version}")
    previous = router_files.read_active_color(d)
    started = time.monotonic()
    with restored_on_failure(d, previous):
        router_files.write_active_color(d, color)
        why = verify(props["public_url"], props.get("verify_path") or "/version", color, version,
                     float(props.get("verify_timeout") or 10))
        if why is not None:
            raise SwitchError(f"switch to {color} ({version}) not verified through "
                              f"{props['public_url']}: {why}; restored {previous or 'nothing'}",
                              slot=color, fix="check the router (docker logs) and the slot, then pulumi up")
    latency_ms = round((time.monotonic() - started) * 1000, 2)
    stopped, stop_error = False, None
    if props.get("stop_idle_slot") and previous not in (None, color):
        stopped, stop_error = stop_idle(str(props.get("idle_container") or ""),
                                        float(props.get("drain_seconds") or 0), 15)
    return {**{k: props.get(k) for k in props if not k.startswith("__")},
            "previous_color": previous, "latency_ms": latency_ms,
            "idle_stopped": stopped, "idle_stop_error": stop_error}


class TrafficSwitchProvider(ResourceProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        if news.get("active_color") not in COLORS:
            failures.append(CheckFailure("active_color", "must be blue or green"))
        if not news.get("version"):
            failures.append(CheckFailure("version", f"{news.get('active_color')} has no version to serve"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in TRIGGER_KEYS if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("traffic-switch", outs=switch(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if not any(olds.get(k) != news.get(k) for k in TRIGGER_KEYS):
            return UpdateResult(outs={**olds, **news})
        return UpdateResult(outs=switch(news))

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

