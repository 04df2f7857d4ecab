"""Run a dynamic provider the way the Pulumi engine does: pickled, in another process.

The engine serializes each provider with ``pulumi.dynamic``'s own serializer
(dill) and calls it from a separate ``python -m pulumi.dynamic`` process whose
working directory is the project. ``call_pickled`` does the same: a provider
that captures a client, a lock, an open file or a module-level object fails
here instead of in a production ``pulumi up``.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import subprocess
import sys
from typing import Any

from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_CHILD = r"""
import base64, json, pickle, sys
import dill
provider = dill.loads(base64.b64decode(sys.argv[1]))
method, args = pickle.loads(base64.b64decode(sys.stdin.read()))
try:
    result = getattr(provider, method)(*args)
    out = {"ok": True, "result": base64.b64encode(pickle.dumps(result)).decode()}
except Exception as exc:  # report any failure to the parent, with its type and text
    out = {"ok": False, "type": type(exc).__name__, "message": str(exc)}
print("@@RESULT@@" + json.dumps(out))
"""


class PickledCallError(Exception):
    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.message = message


def call_pickled(provider: ResourceProvider, method: str, *args: Any,
                 env: dict[str, str] | None = None, timeout: float = 300) -> Any:
    """Serialize ``provider`` like the engine, then call ``method(*args)`` in a fresh process.

    Returns the method's result (CheckResult, DiffResult, CreateResult...), or
    raises ``PickledCallError`` carrying the child's exception type and message.
    """
    blob = serialize_provider(provider)
    payload = base64.b64encode(pickle.dumps((method, args))).decode()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, blob], input=payload, capture_output=True, text=True,
        cwd=ROOT, timeout=timeout, env={**os.environ, "PYTHONPATH": "", **(env or {})},
    )
    marker = [ln for ln in proc.stdout.splitlines() if ln.startswith("@@RESULT@@")]
    if not marker:
        raise AssertionError(f"provider process died (rc={proc.returncode}):\n{proc.stderr[-3000:]}")
    out = json.loads(marker[-1][len("@@RESULT@@"):])
    if not out["ok"]:
        raise PickledCallError(out["type"], out["message"])
    return pickle.loads(base64.b64decode(out["result"]))
