"""One error family for the whole project, carrying the context an operator needs.

Every failure that reaches an operator is a ``DeployError`` (or a subclass). It
carries *where* (file, key, slot, SQL) and *why* (the original exception), and
the process exit code the scripts use, so a script never has to guess:

    0 ok, 1 failure, 2 usage, 3 locked, 4 health, 5 migration, 10 config.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

DEBUG_ENV = "TOGATHER_DEBUG"
"""Set to ``1``: tracebacks are shown (for a bug report), in the verbs and in the providers."""


class ExitCode(IntEnum):
    """The documented process exit codes (``togather-deploy VERB --help`` lists them)."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    LOCKED = 3
    HEALTH = 4
    MIGRATION = 5
    CONFIG = 10


EXIT_CODES_HELP = ("exit codes: 0 ok, 1 failure, 2 usage, 3 locked (lock held or stack edited meanwhile), "
                   "4 health, 5 migration, 10 config")

# The old names, for modules not yet moved to ``ExitCode`` (same values).
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = ExitCode.OK, ExitCode.FAILURE, ExitCode.USAGE
EXIT_LOCKED, EXIT_HEALTH, EXIT_MIGRATION, EXIT_CONFIG = (
    ExitCode.LOCKED, ExitCode.HEALTH, ExitCode.MIGRATION, ExitCode.CONFIG)


@dataclass
class DeployError(Exception):
    """A failure with context. ``str()`` gives one readable paragraph.

    ``fix`` is the exact next step for the operator (a command, a config key).
    """

    message: str
    file: str | None = None
    key: str | None = None
    slot: str | None = None
    sql: str | None = None
    fix: str | None = None
    cause: BaseException | None = None
    context: dict[str, Any] = field(default_factory=dict)

    exit_code: int = ExitCode.FAILURE

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [self.message]
        for label, value in (("file", self.file), ("key", self.key), ("slot", self.slot)):
            if value:
                parts.append(f"{label}: {value}")
        if self.sql:
            parts.append(f"sql: {self.sql.strip()[:500]}")
        for k, v in self.context.items():
            parts.append(f"{k}: {v}")
        if self.cause is not None:
            parts.append(f"cause: {type(self.cause).__name__}: {self.cause}")
        if self.fix:
            parts.append(f"fix: {self.fix}")
        return "\n  ".join(parts)


@dataclass
class ConfigError(DeployError):
    """Bad stack config or bad input, found before anything changed."""

    exit_code: int = ExitCode.CONFIG


@dataclass
class MigrationError(DeployError):
    exit_code: int = ExitCode.MIGRATION


@dataclass
class SnapshotError(DeployError):
    exit_code: int = ExitCode.FAILURE


@dataclass
class HealthError(DeployError):
    exit_code: int = ExitCode.HEALTH


@dataclass
class SwitchError(DeployError):
    exit_code: int = ExitCode.HEALTH


@dataclass
class LockError(DeployError):
    exit_code: int = ExitCode.LOCKED


SECRET_SHOWN = "<secret>"


@dataclass
class InvalidValue(ConfigError):
    """``key: must be <allowed>, got <value>``; ``concealed`` says the same without the value."""

    allowed: str = ""

    def concealed(self, fix: str) -> ConfigError:
        return ConfigError(f"{self.key}: must be {self.allowed}, got {SECRET_SHOWN}", key=self.key,
                           fix=self.fix or fix)


def invalid(key: str, got: Any, allowed: str) -> ConfigError:
    """The one shape of a config complaint: ``key: must be <allowed>, got <value>``.

    ``togather_deploy.config.model`` conceals the value when ``key`` holds a secret."""
    return InvalidValue(f"{key}: must be {allowed}, got {got!r}", key=key, allowed=allowed)


@dataclass
class StackChangedError(DeployError):
    """The stack config changed under a scripted deploy/rollback, not by it (exit 3, like lock
    contention: someone else is operating on the stack). Nothing is restored over their edit."""

    exit_code: int = ExitCode.LOCKED
