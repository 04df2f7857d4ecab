"""The safety policies, each a plain validator ``(args, report_violation) -> None``.

Every policy is mandatory: a violation fails ``pulumi preview``/``up`` before
anything changes. The messages name the resource, the property and the fix, and
never print a value (it may be a secret).
"""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from policy.props import env, is_loopback, known, known_items, labels, reveal
from togather_deploy.config.image_ref import RELEASE_ALLOWED, reference_pinned, release_version_pinned

CONTAINER = "docker:index/container:Container"
VOLUME = "docker:index/volume:Volume"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
IMAGE = "docker:index/image:Image"
ROUTER_ROLE = "router"
APP_ROLE = "app"
APP_SLOT_TYPE = "togather:deploy:AppSlot"
"""``togather.role`` label of the one container allowed to listen publicly
(``togather_deploy/render/containers.py``)."""
DATABASE_VOLUME_ROLE = "database-data"
SECRET_NAME = re.compile(r"^(DATABASE_URL|DATA_SOURCE_NAME|.*_(PASSWORD|SECRET|KEY|TOKEN|DSN))$")
URL_WITH_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^@\s/]+@")
TRUTHY = {"true", "1", "yes", "on"}


def loopback_ports_only(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Only the router publishes a port on a non-loopback address."""
    if args.resource_type != CONTAINER or labels(args.props).get("togather.role") == ROUTER_ROLE:
        return
    for port in known_items(known(args.props, "ports", [])):
        port = reveal(port)
        ip = str(reveal(known(port, "ip", "0.0.0.0")) or "0.0.0.0")  # noqa: S104 - docker's default
        if not is_loopback(ip):
            report_violation(
                f"{args.name}: port {reveal(known(port, 'internal', '?'))} is published on {ip}; "
                "only the router (label togather.role=router) may listen publicly. "
                "Bind it to 127.0.0.1.", None)


def image_reference_pinned(ref: str) -> bool:
    """A valid reference with a digest or a non-moving tag, or an image id (``sha256:...``)."""
    return reference_pinned(ref)


def pinned_images(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every image names a version: no ``latest``, no missing tag; the app runs an exact release."""
    key = {CONTAINER: "image", REMOTE_IMAGE: "name", IMAGE: "imageName"}.get(args.resource_type)
    if key is None:
        return
    ref = reveal(known(args.props, key))
    if not isinstance(ref, str) or not ref:
        return
    if not image_reference_pinned(ref):
        report_violation(f"{args.name}: image {ref!r} is not pinned; use a version tag like "
                         "postgis/postgis:16-3.4 (never latest) or a digest.", None)
    elif _is_app(args) and not ref.startswith("sha256:"):  # an image id says nothing of a tag
        tag = "" if "@" in ref else ref.rpartition("/")[2].partition(":")[2]
        if not release_version_pinned(tag):
            report_violation(f"{args.name}: image {ref!r}: the app's version must be "
                             f"{RELEASE_ALLOWED}.", None)


def _is_app(args: ResourceValidationArgs) -> bool:
    """The app's image or container: a child of an ``AppSlot``, or labelled ``togather.role=app``."""
    if f"{APP_SLOT_TYPE}$" in args.urn:
        return True
    return args.resource_type == CONTAINER and labels(args.props).get("togather.role") == APP_ROLE


def protected_database_volume(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """The database volume is ``protect``-ed, so no update or destroy can delete the data."""
    if args.resource_type != VOLUME:
        return
    name = str(reveal(known(args.props, "name", "")) or "")
    is_db = labels(args.props).get("togather.role") == DATABASE_VOLUME_ROLE or name.endswith("-pgdata")
    if is_db and not args.opts.protect:
        report_violation(f"{args.name}: the database volume is not protected; create it with "
                         "ResourceOptions(protect=True, retain_on_delete=True).", None)


def memory_limit(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every container has a memory limit, so one runaway process cannot starve the host."""
    if args.resource_type != CONTAINER:
        return
    memory = reveal(known(args.props, "memory", 0))
    if not isinstance(memory, int | float) or memory <= 0:
        report_violation(f"{args.name}: no memory limit; set `memory` (MB) in its ContainerSpec.", None)


def grafana_anonymous_off(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Grafana never serves dashboards to anonymous visitors."""
    if args.resource_type != CONTAINER:
        return
    for name, value, _secret in env(args.props):
        if name == "GF_AUTH_ANONYMOUS_ENABLED" and value.strip().lower() in TRUTHY:
            report_violation(f"{args.name}: GF_AUTH_ANONYMOUS_ENABLED is on; set it to false.", None)


def secret_env_values(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Env vars that look like secrets (``*_PASSWORD``, ``*_SECRET``, ``*_KEY``, ``*_TOKEN``,
    ``DATABASE_URL``, DSNs, any URL with a password) carry Pulumi secrets, so they are
    encrypted in state and hidden in diffs."""
    if args.resource_type != CONTAINER:
        return
    for name, value, secret in env(args.props):
        looks_secret = bool(SECRET_NAME.match(name) or URL_WITH_PASSWORD.search(value))
        if looks_secret and value and not secret:
            report_violation(
                f"{args.name}: {name} is set in plain text; pass it as a Pulumi secret "
                f"(pulumi config set --secret ..., or pulumi.Output.secret(...)).", None)


def _policy(name: str, validate: Any) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(name=name, description=(validate.__doc__ or "").strip(),
                                    validate=validate, enforcement_level=EnforcementLevel.MANDATORY)


def policies() -> list[ResourceValidationPolicy]:
    """All policies of the pack, mandatory."""
    return [
        _policy("loopback-ports-only", loopback_ports_only),
        _policy("pinned-images", pinned_images),
        _policy("protected-database-volume", protected_database_volume),
        _policy("container-memory-limit", memory_limit),
        _policy("grafana-no-anonymous-access", grafana_anonymous_off),
        _policy("secret-env-values", secret_env_values),
    ]
