"""``togather:tls``: defaults per environment, and every bad value is a ConfigError naming key and fix."""

from __future__ import annotations

from typing import Any

import pytest

from togather_deploy.config.model import load_config
from togather_deploy.config.tls import LETS_ENCRYPT
from togather_deploy.errors import EXIT_CONFIG, ConfigError

BASE = {"image": "ghcr.io/togather-foundation/server", "blue": {"version": "v1.0.0"},
        "environment": "production", "domain": "events.example.org",
        "appEnv": {"CORS_ALLOWED_ORIGINS": "https://events.example.org"}}
CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nsecretbytes\n-----END PRIVATE KEY-----\n"


def load(tls: Any = None, secret_keys: tuple[str, ...] = (), **top: Any) -> Any:
    raw = {**BASE, **top, **({"tls": tls} if tls is not None else {})}
    return load_config(raw, project="togather-deploy", stack="t", project_dir="/srv",
                       secret_keys=secret_keys)


def error(tls: Any, secret_keys: tuple[str, ...] = (), **top: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(tls, secret_keys, **top)
    assert info.value.exit_code == EXIT_CONFIG
    assert info.value.key  # invalid(): "must be <allowed>" is the fix
    return info.value


def test_production_with_a_domain_defaults_to_acme_with_lets_encrypt() -> None:
    tls = load().tls
    assert tls.mode == "acme" and tls.enabled
    assert tls.directory_url == LETS_ENCRYPT and tls.domains == ("events.example.org",)
    assert tls.https_port == 443 and tls.public_bind == "0.0.0.0" and tls.real_ip_from == ()
    assert tls.hsts_max_age == 31536000 and not tls.hsts_include_subdomains


def test_development_and_no_domain_default_to_off() -> None:
    assert load(environment="development").tls.mode == "off"
    assert load(domain="_", environment="staging",).tls.mode == "off"


def test_all_keys_parse_including_pulumi_string_spellings() -> None:
    tls = load({"mode": "acme", "email": "ops@example.org", "directoryUrl": "https://127.0.0.1:14000/dir",
                "domains": '["www.example.org", "Events.example.org"]', "httpsPort": "8443",
                "publicBind": "127.0.0.1", "realIpFrom": "173.245.48.0/20, 2400:cb00::/32",
                "hsts": {"maxAgeSeconds": "0", "includeSubDomains": "true"}}).tls
    assert tls.domains == ("events.example.org", "www.example.org")
    assert tls.https_port == 8443 and tls.public_bind == "127.0.0.1"
    assert tls.real_ip_from == ("173.245.48.0/20", "2400:cb00::/32")
    assert tls.hsts_max_age == 0 and tls.hsts_include_subdomains


@pytest.mark.parametrize(("tls", "key", "words"), [
    ({"mode": "https"}, "tls.mode", "off | acme | files"),
    ({"directoryUrl": "http://acme.example/dir"}, "tls.directoryUrl", "https://"),
    ({"email": "nobody"}, "tls.email", "e-mail"),
    ({"domains": ["*.example.org"]}, "tls.domains[0]", "no wildcards"),
    ({"publicBind": "localhost"}, "tls.publicBind", "IP address"),
    ({"realIpFrom": ["10.0.0.1/8"]}, "tls.realIpFrom[0]", "host bits zero"),
    ({"realIpFrom": ["0.0.0.0/0"]}, "tls.realIpFrom", "forge"),
    ({"httpsPort": 70000}, "tls.httpsPort", "≤ 65535"),
    ({"hsts": {"maxAge": 1}}, "tls.hsts.maxAge", "unknown key"),
    ({"certificate": CERT}, "tls.certificate", "mode files"),
    ({"colour": 1}, "tls.colour", "unknown key"),
])
def test_bad_values_name_key_value_and_fix(tls: dict[str, Any], key: str, words: str) -> None:
    err = error(tls)
    assert err.key == key and words in str(err)


def test_acme_without_a_domain_says_set_the_domain() -> None:
    err = error({"mode": "acme"}, domain="_")
    assert err.key == "domain" and "togather:domain" in (err.fix or "")


def test_https_port_clash_is_found_before_anything_changes() -> None:
    err = error({"httpsPort": 18080})
    assert err.key == "router.previewPort" or err.key == "tls.httpsPort"
    assert "18080" in str(err)


def test_files_mode_needs_both_pems_and_a_secret_key_never_echoed() -> None:
    assert error({"mode": "files", "certificate": CERT}).key == "tls.key"
    plain = error({"mode": "files", "certificate": CERT, "key": KEY})
    assert plain.key == "tls.key" and "--secret" in (plain.fix or "") and "secretbytes" not in str(plain)
    bad = error({"mode": "files", "certificate": CERT, "key": "secretbytes"}, ("tls",))
    assert "secretbytes" not in str(bad) and "PEM" in str(bad)
    tls = load({"mode": "files", "certificate": CERT, "key": KEY}, ("tls",)).tls
    assert tls.mode == "files" and tls.key == KEY and "secretbytes" not in repr(tls)


def test_files_mode_read_by_a_script_without_the_encrypted_values_is_valid() -> None:
    # scripts read Pulumi.<stack>.yaml without decrypting: the secure keys are only named
    tls = load({"mode": "files"}, ("tls.certificate", "tls.key")).tls
    assert tls.mode == "files" and tls.key is None
