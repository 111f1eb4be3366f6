"""The dashboard is safe by default: a token guards every page when set, dashboard responses forbid
inline script, exported CSV cannot smuggle formulas, and a worker exposed beyond loopback without a
token refuses to start.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import ClientSession, CookieJar, web
from aiohttp.test_utils import TestServer

from agents.dashboard.web import CONTENT_SECURITY_POLICY, TOKEN_COOKIE, guard, to_csv
from agents.preflight import exposed_without_token
from agents.settings import Settings
from support import new_deployment

STATIC = Path(__file__).resolve().parents[1] / "agents" / "dashboard" / "static"
TOKEN = "s3cret-token"  # noqa: S105 - a test token

Check = Callable[[ClientSession, str], Awaitable[None]]


def serve(token: str, check: Check) -> None:
    """Run `check(session, base_url)` against a web server with the guard and two pages."""

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def run() -> None:
        app = web.Application(middlewares=[guard(token)])
        app.router.add_get("/dashboard/", page)
        app.router.add_get("/metrics", page)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            # unsafe: keep cookies set by an IP address, as browsers do
            async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as session:
                await check(session, str(server.make_url("")).rstrip("/"))
        finally:
            await server.close()

    asyncio.run(run())


@pytest.mark.parametrize("path", ["/dashboard/", "/metrics"])
def test_with_a_token_a_page_without_it_is_refused(path: str) -> None:
    """With RESONANCE_WEB_TOKEN set, /dashboard/ and /metrics answer 401 to a request without it."""

    async def check(session: ClientSession, base: str) -> None:
        async with session.get(base + path) as response:
            assert response.status == 401
            assert "RESONANCE_WEB_TOKEN" in await response.text()

    serve(TOKEN, check)


@pytest.mark.parametrize("path", ["/dashboard/", "/metrics"])
def test_a_bearer_token_opens_the_pages(path: str) -> None:
    """The right bearer token is let through; a wrong one is not."""

    async def check(session: ClientSession, base: str) -> None:
        async with session.get(base + path, headers={"Authorization": f"Bearer {TOKEN}"}) as response:
            assert response.status == 200
        async with session.get(base + path, headers={"Authorization": "Bearer wrong"}) as response:
            assert response.status == 401

    serve(TOKEN, check)


def test_the_token_in_the_address_sets_a_cookie_for_the_pages_own_requests() -> None:
    """`?token=` once sets an HTTP-only same-site cookie, with which later requests pass."""

    async def check(session: ClientSession, base: str) -> None:
        async with session.get(f"{base}/dashboard/?token={TOKEN}") as response:
            assert response.status == 200
            cookie = response.headers["Set-Cookie"]
            assert f"{TOKEN_COOKIE}={TOKEN}" in cookie
            assert "HttpOnly" in cookie
            assert "SameSite=Strict" in cookie
        async with session.get(f"{base}/metrics") as response:  # the session sends the cookie back
            assert response.status == 200

    serve(TOKEN, check)


def test_without_a_token_pages_are_open_and_dashboard_responses_forbid_inline_script() -> None:
    """With no token (loopback), pages answer; dashboard responses carry the CSP that allows
    scripts from the worker itself only.
    """

    async def check(session: ClientSession, base: str) -> None:
        async with session.get(base + "/dashboard/") as response:
            assert response.status == 200
            policy = response.headers["Content-Security-Policy"]
            assert policy == CONTENT_SECURITY_POLICY
            assert "script-src 'self'" in policy
            assert "unsafe-inline" not in policy
            assert response.headers["X-Content-Type-Options"] == "nosniff"

    serve("", check)


def test_the_page_has_no_inline_script_and_inserts_no_markup() -> None:
    """index.html loads scripts by `src` only, has no event-handler attributes, and the page's
    script never writes markup (innerHTML and the like).
    """
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert re.findall(r"\son[a-z]+\s*=", html) == []
    assert re.findall(r"https?://", html) == []  # nothing from the network
    script = (STATIC / "dashboard.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script


def test_csv_cells_that_look_like_formulas_are_quoted() -> None:
    """A hashtag or user id starting with =, +, - or @ is exported with a leading quote."""
    text = to_csv([{"tag": "=HYPERLINK(1)", "count": -3, "users": ["@a", "b"], "x": None}])
    assert text.splitlines() == ["tag,count,users,x", "'=HYPERLINK(1),'-3,'@a b,"]


@pytest.mark.parametrize(
    ("host", "token", "argv", "refused"),
    [
        ("127.0.0.1", "", [], False),
        ("localhost", "", [], False),
        ("::1", "", [], False),
        ("0.0.0.0", "", [], True),  # noqa: S104 - the exposure under test
        ("0.0.0.0", TOKEN, [], False),  # noqa: S104
        ("example.org", "", [], True),
        ("127.0.0.1", "", ["worker", "--web-bind", "0.0.0.0"], True),  # noqa: S104
        ("127.0.0.1", "", ["worker", "--web-bind=192.168.1.5"], True),
        ("0.0.0.0", "", ["worker", "--without-web"], False),  # noqa: S104
    ],
)
def test_a_reachable_web_server_needs_a_token(host: str, token: str, argv: list[str], refused: bool) -> None:  # noqa: FBT001
    """A non-loopback address (setting or --web-bind) without RESONANCE_WEB_TOKEN is refused."""
    problem = exposed_without_token(Settings(web_host=host, web_token=token), argv)
    assert (problem is not None) == refused
    if problem:
        assert "RESONANCE_WEB_TOKEN" in problem


def test_the_worker_refuses_to_start_exposed_without_a_token(tmp_path: Path) -> None:
    """`resonance worker` with RESONANCE_WEB_HOST=0.0.0.0 and no token exits 2 with one line."""
    deployment = new_deployment("127.0.0.1:9", tmp_path)  # never reached: the check comes first
    result = deployment.run("worker", timeout=60, RESONANCE_WEB_HOST="0.0.0.0", RESONANCE_WEB_TOKEN="")  # noqa: S104
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("resonance: the web server would listen on 0.0.0.0"), result.stderr
    assert len([line for line in lines if not line.startswith("resonance: warning:")]) == 1
