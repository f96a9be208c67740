"""`python -m services.audit verify`: recompute every chain of the trail in the audit database
(AOS_AUDIT_DATABASE_URL, or the defaults) and check it against the signed checkpoints with the public key alone
(AOS_AUDIT_PUBLIC_KEY_FILE). Prints what it found as JSON; exits 1 when a chain does not hold, naming the first
entry that was changed, deleted or reordered in it."""
import json
import os
import sys
import time
from datetime import datetime, timezone

from sqlalchemy.orm import sessionmaker

from services.audit import use_cases
from services.audit.dependencies import SigningKeys
from services.audit.models import OutboxMessage, ProcessedEvent
from services.audit.settings import AuditSettings
from services.shared import config as settings
from services.shared.database import Store, make_engine


def main(argv):
    if argv != ["verify"]:
        raise SystemExit("usage: python -m services.audit verify")
    engine = make_engine(settings.database_url(dict(os.environ), "audit"))
    store = Store(sessionmaker(engine), OutboxMessage, ProcessedEvent, on_commit=lambda emitted: None)
    keys = SigningKeys.of(settings.build(AuditSettings, os.environ), signing=False)
    started = time.perf_counter()
    found = use_cases.verify(use_cases.Context(store, keys, datetime.now(timezone.utc)))
    found["seconds"] = round(time.perf_counter() - started, 3)
    engine.dispose()
    json.dump(found, sys.stdout, indent=1)
    print()
    return 0 if found["verified"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
