"""The live progress lines (``cli.progress.Printer``) and the gate's progress file
(``ops.progress_file``: real files, a real reader thread)."""

from __future__ import annotations

import io
import json
import os
import time

from togather_deploy.cli.progress import Printer
from togather_deploy.ops import progress_file
from togather_deploy.ops.engine import Progress

GATE = "pulumi-python:dynamic:Resource"


def test_human_lines_show_start_elapsed_failure_and_the_gate() -> None:
    out = io.StringIO()
    printer = Printer(out)
    printer(Progress("start", "togather-deploy-prod", "same", "pulumi:pulumi:Stack"))  # plumbing
    printer(Progress("start", "green-gate", "create", GATE))
    printer(Progress("log", "health-gate", message="green at v2: 1.0s of 120s: HTTP 503 unhealthy"))
    printer(Progress("done", "green-gate", "create", GATE, 4.1))
    printer(Progress("failed", "switch", "update", GATE, 0.5))
    printer(Progress("log", "switch", message="info: chatty"))  # only with --verbose
    lines = out.getvalue().splitlines()
    assert len(lines) == 4, lines
    assert lines[0].split() == ["+", "create", "green-gate", GATE]
    assert lines[1].split()[:3] == ["│", "gate", "green"]
    assert lines[2].split() == ["✓", "create", "green-gate", "4.1s"]
    assert lines[3].split() == ["✗", "update", "switch", "0.5s"]


def test_json_events_are_one_object_per_line_and_secrets_are_redacted() -> None:
    out, events = None, io.StringIO()
    printer = Printer(out, events)
    printer.secrets = ("hunter2-very-secret",)
    printer(Progress("log", "db", message="error: password hunter2-very-secret refused"))
    printer(Progress("done", "green-gate", "create", GATE, 2.0))
    docs = [json.loads(line) for line in events.getvalue().splitlines()]
    assert [d["kind"] for d in docs] == ["log", "done"] and docs[1]["seconds"] == 2.0
    assert "hunter2-very-secret" not in events.getvalue()


def test_the_progress_file_is_tailed_live_and_removed(tmp_path, monkeypatch) -> None:
    path = progress_file.path_for(str(tmp_path / "logs"), "prod")
    progress_file.reset(path)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    seen: list[str] = []
    env = {progress_file.ENV: path}
    with progress_file.tail(path, seen.append):
        progress_file.report("round 1", env)
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:  # arrives while the block still runs
            time.sleep(0.05)
        assert seen == ["round 1"]
        progress_file.report("round 2\nwith a newline", env)
    assert seen == ["round 1", "round 2 with a newline"]
    assert not os.path.exists(path)
    progress_file.report("nobody asked", {})  # no variable: nothing, no error
    progress_file.report("file gone", env)  # never creates the file
    assert not os.path.exists(path)
