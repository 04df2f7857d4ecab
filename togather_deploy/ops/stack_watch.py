"""Noticing a stack config change that a scripted deploy or rollback did not make.

The per-stack lock keeps ``scripts/deploy`` and ``scripts/rollback`` apart, but
the manual flow (``pulumi config set`` + ``pulumi up``) never takes it and can
slip between a script's steps. So the scripts go through ``StackWatch``: it
records the stack file's content (sha256 of ``Pulumi.<stack>.yaml``) when the
operation starts and after each of its own ``pulumi config set``, and compares
before each next step (``edit``, ``up``, ``check``). On a mismatch the operation
stops with ``StackChangedError`` (exit 3: like lock contention, someone else is
operating on the stack; look before retrying) naming the edits this operation
did make, and nothing is restored: the other edit stands as it was written.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from togather_deploy.errors import StackChangedError
from togather_deploy.ops.context import OpsContext
from togather_deploy.ops.engine import engine_of


def stack_file(project_dir: str, stack: str) -> str:
    return os.path.join(project_dir, f"Pulumi.{stack}.yaml")


def _digest(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except FileNotFoundError:
        return "missing"


@dataclass
class StackWatch:
    path: str
    digest: str = ""
    """The content as this operation last saw or wrote it."""
    edits: list[str] = field(default_factory=list)
    """``KEY = VALUE`` for each ``pulumi config set`` this operation ran (for the error)."""

    @classmethod
    def start(cls, ctx: OpsContext) -> StackWatch:
        """Record the stack file as it is now (call it before reading the config under the lock)."""
        watch = cls(stack_file(ctx.project_dir, ctx.stack))
        watch.digest = _digest(watch.path)
        return watch

    def check(self, ctx: OpsContext, before: str) -> None:
        """``StackChangedError`` if the file is not what this operation last saw or wrote."""
        if _digest(self.path) == self.digest:
            return
        ours = "; ".join(self.edits) or "none yet"
        raise StackChangedError(
            f"the stack config changed during this operation, not by it (noticed before {before}); "
            "stopped without restoring anything", file=self.path,
            context={"this operation's own edits": ours},
            fix=f"someone ran `pulumi config set` or edited {os.path.basename(self.path)} meanwhile: "
                f"agree who goes on, check `scripts/status {ctx.stack}` and `pulumi config "
                f"--stack {ctx.stack}`, then run `pulumi up --stack {ctx.stack}` or the script again")

    def edit(self, ctx: OpsContext, key: str, value: str, *, path: bool = False) -> None:
        """Set ``KEY = VALUE`` in the stack config, between two checks of the file."""
        self.check(ctx, f"setting {key}")
        engine_of(ctx).set_config(key, value, path=path)
        self.digest = _digest(self.path)
        self.edits.append(f"{key} = {value}")

    def up(self, ctx: OpsContext, what: str) -> None:
        """``pulumi up`` on the config this operation expects (live progress to ``ctx.on_progress``)."""
        self.check(ctx, what)
        engine_of(ctx).up(what, ctx.on_progress)
