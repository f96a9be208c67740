"""The audit trail in the browser: a new workshop reads the demo car, then finds that read in its trail, filters
by the car, exports it as CSV, and reads the screen in German; each screen passes an axe scan."""
import csv

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_VIN
from tests.browser.test_journeys import buy, register, top_up

pytestmark = pytest.mark.timeout(300)


def test_trail_a_workshop_finds_who_read_the_demo_car_filters_exports_and_reads_it_in_german(page, system):
    tech = register(page, name="Autohaus Protokoll GmbH")
    top_up(page, 20)
    buy(page, "Technical information, 1 hour")
    page.visit(f"/#/vehicle/{DEMO_VIN}")
    expect(page.get_by_text("B38A15").first).to_be_visible()  # build data: read with access, so recorded

    page.get_by_role("link", name="Audit trail").click()
    rows = page.get_by_test_id("trail").locator("tbody tr")
    expect(rows.filter(has_text="Vehicle data read").first).to_contain_text(DEMO_VIN)
    expect(rows.filter(has_text="Access bought")).to_have_count(1)
    expect(rows.filter(has_text="Workshop registered")).to_have_count(1)
    page.screens.check("trail")

    page.get_by_label("VIN").fill(DEMO_VIN)
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(page).to_have_url(f"{system.base}/#/trail?vin={DEMO_VIN}")
    expect(rows.filter(has_text="Access bought")).to_have_count(0)
    expect(rows.first).to_contain_text("Vehicle data read")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export as CSV").click()
    exported = list(csv.DictReader(open(download.value.path(), encoding="utf-8")))
    assert exported and {row["vin"] for row in exported} == {DEMO_VIN}
    assert "VehicleViewed" in {row["kind"] for row in exported}
    page.screens.check("trail-filtered")

    page.get_by_label("Language").select_option("de")
    expect(page.get_by_role("heading", name="Protokoll")).to_be_visible()
    expect(rows.first).to_contain_text("Fahrzeugdaten gelesen")
    page.screens.check("trail-german")
    assert tech.email
