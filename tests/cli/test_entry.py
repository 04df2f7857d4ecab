"""``togather_deploy.cli.entry.run``: whatever escapes a verb is rendered as one error with a fix, never a
traceback; ``TOGATHER_DEBUG=1`` gives the traceback back for a bug report."""

from __future__ import annotations

import io

import pytest

from togather_deploy.cli import entry
from togather_deploy.errors import EXIT_CONFIG, ConfigError


def _fail(exc: BaseException):
    def main() -> int:
        raise exc
    return main


def test_a_deploy_error_keeps_its_exit_code() -> None:
    err = io.StringIO()
    assert entry.run(_fail(ConfigError("bad key", fix="set it")), err) == EXIT_CONFIG
    assert err.getvalue().startswith("error: bad key") and "fix: set it" in err.getvalue()


def test_permission_denied_names_the_path_and_the_fix() -> None:
    err = io.StringIO()
    code = entry.run(_fail(PermissionError(13, "Permission denied", "/var/lib/togather-deploy/x")), err)
    assert code == 1
    text = err.getvalue()
    assert "permission denied: /var/lib/togather-deploy/x" in text and "usually root" in text
    assert "Traceback" not in text


def test_a_bug_is_one_line_and_secrets_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(entry.DEBUG_ENV, raising=False)
    err = io.StringIO()
    code = entry.run(_fail(ValueError("postgresql://togather:hunter2secret@db/togather")), err)
    assert code == 1
    assert "unexpected ValueError" in err.getvalue() and "TOGATHER_DEBUG=1" in err.getvalue()
    assert "hunter2secret" not in err.getvalue()


def test_debug_gives_the_traceback_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(entry.DEBUG_ENV, "1")
    with pytest.raises(ValueError):
        entry.run(_fail(ValueError("boom")), io.StringIO())


def test_exit_codes_pass_through() -> None:
    assert entry.run(lambda: 4, io.StringIO()) == 4
