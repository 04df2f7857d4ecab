"""The deploy tooling's own metrics, for node-exporter's textfile collector.

``<state_dir>/metrics/togather_deploy.prom`` is rendered by ``prometheus_client``
and rewritten after every deploy and rollback with ``hostfs.atomic`` (temp file,
mode 0644, fsync, rename), so the collector never reads half a file. (Not
``write_to_textfile``: its temp file gets the umask's mode, no fsync, and a
fixed name opened without O_EXCL; the project's one atomic writer has none of
that.) The names are a contract with the monitoring alerts and the Deployment
dashboard; do not rename them:

    togather_deploy_last_timestamp_seconds
    togather_deploy_last_success                      1 | 0
    togather_deploy_active_color{color}               1 active, 0 the other
    togather_deploy_version_info{color,version}       1 per colour with a version
    togather_deploy_last_snapshot_timestamp_seconds
    togather_deploy_last_snapshot_size_bytes
    togather_deploy_events_total{event}               counted from the audit log

``render`` is pure (``prometheus_client``'s exposition of a private
``CollectorRegistry``); ``gather`` reads the inputs from their sources of truth;
``publish`` writes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from togather_deploy.config.layout import METRICS_FILE, StateLayout
from togather_deploy.config.model import COLORS, DeployConfig
from togather_deploy.db.snapshots import store as snapshots
from togather_deploy.errors import SnapshotError
from togather_deploy.hostfs import paths as host_paths
from togather_deploy.hostfs.atomic import atomic_write
from togather_deploy.ops import audit

FILENAME = METRICS_FILE
FINAL = ("completed", "failed", "rolled_back")
"""Audit outcomes that end a deploy or rollback (``last_timestamp`` / ``last_success``)."""


@dataclass(frozen=True)
class SnapshotFacts:
    path: str
    timestamp: float
    size_bytes: int


@dataclass(frozen=True)
class DeployMetrics:
    last_timestamp: float
    last_success: bool
    active_color: str
    versions: Mapping[str, str | None]
    snapshot: SnapshotFacts | None = None
    events: Mapping[str, int] = field(default_factory=dict)


def metrics_path(state_dir: str) -> str:
    return StateLayout(state_dir).metrics_file


class _Collector(Collector):
    """One scrape's worth of ``DeployMetrics`` (a custom collector: the values are facts read
    from the audit log, not counters this process increments)."""

    def __init__(self, m: DeployMetrics) -> None:
        self.m = m

    def collect(self) -> Iterator[Metric]:
        m = self.m
        yield GaugeMetricFamily("togather_deploy_last_timestamp_seconds",
                                "Unix time the last deploy or rollback finished.", value=m.last_timestamp)
        yield GaugeMetricFamily("togather_deploy_last_success",
                                "1 when the last deploy or rollback succeeded, else 0.",
                                value=1 if m.last_success else 0)
        active = GaugeMetricFamily("togather_deploy_active_color",
                                   "1 for the colour serving traffic, 0 for the other.", labels=["color"])
        versions = GaugeMetricFamily("togather_deploy_version_info",
                                     "The version each colour is configured to run.",
                                     labels=["color", "version"])
        for c in COLORS:
            active.add_metric([c], 1 if c == m.active_color else 0)
            if version := m.versions.get(c):
                versions.add_metric([c, version], 1)
        yield active
        yield versions
        if m.snapshot is not None:
            yield GaugeMetricFamily("togather_deploy_last_snapshot_timestamp_seconds",
                                    "Unix time of the newest pre-migration snapshot.",
                                    value=m.snapshot.timestamp)
            yield GaugeMetricFamily("togather_deploy_last_snapshot_size_bytes",
                                    "Size of the newest pre-migration snapshot.", value=m.snapshot.size_bytes)
        # the family is named without _total; prometheus_client appends it to the sample
        events = CounterMetricFamily("togather_deploy_events", "Deployment events recorded in the audit log.",
                                     labels=["event"])
        for e, n in sorted(m.events.items()):
            events.add_metric([e], n)
        yield events


def registry_for(m: DeployMetrics) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(m))
    return registry


def render(m: DeployMetrics) -> str:
    """The textfile in Prometheus exposition format (HELP/TYPE for every family)."""
    return generate_latest(registry_for(m)).decode("utf-8")


def latest_snapshot(snapshot_dir: str) -> SnapshotFacts | None:
    """The newest complete snapshot (``db.snapshots.store`` is the one reader of that directory)."""
    try:
        found = snapshots.latest_snapshot(snapshot_dir)
    except SnapshotError:
        return None  # an unreadable directory is reported by the snapshot tools, not here
    if found is None:
        return None
    return SnapshotFacts(found.path, found.created_at.timestamp(), found.size)


def gather(cfg: DeployConfig) -> DeployMetrics:
    """Everything from its one source of truth: the audit log (last outcome, event counts), the
    stack config (active colour, versions) and the snapshot directory. So any tool (deploy,
    rollback, ``scripts/snapshot``) can refresh the file without knowing the others' state."""
    events = audit.read_events(cfg.state_dir)
    last = next((e for e in reversed(events) if e["event"].split(".")[-1] in FINAL), None)
    counts: dict[str, int] = {}
    for e in events:
        counts[e["event"]] = counts.get(e["event"], 0) + 1
    return DeployMetrics(
        last_timestamp=float(last.get("unix") or 0) if last else 0.0,
        last_success=bool(last and last["event"].endswith(".completed")),
        active_color=cfg.active_color,
        versions={c: cfg.slot(c).version for c in COLORS},
        snapshot=latest_snapshot(cfg.snapshots.dir), events=counts)


def publish(cfg: DeployConfig) -> str:
    """Gather, render and write atomically; returns the file's path."""
    path = metrics_path(cfg.state_dir)
    host_paths.ensure_dir(os.path.dirname(path), 0o755)  # the tool's own (a planted symlink is refused)
    atomic_write(path, render(gather(cfg)), mode=0o644)  # node-exporter runs as another user
    return path
