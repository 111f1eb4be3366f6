"""The dashboard's pages on the worker's own web server, and the guard in front of every page.

`/dashboard/` is a static page (`static/`, vendored libraries in `static/vendor/`) that polls
`/dashboard/live.json` once a second; `/dashboard/csv/{table}.csv` exports each table. Every
dashboard response carries a Content-Security-Policy that allows scripts, styles and requests
from the worker itself only (no inline script, no other origin). With `RESONANCE_WEB_TOKEN` set,
every page of the web server (`/metrics` included) asks for it: `Authorization: Bearer TOKEN`,
or `?token=TOKEN` once, which sets a same-site, HTTP-only cookie for the page's own requests.
"""

from __future__ import annotations

import csv
import hmac
import io
import time
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

import faust
import orjson
from aiohttp import web as aiohttp_web

from agents.dashboard.header import Header
from agents.dashboard.store import Json, Store, encode_bounded

TOKEN_COOKIE = "resonance_token"  # noqa: S105 - the cookie's name, not a secret
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
}
# The page's own files and the vendored libraries (name under static/ -> served name).
STATIC_FILES = (
    "dashboard.js",
    "dashboard.css",
    "favicon.svg",
    "vendor/uPlot.iife.min.js",
    "vendor/uPlot.min.css",
    "vendor/uPlot.LICENSE.txt",
)
LIVE_CACHE_SECONDS = 1.0  # one document per second, however many pages poll
CSV_INJECTION = ("=", "+", "-", "@", "\t", "\r")

Handler = Callable[[aiohttp_web.Request], Awaitable[aiohttp_web.StreamResponse]]


def _static(name: str) -> bytes:
    return resources.files("agents.dashboard").joinpath("static", name).read_bytes()


def _content_type(name: str) -> str:
    return CONTENT_TYPES[name[name.rfind(".") :]]


def authorized(request: aiohttp_web.Request, token: str) -> bool:
    """Whether `request` carries `token` (bearer header, cookie or `token` query parameter)."""
    offered = [
        request.headers.get("Authorization", "").removeprefix("Bearer "),
        request.cookies.get(TOKEN_COOKIE, ""),
        request.query.get("token", ""),
    ]
    return any(hmac.compare_digest(candidate.encode(), token.encode()) for candidate in offered if candidate)


def guard(token: str) -> Callable[[aiohttp_web.Request, Handler], Awaitable[aiohttp_web.StreamResponse]]:
    """The web server's middleware: the token check (when `token` is set) before every page, the
    security headers on every dashboard response.
    """

    @aiohttp_web.middleware
    async def middleware(request: aiohttp_web.Request, handler: Handler) -> aiohttp_web.StreamResponse:
        if token and not authorized(request, token):
            return aiohttp_web.Response(
                status=401,
                text="401: this worker's web server needs RESONANCE_WEB_TOKEN: add ?token=... "
                "or an Authorization: Bearer header\n",
                headers={"WWW-Authenticate": 'Bearer realm="resonance"', **SECURITY_HEADERS},
            )
        response = await handler(request)
        if request.path.startswith("/dashboard"):
            response.headers.update(SECURITY_HEADERS)
        if token and request.query.get("token"):
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict", path="/")
        return response

    return middleware


def _cell(value: Any) -> str:
    """One CSV cell: lists joined by spaces, objects as JSON, formula-like text quoted with `'`."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        text = " ".join(_cell(item) for item in value)
    elif isinstance(value, dict):
        text = orjson.dumps(value).decode()
    else:
        text = str(value)
    return f"'{text}" if text.startswith(CSV_INJECTION) else text


def to_csv(rows: list[Json]) -> str:
    """`rows` as CSV with a header line (the first row's keys, nested series left out)."""
    out = io.StringIO()
    columns = [name for name in (rows[0] if rows else {}) if name != "series"]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in columns])
    return out.getvalue()


def csv_tables(document: Json) -> dict[str, list[Json]]:
    """Every table of the page, by the name it is exported as, from a live document."""
    return {
        "influence": document["influence"]["leaderboard"],
        "hashtags": document["hashtags"],
        "cascades": document["cascades"],
        "echo_chambers": document["layers"],
        "coordination": document["coordination"],
        "alerts": document["alerts"],
        "hashtag_pairs": [
            {"tag": a, "other": b, "tweets": n}
            for a, b, n in (document["hashtag_graph"] or {}).get("top_pairs", [])
        ],
    }


def register_pages(app: faust.App, *, store: Store, header: Header, token: str) -> None:
    """The dashboard's pages and the guard, on `app`'s web server."""
    server: Any = app.web  # Faust's aiohttp driver: its aiohttp application is `web_app`
    server.web_app.middlewares.append(guard(token))
    files = {name: _static(name) for name in STATIC_FILES}
    index = _static("index.html")
    cached: dict[str, Any] = {"at": float("-inf"), "bytes": b"", "document": None}

    def document() -> tuple[bytes, Json]:
        now = time.time()
        if now - cached["at"] >= LIVE_CACHE_SECONDS:
            view = store.view(header.view(), now)
            cached.update(at=now, bytes=encode_bounded(view), document=view)
        return cached["bytes"], cached["document"]

    @app.page("/dashboard")
    async def to_dashboard(_view: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        raise aiohttp_web.HTTPFound(
            "/dashboard/" + (f"?{request.query_string}" if request.query_string else "")
        )

    @app.page("/dashboard/")
    async def dashboard(_view: faust.web.View, _request: faust.web.Request) -> faust.web.Response:
        return aiohttp_web.Response(body=index, content_type="text/html", charset="utf-8")  # type: ignore[return-value]

    @app.page("/dashboard/live.json")
    async def live(_view: faust.web.View, _request: faust.web.Request) -> faust.web.Response:
        return aiohttp_web.Response(body=document()[0], content_type="application/json")  # type: ignore[return-value]

    @app.page("/dashboard/csv/{table}.csv")
    async def export(_view: faust.web.View, _request: faust.web.Request, table: str) -> faust.web.Response:
        rows = csv_tables(document()[1]).get(table)
        if rows is None:
            raise aiohttp_web.HTTPNotFound(text=f"no table {table!r}")
        return aiohttp_web.Response(  # type: ignore[return-value]
            text=to_csv(rows),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="resonance-{table}.csv"'},
        )

    @app.page("/dashboard/static/{name:.+}")
    async def static(_view: faust.web.View, _request: faust.web.Request, name: str) -> faust.web.Response:
        if name not in files:
            raise aiohttp_web.HTTPNotFound
        return aiohttp_web.Response(body=files[name], headers={"Content-Type": _content_type(name)})  # type: ignore[return-value]
