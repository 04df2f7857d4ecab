"""The router's ``router.js`` (njs), rendered as pure text from the config directory nginx sees.

It answers two questions, each by reading one small file of that directory
(njs ``fs.readFileSync``; the writers replace files atomically by rename, so a read sees
the old file or the new one, never a torn write):

- ``activeColor``/``idleColor``: the one-word ``active_color`` file (``blue``/``green``;
  anything else or no file: ``''``, and the router answers 503 rather than guess);
- ``maintenanceMessage``: the ``maintenance`` file's text (at most 500 characters, HTML-escaped), or
  ``Back shortly.`` when it is empty or absent.
"""

from __future__ import annotations

from togather_deploy.config.model import COLORS

ACTIVE_FILE = "active_color"
MAINTENANCE_FILE = "maintenance"
"""Present: the public listener serves the maintenance page; its text is the message."""
MAINTENANCE_DEFAULT_MESSAGE = "Back shortly."
MAINTENANCE_MAX_CHARS = 500


def render(conf_dir: str) -> str:
    """The whole ``router.js`` for a router whose files nginx sees in ``conf_dir``."""
    path = f"{conf_dir.rstrip('/')}/{ACTIVE_FILE}"
    flag = f"{conf_dir.rstrip('/')}/{MAINTENANCE_FILE}"
    colors = ", ".join(f"'{c}'" for c in COLORS)
    return f"""// Rendered by togather-deploy (togather_deploy/render/router_js.py). Do not edit.
import fs from 'fs';

const COLORS = [{colors}];

// Read per request: the switch replaces the file atomically (rename), so a
// request sees the old colour or the new one, never a torn write.
function activeColor(r) {{
    try {{
        const c = fs.readFileSync('{path}', 'utf8').trim();
        return COLORS.indexOf(c) >= 0 ? c : '';
    }} catch (e) {{
        return '';
    }}
}}

function idleColor(r) {{
    const c = activeColor(r);
    return c === '' ? '' : (c === COLORS[0] ? COLORS[1] : COLORS[0]);
}}

// Maintenance: the file's presence is the switch (nginx tests it: `if (-f ...)`), its text
// the message (HTML-escaped here; {MAINTENANCE_MAX_CHARS} characters at most), read when the page is served.
function maintenanceText() {{
    try {{
        return fs.readFileSync('{flag}', 'utf8').trim().slice(0, {MAINTENANCE_MAX_CHARS});
    }} catch (e) {{
        return null;
    }}
}}

function maintenanceMessage(r) {{
    const m = maintenanceText() || '{MAINTENANCE_DEFAULT_MESSAGE}';
    return m.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
            .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}}

export default {{activeColor, idleColor, maintenanceMessage}};
"""
