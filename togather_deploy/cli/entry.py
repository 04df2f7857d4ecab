"""How every verb's process starts and ends: ``sys.exit(entry.run(main))``.

``run`` guarantees no Python traceback reaches an operator: a ``DeployError`` is shown as
itself (its exit code), a refused file operation (``PermissionError``, a full disk) names the
path and the fix (exit 1), a Ctrl-C the verb did not handle says so (exit 1), and anything else
is shown as one line naming the exception, with how to get the traceback for a bug report
(``TOGATHER_DEBUG=1``). Every message passes through the redaction of ``togather_deploy.cli.render``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TextIO

from togather_deploy.cli.render import print_error
from togather_deploy.errors import DEBUG_ENV, DeployError, ExitCode


def as_error(exc: BaseException) -> DeployError:
    """The operator-facing form of an exception a verb did not handle itself."""
    if isinstance(exc, DeployError):
        return exc
    if isinstance(exc, KeyboardInterrupt):
        return DeployError("interrupted", fix="check what it had done (scripts/status STACK, "
                                              "scripts/snapshot list) and run it again")
    if isinstance(exc, PermissionError):
        where = exc.filename or "a file"
        return DeployError(f"permission denied: {where} ({exc.strerror or exc})",
                           file=exc.filename,
                           fix="run as the user that owns the stack's state (usually root: sudo), "
                               "or give this user access to that path")
    if isinstance(exc, OSError):
        return DeployError(f"{exc.strerror or type(exc).__name__}: {exc.filename or exc}",
                           file=exc.filename, fix="check the path, free space and permissions")
    return DeployError(f"unexpected {type(exc).__name__}: {exc}",
                       fix=f"this is a bug in togather-deploy: rerun with {DEBUG_ENV}=1 for the "
                           "traceback and report it")


def run(main: Callable[[], int], err: TextIO | None = None) -> int:
    """``main()``'s exit code; an escaping exception rendered as one error instead of a traceback."""
    try:
        return main()
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 (the last line of defence: render, never crash)
        if os.environ.get(DEBUG_ENV) == "1":
            raise
        error = as_error(exc)
        print_error(err or sys.stderr, error)
        return error.exit_code if isinstance(exc, DeployError) else ExitCode.FAILURE
