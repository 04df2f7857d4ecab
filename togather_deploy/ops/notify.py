"""Deployment notifications through apprise: ntfy, Slack, Discord, Matrix, email, JSON webhooks…

Targets come from ``cfg.notify`` (``NotifyConfig``), each turned into one apprise URL:

- ``ntfyUrl`` (``https://ntfy.sh/TOPIC``) → ``ntfys://ntfy.sh/TOPIC`` (``http`` →
  ``ntfy://``): ntfy's JSON publish (``POST /`` with topic, title, message;
  ``X-Priority``/``X-Tags`` headers). ntfy's own ``?auth=`` token becomes apprise's
  ``token=`` (Bearer) or ``user:password@`` (Basic). A server under a sub-path is
  not supported (apprise reads every path segment as a topic).
- ``webhookUrl`` (``http(s)://…``) → ``json(s)://…``: apprise's JSON body
  ``{version, title, message, attachments, type}`` plus the audit event's flat fields
  (``event``, ``stack``, ``app_version``, ``from_color``, ``to_color``, ``exit_code``,
  ``error``); the URL's own query is kept.
- ``urls``: apprise URLs as given (``slack://…``, ``discord://…``, ``mailtos://…``).

Guarantees:

- ``send`` never raises and never blocks for long: each attempt has
  ``timeout_seconds`` to connect and to read (apprise's ``cto``/``rto``), failures
  are retried ``retries`` times with exponential backoff, and the outcome is
  returned as data for the caller to print. A failed notification never fails a
  deploy.
- URLs carry tokens, so nothing apprise says leaves this module: its log records
  are captured in memory while sending (never propagated to other handlers) and
  only classified (``HTTP 500``, ``timed out``, ``connection refused``). A
  delivery is shown as ``scheme://host`` only (no user, password, path or query).
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from togather_deploy.config.sections import NotifyConfig
from togather_deploy.ops import notify_apprise

BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 8.0
_NTFY_PRIORITY = {1: "min", 2: "low", 3: "default", 4: "high", 5: "max"}
_JSON_FIELDS = frozenset({"version", "title", "message", "attachments", "type"})
"""apprise's own JSON keys: an extra with one of these names would rename that key instead."""


@dataclass(frozen=True)
class Notification:
    title: str
    message: str
    event: Mapping[str, Any] = field(default_factory=dict)
    """The audit event (redacted); its flat fields go into the webhook's JSON body."""
    priority: int = 3
    """1..5 like ntfy's (failures go out as 4, and as apprise's ``failure`` type)."""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    name: str
    """``ntfy``, ``webhook``, or the apprise scheme of a ``urls`` entry."""
    url: str
    """The apprise URL (secret: never shown)."""


@dataclass(frozen=True)
class Delivery:
    target: str
    url: str
    ok: bool
    attempts: int
    error: str | None = None


def public_url(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: user, password, path and query can hold tokens."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if host and "." not in host and host != "localhost":
        host = "…"  # a bare word in the host slot is a token for many services (discord://ID/TOKEN)
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}"


def _with_query(url: str, extra: Mapping[str, str]) -> str:
    """``url`` with ``extra`` query parameters it does not already set."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    have = {k for k, _ in query}
    query += [(k, v) for k, v in extra.items() if k not in have]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def ntfy_url(topic_url: str) -> str:
    """An ntfy topic URL as apprise's ``ntfy(s)://`` (its ``?auth=`` as apprise's auth)."""
    parts = urllib.parse.urlsplit(topic_url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    netloc, kept = parts.netloc, []
    for key, value in query:
        if key != "auth":
            kept.append((key, value))
            continue
        header = notify_apprise.decode_ntfy_auth(value)
        if header.startswith("Bearer "):
            kept.append(("token", header[len("Bearer "):]))
        elif header.startswith("Basic ") and (userinfo := notify_apprise.basic_userinfo(header[6:])):
            netloc = userinfo + "@" + parts.netloc.split("@")[-1]
    scheme = "ntfys" if parts.scheme == "https" else "ntfy"
    return urllib.parse.urlunsplit((scheme, netloc, parts.path, urllib.parse.urlencode(kept), ""))


def webhook_url(url: str) -> str:
    """A plain http(s) webhook as apprise's ``json(s)://``; its query goes through as ``-key``."""
    parts = urllib.parse.urlsplit(url)
    query = [("-" + k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)]
    scheme = "jsons" if parts.scheme == "https" else "json"
    return urllib.parse.urlunsplit((scheme, parts.netloc, parts.path, urllib.parse.urlencode(query), ""))


def targets(cfg: NotifyConfig) -> list[Target]:
    out = []
    if cfg.ntfy_url:
        out.append(Target("ntfy", ntfy_url(cfg.ntfy_url)))
    if cfg.webhook_url:
        out.append(Target("webhook", webhook_url(cfg.webhook_url)))
    out.extend(Target(urllib.parse.urlsplit(u).scheme, u) for u in cfg.urls)
    return out


def for_note(url: str, note: Notification, timeout_s: float) -> str:
    """``url`` with this notification's per-service options and the timeouts."""
    extra = {"cto": f"{timeout_s:g}", "rto": f"{timeout_s:g}"}
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme in ("ntfy", "ntfys"):
        # image=no: no X-Icon header pointing at apprise's icons on github.com
        extra.update(priority=_NTFY_PRIORITY.get(note.priority, "default"), image="no")
        if note.tags:
            extra.update(tags=",".join(note.tags))
    elif scheme in ("json", "jsons"):
        for key, value in note.event.items():
            name = "app_version" if key == "version" else key
            flat = isinstance(value, str | int | float) and not isinstance(value, bool)
            if flat and name not in _JSON_FIELDS:
                extra[":" + name] = str(value)
    return _with_query(url, extra)


def backoff_s(attempt: int) -> float:
    """Delay before retry number ``attempt`` (1-based)."""
    return float(min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (attempt - 1)))


def deliver(target: Target, note: Notification, *, timeout: float, retries: int,
            sleep: Callable[[float], None] = time.sleep) -> Delivery:
    shown = public_url(target.url)
    url = for_note(target.url, note, timeout)
    error = None
    for attempt in range(1, retries + 2):
        if attempt > 1:
            sleep(backoff_s(attempt - 1))
        error = notify_apprise.send_once(url, note.title, note.message, failure=note.priority >= 4)
        if error is None:
            return Delivery(target.name, shown, True, attempt)
        if error == notify_apprise.UNSUPPORTED:
            return Delivery(target.name, shown, False, attempt, error)  # retrying cannot help
    return Delivery(target.name, shown, False, retries + 1, error)


def send(cfg: NotifyConfig, note: Notification, *,
         sleep: Callable[[float], None] = time.sleep) -> list[Delivery]:
    """Deliver ``note`` to every configured target; never raises."""
    return [deliver(t, note, timeout=cfg.timeout_seconds, retries=cfg.retries, sleep=sleep)
            for t in targets(cfg)]
