"""Let's Encrypt's test CA, pebble (Debian package), on loopback for ACME tests.

``start_pebble(http_port)`` runs ``pebble-challtestsrv`` as the DNS server (every
name resolves to 127.0.0.1, no AAAA) and ``pebble`` with ``PEBBLE_VA_NOSLEEP=1``,
its HTTP-01 validation aimed at ``http_port`` (the router's plain listener). The
ACME directory is served over TLS with a certificate from a throwaway ``TestCA``
(``Pebble.ca_file``); ``Pebble.root_pem()`` is the root pebble signs issued
certificates with, to verify an HTTPS request against.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import urllib.request
from dataclasses import dataclass

from testkit.ports import free_port, wait_port
from testkit.tls import TestCA
from togather_deploy.ops.tls import files as tls_files


def pebble_available() -> bool:
    return shutil.which("pebble") is not None and shutil.which("pebble-challtestsrv") is not None


@dataclass
class Pebble:
    directory_url: str
    management_url: str
    ca_file: str
    procs: tuple[subprocess.Popen[bytes], ...]

    def root_pem(self) -> bytes:
        ctx = ssl.create_default_context(cafile=self.ca_file)
        with urllib.request.urlopen(self.management_url + "/roots/0", context=ctx, timeout=10) as resp:
            return bytes(resp.read())

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=10)


def start_pebble(workdir: str, http_port: int) -> Pebble:
    os.makedirs(workdir, exist_ok=True)
    ca = TestCA()
    key = tls_files.new_key_pem()
    cert_file, key_file, ca_file = (os.path.join(workdir, n) for n in ("wfe.crt", "wfe.key", "ca.pem"))
    for path, data in ((cert_file, ca.issue(("localhost",), key, ips=("127.0.0.1",))), (key_file, key),
                       (ca_file, ca.pem)):
        with open(path, "wb") as fh:
            fh.write(data)
    acme_port, mgmt_port, dns_port = free_port(), free_port(), free_port()
    config = {"pebble": {"listenAddress": f"127.0.0.1:{acme_port}",
                         "managementListenAddress": f"127.0.0.1:{mgmt_port}",
                         "certificate": cert_file, "privateKey": key_file, "httpPort": http_port,
                         "tlsPort": free_port(), "ocspResponderURL": "",
                         "externalAccountBindingRequired": False}}
    config_file = os.path.join(workdir, "pebble.json")
    with open(config_file, "w", encoding="utf-8") as fh:
        json.dump(config, fh)
    log = open(os.path.join(workdir, "pebble.log"), "wb")  # noqa: SIM115 (lives as long as the process)
    dns = subprocess.Popen(["pebble-challtestsrv", "-dns01", f"127.0.0.1:{dns_port}", "-http01", "",
                            "-https01", "", "-tlsalpn01", "", "-management", f"127.0.0.1:{free_port()}",
                            "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""], stdout=log, stderr=log)
    env = {**os.environ, "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0",
           "PEBBLE_AUTHZREUSE": "0"}  # every order is validated afresh: a broken challenge must fail
    pebble = subprocess.Popen(["pebble", "-config", config_file, "-dnsserver", f"127.0.0.1:{dns_port}",
                               "-strict=false"], stdout=log, stderr=log, env=env)
    result = Pebble(f"https://127.0.0.1:{acme_port}/dir", f"https://127.0.0.1:{mgmt_port}", ca_file,
                    (pebble, dns))
    try:
        wait_port(acme_port, timeout=20)
        wait_port(mgmt_port, timeout=20)
    except TimeoutError:
        result.stop()
        raise
    return result
