"""Progress lines from inside ``pulumi up`` (the HealthGate's wait) to the operator's terminal.

The release verb names a file in ``$TOGATHER_PROGRESS_FILE`` for the ``pulumi`` process it
starts; the engine's plugins inherit the environment, so the HealthGate provider appends one
line per probe round (``report``) and the verb prints them as they arrive (``tail``). Not a
resource input: it changes no diff and nothing in the state, and a gate run by plain
``pulumi up`` (no variable) reports nothing. Best effort both ways: a line that cannot be
written or read is dropped, never a failed gate. The file is 0600 and holds no secrets
(probe results: status, version, HTTP code).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterator

from togather_deploy.hostfs import paths as host_paths

ENV = "TOGATHER_PROGRESS_FILE"
POLL_S = 0.3


def path_for(log_dir: str | None, stack: str) -> str:
    """The stack's progress file: in the state dir's ``logs/`` when known, else the temp dir."""
    base = log_dir or tempfile.gettempdir()
    return os.path.join(base, f"progress-{stack}-{os.getpid()}.log")


def reset(path: str) -> None:
    """An empty file, 0600 (before each ``up``)."""
    with contextlib.suppress(OSError, Exception):
        host_paths.ensure_dir(os.path.dirname(path), 0o700)
        os.close(host_paths.open_file(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))


def report(line: str, env: dict[str, str] | None = None) -> None:
    """Append ``line`` when a verb asked for progress (``$TOGATHER_PROGRESS_FILE``)."""
    path = (os.environ if env is None else env).get(ENV)
    if not path:
        return
    with contextlib.suppress(OSError, Exception):
        fd = host_paths.open_file(path, os.O_WRONLY | os.O_APPEND, 0o600)  # never creates it
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(line.replace("\n", " ") + "\n")


@contextlib.contextmanager
def tail(path: str, on_line: Callable[[str], None]) -> Iterator[None]:
    """Call ``on_line`` for each line appended to ``path`` while the block runs (and at its end)."""
    stop = threading.Event()
    offset = 0

    def read_new() -> None:
        nonlocal offset
        with contextlib.suppress(OSError), open(path, "rb") as fh:
            fh.seek(offset)
            chunk = fh.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]  # a line still being written waits
            offset += len(complete)
            for line in complete.decode("utf-8", errors="replace").splitlines():
                if line.strip():
                    on_line(line)

    def loop() -> None:
        while not stop.wait(POLL_S):
            read_new()

    thread = threading.Thread(target=loop, name="progress-tail", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(2)
        read_new()
        with contextlib.suppress(OSError):
            os.unlink(path)
