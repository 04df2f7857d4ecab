"""The router's nginx.conf and router.js, rendered as pure text from ``RouterParams``.

How a colour flip works without a reload: per request, nginx tests the ``active_color``
file of the config directory (two stats: ``render.active_file`` says why its mode bit, not
njs, carries the colour to nginx). Each colour has an ``upstream togather_<colour>``: a pool
of kept-alive HTTP/1.1 connections to the colour's FIXED address (``network.subnet``), and ``proxy_pass
http://$togather_upstream`` names one of them per request, so:

* a flip changes the pool the next request uses; requests in flight on the old colour
  finish, and its idle pooled connections close by themselves (``keepalive_timeout``);
* a replaced idle container answers at the same address: no reload, no resolver; a request
  that fails on a dead pooled connection is retried on a fresh one (``proxy_next_upstream``);
* no handshake per request and no TIME_WAIT build-up on the router's ephemeral ports.

Nothing here depends on the active colour, so a flip never changes this text.

Maintenance works the same way: nginx tests for the ``maintenance`` file of that
directory per request on the public listener (``if (-f …)``, a stat; present: the
503 page with the file's text, read by ``router.js``, as the message; health paths
still proxied; absent: normal service). ``scripts/maintenance`` and ``RouterConfig``
(from ``router.maintenance``) write or remove it; the rendered text does not depend on
``maintenance`` either, so turning it on or off needs neither a ``pulumi up`` nor a reload.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from togather_deploy.config.model import COLORS, DeployConfig
from togather_deploy.render import active_file, nginx_tls, router_js
from togather_deploy.render.containers import (
    APP_PORT,
    ROUTER_CONF_DIR,
    ROUTER_PREVIEW_PORT,
    ROUTER_PUBLIC_PORT,
)

ACTIVE_FILE = active_file.ACTIVE_FILE
MAINTENANCE_FILE = router_js.MAINTENANCE_FILE
CONF_FILE = "nginx.conf"
JS_FILE = "router.js"
POOL_SIZE = 64
"""Idle kept-alive connections each worker keeps per colour (``keepalive``)."""
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
    """Colour -> ``ip:port`` (the colour's fixed address; loopback in tests). An IP literal:
    nginx resolves an upstream's name once, at start, and not at all if the name is missing."""
    conf_dir: str
    """Directory as nginx sees it: holds nginx.conf, router.js and active_color."""
    js_module: str
    """Path of ngx_http_js_module.so for ``load_module``."""
    pool_size: int = POOL_SIZE
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
    """The containerised router: slots at their fixed addresses on the private network."""
    return RouterParams(
        listen_addr="0.0.0.0",  # noqa: S104 (inside the container; published by specs.router_spec)
        listen_port=ROUTER_PUBLIC_PORT,
        preview_addr="0.0.0.0",  # noqa: S104 (published on 127.0.0.1 only)
        preview_port=ROUTER_PREVIEW_PORT,
        upstreams={c: f"{cfg.network.address(c)}:{APP_PORT}" for c in COLORS},
        conf_dir=ROUTER_CONF_DIR,
        js_module=cfg.router.js_module,
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
            proxy_set_header Connection "";
            # A request failing on a pooled connection (container replaced, or the slot closed
            # it just then) is retried on a fresh one, uncounted. Not a sent POST/PATCH/LOCK
            # (no non_idempotent): the slot may have acted on it; a duplicate write is worse.
            proxy_next_upstream error timeout;
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


def maintenance_path(p: RouterParams) -> str:
    """The maintenance flag as nginx sees it (``ops.maintenance_flag`` writes it)."""
    return f"{p.conf_dir.rstrip('/')}/{router_js.MAINTENANCE_FILE}"


def upstream_name(color: str) -> str:
    """The ``upstream`` group of a colour: what ``proxy_pass http://$togather_upstream`` names."""
    return f"togather_{color}"


def _upstreams(p: RouterParams) -> str:
    # keepalive_timeout 15s: nginx closes an idle pooled connection before the slot would
    # (the demo app after 75 s, Go servers usually 60 s+), so the slot never closes one
    # under a request; keepalive_requests 100000: nginx recycling a connection every 1,000
    # (the default) would park a router port in TIME_WAIT per 1,000 requests.
    return "\n".join(f"    upstream {upstream_name(c)} {{ server {p.upstreams[c]}; keepalive {p.pool_size}; "
                     "keepalive_timeout 15s; keepalive_requests 100000; }" for c in COLORS)


def _server(p: RouterParams, *, addr: str, port: int, public: bool) -> str:
    """One server block: the public one serves the active colour, the preview one the idle."""
    lines = [
        "    server {",
        nginx_tls.https_listen(p.tls, addr) if public and p.tls else f"        listen {addr}:{port};",
        f"        server_name {p.server_name};",
        *active_file.nginx_selection(f"{p.conf_dir.rstrip('/')}/{ACTIVE_FILE}", idle=not public),
        "        set $togather_upstream \"\";",
        *(f"        if ($togather_color = {c}) {{ set $togather_upstream {upstream_name(c)}; }}"
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
        # nginx's own stat, not njs: an njs read of the (normally absent) file threw an
        # exception per request and cut the router to 0.15x its throughput (2 cores, wrk -c50)
        lines.append(f"            if (-f \"{maintenance_path(p)}\") {{ return 503; }}")
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
    t = p.temp_dir.rstrip("/")
    return f"""# Rendered by togather-deploy (togather_deploy/render/nginx.py). Do not edit: a flip
# changes only {conf_dir}/{ACTIVE_FILE}, whose mode bit nginx tests per request.
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
{nginx_tls.http_directives(p.tls)}
{_upstreams(p)}

    js_path "{conf_dir}/";
    js_import router from {js_file};
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
{_server(p, addr=p.listen_addr, port=p.listen_port, public=True)}

{_server(p, addr=p.preview_addr, port=p.preview_port, public=False)}
}}
"""
