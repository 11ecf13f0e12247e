"""Where a target lives and its secrets. Targets (dam.config.PublishTarget) come from DAM_PUBLISH_TARGETS (JSON: name -> target); secrets
never sit in config: the password (default $DAM_PUBLISH_<NAME>_PASSWORD) and, for SFTP, the
private key file (default $DAM_PUBLISH_<NAME>_KEY) are read from the environment at upload
time, and never logged or reported."""

from __future__ import annotations

import os
import re
from pathlib import Path

from dam.config import PublishTarget, Settings


class PublishConfigError(ValueError):
    pass


def _env_name(name: str, what: str) -> str:
    return "DAM_PUBLISH_" + re.sub(r"[^A-Z0-9]", "_", name.upper()) + "_" + what


def password_env(name: str, t: PublishTarget) -> str:
    return t.password_env or _env_name(name, "PASSWORD")


def key_env(name: str, t: PublishTarget) -> str:
    return t.key_env or _env_name(name, "KEY")


def password(name: str, t: PublishTarget) -> str:
    var = password_env(name, t)
    value = os.environ.get(var)
    if not value:
        raise PublishConfigError(f"target {name!r}: set the password in ${var}")
    return value


def ssh_secrets(name: str, t: PublishTarget) -> tuple[str | None, str | None]:
    """(password or key passphrase, key file) for an SFTP target: a key file, a password or both."""
    pw, key = os.environ.get(password_env(name, t)) or None, os.environ.get(key_env(name, t)) or None
    if not pw and not key:
        raise PublishConfigError(f"target {name!r}: set a key file in ${key_env(name, t)} "
                                 f"or the password in ${password_env(name, t)}")
    if key and not Path(key).expanduser().is_file():
        raise PublishConfigError(f"target {name!r}: key file in ${key_env(name, t)} not found")
    return pw, str(Path(key).expanduser()) if key else None


def target(settings: Settings, name: str) -> PublishTarget:
    if name not in settings.publish_targets:
        known = ", ".join(sorted(settings.publish_targets)) or "none configured (DAM_PUBLISH_TARGETS)"
        raise PublishConfigError(f"no publish target {name!r}; known: {known}")
    return settings.publish_targets[name]
