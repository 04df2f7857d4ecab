"""``scripts/cert renew|status STACK``: the stack's HTTPS certificate (``tls.mode`` acme).

    scripts/cert status STACK [--json]
    scripts/cert renew  STACK [--force] [--ca-bundle FILE] [--json]

``renew`` obtains a new certificate when fewer than 30 days are left (or the
names changed, or there is none; ``--force``: always) and installs it where the
router reads it per handshake: no reload, no failed request. It is what the host
schedule runs twice a day (``render.schedule.cert_jobs``). A failure keeps the
current certificate, is audited and notified, and exits 1 naming the domain, the
challenge URL the CA tried and its problem document.

Exit codes: 0 ok (renewed or not due), 1 ACME failure, 2 usage, 10 bad config.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from togather_deploy.cli import args, entry
from togather_deploy.cli.render import print_json, verb_failed
from togather_deploy.config.source import from_stack_file
from togather_deploy.errors import ConfigError, DeployError
from togather_deploy.ops.tls import renewal


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="togather-deploy cert", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="verb", required=True)
    st = sub.add_parser("status", help="the served certificate: names, expiry, renewal due")
    args.add_stack(st)
    args.add_output(st)
    rn = sub.add_parser("renew", help="renew now if due (what the schedule runs)")
    args.add_stack(rn)
    args.add_output(rn)
    rn.add_argument("--force", action="store_true", help="renew even when not due")
    rn.add_argument("--ca-bundle", help="PEM file of CAs to trust for the ACME directory "
                                        "(a private or test CA; default: the system's)")
    return p


def _show(out: TextIO, s: renewal.CertStatus) -> None:
    out.write(f"names:     {', '.join(s.served_names) or '-'} (configured: {', '.join(s.domains)})\n")
    out.write(f"expires:   {s.not_after or '-'}\n")
    out.write(f"renewal:   {'DUE' if s.due else 'not due'} ({s.reason})\n")


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    ns = args.parse(build_parser(), argv)
    if isinstance(ns, int):
        return ns
    try:
        cfg = from_stack_file(os.path.abspath(ns.project_dir), ns.stack)
        if not cfg.tls.enabled:
            raise ConfigError(f"{ns.stack}: tls.mode is off, there is no certificate", key="tls.mode",
                              fix=f"pulumi config set --path togather:tls.mode acme --stack {ns.stack}")
        if ns.verb == "status":
            result = renewal.status(cfg)
            if ns.json:
                print_json(out, result)
            else:
                _show(out, result)
            return 0
        outcome = renewal.renew(cfg, force=ns.force, ca_bundle=ns.ca_bundle)
    except DeployError as exc:
        return verb_failed(out, err, f"cert {ns.verb}", exc, as_json=ns.json)
    if ns.json:
        print_json(out, outcome)
    else:
        out.write(f"{'renewed' if outcome.renewed else 'not renewed'} on {cfg.stack}\n")
        _show(out, outcome.status)
    return 0


if __name__ == "__main__":
    sys.exit(entry.run(main))
