"""Group commit: items handed in together are applied together, each caller returns once its own item is applied,
and a bad item fails its own caller only."""
import eventlet
import eventlet.event
import pytest

from services.shared.group_commit import GroupCommit


class Ledger:
    """What apply saw: one list per transaction; an item "bad" fails the transaction it is in."""

    def __init__(self):
        self.transactions = []
        self.applied = []

    def apply(self, items):
        eventlet.sleep(0.01)  # a transaction's round trips: others hand theirs in meanwhile
        if "bad" in items:
            raise ValueError("bad item")
        self.transactions.append(list(items))
        self.applied.extend(items)


def hand_in(group, items):
    pool = eventlet.GreenPool()
    threads = {item: pool.spawn(group, item) for item in items}
    outcome = {}
    for item, thread in threads.items():
        try:
            thread.wait()
            outcome[item] = "applied"
        except ValueError:
            outcome[item] = "failed"
    return outcome


def test_items_handed_in_together_are_applied_in_few_transactions_each_once():
    ledger = Ledger()
    outcome = hand_in(GroupCommit(ledger.apply), [f"fact-{i}" for i in range(40)])
    assert set(outcome.values()) == {"applied"}
    assert sorted(ledger.applied) == sorted(outcome), "each item applied once"
    assert len(ledger.transactions) <= 3, ledger.transactions  # the first alone, then the rest together
    assert ledger.transactions[-1] != ["fact-0"]


def test_a_group_holds_at_most_its_limit():
    ledger = Ledger()
    hand_in(GroupCommit(ledger.apply, most=7), [f"fact-{i}" for i in range(40)])
    assert max(len(t) for t in ledger.transactions) == 7
    assert len(ledger.applied) == 40


def test_a_bad_item_fails_its_own_caller_and_the_rest_of_its_group_is_applied():
    ledger = Ledger()
    items = [f"fact-{i}" for i in range(10)] + ["bad"] + [f"fact-{i}" for i in range(10, 20)]
    outcome = hand_in(GroupCommit(ledger.apply), items)
    assert outcome.pop("bad") == "failed"
    assert set(outcome.values()) == {"applied"}
    assert sorted(ledger.applied) == sorted(outcome)


def test_a_caller_returns_only_once_its_item_is_applied():
    ledger = Ledger()
    group = GroupCommit(ledger.apply)
    seen = []

    def one(item):
        group(item)
        seen.append(item in ledger.applied)

    pool = eventlet.GreenPool()
    for i in range(20):
        pool.spawn(one, i)
    pool.waitall()
    assert seen == [True] * 20


def test_one_item_alone_is_applied_at_once_and_its_failure_raised():
    ledger = Ledger()
    group = GroupCommit(ledger.apply)
    assert group("fact") is None
    assert ledger.transactions == [["fact"]]
    with pytest.raises(ValueError):
        group("bad")


def test_a_caller_killed_while_applying_a_group_leaves_no_other_caller_waiting():
    groups, applying = [], eventlet.event.Event()

    def apply(items):
        groups.append(list(items))
        if len(groups) == 1:
            eventlet.sleep(0.05)  # meanwhile the others hand theirs in: the next group holds them all
            return
        applying.send()
        eventlet.sleep(10)

    group = GroupCommit(apply)
    pool = eventlet.GreenPool()
    callers = [pool.spawn(group, i) for i in range(5)]
    applying.wait()
    assert groups == [[0], [1, 2, 3, 4]]
    callers[1].kill()  # the one applying the second group: its worker killed (the container stops)
    with eventlet.Timeout(2):
        pool.waitall()
    assert all(c.dead for c in callers)
    assert len(groups) == 2, "nothing applied twice, no empty group"
