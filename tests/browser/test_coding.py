"""Coding and replacing units in the browser (the issue's "done when"): a new workshop retrofits a trailer tow hitch
to the demo car's order, the coding job shows the three parameters that change, writes them and reads them back;
then it replaces the instrument cluster with a factory-new one and the wizard restores its coding and VIN; a
SERMI-linked technician replaces the body controller and pairs it. The screens pass axe, in English and German; the
demo car goes back as delivered."""
import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_VIN
from tests.browser.test_journeys import buy, german_vat_id, register, register_agent, start_agent, top_up
from tests.browser.test_sermi import link_sermi_and_open_security_job

pytestmark = pytest.mark.timeout(300)


def car(system, action="state", **body):
    url = f"http://127.0.0.1:{system.car_control_port}/{action}"
    answer = requests.get(url, timeout=10) if action == "state" else requests.post(url, json=body, timeout=10)
    answer.raise_for_status()
    return {e["address"]: e for e in answer.json()["ecus"]}


def test_a_retrofit_is_coded_a_cluster_replaced_and_a_body_controller_paired(page, system, tmp_path):
    screens = page.screens
    vat_id = german_vat_id()
    register(page, "Anhängerbau Weber", vat_id=vat_id)
    page.nav("Programming")
    config_path, config = register_agent(page, "Bay 5 laptop", tmp_path)
    agent = start_agent(system, config_path, tmp_path)
    before = car(system)
    try:
        top_up(page, 200)
        buy(page, "Programming time, 60 minutes")
        buy(page, "Technical information, 1 day")

        # the hitch fitted: the option into the car's order
        page.visit(f"/#/vehicle/{DEMO_VIN}")
        page.get_by_label("Option fitted").fill("S3AC")
        page.get_by_role("button", name="Add to the order").click()
        expect(page.get_by_test_id("retrofits")).to_contain_text("S3AC retrofitted")
        expect(page.get_by_test_id("options")).to_contain_text("S3AC")
        screens.check("retrofit")

        page.visit("/#/jobs")
        page.get_by_label("VIN").fill(DEMO_VIN)
        page.get_by_label("Agent at the car").select_option(config["id"])
        page.get_by_label("Customer complaint").fill("retrofit: trailer tow hitch")
        page.get_by_label("Odometer (km)").fill("48213")
        page.get_by_role("button", name="Open the job").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Job {DEMO_VIN}")

        # the coding job: three parameters differ, written and read back
        page.get_by_role("button", name="Read the coding").click()
        differences = page.get_by_test_id("coding-difference")
        expect(differences).to_have_count(3, timeout=30_000)
        expect(page.get_by_test_id("coding-differences")).to_contain_text("Trailer module")
        expect(page.get_by_test_id("coding-differences")).to_contain_text("not fitted")
        screens.check("coding-differences")
        page.get_by_role("button", name="Write the 3 changes").click()
        written = page.locator("[data-testid=coding-change][data-verified=true]")
        expect(written).to_have_count(3, timeout=30_000)
        expect(page.get_by_test_id("coding-matches")).to_be_visible()
        now = car(system)
        assert now["0x40"]["coding"]["lighting"]["trailer_module"] == "fitted"
        assert now["0x60"]["coding"]["display"]["trailer_display"] == "on"
        screens.check("coding-written")

        # the instrument cluster replaced by a factory-new one: backed up, swapped, restored
        page.get_by_label("Unit", exact=True).select_option("0x60")
        page.get_by_role("button", name="Back up").click()
        expect(page.get_by_test_id("backup")).to_contain_text(before["0x60"]["serial"], timeout=30_000)
        fitted = car(system, "swap", ecu="0x60")["0x60"]
        assert fitted["vin"] is None and fitted["serial"] != before["0x60"]["serial"]
        page.get_by_role("button", name="Restore").click()
        restored = page.locator("[data-testid=replacement][data-address='0x60'][data-state=restored]")
        expect(restored).to_contain_text(fitted["serial"], timeout=30_000)
        expect(restored).to_contain_text("coding from the backup")
        cluster = car(system)["0x60"]
        assert cluster["vin"] == DEMO_VIN and cluster["coding"] == now["0x60"]["coding"]
        screens.check("replaced")

        # the body controller is dead: fitted new, restored from the order, and paired in a SERMI security job
        page.get_by_label("Unit", exact=True).select_option("0x40")
        body = car(system, "swap", ecu="0x40")["0x40"]
        assert body["paired"] is False
        page.get_by_role("button", name="Restore").click()
        expect(page.locator("[data-testid=replacement][data-address='0x40'][data-state=needs_pairing]")).to_contain_text(
            "order (no backup)", timeout=30_000)
        job_url = page.url
        link_sermi_and_open_security_job(page, system, vat_id, DEMO_VIN)
        security = page.get_by_test_id("security-job")
        security.get_by_label("Agent at the car").nth(2).select_option(config["id"])
        security.get_by_label("Address of the new unit").fill("0x40")
        security.get_by_role("button", name="Pair the unit").click()
        expect(page.locator("[data-testid=pair-task][data-state=done]")).to_be_visible(timeout=30_000)
        assert car(system)["0x40"]["paired"] is True
        screens.check("paired")
        page.goto(job_url)
        expect(page.locator("[data-testid=replacement][data-address='0x40'][data-state=restored]")).to_be_visible(
            timeout=10_000)

        # in German
        page.get_by_label("Language").select_option("de")
        expect(page.get_by_role("heading", name="Ein Steuergerät tauschen")).to_be_visible()
        expect(page.get_by_role("heading", name="Codierung")).to_be_visible()
        screens.check("de")
    finally:
        agent.terminate()
        agent.wait(timeout=10)
        requests.post(f"http://127.0.0.1:{system.car_control_port}/deliver", timeout=10)
