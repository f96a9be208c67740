"""The audit trail's rules: entries chain by hash, a checkpoint signs a chain's head, and checking a chain names
the first entry that was changed, deleted or reordered, whatever else was done to hide it."""
import dataclasses
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.audit import domain

KEY = Ed25519PrivateKey.generate()
T0 = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
VIN = "WBA8E9C50GK643215"


def chain_of(n, chain="op-1"):
    """n entries as the service appends them."""
    entries, prev = [], domain.GENESIS
    for seq in range(1, n + 1):
        fact = domain.fact_of(f"ev-{seq}", "VehicleViewed", T0 + timedelta(seconds=seq),
                              {"operator_id": chain, "user_id": "u-1", "vin": VIN, "view": "build_data"})
        digest = domain.entry_hash(prev, seq, fact)
        entries.append(SimpleNamespace(id=f"e-{seq}", seq=seq, prev_hash=prev, hash=digest, fact=fact))
        prev = digest
    return entries


def checkpoint(entries, at, chain="op-1", pruned=False):
    head = entries[at - 1]
    signed_at = T0 + timedelta(minutes=at)
    return SimpleNamespace(seq=at, hash=head.hash, signed_at=signed_at, pruned=pruned, signature=domain.sign(
        KEY, domain.checkpoint_message(chain, at, head.hash, signed_at, pruned)))


def check(entries, checkpoints=()):
    return domain.check_chain("op-1", entries, list(checkpoints), KEY.public_key())


def test_a_whole_chain_with_its_checkpoints_holds_in_any_stored_order():
    entries = chain_of(6)
    assert check(list(reversed(entries)), [checkpoint(entries, 3), checkpoint(entries, 6)]) is None


def test_a_fact_says_in_words_what_happened_and_whose_chain_it_is():
    fact = domain.fact_of("ev", "FlashFailed", T0, {"operator_id": "op-9", "vin": VIN, "ecu_address": "0x12",
                                                    "cause": "power"})
    assert (fact.chain, fact.vin, fact.summary) == ("op-9", VIN, "ECU 0x12 flash failed: power")
    assert domain.fact_of("ev", "PackageWithdrawn", T0, {"package_id": "p-1", "check": "sha256"}).chain == "platform"


def test_an_entry_changed_in_place_is_named():
    entries = chain_of(5)
    entries[2].fact = dataclasses.replace(entries[2].fact, vin="WBA00000000000000")  # who looked at which car
    found = check(entries)
    assert (found.seq, found.entry_id, found.what) == (3, "e-3", "changed after it was recorded")


def test_a_deleted_entry_is_named_by_its_place():
    entries = chain_of(5)
    del entries[1]
    found = check(entries)
    assert (found.seq, found.entry_id) == (2, None) and "deleted" in found.what


def test_two_entries_swapped_are_named_at_the_first_of_them():
    entries = chain_of(5)
    entries[1].seq, entries[3].seq = entries[3].seq, entries[1].seq  # the rows' places exchanged
    found = check(entries)
    assert found.seq == 2 and found.entry_id == "e-4"


def test_a_chain_rewritten_with_every_hash_recomputed_is_caught_by_its_signed_checkpoint():
    entries = chain_of(5)
    signed = checkpoint(entries, 5)
    forged = chain_of(5)
    forged[1].fact = dataclasses.replace(forged[1].fact, user_id="someone-else")
    prev = forged[0].hash
    for entry in forged[1:]:  # the forger recomputes the chain from the change on
        entry.prev_hash, entry.hash = prev, domain.entry_hash(prev, entry.seq, entry.fact)
        prev = entry.hash
    assert check(forged) is None, "without a checkpoint a full rewrite cannot be told"
    found = check(forged, [signed])
    assert found.seq == 5 and "checkpoint" in found.what


def test_entries_deleted_from_the_end_up_to_a_checkpoint_are_caught():
    entries = chain_of(5)
    found = check(entries[:3], [checkpoint(entries, 5)])
    assert found.seq == 4 and "4 to 5 deleted" in found.what


def test_a_checkpoint_changed_after_signing_is_itself_a_problem():
    entries = chain_of(3)
    signed = checkpoint(entries, 3)
    signed.seq = 2
    assert "signature" in check(entries, [signed]).what


def test_after_pruning_the_chain_starts_at_its_pruned_checkpoint():
    entries = chain_of(6)
    base = checkpoint(entries, 3, pruned=True)
    assert check(entries[3:], [base, checkpoint(entries, 6)]) is None
    found = check(entries[4:], [base])
    assert found.seq == 4 and "deleted" in found.what
