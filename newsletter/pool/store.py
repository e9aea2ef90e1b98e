"""Write paths of the pool: store a source's items in batches, and recompute derived topic links."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    Connection,
    Dialect,
    Row,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    select,
    tuple_,
    update,
)

from newsletter.config import DedupeConfig
from newsletter.model import IncomingItem, Source, TopicOrigin, WriteCounts
from newsletter.neardupes import Judgement, Keyed, Story, Verdict, best_match, keyed
from newsletter.pool.tables import (
    DuplicatePairRow,
    ItemAliasRow,
    ItemRow,
    ItemSourceRow,
    ItemTopicRow,
    SourceRow,
    TopicExclusionRow,
    TopicRow,
)

# Core tables: bulk writes through them skip the ORM's per-object bookkeeping.
items = cast(Table, ItemRow.__table__)
sources = cast(Table, SourceRow.__table__)
topics = cast(Table, TopicRow.__table__)
item_topics = cast(Table, ItemTopicRow.__table__)
item_sources = cast(Table, ItemSourceRow.__table__)
exclusions = cast(Table, TopicExclusionRow.__table__)
aliases = cast(Table, ItemAliasRow.__table__)
pairs = cast(Table, DuplicatePairRow.__table__)

# (title, summary) -> topic slugs that the keyword rules give
Tagger = Callable[[str, str], frozenset[str]]
# (title, summary, source names) -> {(topic slug, origin)} that sources and rules give
DerivedTopics = Callable[[str, str, Sequence[str]], set[tuple[str, str]]]

MAX_CANDIDATES = 300_000  # other sources' items kept keyed while one file is ingested
_FIELDS = ("type", "title", "date", "summary", "url", "language", "image", "image_credit")
_ROW = (items.c.id, items.c.uid, *(items.c[name] for name in _FIELDS))


def known_topics(connection: Connection) -> dict[str, tuple[int, str]]:
    """slug -> (id, name) of every topic the pool knows."""
    rows = connection.execute(select(topics.c.slug, topics.c.id, topics.c.name))
    return {row.slug: (row.id, row.name) for row in rows}


def sync_topics(connection: Connection, names: Mapping[str, str]) -> dict[str, int]:
    """Make the topics table hold every configured topic (slug -> name); returns slug -> id."""
    known = {row.slug: row for row in connection.execute(select(topics))}
    for slug, name in names.items():
        if slug not in known:
            connection.execute(insert(topics).values(slug=slug, name=name))
        elif known[slug].name != name:
            connection.execute(update(topics).where(topics.c.slug == slug).values(name=name))
    return dict(connection.execute(select(topics.c.slug, topics.c.id)).all())


def save_source(
    connection: Connection, source: Source, now: datetime, status: str = "ok",
    error: str | None = None, create: bool = True,
) -> int | None:  # fmt: skip
    """Insert or refresh a source's description and health; returns its id.

    `status` ok: its items are being stored now, with the fetch validators that came with them.
    Anything else (not modified, error) records the attempt on a source the pool knows, and
    keeps what it knew: the format, the validators. `create` False: a source the pool does not
    know is not recorded (a mistyped file name makes no source)."""
    values: dict[str, Any] = {
        "location": source.location,
        "title": source.title,
        "listing_url": source.listing_url,
        "language": source.language,
        "last_fetched": now,
        "last_status": status,
        "last_error": error,
    }
    if status == "ok":
        values.update(
            format=source.format,
            last_ingested=now,
            etag=source.etag,
            last_modified=source.last_modified,
            read_options=source.read_options,
        )
    found = connection.execute(select(sources.c.id).where(sources.c.name == source.name)).scalar()
    if found is None and not create:
        return None
    if found is None:
        values.setdefault("format", source.format)
        return int(
            connection.execute(
                insert(sources).values(name=source.name, **values).returning(sources.c.id)
            ).scalar_one()
        )
    connection.execute(update(sources).where(sources.c.id == found).values(**values))
    return int(found)


class ItemWriter:
    """Stores batches of one source's items on one connection (the caller owns the transaction).

    An item already in the pool is updated only when what this source says of it changed since
    the source last said it, so ingesting the same files again, in any order, changes nothing.
    """

    def __init__(
        self,
        connection: Connection,
        *,
        source_id: int,
        topic_ids: Mapping[str, int],
        source_topics: Iterable[str],
        manual_topics: Iterable[str],
        tagger: Tagger,
        now: datetime,
        dedupe: DedupeConfig | None = None,
    ):
        self.connection = connection
        self.source_id = source_id
        self.topic_ids = topic_ids
        self.manual_topics = frozenset(manual_topics)
        # What every item of this source gets, whatever it says.
        self.given_topics = {(slug, str(TopicOrigin.SOURCE)) for slug in source_topics} | {
            (slug, str(TopicOrigin.MANUAL)) for slug in self.manual_topics
        }
        self.tagger = tagger
        self.now = now
        self.dedupe = dedupe
        self._others: bool | None = None  # whether the pool holds items of other sources
        self._was_empty: bool | None = None  # whether the pool held no items at all
        # Other sources' items by day, for near-duplicates (see load_candidates).
        self._candidates: dict[date, list[tuple[int, Keyed]]] = {}
        self._candidate_day: dict[int, date] = {}

    def write(self, batch: Sequence[IncomingItem]) -> WriteCounts:
        """Store a batch whose uids are distinct, and not in an earlier batch of this writer
        (as `prepare` gives a file's items; the uid's unique index refuses a repeat)."""
        if self.pool_was_empty():  # nothing to find, merge with or match: all of it is new
            self.insert_new(batch)
            return WriteCounts(new=len(batch))
        by_uid = {incoming.uid: incoming for incoming in batch}
        known = [
            (row, by_uid[row.uid])
            for row in self.connection.execute(select(*_ROW).where(items.c.uid.in_(by_uid)))
        ]
        missing = by_uid.keys() - {row.uid for row, _ in known}
        # Found by a uid merged into another item: this source told a near-duplicate of it, and
        # may only fill the merged item's gaps, now as when it was merged.
        aliased: list[tuple[Any, IncomingItem]] = []
        if missing and self.has_aliases():
            aliased = [
                (row, by_uid[row.alias])
                for row in self.connection.execute(
                    select(*_ROW, aliases.c.uid.label("alias"))
                    .join(items, items.c.id == aliases.c.item_id)
                    .where(aliases.c.uid.in_(missing))
                )
            ]
            missing -= {incoming.uid for _, incoming in aliased}
        self.forget_candidates([row.id for row, _ in (*known, *aliased)])  # this source's now
        fresh = [incoming for incoming in batch if incoming.uid in missing]
        same: list[tuple[Row[Any], IncomingItem]] = []
        maybe: list[tuple[int, IncomingItem, Judgement]] = []
        if fresh and self.dedupe is not None and self.pool_has_other_sources():
            fresh, same, maybe = self.find_near_duplicates(fresh, self.dedupe)
        counts = WriteCounts(new=len(fresh), listed=len(maybe))
        if fresh:
            ids = self.insert_new(fresh)
            if maybe:
                self.list_pairs([(first, ids[i.uid], judged) for first, i, judged in maybe])
        if same:
            bulk_insert(self.connection, aliases, ("uid", "item_id"),
                        [(incoming.uid, row.id) for row, incoming in same])  # fmt: skip
            self.merge_known(same, fill_gaps_only=True)
            counts += WriteCounts(merged=len(same))
        if known:
            counts += self.merge_known(known)
        if aliased:
            counts += self.merge_known(aliased, fill_gaps_only=True)
        return counts

    def set_format(self, kind: str, skipped: int = 0) -> None:
        """The format the source turned out to be in, once its content told, and how many of
        its entries could not be stored."""
        self.connection.execute(
            update(sources)
            .where(sources.c.id == self.source_id)
            .values(format=kind, last_skipped=skipped)
        )

    def pool_was_empty(self) -> bool:
        """Whether the pool held no items when this writer began: its first ingest, where a
        look-up of every uid would find nothing. Asked once, as pool_has_other_sources."""
        if self._was_empty is None:
            found = self.connection.execute(select(items.c.id).limit(1)).first()
            self._was_empty = found is None
        return self._was_empty

    def has_aliases(self) -> bool:
        return self.connection.execute(select(aliases.c.uid).limit(1)).first() is not None

    def pool_has_other_sources(self) -> bool:
        """Near-duplicates are looked for among other sources' items: when there are none (a
        first ingest, a pool of one source) the search is skipped. Asked once: no other source
        can write while this transaction holds the write lock."""
        if self._others is None:
            others = select(sources.c.id).where(sources.c.id != self.source_id)
            linked = select(item_sources.c.item_id).where(item_sources.c.source_id.in_(others))
            self._others = self.connection.execute(linked.limit(1)).first() is not None
        return self._others

    def forget_candidates(self, ids: Iterable[int]) -> None:
        """Items this source now tells are no longer other sources' items to match."""
        for item_id in ids:
            day = self._candidate_day.pop(item_id, None)
            if day is not None:
                self._candidates[day] = [c for c in self._candidates[day] if c[0] != item_id]

    def find_near_duplicates(
        self, fresh: Sequence[IncomingItem], settings: DedupeConfig
    ) -> tuple[
        list[IncomingItem], list[tuple[Row[Any], IncomingItem]],
        list[tuple[int, IncomingItem, Judgement]],
    ]:  # fmt: skip
        """Split new items into (still new, the same as an item of another source, possibly
        the same as one: to be listed)."""
        window_days = range(-settings.max_days_apart, settings.max_days_apart + 1)
        wanted = {i.entry.date + timedelta(days=d) for i in fresh for d in window_days}
        self.load_candidates(wanted)
        by_day = self._candidates
        still_new, same_ids, maybe = [], [], []
        for incoming in fresh:
            entry = incoming.entry
            window = [
                candidate
                for day in (entry.date + timedelta(days=d) for d in window_days)
                for candidate in by_day.get(day, ())
            ]
            found = best_match(
                Story(entry.title, entry.date, entry.url), [k for _, k in window], settings
            )
            if found is not None and found[1].verdict is Verdict.SAME:
                item_id = window[found[0]][0]
                same_ids.append((item_id, incoming))
                self.forget_candidates([item_id])  # this source's now
                continue
            still_new.append(incoming)
            if found is not None:
                maybe.append((window[found[0]][0], incoming, found[1]))
        rows = {
            row.id: row
            for row in self.connection.execute(
                select(*_ROW).where(items.c.id.in_([item_id for item_id, _ in same_ids]))
            )
        } if same_ids else {}  # fmt: skip
        return still_new, [(rows[item_id], i) for item_id, i in same_ids], maybe

    def load_candidates(self, wanted: set[date]) -> None:
        """Other sources' items of these days, with their titles keyed for the search. Kept for
        the rest of the file (nobody else writes while this transaction holds the lock), but
        only about MAX_CANDIDATES of them: memory stays flat however big the pool."""
        if len(self._candidate_day) > MAX_CANDIDATES:
            self._candidates.clear()
            self._candidate_day.clear()
        days = sorted(wanted - self._candidates.keys())
        own = exists().where(
            item_sources.c.item_id == items.c.id, item_sources.c.source_id == self.source_id
        )
        for day in days:
            self._candidates[day] = []
        for start in range(0, len(days), 500):
            found = self.connection.execute(
                select(items.c.id, items.c.title, items.c.date, items.c.url).where(
                    items.c.date.in_(days[start : start + 500]), ~own
                )
            )
            for item_id, title, day, url in found:
                self._candidates[day].append((item_id, keyed(Story(title, day, url))))
                self._candidate_day[item_id] = day

    def list_pairs(self, found: Sequence[tuple[int, int, Judgement]]) -> None:
        bulk_insert(
            self.connection,
            pairs,
            ("item_id", "other_id", "score", "reason", "status", "found"),
            [(first, second, j.score, j.reason, "open", self.now) for first, second, j in found],
        )

    def insert_new(self, fresh: Sequence[IncomingItem]) -> dict[str, int]:
        now = self.now
        last_id = self.connection.execute(select(func.max(items.c.id))).scalar()
        bulk_insert(
            self.connection,
            items,
            ("uid", *_FIELDS, "first_seen", "updated"),
            [
                (
                    *(i.uid, e.type, e.title, e.date, e.summary, e.url, e.language, e.image),
                    e.image_credit,
                    now,
                    now,
                )
                for i in fresh
                for e in (i.entry,)
            ],
        )
        ids = self.new_item_ids(fresh, last_id)
        bulk_insert(
            self.connection,
            item_sources,
            ("item_id", "source_id", "fingerprint", "first_seen"),
            [(ids[i.uid], self.source_id, i.fingerprint, now) for i in fresh],
        )
        topic_ids = self.topic_ids
        bulk_insert(
            self.connection,
            item_topics,
            ("item_id", "topic_id", "origin"),
            [
                (ids[i.uid], topic_ids[slug], origin)
                for i in fresh
                for slug, origin in self.with_given_topics(i.rule_topics)
            ],
        )
        return ids

    def new_item_ids(self, fresh: Sequence[IncomingItem], last_id: int | None) -> dict[str, int]:
        """The ids the database gave to the rows just inserted, uid -> id.

        SQLite numbers new rows on from the largest id, and nobody else can insert while this
        transaction writes, so the ids are known without asking: asking costs a tenth of a big
        ingest. Where that does not hold (PostgreSQL, or an id at its maximum), ask.
        """
        if self.connection.dialect.name == "sqlite":
            first = (last_id or 0) + 1
            last = self.connection.execute(select(func.max(items.c.id))).scalar()
            if last == first + len(fresh) - 1:
                return {i.uid: first + n for n, i in enumerate(fresh)}
        found = self.connection.execute(
            select(items.c.uid, items.c.id).where(items.c.uid.in_([i.uid for i in fresh]))
        )
        return dict(found.all())

    def with_given_topics(self, rule_topics: frozenset[str]) -> set[tuple[str, str]]:
        if not rule_topics:
            return self.given_topics
        return self.given_topics | {(slug, str(TopicOrigin.RULE)) for slug in rule_topics}

    def merge_known(
        self, known: Sequence[tuple[Row[Any], IncomingItem]], fill_gaps_only: bool = False
    ) -> WriteCounts:
        """Store what this source says of items the pool has. `fill_gaps_only`: the items are
        near-duplicates of this source's, which may only add what the pool lacks."""
        ids = [row.id for row, _ in known]
        said_before: dict[int, str] = dict(
            self.connection.execute(
                select(item_sources.c.item_id, item_sources.c.fingerprint).where(
                    item_sources.c.source_id == self.source_id, item_sources.c.item_id.in_(ids)
                )
            ).all()
        )
        updated = unchanged = 0
        retopic: dict[int, set[tuple[str, str]]] = {}
        manual_only: dict[int, set[tuple[str, str]]] = {}  # unchanged items: add, remove nothing
        done: set[int] = set()
        for row, incoming in known:
            before = said_before.get(row.id)
            if row.id in done:  # two entries of this source for one item: the first counts
                unchanged += 1
                continue
            done.add(row.id)
            if before == incoming.fingerprint:
                unchanged += 1
                if self.manual_topics:
                    manual_only[row.id] = {(s, str(TopicOrigin.MANUAL)) for s in self.manual_topics}
                continue
            link = {"fingerprint": incoming.fingerprint}
            if before is None:
                self.connection.execute(
                    insert(item_sources).values(
                        item_id=row.id, source_id=self.source_id, first_seen=self.now, **link
                    )
                )
            else:
                self.connection.execute(
                    update(item_sources)
                    .where(
                        item_sources.c.item_id == row.id, item_sources.c.source_id == self.source_id
                    )
                    .values(**link)
                )
            merged = _fill_gaps(row, incoming) if fill_gaps_only else _merge(row, incoming)
            if merged:
                self.connection.execute(
                    update(items).where(items.c.id == row.id).values(**merged, updated=self.now)
                )
                updated += 1
            else:
                unchanged += 1
            fields = {**row._mapping, **merged}
            retopic[row.id] = self.with_given_topics(
                self.tagger(fields["title"], fields["summary"])
            )
        if retopic:
            apply_topic_links(
                self.connection, self.topic_ids, retopic, recompute=(TopicOrigin.RULE,)
            )
        if manual_only:
            apply_topic_links(self.connection, self.topic_ids, manual_only, recompute=())
        return WriteCounts(updated=updated, unchanged=unchanged)


def _merge(row: Row[Any], incoming: IncomingItem) -> dict[str, Any]:
    """The fields to change: what the source says now, but silence never erases what is known."""
    entry = incoming.entry
    wanted = {
        "type": entry.type,
        "title": entry.title,
        "date": row.date if entry.undated else entry.date,  # an undated item keeps its first day
        "summary": entry.summary or row.summary,
        "url": entry.url or row.url,
        "language": entry.language or row.language,
        "image": entry.image or row.image,
        "image_credit": entry.image_credit or row.image_credit,
    }
    return {name: value for name, value in wanted.items() if getattr(row, name) != value}


def _fill_gaps(row: Row[Any], incoming: IncomingItem) -> dict[str, Any]:
    """What a near-duplicate may add: the fields the pool's item lacks."""
    entry = incoming.entry
    offered = {"summary": entry.summary, "url": entry.url, "language": entry.language,
               "image": entry.image, "image_credit": entry.image_credit}  # fmt: skip
    return {name: value for name, value in offered.items() if value and not getattr(row, name)}


def bulk_insert(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """INSERT many rows through the driver's executemany.

    The hot path of a big ingest: Core's per-row parameter processing costs more than SQLite's
    own work, so the rows are turned into columns (zip does it at C speed), each column's
    bind processor runs once per distinct value, and the columns are put back into rows in
    the statement's order.
    """
    if not rows:
        return
    plan = _insert_plan(table, tuple(columns), connection.dialect)
    parameters: Sequence[Any] = rows
    if plan.processors or plan.order != tuple(range(len(columns))) or not plan.positional:
        values: list[Sequence[Any]] = list(zip(*rows, strict=True))
        for index, process in plan.processors:
            values[index] = _processed(process, values[index])
        if plan.positional:
            parameters = list(zip(*(values[index] for index in plan.order), strict=True))
        else:  # named placeholders (PostgreSQL's driver)
            parameters = [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]
    connection.exec_driver_sql(plan.sql, parameters)


class _InsertPlan(NamedTuple):
    sql: str
    positional: bool
    order: tuple[int, ...]  # the columns' indexes in the statement's parameter order
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column index, bind processor)


@lru_cache(maxsize=64)
def _insert_plan(table: Table, columns: tuple[str, ...], dialect: Dialect) -> _InsertPlan:
    """The compiled INSERT of these columns and what its parameters need: made once, not
    once a batch."""
    compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
    processors = tuple(
        (index, processor)
        for index, name in enumerate(columns)
        if (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
    )
    if compiled.positional:
        order = tuple(columns.index(name) for name in compiled.positiontup or ())
    else:
        order = tuple(range(len(columns)))
    return _InsertPlan(str(compiled), compiled.positional, order, processors)


def _processed(process: Callable[[Any], Any], column: Sequence[Any]) -> list[Any]:
    """A column's values through its bind processor, each distinct value once (dates repeat,
    and a batch's timestamps are all one)."""
    done = {value: None if value is None else process(value) for value in set(column)}
    return [done[value] for value in column]


def apply_topic_links(
    connection: Connection,
    topic_ids: Mapping[str, int],
    wanted: Mapping[int, set[tuple[str, str]]],
    recompute: Sequence[str],
) -> tuple[int, int]:
    """Add the wanted (topic, origin) links per item, except excluded topics, and drop links of
    the `recompute` origins that are no longer wanted. Returns (added, removed)."""
    ids = list(wanted)
    existing: dict[int, set[tuple[int, str]]] = defaultdict(set)
    for item_id, topic_id, origin in connection.execute(
        select(item_topics.c.item_id, item_topics.c.topic_id, item_topics.c.origin).where(
            item_topics.c.item_id.in_(ids)
        )
    ):
        existing[item_id].add((topic_id, origin))
    excluded: set[tuple[int, int]] = set(
        connection.execute(
            select(exclusions.c.item_id, exclusions.c.topic_id).where(exclusions.c.item_id.in_(ids))
        ).all()
    )
    additions, removals = [], []
    for item_id, links in wanted.items():
        target = {
            (topic_ids[slug], origin)
            for slug, origin in links
            if (item_id, topic_ids[slug]) not in excluded
        }
        have = existing[item_id]
        additions += [
            {"item_id": item_id, "topic_id": topic_id, "origin": origin}
            for topic_id, origin in sorted(target - have)
        ]
        removals += [
            (item_id, topic_id, origin)
            for topic_id, origin in sorted(have - target)
            if origin in recompute
        ]
    if additions:
        connection.execute(insert(item_topics), additions)
    if removals:
        key = tuple_(item_topics.c.item_id, item_topics.c.topic_id, item_topics.c.origin)
        connection.execute(delete(item_topics).where(key.in_(removals)))
    return len(additions), len(removals)


def retag_all(
    connection: Connection,
    topic_ids: Mapping[str, int],
    derived: DerivedTopics,
    batch_size: int = 2000,
) -> tuple[int, int]:
    """Recompute every item's source and rule topic links; manual links and exclusions stay."""
    added = removed = 0
    last_id = 0
    while True:
        rows = connection.execute(
            select(items.c.id, items.c.title, items.c.summary)
            .where(items.c.id > last_id)
            .order_by(items.c.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return added, removed
        last_id = rows[-1].id
        names: dict[int, list[str]] = defaultdict(list)
        for item_id, name in connection.execute(
            select(item_sources.c.item_id, sources.c.name)
            .join(sources, and_(sources.c.id == item_sources.c.source_id))
            .where(item_sources.c.item_id.in_([row.id for row in rows]))
        ):
            names[item_id].append(name)
        wanted = {row.id: derived(row.title, row.summary, names[row.id]) for row in rows}
        counts = apply_topic_links(
            connection, topic_ids, wanted, recompute=(TopicOrigin.SOURCE, TopicOrigin.RULE)
        )
        added, removed = added + counts[0], removed + counts[1]
