"""The router's ``router.js`` (njs), rendered as pure text from the config directory nginx sees.

Since 2026-12-03 it answers one question per request, and only on the maintenance page:

- ``maintenanceMessage``: the ``maintenance`` file's text (at most 500 characters, HTML-escaped), or
  ``Back shortly.`` when it is empty or absent (njs ``fs.readFileSync``; the writers replace
  files atomically by rename, so a read sees the old file or the new one, never a torn write).

The colour is no longer chosen here: nginx tests ``active_color``'s mode bit itself
(``render.active_file``: an njs read per request cost ~20 % of the router's CPU).
``activeColor``/``idleColor`` still read the file's word for a router whose nginx.conf
predates that (``RouterConfig`` renames router.js before nginx.conf, and an nginx still
running the old config keeps calling them until its reload): nothing new uses them.
"""

from __future__ import annotations

from togather_deploy.config.model import COLORS
from togather_deploy.render.active_file import ACTIVE_FILE

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

// For an nginx.conf rendered before 2026-12-03 only: nginx now tests the file's mode
// bit (togather_deploy/render/active_file.py). The word and the bit always agree.
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
