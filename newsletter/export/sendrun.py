"""One bulk-send run at work: its SMTP connections, fed claimed ledger rows by one claimer,
and what each recipient's outcome does to the ledger and the report.

With `[smtp] connections = N`, N threads each hold one connection and one message at a time:
a connection sends its next message only once the outcome of the one before is committed. So
at most N messages are ever accepted by the server and not yet recorded: the only ones a
crash can make arrive twice, the second time with the same Message-ID.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NoReturn

from newsletter.errors import NewsletterError
from newsletter.export.smtp import (
    DeliveryFailure,
    PermanentFailure,
    ServerFailure,
    SmtpTransport,
    TemporaryFailure,
)
from newsletter.pool import Pool
from newsletter.pool.ledger import DEFERRED, FAILED, SENT, LedgerEntry, SendRun

BREAKER = 10  # this many recipients in a row refused alike: the message is refused, not them
QUEUED = 20  # claimed rows waiting for a connection: few, so that runs share a list evenly


class Pacer:
    """At most `rate` messages a second (0: as fast as the server takes them), whichever
    thread asks: each gets the next free slot."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic):
        self.interval = 1 / rate if rate > 0 else 0.0
        self.clock = clock
        self.next = clock()
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = self.clock()
            slot = max(self.next, now)
            self.next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


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
    languages: tuple[str, ...] = ()  # the newsletter's editions, to count by in this order
    by_edition: Counter[str] = field(default_factory=Counter)  # sent (would send), by language

    def edition_counts(self) -> str:
        """What this run sent (a dry run: would send) of each edition, "en 3, fr 2, es 1";
        "" for a newsletter in one language."""
        languages = [*self.languages, *sorted(set(self.by_edition) - set(self.languages))]
        if len(languages) < 2:
            return ""
        return ", ".join(f"{language} {self.by_edition[language]}" for language in languages)


class SendStopped(NewsletterError):
    """The run stopped before the end: the server failed, or the message is refused."""

    def __init__(self, message: str, report: SendReport):
        super().__init__(message)
        self.report = report


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One recipient's message as it goes out, or why none can be made for them."""

    address: str  # as SMTP takes it
    shown: str  # as the report names them
    sender: str  # the envelope's
    data: bytes | PermanentFailure
    edition: str | None = None  # the language edition it is


class Sender:
    """The connections of one run and what they share: the ledger, the lease, the report,
    the pace, and the count of refusals in a row."""

    def __init__(
        self,
        pool: Pool,
        run: SendRun,
        report: SendReport,
        transports: Sequence[SmtpTransport],
        prepare: Callable[[LedgerEntry], Outgoing],
        *,
        rate: float,
        max_attempts: int,
        retry_delay: float,
        on_progress: Callable[[int, int], None] | None = None,
    ):
        self.pool = pool
        self.run = run
        self.report = report
        self.prepare = prepare
        self.pacer = Pacer(rate)
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.on_progress = on_progress
        self.feed: queue.Queue[LedgerEntry] = queue.Queue(maxsize=QUEUED)
        self.stopping = threading.Event()  # stop after the message each connection holds
        self.claimed_all = threading.Event()
        self.lock = threading.Lock()  # the report, the refusals in a row, the progress
        self.lease_lock = threading.Lock()
        # SQLite: this process's ledger writes one at a time, so that none waits in
        # SQLite's busy loop (a millisecond at least); PostgreSQL takes them at once.
        sqlite = pool.engine.dialect.name == "sqlite"
        self.writing: contextlib.AbstractContextManager[object] = (
            threading.Lock() if sqlite else contextlib.nullcontext()
        )
        self.renew_at = 0.0
        self.alike: tuple[int | None, int] = (None, 0)  # the last refusal's code, how many
        self.handled = 0
        self.errors: list[BaseException] = []
        self.threads = [
            threading.Thread(target=self.work, args=(transport,), daemon=True,
                             name=f"smtp-{number}")
            for number, transport in enumerate(transports, 1)
        ]  # fmt: skip

    # The claimer's side

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def claim(self, ids: Sequence[int]) -> list[LedgerEntry]:
        self.keep_lease()
        with self.writing:
            return self.pool.claim_sends(self.run, ids)

    def put(self, entry: LedgerEntry) -> bool:
        """Hand a claimed row to the first free connection; False once the run stops."""
        while not self.stopping.is_set():
            try:
                self.feed.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def finish(self, *, stop: bool) -> None:
        """Wait for the connections to empty the feed (`stop`: only to end the message each
        holds), then raise what stopped one, if anything did."""
        if stop:
            self.stopping.set()
        self.claimed_all.set()
        try:
            for thread in self.threads:
                thread.join()
        except BaseException:  # Ctrl-C meanwhile: each ends the message it holds (a second
            self.stopping.set()  # Ctrl-C leaves them to die with the process)
            for thread in self.threads:
                thread.join()
            raise
        if self.errors:
            raise self.errors[0]
        if self.report.stopped:
            raise SendStopped(self.report.stopped, self.report)

    # Each connection's side

    def work(self, transport: SmtpTransport) -> None:
        """One connection's loop: a message at a time, each outcome committed before the
        next message goes out; meanwhile the next envelope may already be on its way."""
        ahead: list[tuple[LedgerEntry, Outgoing]] = []  # the next row, and its message

        def fetch() -> None:
            """While the server reads a message: take the next row and make its message."""
            if not ahead:
                with contextlib.suppress(queue.Empty):
                    entry = self.feed.get_nowait()
                    ahead.append((entry, self.prepare(entry)))

        def open_next() -> None:
            """Before an outcome is committed: the next envelope on its way meanwhile."""
            fetch()
            if ahead and not isinstance(ahead[0][1].data, PermanentFailure):
                transport.open(ahead[0][1].sender, ahead[0][1].address)

        try:
            while not self.stopping.is_set():
                if ahead:
                    entry, outgoing = ahead.pop()
                else:
                    try:
                        entry = self.feed.get(timeout=0.05)
                    except queue.Empty:
                        if self.claimed_all.is_set() and self.feed.empty():
                            return
                        continue
                    outgoing = self.prepare(entry)
                self.send(entry, outgoing, transport, fetch, open_next)
        except SendStopped:
            pass  # the reason is in the report; the others stop after their message
        except BaseException as error:  # handed to the claimer's thread, which raises it
            with self.lock:
                self.errors.append(error)
            self.stopping.set()
        finally:
            transport.close()  # a row left ahead stays claimed until the run ends

    def send(self, entry: LedgerEntry, outgoing: Outgoing, transport: SmtpTransport,
             fetch: Callable[[], None], open_next: Callable[[], None]) -> None:  # fmt: skip
        if isinstance(outgoing.data, PermanentFailure):
            self.record(entry, outgoing, FAILED, entry.attempts, None, outgoing.data.reply)
            with self.lock:
                self.report.failed.append((outgoing.shown, outgoing.data.reply))
        else:
            self.pacer.wait()
            self.deliver(entry, outgoing, outgoing.data, transport, fetch, open_next)
        with self.lock:
            self.handled += 1
            if self.on_progress:
                self.on_progress(self.handled, self.report.total)

    def deliver(self, entry: LedgerEntry, outgoing: Outgoing, data: bytes,
                transport: SmtpTransport, fetch: Callable[[], None],
                open_next: Callable[[], None]) -> None:  # fmt: skip
        """One recipient: retried on temporary failures, the run stopped on server ones."""
        server_failures = 0
        attempt = 0
        while True:
            self.keep_lease()
            attempt += 1
            try:
                code, reply = transport.send(outgoing.sender, outgoing.address, data, fetch)
            except ServerFailure as failure:
                server_failures += 1
                if failure.fatal or server_failures >= self.max_attempts:
                    tries = "" if failure.fatal else f" ({server_failures} attempts)"
                    self.stop(f"{failure.reason}{tries}")
                attempt -= 1  # not this recipient's attempt
                if self.pause(self.retry_delay * 2 ** (server_failures - 1)):
                    return  # another connection stopped the run: the row stays to send
                continue
            except PermanentFailure as failure:
                open_next()
                self.record(entry, outgoing, FAILED, entry.attempts + attempt, failure.code,
                            failure.reply)  # fmt: skip
                self.refused(outgoing, failure, self.report.failed)
                return
            except TemporaryFailure as failure:
                if attempt < self.max_attempts:
                    if self.pause(self.retry_delay * 2 ** (attempt - 1)):
                        return
                    continue
                open_next()
                self.record(entry, outgoing, DEFERRED, entry.attempts + attempt, failure.code,
                            failure.reply)  # fmt: skip
                self.refused(outgoing, failure, self.report.deferred)
                return
            open_next()
            self.record(entry, outgoing, SENT, entry.attempts + attempt, code, reply)
            with self.lock:
                self.report.sent += 1
                if outgoing.edition:
                    self.report.by_edition[outgoing.edition] += 1
                self.alike = (None, 0)
            return

    def pause(self, seconds: float) -> bool:
        """Wait before trying again; True if the run is stopping meanwhile."""
        return self.stopping.wait(seconds)

    def keep_lease(self) -> None:
        """Renew the run's lease well before it runs out; stop if it was taken over."""
        with self.lease_lock:
            if time.monotonic() < self.renew_at:
                return
            with self.writing:
                renewed = self.pool.renew_send_run(self.run)
            if not renewed:
                self.stop("another send run judged this one dead and took its recipients over")
            self.renew_at = time.monotonic() + self.run.lease.total_seconds() / 4

    def stop(self, reason: str) -> NoReturn:
        with self.lock:
            if self.report.stopped is None:  # the first reason is the one to tell
                self.report.stopped = reason
        self.stopping.set()
        raise SendStopped(reason, self.report)

    def record(self, entry: LedgerEntry, outgoing: Outgoing, state: str, attempts: int,
               code: int | None, reply: str) -> None:  # fmt: skip
        with self.writing:
            held = self.pool.record_send(entry.id, self.run.id, state, attempts, code, reply,
                                         outgoing.edition)  # fmt: skip
        if not held:
            self.stop(f"lost the claim on {entry.recipient} to another run")

    def refused(self, outgoing: Outgoing, failure: DeliveryFailure,
                into: list[tuple[str, str]]) -> None:  # fmt: skip
        """Count refusals in a row with the same code; BREAKER of them stop the run."""
        with self.lock:
            into.append((outgoing.shown, str(failure)))
            code, count = self.alike
            self.alike = (failure.code, count + 1 if code == failure.code else 1)
            tripped = failure.code is not None and self.alike[1] >= BREAKER
        if tripped:
            self.stop(
                f"the server answered {failure} to the last {BREAKER} recipients in a row: it "
                "refuses the message, not them; once the cause is fixed, send again with "
                "--retry-failed"
            )
