"""The front door of the pool: `Pool`, a connection to its database, for every stage."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert, select, text

from newsletter.config import DedupeConfig
from newsletter.errors import NewsletterError
from newsletter.model import (
    DuplicatePair,
    Item,
    ItemQuery,
    Source,
    SourceHealth,
    Subscriber,
    TopicOrigin,
    TopicSummary,
)
from newsletter.pool import (
    bounces,
    database,
    dupes,
    imports,
    ledger,
    publications,
    queries,
    sources,
    store,
    subscribers,
    users,
    versions,
)
from newsletter.pool.bounces import BounceOutcome
from newsletter.pool.ledger import LedgerEntry, SendRun
from newsletter.pool.reads import RECENT
from newsletter.pool.store import DerivedTopics, ItemWriter, Tagger
from newsletter.pool.subscribers import Event, ImportCounts, SubscriberRecord


class Pool:
    """A connection to the pool's database; open with `Pool.open(url, topics)`."""

    def __init__(self, engine: Engine, topic_ids: Mapping[str, int]):
        self.engine = engine
        self.topic_ids = dict(topic_ids)

    @classmethod
    def open(cls, url: str, topics: Mapping[str, str] | None = None) -> Pool:
        """Connect, apply pending migrations, and make sure every configured topic exists."""
        engine = database.open_engine(url)
        if not database.is_current(engine):  # the usual case costs one query, and no Alembic
            database.check_connection(engine)
            database.upgrade(engine)
        pool = cls(engine, {})
        pool.ensure_topics(topics or {})
        return pool

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        return database.display_url(str(self.engine.url))

    def ensure_topics(self, topics: Mapping[str, str]) -> None:
        """Make the pool know these topics (slug -> name), as the config has them; a write
        (and its lock) only when the config changed them."""
        with self.engine.connect() as connection:
            known = store.known_topics(connection)
        if all(known.get(slug, (None, None))[1] == name for slug, name in topics.items()):
            self.topic_ids = {slug: topic_id for slug, (topic_id, _) in known.items()}
            return
        with database.for_writing(self.engine).begin() as connection:
            # Processes opening a new pool at once each find the topics missing: on
            # PostgreSQL they queue here, and each re-reads what the one before it wrote.
            database.lock_for_writing(connection)
            self.topic_ids = store.sync_topics(connection, topics)

    def check_topics(self, slugs: Iterable[str]) -> tuple[str, ...]:
        slugs = tuple(slugs)
        for slug in slugs:
            if slug not in self.topic_ids:
                known = ", ".join(sorted(self.topic_ids)) or "none configured"
                raise NewsletterError(f"unknown topic {slug!r} (topics: {known})")
        return slugs

    # Writing

    @contextmanager
    def writer(
        self,
        source: Source,
        *,
        source_topics: Iterable[str] = (),
        manual_topics: Iterable[str] = (),
        tagger: Tagger,
        dedupe: DedupeConfig | None = None,
        now: datetime | None = None,
    ) -> Iterator[ItemWriter]:
        """An ItemWriter inside one transaction: committed if the block ends normally,
        rolled back (nothing stored) if it raises."""
        now = now or datetime.now(UTC)
        with database.for_writing(self.engine).begin() as connection:
            database.lock_for_writing(connection)
            source_id = store.save_source(connection, source, now)
            assert source_id is not None  # a stored source is always created
            yield ItemWriter(
                connection,
                source_id=source_id,
                topic_ids=self.topic_ids,
                source_topics=self.check_topics(source_topics),
                manual_topics=self.check_topics(manual_topics),
                tagger=tagger,
                now=now,
                dedupe=dedupe,
            )

    def record_source_status(
        self, source: Source, status: str, error: str | None, now: datetime | None = None, *,
        create: bool = True,
    ) -> None:  # fmt: skip
        """Record an attempt to read a source that stored nothing (an error, a 304); `create`
        False: only if the pool knows the source already."""
        with database.for_writing(self.engine).begin() as connection:
            sources.record_status(
                connection, source, status, error, now or datetime.now(UTC), create
            )

    def fetch_validators(self, source: Source) -> tuple[str, ...] | None:
        """The ETag and Last-Modified of the source's last stored fetch, if it was read from
        the same place in the same way."""
        with self.engine.connect() as connection:
            found = sources.validators(connection, source)
        return tuple(v or "" for v in found) if any(found) else None

    def source_health(self) -> list[SourceHealth]:
        with self.engine.connect() as connection:
            return sources.health(connection)

    # Near-duplicates

    def duplicate_pairs(self, status: str | None = "open") -> list[DuplicatePair]:
        with self.engine.connect() as connection:
            return dupes.listed(connection, status)

    def merge_items(self, keep: str, other: str) -> Item:
        """Merge item `other` into `keep` (uids or their prefixes); returns the merged item."""
        with database.for_writing(self.engine).begin() as connection:
            database.lock_for_writing(connection)
            uid = dupes.merge(connection, keep, other)
            return queries.get_item(connection, uid)

    def keep_apart(self, first: str, second: str) -> None:
        with database.for_writing(self.engine).begin() as connection:
            database.lock_for_writing(connection)
            dupes.keep_apart(connection, first, second, datetime.now(UTC))

    def current_uids(self, uids: Iterable[str]) -> dict[str, str]:
        """uid -> the uid of the item it was merged into, for merged ones among `uids`."""
        with self.engine.connect() as connection:
            return queries.current_uids(connection, list(uids))

    def tag(self, uid: str, slugs: Iterable[str]) -> Item:
        """Tag an item by hand; this also lifts an earlier `untag` of those topics."""
        slugs = self.check_topics(slugs)
        with database.for_writing(self.engine).begin() as connection:
            item_id, _ = queries.find_item_id(connection, uid)
            topic_ids = [self.topic_ids[slug] for slug in slugs]
            connection.execute(
                delete(store.exclusions).where(
                    store.exclusions.c.item_id == item_id,
                    store.exclusions.c.topic_id.in_(topic_ids),
                )
            )
            store.apply_topic_links(
                connection,
                self.topic_ids,
                {item_id: {(slug, TopicOrigin.MANUAL) for slug in slugs}},
                recompute=(),
            )
            return queries.get_item(connection, uid)

    def untag(self, uid: str, slugs: Iterable[str]) -> Item:
        """Take topics off an item, whatever gave them, and keep rules from adding them back."""
        slugs = self.check_topics(slugs)
        with database.for_writing(self.engine).begin() as connection:
            item_id, _ = queries.find_item_id(connection, uid)
            for slug in slugs:
                topic_id = self.topic_ids[slug]
                connection.execute(
                    delete(store.item_topics).where(
                        store.item_topics.c.item_id == item_id,
                        store.item_topics.c.topic_id == topic_id,
                    )
                )
                already = connection.execute(
                    select(store.exclusions.c.item_id).where(
                        store.exclusions.c.item_id == item_id,
                        store.exclusions.c.topic_id == topic_id,
                    )
                ).first()
                if already is None:
                    connection.execute(
                        insert(store.exclusions).values(item_id=item_id, topic_id=topic_id)
                    )
            return queries.get_item(connection, uid)

    def retag(self, derived: DerivedTopics) -> tuple[int, int]:
        """Recompute source and rule topics of every item; returns (links added, removed)."""
        with database.for_writing(self.engine).begin() as connection:
            database.lock_for_writing(connection)
            return store.retag_all(connection, self.topic_ids, derived)

    def optimise(self) -> None:
        """Refresh the query planner's statistics after a large change."""
        with database.for_writing(self.engine).begin() as connection:
            if self.engine.dialect.name == "sqlite":
                connection.execute(text("PRAGMA optimize"))
            else:
                connection.execute(text("ANALYZE"))

    # Reading

    def select_items(self, query: ItemQuery) -> list[Item]:
        """Items by date range x topics x types (x search), newest first."""
        self.check_topics(query.topics)
        with self.engine.connect() as connection:
            return queries.select_items(connection, query)

    def link_versions(self, first: str, second: str) -> list[versions.Version]:
        """Make two items versions of one story in two languages (versions.link)."""
        with database.for_writing(self.engine).begin() as connection:
            database.lock_for_writing(connection)
            return versions.link(connection, first, second)

    def unlink_version(self, uid: str) -> list[versions.Version]:
        with database.for_writing(self.engine).begin() as connection:
            database.lock_for_writing(connection)
            return versions.unlink(connection, uid)

    def link_by_marks(self, marks: Sequence[str]) -> int:
        with database.for_writing(self.engine).begin() as connection:
            database.lock_for_writing(connection)
            return versions.link_by_marks(connection, marks)

    def story_of(self, uid: str) -> list[versions.Version]:
        with self.engine.connect() as connection:
            return versions.story_of(connection, queries.find_item_id(connection, uid)[0])

    def stories_of(self, uids: Sequence[str]) -> dict[str, list[versions.Version]]:
        """Each item's versions in every language (versions.stories_of); unknown uids left out."""
        with self.engine.connect() as connection:
            return versions.stories_of(connection, uids)

    def item(self, uid: str) -> Item:
        with self.engine.connect() as connection:
            return queries.get_item(connection, uid)

    def topic_summaries(self) -> list[TopicSummary]:
        with self.engine.connect() as connection:
            return queries.reads(connection).topic_summaries()

    def known_uids(self, uids: Iterable[str]) -> set[str]:
        """Those of `uids` that the pool holds."""
        with self.engine.connect() as connection:
            return queries.known_uids(connection, list(uids))

    def type_counts(self) -> list[tuple[str, int]]:
        with self.engine.connect() as connection:
            return queries.reads(connection).type_counts()

    # The studio's users

    def add_user(self, name: str, role: str, password_hash: str) -> None:
        with database.for_writing(self.engine).begin() as connection:
            users.add(connection, name, role, password_hash)

    def remove_user(self, name: str) -> None:
        with database.for_writing(self.engine).begin() as connection:
            users.remove(connection, name)

    def users(self) -> list[tuple[str, str]]:
        """(name, role) of every user, by name."""
        with self.engine.connect() as connection:
            return users.listed(connection)

    def user(self, name: str) -> tuple[str, str] | None:
        """(role, password hash), or None."""
        with self.engine.connect() as connection:
            return users.found(connection, name)

    def approve(self, newsletter: str, slug: str, digest: str, by: str) -> None:
        """Record a reviewer's approval of one version (file digest) of an issue."""
        with database.for_writing(self.engine).begin() as connection:
            users.approve(connection, newsletter, slug, digest, by)

    def approved_by(self, newsletter: str, slug: str, digest: str) -> str | None:
        with self.engine.connect() as connection:
            return users.approved_by(connection, newsletter, slug, digest)

    def recent_types(self, items: int = RECENT) -> list[str]:
        with self.engine.connect() as connection:
            return queries.reads(connection).recent_types(items)

    def count_items(self) -> int:
        with self.engine.connect() as connection:
            return queries.reads(connection).count_items()

    # The send ledger and suppressions

    def plan_send(
        self,
        issue: str,
        recipients: Sequence[tuple[str, str, str, str]],
        *,
        retry_failed: bool = False,
    ) -> int:
        """Enter the recipients (address, name, message id, edition) not yet in the ledger;
        with `retry_failed`, put their failed rows back to pending (returns how many)."""
        with database.for_writing(self.engine).begin() as connection:
            database.lock_for_writing(connection)
            addresses = [address for address, *_ in recipients]
            barred = set(subscribers.barred_keys(connection, addresses))
            barred |= subscribers.left_keys(connection, issue.split("/", 1)[0], addresses)
            ledger.plan(connection, issue, recipients, barred)
            if not retry_failed:
                return 0
            return ledger.retry_failed(connection, issue, {r for r, *_ in recipients})

    def ledger(self, issue: str, states: Iterable[str] = ()) -> list[LedgerEntry]:
        with self.engine.connect() as connection:
            return ledger.entries(connection, issue, states)

    def outstanding_sends(self, issue: str, recipients: set[str]) -> list[int]:
        with self.engine.connect() as connection:
            return ledger.outstanding_ids(connection, issue, recipients)

    def start_send_run(self, run: SendRun) -> None:
        with database.for_writing(self.engine).begin() as connection:
            ledger.start_run(connection, run, datetime.now(UTC))

    def renew_send_run(self, run: SendRun) -> bool:
        with database.for_writing(self.engine).begin() as connection:
            return ledger.renew_run(connection, run, datetime.now(UTC))

    def end_send_run(self, run: SendRun) -> None:
        with database.for_writing(self.engine).begin() as connection:
            ledger.end_run(connection, run)

    def other_send_runs(self, run: SendRun) -> list[tuple[str, int]]:
        with self.engine.connect() as connection:
            return ledger.other_runs(connection, run)

    def claim_sends(self, run: SendRun, ids: Sequence[int]) -> list[LedgerEntry]:
        """Claim rows among `ids` for this run (see pool/ledger.py); the rows it now holds."""
        with database.for_writing(self.engine).begin() as connection:
            return ledger.claim(connection, run, ids, datetime.now(UTC))

    def record_send(
        self, entry_id: int, run_id: str, state: str, attempts: int, code: int | None,
        reply: str | None, edition: str | None = None,
    ) -> bool:  # fmt: skip
        """Record one outcome at once (its own transaction), so a crash loses none; False if
        the run no longer held the row."""
        with database.for_writing(self.engine).begin() as connection:
            return ledger.record(
                connection, entry_id, run_id, state, attempts, code, reply, edition
            )

    def send_states(self, issue: str) -> Counter[str]:
        with self.engine.connect() as connection:
            return ledger.states(connection, issue)

    def suppressed_among(self, addresses: Sequence[str], newsletter: str | None = None) -> set[str]:
        """Those of these addresses never to send to: suppressed, plainly or forgotten, and
        (given a newsletter) those who left its list."""
        keys = [address.lower() for address in addresses]
        with self.engine.connect() as connection:
            found = set(subscribers.barred_keys(connection, keys))
            if newsletter is not None:
                found |= subscribers.left_keys(connection, newsletter, keys)
            return found

    def suppress(self, addresses: Iterable[str], reason: str) -> int:
        with database.for_writing(self.engine).begin() as connection:
            return ledger.suppress(connection, addresses, reason)

    def unsuppress(self, addresses: Iterable[str]) -> int:
        with database.for_writing(self.engine).begin() as connection:
            return ledger.unsuppress(connection, addresses)

    def suppressions(self) -> list[tuple[str, str, datetime]]:
        with self.engine.connect() as connection:
            return ledger.suppression_list(connection)

    # Subscribers

    def import_subscribers(
        self,
        newsletter: str,
        rows: Iterable[Subscriber],
        status: str,
        consent: tuple[str, str],
    ) -> ImportCounts:
        """Add the rows to the newsletter's list in one transaction: all of them, or none if
        reading them fails halfway (see subscribers.import_batch for what each row does)."""
        total = ImportCounts()
        now = datetime.now(UTC)
        with database.for_writing(self.engine).begin() as connection:
            database.lock_for_writing(connection)
            barred = imports.suppression_lookup(connection)
            before = subscribers.count(connection, newsletter)
            batch: list[Subscriber] = []
            for row in rows:
                batch.append(row)
                if len(batch) == imports.BATCH:
                    _add_counts(total, imports.import_batch(
                        connection, newsletter, batch, status, consent, now, barred))  # fmt: skip
                    batch = []
            if batch:
                _add_counts(total, imports.import_batch(
                    connection, newsletter, batch, status, consent, now, barred))  # fmt: skip
            total.added = subscribers.count(connection, newsletter) - before
            total.updated -= total.added
        return total

    def active_subscribers(self, newsletter: str) -> list[Subscriber]:
        with self.engine.connect() as connection:
            return list(subscribers.active(connection, newsletter))

    def subscriber(self, address: str, newsletter: str | None = None) -> list[SubscriberRecord]:
        with self.engine.connect() as connection:
            return subscribers.find(connection, address, newsletter)

    def subscribers(
        self,
        newsletter: str | None = None,
        statuses: Sequence[str] = (),
        language: str | None = None,
        containing: str | None = None,
        limit: int | None = None,
    ) -> Iterator[SubscriberRecord]:
        with self.engine.connect() as connection:
            yield from subscribers.listing(
                connection, newsletter, statuses, language, containing, limit
            )

    def subscriber_counts(self, newsletter: str | None = None) -> dict[tuple[str, str], int]:
        with self.engine.connect() as connection:
            return subscribers.counts(connection, newsletter)

    def set_subscriber_status(
        self, newsletter: str, subscriber: Subscriber, status: str, event: str,
        detail: str = "", *, create: bool = True,
    ) -> str | None:  # fmt: skip
        """Give the subscriber a status, recorded in their story; the status before."""
        with database.for_writing(self.engine).begin() as connection:
            return subscribers.set_status(
                connection, newsletter, subscriber, status, event, detail, create=create
            )

    def add_pending_subscriber(
        self, newsletter: str, subscriber: Subscriber, source: str
    ) -> str | None:
        with database.for_writing(self.engine).begin() as connection:
            return subscribers.add_pending(connection, newsletter, subscriber, source)

    def requests_since(self, newsletter: str, address: str, since: datetime) -> int:
        with self.engine.connect() as connection:
            return subscribers.requests_since(connection, newsletter, address, since)

    def confirm_subscriber(self, newsletter: str, address: str, detail: str) -> bool:
        with database.for_writing(self.engine).begin() as connection:
            return subscribers.confirm(connection, newsletter, address, detail)

    def record_bounce(
        self, kind: str, addresses: Sequence[str], message_id: str | None, verp: str | None,
        status: str, reference: str, soft_limit: int, domains: Sequence[str],
    ) -> BounceOutcome:  # fmt: skip
        """Match one bounce or complaint to its send and act on it (bounces.record_bounce)."""
        with database.for_writing(self.engine).begin() as connection:
            database.lock_for_writing(connection)
            return bounces.record_bounce(
                connection,
                kind,
                addresses,
                message_id,
                verp,
                status,
                reference,
                soft_limit,
                domains,
            )

    def update_subscriber(self, newsletter: str, address: str, event: str, detail: str,
                          **values: str) -> bool:  # fmt: skip
        with database.for_writing(self.engine).begin() as connection:
            if not subscribers.update_subscriber(connection, newsletter, address, **values):
                return False
            subscribers.add_event(connection, newsletter, address, event, detail)
            return True

    def remove_subscribers(self, newsletter: str, addresses: Iterable[str]) -> int:
        with database.for_writing(self.engine).begin() as connection:
            return subscribers.remove(connection, newsletter, addresses)

    def forget(self, address: str) -> int:
        """Erase the address (subscribers.forget); on SQLite, from the file's free pages and
        its write-ahead log too, so that nothing can be read back from the disk."""
        sqlite = self.engine.dialect.name == "sqlite"
        with database.for_writing(self.engine).begin() as connection:
            database.lock_for_writing(connection)
            if sqlite:
                connection.exec_driver_sql("PRAGMA secure_delete = ON")
            erased = subscribers.forget(connection, address)
        if sqlite:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA secure_delete = OFF")
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return erased

    def story(self, address: str) -> list[Event]:
        with self.engine.connect() as connection:
            return subscribers.story(connection, address)

    # Publications

    @contextmanager
    def publishing(self, newsletter: str) -> Iterator[publications.NewsletterPublications]:
        """The newsletter's publication record in one transaction that holds its lock from
        the start (BEGIN IMMEDIATE on SQLite, an advisory lock on PostgreSQL): committed if
        the block ends normally, rolled back if it raises."""
        with database.for_writing(self.engine).begin() as connection:
            publications.lock(connection, newsletter)
            yield publications.NewsletterPublications(connection, newsletter)

    def publications(self, newsletter: str | None = None) -> list[publications.Publication]:
        with self.engine.connect() as connection:
            return publications.history(connection, newsletter)


def _add_counts(total: ImportCounts, batch: ImportCounts) -> None:
    total.added += batch.added
    total.updated += batch.updated
    total.suppressed += batch.suppressed
