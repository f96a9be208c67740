"""The audit trail's steps: record a fact once at the end of its workshop's chain, sign the chains' heads, read a
trail, verify every chain, prune past the retention under a signed checkpoint."""
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, insert, or_, select, update

from services.audit import domain, metrics
from services.audit.models import Chain, Checkpoint, Entry
from services.catalogue import CATALOGUE
from services.shared import events
from services.shared.database import insert_if_absent, new_id


@dataclass
class Context:
    store: object  # services.shared.database.Store
    keys: object  # dependencies.SigningKeys
    now: datetime


def record(ctx, batch):
    """Events' facts, each appended once to its workshop's chain in the order given (a redelivery adds nothing), in
    one transaction: a batch is recorded whole or not at all."""
    with ctx.store.first_deliveries(batch) as (uow, first):
        # the data as published (JSON types only), so what is stored is what was hashed
        append(uow.session, [(domain.fact_of(event.id, event.type, event.time.astimezone(timezone.utc),
                                             events.as_published(CATALOGUE[event.type], event.data)), ctx.now)
                             for event in first])
        uow.after_commit(lambda: metrics.ENTRIES.inc(len(first)))


def append(session, facts):
    """Each (fact, recorded at) after the head of its chain, in the order given. The heads are locked, in the order
    of their chains (so two appenders cannot deadlock), until the transaction ends: one appender per chain. The
    chains that exist are locked before any is begun, so an appender never waits for a begun chain while holding
    a lock another one waits for."""
    chains = sorted({fact.chain for fact, _ in facts})
    if not chains:
        return
    heads = _locked_heads(session, chains)
    missing = [chain for chain in chains if chain not in heads]
    if missing:  # a workshop's first fact: its chain begins (a racing appender may begin it first)
        for chain in missing:
            insert_if_absent(session, Chain, chain=chain, seq=0, hash=domain.GENESIS)
        heads.update(_locked_heads(session, missing))
    entries = []
    for fact, now in facts:
        prev_seq, prev_hash = heads[fact.chain]
        seq, digest = prev_seq + 1, domain.entry_hash(prev_hash, prev_seq + 1, fact)
        entries.append({"id": new_id(), "chain": fact.chain, "seq": seq, "event_id": fact.event_id, "kind": fact.kind,
                        "occurred_at": fact.occurred_at, "recorded_at": now, "user_id": fact.user_id, "vin": fact.vin,
                        "summary": fact.summary, "detail": fact.detail, "prev_hash": prev_hash, "hash": digest})
        heads[fact.chain] = (seq, digest)
    # in bulk, as rows, not objects: the trail takes every fact of every service
    session.execute(insert(Entry), entries)
    session.execute(update(Chain), [{"chain": chain, "seq": seq, "hash": digest} for chain, (seq, digest) in heads.items()])


def _locked_heads(session, chains):
    """{chain: (seq, hash)} of its head, locked."""
    return {chain: (seq, digest) for chain, seq, digest in session.execute(
        select(Chain.chain, Chain.seq, Chain.hash).where(Chain.chain.in_(chains)).order_by(Chain.chain)
        .with_for_update())}


def checkpoint(ctx, every_seconds=0.0):
    """A signed checkpoint on every chain that grew since its last one, once that is `every_seconds` old (so a
    chain that grows is signed within that, and a busy one not on every tick). Returns how many were signed."""
    with ctx.store.transaction() as uow:
        s = uow.session
        # one query for the chains due (it runs every second): only those that grew, none still fresh
        last = (select(Checkpoint.chain, func.max(Checkpoint.seq).label("seq"),
                       func.max(Checkpoint.signed_at).label("signed_at")).group_by(Checkpoint.chain).subquery())
        due = ctx.now - timedelta(seconds=every_seconds)
        grown = s.scalars(select(Chain).outerjoin(last, last.c.chain == Chain.chain).where(
            Chain.seq > func.coalesce(last.c.seq, 0), or_(last.c.signed_at.is_(None), last.c.signed_at <= due))).all()
        for head in grown:
            s.add(_signed(ctx, head.chain, head.seq, head.hash, pruned=False))
        uow.after_commit(lambda: metrics.CHECKPOINTS.inc(len(grown)))
        return len(grown)


def _signed(ctx, chain, seq, head_hash, pruned):
    message = domain.checkpoint_message(chain, seq, head_hash, ctx.now, pruned)
    return Checkpoint(id=new_id(), chain=chain, seq=seq, hash=head_hash, signed_at=ctx.now, pruned=pruned,
                      key_id=ctx.keys.key_id, signature=domain.sign(ctx.keys.private, message))


def trail(ctx, filters, chain=None):
    """Entries newest first: one workshop's (or, for staff, all or one chain), by car, user, kind and time."""
    query = select(Entry)
    if chain is not None:
        query = query.where(Entry.chain == chain)
    for column, value in ((Entry.vin, filters.get("vin")), (Entry.user_id, filters.get("user_id")),
                          (Entry.kind, filters.get("kind"))):
        if value is not None:
            query = query.where(column == value)
    if filters.get("since"):
        query = query.where(Entry.occurred_at >= filters["since"])
    if filters.get("until"):
        query = query.where(Entry.occurred_at < filters["until"])
    with ctx.store.read() as s:
        found = s.scalars(query.order_by(Entry.occurred_at.desc(), Entry.seq.desc()).limit(filters["limit"])).all()
        return {"entries": found}


def workshop_trail(ctx, actor, filters, export=False):
    """The owner and admins see their workshop's whole trail; a technician sees what they did. An export (the CSV)
    is itself recorded in the trail, with its filters."""
    if actor["role"] not in ("owner", "admin"):
        filters = filters | {"user_id": actor["user_id"]}
    found = trail(ctx, filters, chain=actor["operator_id"])
    if export:
        shown = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in filters.items() if v is not None}
        with ctx.store.transaction() as uow:
            append(uow.session, [(domain.fact_of(new_id(), "TrailExported", ctx.now, {
                "operator_id": actor["operator_id"], "user_id": actor["user_id"], "vin": filters.get("vin"),
                "entries": len(found["entries"]), "filters": shown}), ctx.now)])
    return found


def verify(ctx):
    """Every chain recomputed from its start (or its pruned checkpoint) and held against its signed checkpoints:
    the first entry changed, deleted or reordered in each chain."""
    problems, entries = [], 0
    with ctx.store.read() as s:
        checkpoints = {}
        for cp in s.scalars(select(Checkpoint)):
            checkpoints.setdefault(cp.chain, []).append(cp)
        seen = set()
        # plain rows, not ORM objects: a million entries are read in a fraction of the time
        rows = s.execute(select(Entry.__table__).order_by(Entry.chain, Entry.seq, Entry.id)
                         .execution_options(yield_per=5000))
        for chain, stored in itertools.groupby(rows, key=lambda row: row.chain):
            stored = [_Stored(row) for row in stored]
            entries += len(stored)
            seen.add(chain)
            found = domain.check_chain(chain, stored, checkpoints.get(chain, []), ctx.keys.public)
            if found:
                problems.append(found.as_dict())
        for chain in set(checkpoints) - seen:  # a chain whose entries are all gone
            found = domain.check_chain(chain, [], checkpoints[chain], ctx.keys.public)
            if found:
                problems.append(found.as_dict())
    return {"verified": not problems, "chains": len(seen | set(checkpoints)), "entries": entries,
            "checkpoints": sum(len(c) for c in checkpoints.values()), "problems": problems}


class _Stored:
    """An entry as read for checking: its place, its hashes, and its fact."""
    __slots__ = ("id", "seq", "prev_hash", "hash", "fact")

    def __init__(self, row):
        self.id, self.seq, self.prev_hash, self.hash = row.id, row.seq, row.prev_hash, row.hash
        self.fact = domain.Fact(row.chain, row.event_id, row.kind, row.occurred_at, row.user_id, row.vin, row.summary,
                                row.detail)


def prune(ctx, retention_days):
    """Entries older than the retention go; a signed checkpoint over the last of them stays, so the chain after it
    still verifies. Returns how many entries went."""
    before = ctx.now - timedelta(days=retention_days)
    gone = 0
    with ctx.store.transaction() as uow:
        s = uow.session
        # by when it was recorded, which grows with the chain (an event's own time may arrive out of order)
        for chain, seq in s.execute(select(Entry.chain, func.max(Entry.seq)).where(Entry.recorded_at < before)
                                    .group_by(Entry.chain)).all():
            last = s.scalars(select(Entry).where(Entry.chain == chain, Entry.seq == seq)).one()
            s.add(_signed(ctx, chain, seq, last.hash, pruned=True))
            gone += s.execute(delete(Entry).where(Entry.chain == chain, Entry.seq <= seq)).rowcount
            s.execute(delete(Checkpoint).where(Checkpoint.chain == chain, Checkpoint.seq < seq))
    return gone
