"""The four things the operator verbs ask of the Pulumi engine, behind one interface.

``Engine`` is what ``StackWatch``, ``release_state`` and the release verbs call: set one config
key (``path=True`` for ``blue.version``), read the config with its secrets decrypted (the
``pulumi config --show-secrets --json`` document), read the stack outputs, run ``up``.
Every failure is a ``DeployError`` whose exit code comes from ``classify``.

Two implementations:

- ``togather_deploy.ops.automation.AutomationEngine``: ``pulumi.automation`` (what the
  verbs use): structured engine events, live progress, cancellation.
- ``ArgvEngine``: the same through ``OpsContext.pulumi`` argv (``ops.context``); used when a
  caller passes its own runner (tests that plant a failure in-process).

``engine_of(ctx)`` picks ``ctx.engine`` when set, else the argv one.

``classify`` turns a failed update into an exit code from *structured* facts first — the
error diagnostics the engine reported for a resource (``DiagnosticEvent`` with severity
``error``) and the resources whose operation failed (``ResOpFailedEvent``) — and only then
from the CLI's whole output (``ops.context.classify_failure``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from togather_deploy.errors import DeployError, ExitCode
from togather_deploy.ops.context import (
    OpsContext,
    classify_failure,
    config_set_argv,
    failure_reason,
    pulumi_checked,
    save_output,
    stack_output_argv,
    up_argv,
)


@dataclass(frozen=True)
class Progress:
    """One live progress fact (printed by ``togather_deploy.cli.progress``)."""

    kind: str
    """``start`` | ``done`` | ``failed`` (a resource) | ``log`` (engine diagnostic or gate line)"""
    name: str = ""
    """The resource's name (last part of its URN) or the log's source."""
    op: str = ""
    """``create``, ``update``, ``replace``, ``delete``… (resources only)."""
    type: str = ""
    seconds: float | None = None
    message: str = ""


OnProgress = Callable[[Progress], None]


@dataclass
class Failure:
    """What the engine said about a failed update, as structured facts."""

    errors: list[str] = field(default_factory=list)
    """Error diagnostics, ``name: message`` (the resource's name when the engine gave one)."""
    failed: list[str] = field(default_factory=list)
    """``type name`` of each resource whose operation failed."""


def classify(failure: Failure, output: str) -> int:
    """The exit code of a failed update: the error diagnostics decide, else the whole output."""
    for text in failure.errors:
        code = classify_failure(text)
        if code != ExitCode.FAILURE:
            return code
    return classify_failure(output)


class Engine(Protocol):
    def set_config(self, key: str, value: str, *, path: bool = False) -> None:
        """``togather:KEY = VALUE`` in the stack's config (``DeployError`` if refused)."""

    def config_json(self) -> str:
        """The stack's config, secrets decrypted, as ``pulumi config --show-secrets --json``."""

    def outputs(self, what: str = "reading the stack outputs") -> dict[str, Any]:
        """The stack outputs, plain values (``{}`` for a stack never deployed)."""

    def up(self, what: str, on_progress: OnProgress | None = None) -> None:
        """Run the program; ``DeployError`` (classified exit code) when the update fails."""


def engine_of(ctx: OpsContext) -> Engine:
    """``ctx.engine`` following ``ctx`` (its ``log_dir`` is known only under the lock), or the
    argv engine over ``ctx.pulumi``."""
    engine: Any = ctx.engine
    if engine is None:
        return ArgvEngine(ctx)
    engine.ctx = ctx
    result: Engine = engine
    return result


@dataclass(frozen=True)
class ArgvEngine:
    """``Engine`` over ``ctx.pulumi`` (argv; text classification only, no live events)."""

    ctx: OpsContext

    def set_config(self, key: str, value: str, *, path: bool = False) -> None:
        pulumi_checked(self.ctx, config_set_argv(self.ctx, key, value, path=path), f"setting {key}")

    def config_json(self) -> str:
        from togather_deploy.config.source import engine_config_argv

        return pulumi_checked(self.ctx, engine_config_argv(self.ctx.project_dir, self.ctx.stack),
                              "reading the stack's secrets (pulumi config --show-secrets)").stdout

    def outputs(self, what: str = "reading the stack outputs") -> dict[str, Any]:
        result = pulumi_checked(self.ctx, stack_output_argv(self.ctx), what)
        try:
            loaded = json.loads(result.stdout or "{}")
        except ValueError as exc:
            raise DeployError("`pulumi stack output --json` did not print JSON", cause=exc) from None
        return loaded if isinstance(loaded, dict) else {}

    def up(self, what: str, on_progress: OnProgress | None = None) -> None:
        pulumi_checked(self.ctx, up_argv(self.ctx), what)


def update_failed(ctx: OpsContext, what: str, argv: Sequence[str], code: int | None,
                  output: str, failure: Failure) -> DeployError:
    """The error for a failed engine command: classified, the reason shown, the output kept."""
    shown = "\n".join(failure.errors[-12:]) or failure_reason(output)
    context: dict[str, Any] = {"output": shown}
    if failure.failed:
        context["failed resources"] = ", ".join(failure.failed)
    saved = save_output(ctx, argv, output)
    if saved:
        context["full output"] = saved
    return DeployError(f"{what} failed (pulumi exit {code})", exit_code=classify(failure, output),
                       context=context)
