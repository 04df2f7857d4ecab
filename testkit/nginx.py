"""Run the real nginx on loopback with a rendered router config (no root paths touched).

``start_router(upstreams, workdir)`` renders ``togather_deploy.render.nginx`` for the
host (Debian's njs module, IP-literal upstreams, no resolver, prefix-relative
logs/pid/temp), writes it with ``togather_deploy.ops.router_files``, starts
``nginx -p <workdir> -g 'daemon off;'`` and waits for both listeners. The
directory is made world-readable because nginx's workers run as ``nobody``.

    with start_router({"blue": "127.0.0.1:5001", "green": "127.0.0.1:5002"}, tmp) as r:
        r.switch("green"); urllib.request.urlopen(r.url + "/version")
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from testkit.ports import free_port, wait_port
from togather_deploy.ops import router_files
from togather_deploy.render.nginx import CONF_FILE, JS_FILE, RouterParams, render_nginx_conf, render_router_js

HOST_JS_MODULE = "/usr/lib/nginx/modules/ngx_http_js_module.so"


@contextlib.contextmanager
def private_dir(prefix: str = "togather-router-") -> Iterator[str]:
    """A temp dir of our own. Not pytest's ``tmp_path``: on a machine where several pytest
    runs share ``/tmp/pytest-of-<user>``, a newer run prunes older base dirs, and a live
    router whose ``active_color`` vanished would answer 503."""
    path = tempfile.mkdtemp(prefix=prefix)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def nginx_available() -> bool:
    return shutil.which("nginx") is not None and os.path.exists(HOST_JS_MODULE)


def host_params(upstreams: Mapping[str, str], conf_dir: str, **overrides: Any) -> RouterParams:
    """Router params for a host nginx under ``-p conf_dir`` on free loopback ports."""
    params = RouterParams(
        listen_addr="127.0.0.1", listen_port=free_port(),
        preview_addr="127.0.0.1", preview_port=free_port(),
        upstreams=dict(upstreams), conf_dir=conf_dir, js_module=HOST_JS_MODULE,
        error_log="logs/error.log", access_log="logs/access.log", pid="logs/nginx.pid",
        temp_dir="temp", worker_processes="1",
    )
    return dataclasses.replace(params, **overrides)


def nginx_argv(conf_dir: str, *extra: str) -> list[str]:
    """``nginx -p DIR -c DIR/nginx.conf -e DIR/logs/error.log ...`` (never /var/log)."""
    return ["nginx", "-p", conf_dir + "/", "-c", os.path.join(conf_dir, CONF_FILE),
            "-e", os.path.join(conf_dir, "logs", "error.log"), *extra]


def prepare_dir(conf_dir: str) -> None:
    router_files.ensure_dir(conf_dir)
    for sub in ("logs", "temp"):
        os.makedirs(os.path.join(conf_dir, sub), exist_ok=True)
        os.chmod(os.path.join(conf_dir, sub), 0o777)
    # every parent must be traversable by the workers (pytest's tmp dirs are 0700)
    parent = os.path.dirname(conf_dir.rstrip("/"))
    while parent not in ("/", ""):
        os.chmod(parent, os.stat(parent).st_mode | 0o011)
        parent = os.path.dirname(parent)


def write_config(params: RouterParams, *, active: str | None = "blue") -> None:
    prepare_dir(params.conf_dir)
    router_files.atomic_write(os.path.join(params.conf_dir, JS_FILE), render_router_js(params))
    router_files.atomic_write(os.path.join(params.conf_dir, CONF_FILE), render_nginx_conf(params))
    if active is not None:
        router_files.write_active_color(params.conf_dir, active)


def nginx_test(conf_dir: str, conf_file: str = CONF_FILE) -> subprocess.CompletedProcess[str]:
    """The real ``nginx -t`` on a config in ``conf_dir``."""
    argv = nginx_argv(conf_dir, "-t")
    argv[argv.index("-c") + 1] = os.path.join(conf_dir, conf_file)
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)


@dataclass
class NginxRouter:
    params: RouterParams
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.params.listen_port}"

    @property
    def preview_url(self) -> str:
        return f"http://127.0.0.1:{self.params.preview_port}"

    @property
    def conf_dir(self) -> str:
        return self.params.conf_dir

    def switch(self, color: str) -> None:
        router_files.write_active_color(self.conf_dir, color)

    def reload(self) -> None:
        subprocess.run(nginx_argv(self.conf_dir, "-s", "reload"), check=True, capture_output=True,
                       timeout=30)

    def access_log(self) -> list[dict[str, Any]]:
        with open(os.path.join(self.conf_dir, "logs", "access.log"), encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]

    def error_log(self) -> str:
        path = os.path.join(self.conf_dir, "logs", "error.log")
        return open(path, encoding="utf-8").read() if os.path.exists(path) else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: let in-flight requests finish
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def __enter__(self) -> NginxRouter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_router(upstreams: Mapping[str, str], conf_dir: str, *, active: str = "blue",
                 **overrides: Any) -> NginxRouter:
    """Render, validate (``nginx -t``), start nginx in the foreground and wait for it."""
    params = host_params(upstreams, conf_dir, **overrides)
    write_config(params, active=active)
    check = nginx_test(conf_dir)
    if check.returncode != 0:
        raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
    proc = subprocess.Popen(nginx_argv(conf_dir, "-g", "daemon off;"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        wait_port(params.listen_port, timeout=15)
        wait_port(params.preview_port, timeout=15)
    except TimeoutError:
        proc.kill()
        raise
    return NginxRouter(params, proc)
