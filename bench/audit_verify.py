"""How long verifying the audit trail takes: a trail of N entries (default 1,000,000) over W workshops' chains,
written as the audit service writes it (each entry chained, a signed checkpoint per chain), then
`use_cases.verify` over all of it, as `python -m services.audit verify` runs it. Prints entries per second of
verification and of writing, on SQLite (default) or PostgreSQL (--database-url, a server: a database is made).

    python -m bench.audit_verify --entries 1000000 --workshops 1000
"""
import argparse
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert
from sqlalchemy.orm import sessionmaker

from bench.system import drop_databases, fresh_databases
from services.audit import domain, use_cases
from services.audit.dependencies import SigningKeys
from services.audit.models import Checkpoint, Entry, OutboxMessage, ProcessedEvent
from services.shared.database import Store, make_engine
from services.shared.migrate import upgrade

VIN = "WBA8E9C50GK643215"


def write(engine, keys, entries, workshops, batch=20_000):
    """The trail as the service would have written it, in batches (no broker: this measures verification)."""
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    per_chain = entries // workshops
    rows = []
    with engine.begin() as conn:
        for w in range(workshops):
            chain, prev = f"op-{w:05d}", domain.GENESIS
            for seq in range(1, per_chain + 1):
                at = t0 + timedelta(seconds=seq)
                fact = domain.fact_of(f"ev-{w}-{seq}", "VehicleViewed", at, {
                    "operator_id": chain, "user_id": f"u-{w}", "vin": VIN, "view": "build_data",
                    "viewed_at": at.isoformat()})
                digest = domain.entry_hash(prev, seq, fact)
                rows.append({"id": str(uuid.uuid4()), "chain": chain, "seq": seq, "event_id": fact.event_id,
                             "kind": fact.kind, "occurred_at": at, "recorded_at": at, "user_id": fact.user_id,
                             "vin": fact.vin, "summary": fact.summary, "detail": fact.detail, "prev_hash": prev,
                             "hash": digest})
                prev = digest
                if len(rows) >= batch:
                    conn.execute(insert(Entry), rows)
                    rows = []
            signed_at = t0 + timedelta(days=1)
            conn.execute(insert(Checkpoint), [{
                "id": str(uuid.uuid4()), "chain": chain, "seq": per_chain, "hash": prev, "signed_at": signed_at,
                "pruned": False, "key_id": keys.key_id, "signature": domain.sign(
                    keys.private, domain.checkpoint_message(chain, per_chain, prev, signed_at))}])
        if rows:
            conn.execute(insert(Entry), rows)
    return per_chain * workshops


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--workshops", type=int, default=1000)
    parser.add_argument("--database-url", help="a PostgreSQL server, e.g. postgresql://postgres@127.0.0.1:5432")
    opts = parser.parse_args(argv)
    private = Ed25519PrivateKey.generate()
    keys = SigningKeys(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()),
                       private.public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo))
    databases = fresh_databases(opts.database_url, f"aos_bench_{uuid.uuid4().hex[:6]}") if opts.database_url else {}
    with tempfile.TemporaryDirectory() as folder:
        url = databases.get("audit") or f"sqlite:///{Path(folder) / 'audit.sqlite'}"
        upgrade("audit", url)
        engine = make_engine(url)
        started = time.perf_counter()
        written = write(engine, keys, opts.entries, opts.workshops)
        wrote = time.perf_counter() - started
        store = Store(sessionmaker(engine), OutboxMessage, ProcessedEvent, on_commit=lambda emitted: None)
        started = time.perf_counter()
        found = use_cases.verify(use_cases.Context(store, keys, datetime.now(timezone.utc)))
        took = time.perf_counter() - started
        engine.dispose()
    if databases:
        drop_databases(opts.database_url, databases)
    where = "PostgreSQL" if opts.database_url else "SQLite"
    print(f"Audit trail verification, {written:,} entries in {opts.workshops:,} chains, {where}")
    print(f"  written (hashing and inserting, no broker): {wrote:.1f} s, {written / wrote:,.0f} entries/s")
    print(f"  verified: {took:.1f} s, {written / took:,.0f} entries/s; verified={found['verified']}, "
          f"problems={len(found['problems'])}, checkpoints={found['checkpoints']}")
    if not found["verified"] or found["entries"] != written:
        raise SystemExit("the trail as written did not verify")


if __name__ == "__main__":
    main()
