"""The send ledger and the suppression list: what makes a bulk send resumable and lawful."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Connection, Table, delete, insert, select, update

from newsletter.pool.tables import SendRow, SuppressionRow

sends = cast(Table, SendRow.__table__)
suppressions = cast(Table, SuppressionRow.__table__)

PENDING, SENT, FAILED, DEFERRED, SUPPRESSED = "pending", "sent", "failed", "deferred", "suppressed"
TO_SEND = (PENDING, DEFERRED)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    recipient: str
    name: str
    state: str
    attempts: int
    message_id: str
    smtp_code: int | None = None
    smtp_reply: str | None = None


def plan(connection: Connection, issue: str, recipients: Sequence[tuple[str, str, str]]) -> None:
    """Enter (address, name, message id) rows not yet in the ledger; known rows keep theirs,
    above all their Message-ID, which was fixed before their first attempt."""
    now = datetime.now(UTC)
    known = set(
        connection.execute(select(sends.c.recipient).where(sends.c.issue == issue)).scalars()
    )
    barred = suppressed(connection, [address for address, _, _ in recipients])
    rows = [
        {
            "issue": issue,
            "recipient": address,
            "name": name,
            "message_id": message_id,
            "state": SUPPRESSED if address in barred else PENDING,
            "attempts": 0,
            "updated": now,
        }
        for address, name, message_id in recipients
        if address not in known
    ]
    if rows:
        connection.execute(insert(sends), rows)
    if barred:  # suppressed since an earlier run: never send now
        connection.execute(
            update(sends)
            .where(
                sends.c.issue == issue, sends.c.recipient.in_(barred), sends.c.state.in_(TO_SEND)
            )
            .values(state=SUPPRESSED, updated=now)
        )


def entries(connection: Connection, issue: str, states: Iterable[str] = ()) -> list[LedgerEntry]:
    query = (
        select(
            sends.c.recipient,
            sends.c.name,
            sends.c.state,
            sends.c.attempts,
            sends.c.message_id,
            sends.c.smtp_code,
            sends.c.smtp_reply,
        )
        .where(sends.c.issue == issue)
        .order_by(sends.c.id)
    )
    states = tuple(states)
    if states:
        query = query.where(sends.c.state.in_(states))
    return [LedgerEntry(*row) for row in connection.execute(query)]


def record(
    connection: Connection,
    issue: str,
    recipient: str,
    state: str,
    attempts: int,
    code: int | None,
    reply: str | None,
) -> None:
    connection.execute(
        update(sends)
        .where(sends.c.issue == issue, sends.c.recipient == recipient)
        .values(
            state=state,
            attempts=attempts,
            smtp_code=code,
            smtp_reply=reply,
            updated=datetime.now(UTC),
        )
    )


def states(connection: Connection, issue: str) -> Counter[str]:
    found = connection.execute(select(sends.c.state).where(sends.c.issue == issue)).scalars()
    return Counter(found)


def suppressed(connection: Connection, addresses: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(addresses), 1000):
        chunk = [address.lower() for address in addresses[start : start + 1000]]
        found.update(
            connection.execute(
                select(suppressions.c.address).where(suppressions.c.address.in_(chunk))
            ).scalars()
        )
    return found


def suppress(connection: Connection, addresses: Iterable[str], reason: str) -> int:
    wanted = {address.lower() for address in addresses}
    known = suppressed(connection, sorted(wanted))
    now = datetime.now(UTC)
    fresh = [{"address": a, "reason": reason, "added": now} for a in sorted(wanted - known)]
    if fresh:
        connection.execute(insert(suppressions), fresh)
    return len(fresh)


def unsuppress(connection: Connection, addresses: Iterable[str]) -> int:
    wanted = [address.lower() for address in addresses]
    result = connection.execute(delete(suppressions).where(suppressions.c.address.in_(wanted)))
    return int(result.rowcount)


def suppression_list(connection: Connection) -> list[tuple[str, str, datetime]]:
    query = select(suppressions.c.address, suppressions.c.reason, suppressions.c.added)
    return [(a, r, d) for a, r, d in connection.execute(query.order_by(suppressions.c.address))]
