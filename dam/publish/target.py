"""Where a target lives. Targets come from DAM_PUBLISH_TARGETS (JSON: name -> target); secrets
never sit in config: the password (default $DAM_PUBLISH_<NAME>_PASSWORD) and, for SFTP, the
private key file (default $DAM_PUBLISH_<NAME>_KEY) are read from the environment at upload
time, and never logged or reported."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from dam.library_ops.stock import LAYOUTS


class PublishTarget(BaseModel):
    layout: Literal["adobe-stock", "shutterstock", "pond5"] = Field(description="CSV layout and curation limits.")
    protocol: Literal["ftp", "ftps", "sftp"] = "ftps"
    host: str
    port: int = Field(21, ge=1, le=65535, description="Default 21; 22 for sftp.")
    user: str
    path: str = Field("/", description="Remote folder the package goes into.")
    password_env: str | None = Field(None, description="Env var holding the password (sftp with a key: its "
                                                       "passphrase); default DAM_PUBLISH_<NAME>_PASSWORD.")
    key_env: str | None = Field(None, description="SFTP: env var holding a private key file's path; default "
                                                  "DAM_PUBLISH_<NAME>_KEY.")
    known_hosts: str | None = Field(None, description="SFTP: known_hosts file with the server's host key; "
                                                      "default ~/.ssh/known_hosts.")
    media: Literal["original", "proxy"] = Field("original", description="What goes up: the original file, or "
                                                "for sources a browser cannot play (ProRes, HEVC...) its H.264 proxy.")
    min_rating: int = Field(0, ge=0, le=5, description="Assets rated below this are held back.")
    picks_only: bool = Field(False, description="Publish only assets flagged as picks.")
    min_title: int = Field(5, ge=1, description="Shortest acceptable title.")
    tls_verify: bool = Field(True, description="FTPS: check the server certificate.")
    timeout: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _ssh_port(self) -> PublishTarget:
        if self.protocol == "sftp" and "port" not in self.model_fields_set:
            self.port = 22
        return self

    @property
    def limits(self):
        return LAYOUTS[self.layout]


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


def target(settings, name: str) -> PublishTarget:
    if name not in settings.publish_targets:
        known = ", ".join(sorted(settings.publish_targets)) or "none configured (DAM_PUBLISH_TARGETS)"
        raise PublishConfigError(f"no publish target {name!r}; known: {known}")
    return settings.publish_targets[name]
