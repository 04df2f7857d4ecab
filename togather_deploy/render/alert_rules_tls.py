"""The HTTPS certificate alerts (issue 12), joined into the catalogue of ``render.alert_rules``.

Both read the textfile metrics ``ops.tls.renewal`` writes after every renewal attempt:

* ``CertificateExpiresSoon``: under 14 days left. Renewal starts at 30 days and runs
  twice a day, so this means ~30 failed attempts (or no schedule at all): act now,
  browsers refuse the site when it expires. ``for: 1h`` lets a renewal in progress land.
* ``CertificateRenewalFailed``: the last attempt failed (the old certificate still
  serves). ``for: 5m`` only absorbs a scrape race with the file being rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping

EXPIRES_SOON_DAYS = 14

TLS_DURATIONS: Mapping[str, str] = {
    "CertificateExpiresSoon": "1h",
    "CertificateRenewalFailed": "5m",
}


def tls_rules() -> tuple[tuple[str, str, str, str, str], ...]:
    """(name, expr, severity, summary, description) per alert."""
    return (
        ("CertificateExpiresSoon",
         f"togather_tls_certificate_expiry_timestamp_seconds - time() < {EXPIRES_SOON_DAYS * 86400}",
         "critical", "The HTTPS certificate for {{ $labels.domain }} expires in under "
         f"{EXPIRES_SOON_DAYS} days",
         "It expires in {{ $value | humanizeDuration }}; renewal should have replaced it 30 days "
         "before. Run `scripts/cert status STACK` and `scripts/cert renew STACK` by hand: the error "
         "names the domain, the challenge URL the CA tried and its problem document. Check DNS and "
         "that port 80 reaches the router (/.well-known/acme-challenge/)."),
        ("CertificateRenewalFailed",
         "togather_tls_renewal_last_success == 0",
         "warning", "The last HTTPS certificate renewal failed",
         "The current certificate keeps serving. The audit log (<stateDir>/audit.log, event "
         "certificate.renewal_failed) holds the CA's problem document; fix the cause (DNS, port 80, "
         "a CDN swallowing /.well-known/acme-challenge/, a rate limit) and run `scripts/cert renew STACK`."),
    )
