"""What an operator running ``pulumi up`` reads when a provider fails, through the SDK's own server.

The SDK aborts the call with ``traceback.format_exc()``; ``operator_errors`` leaves a
``DeployError`` as its own lines (what failed, the fix) and a bug with all its frames.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest
from pulumi.dynamic import CreateResult, ResourceProvider

from components import providers
from components.providers.failures import METHODS, operator_errors
from testkit.provider_wire import ProviderCallError, ProviderWire
from togather_deploy.errors import DEBUG_ENV, HealthError


@operator_errors
class Failing(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        if props["kind"] == "expected":
            try:
                raise TimeoutError("no answer in 10 s")
            except TimeoutError as exc:
                raise HealthError("blue never got healthy at v2", slot="blue",
                                  fix="scripts/health-check http://127.0.0.1:8081 --version v2") from exc
        raise ValueError("a bug")


def _error(wire: ProviderWire, kind: str, env: dict[str, str] | None = None) -> ProviderCallError:
    with pytest.raises(ProviderCallError) as err:
        wire.create(Failing(), {"kind": kind}, env=env)
    return err.value


def test_an_expected_failure_is_its_message_and_fix_without_frames(wire: ProviderWire) -> None:
    err = _error(wire, "expected")
    assert "Traceback" not in err.text and 'File "' not in err.text, err.text
    assert err.type_name == "HealthError" and "never got healthy" in err.message
    assert "fix: scripts/health-check" in err.text and "TimeoutError: no answer" in err.text


def test_a_bug_keeps_its_traceback_even_after_an_expected_failure(wire: ProviderWire) -> None:
    _error(wire, "expected")  # the same provider process: the limit must not outlive that failure
    bug = _error(wire, "bug")
    assert bug.type_name == "ValueError" and "Traceback (most recent call last)" in bug.text
    assert "test_failures.py" in bug.text  # where it happened


def test_debug_keeps_every_traceback(wire: ProviderWire) -> None:
    err = _error(wire, "expected", env={DEBUG_ENV: "1"})
    assert "Traceback (most recent call last)" in err.text and err.type_name == "HealthError"


def test_every_provider_of_the_program_is_guarded() -> None:
    guarded = []
    for info in pkgutil.iter_modules(providers.__path__):
        module = importlib.import_module(f"{providers.__name__}.{info.name}")
        for obj in vars(module).values():
            mine = isinstance(obj, type) and obj.__module__ == module.__name__
            if mine and issubclass(obj, ResourceProvider):
                defined = [m for m in METHODS if m in vars(obj)]
                assert defined and all(hasattr(vars(obj)[m], "__wrapped__") for m in defined), obj
                guarded.append(obj.__name__)
    assert len(guarded) == 10, guarded
