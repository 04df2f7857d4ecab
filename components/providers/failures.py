"""How a provider's expected failure reaches an operator who runs ``pulumi up`` directly.

The SDK's dynamic-provider server turns any exception into the engine's error text with
``traceback.format_exc()``: before the one paragraph that says what failed and the fix
(``DeployError``), the operator read every frame between the SDK and the raise. The
``traceback`` module takes its frame limit from ``sys.tracebacklimit`` when given none, and
0 leaves only the exception's own line. ``operator_errors`` sets it to 0 as a ``DeployError``
leaves a provider method, and removes it as any other exception leaves one, so a bug still
shows where it happened. ``TOGATHER_DEBUG=1`` keeps every traceback, as in the verbs.
``scripts/deploy`` is unaffected: it renders the engine's error itself.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from togather_deploy.errors import DEBUG_ENV, DeployError

METHODS = ("check", "diff", "create", "read", "update", "delete")
P = TypeVar("P", bound=type)


def _guarded(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except DeployError:
            if os.environ.get(DEBUG_ENV) != "1":
                sys.tracebacklimit = 0  # read by the SDK's format_exc as this exception leaves
            raise
        except BaseException:
            with contextlib.suppress(AttributeError):
                del sys.tracebacklimit  # a bug: its traceback, whole
            raise
    return call


def operator_errors(cls: P) -> P:
    """Class decorator for a ``ResourceProvider``: each method it defines, guarded as above."""
    for name in METHODS:
        if name in vars(cls):
            setattr(cls, name, _guarded(vars(cls)[name]))
    return cls
