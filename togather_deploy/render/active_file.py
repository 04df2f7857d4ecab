"""The router's ``active_color`` file: one word for people and tools, one mode bit for nginx.

nginx's ``if`` can test a path's existence (``-f``) and its owner-exec bit (``-x``), never
its content, and njs, which can read the content, costs a VM and five syscalls per
request (measured on 2 cores, wrk -c50, a ``return 200`` slot: nginx CPU per request
37.7 µs with njs reading the file, 29.7 µs with the two tests below, 22.7 µs for a static
config; in front of the demo app 112 µs against 92.5). So the file states its colour
twice, in ONE inode written by ONE rename (``ops.router_files``): the text ``blue`` with
mode 0755, or ``green`` with mode 0644. A reader of the text and nginx's test can never
disagree, because no moment exists where the text is new and the mode old.

nginx's ``-x`` is the owner-exec bit of ``stat``'s mode (its ``ngx_is_exec``), not
``access(2)``: the workers' user and a ``noexec`` mount do not change the answer.

Per request the router tests ``-f`` (the file is there: green) then ``-x`` (blue). A flip
between the two tests still yields a colour, the old or the new one (``-f`` only guards
existence; the answer is the last test's); no file: no colour, and the router answers 503
rather than guess. The preview listener tests the same two bits for the other colour.
"""

from __future__ import annotations

import stat

ACTIVE_FILE = "active_color"
EXEC_COLOR = "blue"
"""The colour whose file carries the owner-exec bit (what nginx's ``-x`` sees)."""
OTHER_COLOR = "green"
MODES = {EXEC_COLOR: 0o755, OTHER_COLOR: 0o644}
"""The file's mode for each colour: world-readable both (nginx's workers read it)."""


def color_of_mode(mode: int) -> str:
    """The colour nginx routes to for a file of ``mode`` (``os.stat().st_mode``)."""
    return EXEC_COLOR if mode & stat.S_IXUSR else OTHER_COLOR


def nginx_selection(path: str, *, idle: bool) -> list[str]:
    """Server-level lines setting ``$togather_color`` from the file at ``path`` (as nginx sees
    it): the active colour, or with ``idle`` the other one (the preview listener)."""
    when_file, when_exec = (EXEC_COLOR, OTHER_COLOR) if idle else (OTHER_COLOR, EXEC_COLOR)
    return ["        set $togather_color \"\";",
            f"        if (-f \"{path}\") {{ set $togather_color {when_file}; }}",
            f"        if (-x \"{path}\") {{ set $togather_color {when_exec}; }}"]
