"""The parts catalogue in the browser (the issue's "done when"): a new workshop opens the demo car's catalogue, clicks
the ignition coil's hotspot in the engine's ignition illustration, sees the current part number with the one it
superseded, adds four coils to the misfire job, and the job's estimate and PDF report show labour and parts with
VAT. Without parts access the screens show structure and names and say what to buy; every screen, in English and
German and at a phone's width, passes axe."""
import io
import re

import pytest
import requests
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import DEMO_VIN
from tests.browser.test_journeys import buy, german_vat_id, register, register_agent, start_agent, top_up

pytestmark = pytest.mark.timeout(300)


def open_coils(page):
    """From the catalogue's groups to the engine's ignition illustration."""
    page.visit(f"/#/parts?vin={DEMO_VIN}")
    group = page.locator("details").filter(has=page.get_by_role("heading", name=re.compile(r"^12 ")))
    group.get_by_role("link", name="Ignition coils").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ignition coils")


def test_the_coil_from_the_exploded_view_onto_the_misfire_job(page, system, tmp_path):
    screens = page.screens
    register(page, "Zündungsprofi Berger", vat_id=german_vat_id())
    page.nav("Programming")
    config_path, config = register_agent(page, "Bay 4 laptop", tmp_path)
    agent = start_agent(system, config_path, tmp_path)
    try:
        # without parts access: the groups and the drawing with names, no numbers, and what to buy
        open_coils(page)
        expect(page.get_by_role("button", name="Callout 1", exact=True)).to_be_visible()
        rows = page.get_by_test_id("parts-rows")
        expect(rows).to_contain_text("Ignition coil")
        expect(rows.get_by_test_id("current-number")).to_have_count(0)
        expect(page.get_by_role("link", name=re.compile(r"Buy Parts catalogue, 1 day"))).to_be_visible()
        screens.check("no-access")

        top_up(page, 150)
        for tariff in ("Remote diagnosis time, 30 minutes", "Technical information, 1 day", "Parts catalogue, 1 day"):
            buy(page, tariff)

        # the misfire job: quick test, the coil's repair picked (it brings a coil), labour in the estimate
        page.visit("/#/jobs")
        page.get_by_label("VIN").fill(DEMO_VIN)
        page.get_by_label("Agent at the car").select_option(config["id"])
        page.get_by_label("Customer complaint").fill("engine shakes at idle")
        page.get_by_label("Odometer (km)").fill("48213")
        page.get_by_role("button", name="Open the job").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Job {DEMO_VIN}")
        job_url = page.url
        page.get_by_role("button", name="Quick test").click()
        finding = page.locator("[data-testid=finding][data-code=P0301]")
        finding.get_by_role("checkbox", name=re.compile(r"Replace ignition coil, cylinder 1")).check(timeout=30_000)
        page.get_by_role("button", name="Use the operations picked").click()
        expect(page.get_by_test_id("job-parts")).to_contain_text("12 13 8 643 360")  # the instruction's coil

        # the catalogue: the coil's hotspot lights up its row, which shows the current number and the old one
        open_coils(page)
        expect(page.get_by_test_id("narrowed")).to_contain_text("B38A15")
        page.get_by_role("button", name="Callout 1", exact=True).click()
        selected = page.locator("tr.selected")
        expect(selected).to_have_count(1)
        expect(selected).to_contain_text("Ignition coil")
        expect(selected.get_by_test_id("current-number")).to_have_text("12 13 8 643 360")
        expect(selected.get_by_test_id("chain")).to_contain_text("12 13 8 616 153 replaced by 12 13 8 643 360")
        expect(page.get_by_role("button", name="Callout 1", exact=True)).to_have_attribute("aria-pressed", "true")
        # and back: a row's callout lights up its hotspot
        page.get_by_role("button", name="Show callout 2 in the drawing").first.click()
        expect(page.get_by_role("button", name="Callout 2", exact=True)).to_have_attribute("aria-pressed", "true")
        expect(page.get_by_role("button", name="Callout 1", exact=True)).to_have_attribute("aria-pressed", "false")
        page.get_by_role("button", name="Callout 1", exact=True).click()
        screens.check("coils")
        # four coils onto the misfire job
        form = selected.get_by_role("form")
        form.get_by_label("Quantity").fill("4")
        form.get_by_label("Job").select_option(label="engine shakes at idle")
        form.get_by_role("button", name="Add to job").click()
        expect(page.get_by_test_id("added")).to_contain_text("On the job: 4 × Ignition coil")
        # the rows the car does not take, and why, when asked
        page.get_by_label("Also show the rows that do not fit this car, and why").check()
        expect(page.get_by_test_id("left-out").first).to_contain_text("only for engines B48A20")
        page.get_by_label("Language").select_option("de")
        expect(page.get_by_role("heading", level=1)).to_have_text("Zündspulen")
        expect(page.get_by_test_id("left-out").first).to_contain_text("Ausgeblendet")
        screens.check("coils-de")
        page.get_by_label("Sprache").select_option("en")
        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        expect(page.get_by_role("button", name="Callout 1", exact=True)).to_be_visible()
        screens.check("coils-phone")
        page.set_viewport_size({"width": 1280, "height": 900})

        # search by name, a typo forgiven
        page.visit(f"/#/parts?vin={DEMO_VIN}")
        page.get_by_label("Find a part: its name or number").fill("ignitoin coil")
        page.get_by_role("button", name="Search").click()
        expect(page.locator(".hit").first).to_contain_text("12 13 8 616 153")

        # the job: labour and parts in the estimate, with VAT; closed, the PDF lists both
        page.goto(job_url)
        line = page.get_by_test_id("job-parts").locator("tr[data-number='12138643360']")
        expect(line).to_contain_text("Ignition coil")
        expect(line.get_by_role("spinbutton")).to_have_value("4")
        labour = page.get_by_test_id("labour").inner_text()
        parts = page.get_by_test_id("parts-net").inner_text()
        assert "€" in labour and "€" in parts and parts.strip() != "€0.00"
        expect(page.get_by_test_id("estimate")).to_contain_text("VAT 19 %")
        screens.check("job-parts")
        page.get_by_role("button", name="Send the parts list to a dealer").click()
        expect(page.get_by_test_id("parts-request")).to_contain_text("Parts request sent: 1 lines")
        with page.expect_download() as download:
            page.get_by_role("button", name="CSV for the dealer").click()
        assert "12138643360" in download.value.path().read_text()
        page.get_by_role("button", name="Close the job").click()
        expect(page.get_by_text("Closed: the service record is written.")).to_be_visible()
        page.get_by_role("button", name="Job report (PDF)").click()
        link = page.get_by_test_id("report-link").get_attribute("href")
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(requests.get(link, timeout=30).content)).pages)
        for words in ("Replace ignition coil, cylinder 1", "4 x 12 13 8 643 360 Ignition coil", "Labour", "Parts:",
                      "(replaces 12 13 8 616 153)", "VAT 19 %", "Total"):
            assert words in text, words
    finally:
        agent.terminate()
        agent.wait(timeout=10)
        requests.post(f"http://127.0.0.1:{system.car_control_port}/deliver", json={}, timeout=10)
