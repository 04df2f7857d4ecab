"""Loopback URLs: every published port here binds 127.0.0.1 unless it is the public one."""

from __future__ import annotations

LOOPBACK = "127.0.0.1"


def loopback_url(port: int, path: str = "") -> str:
    """``http://127.0.0.1:<port><path>``: a slot, a monitoring UI, a health probe in a container."""
    return f"http://{LOOPBACK}:{port}{path}"
