"""Deployment notifications: an ntfy topic and/or a generic JSON webhook.

Targets come from ``cfg.notify`` (``NotifyConfig``). Guarantees:

- ``send`` never raises and never blocks for long: each attempt has
  ``timeout_seconds``, failures are retried ``retries`` times with exponential
  backoff, and the outcome is returned as data for the caller to print. A failed
  notification never fails a deploy.
- ntfy gets its JSON publish format (``POST`` to the server root with
  ``{"topic", "title", "message", "tags", "priority"}``); the webhook gets the
  (already redacted) audit event as JSON.
- Target URLs are shown with their userinfo removed.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from togather_deploy.config.sections import NotifyConfig

BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 8.0


@dataclass(frozen=True)
class Notification:
    title: str
    message: str
    event: Mapping[str, Any] = field(default_factory=dict)
    """The audit event (redacted) sent as the webhook body."""
    priority: int = 3
    """ntfy priority 1..5 (failures go out as 4)."""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Request:
    """One HTTP POST as data."""

    target: str
    url: str
    body: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Delivery:
    target: str
    url: str
    ok: bool
    attempts: int
    error: str | None = None


def public_url(url: str) -> str:
    """``url`` without ``user:password@`` (for messages)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def ntfy_request(topic_url: str, note: Notification) -> Request:
    """ntfy's JSON publishing: POST the message to the server root, topic in the body."""
    parts = urllib.parse.urlsplit(topic_url)
    base, _, topic = parts.path.rstrip("/").rpartition("/")
    # the query stays: ntfy accepts an access token as ``?auth=...``
    root = urllib.parse.urlunsplit((parts.scheme, parts.netloc, base + "/", parts.query, ""))
    body = {"topic": topic, "title": note.title, "message": note.message,
            "priority": note.priority, "tags": list(note.tags)}
    return Request("ntfy", root, json.dumps(body).encode(), {"Content-Type": "application/json"})


def webhook_request(url: str, note: Notification) -> Request:
    body = {"title": note.title, "message": note.message, "event": dict(note.event)}
    return Request("webhook", url, json.dumps(body, default=str).encode(),
                   {"Content-Type": "application/json"})


def requests_for(cfg: NotifyConfig, note: Notification) -> list[Request]:
    out = []
    if cfg.ntfy_url:
        out.append(ntfy_request(cfg.ntfy_url, note))
    if cfg.webhook_url:
        out.append(webhook_request(cfg.webhook_url, note))
    return out


def backoff_s(attempt: int) -> float:
    """Delay before retry number ``attempt`` (1-based)."""
    return float(min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (attempt - 1)))


def _post_once(req: Request, timeout: float) -> None:
    auth = _basic_auth(req.url)
    headers = dict(req.headers, **({"Authorization": auth} if auth else {}))
    http_req = urllib.request.Request(public_url(req.url) + _query(req.url), data=req.body,
                                      headers=headers, method="POST")
    with urllib.request.urlopen(http_req, timeout=timeout) as resp:  # noqa: S310 (http(s) only: config checks)
        resp.read(65536)


def _query(url: str) -> str:
    q = urllib.parse.urlsplit(url).query
    return f"?{q}" if q else ""


def _basic_auth(url: str) -> str | None:
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return None
    import base64

    raw = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
    return "Basic " + base64.b64encode(raw.encode()).decode()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        return f"{type(exc.reason).__name__}: {exc.reason}"
    return f"{type(exc).__name__}: {exc}"


def deliver(req: Request, *, timeout: float, retries: int,
            sleep: Callable[[float], None] = time.sleep) -> Delivery:
    error = None
    for attempt in range(1, retries + 2):
        if attempt > 1:
            sleep(backoff_s(attempt - 1))
        try:
            _post_once(req, timeout)
            return Delivery(req.target, public_url(req.url), True, attempt)
        except Exception as exc:  # any failure is reported, never raised: notifications are best effort
            error = _describe(exc)
    return Delivery(req.target, public_url(req.url), False, retries + 1, error)


def send(cfg: NotifyConfig, note: Notification, *,
         sleep: Callable[[float], None] = time.sleep) -> list[Delivery]:
    """Deliver ``note`` to every configured target; never raises."""
    return [deliver(r, timeout=cfg.timeout_seconds, retries=cfg.retries, sleep=sleep)
            for r in requests_for(cfg, note)]
