"""What every studio response carries, and what every state-changing request must show.

- Headers: a Content-Security-Policy without inline scripts (the one script is a file the app
  serves), no framing by other sites, no MIME sniffing, no referrer outside.
  The email preview, shown in a sandboxed frame of the studio itself, gets a policy of its own:
  its inline styles are the email's, and it may run nothing.
- CSRF: a random token in a SameSite=Strict, HttpOnly cookie, repeated in a hidden field of
  every form (the double-submit pattern); a POST whose field does not match it, or whose
  Origin is another site's, is refused before it reaches the edit.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
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


def csrf_token(request: Request) -> str:
    """The token this browser's forms carry: its cookie's, or a new one (set on the way out)."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token:
        token = request.state.new_csrf = secrets.token_urlsafe(32)
    return str(token)


async def guard(request: Request, call_next: Call) -> Response:
    """The studio's middleware: the headers on every answer, and no state-changing request
    that has not been through checked_form (a route that forgets it fails closed)."""
    response = await call_next(request)
    unchecked = not getattr(request.state, "form_checked", False)
    if request.method not in SAFE_METHODS and unchecked and response.status_code < 400:
        response = PlainTextResponse("refused: an unchecked form", status_code=403)
    return _secured(response, request)


async def checked_form(request: Request) -> dict[str, str] | Response:
    """A POST's fields, if it comes from a form of this studio in this browser; else the
    refusal to send back. Every state-changing route starts with it."""
    request.state.form_checked = True
    form = {key: str(value) for key, value in (await request.form()).items()}
    origin = request.headers.get("origin")
    if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
        return PlainTextResponse("refused: this request comes from another site", 403)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), form.get(CSRF_FIELD, "").encode()):
        return PlainTextResponse(
            "refused: the form's security token is missing or stale; reload the page", 403
        )
    return form


def _secured(response: Response, request: Request) -> Response:
    email = request.url.path.endswith(("/email.html", "/email.txt"))
    response.headers["Content-Security-Policy"] = EMAIL_POLICY if email else PAGE_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "SAMEORIGIN" if email else "DENY"
    response.headers.setdefault("Cache-Control", "no-store")
    new = getattr(request.state, "new_csrf", None)
    if new:
        response.set_cookie(CSRF_COOKIE, new, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")  # fmt: skip
    return response
