"""The router's nginx.conf and router.js, rendered as pure text from ``RouterParams``.

How a colour flip works without a reload: ``js_set`` runs ``router.js`` per
request, which reads the one-word ``active_color`` file in the config directory
(njs ``fs.readFileSync``: one small read, no cache needed). ``proxy_pass`` takes
``http://$togather_upstream``, a variable, so:

* the slot's name is resolved at request time through ``resolver`` (Docker's
  embedded DNS): a replaced idle container (new IP) needs no reload;
* nginx builds an implicit upstream with no keep-alive pool, so no proxy
  connection is ever shared across colours: after a flip nothing reaches the old
  colour except requests already in flight, which finish normally. The price is
  one upstream connection per request: measured on the 2-core test machine,
  ~11.8k req/s through nginx vs ~55k with a pooled upstream (trivial upstream),
  far above what one node serves.

Nothing here depends on the active colour, so a flip never changes this text.

Maintenance works the same way: ``router.js`` also reads the ``maintenance`` file
of that directory per request on the public listener (present: the 503 page with
the file's text as the message, health paths still proxied; absent: normal
service). ``scripts/maintenance`` and ``RouterConfig`` (from ``router.maintenance``)
write or remove it; the rendered text does not depend on ``maintenance`` either,
so turning it on or off needs neither a ``pulumi up`` nor a reload.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from togather_deploy.config.model import COLORS, DeployConfig
from togather_deploy.render import router_js
from togather_deploy.render import nginx_tls
from togather_deploy.render.containers import (
    APP_PORT,
    ROUTER_CONF_DIR,
    ROUTER_PREVIEW_PORT,
    ROUTER_PUBLIC_PORT,
    app_alias,
)

ACTIVE_FILE = router_js.ACTIVE_FILE
MAINTENANCE_FILE = router_js.MAINTENANCE_FILE
CONF_FILE = "nginx.conf"
JS_FILE = "router.js"
DOCKER_DNS = "127.0.0.11"
HEALTH_PATHS = ("/health", "/healthz", "/readyz")


@dataclass(frozen=True)
class RouterParams:
    """Everything the router config depends on (and nothing about the active colour)."""

    listen_addr: str
    """Public listener address (``0.0.0.0`` in the container, ``127.0.0.1`` in tests)."""
    listen_port: int
    preview_addr: str
    """Preview listener: reaches the idle colour. Loopback-only on the host."""
    preview_port: int
    upstreams: Mapping[str, str]
    """Colour -> ``host:port`` (``app-blue:8080``; IP literals in tests)."""
    conf_dir: str
    """Directory as nginx sees it: holds nginx.conf, router.js and active_color."""
    js_module: str
    """Path of ngx_http_js_module.so for ``load_module``."""
    resolver: str | None = None
    """DNS server for upstream names; ``None`` when upstreams are IP literals."""
    server_name: str = "_"
    maintenance: bool = False
    """The declarative form: ``RouterConfig`` writes or removes the ``maintenance`` file from
    it; the rendered text never depends on it (see the module docstring)."""
    client_max_body_size: str = "10m"
    error_log: str = "stderr"
    access_log: str = "/dev/stdout"
    pid: str = "/tmp/togather-router.pid"  # noqa: S108 (the container's private /tmp)
    temp_dir: str = "/tmp"  # noqa: S108
    """Where nginx keeps request/response temp files (prefix-relative in tests)."""
    worker_processes: str = "auto"
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    tls: nginx_tls.TlsParams | None = None
    """HTTPS on ``tls.port``; ``listen_port`` then only redirects (``render.nginx_tls``)."""


def router_params(cfg: DeployConfig) -> RouterParams:
    """The containerised router: slots by network alias, Docker's DNS, fixed ports."""
    return RouterParams(
        listen_addr="0.0.0.0",  # noqa: S104 (inside the container; published by specs.router_spec)
        listen_port=ROUTER_PUBLIC_PORT,
        preview_addr="0.0.0.0",  # noqa: S104 (published on 127.0.0.1 only)
        preview_port=ROUTER_PREVIEW_PORT,
        upstreams={c: f"{app_alias(c)}:{APP_PORT}" for c in COLORS},
        conf_dir=ROUTER_CONF_DIR,
        js_module=cfg.router.js_module,
        resolver=DOCKER_DNS,
        server_name=cfg.domain,
        maintenance=cfg.router.maintenance,
        client_max_body_size=cfg.router.client_max_body_size,
        tls=nginx_tls.container_tls(cfg),
    )


def render_router_js(p: RouterParams) -> str:
    """njs handlers: the active colour (from the file), the idle one, maintenance."""
    return router_js.render(p.conf_dir)


_LOG_FORMAT = (
    '\'{"time":"$time_iso8601","request_id":"$togather_request_id","remote_addr":"$remote_addr",\'\n'
    '        \'"method":"$request_method","uri":"$request_uri","status":$status,\'\n'
    '        \'"bytes_sent":$body_bytes_sent,"request_time":$request_time,\'\n'
    '        \'"color":"$togather_color","upstream_addr":"$upstream_addr",\'\n'
    '        \'"upstream_status":"$upstream_status","upstream_response_time":"$upstream_response_time",\'\n'
    '        \'"user_agent":"$http_user_agent"}\''
)

_PROXY = """            proxy_pass http://$togather_upstream;
            proxy_http_version 1.1;
            # One upstream connection per request and the *slot* closes it: its side keeps
            # the TIME_WAIT. If nginx closed first, every request would park one of the
            # router's ~28k ephemeral ports in TIME_WAIT for 60 s, and sustained load
            # ends in 502 "Cannot assign requested address" (seen in the rehearsal).
            proxy_set_header Connection close;
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Request-ID $togather_request_id;
            # the router states which colour it chose; an app's own header would duplicate it
            proxy_hide_header X-Togather-Slot;
            proxy_connect_timeout 5s;
            proxy_read_timeout 300s;
            proxy_send_timeout 60s;"""


def _server(p: RouterParams, *, addr: str, port: int, color_var: str, public: bool) -> str:
    """One server block. ``color_var`` picks the colour: active (public) or idle (preview)."""
    lines = [
        "    server {",
        nginx_tls.https_listen(p.tls, addr) if public and p.tls else f"        listen {addr}:{port};",
        f"        server_name {p.server_name};",
        f"        set $togather_color {color_var};",
        "        set $togather_upstream \"\";",
        *(f"        if ($togather_color = {c}) {{ set $togather_upstream \"{p.upstreams[c]}\"; }}"
          for c in COLORS),
        "        add_header X-Togather-Slot $togather_color always;",
        "        add_header X-Request-ID $togather_request_id always;",
        *(f"        add_header {k} \"{v}\" always;" for k, v in sorted(p.extra_headers.items())),
    ]
    if public:
        lines.append("        location = /metrics { return 404; }")
        lines.append("        location ^~ /metrics/ { return 404; }")
    health = "|".join(h.lstrip("/") for h in HEALTH_PATHS)
    lines.append(f"        location ~ ^/({health})$ {{")
    lines.append("            if ($togather_upstream = \"\") { return 503; }")
    lines.append(_PROXY)
    lines.append("        }")
    lines.append("        location / {")
    if public:
        lines.append("            if ($togather_maintenance) { return 503; }")
    lines.append("            if ($togather_upstream = \"\") { return 503; }")
    lines.append(_PROXY)
    lines.append("        }")
    lines.append("        error_page 503 @maintenance;")
    lines.append("        location @maintenance {")
    lines.append("            default_type text/html;")
    lines.append("            return 503 '<!doctype html><title>Maintenance</title>"
                 "<h1>Down for maintenance</h1><p>$togather_maintenance_message</p>\\n';")
    lines.append("        }")
    lines.append("    }")
    return "\n".join(lines)


def render_nginx_conf(p: RouterParams, *, js_file: str = JS_FILE) -> str:
    """The whole nginx.conf. ``js_file`` lets a validation candidate import its own js."""
    conf_dir = p.conf_dir.rstrip("/")
    # valid=1s: a replaced idle container's new address is seen within a second
    resolver = f"    resolver {p.resolver} valid=1s ipv6=off;\n    resolver_timeout 2s;\n" \
        if p.resolver else ""
    t = p.temp_dir.rstrip("/")
    return f"""# Rendered by togather-deploy (togather_deploy/render/nginx.py). Do not edit: a flip
# changes only {conf_dir}/{ACTIVE_FILE}, read per request by {js_file}.
load_module {p.js_module};
{nginx_tls.main_directives(p.tls)}worker_processes {p.worker_processes};
pid {p.pid};
error_log {p.error_log} warn;

events {{
    worker_connections 4096;
}}

http {{
    server_tokens off;
    default_type application/octet-stream;
    client_max_body_size {p.client_max_body_size};
    client_body_temp_path {t}/nginx-client-body;
    proxy_temp_path {t}/nginx-proxy;
    fastcgi_temp_path {t}/nginx-fastcgi;
    uwsgi_temp_path {t}/nginx-uwsgi;
    scgi_temp_path {t}/nginx-scgi;
    keepalive_timeout 65s;
    keepalive_requests 100000;
    # No response buffering at all: nginx cannot switch it per content type, and a
    # buffered text/event-stream would stall. gzip_types leaves event-stream out.
    proxy_buffering off;
    gzip on;
    gzip_types application/json application/ld+json text/css application/javascript text/plain;
{resolver}{nginx_tls.http_directives(p.tls)}
    js_path "{conf_dir}/";
    js_import router from {js_file};
    js_set $togather_active router.activeColor;
    js_set $togather_idle router.idleColor;
    js_set $togather_maintenance router.maintenance;
    js_set $togather_maintenance_message router.maintenanceMessage;
    # A caller's request id is passed through when it is sane, else nginx makes one.
    map $http_x_request_id $togather_request_id {{
        "~^[A-Za-z0-9._:-]{{1,128}}$" $http_x_request_id;
        default $request_id;
    }}

    log_format togather_json escape=json
        {_LOG_FORMAT};
    access_log {p.access_log} togather_json;

{nginx_tls.redirect_server(p.tls, p.listen_addr, p.listen_port) if p.tls else ""}\
{_server(p, addr=p.listen_addr, port=p.listen_port, color_var="$togather_active", public=True)}

{_server(p, addr=p.preview_addr, port=p.preview_port, color_var="$togather_idle", public=False)}
}}
"""
