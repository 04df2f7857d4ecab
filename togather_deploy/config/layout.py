"""The stack's state directory, spelled once: every path under ``stateDir``.

::

    <stateDir>/              0700  the tool's own
      snapshots/             0700  (default of snapshots.dir)
      locks/<stack>.lock     0700  the release lock
      logs/                  0700  engine output of each release verb
      audit.log                    one JSON line per operator action
      router/                0755  nginx.conf, router.js, active_color (read by the router)
      metrics/<file>.prom    0755  textfile collector input (read by node-exporter)
      monitoring/<tool>/           Prometheus, Alertmanager, Grafana config

Pure: it computes paths, creates nothing (``components.host_dirs`` does, with these modes).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

METRICS_FILE = "togather_deploy.prom"
"""The deploy metrics node-exporter reads (the alert rules name it too)."""


@dataclass(frozen=True)
class StateLayout:
    root: str

    @property
    def default_snapshots(self) -> str:
        return os.path.join(self.root, "snapshots")

    @property
    def locks(self) -> str:
        return os.path.join(self.root, "locks")

    def lock_file(self, stack: str) -> str:
        return os.path.join(self.locks, f"{stack}.lock")

    @property
    def logs(self) -> str:
        return os.path.join(self.root, "logs")

    @property
    def audit_log(self) -> str:
        return os.path.join(self.root, "audit.log")

    @property
    def router(self) -> str:
        return os.path.join(self.root, "router")

    @property
    def metrics(self) -> str:
        return os.path.join(self.root, "metrics")

    @property
    def metrics_file(self) -> str:
        return os.path.join(self.metrics, METRICS_FILE)

    def monitoring(self, tool: str) -> str:
        return os.path.join(self.root, "monitoring", tool)

    def host_dirs(self, snapshots: str) -> dict[str, str]:
        """Directory → octal mode, parents first: what ``HostDirs`` creates."""
        return {self.root: "0700", snapshots: "0700", self.locks: "0700", self.logs: "0700",
                self.router: "0755", self.metrics: "0755"}
