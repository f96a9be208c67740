"""API keys in the browser: a workshop's owner makes a key for a diagnosis tool that reads vehicle data, sees it
once, the tool reads the demo car with it, the list shows the key used today, the owner revokes it and the tool is
refused; in German too; each screen passes an axe scan."""
import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_VIN
from tests.browser.test_journeys import buy, register, top_up

pytestmark = pytest.mark.timeout(300)


def test_keys_the_owner_makes_a_key_the_tool_reads_the_car_with_it_until_it_is_revoked(page, system):
    register(page, name="Werkstatt Schlüssel GmbH")
    top_up(page, 20)
    buy(page, "Technical information, 1 hour")

    page.nav("API keys")
    expect(page.get_by_text("Your workshop has no API keys yet.")).to_be_visible()
    page.get_by_role("button", name="Create the key").click()  # nothing chosen: the fields say what is missing
    expect(page.get_by_text("Choose at least one.")).to_be_visible()
    page.screens.check("keys-refused")
    page.get_by_label("What it is for").fill("Diagnosis tool in bay 2")
    page.get_by_label("Vehicle data").check()
    page.get_by_label("Days it lives").fill("30")
    page.get_by_role("button", name="Create the key").click()
    key = page.get_by_test_id("new-key").inner_text()
    assert key.startswith("aos_")
    row = page.locator("tr[data-key='Diagnosis tool in bay 2']")
    expect(row.get_by_test_id("key-state")).to_have_text("active")
    expect(row).to_contain_text(key[:12])
    page.screens.check("keys-made")

    # the tool reads the demo car with it, as its workshop: the build data its subscription opens
    car = requests.get(f"{system.base}/api/v1/vehicles/{DEMO_VIN}", headers={"Authorization": f"Bearer {key}"},
                       timeout=30)
    assert car.status_code == 200 and car.json()["build"] and car.headers["RateLimit-Remaining"]
    page.reload()
    expect(row.get_by_test_id("key-requests")).to_have_text("1")
    expect(row).not_to_contain_text("never")

    row.get_by_role("button", name="Revoke Diagnosis tool in bay 2").click()
    expect(row.get_by_test_id("key-state")).to_have_text("revoked")
    refused = requests.get(f"{system.base}/api/v1/vehicles/{DEMO_VIN}", headers={"Authorization": f"Bearer {key}"},
                           timeout=30)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "API_KEY_REVOKED"

    page.get_by_label("Language").select_option("de")
    expect(page.get_by_role("heading", name="API-Schlüssel", exact=True)).to_be_visible()
    expect(row.get_by_test_id("key-state")).to_have_text("widerrufen")
    page.screens.check("keys-german")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the list scrolls in its region, the form fits
    expect(page.get_by_role("button", name="Schlüssel erstellen")).to_be_visible()
    page.screens.check("keys-phone")


def test_keys_the_owner_adds_a_webhook_for_purchases_sees_its_deliveries_and_sends_one_again(page, system, tmp_path):
    from deploy import receiver
    from deploy.ports import free_port
    folder, port = tmp_path / "receiver", free_port()
    folder.mkdir()
    partner = receiver.start(folder, port)
    try:
        register(page, name="Werkstatt Webhook GmbH")
        page.nav("Webhooks")
        expect(page.get_by_text("Your workshop has no webhook endpoints yet.")).to_be_visible()
        page.get_by_label("Address (https://)").fill("http://10.0.0.8/hooks")
        page.get_by_label("AccessPurchased").check()
        page.get_by_role("button", name="Add the endpoint").click()
        expect(page.get_by_role("alert")).to_contain_text("inside a network")  # refused in words
        page.screens.check("webhooks-refused")
        page.get_by_label("Address (https://)").fill(f"http://127.0.0.1:{port}/hooks")
        page.get_by_label("What it is for").fill("dealer DMS")
        page.get_by_role("button", name="Add the endpoint").click()
        secret = page.get_by_test_id("webhook-secret").inner_text()
        (folder / "secrets").write_text(secret + "\n")
        row = page.locator(f"tr[data-endpoint='http://127.0.0.1:{port}/hooks']")
        expect(row.get_by_test_id("endpoint-state")).to_have_text("active")
        page.screens.check("webhooks-made")

        top_up(page, 20)
        buy(page, "Technical information, 1 hour")
        page.nav("Webhooks")
        page.get_by_role("button", name=f"Deliveries of http://127.0.0.1:{port}/hooks").click()
        deliveries = page.get_by_test_id("deliveries")
        expect(deliveries).to_contain_text("AccessPurchased")
        expect(deliveries.locator("tbody tr").first).to_contain_text("delivered")
        expect(deliveries).to_contain_text(": 200 (")
        page.screens.check("webhooks-deliveries")
        [kept] = receiver.read(folder)
        assert kept["event"]["type"] == "AccessPurchased" and kept["event"]["data"]["tariff_code"] == "air-1h"

        deliveries.get_by_role("button", name=f"Send {kept['webhook_id']} again").click()
        expect(page.get_by_text(f"Sent again: {kept['webhook_id']}")).to_be_visible()
        page.get_by_label("Language").select_option("de")
        expect(page.get_by_role("heading", name="Zustellungen", exact=True)).to_be_visible()
        page.screens.check("webhooks-german")
        page.set_viewport_size({"width": 390, "height": 844})
        page.screens.check("webhooks-phone")
        assert len(receiver.read(folder)) == 1  # the same webhook-id: kept once
    finally:
        partner.terminate()
        partner.wait(timeout=10)
