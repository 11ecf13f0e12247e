"""A multipart body read as it arrives, each file part into its own sink with its size limit
enforced while reading: nothing past the limit is read, nothing is kept on failure.

FastAPI's `File(...)` parameters read and spool the whole body before the route (or any
dependency) runs, and Starlette's parser limits only non-file fields."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request


class BodyError(Exception):
    """The body is refused: `status`, `error` and `detail` for the JSON answer."""

    def __init__(self, status: int, error: str, detail: str):
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


@dataclass
class Part:
    name: str
    filename: str | None
    sink: BinaryIO | None = None
    size: int = 0
    headers: dict[str, str] = field(default_factory=dict)


async def read_files(request: Request, field_name: str, open_sink: Callable[[str], BinaryIO], limit: int,
                     max_files: int) -> list[Part]:
    """Stream the request's `field_name` file parts into `open_sink(filename)`; other fields are
    ignored. Raises BodyError; the caller closes and removes the sinks it opened, in any case."""
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise BodyError(422, "invalid_request", "send the files as multipart/form-data")
    parts: list[Part] = []
    current: Part | None = None
    ended = False
    header_field, header_value = bytearray(), bytearray()

    def on_part_begin() -> None:
        nonlocal current
        current = Part(name="", filename=None)

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        current.headers[header_field.decode("latin-1").lower()] = header_value.decode("latin-1")
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(current.headers.get("content-disposition", ""))
        current.name = disposition.get(b"name", b"").decode("utf-8", "replace")
        filename = disposition.get(b"filename")
        current.filename = None if filename is None else filename.decode("utf-8", "replace")
        if current.name == field_name and current.filename is not None:
            if len(parts) >= max_files:
                raise BodyError(413, "too_large", f"at most {max_files} files per request")
            parts.append(current)
            current.sink = open_sink(current.filename)

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if current.sink is None:
            return
        current.size += end - start
        if current.size > limit:
            raise BodyError(413, "too_large", f"{current.filename} is larger than {limit >> 20} MB")
        current.sink.write(data[start:end])

    def on_end() -> None:
        nonlocal ended
        ended = True

    parser = MultipartParser(boundary, {"on_end": on_end, "on_part_begin": on_part_begin, "on_header_field": on_header_field,
                                        "on_header_value": on_header_value, "on_header_end": on_header_end,
                                        "on_headers_finished": on_headers_finished, "on_part_data": on_part_data})
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except FormParserError as e:
        raise BodyError(422, "invalid_request", f"the multipart body is malformed: {e}") from None
    except ClientDisconnect:
        raise BodyError(400, "bad_request", "the client went away before the body was complete") from None
    if not ended:  # the parser takes a body cut before its closing boundary without complaint
        raise BodyError(422, "invalid_request", "the multipart body ended before its closing boundary")
    if not parts:
        raise BodyError(422, "invalid_request", f"no file in the form field {field_name!r}")
    return parts
