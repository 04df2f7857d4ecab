"""``notify.urls``: extra notification targets as apprise URLs.

Any service apprise knows: ``ntfys://ntfy.sh/TOPIC``, ``slack://T…/B…/…``,
``discord://ID/TOKEN``, ``matrixs://user:pass@host/#room``, ``mailtos://…``,
``json://host/path``, ``tgram://BOT/CHAT``… (https://github.com/caronc/apprise/wiki).
Such a URL carries the service's token, so every value here is treated as a
secret whether or not the stack encrypted it: a complaint names the key and the
expected shape, never the value. Only the shape (``scheme://…``) is checked
here (this layer imports nothing that talks to a network); whether apprise
supports the scheme is checked when sending, and a target it cannot use is
reported as a failed delivery, never a failed release.
"""

from __future__ import annotations

import json
import re
from typing import Any

from togather_deploy.config import fields as f
from togather_deploy.errors import SECRET_SHOWN, ConfigError

_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+")
SHAPE = "an apprise URL like ntfys://ntfy.sh/TOPIC or slack://TOKEN_A/TOKEN_B/TOKEN_C"


def _fix(key: str) -> str:
    return (f"pulumi config set --secret --path togather:{key} '[\"ntfys://ntfy.sh/TOPIC\"]' "
            "(a JSON list of URLs; the services: https://github.com/caronc/apprise/wiki)")


def apprise_urls(key: str, value: Any) -> tuple[str, ...]:
    """A list of apprise URLs (a JSON array in stack config); empty when unset."""
    if not f.present(value) or (isinstance(value, str) and not value.strip()):
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.lstrip().startswith("[") else [value]
        except (ValueError, RecursionError):
            raise ConfigError(f"{key}: must be a list of {SHAPE}, got {SECRET_SHOWN}", key=key,
                              fix=_fix(key)) from None
    if not isinstance(value, list):
        raise ConfigError(f"{key}: must be a list of {SHAPE}, got {SECRET_SHOWN}", key=key, fix=_fix(key))
    for i, url in enumerate(value):
        if not isinstance(url, str) or not _URL.fullmatch(url.strip()):
            raise ConfigError(f"{key}[{i}]: must be {SHAPE}, got {SECRET_SHOWN}", key=f"{key}[{i}]",
                              fix=_fix(key))
    return tuple(url.strip() for url in value)
