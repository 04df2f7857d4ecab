"""Image references and release versions: one grammar, one "pinned" rule, used everywhere.

The grammar is the registry's (distribution's ``reference`` package): an optional
domain, lower-case path components, an optional tag ``[\\w][\\w.-]{0,127}`` and an
optional digest. Anything else (``-v=/:/host:rw``, a newline, a space) is refused,
so an image from config can never be read as a ``docker`` flag.

"Pinned" is the policy pack's rule (``policy/rules.py`` imports it from here): a
digest, or a tag that is not a moving one (``latest``, ``stable``...). The app's
release version is stricter (``release_version_pinned``): an exact release
(``v1.4.0``, ``1.4.0-rc.1``) or a commit id, never ``1.5``, which moves with every
patch release. ``scripts/deploy`` and the pack apply that same function.
"""

from __future__ import annotations

import re

from togather_deploy.errors import ConfigError, invalid

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?"
NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"  # distribution's [\w][\w.-]{0,127} (RE2: ASCII)
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
REFERENCE = re.compile(rf"(?P<name>{NAME})(?::(?P<tag>{TAG}))?(?:@(?P<digest>{_DIGEST}))?", re.ASCII)
MOVING_TAGS = frozenset({"latest", "stable", "edge", "main", "master", "nightly", "dev", "mainline"})
# An exact release (semver, optionally v-prefixed, with pre-release/build) or a commit id.
_RELEASE = re.compile(r"v?(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)"
                      r"(?:-[0-9A-Za-z.-]+)?(?:_[0-9A-Za-z.-]+)?|[0-9a-f]{7,40}", re.ASCII)
_MAX_NAME = 255


def valid_reference(ref: str) -> bool:
    m = REFERENCE.fullmatch(ref)
    return m is not None and len(m.group("name")) <= _MAX_NAME


def tag_pinned(tag: str | None) -> bool:
    return bool(tag) and re.fullmatch(TAG, tag or "", re.ASCII) is not None \
        and (tag or "").lower() not in MOVING_TAGS


def reference_pinned(ref: str) -> bool:
    """A valid reference with a digest or a non-moving tag, or an image id (``sha256:...``)."""
    if ref.startswith("sha256:"):  # an image id (the engine's RemoteImage.image_id), not typed
        return True
    m = REFERENCE.fullmatch(ref)
    if m is None:
        return False
    return bool(m.group("digest")) or tag_pinned(m.group("tag"))


def release_version_pinned(version: str) -> bool:
    """The app's release version: an exact release or a commit id (see module docstring)."""
    return tag_pinned(version) and _RELEASE.fullmatch(version) is not None


RELEASE_ALLOWED = "an exact release tag like v1.4.0 (not latest, not 1.5) or a commit id"


def check_release_version(key: str, version: str) -> str:
    if not release_version_pinned(version):
        raise ConfigError(f"{key}: must be {RELEASE_ALLOWED}, got {version!r}", key=key,
                          fix="name the exact release you built, e.g. v1.5.0")
    return version


def check_image(key: str, image: str, *, pinned: bool = True) -> str:
    """``image`` if it is a valid reference (pinned, unless told otherwise), else a
    ``ConfigError`` naming ``key``."""
    allowed = ("an image pinned by tag or digest, like postgis/postgis:16-3.4 (not latest)"
               if pinned else "an image reference like ghcr.io/org/server")
    ok = reference_pinned(image) if pinned else valid_reference(image)
    if not ok or image.startswith("sha256:"):
        raise invalid(key, image, allowed)
    return image


def check_repository(key: str, name: str) -> str:
    """A repository without tag or digest (the app's ``image``: the version is the tag)."""
    if not re.fullmatch(NAME, name, re.ASCII) or len(name) > _MAX_NAME:
        raise invalid(key, name, "an image repository without a tag, like ghcr.io/org/server")
    return name
