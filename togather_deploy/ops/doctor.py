"""The host checks of ``scripts/doctor``: everything a release needs, looked at in one place.

Each check only reads (commands are data run by ``runner``; ports are probed by binding and
closing at once) and returns a ``Check``: ``ok``, ``warn`` (works, but look) or ``fail``
(a release would fail or hurt), with what was seen and the fix. ``run_checks`` runs them
all, so an operator sees every problem at once rather than the first. ``deploy`` can run
it first and stop before the lock when ``failed(checks)``.

Ports: a port is free when it can be bound, or when the container publishing it is one of
this stack's own (a running stack is not a conflict). Memory: the sum of every container's
limit (both colours: a release runs them side by side; monitoring when enabled) against
the host's ``MemTotal``. DNS: ``domain`` (when not ``_``) should resolve to an address of
this host; behind NAT it will not, so that is a warning, never a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from togather_deploy.commands import runner
from togather_deploy.config.model import COLORS, DeployConfig
from togather_deploy.errors import DeployError
from togather_deploy.ops import metrics, preflight
from togather_deploy.render import containers, monitoring_containers

MIN_PULUMI = (3, 272, 0)
"""The Python SDK's own minimum (requirements.txt pins pulumi 3.272.x)."""
MIN_FREE_BYTES = 1 << 30
SNAPSHOT_HEADROOM = 3
"""Free space wanted on the snapshot disk: this many newest snapshots more (and 1 GiB at least)."""


@dataclass(frozen=True)
class Check:
    name: str
    level: str
    """``ok`` | ``warn`` | ``fail``"""
    detail: str
    fix: str = ""


def failed(checks: Sequence[Check]) -> list[Check]:
    return [c for c in checks if c.level == "fail"]


def _version(text: str) -> tuple[int, ...]:
    m = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(x) for x in m.groups()) if m else ()


def check_pulumi(run: Callable[..., runner.Result]) -> Check:
    if shutil.which("pulumi") is None:
        return Check("pulumi", "fail", "the pulumi CLI is not on PATH",
                     "install it: curl -fsSL https://get.pulumi.com | sh (docs/operations.md, section 1)")
    result = run(("pulumi", "version"), timeout=30, check=False, what="pulumi version")
    seen = _version(result.stdout)
    if not seen or seen < MIN_PULUMI:
        wanted = ".".join(map(str, MIN_PULUMI))
        return Check("pulumi", "fail", f"pulumi {result.stdout.strip() or '?'} is older than {wanted}",
                     "upgrade the CLI (curl -fsSL https://get.pulumi.com | sh)")
    return Check("pulumi", "ok", f"pulumi {result.stdout.strip()}")


def check_passphrase(project_dir: str, stack: str, env: Mapping[str, str]) -> Check:
    try:
        preflight.check_passphrase(env, preflight._stack_doc(project_dir, stack), stack)
    except DeployError as exc:
        return Check("passphrase", "fail", exc.message, exc.fix or "")
    return Check("passphrase", "ok", "set (its value is not read)")


def check_backend(run: Callable[..., runner.Result], env: Mapping[str, str]) -> Check:
    if shutil.which("pulumi") is None:
        return Check("backend", "fail", "cannot ask without the pulumi CLI", "install pulumi first")
    result = run(("pulumi", "whoami", "--verbose", "--non-interactive"), timeout=30, check=False,
                 what="pulumi whoami")
    if not result.ok:
        last = (result.stderr.strip().splitlines() or ["no answer"])[-1][:200]
        return Check("backend", "fail", f"the backend does not answer: {last}",
                     "pulumi login file:///var/lib/togather-deploy/pulumi-state (or your S3 URL), or set "
                     "PULUMI_BACKEND_URL (docs/operations.md, section 2)")
    url = next((ln.split(":", 1)[1].strip() for ln in result.stdout.splitlines()
                if ln.strip().lower().startswith("backend url")), env.get("PULUMI_BACKEND_URL", "?"))
    return Check("backend", "ok", f"reachable ({url})")


def check_docker(run: Callable[..., runner.Result]) -> Check:
    result = run(preflight.docker_info_argv(None), timeout=preflight.DOCKER_INFO_TIMEOUT_S, check=False,
                 what="docker info")
    if not result.ok:
        return Check("docker", "fail", "no Docker engine answers `docker info`", preflight._DOCKER_FIX)
    return Check("docker", "ok", f"engine {result.stdout.strip()}")


def check_state_dir(cfg: DeployConfig) -> Check:
    path = cfg.state_dir
    if not os.path.exists(path):
        try:
            preflight.check_state_dir(path)
        except DeployError as exc:
            return Check("stateDir", "fail", exc.message, exc.fix or "")
        return Check("stateDir", "ok", f"{path} will be created (0700)")
    st = os.lstat(path)
    if st.st_uid != os.geteuid():
        return Check("stateDir", "fail", f"{path} is owned by uid {st.st_uid}, not by uid {os.geteuid()}",
                     f"run as its owner, or chown {os.geteuid()} {path}")
    if st.st_mode & 0o022:
        return Check("stateDir", "fail", f"{path} is writable by group or others ({oct(st.st_mode & 0o777)})",
                     f"chmod go-w {path}")
    return Check("stateDir", "ok", f"{path} ({oct(st.st_mode & 0o777)}, yours)")


def _existing(path: str) -> str:
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


def check_disk(cfg: DeployConfig) -> Check:
    where = _existing(cfg.snapshots.dir)
    free = shutil.disk_usage(where).free
    snap = metrics.latest_snapshot(cfg.snapshots.dir)
    need = max(MIN_FREE_BYTES, SNAPSHOT_HEADROOM * (snap.size_bytes if snap else 0))
    detail = f"{free // (1 << 20)} MiB free at {where}; newest snapshot " + (
        f"{snap.size_bytes // (1 << 20)} MiB" if snap else "none yet")
    if free < need:
        return Check("disk", "fail", detail + f"; want {need // (1 << 20)} MiB",
                     "free space, or move snapshots.dir to a bigger disk (scripts/snapshot prune)")
    return Check("disk", "ok", detail)


def all_specs(cfg: DeployConfig) -> list[containers.ContainerSpec]:
    """Every container the stack runs (placeholders for the secrets: only limits and ports are read)."""
    specs = [containers.database_spec(cfg, "x"), *(containers.app_spec(cfg, c, {}) for c in COLORS),
             containers.router_spec(cfg)]
    if cfg.monitoring.enabled:
        m = monitoring_containers
        specs += [m.prometheus_spec(cfg), m.alertmanager_spec(cfg), m.grafana_spec(cfg, "x"),
                  m.node_exporter_spec(cfg), m.postgres_exporter_spec(cfg, "x")]
    return specs


def _port_owner(port: int, run: Callable[..., runner.Result]) -> str:
    result = run(("docker", "ps", "--filter", f"publish={port}", "--format", "{{.Names}}"), timeout=30,
                 check=False, what="docker ps")
    return result.stdout.strip().splitlines()[0] if result.ok and result.stdout.strip() else ""


def _bindable(ip: str, port: int) -> bool:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        try:
            s.bind((ip, port))
        except OSError:
            return False
    return True


def check_ports(cfg: DeployConfig, run: Callable[..., runner.Result]) -> Check:
    busy = []
    for spec in all_specs(cfg):
        for p in spec.ports:
            if _bindable(p.ip, p.external):
                continue
            owner = _port_owner(p.external, run)
            if owner.startswith(cfg.name("")):
                continue  # our own container already publishes it
            busy.append(f"{p.ip}:{p.external} ({spec.name.removeprefix(cfg.name(''))}; "
                        f"held by {owner or 'a host process'})")
    if busy:
        return Check("ports", "fail", "in use: " + ", ".join(busy),
                     "stop what holds them (ss -ltnp) or choose other ports in the stack config")
    return Check("ports", "ok", "every published port is free or already ours")


def _mem_total_mb(meminfo: str = "/proc/meminfo") -> int:
    with open(meminfo, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    return 0


def check_memory(cfg: DeployConfig, meminfo: str = "/proc/meminfo") -> Check:
    limits = sum(s.memory_mb for s in all_specs(cfg))
    total = _mem_total_mb(meminfo)
    what = "both colours" + (", monitoring" if cfg.monitoring.enabled else "")
    detail = f"container limits {limits} MiB ({what}) vs {total} MiB of memory"
    if limits > total:
        return Check("memory", "fail", detail, "a bigger server, or lower appMemoryMb/database.memoryMb "
                     "(docs/operations.md: minimum server size)")
    if limits > total * 0.8:  # the OS, dockerd and the page cache need the rest
        return Check("memory", "warn", detail, "leave 20% for the OS and Docker: a bigger server is safer")
    return Check("memory", "ok", detail)


def _host_addresses(run: Callable[..., runner.Result]) -> set[str]:
    result = run(("ip", "-j", "address", "show"), timeout=10, check=False, what="ip address")
    addrs: set[str] = set()
    if result.ok:
        for link in json.loads(result.stdout or "[]"):
            addrs |= {a.get("local", "") for a in link.get("addr_info", [])}
    return addrs


def check_dns(cfg: DeployConfig, run: Callable[..., runner.Result],
              resolve: Callable[[str], set[str]] | None = None) -> Check:
    if cfg.domain == "_":
        return Check("dns", "ok", "no domain configured (domain: _): nothing to resolve")
    resolve = resolve or (lambda host: {str(i[4][0]) for i in socket.getaddrinfo(host, None)})
    try:
        seen = resolve(cfg.domain)
    except OSError as exc:
        return Check("dns", "fail", f"{cfg.domain} does not resolve ({exc})",
                     f"add an A/AAAA record for {cfg.domain} pointing at this server")
    mine = _host_addresses(run)
    if seen & mine:
        return Check("dns", "ok", f"{cfg.domain} → {', '.join(sorted(seen))} (this host)")
    return Check("dns", "warn", f"{cfg.domain} → {', '.join(sorted(seen))}, not an address of this host",
                 "point the record at this server's public address (fine behind NAT or a proxy)")


def run_checks(cfg: DeployConfig, project_dir: str, *, env: Mapping[str, str] | None = None,
               run: Callable[..., runner.Result] = runner.run) -> tuple[Check, ...]:
    """Every check, in the order an operator fixes things."""
    env = os.environ if env is None else env
    return (check_pulumi(run), check_passphrase(project_dir, cfg.stack, env), check_backend(run, env),
            check_docker(run), check_state_dir(cfg), check_disk(cfg), check_ports(cfg, run),
            check_memory(cfg), check_dns(cfg, run))
