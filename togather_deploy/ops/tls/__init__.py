"""HTTPS certificates (issue 12): files and keys (``files``), ACME issuance (``acme_issue``),
renewal policy, expiry metric and the schedule entry (``renewal``)."""
