"""The subscribers' side of a newsletter: importing a list, the public pages' acts (join,
confirm, leave, preferences), and what bounces and complaints do to the list.

The CLI and `newsletter serve` both come here; the list itself is the pool's. Links that
name a subscriber carry an opaque token (newsletter/tokens.py), never the address.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

from newsletter.config import Config, NewsletterConfig
from newsletter.errors import Finding, NewsletterError
from newsletter.export.subscribers import subscriber_rows
from newsletter.model import Subscriber
from newsletter.pool import Pool
from newsletter.pool.subscribers import (
    ACTIVE,
    LEFT,
    PAUSED,
    PENDING,
    UNSUBSCRIBED,
    ImportCounts,
    SubscriberRecord,
)
from newsletter.tokens import make_confirm_token, make_token, read_confirm_token, read_token

# Statuses an import may give: those the list holds, but never "paused", which is the
# subscriber's own choice.
IMPORT_STATUSES = (ACTIVE, PENDING, *LEFT)


@dataclass(frozen=True, slots=True)
class ImportReport:
    counts: ImportCounts
    problems: list[Finding]  # rows skipped (or imported without their name), with their line


def import_subscribers(
    pool: Pool, path: Path, newsletter: str, status: str, source: str
) -> ImportReport:
    """Import a CSV list (read as it streams) into the newsletter's list, in one transaction:
    a file that cannot be read to its end imports nothing; a bad row is skipped and named."""
    problems: list[Finding] = []

    def good_rows() -> Iterator[Subscriber]:
        for row in subscriber_rows(path):
            if isinstance(row, Finding):
                problems.append(row)
            else:
                yield row

    counts = pool.import_subscribers(newsletter, good_rows(), status, ("import", source))
    return ImportReport(counts, problems)


def add_subscriber(pool: Pool, newsletter: str, address: str, name: str, language: str) -> str:
    """Add one address, active, by hand (the editor vouches for their consent); what
    happened, in words."""
    import getpass
    import socket

    from email_validator import EmailNotValidError

    from newsletter.export.subscribers import checked_address, language_problem
    from newsletter.headers import HeaderKind, header_problem

    try:
        normalized, ascii_address = checked_address(address)
    except EmailNotValidError as error:
        raise NewsletterError(f"{address!r}: {error}") from None
    problem = header_problem(name, HeaderKind.NAME) or language_problem(language)
    if problem:
        raise NewsletterError(problem)
    who = Subscriber(normalized, name, ascii_address, language.replace("_", "-").lower())
    source = f"by {getpass.getuser()} on {socket.gethostname()}"
    counts = pool.import_subscribers(newsletter, [who], ACTIVE, ("cli", source))
    if counts.suppressed:
        return f"{normalized} is on the suppression list ({counts.suppressed[0][1]}): not added"
    if counts.added:
        return f"{newsletter}: added {normalized} (active)"
    return f"{newsletter}: {normalized} was already on the list (name and language updated)"


# The public pages' acts


def page_url(config: Config, newsletter: str, page: str, token: str = "") -> str:
    """The address of one of `newsletter serve`'s pages ("" when [subscriptions] url is not
    set), with a subscriber's token."""
    url = config.subscriptions.page_url(newsletter, page)
    if not url:
        return ""
    return url + (f"?t={token}" if token else "")


CONFIRMATIONS_A_DAY = 3  # to one address: the form cannot be made to flood a stranger


def ask_to_join(pool: Pool, newsletter: NewsletterConfig, who: Subscriber, source: str) -> bool:
    """Someone asks, on the form, to join: pending until they confirm. Whether a
    confirmation goes out: not to an address on the suppression list (nothing is even
    written down), not to someone already active, paused, bounced or complained, and not
    more than CONFIRMATIONS_A_DAY times a day. The page says the same to everyone."""
    from datetime import UTC, datetime, timedelta

    if pool.suppressed_among([who.address]):
        return False
    before = pool.add_pending_subscriber(newsletter.slug, who, source)
    if before not in (None, PENDING, UNSUBSCRIBED):
        return False
    day_ago = datetime.now(UTC) - timedelta(days=1)
    return pool.requests_since(newsletter.slug, who.address, day_ago) <= CONFIRMATIONS_A_DAY


def confirmation_token(newsletter: str, address: str, key: bytes) -> str:
    return make_confirm_token(address, newsletter, key, int(time.time()))


def confirmation_of(newsletter: str, token: str, key: bytes, max_age: float) -> str | None:
    """The address a valid, unexpired confirmation token names (nothing done yet), or None."""
    return read_confirm_token(token, newsletter, key, int(time.time()), max_age)


def confirm(
    pool: Pool, newsletter: str, token: str, key: bytes, max_age: float, where: str
) -> str | None:
    """The address a valid, unexpired confirmation token names, now active; else None."""
    address = confirmation_of(newsletter, token, key, max_age)
    if address is None or not pool.confirm_subscriber(newsletter, address, where):
        return None
    return address


def subscriber_of(newsletter: str, token: str, key: bytes) -> str | None:
    """The address a subscriber's own token (their unsubscribe link's) names, or None."""
    return read_token(token, newsletter, key)


def unsubscribe(pool: Pool, newsletter: str, token: str, key: bytes, how: str) -> bool:
    """Take the token's subscriber off the list at once (remembered even if they came from
    a list file); False for a token that is not one."""
    address = read_token(token, newsletter, key)
    if address is None:
        return False
    record = record_of(pool, newsletter, address)
    if record is not None and record.status in LEFT:
        return True  # gone already; a bounce or a complaint says more than an unsubscribe
    pool.set_subscriber_status(newsletter, Subscriber(address), UNSUBSCRIBED, "unsubscribed", how)
    return True


def own_token(newsletter: str, address: str, key: bytes) -> str:
    return make_token(address, newsletter, key)


def record_of(pool: Pool, newsletter: str, address: str) -> SubscriberRecord | None:
    found = pool.subscriber(address, newsletter)
    return found[0] if found else None


def set_preferences(
    pool: Pool,
    newsletter: NewsletterConfig,
    address: str,
    *,
    language: str | None,
    paused: bool,
) -> str:
    """Apply the preferences page's choices; the subscriber's status after."""
    record = record_of(pool, newsletter.slug, address)
    if record is None or record.status not in (ACTIVE, PAUSED):
        return record.status if record else UNSUBSCRIBED
    if language is not None and language != record.language:
        pool.update_subscriber(newsletter.slug, address, "language", language, language=language)
    wanted = PAUSED if paused else ACTIVE
    if wanted != record.status:
        event = "paused" if paused else "resumed"
        pool.set_subscriber_status(
            newsletter.slug, Subscriber(address), wanted, event, "on the preferences page"
        )
    return wanted


# Bounces and complaints


@dataclass
class BounceRun:
    """What `newsletter bounces read` did."""

    suppressed: list[tuple[str, str, str]] = field(default_factory=list)  # address, issue, why
    soft: list[tuple[str, str, str]] = field(default_factory=list)  # address, issue, count
    already: int = 0  # read before: changed nothing
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # source, what it said
    unrecognised: list[tuple[str, str, str]] = field(default_factory=list)  # source, subject, why


def read_bounces(pool: Pool, config: Config, messages: Iterable[tuple[str, Message]]) -> BounceRun:
    """Classify each message; match each bounce or complaint to its send and act on it.
    Anything else is left alone, and listed. VERP tokens are read for the return path of
    every newsletter that has a sender."""
    from newsletter.bounces import Unrecognised, classify

    senders = [n.sender for n in config.newsletters.values() if n.sender is not None]
    return_paths: list[str | None] = list(
        dict.fromkeys(s.return_path or s.from_address for s in senders)
    )
    return_paths = return_paths or [None]
    domains = sorted({s.domain.encode("idna").decode("ascii") for s in senders})
    run = BounceRun()
    for source, message in messages:
        for return_path in return_paths:  # the one whose VERP address the report came to
            found = classify(message, source, return_path)
            if isinstance(found, Unrecognised) or found.verp or found.message_id:
                break
        if isinstance(found, Unrecognised):
            run.unrecognised.append((found.source, found.subject, found.reason))
            continue
        outcome = pool.record_bounce(
            found.kind,
            found.addresses,
            found.message_id,
            found.verp,
            found.status,
            _reference(message, source),
            config.bounces.soft_limit,
            domains,
        )
        said = f"{found.kind} {found.status} for {', '.join(found.addresses) or 'nobody named'}"
        if outcome.action == "unmatched":
            why = (
                f" (our message went to {outcome.address}: {outcome.detail})"
                if outcome.detail
                else ""
            )
            run.unmatched.append((found.source, said + why))
        elif outcome.action == "already":
            run.already += 1
        elif outcome.action == "soft":
            run.soft.append((outcome.address, outcome.issue, outcome.detail))
        else:
            run.suppressed.append((outcome.address, outcome.issue, outcome.detail))
    return run


def mailbox_messages(config: Config, path: Path | None) -> Iterator[tuple[str, Message]]:
    """The messages of a Maildir or mbox, or (no path) of the [bounces] IMAP mailbox."""
    import os

    from newsletter.bounces import read_imap, read_mailbox

    if path is not None:
        return read_mailbox(path)
    settings = config.bounces
    if not settings.imap_host or not settings.imap_user:
        raise NewsletterError("set [bounces] imap_host and imap_user to read bounces by IMAP")
    password = os.environ.get(settings.imap_password_env)
    if password is None:
        raise NewsletterError(f"set ${settings.imap_password_env} to the IMAP password")
    return read_imap(
        settings.imap_host,
        settings.imap_port,
        settings.imap_user,
        password,
        settings.imap_folder,
        security=settings.imap_security,
    )


def _reference(message: Message, source: str) -> str:
    """The report's own identity: its Message-ID, else a digest of its bytes (else, for a
    message too broken to write out again, where it was read)."""
    own = str(message.get("Message-ID", "") or "").strip()
    if own and len(own) <= 250:
        return own
    try:
        return "sha256:" + hashlib.sha256(message.as_bytes()).hexdigest()
    except (UnicodeError, LookupError, ValueError, TypeError):
        return source[:250]
