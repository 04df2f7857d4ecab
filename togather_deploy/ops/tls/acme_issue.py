"""Obtain a certificate over ACME (RFC 8555) with HTTP-01 through the router.

``issue(request)`` runs one whole order with the ``acme`` package (certbot's own
library): account (created once, key ``<state_dir>/tls/account.key`` 0600;
reused after, the server answers "already exists"), order for every name,
one HTTP-01 answer per name written into the directory the router serves at
``/.well-known/acme-challenge/``, finalize with a CSR from the *kept* certificate
key (``files`` explains why the key is reused), then ``files.install``. The
challenge files are removed whatever happens.

Nothing is installed unless the whole order succeeds, so a failure keeps the
old certificate serving. A failure is an ``AcmeError`` naming the domain, the
challenge URL the CA fetched and the CA's problem document (RFC 7807), plus the
fix; the caller (``ops.tls.renewal``) audits and notifies.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

import josepy as jose
from acme import challenges, client, crypto_util, errors, messages
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from togather_deploy.errors import DeployError
from togather_deploy.hostfs.paths import make_dirs
from togather_deploy.ops.tls import files

USER_AGENT = "togather-deploy"
ORDER_TIMEOUT_S = 90
"""Whole order (validation + issuance): Let's Encrypt validates in seconds; 90 s leaves room."""


@dataclass(frozen=True)
class IssueRequest:
    directory_url: str
    domains: tuple[str, ...]
    state_dir: str
    router_dir: str
    email: str | None = None
    ca_bundle: str | None = None
    """PEM file of CAs to trust for the directory (tests: pebble's); ``None`` = system store."""
    worker_uid: int | None = files.ROUTER_WORKER_UID
    timeout_s: int = ORDER_TIMEOUT_S


@dataclass
class AcmeError(DeployError):
    """The CA refused an order or a challenge; nothing was installed."""

    problem: dict[str, Any] | None = None


def _problem(err: messages.Error | None) -> dict[str, Any]:
    if err is None:
        return {}
    doc = err.to_partial_json()
    return {k: (v.to_partial_json() if hasattr(v, "to_partial_json") else v) for k, v in doc.items()
            if k in ("type", "detail", "status", "subproblems")}


def _account_key(state_dir: str) -> jose.JWKEC:
    pem = files.ensure_key(os.path.join(files.state_tls_dir(state_dir), files.ACCOUNT_KEY))
    key = serialization.load_pem_private_key(pem, None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise DeployError("the ACME account key is not an EC key", file=files.ACCOUNT_KEY,
                          fix="move <state_dir>/tls/account.key away; a new account is made")
    return jose.JWKEC(key=key)


def _client(req: IssueRequest) -> client.ClientV2:
    net = client.ClientNetwork(_account_key(req.state_dir), alg=jose.ES256, user_agent=USER_AGENT)
    if req.ca_bundle:
        net.verify_ssl = req.ca_bundle  # type: ignore[assignment]  # requests takes a CA file here
    try:
        directory = client.ClientV2.get_directory(req.directory_url, net)
    except Exception as exc:  # noqa: BLE001 (network, TLS, JSON: all mean "no directory")
        raise AcmeError(f"cannot read the ACME directory {req.directory_url}", cause=exc,
                        fix="check tls.directoryUrl and that this host reaches it (DNS, firewall)") from None
    acme = client.ClientV2(directory, net)
    registration = messages.NewRegistration.from_data(email=req.email, terms_of_service_agreed=True)
    try:
        net.account = acme.new_account(registration)
    except errors.ConflictError as exc:  # the key already has an account: use it
        net.account = acme.query_registration(
            messages.RegistrationResource(uri=exc.location, body=messages.Registration()))
    return acme


def _challenge_url(domain: str, token: str) -> str:
    return f"http://{domain}{files.CHALLENGE_PREFIX}{token}"


def _failure(exc: errors.ValidationError) -> AcmeError:
    for authzr in exc.failed_authzrs:
        for chall in authzr.body.challenges:
            if chall.error is None:
                continue
            domain = authzr.body.identifier.value
            url = _challenge_url(domain, chall.chall.encode("token"))
            problem = _problem(chall.error)
            return AcmeError(
                f"ACME validation failed for {domain}: the CA could not fetch {url}",
                context={"domain": domain, "challenge_url": url, "problem": problem},
                problem=problem,
                fix=f"check that DNS for {domain} points at this host and that port 80 reaches the "
                    "router from the internet (firewall, CDN: let /.well-known/acme-challenge/ through)")
    return AcmeError(f"ACME validation failed: {exc}", fix="see the CA's problem document above")


def issue(req: IssueRequest) -> bytes:
    """Obtain and install a certificate for ``req.domains``; returns the PEM chain."""
    acme = _client(req)
    key_pem = files.ensure_key(os.path.join(files.state_tls_dir(req.state_dir), f"{files.CERT_NAME}.key"))
    csr = crypto_util.make_csr(key_pem, list(req.domains))
    try:
        order = acme.new_order(csr)
    except errors.Error as exc:
        problem = _problem(exc) if isinstance(exc, messages.Error) else {}
        raise AcmeError(f"the ACME server refused an order for {', '.join(req.domains)}",
                        context={"domain": req.domains[0], "problem": problem}, problem=problem,
                        fix="read the problem document: a rate limit says when to retry; a "
                            "rejected name must be removed from domain/tls.domains") from None
    webroot = files.challenge_dir(req.router_dir)
    written: list[str] = []
    try:
        make_dirs(webroot, 0o755)  # nginx's workers read the tokens, whatever the umask
        for authzr in order.authorizations:
            if authzr.body.status == messages.STATUS_VALID:
                continue  # validated by an earlier order (CAs reuse these for up to 30 days)
            chall = next((c for c in authzr.body.challenges if isinstance(c.chall, challenges.HTTP01)), None)
            if chall is None:
                raise AcmeError(f"the CA offers no HTTP-01 challenge for {authzr.body.identifier.value}",
                                fix="use tls.mode files with your own certificate")
            response, validation = chall.response_and_validation(acme.net.key)
            path = os.path.join(webroot, chall.chall.encode("token"))
            files.write_file(path, validation.encode(), mode=0o644)
            written.append(path)
            acme.answer_challenge(chall, response)
        deadline = dt.datetime.now() + dt.timedelta(seconds=req.timeout_s)
        try:
            order = acme.poll_and_finalize(order, deadline)
        except errors.ValidationError as exc:
            raise _failure(exc) from None
        except (errors.TimeoutError, errors.IssuanceError) as exc:
            raise AcmeError(f"the ACME order for {req.domains[0]} did not complete: {exc}",
                            context={"domain": req.domains[0]},
                            fix="run `cert renew` again; the old certificate keeps serving") from None
    finally:
        for path in written:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
    chain = order.fullchain_pem.encode()
    files.install(req.state_dir, req.router_dir, chain, key_pem, worker_uid=req.worker_uid)
    return chain
