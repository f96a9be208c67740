"""The double-entry ledger: every movement is a journal whose postings sum to zero per unit, booked together
with the account balances it changes. An operator's accounts never go below zero."""

from sqlalchemy import func, insert, select, update

from services.billing.domain import NON_NEGATIVE_PREFIX, balanced
from services.billing.models import Balance, Journal, Posting
from services.shared.database import insert_if_absent, new_id


class Overdrawn(Exception):
    def __init__(self, account, unit, available, needed):
        super().__init__(f"{account} holds {available} {unit}, needs {needed}")
        self.account, self.unit, self.available, self.needed = account, unit, available, needed


def book(session, kind, reference, operator_id, description, postings, now):
    """Books one journal; raises Overdrawn (and the transaction rolls back) if an operator account would go
    below zero. `reference` is unique: the same thing cannot be booked twice."""
    if not balanced(postings):
        raise ValueError(f"unbalanced journal {kind} {reference}: {postings}")
    journal = Journal(id=new_id(), operator_id=operator_id, kind=kind, reference=reference,
                      description=description, created_at=now)
    session.add(journal)
    session.flush()
    for account, unit, amount in postings:
        # the balance is moved first and opened only when it is not there yet: nearly every booking moves
        # accounts that exist, and a statement each saved is a statement on every purchase and every session
        if not _move(session, account, amount):
            insert_if_absent(session, Balance, account=account, unit=unit, amount=0)
            if not _move(session, account, amount):
                raise Overdrawn(account, unit, balance(session, account), -amount)
    # written together, as one statement: nothing reads them back as objects, and one added in the loop was
    # flushed on its own by the next balance's update
    session.execute(insert(Posting), [{"journal_id": journal.id, "account": account, "unit": unit, "amount": amount}
                                      for account, unit, amount in postings])
    return journal


def _move(session, account, amount):
    """The balance changed by `amount`; False when there is no such balance or an operator's would go below 0."""
    change = update(Balance).where(Balance.account == account).values(amount=Balance.amount + amount)
    if account.startswith(NON_NEGATIVE_PREFIX) and amount < 0:
        change = change.where(Balance.amount + amount >= 0)
    return session.execute(change).rowcount == 1


def postings_of(session, reference):
    """What the journal booked under `reference` moved, as (account, unit, amount); [] if nothing was booked."""
    return [(p.account, p.unit, p.amount) for p in session.scalars(
        select(Posting).join(Journal, Journal.id == Posting.journal_id).where(Journal.reference == reference)
        .order_by(Posting.id)).all()]


def balance(session, account):
    return session.scalar(select(Balance.amount).where(Balance.account == account)) or 0


def statement(session, account, limit=100):
    rows = session.execute(
        select(Journal.created_at, Journal.kind, Journal.reference, Journal.description, Posting.amount)
        .join(Posting, Posting.journal_id == Journal.id).where(Posting.account == account)
        .order_by(Journal.created_at.desc(), Posting.id.desc()).limit(limit)).all()
    return [{"at": r.created_at, "kind": r.kind, "reference": r.reference, "description": r.description,
             "amount": r.amount} for r in rows]


def check(session):
    """The books balance: every journal sums to zero per unit, all postings together do too, and every stored
    balance equals the sum of its account's postings. Returns the problems found (none: balanced)."""
    problems = []
    for journal_id, unit, total in session.execute(
            select(Posting.journal_id, Posting.unit, func.sum(Posting.amount))
            .group_by(Posting.journal_id, Posting.unit).having(func.sum(Posting.amount) != 0)):
        problems.append(f"journal {journal_id} is off by {total} {unit}")
    for unit, total in session.execute(select(Posting.unit, func.sum(Posting.amount)).group_by(Posting.unit)):
        if total != 0:
            problems.append(f"all {unit} postings sum to {total}")
    sums = dict(session.execute(select(Posting.account, func.sum(Posting.amount)).group_by(Posting.account)).all())
    for account, amount in session.execute(select(Balance.account, Balance.amount)):
        if sums.get(account, 0) != amount:
            problems.append(f"{account} holds {amount} but its postings sum to {sums.get(account, 0)}")
        if account.startswith(NON_NEGATIVE_PREFIX) and amount < 0:
            problems.append(f"{account} is negative: {amount}")
    return problems
