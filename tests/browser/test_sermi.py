"""SERMI in the browser: a technician of a new workshop links their authorisation at the demo trust centre (a real
OpenID provider), comes back to the portal, sees it confirmed and fresh for 15 minutes, is ready for security
work; records the owner's identity, unlocks the demo car's secure gateway with the token AOS gives for the
gateway's challenge, and has its agent program a key into the car's immobiliser; the workshop's owner sees each
step in the trail. A technician the trust centre revoked is
refused in words. The screens in English and German pass axe."""
import re

import pytest
from playwright.sync_api import expect

from agent.flash import DID_KEYS, Ecu
from deploy import trust_centre
from automotive.uds import UNLOCK, UNLOCK_CHALLENGE
from tests.browser.conftest import DEMO_VIN
from tests.browser.test_journeys import german_vat_id, register, register_agent, start_agent

GATEWAY, IMMOBILISER = 0x10, 0x40  # the demo car's central gateway (ZGW) and body domain controller (BDC)

pytestmark = pytest.mark.timeout(300)


def sign_in_at_trust_centre(page, login):
    """The demo trust centre's own sign-in page (any password)."""
    expect(page.get_by_role("heading", name="Demo SERMI trust centre")).to_be_visible()
    page.get_by_label("Technician").fill(login)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()


def test_sermi_a_technician_links_at_the_trust_centre_and_a_revoked_one_is_refused(page, system, tmp_path):
    vat_id = german_vat_id()
    folder = system.data_dir / "trust-centre"
    trust_centre.write_technicians(folder, trust_centre.read_technicians(folder) | {
        "tech-clara": trust_centre.technician(vat_id, "SERMI-DE-0777", workshop="Autohaus Schlüssel GmbH"),
        "tech-dieter": trust_centre.technician(vat_id, "SERMI-DE-0778", revoked=True)})
    register(page, name="Autohaus Schlüssel GmbH", vat_id=vat_id)
    page.get_by_role("link", name="SERMI").click()
    expect(page.get_by_text("Not linked yet.")).to_be_visible()
    page.screens.check("sermi-unlinked")

    page.get_by_role("button", name="Link my SERMI authorisation").click()
    sign_in_at_trust_centre(page, "tech-dieter")  # revoked at the trust centre
    expect(page.get_by_role("alert")).to_contain_text("The trust centre did not sign you in")
    page.screens.check("sermi-refused")

    page.get_by_role("button", name="Link my SERMI authorisation").click()
    sign_in_at_trust_centre(page, "tech-clara")
    expect(page.get_by_text("The trust centre confirmed your SERMI authorisation.")).to_be_visible()
    expect(page.get_by_test_id("sermi")).to_contain_text("SERMI-DE-0777")
    expect(page.get_by_test_id("sermi")).to_contain_text("fresh")
    page.get_by_role("button", name="Am I ready for security work?").click()
    expect(page.get_by_text("Yes: the trust centre confirms your authorisation now.")).to_be_visible()
    page.screens.check("sermi-linked")

    # a security job on the demo car: the owner's identity first, then the secure gateway's challenge answered
    page.get_by_role("link", name="Security-related work").click()
    page.get_by_label("VIN").fill(DEMO_VIN.lower())
    page.get_by_label("Vehicle owner (as on the ID document)").fill("Jana Nowak")
    page.get_by_label("ID document number").fill("L01X00T47")
    page.get_by_role("button", name="Open the job").click()
    job = page.get_by_test_id("security-job")
    expect(job).to_contain_text("SERMI authorisation SERMI-DE-0777")
    with Ecu("127.0.0.1", system.car_port, GATEWAY, key_for=None) as gateway:  # the tester at the car
        challenge = bytes(gateway.client.start_routine(UNLOCK_CHALLENGE).data[3:])
        job.get_by_label("Challenge from the gateway").fill(challenge.hex().upper())
        job.get_by_role("button", name="Get the unlock token").click()
        token = page.get_by_test_id("unlock-token")
        expect(token).to_have_text(re.compile("^[0-9a-f]{16}$"))
        unlocked = gateway.client.start_routine(UNLOCK, data=bytes.fromhex(token.inner_text()))
        assert unlocked.positive and bytes(unlocked.data[3:]) == b"\x00", "the token opens the demo car's gateway"
    page.screens.check("security-job")

    # a key into the demo car's immobiliser, programmed by the workshop's agent at the car
    page.nav("Programming")
    config_path, _ = register_agent(page, "Key bench laptop", tmp_path)
    agent = start_agent(system, config_path, tmp_path)
    try:
        expect(page.locator("[data-agent]").filter(has_text="online")).to_have_count(1, timeout=20_000)
        page.visit("/#/security")
        job = page.get_by_test_id("security-job")
        job.get_by_role("form", name=f"Program a key for {DEMO_VIN}").get_by_label("Agent at the car").select_option(
            label="Key bench laptop")
        job.get_by_label("Key slot").fill("2")
        job.get_by_label("Transponder id of the new key").fill("4A1F 00C2 D3E4 F501")
        job.get_by_role("button", name="Program the key").click()
        expect(job.get_by_test_id("key-job")).to_have_attribute("data-state", "done", timeout=30_000)
        expect(job.get_by_test_id("key-job")).to_contain_text("Key in slot 2: done")
        # and the gateway unlocked online: the agent reads the challenge and writes AOS's token itself
        job.get_by_role("form", name=f"Unlock the secure gateway of {DEMO_VIN} through the agent").get_by_label(
            "Agent at the car").select_option(label="Key bench laptop")
        job.get_by_role("button", name="Unlock through the agent").click()
        expect(job.get_by_test_id("unlock-task")).to_have_attribute("data-state", "done", timeout=30_000)
    finally:
        agent.terminate()
        agent.wait(timeout=10)
    with Ecu("127.0.0.1", system.car_port, IMMOBILISER, key_for=None) as immobiliser:
        slots = immobiliser.read(DID_KEYS)
    assert bytes([2]) + bytes.fromhex("4a1f00c2d3e4f501") in slots, "the car's immobiliser holds the new key"
    page.screens.check("key-programmed")

    page.get_by_label("Language").select_option("de")
    expect(page.get_by_role("heading", name="Sicherheitsrelevante Arbeiten")).to_be_visible()
    page.screens.check("security-job-german")
    page.visit("/#/sermi")
    expect(page.get_by_role("heading", name="SERMI-Autorisierung")).to_be_visible()
    page.screens.check("sermi-german")
    page.visit(f"/#/trail?vin={DEMO_VIN}")  # the workshop's owner sees each step
    rows = page.get_by_test_id("trail").locator("tbody tr")
    expect(rows.filter(has_text="Gateway-Freischalt-Token ausgegeben")).to_have_count(2)  # typed in, and by the agent
    expect(rows.filter(has_text="Sicherheitsauftrag eröffnet")).to_contain_text("Jana Nowak")
    expect(rows.filter(has_text="Schlüssel programmiert")).to_contain_text("slot 2")
    expect(rows.filter(has_text="Gateway online freigeschaltet")).to_have_count(1)


def link_sermi_and_open_security_job(page, system, vat_id, vin):
    """A technician of the workshop (known to the demo trust centre for its VAT id) links SERMI and opens a
    security job on the car, through the portal."""
    technicians = trust_centre.read_technicians(system.data_dir / "trust-centre")
    trust_centre.write_technicians(system.data_dir / "trust-centre", technicians | {
        f"tech-{vat_id}": trust_centre.technician(vat_id, f"SERMI-{vat_id}")})
    page.visit("/#/sermi")
    page.get_by_role("button", name="Link my SERMI authorisation").click()
    sign_in_at_trust_centre(page, f"tech-{vat_id}")
    expect(page.get_by_text("The trust centre confirmed your SERMI authorisation.")).to_be_visible()
    page.visit("/#/security")
    page.get_by_label("VIN").fill(vin)
    page.get_by_label("Vehicle owner (as on the ID document)").fill("Jana Nowak")
    page.get_by_label("ID document number").fill("L01X00T47")
    page.get_by_role("button", name="Open the job").click()
    expect(page.get_by_test_id("security-job")).to_contain_text(vin)
