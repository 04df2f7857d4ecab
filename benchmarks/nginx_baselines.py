"""What ``switch_under_load.py`` measures the router against: plain nginx, no njs, no flips.

* ``static_pooled``: the limit for any nginx router here: one ``upstream`` with a keep-alive
  pool, ``proxy_pass`` to it by name, no access log, no njs, nothing read per request; it
  sends the slot the same forwarded headers as the router (the app contract needs them, and
  the Python demo app pays per header parsed: without them the comparison would bill the
  router for the contract, not for picking a pool per request);
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
from testkit.nginx import nginx_argv, prepare_dir, start_router
from testkit.ports import free_port, wait_port

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


def start_nginx(conf_dir: str, body: str, port: int, workers: int) -> Nginx:
    prepare_dir(conf_dir)
    with open(os.path.join(conf_dir, "nginx.conf"), "w", encoding="utf-8") as fh:
        fh.write(_CONF.format(workers=workers, body=body))
    proc = subprocess.Popen(nginx_argv(conf_dir, "-g", "daemon off;"), stderr=subprocess.DEVNULL)
    wait_port(port)
    return Nginx(proc, port)


def trivial_upstream(conf_dir: str) -> Nginx:
    port = free_port()
    body = f"""server {{ listen 127.0.0.1:{port}; location / {{ return 200 "ok\\n"; }} }}"""
    return start_nginx(conf_dir, body, port, workers=1)


def static_pooled(conf_dir: str, upstream: str, pool_size: int = 64) -> Nginx:
    """``upstream``: ``ip:port``. Same pool settings as the router's (``render.nginx``)."""
    port = free_port()
    body = f"""upstream app {{ server {upstream}; keepalive {pool_size}; keepalive_requests 100000; }}
server {{ listen 127.0.0.1:{port};
    location / {{ proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
        proxy_set_header Host $host; proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme; proxy_set_header X-Forwarded-Host $host;
        proxy_set_header X-Request-ID $request_id; }} }}"""
    return start_nginx(conf_dir, body, port, workers=2)


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


def cpu_seconds(master: int) -> float:
    """User + system CPU used so far by nginx's workers (the master's children): a cost per
    request that a busy neighbour on the shared cores barely moves, unlike req/s."""
    total = 0
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == master:  # ppid; utime and stime follow at 11 and 12
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def compare(targets: dict[str, tuple[str, int]], path: str, *, connections: int, seconds: int,
            rounds: int) -> dict[str, Any]:
    """``targets``: name -> (url, nginx master pid). wrk against each in turn, ``rounds`` times
    (interleaved: a busy neighbour hurts all alike); req/s, failures, nginx CPU µs per request."""
    rps: dict[str, list[int]] = {k: [] for k in targets}
    cpu: dict[str, list[float]] = {k: [] for k in targets}
    failed = dict.fromkeys(targets, 0)
    for _ in range(rounds):
        for name, (url, master) in targets.items():
            before = cpu_seconds(master)
            text, _ = wrk(url + path, connections=connections, duration=seconds, threads=2).communicate(
                timeout=seconds + 60)
            r = parse_wrk(text)
            rps[name].append(round(r["requests"] / seconds))
            cpu[name].append(round((cpu_seconds(master) - before) * 1e6 / max(r["requests"], 1), 1))
            failed[name] += r["failed"]
    return {"seconds_per_round": seconds, "req_per_s": rps, "nginx_cpu_us_per_request": cpu,
            "failed": failed,
            "throughput_vs_static": round(sum(rps["router"]) / max(sum(rps["static"]), 1), 3)}


def trivial_phase(workdir: str, seconds: int, rounds: int) -> dict[str, Any]:
    """Router vs static in front of ``return 200``: the router's own cost."""
    up = trivial_upstream(os.path.join(workdir, "trivial"))
    router = start_router({"blue": up.addr, "green": up.addr}, os.path.join(workdir, "router-trivial"),
                          worker_processes="2")
    static = static_pooled(os.path.join(workdir, "static-trivial"), up.addr)
    try:
        return compare({"static": (static.url, static.proc.pid), "router": (router.url, router.proc.pid)},
                       "/", connections=50, seconds=seconds, rounds=rounds)
    finally:
        router.stop()
        static.stop()
        up.stop()
