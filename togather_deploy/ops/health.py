"""Is a slot healthy, at the right version? One probe, and the gate that polls it.

``probe`` takes one look at a slot (or at the router): it never raises, every
failure (refused, timeout, bad JSON, 429) is described in the returned ``Probe``.

``wait_healthy`` is the health gate shared by the ``HealthGate`` provider and
``scripts/health-check``. It guarantees: it returns only after ``consecutive``
good rounds in a row, where a round is a 200 from the cheap, unlimited
``/readyz``; the first and the last round of a streak are confirmed by
``/health`` (HTTP 200, ``status`` healthy — or degraded when allowed — and the
expected ``version``). ``/health`` is rate limited by the server (60/min per
client), so it is never asked more often than every ``HEALTH_MIN_SPACING_S``
(≤ 30/min) and a 429 backs off instead of counting as a failure. On timeout it
raises ``HealthError`` (exit code 4) with the last HTTP status, the failing
checks and the version seen. ``/readyz`` says only ``not_ready``: when it was
the last answer, ``/health`` is fetched once more (still spaced) so the error
names the failing checks (``database: fail: …``).
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from togather_deploy.errors import HealthError

HEALTH_MIN_SPACING_S = 2.0
"""Never ask ``/health`` more often than this: 30/min stays far under the server's 60/min."""
READY_PATH = "/readyz"
GOOD = ("healthy",)
GOOD_OR_DEGRADED = ("healthy", "degraded")


@dataclass(frozen=True)
class Probe:
    """One look at a slot."""

    url: str
    status_code: int | None
    status: str | None
    """healthy | degraded | unhealthy | shutting_down | ready | not_ready | None"""
    version: str | None
    slot: str | None
    failing_checks: Mapping[str, str] = field(default_factory=dict)
    """Check name -> ``"fail: message"`` / ``"warn: message"``."""
    error: str | None = None
    """Connection refused, timeout, bad JSON, rate limited..."""
    retry_after: float | None = None
    """Seconds the server asked us to wait (429), when it said."""

    def describe(self) -> str:
        """One line for humans: ``HTTP 503 unhealthy version v1 (database: fail: down)``."""
        parts = [f"HTTP {self.status_code}" if self.status_code is not None else "no response"]
        if self.status:
            parts.append(self.status)
        if self.version:
            parts.append(f"version {self.version}")
        if self.slot:
            parts.append(f"slot {self.slot}")
        if self.failing_checks:
            parts.append("(" + "; ".join(f"{k}: {v}" for k, v in sorted(self.failing_checks.items()))
                         + ")")
        if self.error:
            parts.append(f"[{self.error}]")
        return " ".join(parts)


def _failing_checks(checks: object) -> dict[str, str]:
    out: dict[str, str] = {}
    if not isinstance(checks, Mapping):
        return out
    for name, check in checks.items():
        if not isinstance(check, Mapping):
            continue
        status = str(check.get("status", ""))
        if status in ("fail", "warn"):
            message = check.get("message")
            out[str(name)] = f"{status}: {message}" if message else status
    return out


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def probe(base_url: str, *, path: str = "/health", timeout: float = 5.0) -> Probe:
    """GET ``base_url + path`` once and describe the answer (never raises)."""
    url = base_url.rstrip("/") + path
    req = urllib.request.Request(url, headers={"Accept": "application/json",
                                               "User-Agent": "togather-deploy-health"})
    code: int | None = None
    headers: Any = {}
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (http only, by config)
            code, headers, raw = resp.status, resp.headers, resp.read(1_000_000)
    except urllib.error.HTTPError as exc:  # 4xx/5xx still carry a JSON body worth reading
        code, headers = exc.code, exc.headers
        try:
            raw = exc.read(1_000_000)
        except OSError:
            raw = b""
    except (OSError, ValueError) as exc:  # refused, reset, timeout, bad URL
        reason = getattr(exc, "reason", exc)
        return Probe(url, None, None, None, None, {}, f"{type(exc).__name__}: {reason}")
    except http.client.HTTPException as exc:  # answered, but not in HTTP/1.x
        # After OSError, because RemoteDisconnected is both. E.g. a gRPC
        # (HTTP/2) server on the slot's port: its SETTINGS frame is binary,
        # so name the failure instead of echoing the bytes.
        return Probe(url, None, None, None, None, {},
                     f"{type(exc).__name__}: the port does not answer HTTP/1.x")
    slot_header = headers.get("X-Togather-Slot") if headers else None
    retry = _retry_after(headers.get("Retry-After")) if headers else None
    if code == 429:
        return Probe(url, code, None, None, slot_header, {}, "rate limited (429)", retry)
    try:
        body = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, ValueError):
        return Probe(url, code, None, None, slot_header, {}, "response is not JSON")
    if not isinstance(body, Mapping):
        return Probe(url, code, None, None, slot_header, {},
                     "response is not a JSON object" if raw else "empty response")
    version = body.get("version")
    slot = body.get("slot") or slot_header
    return Probe(
        url=url, status_code=code,
        status=str(body["status"]) if body.get("status") is not None else None,
        version=str(version) if version is not None else None,
        slot=str(slot) if slot is not None else None,
        failing_checks=_failing_checks(body.get("checks")),
    )


def verdict(p: Probe, *, version: str, allow_degraded: bool) -> str | None:
    """``None`` when the probe is a pass, else why not (one line)."""
    if p.error:
        return p.error
    if p.status_code != 200:
        return f"HTTP {p.status_code}"
    good = GOOD_OR_DEGRADED if allow_degraded else GOOD
    if p.status not in good:
        return f"status {p.status!r} (want {' or '.join(good)})"
    if p.version != version:
        return f"version {p.version!r} (want {version!r})"
    return None


def wait_healthy(base_url: str, *, version: str, allow_degraded: bool = False, consecutive: int = 3,
                 timeout_s: float = 120, interval_s: float = 2, health_path: str = "/health",
                 on_probe: Callable[[Probe], None] | None = None) -> Probe:
    """Poll until healthy at ``version`` ``consecutive`` times in a row; the last ``/health`` probe.

    ``on_probe`` (optional) sees every probe, for progress output.
    """
    clock = time.monotonic
    deadline = clock() + timeout_s
    ready_every = min(interval_s, 0.5)
    streak = 0
    use_ready = True
    last_health: Probe | None = None
    last: Probe | None = None
    next_health_at = clock()
    while True:
        remaining = deadline - clock()
        if remaining <= 0:
            break
        if use_ready:
            ready = probe(base_url, path=READY_PATH, timeout=min(5.0, remaining))
            _notify(on_probe, ready)
            if ready.status_code == 404:  # an older server without /readyz: /health only
                use_ready = False
            elif ready.status_code != 200:
                streak, last = 0, ready
                _sleep(ready_every, deadline)
                continue
        if streak == 0 or streak + 1 >= consecutive or not use_ready:
            _sleep(next_health_at - clock(), deadline)
            if clock() >= deadline:
                break
            health = probe(base_url, path=health_path, timeout=min(5.0, max(deadline - clock(), 0.1)))
            next_health_at = clock() + max(HEALTH_MIN_SPACING_S, interval_s)
            _notify(on_probe, health)
            if health.status_code == 429:  # not a verdict: wait as told, keep the streak
                next_health_at = clock() + max(health.retry_after or 0, 2 * HEALTH_MIN_SPACING_S)
                last = last_health or health
                continue
            last = last_health = health
            if verdict(health, version=version, allow_degraded=allow_degraded) is not None:
                streak = 0
                _sleep(interval_s, deadline)
                continue
        streak += 1
        if streak >= consecutive and last_health is not None:
            return last_health
        _sleep(interval_s, deadline)
    final = last_health or last
    if last is not None and last.url.endswith(READY_PATH):  # the newest word was "not_ready"
        final = _final_health(base_url, health_path, next_health_at, on_probe) or last
    raise _timeout_error(base_url, version, timeout_s, final, allow_degraded)


def _final_health(base_url: str, health_path: str, not_before: float,
                  on_probe: Callable[[Probe], None] | None) -> Probe | None:
    """One ``/health`` after the gate gave up on a failing ``/readyz``, so the error can name the
    failing checks; spaced like every other ``/health`` (the server rate-limits it). ``None`` when
    it says nothing more (refused, 429, not JSON)."""
    wait = not_before - time.monotonic()
    if wait > 0:
        time.sleep(min(wait, HEALTH_MIN_SPACING_S))
    health = probe(base_url, path=health_path, timeout=5.0)
    _notify(on_probe, health)
    return None if health.error else health


def _notify(on_probe: Callable[[Probe], None] | None, p: Probe) -> None:
    if on_probe is not None:
        on_probe(p)


def _sleep(seconds: float, deadline: float) -> None:
    time.sleep(max(0.0, min(seconds, deadline - time.monotonic())))


def _timeout_error(base_url: str, version: str, timeout_s: float, last: Probe | None,
                   allow_degraded: bool) -> HealthError:
    why = verdict(last, version=version, allow_degraded=allow_degraded) if last else "no answer"
    context: dict[str, object] = {
        "last HTTP status": last.status_code if last else None,
        "last status": last.status if last else None,
        "version seen": last.version if last else None,
        "version wanted": version,
    }
    for name, value in sorted((last.failing_checks if last else {}).items()):
        context[f"check {name}"] = value
    return HealthError(
        f"{base_url} did not become healthy at version {version} within {timeout_s:g}s: {why}",
        slot=last.slot if last else None, context=context,
        fix=f"inspect the slot (scripts/health-check {base_url} --version {version}; docker logs); "
            "a degraded slot passes only with health.allowDegraded=true")
