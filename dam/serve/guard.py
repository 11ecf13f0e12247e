"""One gate in front of every HTTP route, so no route can forget it: the Host is one of ours
(DNS rebinding), a mutating request comes from our own page (Origin), the token is there when
one is set (header or the login cookie; a WebSocket may give it as `?token=`), and a JSON body is bounded in size and depth before
any route parses it.

A pure ASGI middleware rather than a FastAPI dependency: dependencies run after FastAPI has
read and parsed the body, so a 50 MB upload was read in full before its 401."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
from collections.abc import Awaitable, Callable
from functools import lru_cache
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import numpy as np
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dam.config import Settings

COOKIE = "dam_session"
OPEN = {"/healthz", "/login"}  # answer without the token: liveness, and the way to get the cookie
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
MAX_JSON_BYTES = 16 << 20  # the largest legitimate body, 10,000 ingest paths, is ~1 MB
MAX_JSON_DEPTH = 32  # dam's deepest body is 3 levels; Python's parser recursed to a 500 at ~1000
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def error(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


def session_value(token: str) -> str:
    """The cookie holds a value derived from the token, not the token itself: the browser's cookie
    store never holds the bearer secret, and a new token ends every old session."""
    return hmac.new(token.encode(), b"dam-session-v1", hashlib.sha256).hexdigest()


def has_token(headers: Headers, token: str) -> bool:
    auth = headers.get("authorization", "")
    given = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    if given and hmac.compare_digest(given.encode(), token.encode()):
        return True
    cookie = _cookie(headers.get("cookie", ""), COOKIE)
    return bool(cookie) and hmac.compare_digest(cookie.encode(), session_value(token).encode())


def _cookie(header: str, name: str) -> str:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value.strip()
    return ""


@lru_cache(maxsize=8)
def served_names(host: str, extra: tuple[str, ...]) -> frozenset[str]:
    """Names a request may carry in its Host header: loopback, the configured host, this
    machine's own names and interface addresses (an IP literal cannot be rebound by DNS), and
    DAM_ALLOWED_HOSTS (the names a proxy or DNS gives this server)."""
    import psutil

    names = set(LOOPBACK) | {host.strip("[]").lower()} | {n.lower().rstrip(".") for n in extra}
    names.add(socket.gethostname().lower())  # not getfqdn(): a reverse DNS lookup can stall a request
    for addrs in psutil.net_if_addrs().values():
        names |= {a.address.split("%")[0].lower() for a in addrs if a.family in (socket.AF_INET, socket.AF_INET6)}
    return frozenset(names - {"", "0.0.0.0", "::"})


def host_name(value: str) -> str:
    """`name:port`, `[v6]:port`, `name` -> the name, lower case, without a trailing dot."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else ""
    return value.rsplit(":", 1)[0].rstrip(".") if value.count(":") == 1 else value.rstrip(".")


def json_depth(body: bytes) -> int:
    """Deepest nesting of `[`/`{` outside strings, in C-speed passes (a 16 MB body: ~0.1 s); the
    body is not parsed here, so a deep one never reaches a recursive parser."""
    text = re.sub(rb"\\.", b"", body, flags=re.S)  # escaped characters (\" and \\) out of the way
    a = np.frombuffer(text, np.uint8)
    if not a.size:
        return 0
    outside = np.cumsum(a == ord('"')) % 2 == 0  # inside a string after an odd number of quotes
    step = (np.isin(a, (ord("["), ord("{"))).astype(np.int64) - np.isin(a, (ord("]"), ord("}")))) * outside
    return int(np.cumsum(step).max(initial=0))


class Guard:
    """The ASGI middleware (added to the app once, in dam.serve.http)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        settings: Settings | None = getattr(scope["app"].state, "settings", None)
        if settings is None:  # the replica is still starting: refuse rather than run unguarded
            return await error(503, "starting", "the server is starting; retry in a moment",
                               {"Retry-After": "1"})(scope, receive, send)
        refusal = refuse(scope, settings)
        if refusal is not None:
            return await refusal(scope, receive, send)
        headers = Headers(scope=scope)
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS and _checks_json(headers):
            body = await _bounded_body(receive, headers)
            if isinstance(body, Response):
                return await body(scope, receive, send)
            receive = _replay(body, receive)
        plain = scope["type"] != "http" or scope["method"] == "HEAD"  # a HEAD answer has no body to replace
        await self.app(scope, receive, send if plain else _json_errors(send))


def refuse(scope: Scope, settings: Settings) -> Response | None:
    """The answer for a request that may not go on, or None."""
    headers = Headers(scope=scope)
    host = host_name(headers.get("host", ""))
    if host not in served_names(settings.host, tuple(settings.allowed_hosts)):
        return error(400, "host_not_allowed", f"this server does not answer to the host {host!r}: use "
                     "localhost or its address, or add the name to DAM_ALLOWED_HOSTS")
    method = scope.get("method", "GET")
    websocket = scope["type"] == "websocket"
    if websocket:  # a browser opens a WebSocket from any page, with our cookie: its Origin must be ours
        origin = headers.get("origin")
        if origin is not None and not _same_origin(origin, headers.get("host", "")):
            return error(403, "cross_origin", f"a WebSocket from the page at {origin!r} is refused")
    elif method not in SAFE_METHODS:
        origin = headers.get("origin")
        if origin is not None and not _same_origin(origin, headers.get("host", "")):
            return error(403, "cross_origin", f"a request from the page at {origin!r} may not change this library")
        if origin is None and headers.get("sec-fetch-site") in ("cross-site", "same-site"):
            return error(403, "cross_origin", "a request from another site may not change this library")
    path = scope.get("path", "")
    if not settings.api_token or path in OPEN or has_token(headers, settings.api_token):
        return None
    if websocket and _query_token(scope, settings.api_token):  # a browser cannot set a WebSocket's headers
        return None
    if path == "/" and method in ("GET", "HEAD"):  # a person opening the page: to the login form
        return RedirectResponse("/login", status_code=303)
    return error(401, "unauthorized", "this server needs its token: `Authorization: Bearer <DAM_API_TOKEN>` "
                 "or sign in at /login", {"WWW-Authenticate": "Bearer"})


def _query_token(scope: Scope, token: str) -> bool:
    given = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token") or [""])[0]
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def _same_origin(origin: str, host: str) -> bool:
    parts = urlsplit(origin.strip())
    return parts.scheme in ("http", "https") and bool(host) and parts.netloc.lower() == host.strip().lower()


def _checks_json(headers: Headers) -> bool:
    """Bodies a route may parse as JSON: all but form posts and uploads (those are streamed by
    their routes, with their own limits)."""
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    return not kind.startswith("multipart/") and kind != "application/x-www-form-urlencoded"


async def _bounded_body(receive: Receive, headers: Headers) -> bytes | Response:
    too_large = error(413, "too_large", f"a JSON body is limited to {MAX_JSON_BYTES >> 20} MB")
    try:
        if int(headers.get("content-length") or 0) > MAX_JSON_BYTES:
            return too_large
    except ValueError:
        return error(400, "bad_request", "the Content-Length header is not a number")
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return Response(status_code=400)  # nobody is listening any more
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_JSON_BYTES:
            return too_large
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    if json_depth(body) > MAX_JSON_DEPTH:
        return error(422, "too_deep", f"JSON nested deeper than {MAX_JSON_DEPTH} levels is refused")
    return body


def _json_errors(send: Send) -> Send:
    """Errors Starlette and FastAPI answer themselves in text/plain (a malformed body, a bad
    Range, 405...) become `{error, detail}` like dam's own."""
    held: Message | None = None
    chunks: list[bytes] = []

    async def wrapped(message: Message) -> None:
        nonlocal held
        if message["type"] == "http.response.start":
            kind = Headers(raw=message.get("headers", [])).get("content-type", "")
            if message["status"] >= 400 and "json" not in kind:
                held = message
                return
        elif message["type"] == "http.response.body" and held is not None:
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            text = b"".join(chunks).decode("utf-8", "replace").strip()
            status = held["status"]
            phrase = HTTPStatus(status).phrase.lower().replace(" ", "_") if status in HTTPStatus._value2member_map_ else "error"
            body = json.dumps({"error": phrase, "detail": text or phrase.replace("_", " ")}).encode()
            headers = [(k, v) for k, v in held.get("headers", []) if k.lower() not in (b"content-type", b"content-length")]
            await send({**held, "headers": headers + [(b"content-type", b"application/json"),
                                                       (b"content-length", str(len(body)).encode())]})
            held = None
            return await send({"type": "http.response.body", "body": body, "more_body": False})
        await send(message)

    return wrapped


def _replay(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: the disconnect, when it comes

    return again


def json_parser_errors() -> None:
    """uvicorn answers a request its HTTP parser refuses itself, in text/plain, before any app
    sees it: malformed HTTP, or a URL over 64 KB (its URL parser keeps 16-bit offsets, so a 100k
    character `q` never reaches the route's 422). Called in the process that serves dam's port,
    so those answers are `{error, detail}` too."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    if getattr(HttpToolsProtocol.send_400_response, "dam_json", False):
        return

    def send_400_response(self: HttpToolsProtocol, msg: str) -> None:
        body = json.dumps({"error": "bad_request", "detail": f"{msg} (malformed HTTP, or a URL over 64 KB)"}).encode()
        head = [b"HTTP/1.1 400 Bad Request\r\n"] + [n + b": " + v + b"\r\n" for n, v in self.server_state.default_headers]
        head += [b"content-type: application/json\r\n", b"content-length: %d\r\n" % len(body), b"connection: close\r\n\r\n"]
        self.transport.write(b"".join(head) + body)
        self.transport.close()

    send_400_response.dam_json = True  # type: ignore[attr-defined]
    HttpToolsProtocol.send_400_response = send_400_response
