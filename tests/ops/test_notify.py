"""Notifications against a real local HTTP receiver: success, retry, timeout, refused."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.support.ports import free_port
from tests.support.receiver import Receiver
from togather_deploy.config.sections import NotifyConfig
from togather_deploy.ops import notify

NOTE = notify.Notification(title="togather prod: deployment v2 succeeded", message="traffic on green",
                           event={"event": "deployment.completed", "version": "v2"}, tags=("ok",))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as rec:
        yield rec


def _cfg(ntfy: str | None = None, webhook: str | None = None, retries: int = 3,
         timeout: int = 2) -> NotifyConfig:
    return NotifyConfig(ntfy_url=ntfy, webhook_url=webhook, timeout_seconds=timeout, retries=retries)


def test_ntfy_json_publish_and_webhook(receiver):
    sleeps: list[float] = []
    out = notify.send(_cfg(ntfy=receiver.url + "/deploys", webhook=receiver.url + "/hook?x=1"),
                      NOTE, sleep=sleeps.append)
    assert [(d.target, d.ok, d.attempts) for d in out] == [("ntfy", True, 1), ("webhook", True, 1)]
    assert sleeps == []
    ntfy, hook = receiver.requests
    assert ntfy["path"] == "/" and ntfy["type"] == "application/json"
    assert ntfy["body"] == {"topic": "deploys", "title": NOTE.title, "message": "traffic on green",
                            "priority": 3, "tags": ["ok"]}
    assert hook["path"] == "/hook?x=1"
    assert hook["body"]["event"] == {"event": "deployment.completed", "version": "v2"}


def test_ntfy_token_in_query_is_kept_but_never_reported(receiver):
    (d,) = notify.send(_cfg(ntfy=receiver.url + "/alerts?auth=c2VjcmV0"), NOTE, sleep=lambda s: None)
    assert d.ok and receiver.requests[0]["path"] == "/?auth=c2VjcmV0"
    assert receiver.requests[0]["body"]["topic"] == "alerts" and "auth" not in d.url


def test_credentials_in_url_go_to_the_header_not_the_report(receiver):
    url = receiver.url.replace("http://", "http://bot:p4ss@") + "/hook"
    (d,) = notify.send(_cfg(webhook=url), NOTE, sleep=lambda s: None)
    assert d.ok and "p4ss" not in d.url
    assert receiver.requests[0]["auth"] == "Basic Ym90OnA0c3M="


def test_server_error_is_retried_with_backoff(receiver):
    receiver.statuses = [500, 502]
    sleeps: list[float] = []
    (d,) = notify.send(_cfg(webhook=receiver.url + "/hook"), NOTE, sleep=sleeps.append)
    assert d.ok and d.attempts == 3
    assert sleeps == [notify.backoff_s(1), notify.backoff_s(2)] and sleeps[1] > sleeps[0]
    assert len(receiver.requests) == 3


def test_persistent_failure_is_reported_not_raised(receiver):
    receiver.statuses = [500] * 10
    (d,) = notify.send(_cfg(webhook=receiver.url + "/hook", retries=2), NOTE, sleep=lambda s: None)
    assert not d.ok and d.attempts == 3 and d.error == "HTTP 500"


def test_hanging_receiver_times_out(receiver):
    receiver.hang_s = 30
    started = time.monotonic()
    (d,) = notify.send(_cfg(webhook=receiver.url + "/hook", retries=1, timeout=1), NOTE,
                       sleep=lambda s: None)
    assert not d.ok and d.attempts == 2
    assert "timed out" in (d.error or "").lower() or "timeout" in (d.error or "").lower()
    assert time.monotonic() - started < 25  # bounded by the timeout, not by the receiver (loose)


def test_refused_connection_is_reported():
    port = free_port()
    (d,) = notify.send(_cfg(ntfy=f"http://127.0.0.1:{port}/t", retries=1), NOTE, sleep=lambda s: None)
    assert not d.ok and d.attempts == 2 and "refused" in (d.error or "").lower()


def test_nothing_configured_sends_nothing():
    assert notify.send(_cfg(), NOTE) == []


def test_backoff_is_capped():
    assert notify.backoff_s(1) == notify.BACKOFF_BASE_S
    assert notify.backoff_s(20) == notify.BACKOFF_MAX_S
