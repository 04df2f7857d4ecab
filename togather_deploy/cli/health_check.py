"""``scripts/health-check URL --version V``: the health gate as an operator command.

URL is the base address of a slot (``http://127.0.0.1:18081``) or of the router.
Exits 0 when the target is healthy (or degraded with ``--allow-degraded``) at
version V for ``--consecutive`` rounds in a row within ``--timeout`` seconds,
4 otherwise (printing the last HTTP status, the failing checks and the version
seen), 2 on bad usage. Same logic as the ``HealthGate`` provider
(``togather_deploy.ops.health.wait_healthy``), including its respect for the server's
``/health`` rate limit.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from togather_deploy.cli import entry
from togather_deploy.errors import ExitCode, HealthError
from togather_deploy.ops.health import Probe, wait_healthy


@dataclass(frozen=True)
class HealthCheckResult:
    url: str
    version: str
    healthy: bool
    status: str | None
    version_seen: str | None
    http_status: int | None
    slot: str | None
    failing_checks: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def exit_code(self) -> int:
        return ExitCode.OK if self.healthy else ExitCode.HEALTH


def health_check(url: str, *, version: str, allow_degraded: bool = False, consecutive: int = 3,
                 timeout_s: float = 120, interval_s: float = 2) -> HealthCheckResult:
    """Run the gate once; never raises for an unhealthy target (that is the result)."""
    last: list[Probe] = []

    def remember(p: Probe) -> None:
        if p.url.endswith("/health") or not last:
            last[:] = [p]

    try:
        p = wait_healthy(url, version=version, allow_degraded=allow_degraded, consecutive=consecutive,
                         timeout_s=timeout_s, interval_s=interval_s, on_probe=remember)
    except HealthError as exc:
        seen = last[0] if last else None
        return HealthCheckResult(
            url=url, version=version, healthy=False, status=seen.status if seen else None,
            version_seen=seen.version if seen else None,
            http_status=seen.status_code if seen else None, slot=seen.slot if seen else None,
            failing_checks=dict(seen.failing_checks) if seen else {}, error=exc.message)
    return HealthCheckResult(url=url, version=version, healthy=True, status=p.status,
                             version_seen=p.version, http_status=p.status_code, slot=p.slot,
                             failing_checks=dict(p.failing_checks))


def render(out: TextIO, r: HealthCheckResult, *, as_json: bool) -> None:
    if as_json:
        out.write(json.dumps({**dataclasses.asdict(r), "exit_code": r.exit_code}, indent=2) + "\n")
        return
    verdict = "healthy" if r.healthy else "NOT healthy"
    out.write(f"{r.url}: {verdict} (status {r.status or '-'}, version {r.version_seen or '-'}, "
              f"wanted {r.version}, HTTP {r.http_status if r.http_status is not None else '-'}"
              f"{', slot ' + r.slot if r.slot else ''})\n")
    for name, check in sorted(r.failing_checks.items()):
        out.write(f"  check {name}: {check}\n")
    if r.error:
        out.write(f"  {r.error}\n")


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    from togather_deploy.cli.main import parser_for

    return parser_for("health-check", "Wait until URL (a slot's or the router's base address) is "
                      "healthy at VERSION; exit 0 when it is, 4 when it is not within the timeout.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("url", metavar="URL", help="base address, e.g. http://127.0.0.1:18081")
    p.add_argument("--version", required=True, help="the version the target must report")
    p.add_argument("--allow-degraded", action="store_true", help="accept status degraded too")
    p.add_argument("--consecutive", type=_positive(int), default=3,
                   help="good rounds in a row required (default 3)")
    p.add_argument("--timeout", type=_positive(float), default=120.0,
                   help="seconds to wait before giving up (default 120)")
    p.add_argument("--interval", type=_positive(float), default=2.0,
                   help="seconds between rounds (default 2)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """The test seam: ``togather-deploy health-check ARGV`` printing to ``out``."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return ExitCode.USAGE if exc.code not in (0, None) else ExitCode.OK
    return run(args, out)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    if not args.url.startswith(("http://", "https://")):
        (out or sys.stderr).write(f"URL must start with http:// or https://, got {args.url!r}\n")
        return ExitCode.USAGE
    result = health_check(args.url, version=args.version, allow_degraded=args.allow_degraded,
                          consecutive=args.consecutive, timeout_s=args.timeout, interval_s=args.interval)
    render(out or sys.stdout, result, as_json=args.json)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(entry.run(main))
