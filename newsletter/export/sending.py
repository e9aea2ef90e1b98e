"""Sending over SMTP: proofs, and resumable bulk sends recorded in the send ledger.

A bulk send renders the issue once and personalises the encoded message per recipient. Every
recipient's Message-ID is in the ledger before the first attempt, and each acceptance is
committed as it comes: a send that dies is run again, and only the one message that may have
been in flight can arrive twice, with the same Message-ID.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from newsletter.config import SIGNING_KEY_ENV, NewsletterConfig, SmtpConfig
from newsletter.errors import NewsletterError
from newsletter.export.mime import message_id_for, sender_of, signed_unsubscribe_url
from newsletter.export.personalise import MessageTemplate
from newsletter.export.subscribers import Subscriber
from newsletter.issue import Issue
from newsletter.model import RenderedEmail
from newsletter.pool import Pool
from newsletter.pool.ledger import DEFERRED, FAILED, SENT, SUPPRESSED, TO_SEND


class DeliveryFailure(Exception):
    def __init__(self, code: int | None, reply: str):
        super().__init__(f"{code} {reply}" if code else reply)
        self.code = code
        self.reply = reply


class TemporaryFailure(DeliveryFailure):
    """4xx, or the connection lost: try again later with the same message."""


class PermanentFailure(DeliveryFailure):
    """5xx: this recipient will not take it; record it, do not retry."""


def _failure(code: int, reply: bytes | str) -> DeliveryFailure:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    return (PermanentFailure if code >= 500 else TemporaryFailure)(code, text)


class SmtpTransport:
    """One SMTP connection, opened on first use and reopened after it is lost."""

    def __init__(self, settings: SmtpConfig, password: str | None):
        self.settings = settings
        self.password = password
        self.connection: smtplib.SMTP | None = None

    def connect(self) -> smtplib.SMTP:
        if self.connection is not None:
            return self.connection
        settings = self.settings
        try:
            if settings.security == "ssl":
                connection: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.host,
                    settings.port,
                    timeout=settings.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
                if settings.security == "starttls":
                    connection.starttls(context=ssl.create_default_context())
            connection.ehlo_or_helo_if_needed()
            if settings.user:
                connection.login(settings.user, self.password or "")
        except smtplib.SMTPAuthenticationError as error:
            reason = _failure(error.smtp_code, error.smtp_error)
            raise NewsletterError(f"the SMTP server refused the login: {reason}") from None
        except (OSError, smtplib.SMTPException) as error:
            raise TemporaryFailure(
                None, f"cannot reach {settings.host}:{settings.port}: {error}"
            ) from None
        self.connection = connection
        return connection

    def send(self, sender: str, recipient: str, data: bytes) -> tuple[int, str]:
        """Deliver one message; its (code, reply) when accepted, else a DeliveryFailure."""
        connection = self.connect()
        try:
            code, reply = connection.mail(sender)
            if code != 250:
                raise _failure(code, reply)
            code, reply = connection.rcpt(recipient)
            if code not in (250, 251):
                raise _failure(code, reply)
            code, reply = connection.data(data)
            if code != 250:
                raise _failure(code, reply)
            return code, reply.decode(errors="replace")
        except smtplib.SMTPResponseException as error:
            raise _failure(error.smtp_code, error.smtp_error) from None
        except (OSError, smtplib.SMTPServerDisconnected) as error:
            self.close()
            raise TemporaryFailure(None, f"connection lost: {error}") from None
        except DeliveryFailure:
            self._reset()
            raise

    def _reset(self) -> None:
        try:
            if self.connection is not None:
                self.connection.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (OSError, smtplib.SMTPException):
                self.connection.close()
            self.connection = None


def smtp_password(settings: SmtpConfig) -> str | None:
    if not settings.user:
        return None
    password = os.environ.get(settings.password_env)
    if password is None:
        raise NewsletterError(
            f"set ${settings.password_env} to the SMTP password of {settings.user!r}"
        )
    return password


def signing_key(newsletter: NewsletterConfig) -> bytes | None:
    key = os.environ.get(SIGNING_KEY_ENV)
    if newsletter.unsubscribe_url and not key:
        raise NewsletterError(
            f"set ${SIGNING_KEY_ENV}: it signs each subscriber's unsubscribe link"
        )
    return key.encode() if key else None


class Pacer:
    """At most `rate` messages a second (0: as fast as the server takes them)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic):
        self.interval = 1 / rate if rate > 0 else 0.0
        self.clock = clock
        self.next = clock()

    def wait(self) -> None:
        if self.interval:
            delay = self.next - self.clock()
            if delay > 0:
                time.sleep(delay)
            self.next = max(self.next, self.clock()) + self.interval


@dataclass
class SendReport:
    issue: str
    total: int = 0
    sent: int = 0
    already_sent: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (address, reply)
    deferred: list[tuple[str, str]] = field(default_factory=list)
    suppressed: int = 0
    not_on_list: int = 0  # in the ledger from an earlier run, gone from the list since
    dry_run: bool = False


def issue_key(issue: Issue) -> str:
    return f"{issue.newsletter}/{issue.slug}"


def proof_send(
    email: RenderedEmail,
    newsletter: NewsletterConfig,
    addresses: Sequence[str],
    transport: SmtpTransport,
) -> list[tuple[str, str]]:
    """Send `[PROOF]` copies; returns (address, server reply) for each."""
    sender = sender_of(newsletter)
    template = MessageTemplate(email, newsletter, date=datetime.now(UTC), subject_prefix="[PROOF] ")
    replies = []
    try:
        for address in addresses:
            unique = f"proof.{uuid.uuid4().hex[:16]}"
            data = template.personalise(
                address,
                "",
                message_id_for(sender.domain, unique),
                {
                    "unsubscribe_url": newsletter.unsubscribe_url or "",
                    "web_version_url": email.web_version_url or "",
                },
            )
            try:
                code, reply = transport.send(sender.from_address, address, data)
            except DeliveryFailure as failure:
                raise NewsletterError(f"{address}: the server said {failure}") from None
            replies.append((address, f"{code} {reply}"))
    finally:
        transport.close()
    return replies


def bulk_send(
    pool: Pool,
    issue: Issue,
    email: RenderedEmail,
    newsletter: NewsletterConfig,
    subscribers: Sequence[Subscriber],
    transport: SmtpTransport,
    *,
    rate: float,
    key: bytes | None,
    dry_run: bool = False,
    max_attempts: int = 4,
    retry_delay: float = 1.0,
    on_progress: Callable[[int, int], None] | None = None,
) -> SendReport:
    """Send to every subscriber not yet accepted for this issue (see the module's docstring)."""
    sender = sender_of(newsletter)
    key_of = issue_key(issue)
    report = SendReport(key_of, dry_run=dry_run)
    by_key = {subscriber.key: subscriber for subscriber in subscribers}
    planned = [
        (s.key, s.name, message_id_for(sender.domain, f"{issue.slug}.{uuid.uuid4().hex}"))
        for s in subscribers
    ]
    if dry_run:
        return _dry_run(pool, key_of, planned, report)
    pool.plan_send(key_of, planned)
    states = pool.send_states(key_of)
    report.already_sent, report.suppressed = states[SENT], states[SUPPRESSED]
    outstanding = [e for e in pool.ledger(key_of, TO_SEND) if e.recipient in by_key]
    report.not_on_list = sum(states[s] for s in TO_SEND) - len(outstanding)
    report.total = len(outstanding)
    template = MessageTemplate(email, newsletter, date=datetime.now(UTC))
    pacer = Pacer(rate)
    try:
        for done, entry in enumerate(outstanding, start=1):
            subscriber = by_key[entry.recipient]
            unsubscribe = (
                signed_unsubscribe_url(
                    newsletter.unsubscribe_url, subscriber.address, newsletter.slug, key
                )
                if newsletter.unsubscribe_url and key
                else newsletter.unsubscribe_url or ""
            )
            data = template.personalise(
                subscriber.address,
                subscriber.name,
                entry.message_id,
                {
                    "unsubscribe_url": unsubscribe,
                    "subscriber_name": subscriber.name,
                    "web_version_url": email.web_version_url or "",
                },
            )
            pacer.wait()
            _deliver(
                pool,
                key_of,
                entry.attempts,
                subscriber.address,
                entry.recipient,
                data,
                sender.from_address,
                transport,
                report,
                max_attempts,
                retry_delay,
            )
            if on_progress:
                on_progress(done, report.total)
    finally:
        transport.close()
    return report


def _deliver(
    pool: Pool,
    key_of: str,
    attempts: int,
    address: str,
    recipient: str,
    data: bytes,
    envelope_from: str,
    transport: SmtpTransport,
    report: SendReport,
    max_attempts: int,
    retry_delay: float,
) -> None:
    for attempt in range(1, max_attempts + 1):
        try:
            code, reply = transport.send(envelope_from, address, data)
        except PermanentFailure as failure:
            pool.record_send(
                key_of, recipient, FAILED, attempts + attempt, failure.code, failure.reply
            )
            report.failed.append((address, str(failure)))
            return
        except TemporaryFailure as failure:
            if attempt == max_attempts:
                pool.record_send(
                    key_of, recipient, DEFERRED, attempts + attempt, failure.code, failure.reply
                )
                report.deferred.append((address, str(failure)))
                return
            time.sleep(retry_delay * 2 ** (attempt - 1))
            continue
        pool.record_send(key_of, recipient, SENT, attempts + attempt, code, reply)
        report.sent += 1
        return


def _dry_run(
    pool: Pool, key_of: str, planned: list[tuple[str, str, str]], report: SendReport
) -> SendReport:
    known = {entry.recipient: entry.state for entry in pool.ledger(key_of)}
    barred = pool.suppressed_among([address for address, _, _ in planned])
    for address, _, _ in planned:
        state = known.get(address)
        if state == SENT:
            report.already_sent += 1
        elif address in barred or state == SUPPRESSED:
            report.suppressed += 1
        elif state == FAILED:
            report.failed.append((address, "failed before; not retried"))
        else:
            report.total += 1
    return report
