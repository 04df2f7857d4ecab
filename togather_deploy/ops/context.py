"""What the operator verbs (``cli/deploy|rollback|status|lock``) are given, and the
``pulumi`` commands they run, as data.

``OpsContext`` carries every input a verb touches (project dir, stack, the
command runner, clocks, streams), so a verb is a plain function of it and
tests pass their own. ``pulumi`` is the only external program the verbs run;
``classify_failure`` is the one place that turns a failed ``pulumi up``'s output
into an exit code. The providers mark their errors with a prefix:

    [togather:health]    the HealthGate did not pass          -> 4
    [togather:switch]    the TrafficSwitch could not verify     -> 4
    [togather:migration] a migration failed                    -> 5
    [togather:config]    config rejected by the program        -> 10
    [togather:lock]      lock contention                       -> 3

The error class names (``HealthError``...) are matched too, as a fallback.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from togather_deploy import ROOT
from togather_deploy.commands import runner
from togather_deploy.config.source import NAMESPACE
from togather_deploy.errors import DeployError, ExitCode
from togather_deploy.hostfs import paths as host_paths
from togather_deploy.ops.audit import redact_text

PULUMI_TIMEOUT_S = 3600.0
PULUMI_CANCEL_WAIT_S = 60.0
# Marker or error-class name -> exit code, most specific first.
_FAILURE_MARKERS: tuple[tuple[str, int], ...] = (
    (r"\[togather:migration\]|\bMigrationError\b", ExitCode.MIGRATION),
    (r"\[togather:health\]|\bHealthError\b", ExitCode.HEALTH),
    (r"\[togather:switch\]|\bSwitchError\b", ExitCode.HEALTH),
    (r"\[togather:config\]|\bConfigError\b", ExitCode.CONFIG),
    (r"\[togather:lock\]|\bLockError\b", ExitCode.LOCKED),
)

PulumiRunner = Callable[[Sequence[str]], runner.Result]


def run_pulumi(argv: Sequence[str]) -> runner.Result:
    """The plain runner: ``togather_deploy.commands.runner.run`` without raising (the verb decides)."""
    return runner.run(argv, check=False, timeout=PULUMI_TIMEOUT_S, what=" ".join(argv[:2]))


def streaming_pulumi(echo: TextIO | None) -> PulumiRunner:
    """The runner the scripts use: output captured (``pulumi up``'s echoed line by line when
    ``echo``).

    ``pulumi`` runs in its own process group (``runner.spawn``), so a Ctrl-C reaches only
    us; we forward one SIGINT, which makes pulumi cancel cleanly, and wait up to
    ``PULUMI_CANCEL_WAIT_S`` — killing it outright would leave pending operations.
    """
    def run(argv: Sequence[str]) -> runner.Result:
        proc = runner.spawn(argv, stdout=subprocess.PIPE)
        stdout, stderr = proc.stdout, proc.stderr
        assert stdout is not None and stderr is not None
        err: list[bytes] = []
        drain = threading.Thread(target=lambda: err.append(stderr.read()), daemon=True)
        drain.start()
        lines: list[str] = []
        try:
            for raw in stdout:
                line = raw.decode("utf-8", errors="replace")
                lines.append(line)
                if echo is not None and tuple(argv[1:2]) == ("up",):  # the long, informative one
                    echo.write("    │ " + redact_text(line.rstrip("\n")) + "\n")
                    echo.flush()
            proc.wait()
        except KeyboardInterrupt:
            _cancel(proc)
            raise
        drain.join(timeout=10)
        return runner.Result(tuple(argv), proc.returncode, "".join(lines),
                             b"".join(err).decode("utf-8", errors="replace"))
    return run


def sigterm_as_interrupt() -> None:
    """Treat SIGTERM (CI cancelling a job, systemd stopping us) like Ctrl-C: pulumi is cancelled
    cleanly and the outcome audited, instead of us dying with pulumi orphaned mid-update."""
    def handler(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _cancel(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=PULUMI_CANCEL_WAIT_S)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):  # a second Ctrl-C: stop waiting
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@dataclass(frozen=True)
class OpsContext:
    project_dir: str
    stack: str
    pulumi: PulumiRunner = run_pulumi
    clock: Callable[[], float] = time.time
    """Wall clock (lock records, audit timestamps)."""
    monotonic: Callable[[], float] = time.monotonic
    """Stage durations."""
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    sleep: Callable[[float], None] = time.sleep
    log_dir: str | None = None
    """Where the full output of a failed ``pulumi`` is kept (the verbs use ``<state_dir>/logs``)."""
    engine: object | None = None
    """A ``togather_deploy.ops.engine.Engine`` (the release verbs: the Automation API one);
    ``None``: ``pulumi`` argv through ``pulumi`` above."""
    on_progress: Callable[[Any], None] | None = None
    """Live progress of ``up`` (``togather_deploy.ops.engine.Progress`` facts), if shown."""


def config_set_argv(ctx: OpsContext, key: str, value: str, *, path: bool = False) -> tuple[str, ...]:
    """``pulumi config set [--path] togather:KEY VALUE --stack S --cwd DIR``."""
    flags = ("--path",) if path else ()
    return ("pulumi", "config", "set", *flags, f"{NAMESPACE}:{key}", value,
            "--stack", ctx.stack, "--cwd", ctx.project_dir, "--non-interactive")


POLICY_PACK = os.path.join(ROOT, "policy")
"""The tool's own safety policies: applied on every ``pulumi up`` the verbs run."""


def up_argv(ctx: OpsContext) -> tuple[str, ...]:
    return ("pulumi", "up", "--yes", "--skip-preview", "--stack", ctx.stack,
            "--cwd", ctx.project_dir, "--policy-pack", POLICY_PACK, "--non-interactive")


def stack_output_argv(ctx: OpsContext) -> tuple[str, ...]:
    return ("pulumi", "stack", "output", "--json", "--stack", ctx.stack,
            "--cwd", ctx.project_dir, "--non-interactive")


def classify_failure(output: str) -> int:
    """The exit code a failed ``pulumi up`` maps to, from its output."""
    for pattern, code in _FAILURE_MARKERS:
        if re.search(pattern, output):
            return code
    return ExitCode.FAILURE


def failure_reason(output: str, limit: int = 12) -> str:
    """The lines of ``pulumi up`` output worth showing: errors first, else the tail."""
    lines = [ln.rstrip() for ln in output.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower() or "[togather:" in ln]
    return "\n".join((errors or lines)[-limit:])


def pulumi_checked(ctx: OpsContext, argv: Sequence[str], what: str) -> runner.Result:
    """Run ``argv``; on failure raise ``DeployError`` with the classified exit code."""
    result = ctx.pulumi(argv)
    if not result.ok:
        output = result.stdout + "\n" + result.stderr
        context = {"output": failure_reason(output)}
        saved = save_output(ctx, argv, output)
        if saved:
            context["full output"] = saved
        raise DeployError(f"{what} failed (pulumi exit {result.returncode})",
                          exit_code=classify_failure(output), context=context)
    return result


def save_output(ctx: OpsContext, argv: Sequence[str], output: str) -> str | None:
    """Keep a failed command's whole output (redacted, 0600) for the post-mortem; its path."""
    if not ctx.log_dir:
        return None
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(ctx.clock()))
    path = os.path.join(ctx.log_dir, f"pulumi-{ctx.stack}-{stamp}.log")
    try:
        host_paths.ensure_dir(ctx.log_dir, 0o700)
        fd = host_paths.open_file(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"$ {' '.join(argv)}\n{redact_text(output)}\n")
    except (OSError, DeployError):
        return None  # the short reason is still shown; a full disk must not hide the failure
    return path
