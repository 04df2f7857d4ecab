"""The reload baseline: each flip rewrites an upstream include and runs ``nginx -s reload``.

What the no-reload router is measured against in ``switch_under_load.py`` (its
``reload_baseline``): one pooled ``upstream app`` naming the active colour's port, rewritten
per flip, then a reload, then polling until the new colour answers (the app's own
``X-Togather-Slot``). A reload fails some keep-alive requests in flight: that is the point.
Not a test: nothing is asserted.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from collections.abc import Mapping
from typing import Any

from benchmarks.wrk_load import run_load
from testkit.demo_app import DemoApp
from testkit.nginx import nginx_argv, prepare_dir
from testkit.ports import free_port, wait_port

_BASELINE_CONF = """pid logs/nginx.pid; worker_processes 2; events {{ worker_connections 4096; }}
http {{ access_log off; include {dir}/upstream.conf;
    server {{ listen 127.0.0.1:{port};
        location / {{ proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }} }} }}
"""


def reload_phase(apps: Mapping[str, DemoApp], workdir: str, duration: int, flips: int) -> dict[str, Any]:
    d = os.path.join(workdir, "baseline")
    prepare_dir(d)
    port = free_port()
    with open(os.path.join(d, "nginx.conf"), "w", encoding="utf-8") as fh:
        fh.write(_BASELINE_CONF.format(dir=d, port=port))
    state = {"active": "blue"}

    def write_upstream(color: str) -> None:
        with open(os.path.join(d, "upstream.conf"), "w", encoding="utf-8") as fh:
            fh.write(f"upstream app {{ server 127.0.0.1:{apps[color].port}; keepalive 16; }}\n")

    write_upstream("blue")
    proc = subprocess.Popen(nginx_argv(d, "-g", "daemon off;"), stderr=subprocess.DEVNULL)
    wait_port(port)
    url = f"http://127.0.0.1:{port}"

    def flip(_i: int) -> float:
        target = "green" if state["active"] == "blue" else "blue"
        started = time.monotonic()
        write_upstream(target)
        subprocess.run(nginx_argv(d, "-s", "reload"), check=True, capture_output=True)
        for _ in range(2000):  # bounded: until the new colour answers (the app's own header)
            with urllib.request.urlopen(url + "/healthz", timeout=5) as resp:
                if resp.headers.get("X-Togather-Slot") == target:
                    break
            time.sleep(0.002)
        state["active"] = target
        return (time.monotonic() - started) * 1000

    try:
        result = run_load(url, duration, flips, flip)
    finally:
        proc.terminate()
        proc.wait(30)
    return {**result, "reloads": result["flips"]}
