"""``notify.urls``: apprise URLs, a list or a JSON array; a bad one is refused without its value."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from togather_deploy.config.model import load_config
from togather_deploy.config.notify_urls import apprise_urls
from togather_deploy.errors import EXIT_CONFIG, ConfigError

MINIMAL = {"image": "ghcr.io/togather-foundation/server", "blue": {"version": "v1.0.0"},
           "environment": "development"}


def _load(notify: Any) -> Any:
    return load_config({**MINIMAL, "notify": notify}, project="togather-deploy", stack="t",
                       project_dir="/srv/deploy")


def test_urls_from_a_list_or_a_json_array() -> None:
    urls = ["ntfys://ntfy.sh/T0PIC", "slack://TA/TB/TC"]
    assert _load({"urls": urls}).notify.urls == tuple(urls)
    assert _load({"urls": '["discord://1/T0K"]'}).notify.urls == ("discord://1/T0K",)
    assert _load({"urls": "mailtos://u:p@example.com"}).notify.urls == ("mailtos://u:p@example.com",)
    assert _load({}).notify.urls == ()


@pytest.mark.parametrize(("value", "key"), [
    (["slack://TA/TB/TC", "https S3CRET"], "notify.urls[1]"), ([42], "notify.urls[0]"),
    ('["unterminated S3CRET', "notify.urls"), ({"a": "S3CRET"}, "notify.urls")])
def test_a_bad_url_names_the_key_and_never_shows_the_value(value: Any, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load({"urls": value})
    err = info.value
    assert err.key == key and err.exit_code == EXIT_CONFIG
    assert "S3CRET" not in str(err) and "<secret>" in str(err)
    assert "--secret --path togather:notify.urls '[\"ntfys://" in (err.fix or "")


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=20), st.lists(st.one_of(st.text(max_size=20), st.integers()), max_size=3)))
def test_anything_typed_is_urls_or_a_config_error(value: Any) -> None:
    try:
        urls = apprise_urls("notify.urls", value)
    except ConfigError as exc:
        assert exc.key and exc.key.startswith("notify.urls")
    else:
        assert all("://" in u for u in urls)
