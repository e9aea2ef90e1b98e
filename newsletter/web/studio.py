"""The editors' studio: the pool, the issues, and an issue's editor with its preview and checks,
in the browser, on the same library and the same issue files as the CLI.

Pages are rendered on the server and work without any script: each action is a form (a
button), so every one is reachable by keyboard and the page after it puts the focus back on
the item acted on. One small script of ours (static/studio.js) adds drag and drop, posting
the same forms. Each edit names the version of the file it was made on (`made_on`, a
digest): if a command, a git pull or another tab changed the file since, the edit is refused
and nothing is lost (issue.writing.edited checks it under the file's lock).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from newsletter.errors import NewsletterError
from newsletter.issue import (
    SLUG,
    Issue,
    IssueItem,
    edition_language,
    edition_paths,
    issue_files,
    issue_path,
    main_slug,
    newsletter_of,
    read_issue,
)
from newsletter.issue.writing import ChangedMeanwhile, file_digest
from newsletter.model import ItemQuery, RenderedEmail
from newsletter.passwords import password_matches
from newsletter.render.theme import DEFAULT_THEME
from newsletter.web.security import CSRF_FIELD, checked_form, csrf_token, guard
from newsletter.web.sessions import (
    SESSION_COOKIE,
    SESSION_SECONDS,
    Attempts,
    session_key,
    session_user,
    signed_session,
)
from newsletter.workspace import Workspace

TEMPLATES = DEFAULT_THEME.parent / "studio"
POOL_PAGE = 100
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
LOOPBACK = ("127.0.0.1", "::1", "localhost")
_DARK_QUERY = re.compile(r"@media\s*\(prefers-color-scheme:\s*dark\)")


class Notice(Exception):
    """What an action that changes no file (a proof) or that ends the draft (publishing) says
    back to the editor."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Slot:
    """An item where the editor shows it: its section (None: the lead) and place there."""

    item: IssueItem
    section: str | None
    index: int
    last: bool


def make_app(workspace: Workspace, *, sign_in: bool = False) -> Starlette:
    """The studio of one workspace. On this machine alone no one signs in; with `sign_in`
    (serving beyond it), every page but the sign-in page needs a session of a user, and a
    reviewer may read everything but change nothing."""
    key = session_key(workspace.root) if sign_in else b""
    attempts = Attempts()
    pages = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        user = getattr(request.state, "user", None)
        context.update(csrf=csrf_token(request), csrf_field=CSRF_FIELD, user=user)
        return HTMLResponse(pages.get_template(name).render(context), status_code=status)

    def who(request: Request) -> tuple[str, str] | None:
        """(name, role) of the request's signed-in user, if any (looked up each time: a
        removed user's session ends at once)."""
        name = session_user(key, request.cookies.get(SESSION_COOKIE, ""))
        found = workspace.pool.user(name) if name else None
        return (name, found[0]) if name and found else None

    async def gate(request: Request, call_next: Any) -> Response:
        """With sign-in: a session for every page but the sign-in page and the static
        files, and no change by a reviewer."""
        path = request.url.path
        if not sign_in or path == "/login" or path.startswith("/static/"):
            return await call_next(request)  # type: ignore[no-any-return]
        user = await run_in_threadpool(who, request)
        if user is None:
            if request.method == "GET":
                return RedirectResponse(f"/login?{urlencode({'next': path})}", status_code=303)
            return PlainTextResponse("refused: sign in first", status_code=403)
        reviewing = path in ("/logout",) or path.endswith("/approve")
        if request.method not in ("GET", "HEAD") and user[1] != "editor" and not reviewing:
            return PlainTextResponse("refused: a reviewer reads; an editor changes issues", 403)
        request.state.user = user
        return await call_next(request)  # type: ignore[no-any-return]

    def login_page(request: Request, error: str = "", status: int = 200) -> Response:
        following = request.query_params.get("next", "/")
        return page(request, "login.html.j2", status, title="Sign in", error=error,
                    next=following if _local(following) else "/")  # fmt: skip

    async def login(request: Request) -> Response:
        form = await checked_form(request)
        if isinstance(form, Response):
            return form
        client = request.client.host if request.client else "?"
        wait = attempts.wait(client)
        if wait:
            return login_page(request, f"too many failed attempts: wait {int(wait) + 1} s", 429)
        name, password = form.get("name", ""), form.get("password", "")
        found = await run_in_threadpool(workspace.pool.user, name) if name else None
        if not found or not await run_in_threadpool(password_matches, password, found[1]):
            attempts.failed(client)
            return login_page(request, "no such user, or not that password", 403)
        following = form.get("next", "/")
        answer = RedirectResponse(following if _local(following) else "/", status_code=303)
        answer.set_cookie(SESSION_COOKIE, signed_session(key, name), max_age=SESSION_SECONDS,
                          httponly=True, samesite="strict",
                          secure=request.url.scheme == "https")  # fmt: skip
        return answer

    async def logout(request: Request) -> Response:
        form = await checked_form(request)
        if isinstance(form, Response):
            return form
        answer = RedirectResponse("/login", status_code=303)
        answer.delete_cookie(SESSION_COOKIE)
        return answer

    def found_path(request: Request) -> Path:
        """The issue file a URL names: a configured newsletter, a slug of the file names'
        form (no dots or slashes to climb out), a file that exists; else LookupError."""
        newsletter, slug = request.path_params["newsletter"], request.path_params["slug"]
        config = workspace.config
        if newsletter not in config.newsletters or not SLUG.match(slug):
            raise LookupError(f"no issue {newsletter}/{slug}")
        path = issue_path(config, newsletter, slug)
        if not path.is_file():
            raise LookupError(f"no issue {newsletter}/{slug}")
        return path

    def found_issue(request: Request) -> tuple[Path, Issue]:
        path = found_path(request)
        return path, read_issue(path, workspace.config)

    def home(request: Request) -> Response:
        issues, broken = [], []
        for path in issue_files(workspace.config):
            try:
                issues.append(read_issue(path, workspace.config))
            except NewsletterError as error:
                broken.append(str(error))
        issues.sort(key=lambda i: (i.status != "draft", -i.start.toordinal(), i.newsletter))
        return page(request, "home.html.j2", title="Issues", issues=issues, broken=broken)

    def pool(request: Request) -> Response:
        return page(request, "pool.html.j2", title="Pool", **pool_view(workspace, request))

    def editor(request: Request, error: str = "", status: int = 200, notice: str = "") -> Response:
        try:
            path, issue = found_issue(request)
        except LookupError as missing:
            return page(request, "missing.html.j2", 404, title="Not found", message=str(missing))
        from newsletter.export import FORMATS, check_issue_as_sent
        from newsletter.labels import language_name

        report = check_issue_as_sent(path, workspace.config)
        made_on = file_digest(path)
        newsletter = (
            newsletter_of(workspace.config, issue) or workspace.config.newsletters[issue.newsletter]
        )
        return page(
            request,
            "issue.html.j2",
            status,
            title=issue.title,
            issue=issue,
            slots=slots_of(issue),
            sections=[s.title for s in newsletter.sections] or [s.title for s in issue.sections],
            made_on=made_on,
            approved_by=workspace.pool.approved_by(issue.newsletter, issue.slug, made_on),
            needs_approval=newsletter.approval,
            archive_page=newsletter.issue_url(issue.slug),
            editions=[
                (language, language_name(language), path.stem)
                for language, path in edition_paths(workspace.config, issue).items()
                if language != issue.language
            ],
            report=report,
            concerns=[concerned_item(issue, finding.message) for finding in report.checks],
            found=candidates(workspace, issue, request.query_params.get("find", "").strip()),
            removed=removed_items(workspace, issue),
            find=request.query_params.get("find", ""),
            manual_types=("Event", "Call for papers", "Announcement"),
            error=error,
            notice=notice,
            formats=FORMATS,
            base=f"/issues/{issue.newsletter}/{issue.slug}",
        )

    @lru_cache(maxsize=8)
    def rendered_version(path: Path, digest: str) -> RenderedEmail:  # noqa: ARG001 - the key
        """The email of one version of an issue file: the preview's frames (desktop, phone,
        text) ask for the same one, and render it once."""
        from newsletter.render import render_issue

        return render_issue(read_issue(path, workspace.config), workspace.config)

    def email(request: Request) -> Response:
        try:
            path = found_path(request)
            rendered = rendered_version(path, file_digest(path))
        except (LookupError, NewsletterError) as problem:
            return PlainTextResponse(str(problem), status_code=404)
        if request.url.path.endswith(".txt"):
            return PlainTextResponse(rendered.text)
        if request.query_params.get("scheme") == "dark":
            # A frame cannot ask for its own color scheme: the dark rules are made to hold.
            return HTMLResponse(_DARK_QUERY.sub("@media all", rendered.html))
        return HTMLResponse(rendered.html)

    async def act(request: Request) -> Response:
        """One edit from a form; then the editor again, the focus on the item acted on."""
        form = await checked_form(request)
        if isinstance(form, Response):
            return form
        action = request.path_params["action"]
        try:
            path, issue = found_issue(request)
        except LookupError as missing:
            return PlainTextResponse(str(missing), status_code=404)
        try:  # edits and renders block: off the event loop
            signed = getattr(request.state, "user", None)
            anchor = await run_in_threadpool(
                apply, workspace, path, issue, action, form, signed[0] if signed else None
            )
        except Notice as notice:
            return await run_in_threadpool(editor, request, "", 200, notice.message)
        except ChangedMeanwhile as conflict:
            return await run_in_threadpool(editor, request, conflict.message, 409)
        except NewsletterError as refused:
            return await run_in_threadpool(editor, request, refused.message, 400)
        target = f"/issues/{issue.newsletter}/{issue.slug}" + (f"#{anchor}" if anchor else "")
        return RedirectResponse(target, status_code=303)

    def new_issue(request: Request) -> Response:
        plan = plan_view(workspace, request)
        return page(request, "new.html.j2", title="New issue", error="", **plan)

    async def create(request: Request) -> Response:
        form = await checked_form(request)
        if isinstance(form, Response):
            return form
        try:
            issue = await run_in_threadpool(create_issue, workspace, form)
        except NewsletterError as refused:
            plan = await run_in_threadpool(plan_view, workspace, request, form)
            return page(request, "new.html.j2", 400, title="New issue", error=refused.message,
                        **plan)  # fmt: skip
        return RedirectResponse(f"/issues/{issue.newsletter}/{issue.slug}", status_code=303)

    def download(request: Request) -> Response:
        from newsletter.export import FORMATS, default_export_path, export_issue

        kind = request.path_params["format"]
        try:
            _, issue = found_issue(request)
            if kind not in FORMATS:
                raise LookupError(f"no export format {kind}")
            data = export_issue(issue, workspace.config, kind)
        except (LookupError, NewsletterError) as problem:
            return PlainTextResponse(str(problem), status_code=404)
        name = default_export_path(workspace.config, issue, kind).name
        kinds = {"eml": "message/rfc822", "bundle": "application/zip"}
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(data, media_type=kinds.get(kind, "application/json"), headers=disposition)

    def confirm_publish(request: Request) -> Response:
        try:
            path, issue = found_issue(request)
        except LookupError as missing:
            return page(request, "missing.html.j2", 404, title="Not found", message=str(missing))
        earlier = workspace.pool.publications(issue.newsletter)
        newest = max(earlier, key=lambda p: (p.published, p.number), default=None)
        # A language edition takes its issue's number, once that is published.
        edition = edition_language(workspace.config, issue.newsletter, issue.slug)
        main = main_slug(workspace.config, issue.newsletter, issue.slug) if edition else ""
        main_number = next((p.number for p in earlier if p.slug == main), None)
        return page(request, "publish.html.j2", title=f"Publish {issue.title}", issue=issue,
                    newest=newest, today=date.today(), made_on=file_digest(path),
                    edition=edition, main=main, main_number=main_number,
                    base=f"/issues/{issue.newsletter}/{issue.slug}")  # fmt: skip

    def duplicates(request: Request, notice: str = "") -> Response:
        pairs = workspace.pool.duplicate_pairs("open")
        return page(request, "dupes.html.j2", title="Possible duplicates", pairs=pairs,
                    notice=notice)  # fmt: skip

    async def dupes_act(request: Request) -> Response:
        """Merge a pair (the second into the first) or keep it apart, as `dupes` does."""
        form = await checked_form(request)
        if isinstance(form, Response):
            return form
        action, first, second = request.path_params["action"], form.get("first", ""), \
            form.get("second", "")  # fmt: skip
        pool = workspace.pool
        try:
            if action == "merge":
                item = await run_in_threadpool(pool.merge_items, first, second)
                said = f"merged into {item.title!r} (sources: {', '.join(item.sources)})"
            elif action == "apart":
                await run_in_threadpool(pool.keep_apart, first, second)
                said = "kept apart: two stories"
            else:
                return PlainTextResponse("unknown action", status_code=404)
        except NewsletterError as refused:
            return PlainTextResponse(refused.message, status_code=400)
        return await run_in_threadpool(duplicates, request, said)

    async def pool_act(request: Request) -> Response:
        """Tag or untag an item by hand, then the same pool page again, at its row."""
        form = await checked_form(request)
        if isinstance(form, Response):
            return form
        action, uid, topic = request.path_params["action"], form.get("uid", ""), form.get("topic")
        if action not in ("tag", "untag") or not topic:
            return PlainTextResponse("unknown action", status_code=404)
        try:
            await run_in_threadpool(getattr(workspace.pool, action), uid, [topic])
        except NewsletterError as refused:
            return PlainTextResponse(refused.message, status_code=400)
        back = form.get("back", "")
        back = back if back.startswith("/pool") and "//" not in back else "/pool"
        return RedirectResponse(f"{back}#row-{uid}", status_code=303)

    routes = [
        Route("/login", login_page),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", home),
        Route("/pool/{action}", pool_act, methods=["POST"]),
        Route("/duplicates", duplicates),
        Route("/duplicates/{action}", dupes_act, methods=["POST"]),
        Route("/issues/{newsletter}/{slug}/export/{format}", download),
        Route("/issues/{newsletter}/{slug}/publish", confirm_publish),
        Route("/new", new_issue),
        Route("/new", create, methods=["POST"]),
        Route("/pool", pool),
        Route("/issues/{newsletter}/{slug}", editor),
        Route("/issues/{newsletter}/{slug}/email.html", email),
        Route("/issues/{newsletter}/{slug}/email.txt", email),
        Route("/issues/{newsletter}/{slug}/{action}", act, methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(TEMPLATES / "static")), name="static"),
    ]
    middleware = [Middleware(BaseHTTPMiddleware, dispatch=guard),
                  Middleware(BaseHTTPMiddleware, dispatch=gate)]  # fmt: skip
    return Starlette(routes=routes, middleware=middleware)


def _local(address: str) -> bool:
    """A path of this site to go on to after signing in (never another site's)."""
    return address.startswith("/") and not address.startswith("//") and "\\" not in address


def apply(
    workspace: Workspace,
    path: Path,
    issue: Issue,
    action: str,
    form: dict[str, str],
    user: str | None = None,
) -> str:
    """Carry out one editor action through the library; the anchor to come back to."""
    from newsletter import draft

    config, made_on, uid = workspace.config, form.get("made_on", ""), form.get("uid", "")
    if not made_on:
        raise NewsletterError("the form names no version of the file; reload the page")
    if action == "lead":
        draft.set_lead(config, path, uid, workspace.pool, made_on=made_on)
    elif action in ("up", "down"):
        slot = next((s for s in slots_of(issue) if s.item.uid == uid), None)
        if slot is None or slot.section is None:
            raise NewsletterError(f"no item {uid} in a section of the issue")
        position = slot.index if action == "up" else slot.index + 2  # 1 = first
        draft.move_item(config, path, uid, slot.section, max(position, 1), made_on=made_on)
    elif action == "move":  # drag and drop: before the item dropped on, or a section's end
        place = int(form["position"]) if form.get("position", "").isdigit() else None
        draft.move_item(config, path, uid, form.get("section") or None, place, made_on=made_on)
    elif action == "section":
        draft.move_item(config, path, uid, form.get("section") or None, made_on=made_on)
    elif action == "remove":
        draft.remove_item(config, path, uid, made_on=made_on)
        return "items"
    elif action == "edit":
        field = form.get("field", "")
        draft.edit_item(config, path, uid, field, form.get("value", ""), made_on=made_on)
    elif action == "add":
        _, item = draft.add_to_draft(workspace.pool, config, path, uid, made_on=made_on)
        return f"item-{item.uid}"
    elif action == "manual":
        _, item = draft.add_manual_item(
            config,
            path,
            type=form.get("type", "").strip(),
            title=form.get("title", "").strip(),
            day=_day(form.get("date", ""), "date"),
            end=_day(form["end"], "end") if form.get("end") else None,
            place=form.get("place", "").strip(),
            url=form.get("url", "").strip() or None,
            summary=form.get("summary", "").strip(),
            section=form.get("section") or None,
            made_on=made_on,
        )
        return f"item-{item.uid}"
    elif action == "refresh":
        refreshed = draft.refresh_draft(workspace.pool, config, path, made_on=made_on)
        added = ", ".join(repr(item.title) for _, item in refreshed.added) or "nothing new"
        raise Notice(f"refreshed from the pool: {added}")
    elif action == "restore":
        draft.add_to_draft(workspace.pool, config, path, uid, made_on=made_on)
    elif action == "undo":
        from newsletter.issue.writing import undo_edit

        undo_edit(path, config, made_on=made_on)
        return "items"
    elif action == "proof":
        from newsletter.export import prepared_email
        from newsletter.export.delivery import proof_addresses, transport_for
        from newsletter.export.sending import proof_send

        addresses = proof_addresses(tuple(re.split(r"[\s,;]+", form.get("to", "").strip())))
        email, newsletter = prepared_email(issue, config)
        sent = proof_send(email, newsletter, addresses, transport_for(config.smtp, False))
        raise Notice("; ".join(f"proof sent to {address}: {reply}" for address, reply in sent))
    elif action == "approve":
        if file_digest(path) != made_on:
            raise ChangedMeanwhile("the issue file changed since this page was loaded: it was "
                                   "not approved; look at it again first", path)  # fmt: skip
        workspace.pool.approve(issue.newsletter, issue.slug, made_on, user or "this machine")
        raise Notice("approved this version of the issue")
    elif action == "publish":
        from newsletter.archive.publish import publish_issue

        if file_digest(path) != made_on:
            raise ChangedMeanwhile("the issue file changed since this page was loaded: it was "
                                   "not published; look at it again first", path)  # fmt: skip
        report = publish_issue(workspace.pool, config, path)
        frozen = report.frozen
        raise Notice(f"published as no. {frozen.number} on {frozen.published}")
    elif action == "issue":
        field = form.get("field", "")
        draft.edit_issue(config, path, field, form.get("value", ""), made_on=made_on)
        return f"issue-{field}"
    else:
        raise NewsletterError(f"unknown action {action!r}")
    return f"item-{uid}"


def _period(month: str, first: str = "", last: str = "") -> tuple[date, date] | None:
    """A month (2020-11), or the days from `first` to `last` when both are given."""
    if first and last:
        start, end = _day(first, "from"), _day(last, "to")
        if end < start:
            raise NewsletterError(f"to: {end} is before {start}")
        return start, end
    if not _MONTH.match(month):
        return None
    start = date.fromisoformat(f"{month}-01")
    return start, (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def plan_view(
    workspace: Workspace, request: Request, form: dict[str, str] | None = None
) -> dict[str, Any]:
    """The new-issue page: what a draft of the chosen newsletter, month and topics would hold
    (the lead, and each section's items), before it is written."""
    from newsletter.draft import choose_lead, section_for, select_for_issue

    chosen = dict(form or request.query_params)
    config = workspace.config
    slug = chosen.get("newsletter") or next(iter(config.newsletters), "")
    newsletter = config.newsletters.get(slug)
    try:
        period = _period(chosen.get("month", ""), chosen.get("from", ""), chosen.get("to", ""))
    except NewsletterError:
        period = None  # shown as nothing yet; creating it says what is wrong
    topics = [t for t in chosen.get("topics", "").split(",") if t in config.topics]
    plan: dict[str, list[Any]] = {}
    lead = None
    if newsletter and period:
        found, _ = select_for_issue(workspace.pool, newsletter, *period,
                                    topics or newsletter.topics)  # fmt: skip
        lead = choose_lead(found)
        for item in found:
            if item is not lead:
                plan.setdefault(section_for(item, item.topics, newsletter), []).append(item)
    return {
        "newsletters": sorted(config.newsletters.items()),
        "topics": sorted(config.topics.items()),
        "chosen": {
            "newsletter": slug,
            "month": chosen.get("month", ""),
            "from": chosen.get("from", ""),
            "to": chosen.get("to", ""),
            "topics": ",".join(topics),
        },
        "lead": lead,
        "plan": plan,
    }


def create_issue(workspace: Workspace, form: dict[str, str]) -> Issue:
    """A new issue in every language edition of its newsletter; the main one, to edit first."""
    from newsletter.draft import create_editions

    period = _period(form.get("month", ""), form.get("from", ""), form.get("to", ""))
    if period is None:
        raise NewsletterError("month: choose a month, such as 2020-11, or the first and last days")
    topics = [t for t in form.get("topics", "").split(",") if t]
    made = create_editions(workspace.pool, workspace.config, form.get("newsletter", ""), *period,
                           topics=topics)  # fmt: skip
    return made.drafts[0].issue


def _day(value: str, name: str) -> date:
    from newsletter.draft import given_day

    return given_day(name, value)


def concerned_item(issue: Issue, message: str) -> str:
    """The uid of the item a finding names by its title (the longest that fits), or ""."""
    named = [item for item in issue.items if item.title and item.title in message]
    return max(named, key=lambda item: len(item.title)).uid if named else ""


def removed_items(workspace: Workspace, issue: Issue) -> list[Any]:
    """The items the editor took out (excluded), as the pool has them, to put back."""
    if not issue.excluded:
        return []
    present = {item.uid for item in issue.items}
    uids = tuple(uid for uid in issue.excluded if uid not in present)
    return workspace.pool.select_items(ItemQuery(uids=uids)) if uids else []


def candidates(workspace: Workspace, issue: Issue, words: str) -> list[Any]:
    """Pool items of the issue's period and topics, matching `words`, not in the issue yet."""
    present = {item.uid for item in issue.items}
    query = ItemQuery(start=issue.start, end=issue.end, topics=issue.topics,
                      search=words or None, limit=20)  # fmt: skip
    return [item for item in workspace.pool.select_items(query) if item.uid not in present]


def slots_of(issue: Issue) -> list[Slot]:
    slots = [Slot(issue.lead, None, 0, True)] if issue.lead else []
    for section in issue.sections:
        for index, item in enumerate(section.items):
            slots.append(Slot(item, section.title, index, index == len(section.items) - 1))
    return slots


def pool_view(workspace: Workspace, request: Request) -> dict[str, Any]:
    """The pool page's items: newest first, filtered by month, topic, type and words."""
    params = request.query_params
    month, topic = params.get("month", ""), params.get("topic", "")
    kind, words = params.get("type", "").strip(), params.get("q", "").strip()
    source, language = params.get("source", ""), params.get("language", "").strip()
    pictured = params.get("picture") == "1"
    page_number = int(params["page"]) if params.get("page", "").isdigit() else 1
    page_number = max(1, min(page_number, 10_000))
    start, end = _period(month) or (None, None)
    config = workspace.config
    query = ItemQuery(
        start=start,
        end=end,
        topics=(topic,) if topic in config.topics else (),
        types=(kind,) if kind else (),
        search=words or None,
        limit=POOL_PAGE + 1,  # one more: is there a next page?
        offset=(page_number - 1) * POOL_PAGE,
        provenance=True,
        sources=(source,) if source in config.sources else (),
        language=language or None,
        pictured=pictured,
    )
    pool = workspace.pool
    in_issues: dict[str, str] = {}
    for path in issue_files(config):
        try:
            issue = read_issue(path, config)
        except NewsletterError:
            continue
        for item in issue.items:
            in_issues.setdefault(item.uid, f"{issue.newsletter}/{issue.slug}")
    items = pool.select_items(query)
    chosen = {"month": month, "topic": topic, "type": kind, "q": words, "source": source,
              "language": language, "picture": "1" if pictured else ""}  # fmt: skip
    shown = {name: value for name, value in chosen.items() if value}
    return {
        "items": items[:POOL_PAGE],
        "topics": sorted(config.topics.items()),
        "types": pool.recent_types(),
        "sources": sorted(config.sources),
        "chosen": chosen,
        "in_issues": in_issues,
        "page": page_number,
        "newer": urlencode({**shown, "page": page_number - 1}) if page_number > 1 else "",
        "older": urlencode({**shown, "page": page_number + 1}) if len(items) > POOL_PAGE else "",
        "first": (page_number - 1) * POOL_PAGE + 1,
        "back": "/pool?" + urlencode({**shown, "page": page_number}),
    }
