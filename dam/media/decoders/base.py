"""What every decoding library offers the pipeline: frames by number, in order, at two sizes,
leaving out the frames it cannot decode. The gaps are the damage; callers never see a
library's own exception."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, NamedTuple

import numpy as np

TINY = (48, 27)  # TransNetV2's input size


class DecodeError(RuntimeError):
    """The file (or this part of it) cannot be decoded; the message says why."""


class Frame(NamedTuple):
    index: int  # frame number on the stream's nominal grid
    time: float  # presentation time, seconds from the stream's start
    tiny: np.ndarray | None  # uint8 [27, 48, 3] when asked for
    image: np.ndarray | None  # uint8 [h, w, 3] at the asked size, for wanted frames only


def reason(e: BaseException) -> str:
    """A library's message, first line, without the C++ source location decord prefixes."""
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return text.split("Error: ", 1)[-1].strip()[:200]


class VideoSource(ABC):
    """One open video file. Opening raises DecodeError for a file no frame can come from."""

    name: ClassVar[str]

    def __init__(self, path: Path, threads: int = 1):
        self.path, self.threads = Path(path), threads

    @abstractmethod
    def read(self, lo: int, hi: int, size: tuple[int, int], wanted: set[int], tiny: bool = True) -> Iterator[Frame]:
        """Frames lo..hi-1 that decode, in order; a frame in `wanted` also comes at `size` (w, h).
        Frames that cannot be decoded are left out, and reading goes on past them."""

    def at(self, indices: list[int], size: tuple[int, int]) -> list[Frame]:
        """A few frames far apart (seek to each): keyframes, posters, L0 picks."""
        out = []
        for i in sorted(set(indices)):
            out += [f for f in self.read(i, i + 1, size, {i}, tiny=False) if f.image is not None]
        return out

    def close(self) -> None:  # noqa: B027 (most sources hold nothing to release)
        pass

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
