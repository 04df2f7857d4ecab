"""Notifications through apprise against a real local HTTP receiver: ntfy's JSON publish,
apprise's JSON webhook, apprise URLs, retry, timeout, refused, and no secret in any log."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterator

import pytest

from testkit.ports import closed_port
from testkit.receiver import Receiver
from togather_deploy.config.sections import NotifyConfig
from togather_deploy.ops import notify, notify_apprise

NOTE = notify.Notification(title="togather prod: deployment v2 succeeded", message="traffic on green",
                           event={"event": "deployment.completed", "version": "v2", "exit_code": 0,
                                  "stages": {"switch": 1.5}}, tags=("ok",))
FAILED = notify.Notification(title="togather prod: deployment v2 FAILED", message="traffic on blue",
                             event={"event": "deployment.failed"}, priority=4, tags=("warning",))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as rec:
        yield rec


def _cfg(ntfy: str | None = None, webhook: str | None = None, retries: int = 3,
         timeout: int = 2, urls: tuple[str, ...] = ()) -> NotifyConfig:
    return NotifyConfig(ntfy_url=ntfy, webhook_url=webhook, timeout_seconds=timeout, retries=retries,
                        urls=urls)


def _no_sleep(_s: float) -> None:
    pass


def test_ntfy_json_publish_and_apprise_json_webhook(receiver):
    sleeps: list[float] = []
    out = notify.send(_cfg(ntfy=receiver.url + "/deploys", webhook=receiver.url + "/hook?x=1"),
                      NOTE, sleep=sleeps.append)
    assert [(d.target, d.ok, d.attempts) for d in out] == [("ntfy", True, 1), ("webhook", True, 1)]
    assert sleeps == []
    ntfy, hook = receiver.requests
    assert ntfy["path"] == "/" and ntfy["type"] == "application/json"
    assert ntfy["body"] == {"topic": "deploys", "title": NOTE.title, "message": "traffic on green"}
    assert ntfy["headers"]["X-Tags"] == "ok" and "X-Icon" not in ntfy["headers"]
    assert hook["path"] == "/hook?x=1"  # the webhook's own query goes through
    assert hook["body"] == {"version": "1.0", "title": NOTE.title, "message": "traffic on green",
                            "attachments": [], "type": "success", "event": "deployment.completed",
                            "app_version": "v2", "exit_code": "0"}


def test_a_failure_goes_out_as_high_priority_and_failure_type(receiver):
    notify.send(_cfg(ntfy=receiver.url + "/deploys", webhook=receiver.url + "/hook"), FAILED,
                sleep=_no_sleep)
    ntfy, hook = receiver.requests
    assert ntfy["headers"]["X-Priority"] == "high" and ntfy["headers"]["X-Tags"] == "warning"
    assert hook["body"]["type"] == "failure" and hook["body"]["event"] == "deployment.failed"


def test_ntfy_auth_token_in_query_becomes_a_bearer_header_and_is_never_reported(receiver):
    auth = base64.urlsafe_b64encode(b"Bearer tk_s3cr3tT0ken").decode().rstrip("=")
    (d,) = notify.send(_cfg(ntfy=receiver.url + f"/alerts?auth={auth}"), NOTE, sleep=_no_sleep)
    (req,) = receiver.requests
    assert d.ok and req["auth"] == "Bearer tk_s3cr3tT0ken" and req["path"] == "/"
    assert req["body"]["topic"] == "alerts" and "alerts" not in d.url and auth not in d.url


def test_ntfy_basic_auth_in_query_becomes_userinfo(receiver):
    auth = base64.urlsafe_b64encode(b"Basic " + base64.b64encode(b"bot:p4ss")).decode()
    (d,) = notify.send(_cfg(ntfy=receiver.url + f"/alerts?auth={auth}"), NOTE, sleep=_no_sleep)
    assert d.ok and receiver.requests[0]["auth"] == "Basic Ym90OnA0c3M="


def test_credentials_in_url_go_to_the_header_not_the_report(receiver):
    url = receiver.url.replace("http://", "http://bot:p4ss@") + "/hook"
    (d,) = notify.send(_cfg(webhook=url), NOTE, sleep=_no_sleep)
    assert d.ok and "p4ss" not in d.url and "hook" not in d.url
    assert receiver.requests[0]["auth"] == "Basic Ym90OnA0c3M="


def test_apprise_urls_are_sent_as_given(receiver):
    host = receiver.url.removeprefix("http://")
    out = notify.send(_cfg(urls=(f"json://{host}/T0SECRET", f"ntfy://{host}/topic9")), NOTE,
                      sleep=_no_sleep)
    assert [(d.target, d.ok, d.url) for d in out] == [("json", True, f"json://{host}"),
                                                      ("ntfy", True, f"ntfy://{host}")]
    assert [r["path"] for r in receiver.requests] == ["/T0SECRET", "/"]
    assert receiver.requests[1]["body"]["topic"] == "topic9"


def test_a_scheme_apprise_does_not_know_is_reported_once_not_retried():
    (d,) = notify.send(_cfg(urls=("nosuchservice://token@host/x",), retries=3), NOTE, sleep=_no_sleep)
    assert (d.ok, d.attempts, d.error) == (False, 1, notify_apprise.UNSUPPORTED)
    assert d.url == "nosuchservice://…"  # a bare word in the host slot may be a token


def test_server_error_is_retried_with_backoff(receiver):
    receiver.statuses = [500, 502]
    sleeps: list[float] = []
    (d,) = notify.send(_cfg(webhook=receiver.url + "/hook"), NOTE, sleep=sleeps.append)
    assert d.ok and d.attempts == 3
    assert sleeps == [notify.backoff_s(1), notify.backoff_s(2)] and sleeps[1] > sleeps[0]
    assert len(receiver.requests) == 3


def test_persistent_failure_is_reported_not_raised(receiver):
    receiver.statuses = [500] * 10
    (d,) = notify.send(_cfg(webhook=receiver.url + "/hook", retries=2), NOTE, sleep=_no_sleep)
    assert not d.ok and d.attempts == 3 and d.error == "HTTP 500"


def test_hanging_receiver_times_out(receiver):
    receiver.hang_s = 30
    started = time.monotonic()
    (d,) = notify.send(_cfg(webhook=receiver.url + "/hook", retries=1, timeout=1), NOTE, sleep=_no_sleep)
    assert not d.ok and d.attempts == 2 and d.error == "timed out"
    assert time.monotonic() - started < 25  # bounded by the timeout, not by the receiver (loose)


def test_refused_connection_is_reported():
    with closed_port() as port:
        (d,) = notify.send(_cfg(ntfy=f"http://127.0.0.1:{port}/t", retries=1), NOTE, sleep=_no_sleep)
    assert not d.ok and d.attempts == 2 and d.error == "connection refused"


def test_no_secret_reaches_any_log_handler(receiver, caplog):
    """apprise logs URLs (topic, path) at DEBUG/INFO/WARNING: none of it may escape."""
    receiver.statuses = [500] * 10
    host = receiver.url.removeprefix("http://")
    loggers = [logging.getLogger(name) for name in ("apprise", "urllib3")]
    before = [(lg.level, lg.propagate, list(lg.handlers)) for lg in loggers]
    with caplog.at_level(logging.DEBUG), closed_port() as port:
        out = notify.send(_cfg(ntfy=receiver.url + "/T0PIC-S3CRET", retries=1,
                               urls=(f"json://{host}/PATH-S3CRET", f"json://127.0.0.1:{port}/PORT-S3CRET")),
                          NOTE, sleep=_no_sleep)
    assert [d.ok for d in out] == [False, False, False]
    assert "S3CRET" not in caplog.text and "S3CRET" not in repr(out)
    assert [(lg.level, lg.propagate, list(lg.handlers)) for lg in loggers] == before


def test_nothing_configured_sends_nothing():
    assert notify.send(_cfg(), NOTE) == []


def test_backoff_is_capped():
    assert notify.backoff_s(1) == notify.BACKOFF_BASE_S
    assert notify.backoff_s(20) == notify.BACKOFF_MAX_S


@pytest.mark.parametrize(("url", "shown"), [
    ("https://bot:pw@hooks.example.com:8443/T0/B0?token=x", "https://hooks.example.com:8443"),
    ("discord://123456789/T0KEN", "discord://…"), ("ntfys://ntfy.sh/topic", "ntfys://ntfy.sh")])
def test_public_url_keeps_only_scheme_and_host(url, shown):
    assert notify.public_url(url) == shown
