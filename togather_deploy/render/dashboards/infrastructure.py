"""The Infrastructure dashboard: the host's CPU, memory, disk and network (node-exporter)."""

from __future__ import annotations

from typing import Any

from togather_deploy.render.dashboards.common import dashboard, timeseries

UID = "togather-infrastructure"

# Same filter as DiskSpaceLow: real filesystems only.
FS = 'fstype!~"tmpfs|ramfs|devtmpfs|overlay|squashfs|nsfs|autofs|fuse.*",mountpoint!~"/run.*|/boot.*"'
NIC = 'device!~"lo|veth.*|docker.*|br-.*"'


def build() -> dict[str, Any]:
    panels = [
        timeseries("CPU busy", [(
            '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])))', "cpu")],
            unit="percent"),
        timeseries("Load average", [("node_load1", "1m"), ("node_load15", "15m")]),
        timeseries("Memory used", [
            ("node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes", "used"),
            ("node_memory_MemTotal_bytes", "total")], unit="bytes",
            description="HighMemoryUsage fires above 85% for 10 minutes."),
        timeseries("Disk used", [(
            f"100 * (1 - node_filesystem_avail_bytes{{{FS}}} / node_filesystem_size_bytes{{{FS}}})",
            "{{mountpoint}}")], unit="percent", description="DiskSpaceLow fires below 10% free."),
        timeseries("Disk I/O", [("rate(node_disk_read_bytes_total[5m])", "read {{device}}"),
                                ("rate(node_disk_written_bytes_total[5m])", "written {{device}}")],
                   unit="Bps"),
        timeseries("Network", [(f"rate(node_network_receive_bytes_total{{{NIC}}}[5m])", "in {{device}}"),
                               (f"rate(node_network_transmit_bytes_total{{{NIC}}}[5m])", "out {{device}}")],
                   unit="Bps", description="As node-exporter sees it: on the stack's private network "
                   "that is its own interface, not the host's NIC (that needs host networking)."),
    ]
    return dashboard(UID, "Togather / Infrastructure", panels, tags=["infrastructure"])
