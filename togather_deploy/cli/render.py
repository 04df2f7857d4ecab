"""The one way operator verbs talk to people: progress lines while they run, then the
result printed for humans or as ``--json``.

``Stages`` times each named step and prints a line when it starts (what it does:
``  … release-idle   pulumi up: snapshot, migrations, green slot, gate``) and one
when it ends (``  ✓ release-idle      42.1s``); results are frozen dataclasses that
``print_json`` serialises as they are. Nothing printed here ever contains a
secret: free text passes through ``togather_deploy.ops.audit.redact_text``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from togather_deploy.errors import DeployError
from togather_deploy.ops.audit import redact, redact_text


@dataclass(frozen=True)
class StageResult:
    name: str
    seconds: float
    ok: bool
    detail: str = ""


class Stages:
    """Times stages and prints one progress line per stage (unless quiet, for ``--json``)."""

    def __init__(self, out: TextIO, monotonic: Callable[[], float], *, quiet: bool = False,
                 secrets: Sequence[str] = ()) -> None:
        self.out = out
        self.monotonic = monotonic
        self.quiet = quiet
        self.secrets = tuple(secrets)
        self.done: list[StageResult] = []

    @contextlib.contextmanager
    def stage(self, name: str, detail: str = "") -> Iterator[None]:
        start = self.monotonic()
        if not self.quiet:
            self.out.write(f"  … {name:<14} {redact_text(detail, self.secrets)}\n")
            self.out.flush()
        try:
            yield
        except BaseException:
            self._finish(name, start, False, detail)
            raise
        self._finish(name, start, True, detail)

    def _finish(self, name: str, start: float, ok: bool, detail: str) -> None:
        result = StageResult(name, round(self.monotonic() - start, 3), ok, detail)
        self.done.append(result)
        if not self.quiet:
            mark = "✓" if ok else "✗"
            self.out.write(f"  {mark} {name:<14} {result.seconds:7.1f}s\n")
            self.out.flush()

    def durations(self) -> dict[str, float]:
        return {s.name: s.seconds for s in self.done}

    def note(self, text: str) -> None:
        if not self.quiet:
            self.out.write(f"    {redact_text(text, self.secrets)}\n")
            self.out.flush()


def as_data(result: Any) -> Any:
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return dataclasses.asdict(result)
    return result


def print_json(out: TextIO, result: Any, secrets: Sequence[str] = ()) -> None:
    out.write(json.dumps(redact(as_data(result), secrets), indent=2, sort_keys=True, default=str))
    out.write("\n")


def print_error(out: TextIO, exc: BaseException, secrets: Sequence[str] = ()) -> None:
    out.write(f"error: {redact_text(str(exc), secrets)}\n")
    out.flush()


def verb_failed(out: TextIO, err: TextIO, verb: str, exc: DeployError, *, as_json: bool) -> int:
    """How a verb's failure is shown (stderr, and the JSON document with --json); its exit code."""
    if as_json:
        print_json(out, {"verb": verb, "error": exc.message, "fix": exc.fix, "exit_code": exc.exit_code})
    print_error(err, exc)
    return exc.exit_code


def error_data(exc: DeployError) -> dict[str, Any]:
    return {"message": exc.message, "exit_code": exc.exit_code, "fix": exc.fix,
            "context": {k: str(v) for k, v in exc.context.items()}}


def render_operation(out: TextIO, r: Any) -> None:
    """The closing lines of a deploy or rollback (an ``OperationResult``)."""
    total = sum(s.seconds for s in r.stages)
    verb = "deployed" if r.operation == "deployment" else "rolled back to"
    if r.outcome == "completed":
        out.write(f"{verb} {r.version} on {r.stack}: traffic {r.from_color} → {r.to_color} "
                  f"({total:.1f}s)\n")
    elif r.outcome == "rolled_back":
        out.write(f"switch to {r.to_color} failed; traffic restored to {r.from_color} "
                  f"(exit {r.exit_code})\n")
    else:
        out.write(f"{r.operation} of {r.version} on {r.stack} FAILED (exit {r.exit_code}); "
                  f"traffic stays on {r.from_color}\n")
    for n in r.notifications:
        if not n.get("ok"):
            out.write(f"  note: {n['target']} notification failed after {n['attempts']} attempts: "
                      f"{n.get('error')}\n")


def report(out: TextIO, err: TextIO, result: Any, *, as_json: bool) -> int:
    """Print an ``OperationResult`` (errors to ``err``); returns its exit code."""
    if as_json:
        print_json(out, result)
        return int(result.exit_code)
    if result.error:
        e = result.error
        err.write(f"error: {redact_text(e['message'])}\n")
        for k, v in (e.get("context") or {}).items():
            err.write(f"  {k}: " + redact_text(str(v)).replace("\n", "\n      ") + "\n")
        if e.get("fix"):
            err.write(f"  fix: {e['fix']}\n")
    render_operation(out, result)
    return int(result.exit_code)


def refuse(out: TextIO, err: TextIO, stack: str, exc: DeployError, *, as_json: bool) -> int:
    """A verb refused before changing anything (config, lock, nothing to do)."""
    if as_json:
        print_json(out, {"stack": stack, "outcome": "refused", "exit_code": exc.exit_code,
                         "error": error_data(exc)})
    else:
        print_error(err, exc)
    return exc.exit_code
