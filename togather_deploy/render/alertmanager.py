"""Alertmanager's ``alertmanager.yml``, rendered from data by a pure function.

One route groups by ``alertname`` and ``severity`` (group_wait 30s,
group_interval 5m, repeat_interval 4h) into one receiver that posts to an ntfy
topic and/or a generic webhook, with ``send_resolved``. Alertmanager posts its
webhook JSON; ntfy turns that JSON into a readable notification with its
message templating (``?tpl=yes&t=<title>&m=<message>``, Go templates over the
posted JSON), so no relay container is needed. With neither URL configured the
receiver has no integrations: alerts stay visible in Alertmanager's UI only.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

import yaml

RECEIVER = "togather"

NTFY_TITLE = "[{{.status}}] {{.commonLabels.alertname}} ({{.commonLabels.severity}})"
NTFY_MESSAGE = ("{{range .alerts}}{{.annotations.summary}}\n{{.annotations.description}}\n\n"
                "{{end}}")


@dataclass(frozen=True)
class AlertmanagerSettings:
    """Grouping timings; the defaults are the issue's, tests shorten them."""

    group_wait: str = "30s"
    group_interval: str = "5m"
    repeat_interval: str = "4h"


def ntfy_webhook_url(topic_url: str) -> str:
    """The ntfy topic URL with the templating parameters that format Alertmanager's JSON."""
    parts = urlsplit(topic_url)
    query = urlencode({"tpl": "yes", "t": NTFY_TITLE, "m": NTFY_MESSAGE})
    joined = f"{parts.query}&{query}" if parts.query else query
    return urlunsplit((parts.scheme, parts.netloc, parts.path, joined, ""))


def alertmanager_config(ntfy_url: str | None, webhook_url: str | None,
                        settings: AlertmanagerSettings | None = None) -> dict[str, object]:
    s = settings or AlertmanagerSettings()
    hooks: list[dict[str, object]] = []
    if ntfy_url:
        hooks.append({"url": ntfy_webhook_url(ntfy_url), "send_resolved": True})
    if webhook_url:
        hooks.append({"url": webhook_url, "send_resolved": True})
    receiver: dict[str, object] = {"name": RECEIVER}
    if hooks:
        receiver["webhook_configs"] = hooks
    return {
        "route": {
            "receiver": RECEIVER,
            "group_by": ["alertname", "severity"],
            "group_wait": s.group_wait,
            "group_interval": s.group_interval,
            "repeat_interval": s.repeat_interval,
        },
        "receivers": [receiver],
    }


def render_alertmanager_config(ntfy_url: str | None, webhook_url: str | None,
                               settings: AlertmanagerSettings | None = None) -> str:
    """``alertmanager.yml`` text. The URLs may carry a secret topic: deliver it 0640."""
    header = "# Rendered by togather-deploy (render/alertmanager.py); edits are overwritten.\n"
    return header + yaml.safe_dump(alertmanager_config(ntfy_url, webhook_url, settings),
                                   sort_keys=False, width=200)
