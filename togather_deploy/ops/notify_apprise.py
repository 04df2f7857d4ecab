"""One apprise delivery attempt, with apprise's log kept in and classified.

apprise logs through the ``apprise`` logger, and its messages can quote the
URL (an ntfy topic, a webhook path: secrets), as does urllib3 under it. While
``send_once`` runs, both loggers' records go to in-memory lists only
(``propagate`` off; urllib3's are dropped), and the
attempt's outcome is reduced to a fixed phrase (``HTTP 502``, ``timed out``,
``connection refused``…) that cannot contain any part of the URL.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager

UNSUPPORTED = "not a URL apprise supports (check the scheme and its tokens)"
_LOGGER = logging.getLogger("apprise")
_URLLIB3 = logging.getLogger("urllib3")
_CAPTURE = threading.Lock()
"""The logger's level/propagate/handlers are process-wide: one capture at a time."""
_CLASSES = (
    (re.compile(r"timed out|timeout", re.I), "timed out"),
    (re.compile(r"refused", re.I), "connection refused"),
    (re.compile(r"name or service not known|nodename nor servname|resolv|getaddrinfo", re.I),
     "DNS lookup failed"),
    (re.compile(r"ssl|certificate", re.I), "TLS error"),
)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:  # a record that cannot format is no reason to fail a notification
            self.messages.append("")


@contextmanager
def _captured() -> Iterator[_Records]:
    records, quiet = _Records(), _Records()
    with _CAPTURE:
        saved = [(lg, lg.level, lg.propagate) for lg in (_LOGGER, _URLLIB3)]
        _LOGGER.setLevel(logging.DEBUG)  # the reason (refused, timed out) is only logged at DEBUG
        _LOGGER.addHandler(records)
        _URLLIB3.addHandler(quiet)  # urllib3 logs each request line, path included, at DEBUG
        for lg, _, _ in saved:
            lg.propagate = False
        try:
            yield records
        finally:
            _LOGGER.removeHandler(records)
            _URLLIB3.removeHandler(quiet)
            for lg, level, propagate in saved:
                lg.setLevel(level)
                lg.propagate = propagate


def classify(messages: list[str]) -> str:
    """A fixed phrase for what went wrong (never text from the messages themselves)."""
    text = "\n".join(messages)
    status = re.search(r"error=(\d{3})\b", text)
    if status:
        return f"HTTP {status.group(1)}"
    for pattern, phrase in _CLASSES:
        if pattern.search(text):
            return phrase
    return "failed (apprise gave no reason)"


def send_once(url: str, title: str, body: str, *, failure: bool) -> str | None:
    """Send once; ``None`` on success, else the classified reason. Never raises."""
    import apprise  # here: importing it costs ~0.4s, paid only when there is something to send

    asset = apprise.AppriseAsset(app_id="togather-deploy", app_desc="togather deployments",
                                 async_mode=False)
    with _captured() as records:
        try:
            service = apprise.Apprise(asset=asset)
            if not service.add(url):
                return UNSUPPORTED
            kind = apprise.NotifyType.FAILURE if failure else apprise.NotifyType.SUCCESS
            if service.notify(body=body, title=title, notify_type=kind):
                return None
        except Exception as exc:  # best effort: a notification never fails a release
            records.messages.append(type(exc).__name__)
    return classify(records.messages)


def decode_ntfy_auth(value: str) -> str:
    """ntfy's ``?auth=`` parameter: the Authorization header, base64 (raw URL alphabet)."""
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""


def basic_userinfo(encoded: str) -> str:
    """``user:password`` of a Basic credential, quoted for a URL's userinfo."""
    try:
        user, _, password = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""
    return f"{urllib.parse.quote(user, safe='')}:{urllib.parse.quote(password, safe='')}"
