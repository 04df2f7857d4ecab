"""What a colour flip does after writing ``active_color``: verify it through the router, stop the old colour.

``verify`` polls the public port until the router answers with the new colour
(``X-Togather-Slot``) and the app with the new version (``X-Togather-Version``
or the ``/version`` body), bounded in time and in count. ``stop_idle`` only ever
``docker stop``s the old colour (never removes it), after a drain.
"""

from __future__ import annotations

import json
import shutil
import ssl
import time
import urllib.error
import urllib.request

from togather_deploy.commands import docker as docker_cli
from togather_deploy.commands import runner


def _loopback_tls(url: str) -> ssl.SSLContext | None:
    """HTTPS to our own router on loopback: the certificate names the domain, not 127.0.0.1,
    and is checked by ``scripts/cert status``; here only the colour and version matter."""
    if not url.startswith(("https://127.0.0.1", "https://[::1]", "https://localhost")):
        return None
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def check_public(public_url: str, path: str, color: str, version: str,
                 timeout: float) -> str | None:
    """One request through the router: ``None`` when it shows ``color`` at ``version``."""
    try:
        with urllib.request.urlopen(public_url.rstrip("/") + path, timeout=timeout,  # noqa: S310
                                    context=_loopback_tls(public_url)) as resp:
            headers, raw = resp.headers, resp.read(100_000)
    except urllib.error.HTTPError as exc:
        slot, seen = exc.headers.get("X-Togather-Slot"), exc.headers.get("X-Togather-Version")
        if exc.code == 429 and (slot, seen) == (color, version):
            return None  # rate limited, but the router and the app both said who answered
        return f"HTTP {exc.code} (X-Togather-Slot: {slot})"
    except OSError as exc:
        return f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    seen_color = headers.get("X-Togather-Slot")
    seen_version = headers.get("X-Togather-Version")
    if seen_version is None:
        try:
            seen_version = json.loads(raw).get("version")
        except (ValueError, AttributeError):
            seen_version = None
    if seen_color != color or seen_version != version:
        return f"router answered colour {seen_color!r} version {seen_version!r}"
    return None


def verify(public_url: str, path: str, color: str, version: str, timeout_s: float) -> str | None:
    """Poll ``check_public`` (bounded in time and count); ``None`` on success, else the last reason."""
    deadline = time.monotonic() + timeout_s
    pause, why = 0.01, "not checked"
    for _ in range(200):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        why = check_public(public_url, path, color, version, min(5.0, remaining)) or ""
        if not why:
            return None
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, 0.5)
    return why


def stop_idle(container: str, drain_s: float, grace_s: int) -> tuple[bool, str | None]:
    if not container:
        return False, None
    if shutil.which("docker") is None:
        return False, "docker CLI not found"
    time.sleep(drain_s)
    result = runner.run(docker_cli.stop_argv(container, grace_s), check=False, timeout=grace_s + 60)
    if result.ok:
        return True, None
    return False, f"docker stop exited {result.returncode}: {result.stderr.strip()[-500:]}"


def stop_failed(container: str, grace_s: int = 15, drain_s: float = 0) -> str:
    """Stop a colour that failed its gate or its switch (``stopIdleSlot``: one colour runs, so
    two job workers never run different code); the sentence to add to the error."""
    stopped, error = stop_idle(container, drain_s, grace_s)
    if stopped:
        return f"stopped {container} (stopIdleSlot: only the serving colour runs)"
    return f"could not stop {container}: {error}" if error else ""
