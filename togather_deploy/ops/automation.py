"""``Engine`` on the Pulumi Automation API (``pulumi.automation``, in the pinned ``pulumi``).

The one module of ``togather_deploy`` that imports ``pulumi``, and only its Automation API
(which drives the ``pulumi`` CLI as a subprocess; the program and providers are not loaded
here). The import happens when an engine is made, so ``togather-deploy status`` and
``--help`` never load gRPC.

- config: ``Stack.set_config(key, ConfigValue, path=)`` / ``get_all_config()`` (decrypted).
- ``up``: ``Stack.up(on_event=…, policy_packs=[policy/])``. Each ``ResourcePreEvent`` /
  ``ResOutputsEvent`` / ``ResOpFailedEvent`` becomes a ``Progress`` fact with the resource's
  elapsed time; error ``DiagnosticEvent``s and failed resources are kept for ``classify``.
  The HealthGate's rounds arrive through the progress file (``ops.progress_file``): a dynamic
  provider runs in a plugin process with no engine connection, so its ``pulumi.log`` calls
  only reach the plugin's stderr, which the engine does not stream as events.
- cancellation: the CLI runs in its own session (``pulumi-own-group``, the API's
  ``PulumiCommand`` pointed at it), so a Ctrl-C at the terminal or a CI job's SIGTERM to our
  process group reaches only us. The update runs in a worker thread; on either signal the CLI
  gets ONE SIGINT (pulumi's graceful cancel: pending operations finish and are recorded; a
  second one would stop it mid-operation) and we wait up to ``PULUMI_CANCEL_WAIT_S``
  (SIGTERM raises ``KeyboardInterrupt``: ``ops.context.sigterm_as_interrupt``).
  ``Stack.cancel()`` is not used: the API documents it as "very dangerous", able to leave the
  stack inconsistent when an operation was pending; the CLI's own SIGINT handling is not.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import time
from typing import Any

from togather_deploy import ROOT
from togather_deploy.config.source import NAMESPACE
from togather_deploy.errors import DeployError
from togather_deploy.ops import progress_file
from togather_deploy.ops.context import PULUMI_CANCEL_WAIT_S, OpsContext
from togather_deploy.ops.engine import Failure, OnProgress, Progress, update_failed

POLICY_PACK = os.path.join(ROOT, "policy")


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1] if urn else ""


class AutomationEngine:
    """One stack of the project in ``ctx.project_dir``, selected through a ``LocalWorkspace``."""

    def __init__(self, ctx: OpsContext, *, policy_packs: tuple[str, ...] = (POLICY_PACK,)) -> None:
        self.ctx, self.policy_packs = ctx, policy_packs
        self._auto: Any = None
        self._workspace: Any = None
        self._stack: Any = None
        self._fresh: dict[str, Any] | None = None
        """The outputs the last ``up`` returned, until the next config edit."""

    def _select(self) -> Any:
        """The stack, selected on first use: after the verb's pre-flight (``pulumi`` on PATH,
        passphrase), since the workspace runs ``pulumi version`` as it is made."""
        if self._auto is None:
            from pulumi import automation as auto  # heavy (gRPC): only when the engine is used

            self._auto = auto
            self._workspace = self._call("starting the Pulumi CLI", lambda: auto.LocalWorkspace(
                work_dir=self.ctx.project_dir, pulumi_command=_own_group(auto)))
        if self._stack is None:
            self._stack = self._call("selecting the stack",
                                     lambda: self._auto.Stack.select(self.ctx.stack, self._workspace))
        return self._stack

    def _call(self, what: str, fn: Any) -> Any:
        try:
            return fn()
        except (self._auto.errors.CommandError, self._auto.errors.InvalidVersionError) as exc:
            raise self._failed(what, str(exc), Failure()) from None

    def _failed(self, what: str, text: str, failure: Failure) -> DeployError:
        code = re.search(r"code: (-?\d+)", text)
        return update_failed(self.ctx, what, ("pulumi", what), int(code.group(1)) if code else None,
                             text, failure)

    def set_config(self, key: str, value: str, *, path: bool = False) -> None:
        stack, self._fresh = self._select(), None
        self._call(f"setting {key}", lambda: stack.set_config(
            f"{NAMESPACE}:{key}", self._auto.ConfigValue(value=value), path=path))

    def config_json(self) -> str:
        import json

        stack = self._select()
        config = self._call("reading the stack's secrets", stack.get_all_config)
        return json.dumps({k: {"value": v.value, "secret": v.secret} for k, v in config.items()})

    def outputs(self, what: str = "reading the stack outputs") -> dict[str, Any]:
        if self._fresh is not None:  # `up` has just read them: one CLI call less per release
            return dict(self._fresh)
        stack = self._select()
        outputs = self._call(what, stack.outputs)
        return {k: v.value for k, v in outputs.items()}

    def up(self, what: str, on_progress: OnProgress | None = None) -> None:
        stack, failure, self._fresh = self._select(), Failure(), None
        events = _Events(on_progress, failure)
        path = progress_file.path_for(self.ctx.log_dir, self.ctx.stack)
        progress_file.reset(path)
        self._workspace.env_vars = {**self._workspace.env_vars, progress_file.ENV: path}
        outcome: dict[str, BaseException] = {}

        def work() -> None:
            try:
                result = stack.up(on_event=events, policy_packs=list(self.policy_packs) or None,
                                  color="never", suppress_progress=True)
                self._fresh = {k: v.value for k, v in result.outputs.items()}
            except BaseException as exc:  # noqa: BLE001 (handed to the waiting thread)
                outcome["error"] = exc

        worker = threading.Thread(target=work, name="pulumi-up", daemon=True)
        with progress_file.tail(path, events.gate_line):
            worker.start()
            try:
                while worker.is_alive():
                    worker.join(0.2)
            except KeyboardInterrupt:
                _cancel()
                worker.join(PULUMI_CANCEL_WAIT_S)
                raise
        error = outcome.get("error")
        if isinstance(error, self._auto.errors.CommandError):
            raise self._failed(what, str(error), failure) from None
        if error is not None:
            raise error


LAUNCHER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pulumi-own-group")


def _own_group(auto: Any) -> Any:
    """The API's ``PulumiCommand`` (its version check on the ``pulumi`` on PATH), run through
    ``LAUNCHER`` so the CLI has its own session."""
    command = auto.PulumiCommand()
    command.command = LAUNCHER
    return command


class _Events:
    """``on_event``: engine events → ``Progress`` facts (called from the API's gRPC thread)."""

    def __init__(self, on_progress: OnProgress | None, failure: Failure) -> None:
        self.on_progress, self.failure = on_progress, failure
        self.started: dict[str, float] = {}

    def emit(self, p: Progress) -> None:
        if self.on_progress is not None:
            self.on_progress(p)

    def gate_line(self, line: str) -> None:
        self.emit(Progress("log", name="health-gate", message=line))

    def __call__(self, event: Any) -> None:
        if event.resource_pre_event and not event.resource_pre_event.planning:
            m = event.resource_pre_event.metadata
            if m.op != "same":  # unchanged resources are not news
                self.started[m.urn] = time.monotonic()
                self.emit(Progress("start", _name(m.urn), str(m.op.value), m.type))
        elif event.res_outputs_event and not event.res_outputs_event.planning:
            m = event.res_outputs_event.metadata
            start = self.started.pop(m.urn, None)
            if start is not None:
                self.emit(Progress("done", _name(m.urn), str(m.op.value), m.type,
                                   round(time.monotonic() - start, 1)))
        elif event.res_op_failed_event:
            m = event.res_op_failed_event.metadata
            start = self.started.pop(m.urn, None)
            self.failure.failed.append(f"{m.type} {_name(m.urn)}")
            self.emit(Progress("failed", _name(m.urn), str(m.op.value), m.type,
                               round(time.monotonic() - start, 1) if start is not None else None))
        elif event.diagnostic_event:
            d = event.diagnostic_event
            text = (d.message or "").strip()
            if d.severity == "error" and text:
                self.failure.errors.append(f"{_name(d.urn or '') or 'pulumi'}: {text}")
            if d.severity in ("error", "warning", "info") and text and not d.ephemeral:
                self.emit(Progress("log", _name(d.urn or ""), message=f"{d.severity}: {text}"))


def _cancel() -> None:
    """One SIGINT to the pulumi CLI(s) we started (in their own session: nobody else sent it)."""
    for pid in _pulumi_children():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)


def _pulumi_children() -> list[int]:
    pids: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children", encoding="ascii") as fh:
                pids.extend(int(p) for p in fh.read().split())
    found = []
    for pid in pids:
        with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as fh:
            # argv[0], or argv[1] behind an interpreter (a script standing in for the CLI)
            if any(os.path.basename(a) == b"pulumi" for a in fh.read().split(b"\0")[:2]):
                found.append(pid)
    return found
