"""The send ledger and the suppression list: what makes a bulk send resumable, exactly once,
and lawful.

A send run claims ledger rows before it hands them to SMTP, a few at a time, and records each
outcome as it comes, which gives the row up again. Runs are rows of `send_runs` with a lease:
a run whose lease has passed, or whose process on this host is gone, is dead, and its claimed
rows go back to the pool of rows to send. So two runs never send the same recipient, and a
killed run's rows are taken over at once by the next run on the same host.
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import Connection, String, Table, bindparam, delete, func, insert, select, update

from newsletter.pool.tables import SendRow, SendRunRow, SuppressionRow

sends = cast(Table, SendRow.__table__)
runs = cast(Table, SendRunRow.__table__)
suppressions = cast(Table, SuppressionRow.__table__)

PENDING, SENT, FAILED, DEFERRED, SUPPRESSED = "pending", "sent", "failed", "deferred", "suppressed"
TO_SEND = (PENDING, DEFERRED)
_CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    recipient: str
    name: str
    state: str
    attempts: int
    message_id: str
    smtp_code: int | None = None
    smtp_reply: str | None = None
    id: int = 0
    claimed_by: str | None = None
    edition: str | None = None  # the language edition it is for (None: the main one)


@dataclass(frozen=True, slots=True)
class SendRun:
    """One `newsletter send` process at work on an issue."""

    id: str
    issue: str
    host: str
    pid: int
    lease: timedelta

    @classmethod
    def here(cls, issue: str, lease: timedelta) -> SendRun:
        return cls(os.urandom(12).hex(), issue, socket.gethostname()[:255], os.getpid(), lease)


def plan(
    connection: Connection,
    issue: str,
    recipients: Sequence[tuple[str, str, str, str]],
    barred: set[str],
) -> None:
    """Enter (address, name, message id, edition) rows not yet in the ledger; known rows keep
    theirs, above all their Message-ID and edition, which were fixed before their first
    attempt. The `barred` addresses (suppressed, or gone from the newsletter's list) are
    entered as suppressed."""
    now = datetime.now(UTC)
    known = set(
        connection.execute(select(sends.c.recipient).where(sends.c.issue == issue)).scalars()
    )
    rows = [
        {
            "issue": issue,
            "recipient": address,
            "name": name,
            "message_id": message_id,
            "edition": edition,
            "state": SUPPRESSED if address in barred else PENDING,
            "attempts": 0,
            "updated": now,
        }
        for address, name, message_id, edition in recipients
        if address not in known
    ]
    if rows:  # under the write lock: no other run can have entered them meanwhile
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
            sends.c.id,
            sends.c.claimed_by,
            sends.c.edition,
        )
        .where(sends.c.issue == issue)
        .order_by(sends.c.id)
    )
    states = tuple(states)
    if states:
        query = query.where(sends.c.state.in_(states))
    return [LedgerEntry(**row._asdict()) for row in connection.execute(query)]


def record(
    connection: Connection,
    entry_id: int,
    run_id: str,
    state: str,
    attempts: int,
    code: int | None,
    reply: str | None,
    edition: str | None = None,
) -> bool:
    """Record one outcome of a row this run holds (and the edition it went out in, when
    given), and give the row up; False if the run no longer holds it (it was judged dead and
    another run took it)."""
    values = {"row": entry_id, "run": run_id, "new_state": state, "new_attempts": attempts,
              "code": code, "reply": reply[:2000] if reply else reply,
              "now": datetime.now(UTC), "new_edition": edition}  # fmt: skip
    return bool(connection.execute(_RECORD, values).rowcount)


# Built once: a send commits one of these per message, and building the statement each
# time cost SQLAlchemy twice what executing it does.
_RECORD = (
    update(sends)
    .where(sends.c.id == bindparam("row"), sends.c.claimed_by == bindparam("run"))
    .values(
        state=bindparam("new_state"),
        attempts=bindparam("new_attempts"),
        smtp_code=bindparam("code"),
        smtp_reply=bindparam("reply"),
        updated=bindparam("now"),
        claimed_by=None,
        edition=func.coalesce(bindparam("new_edition", type_=String()), sends.c.edition),
    )
)


# Runs and claims


def start_run(connection: Connection, run: SendRun, now: datetime) -> None:
    connection.execute(
        insert(runs).values(
            id=run.id, issue=run.issue, host=run.host, pid=run.pid, started=now,
            expires=now + run.lease,
        )
    )  # fmt: skip


def renew_run(connection: Connection, run: SendRun, now: datetime) -> bool:
    """Extend the run's lease; False if it has been judged dead meanwhile."""
    result = connection.execute(
        update(runs).where(runs.c.id == run.id).values(expires=now + run.lease)
    )
    return bool(result.rowcount)


def end_run(connection: Connection, run: SendRun) -> None:
    """Give up every row the run still holds, and the run itself."""
    connection.execute(update(sends).where(sends.c.claimed_by == run.id).values(claimed_by=None))
    connection.execute(delete(runs).where(runs.c.id == run.id))


def other_runs(connection: Connection, run: SendRun) -> list[tuple[str, int]]:
    """(host, pid) of the other live runs on the issue."""
    query = select(runs.c.host, runs.c.pid).where(runs.c.issue == run.issue, runs.c.id != run.id)
    return [(host, pid) for host, pid in connection.execute(query)]


def claim(
    connection: Connection, run: SendRun, ids: Sequence[int], now: datetime
) -> list[LedgerEntry]:
    """Claim those rows among `ids` that are still to send and held by no live run; returns
    the rows this run now holds among them."""
    _bury_dead_runs(connection, run, now)
    wanted = (
        select(sends.c.id)
        .where(sends.c.id.in_(ids), sends.c.state.in_(TO_SEND), sends.c.claimed_by.is_(None))
        .order_by(sends.c.id)
        .with_for_update(skip_locked=True)  # PostgreSQL: never wait for another claimer
    )
    connection.execute(update(sends).where(sends.c.id.in_(wanted)).values(claimed_by=run.id))
    query = (
        select(
            sends.c.recipient, sends.c.name, sends.c.state, sends.c.attempts,
            sends.c.message_id, sends.c.smtp_code, sends.c.smtp_reply, sends.c.id,
            sends.c.claimed_by, sends.c.edition,
        )
        .where(sends.c.id.in_(ids), sends.c.claimed_by == run.id)
        .order_by(sends.c.id)
    )  # fmt: skip
    return [LedgerEntry(**row._asdict()) for row in connection.execute(query)]


def _bury_dead_runs(connection: Connection, run: SendRun, now: datetime) -> None:
    found = connection.execute(
        select(runs.c.id, runs.c.host, runs.c.pid, runs.c.expires).where(
            runs.c.issue == run.issue, runs.c.id != run.id
        )
    ).all()
    dead = [
        run_id
        for run_id, host, pid, expires in found
        if expires < now or (host == run.host and not process_alive(pid))
    ]
    if dead:
        held = (
            select(sends.c.id).where(sends.c.claimed_by.in_(dead)).with_for_update(skip_locked=True)
        )
        connection.execute(update(sends).where(sends.c.id.in_(held)).values(claimed_by=None))
        connection.execute(delete(runs).where(runs.c.id.in_(dead)))


def process_alive(pid: int) -> bool:
    """Whether process `pid` of this host runs (a zombie, killed but not yet reaped, does not)."""
    stat = Path(f"/proc/{pid}/stat")
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return fields[0] != "Z"
    except FileNotFoundError:
        return False
    except (OSError, IndexError):
        pass  # no /proc: ask the kernel
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def outstanding_ids(connection: Connection, issue: str, recipients: set[str]) -> list[int]:
    """Ids of the rows still to send to these recipients, in ledger order."""
    query = (
        select(sends.c.id, sends.c.recipient)
        .where(sends.c.issue == issue, sends.c.state.in_(TO_SEND))
        .order_by(sends.c.id)
    )
    return [row_id for row_id, recipient in connection.execute(query) if recipient in recipients]


def retry_failed(connection: Connection, issue: str, recipients: set[str]) -> int:
    """Put the failed rows of these recipients back to pending; how many."""
    query = select(sends.c.id, sends.c.recipient).where(
        sends.c.issue == issue, sends.c.state == FAILED
    )
    ids = [row_id for row_id, recipient in connection.execute(query) if recipient in recipients]
    for start in range(0, len(ids), _CHUNK):
        connection.execute(
            update(sends)
            .where(sends.c.id.in_(ids[start : start + _CHUNK]))
            .values(state=PENDING, updated=datetime.now(UTC))
        )
    return len(ids)


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
