"""`newsletter serve`: each newsletter's public pages, where people subscribe, confirm, leave
and choose what they get. An ASGI app of its own, apart from the studio (which is internal):
`newsletter serve` runs it under uvicorn, and any ASGI server can, with
`uvicorn --factory newsletter.web.public:app_from_environment`.

What the pages do is audience's (newsletter/audience.py); here are the requests. Links carry
an opaque, signed token (newsletter/tokens.py), never an address. No answer tells whether an
address is on a list: the subscribe form says the same to everyone, at once, and its work is
done afterwards (web/joining.py). Every form post counts against its client address's hourly
allowance, but for an unsubscribe, which is never refused.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
import jinja2.nodes
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from newsletter import audience
from newsletter.config import SIGNING_KEY_ENV, Config, NewsletterConfig, web_origin
from newsletter.errors import NewsletterError
from newsletter.headers import HeaderKind, header_problem
from newsletter.labels import PUBLIC_PAGES, Labels, language_name, public_labels
from newsletter.model import Subscriber
from newsletter.web.joining import Joining, JoinRequest, join_and_confirm
from newsletter.web.security import (
    CSRF_FIELD,
    Call,
    LimitedBody,
    authorised_by_link,
    checked_form,
    csrf_token,
)
from newsletter.web.security import guarded as guarded_by
from newsletter.web.sessions import Attempts
from newsletter.workspace import Workspace

TEMPLATES = PUBLIC_PAGES
POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
MAX_BODY = 16 * 1024  # bytes of a form post: the largest of ours is well under 1 KB
HONEYPOT = "website"  # a field people never see; robots fill it
HOUR = 3600.0


def required_key(config: Config) -> bytes:
    """The secret that signs the pages' links, once it is sure the pages can be served and
    send their emails; else a NewsletterError saying what is missing."""
    from newsletter.export.sending import smtp_password

    if not config.subscriptions.url:
        raise NewsletterError(
            "[subscriptions] url is not set: say where the public pages are served, such as "
            '"https://example.org/newsletters/"'
        )
    secret = os.environ.get(SIGNING_KEY_ENV)
    if not secret:
        raise NewsletterError(
            f"set ${SIGNING_KEY_ENV}: the secret `newsletter send` signs unsubscribe links with"
        )
    smtp_password(config.smtp)  # the confirmation emails' server: its password is set
    return secret.encode()


def page_templates() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(("html.j2",), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["fill"] = fill
    environment.filters["language_name"] = language_name
    return environment


@jinja2.pass_eval_context
def fill(context: jinja2.nodes.EvalContext, label: str, **values: object) -> str:
    """A label with its {placeholders} filled: in HTML the values escaped, the label's own
    typography kept (a name is shown, never run)."""
    if context.autoescape:
        return Markup.escape(label).format(**values)
    return label.format(**values)


def words_of(config: Config, newsletter: NewsletterConfig | None) -> Labels:
    """The pages' words in the newsletter's language (the archive's, for no newsletter)."""
    return public_labels(newsletter.language if newsletter else config.archive.language)


def app_from_environment() -> Starlette:
    """The app of the workspace $NEWSLETTER_CONFIG names (else the newsletter.toml of the
    working folder or above): for `uvicorn --factory` and other ASGI servers."""
    given = os.environ.get("NEWSLETTER_CONFIG")
    return make_public_app(Workspace(Path(given) if given else None))


def make_public_app(workspace: Workspace) -> Starlette:
    """The public pages of every newsletter of `workspace`, at /<newsletter>/<page>."""
    config = workspace.config
    key = required_key(config)
    max_age = config.subscriptions.confirm_hours * HOUR
    pages = page_templates()
    for newsletter in (None, *config.newsletters.values()):
        words_of(config, newsletter)  # a language without every word refuses to start
    joining = Joining(partial(join_and_confirm, workspace, key, pages))
    allowance = Attempts(config.subscriptions.requests_per_hour, HOUR)
    trusted = config.subscriptions.allowed_origins
    public_origin = web_origin(config.subscriptions.url or "")  # behind a proxy, what browsers send

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("newsletter", None)
        context.setdefault("labels", words_of(config, context["newsletter"]))
        path = request.url.path.removeprefix(request.scope.get("root_path", ""))
        context.update(
            csrf=partial(csrf_token, request),
            csrf_field=CSRF_FIELD,
            root="../" * (path.count("/") - 1),
        )
        return HTMLResponse(pages.get_template(name).render(context), status_code=status)

    def message(
        request: Request,
        title: str,
        paragraphs: tuple[str, ...],
        status: int = 200,
        newsletter: NewsletterConfig | None = None,
        link: tuple[str, str] | None = None,
    ) -> HTMLResponse:
        return page(
            request,
            "message.html.j2",
            status,
            title=title,
            paragraphs=paragraphs,
            newsletter=newsletter,
            link=link,
        )

    def missing(request: Request, _error: Exception | None = None) -> Response:
        said = words_of(config, None)
        return message(request, said.not_found, (said.no_such_page,), 404)

    def invalid(request: Request, newsletter: NewsletterConfig) -> Response:
        """The one answer to any bad token: forged, altered, expired, another newsletter's."""
        said = words_of(config, newsletter)
        return message(request, said.invalid_title, (said.invalid,), 400, newsletter)

    def newsletter_of(request: Request) -> NewsletterConfig | None:
        return config.newsletters.get(request.path_params["newsletter"])

    def token_of(request: Request) -> str:
        return request.query_params.get("t", "")

    async def throttle(request: Request, call_next: Call) -> Response:
        """Each client address makes so many form posts an hour; an unsubscribe is never
        refused (mail providers post them from few addresses)."""
        if request.method == "POST" and not request.url.path.endswith("/unsubscribe"):
            wait = allowance.take(client_of(request))
            if wait:
                # Not routed yet (no path_params): the newsletter from the path itself.
                path = request.url.path.removeprefix(request.scope.get("root_path", ""))
                newsletter = config.newsletters.get(path.strip("/").split("/")[0])
                said = words_of(config, newsletter)
                minutes = said.too_many.format(minutes=int(wait // 60) + 1)
                answer = message(request, said.too_many_title, (minutes,), 429, newsletter)
                answer.headers["Retry-After"] = str(int(wait) + 1)
                return answer
        return await call_next(request)

    def subscribe_form(
        request: Request,
        newsletter: NewsletterConfig,
        values: dict[str, str] | None = None,
        error: str = "",
        status: int = 200,
    ) -> Response:
        shown = {"email": "", "name": "", "language": newsletter.language, **(values or {})}
        return page(
            request,
            "subscribe.html.j2",
            status,
            title=words_of(config, newsletter).subscribe_title.format(name=newsletter.name),
            newsletter=newsletter,
            values=shown,
            error=error,
            honeypot=HONEYPOT,
            languages=list(newsletter.languages),
        )

    def subscribe_page(request: Request) -> Response:
        newsletter = newsletter_of(request)
        return subscribe_form(request, newsletter) if newsletter else missing(request)

    async def subscribe(request: Request) -> Response:
        newsletter = newsletter_of(request)
        if newsletter is None:
            return missing(request)
        form = await checked_form(request, trusted, public_origin)
        if isinstance(form, Response):
            return form
        said = words_of(config, newsletter)
        sent = message(request, said.sent_title, (said.sent, said.sent_after), 200, newsletter)
        if form.get(HONEYPOT):
            return sent  # the same answer as anyone's, and nothing done
        who = _visitor(form, list(newsletter.languages), said)
        if isinstance(who, str):
            return subscribe_form(request, newsletter, form, who, 400)
        origin = request.headers.get("origin", "")
        source = f"the subscribe form on {origin}" if origin in trusted else "the subscribe form"
        # Queued once the answer is sent, not before: its work cannot slow this answer down.
        sent.background = BackgroundTask(joining.ask, JoinRequest(newsletter.slug, who, source))
        return sent

    def confirm_page(request: Request) -> Response:
        newsletter = newsletter_of(request)
        if newsletter is None:
            return missing(request)
        token = token_of(request)
        if audience.confirmation_of(newsletter.slug, token, key, max_age) is None:
            return invalid(request, newsletter)
        return page(
            request,
            "confirm.html.j2",
            title=words_of(config, newsletter).confirm_title,
            newsletter=newsletter,
            token=token,
        )

    async def confirm(request: Request) -> Response:
        newsletter = newsletter_of(request)
        if newsletter is None:
            return missing(request)
        form = await checked_form(request, own_origin=public_origin)
        if isinstance(form, Response):
            return form
        address = await run_in_threadpool(
            audience.confirm,
            workspace.pool,
            newsletter.slug,
            token_of(request),
            key,
            max_age,
            f"the confirmation link, from {client_of(request)}",
        )
        if address is None:
            return invalid(request, newsletter)
        own = audience.own_token(newsletter.slug, address, key)
        said = words_of(config, newsletter)
        return message(
            request,
            said.confirmed_title,
            (said.confirmed.format(name=newsletter.name),),
            200,
            newsletter,
            (said.your_preferences, f"preferences?t={own}"),
        )

    def unsubscribe_page(request: Request) -> Response:
        newsletter = newsletter_of(request)
        if newsletter is None:
            return missing(request)
        token = token_of(request)
        if audience.subscriber_of(newsletter.slug, token, key) is None:
            return invalid(request, newsletter)
        title = words_of(config, newsletter).unsubscribe
        return page(request, "unsubscribe.html.j2", title=title, newsletter=newsletter, token=token)

    async def unsubscribe(request: Request) -> Response:
        """RFC 8058's one click: a POST whose body says `List-Unsubscribe=One-Click`, from the
        mail provider's button or the page's own, unsubscribes at once. The token in the URL
        is the authority; mail providers post it from their own sites: no CSRF check."""
        authorised_by_link(request)
        newsletter = newsletter_of(request)
        if newsletter is None:
            return missing(request)
        form = await request.form()
        if form.get("List-Unsubscribe") != "One-Click":
            return invalid(request, newsletter)
        done = await run_in_threadpool(
            audience.unsubscribe,
            workspace.pool,
            newsletter.slug,
            token_of(request),
            key,
            "one click",
        )
        if not done:
            return invalid(request, newsletter)
        said = words_of(config, newsletter)
        return message(
            request,
            said.unsubscribed_title,
            (said.unsubscribed.format(name=newsletter.name),),
            200,
            newsletter,
            (said.subscribe_again, "subscribe"),
        )

    def preferences_page(request: Request, notice: str = "") -> Response:
        newsletter = newsletter_of(request)
        if newsletter is None:
            return missing(request)
        token = token_of(request)
        address = audience.subscriber_of(newsletter.slug, token, key)
        if address is None:
            return invalid(request, newsletter)
        record = audience.record_of(workspace.pool, newsletter.slug, address)
        return page(
            request,
            "preferences.html.j2",
            title=words_of(config, newsletter).preferences_title,
            newsletter=newsletter,
            record=record,
            token=token,
            notice=notice,
            languages=list(newsletter.languages),
        )

    async def preferences(request: Request) -> Response:
        newsletter = newsletter_of(request)
        if newsletter is None:
            return missing(request)
        form = await checked_form(request, own_origin=public_origin)
        if isinstance(form, Response):
            return form
        address = audience.subscriber_of(newsletter.slug, token_of(request), key)
        if address is None:
            return invalid(request, newsletter)
        chosen = form.get("language")
        language = chosen if chosen in list(newsletter.languages) else None
        await run_in_threadpool(
            audience.set_preferences,
            workspace.pool,
            newsletter,
            address,
            language=language,
            paused=form.get("paused") == "1",
        )
        saved = words_of(config, newsletter).saved
        return await run_in_threadpool(preferences_page, request, saved)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        joining.start()
        try:
            yield {}
        finally:
            await run_in_threadpool(joining.stop)

    routes = [
        Route("/{newsletter}/subscribe", subscribe_page),
        Route("/{newsletter}/subscribe", subscribe, methods=["POST"]),
        Route("/{newsletter}/confirm", confirm_page),
        Route("/{newsletter}/confirm", confirm, methods=["POST"]),
        Route("/{newsletter}/unsubscribe", unsubscribe_page),
        Route("/{newsletter}/unsubscribe", unsubscribe, methods=["POST"]),
        Route("/{newsletter}/preferences", preferences_page),
        Route("/{newsletter}/preferences", preferences, methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(TEMPLATES / "static")), name="static"),
    ]
    middleware = [
        Middleware(LimitedBody, limit=MAX_BODY),
        Middleware(BaseHTTPMiddleware, dispatch=guarded_by(lambda _: POLICY)),
        Middleware(BaseHTTPMiddleware, dispatch=throttle),
    ]
    app = Starlette(
        routes=routes, middleware=middleware, lifespan=lifespan, exception_handlers={404: missing}
    )
    app.state.joining = joining  # tests wait for its work
    return app


def client_of(request: Request) -> str:
    """The client's address (the proxy's X-Forwarded-For hop when uvicorn trusts it); for
    IPv6 its /64, which one household or server holds whole."""
    import ipaddress

    host = request.client.host if request.client else "?"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return host


def _visitor(form: dict[str, str], languages: list[str], said: Labels) -> Subscriber | str:
    """Who the form names, or what to correct (the same for any address of the right form)."""
    from email_validator import EmailNotValidError

    from newsletter.export.subscribers import checked_address

    try:
        address, ascii_address = checked_address(form.get("email", "").strip())
    except EmailNotValidError:
        return said.bad_address
    name = form.get("name", "").strip()
    if header_problem(name, HeaderKind.NAME):
        return said.bad_name
    chosen = form.get("language", "")
    return Subscriber(address, name, ascii_address, chosen if chosen in languages else "")
