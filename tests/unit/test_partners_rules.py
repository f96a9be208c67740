"""Partners' rules as plain objects, and its use cases against a repository in memory: what a key is and what it
may read, its rate, its use per day; a key issued once, checked, counted, throttled and revoked."""
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from services.partners import domain
from services.shared.errors import Conflict, Forbidden, InvalidInput, TooManyRequests, Unauthenticated

NOW = datetime(2026, 12, 5, 9, 0, 30, tzinfo=timezone.utc)
OWNER = {"user_id": "u-1", "operator_id": "op-1", "role": "owner"}


def a_key(**changed):
    key_id, secret, text = domain.new_key()
    key = domain.ApiKey(key_id, "op-1", "tool", ["air", "vehicles"], domain.digest(secret), NOW,
                        NOW + timedelta(days=30))
    return replace(key, **changed), secret, text


def test_a_key_is_its_id_and_a_secret_only_its_holder_has():
    key, secret, text = a_key()
    assert domain.parse(text) == (key.id, secret) and key.secret_hash != secret and len(secret) == 43
    for sent in ("", "aos_", text[:-1], "Bearer " + text, text.replace("aos_", "sk_"), None):
        with pytest.raises(Unauthenticated) as refused:
            domain.parse(sent)
        assert refused.value.code == "API_KEY_INVALID"


def test_a_key_admits_its_holder_to_its_scopes_until_revoked_or_expired():
    key, secret, _ = a_key()
    key.admit(secret, "air", NOW)
    with pytest.raises(Unauthenticated) as wrong:
        key.admit(secret[:-1] + "x", "air", NOW)
    assert wrong.value.code == "API_KEY_INVALID"
    with pytest.raises(Forbidden) as scope:
        key.admit(secret, "parts", NOW)
    assert scope.value.code == "KEY_SCOPE" and scope.value.details == {"scope": "parts"}
    assert "parts" in scope.value.message
    with pytest.raises(Unauthenticated) as expired:
        key.admit(secret, "air", NOW + timedelta(days=30))
    assert expired.value.code == "API_KEY_EXPIRED" and key.state(NOW + timedelta(days=30)) == "expired"
    [fact] = key.revoke(NOW, "u-1")
    assert fact.type == "ApiKeyRevoked" and key.revoke(NOW + timedelta(hours=1), "u-1") == []
    assert key.revoked_at == NOW and key.state(NOW) == "revoked"
    with pytest.raises(Unauthenticated) as revoked:
        key.admit(secret, "air", NOW)
    assert revoked.value.code == "API_KEY_REVOKED"


def test_the_rate_counts_a_minute_and_says_when_it_turns():
    rate = domain.Rate(3)
    assert rate.judge(1, NOW) == {"limit": 3, "remaining": 2, "reset_seconds": 30}
    assert rate.judge(3, NOW)["remaining"] == 0
    with pytest.raises(TooManyRequests) as throttled:
        rate.judge(4, NOW)
    assert throttled.value.details["retry_after_seconds"] == 30
    assert domain.Rate.window(NOW + timedelta(seconds=30)) == domain.Rate.window(NOW) + 1


def test_use_per_day_sums_the_minutes_of_the_last_seven_days():
    minute = domain.Rate.window(NOW)
    windows = [(minute, 5), (minute - 1, 2), (minute - 24 * 60, 7), (minute - 30 * 24 * 60, 100)]
    usage = domain.usage_by_day(windows, NOW.date())
    assert len(usage) == 7 and usage[-1] == {"day": NOW.date(), "requests": 7}
    assert usage[-2] == {"day": NOW.date() - timedelta(days=1), "requests": 7}
    assert sum(u["requests"] for u in usage) == 14  # a month ago is not shown


def test_a_workshop_has_a_bounded_number_of_active_keys_and_only_its_owner_or_admin_keeps_them():
    domain.may_issue(domain.MAX_ACTIVE_KEYS - 1)
    with pytest.raises(Conflict):
        domain.may_issue(domain.MAX_ACTIVE_KEYS)
    domain.require_key_keeper({"role": "admin"})
    with pytest.raises(Forbidden):
        domain.require_key_keeper({"role": "technician"})


def test_a_key_issued_reads_counted_until_its_rate_and_not_after_revocation():
    from services.partners import models, use_cases
    from services.partners.contracts import FACTS
    from tests.unit.fakes import MemoryStore
    store = MemoryStore(models.Base, models.OutboxMessage, models.ProcessedEvent, FACTS)
    ctx = use_cases.Context(store, NOW, domain.Rate(2), sign=lambda row: f"proof-of-{row.id}")
    made = use_cases.issue_key(ctx, OWNER, {"name": "tool", "scopes": ["air", "air"], "expires_in_days": 7})
    assert made["scopes"] == ["air"] and made["expires_at"] == NOW + timedelta(days=7)
    assert store.facts("ApiKeyIssued")[0]["key_id"] == made["id"] and "key" not in store.facts("ApiKeyIssued")[0]
    admitted = use_cases.admit(ctx, {"key": made["key"], "scope": "air"})
    assert admitted == {"token": f"proof-of-{made['id']}",
                        "rate": {"limit": 2, "remaining": 1, "reset_seconds": 30}}
    use_cases.admit(ctx, {"key": made["key"], "scope": "air"})
    with pytest.raises(TooManyRequests):
        use_cases.admit(ctx, {"key": made["key"], "scope": "air"})
    with pytest.raises(Forbidden):  # refused: not counted
        use_cases.admit(ctx, {"key": made["key"], "scope": "parts"})
    listed = use_cases.keys(ctx, OWNER)["keys"][0]
    assert listed["usage"][-1]["requests"] == 2 and listed["last_used_at"] == NOW and "key" not in listed
    next_minute = replace(ctx, now=NOW + timedelta(minutes=1))
    assert use_cases.admit(next_minute, {"key": made["key"], "scope": "air"})["rate"]["remaining"] == 1
    use_cases.revoke_key(next_minute, OWNER, made["id"])
    with pytest.raises(Unauthenticated):
        use_cases.admit(next_minute, {"key": made["key"], "scope": "air"})
    assert [f["key_id"] for f in store.facts("ApiKeyRevoked")] == [made["id"]]


# ---- webhooks ---------------------------------------------------------------------------------------------------

def test_a_webhook_goes_to_the_internet_only_and_to_this_machine_only_in_development():
    import ipaddress
    public, loopback = [ipaddress.ip_address("93.184.216.34")], [ipaddress.ip_address("127.0.0.1")]
    domain.check_endpoint_url("https://dms.example.com/hooks", public, development=False)
    domain.check_endpoint_url("http://127.0.0.1:8088/hooks", loopback, development=True)
    for url, found, development in (
            ("http://dms.example.com/hooks", public, False),  # plain http to the internet
            ("https://127.0.0.1/hooks", loopback, False),  # this machine, in production
            ("https://metadata/x", [ipaddress.ip_address("169.254.169.254")], True),
            ("https://intranet/x", [ipaddress.ip_address("10.1.2.3")], True),
            ("https://cgnat/x", [ipaddress.ip_address("100.64.0.1")], True),
            ("https://v6/x", [ipaddress.ip_address("fd00::1")], True),
            ("https://both/x", public + [ipaddress.ip_address("192.168.0.1")], True),  # one inside is enough
            ("https://nowhere/x", [], True),
            ("https://a:b@dms.example.com/x", public, False),
            ("gopher://dms.example.com/x", public, False)):
        with pytest.raises(InvalidInput) as refused:
            domain.check_endpoint_url(url, found, development)
        assert refused.value.code == "WEBHOOK_URL_REFUSED" and refused.value.details["field"] == "url", url


def test_a_failed_delivery_waits_longer_each_time_and_is_given_up_after_three_days():
    waits = []
    now, attempts = NOW, 0
    while True:
        attempts += 1
        due = domain.next_attempt(NOW, attempts, now, first_wait=5)
        if due is None:
            break
        waits.append((due - now).total_seconds())
        now = due
    assert waits[:4] == [5, 20, 80, 320] and max(waits) == 12 * 3600
    assert timedelta(days=2) < now - NOW <= timedelta(days=3)
    assert domain.disables(None, NOW) and domain.disables(NOW - timedelta(hours=1), NOW)
    assert not domain.disables(NOW + timedelta(hours=1), NOW)  # something reached it since


def test_an_endpoint_takes_its_workshop_s_facts_and_the_public_ones_and_signs_with_both_secrets_in_the_overlap():
    from services.catalogue import CATALOGUE
    types = domain.subscribable(CATALOGUE)
    assert {"AccessPurchased", "PartsRequested", "CatalogueImported"} <= set(types)
    assert domain.entitled("op-1", "AccessPurchased", {"operator_id": "op-1"})
    assert not domain.entitled("op-1", "AccessPurchased", {"operator_id": "op-2"})
    assert domain.entitled("op-1", "CatalogueImported", {})
    assert domain.signing_secrets("new", "old", NOW + timedelta(hours=1), NOW) == ["new", "old"]
    assert domain.signing_secrets("new", "old", NOW, NOW) == ["new"]


def test_an_endpoint_silent_for_three_days_is_disabled_once_and_its_workshop_told():
    from types import SimpleNamespace

    from services.partners import models, use_cases
    from services.partners.contracts import FACTS
    from tests.unit.fakes import Mailbox, MemoryStore
    store = MemoryStore(models.Base, models.OutboxMessage, models.ProcessedEvent, FACTS)
    me = lambda actor: {"user": {"email": "anna@werkstatt.de"}, "operator": {"country": "DE"}}  # noqa: E731
    ctx = use_cases.Context(store, NOW, resolve=lambda host: [__import__("ipaddress").ip_address("127.0.0.1")],
                            development=True, me=me, mailer=Mailbox(), first_wait=5)
    hook = use_cases.create_endpoint(ctx, OWNER, {"url": "http://127.0.0.1:9/x", "description": "",
                                                  "event_types": ["AccessPurchased"]})
    event = SimpleNamespace(id="e-1", type="AccessPurchased", data={"operator_id": "op-1"})
    assert use_cases.fan_out(ctx, event, "{}") == 1 and use_cases.fan_out(ctx, event, "{}") == 0  # once per fact
    [(delivery_id, url, body, signing)] = use_cases.due(ctx, 10, 60)
    assert url == "http://127.0.0.1:9/x" and signing == [hook["secret"]] and use_cases.due(ctx, 10, 60) == []
    at, outcome = NOW, "retried"
    while outcome == "retried":
        outcome = use_cases.attempted(replace(ctx, now=at), delivery_id, None, "ConnectionError", 1)
        at += timedelta(hours=12)
    assert outcome == "failed" and store.facts("WebhookDisabled")[0]["endpoint_id"] == hook["id"]
    assert ctx.mailer.to("anna@werkstatt.de")[0].subject.startswith("Ein Webhook-Endpunkt")
    listed = use_cases.endpoints(ctx, OWNER, [])["endpoints"][0]
    assert listed["state"] == "disabled" and "three days" in listed["disabled_reason"]
    assert use_cases.fan_out(ctx, SimpleNamespace(id="e-2", type="AccessPurchased", data={"operator_id": "op-1"}),
                             "{}") == 0  # a disabled endpoint takes nothing new
