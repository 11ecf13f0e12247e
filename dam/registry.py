"""Named implementations at an extension point (encoders, shot detectors, enrichment sources).

Each entry names its class by import path, so choosing one imports only its module (and its
model library) and listing them imports nothing. Adding one is one file and one line in the
point's registry."""

from __future__ import annotations

from importlib import import_module
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, what: str, entries: dict[str, str]):
        self.what, self.entries = what, dict(entries)

    def names(self) -> list[str]:
        return list(self.entries)

    def get(self, name: str) -> type[T]:
        if name not in self.entries:
            raise ValueError(f"unknown {self.what} {name!r}; known: {', '.join(self.entries)}")
        module, _, attr = self.entries[name].partition(":")
        return getattr(import_module(module), attr)
