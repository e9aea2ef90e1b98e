"""Turn a source document into batches of items ready for the pool: read, identified, tagged.

A big file is prepared in a second process, so that reading and hashing (pure Python) run on
one core while the pool's writes run on the other; small files are not worth a process start.
That process ends with the one that started it, even when that one is killed outright.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from newsletter.config import MAX_FILE_BYTES, TopicConfig
from newsletter.errors import Finding, NewsletterError
from newsletter.ingest.dates import DateReader
from newsletter.ingest.documents import Document
from newsletter.ingest.formats import ReaderOptions, open_reader
from newsletter.ingest.identity import fingerprint, item_uid
from newsletter.ingest.tagging import TopicRules
from newsletter.ingest.uidset import UidSet
from newsletter.model import Entry, IncomingItem

BATCH_SIZE = 2000
SECOND_PROCESS_FROM = 16 * 1024 * 1024  # bytes; below this a process start costs more than it saves
_AHEAD = 4  # batches the second process may prepare before the writer takes them


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """Everything needed to prepare a file, in a form that crosses process boundaries."""

    document: Document
    options: ReaderOptions
    date_languages: tuple[str, ...]
    language: str | None
    topics: tuple[TopicConfig, ...]
    max_file_bytes: int = MAX_FILE_BYTES  # a local file over this is refused


class PreparedBatch(NamedTuple):
    items: list[IncomingItem]  # distinct uids, not seen earlier in the file
    bytes_read: int


@dataclass(frozen=True, slots=True)
class ReadSummary:
    """What reading the whole file found, given after its last batch."""

    format: str
    heading: str | None
    entries: int
    duplicates: int  # entries repeated within the file
    notices: tuple[Finding, ...]
    skipped: int = 0  # entries that could not be read, each named in a notice


def prepare(request: ReadRequest) -> Iterator[PreparedBatch | ReadSummary]:
    """Batches of the file's items, then its ReadSummary; NewsletterError on unreadable input."""
    kind, reader = open_reader(
        request.document, request.options, DateReader(request.date_languages), request.language
    )
    rules = TopicRules(request.topics)
    seen = UidSet()  # a million uids in 19 MiB, not 78 as a set of ints
    batch: list[IncomingItem] = []
    entries = duplicates = 0
    for entry in reader:
        entries += 1
        uid = item_uid(entry)
        if not seen.add(int(uid, 16)):
            duplicates += 1
            continue
        batch.append(
            IncomingItem(uid, fingerprint(entry), entry, rules.match(entry.title, entry.summary))
        )
        if len(batch) == BATCH_SIZE:
            yield PreparedBatch(batch, reader.bytes_read)
            batch = []
    if batch:
        yield PreparedBatch(batch, reader.bytes_read)
    yield ReadSummary(
        kind, reader.heading, entries, duplicates, tuple(reader.notices), reader.skipped
    )


def prepare_anywhere(request: ReadRequest) -> Iterator[PreparedBatch | ReadSummary]:
    """`prepare`, in a second process when the file is big enough to gain from one."""
    request.document.check_size(request.max_file_bytes)
    if request.document.size() < SECOND_PROCESS_FROM:
        return prepare(request)
    return _prepare_in_second_process(request)


class _Failure(NamedTuple):
    error: BaseException


# An IncomingItem as it crosses between the processes: (uid, fingerprint, the entry's fields,
# the rule topics) in plain tuples, which pickle several times faster than NamedTuples (their
# dates are shared objects, which pickle once a batch).
_Wire = tuple[str, str, tuple[Any, ...], tuple[str, ...]]
_new = tuple.__new__  # a NamedTuple from a tuple of its fields, without a call of its __new__


class _WireBatch(NamedTuple):
    items: list[_Wire]
    bytes_read: int


def _to_wire(batch: PreparedBatch) -> _WireBatch:
    return _WireBatch(
        [(i.uid, i.fingerprint, tuple(i.entry), tuple(i.rule_topics)) for i in batch.items],
        batch.bytes_read,
    )


def _from_wire(batch: _WireBatch) -> PreparedBatch:
    return PreparedBatch(
        [_new(IncomingItem, (w[0], w[1], _new(Entry, w[2]), frozenset(w[3]))) for w in batch.items],
        batch.bytes_read,
    )


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _end_with_parent(parent: int) -> None:
    """Be killed when the process that started this one dies, however it dies: else a killed
    ingest leaves its reader blocked on a full queue, and with it multiprocessing's resource
    tracker, which waits for every holder of its pipe (this process is one) to be gone."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    else:  # no parent-death signal: watch for being handed to another parent

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, daemon=True, name="parent-watch").start()
    if os.getppid() != parent:  # it died before the signal was asked for
        os._exit(1)


def _second_process_main(request: ReadRequest, results: Any, parent: int) -> None:
    _end_with_parent(parent)
    try:
        for element in prepare(request):
            results.put(_to_wire(element) if isinstance(element, PreparedBatch) else element)
    except NewsletterError as error:
        results.put(_Failure(error))
    except Exception as error:  # an unexpected bug: carry its text across
        results.put(_Failure(RuntimeError(f"reading {request.document.name} failed: {error!r}")))


def _prepare_in_second_process(request: ReadRequest) -> Iterator[PreparedBatch | ReadSummary]:
    # "spawn": a forked child would inherit the pool's open database connection.
    context = multiprocessing.get_context("spawn")
    results = context.Queue(maxsize=_AHEAD)
    process = context.Process(
        target=_second_process_main,
        args=(request, results, os.getpid()),
        name="newsletter-reader",
        daemon=True,
    )
    process.start()
    try:
        while True:
            try:
                element = results.get(timeout=1)
            except queue.Empty:
                if not process.is_alive():
                    raise NewsletterError(
                        "the process reading this file stopped unexpectedly", request.document.name
                    ) from None
                continue
            if isinstance(element, _Failure):
                raise element.error
            yield _from_wire(element) if isinstance(element, _WireBatch) else element
            if isinstance(element, ReadSummary):
                return
    finally:
        if process.is_alive():
            process.terminate()
        process.join()
        results.close()
