"""``Certificate``: the router's HTTPS certificate exists and covers the stack's names.

Contract
- Inputs: ``CertificateInputs`` (``components.providers.inputs``). ``mode`` acme
  obtains one over ACME (``togather_deploy.ops.tls.renewal``/``acme_issue``);
  ``files`` installs the operator's ``certificate``/``key`` (secrets: never in an
  error, never in the outputs, only their SHA-256 is recorded).
- ``check``/``diff``: pure (no disk, no network; preview runs them). ``diff`` is
  an update when the names, the mode, the directory URL or the given files change;
  never a replace.
- ``create``/``update``: idempotent. acme: a kept certificate that covers every
  name and has more than 30 days left is adopted as it is (a re-run, or an
  interrupted update, never orders twice) unless ``directory_url`` changed (a staging
  certificate is not kept for production); otherwise one ACME order through the
  router's port 80, so the router container must run first (the component
  orders it). A failure leaves the served certificate untouched and fails the
  update with the domain, the challenge URL and the CA's problem document.
  files: the pair is installed atomically (same files nginx reads per handshake).
- Outputs: the names served and the expiry (changes on renewal outside Pulumi:
  the outputs are what the last ``pulumi up`` saw; ``scripts/cert status`` is live).
- ``read`` (a refresh targeted at the resource) records the ``names`` and ``not_after``
  of the pair the router reads now (``<router_dir>/tls``); an empty ``not_after`` when
  either file is lost or the certificate does not parse. It never writes. ``diff`` then
  sees "nothing served" and the next ``update`` installs the kept (acme) or given (files)
  pair again, ordering only when no kept certificate still covers the names.
- ``delete``: does nothing. Certificates and keys stay in the state dir: removing
  them would break HTTPS, and a later stack would have to order (and be rate
  limited) again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from components.providers import inputs as provider_inputs
from components.providers.failures import operator_errors
from togather_deploy.config.model import DeployConfig
from togather_deploy.errors import DeployError
from togather_deploy.ops.tls import acme_issue, files, renewal
from togather_deploy.render.nginx_tls import CERT_NAME

KEYS = ("mode", "domains", "directory_url", "email", "state_dir", "router_dir", "files_sha256")


@dataclass(frozen=True)
class CertificateInputs:
    mode: str
    """``acme`` or ``files``."""
    domains: tuple[str, ...]
    directory_url: str
    state_dir: str
    router_dir: str
    email: str | None = None
    certificate: str | None = field(default=None, metadata=provider_inputs.SECRET)
    key: str | None = field(default=None, metadata=provider_inputs.SECRET)
    worker_uid: int | None = files.ROUTER_WORKER_UID
    ca_bundle: str | None = None
    """CA file for the ACME directory (a private CA, pebble in tests); ``None``: the system's."""

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> CertificateInputs:
        return provider_inputs.parse(cls, props)

    @property
    def files_sha256(self) -> str:
        """Fingerprint of the given pair (``files``), "" for acme: a changed file is an update."""
        if self.mode != "files":
            return ""
        return hashlib.sha256(f"{self.certificate}\0{self.key}".encode()).hexdigest()


def _recorded(i: CertificateInputs) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k in KEYS if (v := getattr(i, k)) is not None}


def ensure(props: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Make the certificate exist; returns the outputs. A certificate from another CA
    (``directory_url`` changed since ``olds``, e.g. Let's Encrypt staging → production) is
    never adopted."""
    i = CertificateInputs.from_props(props)
    other_ca = olds is not None and olds.get("directory_url") not in (None, i.directory_url)
    if i.mode == "files":
        assert i.certificate is not None and i.key is not None  # config requires both
        files.install(i.state_dir, i.router_dir, i.certificate.encode(), i.key.encode(),
                      worker_uid=i.worker_uid)
    else:
        pair = files.current(i.state_dir)
        covered = pair is not None and set(i.domains) <= set(files.names(pair[0]))
        left = (files.not_after(pair[0]) - _now()).days if pair is not None else 0
        if not covered or left < renewal.RENEW_BEFORE_DAYS or other_ca:
            acme_issue.issue(acme_issue.IssueRequest(
                directory_url=i.directory_url, domains=i.domains, state_dir=i.state_dir,
                router_dir=i.router_dir, email=i.email, ca_bundle=i.ca_bundle, worker_uid=i.worker_uid))
        elif pair is not None:  # adopted: make sure the router has the kept pair too
            files.install(i.state_dir, i.router_dir, pair[0], pair[1], worker_uid=i.worker_uid)
    served = files.current(i.state_dir)
    assert served is not None
    # the expiry metric exists from the first `pulumi up`, before any scheduled renewal ran
    renewal.write_metrics(i.state_dir, not_after=files.not_after(served[0]), domain=i.domains[0],
                          success=True, now=time.time())
    return {**_recorded(i), "names": list(files.names(served[0])),
            "not_after": files.not_after(served[0]).isoformat()}


def served(router_dir: str) -> dict[str, Any]:
    """Names and expiry of the pair the router's nginx reads; no expiry ("") when there is none."""
    d = files.router_cert_dir(router_dir)
    try:
        cert = files.read_bytes(os.path.join(d, f"{CERT_NAME}.crt"))
        if cert is not None and files.read_bytes(os.path.join(d, f"{CERT_NAME}.key")) is not None:
            return {"names": list(files.names(cert)), "not_after": files.not_after(cert).isoformat()}
    except (OSError, ValueError, IndexError, DeployError):
        pass  # unreadable, or not a certificate: nginx could not load it either
    return {"names": [], "not_after": ""}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@operator_errors
class CertificateProvider(ResourceProvider):
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = provider_inputs.check_failures(CertificateInputs, news)
        if failures:
            return CheckResult(news, failures)
        return CheckResult(provider_inputs.props(CertificateInputs.from_props(news)), [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        new = CertificateInputs.from_props(news)
        changed = [k for k in KEYS if provider_inputs.is_unknown(getattr(new, k, None))
                   or _recorded(new).get(k) != olds.get(k)]
        if olds.get("not_after") == "":  # a refresh found nothing the router can serve
            changed.append("not_after")
        return DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("certificate", outs=ensure(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=ensure(news, olds))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        router_dir = props.get("router_dir")
        if not isinstance(router_dir, str) or "names" not in props:
            return ReadResult(id_, props)  # nothing recorded to compare
        return ReadResult(id_, {**props, **served(router_dir)})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # never removes a certificate (see the contract)


def certificate_props(cfg: DeployConfig, secrets: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The resource's inputs from the stack config (``secrets``: Outputs of the files pair)."""
    props: dict[str, Any] = {
        "mode": cfg.tls.mode, "domains": list(cfg.tls.domains), "directory_url": cfg.tls.directory_url,
        "state_dir": cfg.state_dir, "router_dir": cfg.router_dir, "email": cfg.tls.email,
    }
    if cfg.tls.mode == "files":
        props["certificate"] = pulumi.Output.secret(cfg.tls.certificate)
        props["key"] = pulumi.Output.secret(cfg.tls.key)
    return {**props, **(secrets or {})}


class Certificate(Resource):
    """The HTTPS certificate in ``cfg.state_dir`` and the router's ``tls/`` directory."""

    names: pulumi.Output[list[str]]
    not_after: pulumi.Output[str]

    def __init__(self, name: str, props: Mapping[str, Any],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(CertificateProvider(), name, {**props, "names": None, "not_after": None}, opts)
