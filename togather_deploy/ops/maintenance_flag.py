"""The router's maintenance switch: the ``maintenance`` file next to ``active_color``.

``router.js`` reads it per request (``togather_deploy.render.router_js``): present means the
public listener answers every path but ``/health``, ``/healthz`` and ``/readyz`` with the 503
maintenance page, the file's text being the message shown. So turning maintenance on or off is
one atomic file operation — no ``pulumi up``, no nginx reload:

- ``turn_on`` writes the message with ``router_files.atomic_write`` (temp file, fsync, rename,
  fsync the directory; mode 0644: nginx's workers read it). Rewriting it changes the message.
- ``turn_off`` unlinks it and fsyncs the directory; an absent file is already off.

Both are idempotent. The message is checked first (one line of printable text, at most
``MAINTENANCE_MAX_CHARS``): a bad one is refused with ``ConfigError`` before anything changes.
"""

from __future__ import annotations

import contextlib
import os

from togather_deploy.errors import ConfigError
from togather_deploy.ops import router_files
from togather_deploy.render.router_js import (
    MAINTENANCE_DEFAULT_MESSAGE,
    MAINTENANCE_FILE,
    MAINTENANCE_MAX_CHARS,
)


def flag_path(router_dir: str) -> str:
    return os.path.join(router_dir, MAINTENANCE_FILE)


def check_message(message: str) -> str:
    """The message as it will be stored (stripped), or ``ConfigError`` naming the fix."""
    text = message.strip()
    if len(text) > MAINTENANCE_MAX_CHARS:
        raise ConfigError(f"--message is {len(text)} characters; at most {MAINTENANCE_MAX_CHARS}",
                          key="--message", fix="shorten it: it is one line on the maintenance page")
    if any(not ch.isprintable() for ch in text):
        raise ConfigError("--message holds a newline or control character", key="--message",
                          fix="give one line of plain text (HTML is shown as text, not markup)")
    return text


def read(router_dir: str) -> str | None:
    """The message shown while maintenance is on; ``None`` when it is off."""
    text = router_files.read_text(flag_path(router_dir))
    if text is None:
        return None
    return text.strip()[:MAINTENANCE_MAX_CHARS] or MAINTENANCE_DEFAULT_MESSAGE


def turn_on(router_dir: str, message: str = "") -> str:
    """Serve the maintenance page from the next request on; returns the message shown."""
    text = check_message(message)
    router_files.ensure_dir(router_dir)
    router_files.sweep_temp_files(router_dir, MAINTENANCE_FILE)
    router_files.atomic_write(flag_path(router_dir), text + "\n")
    return text or MAINTENANCE_DEFAULT_MESSAGE


def turn_off(router_dir: str) -> bool:
    """Serve normally from the next request on; ``True`` when maintenance was on."""
    try:
        os.unlink(flag_path(router_dir))
    except FileNotFoundError:
        return False
    with contextlib.suppress(OSError):
        fd = os.open(router_dir, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return True


def apply(router_dir: str, on: bool) -> None:
    """Make the file agree with the declarative ``router.maintenance`` (``RouterConfig``).

    Turning on keeps an existing message (an operator's ``--message`` survives a ``pulumi up``)."""
    if on and read(router_dir) is None:
        turn_on(router_dir)
    elif not on:
        turn_off(router_dir)
