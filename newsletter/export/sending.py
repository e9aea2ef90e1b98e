"""Sending over SMTP: proofs, and resumable bulk sends recorded in the send ledger.

A bulk send renders the issue once and personalises the encoded message per recipient. Every
recipient's Message-ID is in the ledger before the first attempt; a run claims a few ledger
rows at a time before handing them to SMTP (see pool/ledger.py), and commits each outcome as
it comes. So two runs at once share the list without sending anyone twice, and a run that
dies is taken over: only the one message that may have been in flight can arrive twice, with
the same Message-ID.

Only the server's answer about one recipient marks that recipient. When the server itself
fails (no connection, TLS, login, timeouts, 421, the sender refused), the run tries again a
few times, then stops with the ledger as it is, to be resumed by running it again.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from newsletter.config import SIGNING_KEY_ENV, NewsletterConfig, SmtpConfig
from newsletter.errors import NewsletterError
from newsletter.export.mime import message_id_for, sender_of, unsubscribe_url_for
from newsletter.export.personalise import MessageTemplate
from newsletter.export.subscribers import Subscriber
from newsletter.issue import Issue
from newsletter.model import RenderedEmail
from newsletter.pool import Pool
from newsletter.pool.ledger import (
    DEFERRED,
    FAILED,
    SENT,
    SUPPRESSED,
    TO_SEND,
    LedgerEntry,
    SendRun,
)

CLAIM_BATCH = 20  # rows a run claims at a time: small, so that runs share a list evenly
BREAKER = 10  # this many recipients in a row refused alike: the message is refused, not them


class DeliveryFailure(Exception):
    """The server's answer about one recipient."""

    def __init__(self, code: int | None, reply: str):
        super().__init__(f"{code} {reply}" if code else reply)
        self.code = code
        self.reply = reply


class TemporaryFailure(DeliveryFailure):
    """4xx for this recipient: try again later with the same message."""


class PermanentFailure(DeliveryFailure):
    """5xx for this recipient, or a message that cannot be made for them: record, don't retry."""


class ServerFailure(Exception):
    """The server or the connection failed, whoever the recipient; `fatal` when trying again
    cannot help (a refused login, TLS the server does not offer)."""

    def __init__(self, reason: str, *, fatal: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.fatal = fatal


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


def _recipient_failure(code: int, reply: bytes | str) -> DeliveryFailure | ServerFailure:
    text = _reply_text(reply)
    if code == 421:  # the server is closing the connection: about it, not this recipient
        return ServerFailure(f"the server said {code} {text}")
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
        where = f"{settings.host}:{settings.port}"
        connection: smtplib.SMTP | None = None
        try:
            if settings.security == "ssl":
                connection = smtplib.SMTP_SSL(
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
            _close_quietly(connection)
            reply = f"{error.smtp_code} {_reply_text(error.smtp_error)}"
            raise ServerFailure(f"{where} refused the login: {reply}", fatal=True) from None
        except smtplib.SMTPNotSupportedError:
            _close_quietly(connection)
            raise ServerFailure(
                f'{where} does not offer STARTTLS, which [smtp] security = "starttls" '
                'requires (use "ssl" for port 465, or "none" only for a local relay)',
                fatal=True,
            ) from None
        except ssl.SSLCertVerificationError as error:
            _close_quietly(connection)
            reason = f"{where}: its TLS certificate: {error.reason}"
            raise ServerFailure(reason, fatal=True) from None
        except (OSError, smtplib.SMTPException) as error:
            _close_quietly(connection)
            raise ServerFailure(f"cannot reach {where}: {_describe(error)}") from None
        self.connection = connection
        return connection

    def send(self, sender: str, recipient: str, data: bytes) -> tuple[int, str]:
        """Deliver one message: the server's (code, reply) when it accepts it; a
        DeliveryFailure for this recipient, or a ServerFailure."""
        connection = self.connect()
        options: list[str] = []
        if not recipient.isascii():
            if not connection.has_extn("smtputf8"):
                raise PermanentFailure(None, "the address is not ASCII and the server does not "
                                             "offer SMTPUTF8, which it needs")  # fmt: skip
            options = ["SMTPUTF8"]
        try:
            code, reply = connection.mail(sender, options)
            if code != 250:
                raise ServerFailure(f"the server refused the sender: {code} {_reply_text(reply)}")
            code, reply = connection.rcpt(recipient)
            if code not in (250, 251):
                raise _recipient_failure(code, reply)
            code, reply = connection.data(data)
            if code != 250:
                raise _recipient_failure(code, reply)
            return code, _reply_text(reply)
        except smtplib.SMTPResponseException as error:  # DATA not accepted at all
            failure: DeliveryFailure | ServerFailure = _recipient_failure(
                error.smtp_code, error.smtp_error
            )
        except (OSError, smtplib.SMTPServerDisconnected) as error:
            failure = ServerFailure(f"connection lost: {_describe(error)}")
        except (DeliveryFailure, ServerFailure) as raised:
            failure = raised
        finally:
            connection.command_encoding = "ascii"  # smtplib leaves it at utf-8 after SMTPUTF8
        if isinstance(failure, ServerFailure):
            self.close()  # the next attempt starts on a new connection
        else:
            self._reset()
        raise failure

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


def _close_quietly(connection: smtplib.SMTP | None) -> None:
    if connection is not None:
        with contextlib.suppress(OSError):
            connection.close()


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    if isinstance(error, TimeoutError) or text.endswith("timed out"):  # smtplib wraps some
        return "no answer in time"
    return text.splitlines()[0] if text else type(error).__name__


def smtp_password(settings: SmtpConfig) -> str | None:
    if not settings.user:
        return None
    password = os.environ.get(settings.password_env)
    if password is None:
        raise NewsletterError(
            f"set ${settings.password_env} to the SMTP password of {settings.user!r}"
        )
    return password


def signing_key(newsletter: NewsletterConfig, *, required: bool = True) -> bytes | None:
    """The secret that seals each subscriber's unsubscribe token; a list send with an
    unsubscribe page cannot go without it (a proof can: its link is then the bare page)."""
    key = os.environ.get(SIGNING_KEY_ENV)
    if newsletter.unsubscribe_url and not key and required:
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
    total: int = 0  # to send when the run began (this run and any other)
    sent: int = 0
    already_sent: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (address, reply)
    deferred: list[tuple[str, str]] = field(default_factory=list)
    suppressed: int = 0
    not_on_list: int = 0  # in the ledger from an earlier run, gone from the list since
    retried: int = 0  # failed before, put back to send by --retry-failed
    elsewhere: int = 0  # left to another run that holds them
    other_runs: list[tuple[str, int]] = field(default_factory=list)  # (host, pid)
    stopped: str | None = None  # why the run stopped before the end
    dry_run: bool = False


class SendStopped(NewsletterError):
    """The run stopped before the end: the server failed, or the message is refused."""

    def __init__(self, message: str, report: SendReport):
        super().__init__(message)
        self.report = report


def issue_key(issue: Issue) -> str:
    return f"{issue.newsletter}/{issue.slug}"


def proof_send(
    email: RenderedEmail,
    newsletter: NewsletterConfig,
    addresses: Sequence[str],
    transport: SmtpTransport,
) -> list[tuple[str, str]]:
    """Send `[PROOF]` copies; returns (address, server reply) for each. Each carries the
    unsubscribe link its recipient would get from a list send (when the signing key is set;
    otherwise the bare page, and no one-click header)."""
    sender = sender_of(newsletter)
    template = MessageTemplate(email, newsletter, date=datetime.now(UTC), subject_prefix="[PROOF] ")
    key = signing_key(newsletter, required=False)
    replies = []
    try:
        for address in addresses:
            unique = f"proof.{uuid.uuid4().hex[:16]}"
            data = template.personalise(
                address,
                "",
                message_id_for(sender.domain, unique),
                {
                    "unsubscribe_url": unsubscribe_url_for(newsletter, address, key),
                    "web_version_url": email.web_version_url or "",
                },
                one_click=bool(newsletter.unsubscribe_url and key),
            )
            try:
                code, reply = transport.send(sender.from_address, address, data)
            except DeliveryFailure as failure:
                raise NewsletterError(f"{address}: the server said {failure}") from None
            except ServerFailure as failure:
                raise NewsletterError(failure.reason) from None
            replies.append((address, f"{code} {reply}"))
    finally:
        transport.close()
    return replies


@dataclass
class _Run:
    """What one bulk-send run carries from recipient to recipient."""

    pool: Pool
    run: SendRun
    report: SendReport
    transport: SmtpTransport
    envelope_from: str
    max_attempts: int
    retry_delay: float
    renew_at: float = 0.0
    alike: tuple[int | None, int] = (None, 0)  # the last refusal's code, and how many in a row

    def keep_lease(self) -> None:
        """Renew the run's lease well before it runs out; stop if it was taken over."""
        if time.monotonic() < self.renew_at:
            return
        if not self.pool.renew_send_run(self.run):
            self.stop("another send run judged this one dead and took its recipients over")
        self.renew_at = time.monotonic() + self.run.lease.total_seconds() / 4

    def stop(self, reason: str) -> None:
        self.report.stopped = reason
        raise SendStopped(reason, self.report)

    def record(self, entry: LedgerEntry, state: str, attempts: int, code: int | None,
               reply: str) -> None:  # fmt: skip
        if not self.pool.record_send(entry.id, self.run.id, state, attempts, code, reply):
            self.stop(f"lost the claim on {entry.recipient} to another run")

    def deliver(self, entry: LedgerEntry, address: str, data: bytes) -> None:
        """One recipient: retried on temporary failures, the run stopped on server ones."""
        server_failures = 0
        attempt = 0
        while True:
            self.keep_lease()
            attempt += 1
            try:
                code, reply = self.transport.send(self.envelope_from, address, data)
            except ServerFailure as failure:
                server_failures += 1
                if failure.fatal or server_failures >= self.max_attempts:
                    tries = "" if failure.fatal else f" ({server_failures} attempts)"
                    self.stop(f"{failure.reason}{tries}")
                attempt -= 1  # not this recipient's attempt
                time.sleep(self.retry_delay * 2 ** (server_failures - 1))
                continue
            except PermanentFailure as failure:
                self.record(entry, FAILED, entry.attempts + attempt, failure.code, failure.reply)
                self.report.failed.append((address, str(failure)))
                self.refused(failure)
                return
            except TemporaryFailure as failure:
                if attempt < self.max_attempts:
                    time.sleep(self.retry_delay * 2 ** (attempt - 1))
                    continue
                self.record(entry, DEFERRED, entry.attempts + attempt, failure.code, failure.reply)
                self.report.deferred.append((address, str(failure)))
                self.refused(failure)
                return
            self.record(entry, SENT, entry.attempts + attempt, code, reply)
            self.report.sent += 1
            self.alike = (None, 0)
            return

    def refused(self, failure: DeliveryFailure) -> None:
        """Count refusals in a row with the same code; BREAKER of them stop the run."""
        code, count = self.alike
        self.alike = (failure.code, count + 1 if code == failure.code else 1)
        if failure.code is not None and self.alike[1] >= BREAKER:
            self.stop(
                f"the server answered {failure} to the last {BREAKER} recipients in a row: it "
                "refuses the message, not them; once the cause is fixed, send again with "
                "--retry-failed"
            )


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
    retry_failed: bool = False,
    max_attempts: int = 4,
    retry_delay: float = 1.0,
    on_progress: Callable[[int, int], None] | None = None,
) -> SendReport:
    """Send to every subscriber not yet accepted for this issue (see the module's docstring);
    SendStopped, with the report so far, when the run cannot go on."""
    sender = sender_of(newsletter)
    key_of = issue_key(issue)
    report = SendReport(key_of, dry_run=dry_run)
    by_key = {subscriber.key: subscriber for subscriber in subscribers}
    planned = [
        (s.key, s.name, message_id_for(sender.domain, f"{issue.slug}.{uuid.uuid4().hex}"))
        for s in subscribers
    ]
    if dry_run:
        return _dry_run(pool, key_of, planned, report, retry_failed)
    report.retried = pool.plan_send(key_of, planned, retry_failed=retry_failed)
    states = pool.send_states(key_of)
    report.already_sent, report.suppressed = states[SENT], states[SUPPRESSED]
    outstanding = pool.outstanding_sends(key_of, set(by_key))
    report.not_on_list = sum(states[s] for s in TO_SEND) - len(outstanding)
    report.total = len(outstanding)
    # A lease well beyond what one message can take (three SMTP commands at the timeout).
    lease = timedelta(seconds=max(120.0, 10 * transport.settings.timeout))
    run = _Run(pool, SendRun.here(key_of, lease), report, transport, sender.from_address,
               max_attempts, retry_delay)  # fmt: skip
    template = MessageTemplate(email, newsletter, date=datetime.now(UTC))
    pacer = Pacer(rate)
    pool.start_send_run(run.run)
    handled: set[int] = set()  # rows this run has tried: a deferred one waits for the next run
    try:
        while outstanding:
            claimed = False
            for start in range(0, len(outstanding), CLAIM_BATCH):
                run.keep_lease()
                for entry in pool.claim_sends(run.run, outstanding[start : start + CLAIM_BATCH]):
                    claimed = True
                    subscriber = by_key[entry.recipient]
                    data = _message_for(template, entry, subscriber, email, newsletter, key)
                    if isinstance(data, PermanentFailure):
                        run.record(entry, FAILED, entry.attempts, None, data.reply)
                        report.failed.append((subscriber.address, data.reply))
                    else:
                        pacer.wait()
                        run.deliver(entry, subscriber.smtp_address, data)
                    handled.add(entry.id)
                    if on_progress:
                        on_progress(len(handled), report.total)
            # Rows another run held may have been left by it since (it died): look again,
            # unless this pass found nothing to claim (the rest is in live runs' hands).
            outstanding = [i for i in pool.outstanding_sends(key_of, set(by_key))
                           if i not in handled]  # fmt: skip
            if not claimed:
                break
        report.elsewhere = len(outstanding)
        if outstanding:
            report.other_runs = pool.other_send_runs(run.run)
    finally:
        transport.close()
        pool.end_send_run(run.run)
    return report


def _message_for(
    template: MessageTemplate,
    entry: LedgerEntry,
    subscriber: Subscriber,
    email: RenderedEmail,
    newsletter: NewsletterConfig,
    key: bytes | None,
) -> bytes | PermanentFailure:
    """The recipient's message, or why none can be made for them (recorded, the run goes on)."""
    try:
        return template.personalise(
            subscriber.smtp_address,
            subscriber.name,
            entry.message_id,
            {
                "unsubscribe_url": unsubscribe_url_for(newsletter, subscriber.address, key),
                "subscriber_name": subscriber.name,
                "web_version_url": email.web_version_url or "",
            },
            one_click=bool(newsletter.unsubscribe_url and key),
        )
    except NewsletterError as error:
        return PermanentFailure(None, f"no message can be made for this address: {error}")


def _dry_run(
    pool: Pool,
    key_of: str,
    planned: list[tuple[str, str, str]],
    report: SendReport,
    retry_failed: bool,
) -> SendReport:
    known = {entry.recipient: entry.state for entry in pool.ledger(key_of)}
    barred = pool.suppressed_among([address for address, _, _ in planned])
    for address, _, _ in planned:
        state = known.get(address)
        if state == SENT:
            report.already_sent += 1
        elif address in barred or state == SUPPRESSED:
            report.suppressed += 1
        elif state == FAILED and not retry_failed:
            report.failed.append((address, "failed before; not retried (--retry-failed)"))
        else:
            report.retried += state == FAILED
            report.total += 1
    return report
