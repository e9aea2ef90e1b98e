"""Each newsletter's subscribers, the story of each address, and the right to be forgotten.

An address is one subscriber per newsletter whatever its case (`key`, in lower case), as in
the send ledger and the suppression list. A subscriber's status only moves towards sending by
their own act (confirming, resuming): an import never brings back someone who left, bounced
or complained.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Table,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from newsletter.model import Subscriber
from newsletter.pool.tables import SendRow, SubscriberEventRow, SubscriberRow, SuppressionRow

subscribers = cast(Table, SubscriberRow.__table__)
events = cast(Table, SubscriberEventRow.__table__)
sends = cast(Table, SendRow.__table__)
suppressions = cast(Table, SuppressionRow.__table__)

PENDING, ACTIVE, PAUSED = "pending", "active", "paused"
UNSUBSCRIBED, BOUNCED, COMPLAINED = "unsubscribed", "bounced", "complained"
STATUSES = (PENDING, ACTIVE, PAUSED, UNSUBSCRIBED, BOUNCED, COMPLAINED)
LEFT = (UNSUBSCRIBED, BOUNCED, COMPLAINED)  # never sent to again but by their own act
FORGOTTEN = "forgotten"


@dataclass(frozen=True, slots=True)
class SubscriberRecord:
    """One subscriber as the list holds them."""

    newsletter: str
    address: str
    name: str
    language: str
    status: str
    consent_at: datetime | None
    consent_method: str
    consent_source: str
    attributes: dict[str, str]
    created: datetime
    updated: datetime
    ascii_address: str | None = None

    def as_subscriber(self) -> Subscriber:
        return Subscriber(
            self.address, self.name, self.ascii_address, self.language, self.attributes
        )


@dataclass(frozen=True, slots=True)
class Event:
    """One line of an address's story."""

    at: datetime
    newsletter: str
    kind: str
    detail: str
    issue: str = ""


@dataclass
class ImportCounts:
    added: int = 0
    updated: int = 0  # already on the list: name, language and attributes from the file
    suppressed: list[tuple[Subscriber, str]] = field(default_factory=list)  # (row, why): left out


def hashed(key: str) -> str:
    """The form a forgotten address keeps in the suppression list: enough to refuse it, not
    to read it back (short of trying every address)."""
    return "sha256:" + hashlib.sha256(key.lower().encode()).hexdigest()


_COLUMNS = (
    subscribers.c.newsletter,
    subscribers.c.address,
    subscribers.c.name,
    subscribers.c.language,
    subscribers.c.status,
    subscribers.c.consent_at,
    subscribers.c.consent_method,
    subscribers.c.consent_source,
    subscribers.c.attributes,
    subscribers.c.created,
    subscribers.c.updated,
    subscribers.c.ascii_address,
)


def _record(row: Sequence[Any]) -> SubscriberRecord:
    values = list(row)
    values[8] = json.loads(values[8] or "{}")
    return SubscriberRecord(*values)


def count(connection: Connection, newsletter: str) -> int:
    query = select(func.count()).select_from(subscribers)
    return int(connection.execute(query.where(subscribers.c.newsletter == newsletter)).scalar_one())


def barred_keys(connection: Connection, keys: Sequence[str]) -> dict[str, str]:
    """Those of these addresses on the suppression list, plainly or forgotten: key -> why."""
    found: dict[str, str] = {}
    for start in range(0, len(keys), 500):
        chunk = [key.lower() for key in keys[start : start + 500]]
        by_hash = {hashed(key): key for key in chunk}
        query = select(suppressions.c.address, suppressions.c.reason).where(
            suppressions.c.address.in_([*chunk, *by_hash])
        )
        for address, reason in connection.execute(query):
            found[by_hash.get(address, address)] = reason
    return found


def active(connection: Connection, newsletter: str) -> Iterator[Subscriber]:
    """The newsletter's active subscribers, in the order they joined."""
    query = (
        select(*_COLUMNS)
        .where(subscribers.c.newsletter == newsletter, subscribers.c.status == ACTIVE)
        .order_by(subscribers.c.id)
    )
    for row in connection.execution_options(yield_per=5000).execute(query):
        yield _record(row).as_subscriber()


def left_keys(connection: Connection, newsletter: str, keys: Sequence[str]) -> set[str]:
    """Those of these addresses who left this newsletter's list (unsubscribed, bounced,
    complained): a send to a list file skips them too."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        query = select(subscribers.c.key).where(
            subscribers.c.newsletter == newsletter,
            subscribers.c.key.in_(keys[start : start + 500]),
            subscribers.c.status.in_(LEFT),
        )
        found.update(connection.execute(query).scalars())
    return found


def find(connection: Connection, key: str, newsletter: str | None = None) -> list[SubscriberRecord]:
    query = select(*_COLUMNS).where(subscribers.c.key == key.lower())
    if newsletter is not None:
        query = query.where(subscribers.c.newsletter == newsletter)
    return [_record(row) for row in connection.execute(query.order_by(subscribers.c.newsletter))]


def listing(
    connection: Connection,
    newsletter: str | None = None,
    statuses: Sequence[str] = (),
    language: str | None = None,
    containing: str | None = None,
    limit: int | None = None,
) -> Iterator[SubscriberRecord]:
    query = select(*_COLUMNS).order_by(subscribers.c.newsletter, subscribers.c.id)
    if newsletter:
        query = query.where(subscribers.c.newsletter == newsletter)
    if statuses:
        query = query.where(subscribers.c.status.in_(statuses))
    if language is not None:
        query = query.where(subscribers.c.language == language)
    if containing:  # plain text, not a LIKE pattern: "a_b" does not find "axb"
        text_ = containing.lower()
        query = query.where(
            or_(
                subscribers.c.key.contains(text_, autoescape=True),
                func.lower(subscribers.c.name).contains(text_, autoescape=True),
            )
        )
    if limit is not None:
        query = query.limit(limit)
    for row in connection.execution_options(yield_per=5000).execute(query):
        yield _record(row)


def counts(connection: Connection, newsletter: str | None = None) -> dict[tuple[str, str], int]:
    """(newsletter, status) -> subscribers."""
    query = select(subscribers.c.newsletter, subscribers.c.status, func.count()).group_by(
        subscribers.c.newsletter, subscribers.c.status
    )
    if newsletter:
        query = query.where(subscribers.c.newsletter == newsletter)
    return {(n, s): int(c) for n, s, c in connection.execute(query)}


def add_event(
    connection: Connection,
    newsletter: str,
    key: str,
    kind: str,
    detail: str = "",
    *,
    issue: str = "",
    reference: str = "",
    now: datetime | None = None,
) -> None:
    connection.execute(
        insert(events).values(
            newsletter=newsletter,
            key=key.lower(),
            at=now or datetime.now(UTC),
            kind=kind,
            detail=detail[:2000],
            issue=issue,
            reference=reference[:250],
        )
    )


def seen_reference(connection: Connection, key: str, reference: str) -> bool:
    query = select(events.c.id).where(events.c.key == key.lower(), events.c.reference == reference)
    return connection.execute(query.limit(1)).first() is not None


def set_status(
    connection: Connection,
    newsletter: str,
    subscriber: Subscriber,
    status: str,
    event: str,
    detail: str = "",
    *,
    issue: str = "",
    reference: str = "",
    create: bool = True,
) -> str | None:
    """Give the subscriber `status` (added to the list with it when `create`, so that an
    address from a list file that unsubscribes is remembered); the status before (None: not
    on the list). The change is an event of their story."""
    now = datetime.now(UTC)
    before: str | None = connection.execute(
        select(subscribers.c.status).where(
            subscribers.c.newsletter == newsletter, subscribers.c.key == subscriber.key
        )
    ).scalar_one_or_none()
    if before is None:
        if not create or _forgotten(connection, subscriber.key):
            return None  # a forgotten address is never written down again in plain
        _insert(connection, newsletter, subscriber, status, now)
    elif before != status:
        changes: dict[str, Any] = {"status": status, "updated": now}
        if status == ACTIVE:
            changes["soft_bounces"] = 0
        connection.execute(
            update(subscribers)
            .where(subscribers.c.newsletter == newsletter, subscribers.c.key == subscriber.key)
            .values(**changes)
        )
    if before != status or event not in (status, "confirmed") or reference:
        add_event(
            connection,
            newsletter,
            subscriber.key,
            event,
            detail,
            issue=issue,
            reference=reference,
            now=now,
        )
    return before


def update_subscriber(connection: Connection, newsletter: str, key: str, **values: Any) -> bool:
    values["updated"] = datetime.now(UTC)
    result = connection.execute(
        update(subscribers)
        .where(subscribers.c.newsletter == newsletter, subscribers.c.key == key.lower())
        .values(**values)
    )
    return bool(result.rowcount)


def add_pending(
    connection: Connection, newsletter: str, subscriber: Subscriber, source: str
) -> str | None:
    """A visitor asks to join: pending until they confirm. The status before (None: new).
    Anyone may post any address, so a known subscriber's record is not the poster's to
    change: a pending or unsubscribed one only becomes pending again (their name, language
    and consent stay theirs until they confirm); any other stays as they are."""
    now = datetime.now(UTC)
    before: str | None = connection.execute(
        select(subscribers.c.status).where(
            subscribers.c.newsletter == newsletter, subscribers.c.key == subscriber.key
        )
    ).scalar_one_or_none()
    if before is None:
        _insert(connection, newsletter, subscriber, PENDING, now)
    elif before in (PENDING, UNSUBSCRIBED):
        update_subscriber(connection, newsletter, subscriber.key, status=PENDING)
    else:
        return before
    add_event(connection, newsletter, subscriber.key, "subscribed", f"on {source}", now=now)
    return before


def requests_since(connection: Connection, newsletter: str, key: str, since: datetime) -> int:
    """How many times the address was asked for on the form since then."""
    query = select(func.count()).where(
        events.c.key == key.lower(),
        events.c.newsletter == newsletter,
        events.c.kind == "subscribed",
        events.c.at >= since,
    )
    return int(connection.execute(query).scalar_one())


def remove(connection: Connection, newsletter: str, keys: Iterable[str]) -> int:
    removed = 0
    for key in {key.lower() for key in keys}:
        result = connection.execute(
            delete(subscribers).where(
                subscribers.c.newsletter == newsletter, subscribers.c.key == key
            )
        )
        if result.rowcount:
            removed += 1
            add_event(connection, newsletter, key, "removed", "taken off the list")
    return removed


def forget(connection: Connection, key: str) -> int:
    """Erase everything about the address (every list, its story, the send ledger, its
    suppression), keeping only its hash on the suppression list; how many rows went."""
    key = key.lower()
    erased = 0
    for table, column in (
        (subscribers, subscribers.c.key),
        (events, events.c.key),
        (sends, sends.c.recipient),
        (suppressions, suppressions.c.address),
    ):
        erased += int(connection.execute(delete(table).where(column == key)).rowcount)
    token = hashed(key)
    known = connection.execute(
        select(suppressions.c.address).where(suppressions.c.address == token)
    ).first()
    if known is None:
        connection.execute(
            insert(suppressions).values(address=token, reason=FORGOTTEN, added=datetime.now(UTC))
        )
    return erased


def story(connection: Connection, key: str) -> list[Event]:
    """Every event of the address, the sends to it among them, oldest first."""
    key = key.lower()
    found = [
        Event(at, newsletter, kind, detail, issue)
        for at, newsletter, kind, detail, issue in connection.execute(
            select(
                events.c.at, events.c.newsletter, events.c.kind, events.c.detail, events.c.issue
            ).where(events.c.key == key)
        )
    ]
    query = select(
        sends.c.updated,
        sends.c.issue,
        sends.c.state,
        sends.c.smtp_code,
        sends.c.smtp_reply,
        sends.c.message_id,
        sends.c.edition,
    ).where(sends.c.recipient == key)
    for at, issue, state, code, reply, message_id, edition in connection.execute(query):
        outcome = f"{code} {reply}" if code else (reply or "")
        found.append(
            Event(
                at,
                issue.split("/", 1)[0],
                state,  # sent, failed, deferred, suppressed, pending
                f"{message_id} {outcome}".strip(),
                f"{issue} ({edition})" if edition else issue,  # the language edition it was
            )
        )
    return sorted(found, key=lambda event: event.at)


def confirm(connection: Connection, newsletter: str, key: str, detail: str) -> bool:
    """A pending subscriber confirms (double opt-in): active from now, and off the
    suppression list, plain or forgotten, since they came back by their own act. False for
    anyone not pending or active (they left since they asked)."""
    key = key.lower()
    status = connection.execute(
        select(subscribers.c.status).where(
            subscribers.c.newsletter == newsletter, subscribers.c.key == key
        )
    ).scalar_one_or_none()
    if status == ACTIVE:
        return True
    if status != PENDING:
        return False
    now = datetime.now(UTC)
    connection.execute(
        update(subscribers)
        .where(subscribers.c.newsletter == newsletter, subscribers.c.key == key)
        .values(
            status=ACTIVE,
            consent_at=now,
            consent_method="double opt-in",
            consent_source=detail,
            updated=now,
            soft_bounces=0,
        )
    )
    connection.execute(delete(suppressions).where(suppressions.c.address.in_([key, hashed(key)])))
    add_event(connection, newsletter, key, "confirmed", detail, now=now)
    return True


def _forgotten(connection: Connection, key: str) -> bool:
    query = select(suppressions.c.address).where(suppressions.c.address == hashed(key))
    return connection.execute(query).first() is not None


def _insert(
    connection: Connection, newsletter: str, subscriber: Subscriber, status: str, now: datetime
) -> None:
    """A new row for the subscriber, with no consent recorded yet."""
    ascii_address = subscriber.ascii_address
    connection.execute(
        insert(subscribers).values(
            newsletter=newsletter,
            key=subscriber.key,
            address=subscriber.address,
            ascii_address=None if ascii_address == subscriber.address else ascii_address,
            name=subscriber.name,
            language=subscriber.language,
            status=status,
            consent_at=None,
            consent_method="",
            consent_source="",
            attributes="{}",
            soft_bounces=0,
            created=now,
            updated=now,
        )
    )
