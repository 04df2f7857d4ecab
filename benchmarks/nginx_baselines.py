"""What ``switch_under_load.py`` measures the router against: plain nginx, no njs, no flips.

* ``static_pooled``: the limit for any nginx router here: one ``upstream`` with a keep-alive
  pool, ``proxy_pass`` to it by name, no access log, no njs, nothing read per request;
* ``trivial_upstream``: an nginx that answers ``return 200`` on kept-alive connections, so
  a run against it measures the proxy's own cost, not the app's;
* ``time_wait``: TIME_WAIT sockets by side, from ``ss`` (the kernel's own table).

Not tests: nothing here asserts a speed.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from typing import Any

from benchmarks.wrk_load import parse_wrk, wrk
from tests.support.nginx import nginx_argv, prepare_dir, start_router
from tests.support.ports import free_port, wait_port

_CONF = """pid logs/nginx.pid; worker_processes {workers}; events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 1000000;
{body}
}}
"""


@dataclass
class Nginx:
    proc: subprocess.Popen[bytes]
    port: int

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.addr}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def _start(conf_dir: str, body: str, port: int, workers: int) -> Nginx:
    prepare_dir(conf_dir)
    with open(os.path.join(conf_dir, "nginx.conf"), "w", encoding="utf-8") as fh:
        fh.write(_CONF.format(workers=workers, body=body))
    proc = subprocess.Popen(nginx_argv(conf_dir, "-g", "daemon off;"), stderr=subprocess.DEVNULL)
    wait_port(port)
    return Nginx(proc, port)


def trivial_upstream(conf_dir: str) -> Nginx:
    port = free_port()
    body = f"""server {{ listen 127.0.0.1:{port}; location / {{ return 200 "ok\\n"; }} }}"""
    return _start(conf_dir, body, port, workers=1)


def static_pooled(conf_dir: str, upstream: str, pool_size: int = 64) -> Nginx:
    """``upstream``: ``ip:port``. Same pool settings as the router's (``render.nginx``)."""
    port = free_port()
    body = f"""upstream app {{ server {upstream}; keepalive {pool_size}; keepalive_requests 100000; }}
server {{ listen 127.0.0.1:{port};
    location / {{ proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }} }}"""
    return _start(conf_dir, body, port, workers=2)


def time_wait(ports: set[int]) -> dict[str, int]:
    """TIME_WAIT sockets whose peer is one of ``ports`` (the side that closed first is the
    CLIENT of that port: here the router, towards the slots) and whose local port is one."""
    out = subprocess.run(["ss", "-Htan", "state", "time-wait"], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    client = server = 0
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        local, peer = int(fields[-2].rsplit(":", 1)[1]), int(fields[-1].rsplit(":", 1)[1])
        client += peer in ports
        server += local in ports
    return {"router_side": client, "slot_side": server}


def trivial_phase(workdir: str, seconds: int, rounds: int) -> dict[str, Any]:
    """Router vs static in front of ``return 200``: interleaved, so a busy neighbour on the
    shared cores hurts both alike."""
    up = trivial_upstream(os.path.join(workdir, "trivial"))
    router = start_router({"blue": up.addr, "green": up.addr}, os.path.join(workdir, "router-trivial"),
                          worker_processes="2")
    static = static_pooled(os.path.join(workdir, "static-trivial"), up.addr)
    out: dict[str, list[dict[str, Any]]] = {"router": [], "static": []}
    try:
        for _ in range(rounds):
            for name, url in (("static", static.url), ("router", router.url)):
                text, _ = wrk(url + "/", connections=50, duration=seconds, threads=2).communicate(
                    timeout=seconds + 60)
                out[name].append(parse_wrk(text))
    finally:
        router.stop()
        static.stop()
        up.stop()
    rps = {k: [round(r["requests"] / seconds) for r in v] for k, v in out.items()}
    return {"seconds_per_round": seconds, "req_per_s": rps,
            "failed": {k: sum(r["failed"] for r in v) for k, v in out.items()},
            "throughput_vs_static": round(sum(rps["router"]) / max(sum(rps["static"]), 1), 3)}
