"""When to renew, the renewal itself (audit, notify, metric); the schedule is cron's.

* ``due``: a certificate is renewed when fewer than ``RENEW_BEFORE_DAYS`` (30) days
  are left, when it does not cover every configured name, or when there is none.
  Let's Encrypt certificates last 90 days (shorter ones are coming), so 30 days
  leaves ~20 twice-daily retries before ``CertificateExpiresSoon`` (< 14 d) pages.
* ``renew``: one ACME order (``acme_issue``) when due. Success or failure is
  appended to the audit log (``certificate.renewed`` / ``certificate.renewal_failed``),
  a failure notifies (``cfg.notify``) and re-raises the ``AcmeError``; the old
  certificate is never touched by a failure.
* ``write_metrics``: ``<state_dir>/metrics/togather_tls.prom`` for node-exporter's
  textfile collector, its own file so the deploy metrics writer never clobbers it:

      togather_tls_certificate_expiry_timestamp_seconds{domain}   notAfter of the served cert
      togather_tls_renewal_last_success                            1 | 0 (last attempt)
      togather_tls_renewal_last_timestamp_seconds                  last attempt

* the host's cron runs ``cert renew`` twice a day (``render.schedule.cert_jobs``).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from togather_deploy.config.model import DeployConfig
from togather_deploy.hostfs.paths import make_dirs
from togather_deploy.ops import audit, notify
from togather_deploy.ops.tls import acme_issue, files

RENEW_BEFORE_DAYS = 30
METRICS_FILE = "togather_tls.prom"


@dataclass(frozen=True)
class CertStatus:
    domains: tuple[str, ...]
    """Configured names."""
    served_names: tuple[str, ...]
    not_after: str | None
    days_left: float | None
    due: bool
    reason: str


@dataclass(frozen=True)
class RenewResult:
    stack: str
    renewed: bool
    status: CertStatus


def status(cfg: DeployConfig, *, now: dt.datetime | None = None) -> CertStatus:
    now = now or dt.datetime.now(dt.UTC)
    pair = files.current(cfg.state_dir)
    if pair is None:
        return CertStatus(cfg.tls.domains, (), None, None, True, "no certificate yet")
    expiry = files.not_after(pair[0])
    served = files.names(pair[0])
    left = (expiry - now).total_seconds() / 86400
    missing = [d for d in cfg.tls.domains if d not in served]
    if missing:
        reason, due = f"not covering {', '.join(missing)}", True
    elif left < RENEW_BEFORE_DAYS:
        reason, due = f"{left:.1f} days left (< {RENEW_BEFORE_DAYS})", True
    else:
        reason, due = f"{left:.1f} days left", False
    return CertStatus(cfg.tls.domains, served, expiry.isoformat(), round(left, 2), due, reason)


def write_metrics(state_dir: str, *, not_after: dt.datetime | None, domain: str, success: bool,
                  now: float) -> str:
    lines = ["# HELP togather_tls_renewal_last_success 1 if the last certificate renewal attempt worked.",
             "# TYPE togather_tls_renewal_last_success gauge",
             f"togather_tls_renewal_last_success {1 if success else 0}",
             "# HELP togather_tls_renewal_last_timestamp_seconds When the last renewal attempt ran.",
             "# TYPE togather_tls_renewal_last_timestamp_seconds gauge",
             f"togather_tls_renewal_last_timestamp_seconds {now:.0f}"]
    if not_after is not None:
        lines += ["# HELP togather_tls_certificate_expiry_timestamp_seconds notAfter of the served cert.",
                  "# TYPE togather_tls_certificate_expiry_timestamp_seconds gauge",
                  f'togather_tls_certificate_expiry_timestamp_seconds{{domain="{domain}"}} '
                  f"{not_after.timestamp():.0f}"]
    directory = os.path.join(state_dir, "metrics")
    make_dirs(directory, 0o755)
    path = os.path.join(directory, METRICS_FILE)
    files.write_file(path, ("\n".join(lines) + "\n").encode(), mode=0o644)
    return path


def _event(kind: str, cfg: DeployConfig, **extra: object) -> dict[str, object]:
    now = time.time()
    return {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)), "unix": round(now, 3),
            "event": kind, "stack": cfg.stack, "domains": list(cfg.tls.domains), **extra}


def renew(cfg: DeployConfig, *, force: bool = False, ca_bundle: str | None = None,
          worker_uid: int | None = files.ROUTER_WORKER_UID,
          send: Callable[..., object] = notify.send) -> RenewResult:
    """Renew when due (or ``force``); raises ``AcmeError`` after auditing and notifying."""
    before = status(cfg)
    if cfg.tls.mode != "acme" or not (before.due or force):
        _refresh_metrics(cfg, success=True)
        return RenewResult(cfg.stack, False, before)
    request = acme_issue.IssueRequest(
        directory_url=cfg.tls.directory_url, domains=cfg.tls.domains, state_dir=cfg.state_dir,
        router_dir=cfg.router_dir, email=cfg.tls.email, ca_bundle=ca_bundle, worker_uid=worker_uid)
    try:
        acme_issue.issue(request)
    except acme_issue.AcmeError as exc:
        event = _event("certificate.renewal_failed", cfg, error=exc.message,
                       challenge_url=exc.context.get("challenge_url"), problem=exc.problem,
                       kept=before.not_after)
        audit.append(cfg.state_dir, event)
        _refresh_metrics(cfg, success=False)
        send(cfg.notify, notify.Notification(
            title=f"{cfg.stack}: HTTPS certificate renewal failed",
            message=f"{exc.message}. The current certificate keeps serving "
                    f"(expires {before.not_after or 'n/a'}). Fix: {exc.fix}",
            event=event, priority=4, tags=("warning", "lock")))
        raise
    after = status(cfg)
    audit.append(cfg.state_dir, _event("certificate.renewed", cfg, not_after=after.not_after,
                                       previous=before.not_after))
    _refresh_metrics(cfg, success=True)
    return RenewResult(cfg.stack, True, after)


def _refresh_metrics(cfg: DeployConfig, *, success: bool) -> None:
    pair = files.current(cfg.state_dir)
    write_metrics(cfg.state_dir, not_after=files.not_after(pair[0]) if pair else None,
                  domain=cfg.tls.domains[0] if cfg.tls.domains else cfg.domain, success=success,
                  now=time.time())
