"""The audit log: JSON lines, private files, and secrets never written."""

from __future__ import annotations

import json
import os
import stat

import pytest

from togather_deploy.config.model import load_config
from togather_deploy.errors import ConfigError
from togather_deploy.ops import audit

JWT = "j" * 20 + "-jwt-secret-value-0123456789"
APP_SECRET = "smtp-pass-Zq81"


def _cfg(tmp_path):
    raw = {"environment": "development", "image": "togather", "blue": {"version": "v1"},
           "stateDir": str(tmp_path / "state"), "jwtSecret": JWT,
           "appSecrets": {"SMTP_PASSWORD": APP_SECRET}}
    return load_config(raw, project="togather-deploy", stack="t", project_dir=str(tmp_path),
                       secret_keys={"jwtSecret", "appSecrets"})


def test_event_is_one_json_line_in_private_files(tmp_path):
    state = str(tmp_path / "state")
    event = audit.make_event("deployment.completed", stack="prod", version="v1.5.0",
                             from_color="blue", to_color="green",
                             stages={"release-idle": 12.34567, "switch": 0.5},
                             migrations=["000050_add_x"], snapshot="/snap/a.dump", clock=lambda: 1e9)
    path = audit.append(state, event)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
    audit.append(state, audit.make_event("deployment.started", stack="prod", version="v1.6.0",
                                         from_color="green", to_color="blue"))
    with open(path) as fh:
        lines = fh.read().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["event"] == "deployment.completed" and first["version"] == "v1.5.0"
    assert first["stages"] == {"release-idle": 12.346, "switch": 0.5}
    assert first["migrations_applied"] == ["000050_add_x"] and first["snapshot"] == "/snap/a.dump"
    assert first["ts"] == "2001-09-09T01:46:40Z"
    assert [e["event"] for e in audit.read_events(state)] == ["deployment.completed",
                                                               "deployment.started"]


def test_reader_skips_torn_and_foreign_lines(tmp_path):
    state = str(tmp_path)
    audit.append(state, audit.make_event("deployment.failed", stack="s", version="v1",
                                         from_color="blue", to_color="green"))
    with open(audit.audit_path(state), "a") as fh:
        fh.write('{"event": "deployment.comp\n[1, 2]\nnot json\n')
    assert [e["event"] for e in audit.read_events(state)] == ["deployment.failed"]
    assert audit.read_events(str(tmp_path / "missing")) == []


def test_unknown_event_is_refused():
    with pytest.raises(ValueError):
        audit.make_event("deployment.exploded", stack="s", version=None, from_color=None,
                         to_color=None)


def test_secrets_are_redacted_everywhere(tmp_path):
    cfg = _cfg(tmp_path)
    secrets = audit.secret_values(cfg)
    assert JWT in secrets and APP_SECRET in secrets
    event = audit.make_event(
        "deployment.failed", stack="prod", version="v2", from_color="blue", to_color="green",
        error=f"connect postgresql://togather:hunter2pw@db:5432/x failed; jwt was {JWT}",
        details={"database_password": "pw-in-a-key", "api_token": "tok-123",
                 "CSRF_KEY": "k" * 40, "nested": [{"smtp": f"auth {APP_SECRET}"}],
                 "note": "https://user:s3cr3t@ntfy.example/topic", "count": 3,
                 "keepalive": None})
    path = audit.append(cfg.state_dir, event, secrets=secrets)
    with open(path) as fh:
        text = fh.read()
    for leaked in ("hunter2pw", JWT, "pw-in-a-key", "tok-123", "k" * 40, APP_SECRET, "s3cr3t"):
        assert leaked not in text, leaked
    written = json.loads(text)
    assert "postgresql://togather:[redacted]@db:5432/x" in written["error"]
    assert written["details"]["api_token"] == audit.REDACTED
    assert written["details"]["note"] == "https://user:[redacted]@ntfy.example/topic"
    assert written["details"]["count"] == 3
    assert written["version"] == "v2" and written["to_color"] == "green"  # ordinary values stay


def test_redact_leaves_plain_urls_and_short_values_alone():
    assert audit.redact_text("http://127.0.0.1:8080/health ok", ["abc"]) == \
        "http://127.0.0.1:8080/health ok"
    assert audit.redact({"version": "v1", "url": "https://ntfy.sh/topic"}) == \
        {"version": "v1", "url": "https://ntfy.sh/topic"}


def test_a_planted_audit_log_symlink_is_refused_and_its_target_untouched(tmp_path):
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (state / "audit.log").symlink_to(victim)
    event = audit.make_event("deployment.started", stack="prod", version="v1", from_color="blue",
                             to_color="green")
    with pytest.raises(ConfigError, match="is a symlink"):
        audit.append(str(state), event)
    assert victim.read_text() == "precious\n"


def test_a_state_dir_writable_by_others_is_refused(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    os.chmod(state, 0o777)
    with pytest.raises(ConfigError, match="writable by group or others"):
        audit.append(str(state), audit.make_event("deployment.started", stack="prod", version="v1",
                                                  from_color="blue", to_color="green"))
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o777 and os.listdir(state) == []


SLACK = "https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/abcdEFGHijklMNOPqrstUVWX"


@pytest.mark.parametrize(("text", "expected"), [
    ("https://ntfy.sh/alerts?auth=tk_AbC123xyz", "https://ntfy.sh/alerts?auth=[redacted]"),
    ("https://x.org/p?a=1&access_token=abc&sslmode=disable",
     "https://x.org/p?a=1&access_token=[redacted]&sslmode=disable"),
    ("PGPASSWORD=s3cr3t-pw pg_dump --dbname=x", "PGPASSWORD=[redacted] pg_dump --dbname=x"),
    ("host=db password=s3cr3t-pw user=u", "host=db password=[redacted] user=u"),
    ("host=db password='two words' user=u", "host=db password=[redacted] user=u"),
    ("--env SMTP_PASSWORD=hunter2 --env LOG_LEVEL=debug",
     "--env SMTP_PASSWORD=[redacted] --env LOG_LEVEL=debug"),
    (SLACK, "https://hooks.slack.com/services/[redacted]/[redacted]/[redacted]"),
    ("POST https://discord.com/api/webhooks/1234567/tok-ABC?wait=true failed",
     "POST https://discord.com/api/webhooks/[redacted]/[redacted]?wait=true failed"),
    ("https://hooks.example/x/a1b2c3d4e5f6g7h8i9j0k1l2", "https://hooks.example/x/[redacted]"),
    ("postgresql://u:pa/ss@db:5432/x", "postgresql://u:[redacted]@db:5432/x"),
    ("postgresql://u:p@ss@db:5432/x down", "postgresql://u:[redacted]@db:5432/x down"),
    ("monkey=banana keyboard=qwerty", "monkey=banana keyboard=qwerty"),
    ("http://127.0.0.1:8080/health ok", "http://127.0.0.1:8080/health ok"),
    ("https://ntfy.sh/my-topic", "https://ntfy.sh/my-topic"),
    ("http://127.0.0.1:9/hook", "http://127.0.0.1:9/hook"),
])
def test_redact_text_table(text, expected):
    assert audit.redact_text(text) == expected


@pytest.mark.parametrize(("key", "secret"), [
    ("monkey", False), ("keyboard", False), ("keepalive", False), ("author", False),
    ("passed", False), ("csrfKey", True), ("CSRF_KEY", True), ("api_key", True),
    ("PGPASSWORD", True), ("GF_SECURITY_ADMIN_PASSWORD", True), ("auth", True),
    ("Authorization", True), ("jwtSecret", True), ("access_token", True), ("DSN", True),
])
def test_secret_looking_keys(key, secret):
    assert (audit.redact({key: "value"})[key] == audit.REDACTED) is secret


def test_json_results_hide_a_webhook_url_credential():
    from togather_deploy.ops.notify import public_url

    shown = audit.redact({"deliveries": [{"url": public_url(SLACK + "?x=1")}]})
    assert "abcdEFGH" not in json.dumps(shown) and "T0ABCDEF1" not in json.dumps(shown)
