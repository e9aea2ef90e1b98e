"""What `newsletter send` asks of the sending stage, each decision in one place: checked proof
addresses, a transport, and a list send with its verdict."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from newsletter.config import SmtpConfig
from newsletter.errors import NewsletterError
from newsletter.export.routing import IssueSend
from newsletter.export.sending import (
    SendReport,
    SendStopped,
    SmtpTransport,
    bulk_send,
    signing_key,
    smtp_password,
)
from newsletter.export.subscribers import Subscriber
from newsletter.pool import Pool


def transport_for(settings: SmtpConfig, dry_run: bool) -> SmtpTransport:
    """The SMTP transport, with its password (none is asked for a dry run)."""
    return SmtpTransport(settings, None if dry_run else smtp_password(settings))


def proof_addresses(addresses: Sequence[str]) -> list[str]:
    """The proof addresses, normalised; a NewsletterError names the first that is not one."""
    from email_validator import EmailNotValidError, validate_email

    checked = []
    for address in addresses:
        try:
            checked.append(validate_email(address, check_deliverability=False).normalized)
        except EmailNotValidError as error:
            raise NewsletterError(f"--to {address!r}: {error}") from None
    return checked


@dataclass(frozen=True, slots=True)
class ListSend:
    """A list send's report, and why it stopped before the end (None: it did not)."""

    report: SendReport
    stopped: str | None = None

    def failure(self) -> str | None:
        """Why the run ends with exit status 1, or None when it went as it should."""
        report = self.report
        if self.stopped:
            return f"stopped: {self.stopped}; nothing is lost: run the same command to go on"
        if report.failed and not report.sent and not report.dry_run:
            return f"every recipient of this run failed ({len(report.failed)})"
        if report.deferred:
            return f"{len(report.deferred)} deferred: run the same command again later"
        return None


def send_to_list(
    pool: Pool,
    issue: IssueSend,
    subscribers: Sequence[Subscriber],
    transport: SmtpTransport,
    *,
    rate: float,
    dry_run: bool = False,
    retry_failed: bool = False,
    max_attempts: int = 4,
    retry_delay: float = 1.0,
    on_progress: Callable[[int, int], None] | None = None,
) -> ListSend:
    """Send to the list, each subscriber their edition (signing their unsubscribe links); a
    run that stops says why."""
    key = None
    if not dry_run:
        for edition in issue.editions.values():
            key = signing_key(edition.newsletter) or key
    try:
        report = bulk_send(
            pool, issue, subscribers, transport, rate=rate, key=key,
            dry_run=dry_run, retry_failed=retry_failed, max_attempts=max_attempts,
            retry_delay=retry_delay, on_progress=on_progress,
        )  # fmt: skip
    except SendStopped as error:
        return ListSend(error.report, error.message)
    return ListSend(report)
