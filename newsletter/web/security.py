"""What every response of our web apps carries, and what every state-changing request must show.

- Headers: a Content-Security-Policy without inline scripts (the studio's one script is a file
  the app serves; the public pages run none), no framing by other sites, no MIME sniffing, no
  referrer outside. The studio's email preview, shown in a sandboxed frame of the studio
  itself, gets a policy of its own: its inline styles are the email's, and it may run nothing.
- CSRF: a random token in a SameSite=Strict, HttpOnly cookie, repeated in a hidden field of
  every form (the double-submit pattern); a POST whose field does not match it, or whose
  Origin is another site's, is refused before it reaches the edit. A site we trust (the
  archive, whose static pages carry the subscribe form) is known by its Origin alone: its
  pages cannot carry our cookie.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

CSRF_COOKIE = "newsletter_csrf"
CSRF_FIELD = "csrf"
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: http:; "
    "frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)
EMAIL_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

Scope = MutableMapping[str, Any]
Call = Callable[[Request], Awaitable[Response]]
Dispatch = Callable[[Request, Call], Awaitable[Response]]


def csrf_token(request: Request) -> str:
    """The token this browser's forms carry: its cookie's, or a new one (set on the way out)."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token:
        token = request.state.new_csrf = secrets.token_urlsafe(32)
    return str(token)


def guarded(policy: Callable[[Request], str]) -> Dispatch:
    """An app's middleware: the headers on every answer (`policy` gives its CSP), and no
    state-changing request that has not been through checked_form (a route that forgets it
    fails closed)."""

    async def guard(request: Request, call_next: Call) -> Response:
        response = await call_next(request)
        unchecked = not getattr(request.state, "form_checked", False)
        if request.method not in SAFE_METHODS and unchecked and response.status_code < 400:
            response = PlainTextResponse("refused: an unchecked form", status_code=403)
        return _secured(response, request, policy(request))

    return guard


def _studio_policy(request: Request) -> str:
    email = request.url.path.endswith(("/email.html", "/email.txt"))
    return EMAIL_POLICY if email else PAGE_POLICY


guard = guarded(_studio_policy)  # the studio's


async def checked_form(
    request: Request, trusted_origins: Collection[str] = (), own_origin: str | None = None
) -> dict[str, str] | Response:
    """A POST's fields, if it comes from a form of this app in this browser (or from a page
    of a site in `trusted_origins`); else the refusal to send back. Every state-changing
    route starts with it. `own_origin` is the app's address as browsers see it, when a proxy
    in front changes the scheme or host the app sees."""
    request.state.form_checked = True
    form = {key: str(value) for key, value in (await request.form()).items()}
    origin = request.headers.get("origin")
    if origin and origin in trusted_origins:
        return form  # a browser sets Origin itself: no page of another site can claim it
    seen = f"{request.url.scheme}://{request.url.netloc}"
    if origin and origin not in (seen, own_origin):
        return PlainTextResponse("refused: this request comes from another site", 403)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), form.get(CSRF_FIELD, "").encode()):
        return PlainTextResponse(
            "refused: the form's security token is missing or stale; reload the page", 403
        )
    return form


def authorised_by_link(request: Request) -> None:
    """Let a POST through without checked_form: for a route whose authority is a signed token
    in its own URL, not this browser's cookie, and which other sites post to by design (RFC
    8058's one-click unsubscribe, posted by mail providers)."""
    request.state.form_checked = True


def _secured(response: Response, request: Request, policy: str) -> Response:
    response.headers["Content-Security-Policy"] = policy
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    framed = "frame-ancestors 'self'" in policy
    response.headers["X-Frame-Options"] = "SAMEORIGIN" if framed else "DENY"
    response.headers.setdefault("Cache-Control", "no-store")
    new = getattr(request.state, "new_csrf", None)
    if new:
        response.set_cookie(CSRF_COOKIE, new, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")  # fmt: skip
    return response


class LimitedBody:
    """ASGI middleware: a request body over `limit` bytes gets 413 before any route sees it
    (Starlette reads a form whole; the public pages are open to anyone). The body is read
    here first, counted as it comes (a chunked one has no length to trust), then handed on."""

    def __init__(self, app: Any, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length", b"0")
        body, more = b"", int(declared) <= self.limit if declared.isdigit() else False
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            more = message.get("more_body", False) and len(body) <= self.limit
        if len(body) > self.limit or not declared.isdigit() or int(declared) > self.limit:
            await PlainTextResponse("refused: the request is too large", 413)(scope, receive, send)
            return
        given = False

        async def replay() -> Any:
            nonlocal given
            if given:
                return await receive()
            given = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
