"""Where a target lives. Targets come from DAM_PUBLISH_TARGETS (JSON: name -> target); the
password never sits in config: it is read from the environment variable the target names
(default DAM_PUBLISH_<NAME>_PASSWORD) at upload time, and never logged or reported."""

from __future__ import annotations

import os
import re
from typing import Literal

from pydantic import BaseModel, Field

from dam.library_ops.stock import LAYOUTS


class PublishTarget(BaseModel):
    layout: Literal["adobe-stock", "shutterstock", "pond5"] = Field(description="CSV layout and curation limits.")
    protocol: Literal["ftp", "ftps"] = "ftps"
    host: str
    port: int = Field(21, ge=1, le=65535)
    user: str
    path: str = Field("/", description="Remote folder the package goes into.")
    password_env: str | None = Field(None, description="Env var holding the password; default "
                                                       "DAM_PUBLISH_<NAME>_PASSWORD.")
    min_rating: int = Field(0, ge=0, le=5, description="Assets rated below this are held back.")
    picks_only: bool = Field(False, description="Publish only assets flagged as picks.")
    min_title: int = Field(5, ge=1, description="Shortest acceptable title.")
    tls_verify: bool = Field(True, description="FTPS: check the server certificate.")
    timeout: float = Field(30.0, gt=0)

    @property
    def limits(self):
        return LAYOUTS[self.layout]


class PublishConfigError(ValueError):
    pass


def password_env(name: str, t: PublishTarget) -> str:
    return t.password_env or "DAM_PUBLISH_" + re.sub(r"[^A-Z0-9]", "_", name.upper()) + "_PASSWORD"


def password(name: str, t: PublishTarget) -> str:
    var = password_env(name, t)
    value = os.environ.get(var)
    if not value:
        raise PublishConfigError(f"target {name!r}: set the password in ${var}")
    return value


def target(settings, name: str) -> PublishTarget:
    if name not in settings.publish_targets:
        known = ", ".join(sorted(settings.publish_targets)) or "none configured (DAM_PUBLISH_TARGETS)"
        raise PublishConfigError(f"no publish target {name!r}; known: {known}")
    return settings.publish_targets[name]
