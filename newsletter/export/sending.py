"""Sending over SMTP: proofs, and resumable bulk sends recorded in the send ledger.

A bulk send renders the issue once (each language edition once: export/routing.py) and
personalises the encoded message per recipient. Every recipient's Message-ID, and the edition
they get, are in the ledger before the first attempt; a run claims a few ledger rows at a time
before handing them to SMTP (see pool/ledger.py), and commits each outcome as it comes, before
that connection sends its next message (export/sendrun.py). So two runs at once share the list
without sending anyone twice, and a run that dies is taken over: only the messages that may
have been in flight, one per connection, can arrive twice, each with the same Message-ID.

Only the server's answer about one recipient marks that recipient. When the server itself
fails (no connection, TLS, login, timeouts, 421, the sender refused), the run tries again a
few times, then stops with the ledger as it is, to be resumed by running it again.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from newsletter.config import SIGNING_KEY_ENV, NewsletterConfig, SenderConfig
from newsletter.errors import NewsletterError
from newsletter.export.mime import message_id_for, sender_of, unsubscribe_url_for
from newsletter.export.personalise import MessageTemplate
from newsletter.export.routing import IssueSend
from newsletter.export.sendrun import Outgoing, Sender, SendReport, SendStopped
from newsletter.export.smtp import (
    DeliveryFailure,
    PermanentFailure,
    ServerFailure,
    SmtpTransport,
    smtp_password,
)
from newsletter.export.subscribers import Subscriber
from newsletter.model import RenderedEmail
from newsletter.pool import Pool
from newsletter.pool.ledger import FAILED, SENT, SUPPRESSED, TO_SEND, LedgerEntry, SendRun
from newsletter.verp import verp_address

__all__ = ["SendReport", "SendStopped", "SmtpTransport", "bulk_send", "proof_send",
           "signing_key", "smtp_password"]  # fmt: skip

CLAIM_BATCH = 20  # rows a run claims at a time: small, so that runs share a list evenly


def signing_key(newsletter: NewsletterConfig, *, required: bool = True) -> bytes | None:
    """The secret that seals each subscriber's unsubscribe token; a list send with an
    unsubscribe page cannot go without it (a proof can: its link is then the bare page)."""
    key = os.environ.get(SIGNING_KEY_ENV)
    if newsletter.unsubscribe_url and not key and required:
        raise NewsletterError(
            f"set ${SIGNING_KEY_ENV}: it signs each subscriber's unsubscribe link"
        )
    return key.encode() if key else None


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
            message_id = message_id_for(sender.domain, f"proof.{uuid.uuid4().hex[:16]}")
            data = template.personalise(
                address,
                "",
                message_id,
                {
                    "unsubscribe_url": unsubscribe_url_for(newsletter, address, key),
                    "web_version_url": email.web_version_url or "",
                },
                one_click=bool(newsletter.unsubscribe_url and key),
            )
            try:
                envelope = envelope_sender(sender, message_id)  # as the list send's would be
                code, reply = transport.send(envelope, address, data)
            except DeliveryFailure as failure:
                raise NewsletterError(f"{address}: the server said {failure}") from None
            except ServerFailure as failure:
                raise NewsletterError(failure.reason) from None
            replies.append((address, f"{code} {reply}"))
    finally:
        transport.close()
    return replies


def envelope_sender(sender: SenderConfig, message_id: str) -> str:
    """MAIL FROM for one message: the return path (default the From address), or with VERP
    that message's own address made from it (newsletter/verp.py); ValueError for a
    Message-ID that no VERP address can be made from."""
    return_path = sender.return_path or sender.from_address
    return verp_address(return_path, message_id) if sender.verp else return_path


def bulk_send(
    pool: Pool,
    issue: IssueSend,
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
    """Send to every subscriber not yet accepted for this issue (see the module's docstring),
    each the edition of their language (export/routing.py), over `[smtp] connections`
    connections at once; SendStopped, with the report so far, when the run cannot go on.

    Every edition's sends are one issue in the ledger, so nobody gets two editions. Which
    edition a recipient gets is fixed when their row enters the ledger, with its Message-ID:
    a run that goes on after a crash sends the very message that may have gone already."""
    fallback = issue.fallback
    from_of = {language: sender_of(e.newsletter) for language, e in issue.editions.items()}
    sender = from_of[fallback.language]
    key_of = issue.key
    report = SendReport(issue.name, dry_run=dry_run, languages=issue.languages)
    by_key = {subscriber.key: subscriber for subscriber in subscribers}
    slug = key_of.split("/", 1)[1]
    planned = [
        (s.key, s.name, message_id_for(sender.domain, f"{slug}.{uuid.uuid4().hex}"),
         issue.edition_for(s.language).language)
        for s in subscribers
    ]  # fmt: skip
    if dry_run:
        return _dry_run(pool, issue, planned, report, retry_failed)
    report.retried = pool.plan_send(key_of, planned, retry_failed=retry_failed)
    states = pool.send_states(key_of)
    report.already_sent, report.suppressed = states[SENT], states[SUPPRESSED]
    outstanding = pool.outstanding_sends(key_of, set(by_key))
    report.not_on_list = sum(states[s] for s in TO_SEND) - len(outstanding)
    report.total = len(outstanding)
    # A lease well beyond what one message can take (three SMTP commands at the timeout).
    lease = timedelta(seconds=max(120.0, 10 * transport.settings.timeout))
    run = SendRun.here(key_of, lease)
    now = datetime.now(UTC)
    templates = {
        language: MessageTemplate(edition.email, edition.newsletter, date=now)
        for language, edition in issue.editions.items()
    }

    def prepare(entry: LedgerEntry) -> Outgoing:
        subscriber = by_key[entry.recipient]
        # The row's edition, fixed when it was planned; the fallback when this run lacks it
        # (its file gone since, or a run of one edition taking over another run's rows).
        edition = issue.editions.get(entry.edition or fallback.language, fallback)
        data = _message_for(templates[edition.language], entry, subscriber, edition.email,
                            edition.newsletter, key)  # fmt: skip
        try:
            envelope = envelope_sender(from_of[edition.language], entry.message_id)
        except ValueError as error:
            data = PermanentFailure(None, f"no envelope sender can be made for it: {error}")
            envelope = ""
        return Outgoing(subscriber.smtp_address, subscriber.address, envelope, data,
                        edition.language)  # fmt: skip

    extra = transport.settings.connections - 1
    connections = [transport, *(transport.copy() for _ in range(extra))]
    senders = Sender(pool, run, report, connections, prepare, rate=rate,
                     max_attempts=max_attempts, retry_delay=retry_delay,
                     on_progress=on_progress)  # fmt: skip
    pool.start_send_run(run)
    try:
        senders.start()
        try:
            outstanding = _claim_all(pool, senders, key_of, set(by_key), outstanding)
        except BaseException:
            with contextlib.suppress(Exception):
                senders.finish(stop=True)  # each connection ends the message it holds
            raise
        senders.finish(stop=False)
        report.elsewhere = len(outstanding)
        if outstanding:
            report.other_runs = pool.other_send_runs(run)
    finally:
        pool.end_send_run(run)  # gives up the rows still claimed (the connections are closed)
    return report


def _claim_all(pool: Pool, senders: Sender, key_of: str, recipients: set[str],
               outstanding: list[int]) -> list[int]:  # fmt: skip
    """Claim the rows to send, a few at a time, and hand them to the connections; the rows
    left in other runs' hands at the end."""
    handed: set[int] = set()  # a deferred row waits for the next run; a queued one, its turn
    while outstanding:
        claimed = False
        for start in range(0, len(outstanding), CLAIM_BATCH):
            for entry in senders.claim(outstanding[start : start + CLAIM_BATCH]):
                claimed = True
                handed.add(entry.id)
                if not senders.put(entry):
                    return []  # stopped: finish() says why
        # Rows another run held may have been left by it since (it died): look again,
        # unless this pass found nothing to claim (the rest is in live runs' hands).
        outstanding = [i for i in pool.outstanding_sends(key_of, recipients) if i not in handed]
        if not claimed:
            break
    return outstanding


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
    issue: IssueSend,
    planned: list[tuple[str, str, str, str]],
    report: SendReport,
    retry_failed: bool,
) -> SendReport:
    known = {entry.recipient: entry for entry in pool.ledger(issue.key)}
    newsletter = issue.key.split("/", 1)[0]
    barred = pool.suppressed_among([address for address, *_ in planned], newsletter)
    for address, _, _, edition in planned:
        entry = known.get(address)
        state = entry.state if entry else None
        if state == SENT:
            report.already_sent += 1
        elif address in barred or state == SUPPRESSED:
            report.suppressed += 1
        elif state == FAILED and not retry_failed:
            report.failed.append((address, "failed before; not retried (--retry-failed)"))
        else:
            report.retried += state == FAILED
            report.total += 1
            if entry is not None:  # the edition its row was planned with, as prepare() does
                edition = issue.editions.get(entry.edition or "", issue.fallback).language
            report.by_edition[edition] += 1
    return report
