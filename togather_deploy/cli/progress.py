"""Live progress of ``pulumi up`` for the operator: one line per resource as it starts and as
it finishes (with its elapsed time), and the HealthGate's rounds as they happen.

``Printer`` is the ``OpsContext.on_progress`` of the release verbs. Human lines go to ``out``
(none with ``--json``), indented under the stage that runs ``up``::

        + create   green-gate                     pulumi-python:dynamic:Resource
        │ gate     green at v1.5.0:   2.0s of 120s: HTTP 503 starting version v1.5.0
        ✓ create   green-gate                 4.1s

With ``--json-events`` each fact is also one JSON object per line on ``events`` (stderr), so
the final ``--json`` document on stdout stays one parseable document. Called from the engine's
event thread and the progress-file reader at once: one lock keeps lines whole. Every text
passes through ``redact_text``.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from typing import TextIO

from togather_deploy.ops.audit import redact_text
from togather_deploy.ops.engine import Progress

MARKS = {"start": "+", "done": "✓", "failed": "✗", "log": "│"}
PLUMBING = ("pulumi:pulumi:Stack", "pulumi:providers:")
"""The stack itself and provider instances: shown only with --verbose (not the release's work)."""


class Printer:
    def __init__(self, out: TextIO | None, events: TextIO | None = None, *,
                 verbose: bool = False) -> None:
        self.out, self.events, self.verbose = out, events, verbose
        self.secrets: tuple[str, ...] = ()
        """Known secret values, redacted too (set once the release has read the config)."""
        self._lock = threading.Lock()

    def line(self, p: Progress) -> str | None:
        """The human line for ``p`` (``None``: not shown)."""
        if p.kind == "log":
            if p.name != "health-gate" and not self.verbose and not p.message.startswith(
                    ("error:", "warning:")):
                return None
            source = "gate" if p.name == "health-gate" else (p.name or "pulumi")
            return f"      │ {source:<8} {p.message}"
        if p.type.startswith(PLUMBING) and not self.verbose and p.kind != "failed":
            return None
        seconds = f"{p.seconds:6.1f}s" if p.seconds is not None else ""
        if p.kind == "start":
            return f"      + {p.op:<8} {p.name:<28} {p.type}"
        return f"      {MARKS[p.kind]} {p.op:<8} {p.name:<28} {seconds}"

    def __call__(self, p: Progress) -> None:
        text = self.line(p) if self.out is not None else None
        with self._lock:
            if text is not None and self.out is not None:
                self.out.write(redact_text(text, self.secrets) + "\n")
                self.out.flush()
            if self.events is not None:
                data = {k: v for k, v in dataclasses.asdict(p).items() if v not in ("", None)}
                data["message"] = redact_text(p.message, self.secrets) if p.message else None
                self.events.write(json.dumps({"event": "progress", **data}, sort_keys=True) + "\n")
                self.events.flush()
