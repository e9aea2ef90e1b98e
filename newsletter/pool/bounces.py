"""Bounces and complaints in the pool: matched to the send they answer, and what they do
to the address."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from newsletter.model import Subscriber
from newsletter.pool import ledger
from newsletter.pool.subscribers import (
    BOUNCED,
    COMPLAINED,
    add_event,
    events,
    seen_reference,
    sends,
    set_status,
)


def send_of(
    connection: Connection, message_id: str | None, verp: str | None, domains: Sequence[str]
) -> tuple[str, str] | None:
    """(issue, recipient) of the send a bounce names, by its Message-ID or by its VERP token
    (the left part of a Message-ID of ours, whose right part is one of the senders'
    `domains`): compared whole, never as a pattern, so no made-up token matches a send."""
    candidates = [message_id] if message_id else []
    if verp:
        candidates += [
            f"<{token}@{domain}>" for token in {verp, verp.lower()} for domain in domains
        ]
    if not candidates:
        return None
    query = select(sends.c.issue, sends.c.recipient).where(sends.c.message_id.in_(candidates))
    row = connection.execute(query.limit(1)).first()
    return (row[0], row[1]) if row else None


def soft_bounced_issues(connection: Connection, key: str, newsletter: str) -> set[str]:
    query = select(events.c.issue).where(
        events.c.key == key, events.c.newsletter == newsletter, events.c.kind == "soft-bounce"
    )
    return set(connection.execute(query).scalars())


def last_sent_issues(connection: Connection, key: str, newsletter: str, count: int) -> list[str]:
    """The last `count` issues of the newsletter the address was sent, newest first."""
    query = (
        select(sends.c.issue)
        .where(
            sends.c.recipient == key,
            sends.c.state == "sent",
            sends.c.issue.startswith(f"{newsletter}/", autoescape=True),
        )
        .order_by(sends.c.updated.desc())
        .limit(count)
    )
    return list(connection.execute(query).scalars())


@dataclass(frozen=True, slots=True)
class BounceOutcome:
    """What reading one bounce or complaint did."""

    action: str  # suppressed, soft, already, unmatched
    address: str = ""
    issue: str = ""
    detail: str = ""


def record_bounce(
    connection: Connection,
    kind: str,
    addresses: Sequence[str],
    message_id: str | None,
    verp: str | None,
    status: str,
    reference: str,
    soft_limit: int,
    domains: Sequence[str],
) -> BounceOutcome:
    """Match a bounce ("hard", "soft") or complaint to its send, and act on it: a hard bounce
    or a complaint suppresses the address at once (every newsletter: the mailbox is gone, or
    its owner calls us spam); a soft bounce does when the last `soft_limit` issues sent to it
    all bounced. A report read before changes nothing; one that names another address than
    the one the message went to (a list or a forward that expanded it) is not about it."""
    found = send_of(connection, message_id, verp, domains)
    if found is None:
        return BounceOutcome("unmatched")
    issue, key = found
    if addresses and key not in {address.lower() for address in addresses}:
        return BounceOutcome("unmatched", key, issue, f"it names {', '.join(addresses)}")
    newsletter = issue.split("/", 1)[0]
    if reference and seen_reference(connection, key, reference):
        return BounceOutcome("already", key, issue)
    who = Subscriber(key)
    if kind == "soft":
        add_event(
            connection, newsletter, key, "soft-bounce", status, issue=issue, reference=reference
        )
        recent = last_sent_issues(connection, key, newsletter, soft_limit)
        bounced = soft_bounced_issues(connection, key, newsletter)
        if len(recent) < soft_limit or not set(recent) <= bounced:
            count = len([i for i in recent if i in bounced])
            return BounceOutcome("soft", key, issue, f"{count} of {soft_limit} in a row")
        detail = f"{soft_limit} issues in a row soft-bounced (last: {status})"
        set_status(connection, newsletter, who, BOUNCED, "bounced", detail, issue=issue)
        ledger.suppress(connection, [key], "bounced")
        return BounceOutcome("suppressed", key, issue, detail)
    new_status, event = (COMPLAINED, "complained") if kind == "complaint" else (BOUNCED, "bounced")
    set_status(
        connection, newsletter, who, new_status, event, status, issue=issue, reference=reference
    )
    ledger.suppress(connection, [key], new_status)
    return BounceOutcome("suppressed", key, issue, f"{event} ({status})")
