"""The deploy tooling's own metrics, for node-exporter's textfile collector.

``<state_dir>/metrics/togather_deploy.prom`` is rewritten after every deploy
and rollback, atomically (temp file, fsync, rename), so the collector never
reads half a file. The names are a contract with the monitoring alerts and the
Deployment dashboard; do not rename them:

    togather_deploy_last_timestamp_seconds
    togather_deploy_last_success                      1 | 0
    togather_deploy_active_color{color}               1 active, 0 the other
    togather_deploy_version_info{color,version}       1 per colour with a version
    togather_deploy_last_snapshot_timestamp_seconds
    togather_deploy_last_snapshot_size_bytes
    togather_deploy_events_total{event}               counted from the audit log

``render`` is pure; ``gather`` reads the inputs from their sources of truth;
``publish`` writes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field

from togather_deploy.config.layout import METRICS_FILE, StateLayout
from togather_deploy.config.model import COLORS, DeployConfig
from togather_deploy.db.snapshots import store as snapshots
from togather_deploy.errors import SnapshotError
from togather_deploy.hostfs import paths as host_paths
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


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def render(m: DeployMetrics) -> str:
    """The textfile in Prometheus exposition format (HELP/TYPE for every family)."""
    out: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")
        out.extend(f"{name}{labels} {_num(v)}" for labels, v in samples)

    family("togather_deploy_last_timestamp_seconds", "gauge",
           "Unix time the last deploy or rollback finished.", [("", m.last_timestamp)])
    family("togather_deploy_last_success", "gauge",
           "1 when the last deploy or rollback succeeded, else 0.", [("", 1 if m.last_success else 0)])
    family("togather_deploy_active_color", "gauge", "1 for the colour serving traffic, 0 for the other.",
           [(f'{{color="{c}"}}', 1 if c == m.active_color else 0) for c in COLORS])
    family("togather_deploy_version_info", "gauge", "The version each colour is configured to run.",
           [(f'{{color="{c}",version="{_label(v)}"}}', 1)
            for c in COLORS if (v := m.versions.get(c))])
    if m.snapshot is not None:
        family("togather_deploy_last_snapshot_timestamp_seconds", "gauge",
               "Unix time of the newest pre-migration snapshot.", [("", m.snapshot.timestamp)])
        family("togather_deploy_last_snapshot_size_bytes", "gauge",
               "Size of the newest pre-migration snapshot.", [("", m.snapshot.size_bytes)])
    family("togather_deploy_events_total", "counter", "Deployment events recorded in the audit log.",
           [(f'{{event="{_label(e)}"}}', n) for e, n in sorted(m.events.items())])
    return "\n".join(out) + "\n"


def latest_snapshot(snapshot_dir: str) -> SnapshotFacts | None:
    """The newest complete snapshot (``db.snapshots.store`` is the one reader of that directory)."""
    try:
        found = snapshots.latest_snapshot(snapshot_dir)
    except SnapshotError:
        return None  # an unreadable directory is reported by the snapshot tools, not here
    if found is None:
        return None
    return SnapshotFacts(found.path, found.created_at.timestamp(), found.size)


def write_atomic(path: str, text: str) -> None:
    """Temp file in the same directory, fsync, rename: readers see old or new, never half."""
    directory = os.path.dirname(path)
    host_paths.ensure_dir(directory, 0o755)  # the tool's own (a planted symlink is refused)
    # mkstemp: O_EXCL|O_NOFOLLOW; the rename replaces whatever is at ``path`` without following it
    fd, tmp = tempfile.mkstemp(prefix=".togather_deploy.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fchmod(fh.fileno(), 0o644)  # node-exporter runs as another user
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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
    write_atomic(path, render(gather(cfg)))
    return path
