"""The subscribe form's work, done off the request path: each request to join waits in a queue
that one thread empties (the list's change, then the confirmation email), so that the form's
answer takes the same time whoever the address belongs to."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

import jinja2

from newsletter.audience import ask_to_join, confirmation_token, page_url
from newsletter.config import NewsletterConfig
from newsletter.errors import NewsletterError
from newsletter.labels import public_labels
from newsletter.model import Subscriber
from newsletter.workspace import Workspace

log = logging.getLogger("newsletter.serve")
WAITING = 1000  # requests to join the queue holds; more are dropped (and logged)


@dataclass(frozen=True, slots=True)
class JoinRequest:
    newsletter: str
    who: Subscriber
    source: str  # where they asked: the consent record's


class Joining:
    """One thread doing `work` for each request put in its queue, in turn."""

    def __init__(self, work: Callable[[JoinRequest], None], size: int = WAITING):
        self._work = work
        self._queue: queue.Queue[JoinRequest | None] = queue.Queue(size)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="newsletter-joining", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the requests waiting, then end."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def ask(self, request: JoinRequest) -> None:
        try:
            self._queue.put_nowait(request)
        except queue.Full:
            log.warning("%d requests to join waiting already: one more was dropped", WAITING)

    def wait_idle(self) -> None:
        """Return when every request asked so far is done (for tests and a clean stop)."""
        self._queue.join()

    def _run(self) -> None:
        while (request := self._queue.get()) is not None:
            try:
                self._work(request)
            except NewsletterError as error:
                log.warning("a request to join %s failed: %s", request.newsletter, error)
            except Exception:  # one failure (the database, the mail server) stops no later join
                log.exception("a request to join %s failed", request.newsletter)
            finally:
                self._queue.task_done()
        self._queue.task_done()


def join_and_confirm(
    workspace: Workspace, key: bytes, pages: jinja2.Environment, request: JoinRequest
) -> None:
    """Put the visitor on the list as pending and, when audience says so, send them the link
    to confirm through the configured SMTP server."""
    from newsletter.export.delivery import transport_for
    from newsletter.export.notices import send_notice

    config = workspace.config
    newsletter = config.newsletters[request.newsletter]
    if not ask_to_join(workspace.pool, newsletter, request.who, request.source):
        return
    token = confirmation_token(newsletter.slug, request.who.address, key)
    link = page_url(config, newsletter.slug, "confirm", token)
    data = confirmation_message(newsletter, request.who, link, config.subscriptions.confirm_hours,
                                pages)  # fmt: skip
    failure = send_notice(transport_for(config.smtp, False), newsletter, request.who, data)
    if failure:
        log.warning("a confirmation for %s was not sent: %s", newsletter.slug, failure)


def confirmation_message(
    newsletter: NewsletterConfig,
    who: Subscriber,
    link: str,
    hours: float,
    pages: jinja2.Environment,
) -> bytes:
    """The confirmation email in the newsletter's language, its text and HTML parts from
    templates/public/ (the HTML part autoescaped: a name is shown, never run)."""
    from newsletter.export.notices import notice_message

    labels = public_labels(newsletter.language)
    subject = labels.confirm_subject.format(name=newsletter.name)
    context = {"newsletter": newsletter, "name": who.name, "link": link, "subject": subject,
               "hours": f"{hours:g}", "labels": labels}  # fmt: skip
    text = pages.get_template("confirm-email.txt.j2").render(context)
    html = pages.get_template("confirm-email.html.j2").render(context)
    return notice_message(newsletter, who, subject, text, html)
