"""Where two features meet, tried as an attacker and as a new workshop would: an ECU is what the registry and its
own answer say, never the agent's label; a security task's report is believed only where AOS opened the car; a
slowed-down sign-in holds no worker; reset links and reset mails an attacker cannot turn against the owner; a SERMI
link finishes only in the browser that started it; a passkey ceremony works once; the audit trail's CSV runs no
formula."""
import csv
import io
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from deploy import trust_centre as centre, vehicles
from tests.e2e.conftest import STRONG, Workshop, error, fill_registry
from tests.e2e.test_passkeys import ORIGIN
from tests.e2e.test_programming import agent_call
from tests.e2e.test_sermi import link
from tests.e2e.test_users import invite, join
from tests.helpers import eventually
from tests.passkey import SoftPasskey

FEED = vehicles.generate(3, seed=31)
CAR = FEED["vehicles"][0]
WRONG = "Falsches-Passwort-99"
NEW = "Nockenwelle-Steuerkette-31"


def trail(api, workshop, **params):
    return api("GET", "/api/v1/audit/trail", workshop.token, params=params).json()["entries"]


def by_name(name):
    return next(e for e in CAR["ecus"] if e["name"].startswith(name))


# ---- an ECU is what the registry and its own answer say ----

def test_a_pre_flight_that_labels_an_ecu_as_another_is_refused_naming_both_and_the_session_ends(api, system):
    """The attack: address 0x60 (the instrument cluster) read twice, first with the body controller's hardware
    number, to be answered the immobiliser type's key without a security job. Refused by name; no plan, no key."""
    fill_registry(system, FEED)
    workshop = Workshop(api)
    agent = api("POST", "/api/v1/agents", workshop.token, json={"name": "bay 3"}).json()
    cluster, body = by_name("KOMBI"), by_name("BDC")

    def preflight(ecus):
        session_id = api("POST", "/api/v1/programming/sessions", workshop.token,
                         json={"vin": CAR["vin"], "agent_id": agent["id"]}).json()["id"]
        assert agent_call(api, agent, "GET", "/jobs").json()["kind"] == "preflight"
        reading = {"vin": CAR["vin"], "voltage_mv": 12700, "ecus": [
            {"address": e["address"], "software_version": "OLD", "state": "APPLICATION",
             "hardware_part_number": e["hardware_part_number"]} for e in ecus]}
        answer = agent_call(api, agent, "POST", f"/sessions/{session_id}/report",
                            json={"sequence": 1, "kind": "preflight", "vehicle": reading})
        return session_id, answer
    labelled = dict(cluster, hardware_part_number=body["hardware_part_number"])
    session_id, twice = preflight([labelled, cluster] + [e for e in CAR["ecus"] if e is not cluster])
    assert twice.status_code == 422 and error(twice)["code"] == "HARDWARE_MISMATCH"
    message = error(twice)["message"]
    assert body["hardware_part_number"] in message and cluster["hardware_part_number"] in message
    assert "KOMBI (instrument cluster)" in message and error(twice)["details"]["final"] is True
    ended = api("GET", f"/api/v1/programming/sessions/{session_id}", workshop.token).json()
    assert (ended["state"], ended["outcome"], ended["plan"], ended["seconds_billed"]) == ("ended", "failed", [], None)
    assert "registry lists" in ended["message"]
    key = agent_call(api, agent, "POST", f"/sessions/{session_id}/security-key",
                     json={"ecu_address": "0x60", "seed": "1a2b3c4d"})
    assert key.status_code == 409 and error(key)["code"] == "SESSION_STATE"
    # each address once, even with the registry's own number
    second, duplicated = preflight(CAR["ecus"] + [cluster])
    assert duplicated.status_code == 422 and error(duplicated)["code"] == "ECU_READ_TWICE"
    eventually(lambda: sorted(e["summary"] for e in trail(api, workshop) if e["kind"] == "AgentRefused") == [
        f"The agent was refused a report (ECU -): {code}; the session ended"
        for code in ("ECU_READ_TWICE", "HARDWARE_MISMATCH")], timeout=20, what="both refusals in the trail")


# ---- a security task is done only where AOS opened the car ----

def test_a_key_task_is_reported_by_its_agent_while_it_runs_and_done_only_with_the_key_aos_gave(api, system):
    fill_registry(system, FEED)
    workshop = Workshop(api)
    link(api, workshop, "tech-anna")
    job = api("POST", "/api/v1/security/jobs", workshop.token, json={
        "vin": CAR["vin"], "owner_name": "Jana Nowak", "owner_document_number": "L01X00T47"}).json()
    agent, other = (api("POST", "/api/v1/agents", workshop.token, json={"name": n}).json() for n in ("bay 1", "bay 2"))
    task = api("POST", f"/api/v1/security/jobs/{job['id']}/keys", workshop.token,
               json={"agent_id": agent["id"], "slot": 2, "key_id": "00112233aabbccdd"}).json()
    report = lambda who, outcome="done": agent_call(api, who, "POST", f"/tasks/{task['id']}/report",  # noqa: E731
                                                    json={"outcome": outcome})
    early = report(agent)
    assert early.status_code == 409 and error(early)["code"] == "TASK_NOT_RUNNING"  # not taken yet
    taken = agent_call(api, agent, "GET", "/jobs").json()
    assert (taken["kind"], taken["task_id"]) == ("program_key", task["id"])
    assert report(other).status_code == 404  # another agent of the workshop: not its task
    claimed = report(agent)  # done, without ever asking for the immobiliser's key
    assert claimed.status_code == 409 and error(claimed)["code"] == "TASK_NOT_GRANTED"
    seen = api("GET", f"/api/v1/security/tasks/{task['id']}", workshop.token).json()
    assert seen["state"] == "failed" and "cannot have been done" in seen["detail"]
    assert agent_call(api, agent, "GET", "/jobs").json()["kind"] == "none"  # final: it is not handed out again
    programmed = eventually(lambda: [e for e in trail(api, workshop) if e["kind"] == "KeyProgrammed"],
                            what="the task's end in the trail")
    assert [e["summary"] for e in programmed] == [f"Key in slot 2 of immobiliser {by_name('BDC')['address']}: failed"]
    assert any(e["kind"] == "SecurityRefused" and "TASK_NOT_GRANTED" in e["summary"] for e in trail(api, workshop))


# ---- signing in: a slowdown answered at once ----

@pytest.mark.config(AOS_TRUSTED_PROXIES="127.0.0.1", AOS_LOGIN_MAX_ACCOUNT_FAILURES=2)
def test_slowed_down_sign_ins_are_answered_at_once_and_an_unrelated_user_is_served_meanwhile(api, workshop):
    """Failures from many addresses slow the account down for unknown devices: each attempt is answered 429 with
    Retry-After at once, never held in a worker (ten held attempts held identity, and everyone's /me with it)."""
    for n, wait in enumerate((0, 0, 0, 0.6, 1.1, 2.1)):  # slowdowns of 0.5, 1, 2 then 4 s after the free two
        time.sleep(wait)
        failed = api("POST", "/api/v1/auth/login", headers={"X-Forwarded-For": f"203.0.113.{n + 1}"},
                     json={"email": workshop.email, "password": WRONG})
        assert failed.status_code == 401, (n, failed.text)
    neighbour = Workshop(api, email="chef@werkstatt-nord.de", vat_id=None)

    def attempt(n):
        return requests.post(api.base + "/api/v1/auth/login", json={"email": workshop.email, "password": STRONG},
                             headers={"X-Forwarded-For": f"198.51.100.{n}"}, timeout=30)
    with ThreadPoolExecutor(11) as pool:
        slowed = [pool.submit(attempt, n) for n in range(10)]
        me = api("GET", "/api/v1/me", neighbour.token)
        answers = [f.result() for f in slowed]
    assert me.status_code == 200
    assert [(a.status_code, error(a)["code"]) for a in answers] == [(429, "SIGN_IN_SLOWED")] * 10
    assert all(1 <= int(a.headers["Retry-After"]) <= 4 for a in answers)


# ---- a forgotten password: links and mails an attacker cannot turn against the owner ----

@pytest.mark.config(AOS_TRUSTED_PROXIES="127.0.0.1", AOS_RESET_MAIL_SECONDS=2)
def test_reset_links_end_each_other_and_an_attacker_asking_neither_floods_nor_blocks_the_owner(api, workshop):
    def forgot(address):
        return api("POST", "/api/v1/auth/password/forgot", headers={"X-Forwarded-For": address},
                   json={"email": workshop.email})

    def links(since):
        return [api.mailbox.token(m, "reset-password") for m in api.mailbox.mails(workshop.email, since, "Passwort")]
    started = time.time_ns()
    answers = [forgot("203.0.113.9") for _ in range(6)]  # the attacker, from their address
    assert [a.status_code for a in answers] == [202] * 5 + [429]
    first = eventually(lambda: links(started), what="the reset mail")
    time.sleep(0.5)
    assert len(links(started)) == 1  # one mail a window, however often it is asked for
    assert forgot("198.51.100.7").status_code == 202  # the owner, from theirs: not blocked by the attacker
    time.sleep(2.1)
    asked = time.time_ns()
    assert forgot("198.51.100.7").status_code == 202
    second = eventually(lambda: links(asked), what="a new reset mail after the window")
    old = api("POST", "/api/v1/auth/password/reset", json={"token": first[0], "password": NEW})
    assert old.status_code == 404 and error(old)["code"] == "RESET_LINK_INVALID"  # ended by the newer link
    assert api("POST", "/api/v1/auth/password/reset", json={"token": second[0], "password": NEW}).status_code == 200
    time.sleep(2.1)
    asked = time.time_ns()
    forgot("198.51.100.7")
    third = eventually(lambda: links(asked), what="a third reset mail")
    challenge = api("POST", "/api/v1/auth/login", json={"email": workshop.email, "password": NEW}).json()["challenge"]
    tokens = api("POST", "/api/v1/auth/totp", json={"challenge": challenge, "code": workshop.code(1)}).json()
    changed = api("POST", "/api/v1/auth/password", tokens["access_token"], json={
        "current_password": NEW, "new_password": NEW + "-2", "recovery_code": workshop.recovery_codes[0]})
    assert changed.status_code == 200, changed.text
    after = api("POST", "/api/v1/auth/password/reset", json={"token": third[0], "password": NEW + "-3"})
    assert after.status_code == 404  # changing the password ended the outstanding link


# ---- SERMI: the link finishes in the browser that started it ----

def test_a_sermi_link_finishes_only_in_the_browser_that_started_it(api, workshop):
    started = api("POST", "/api/v1/sermi/link", workshop.token)
    assert started.status_code == 200 and set(started.json()) == {"authorization_url", "expires_in"}
    cookie = started.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/api/v1/sermi/callback" in cookie
    back = centre.sign_in(started.json()["authorization_url"], "tech-anna")
    # the answer lured into another browser (the attacker's start, the victim's sign-in): refused, not linked
    elsewhere = requests.get(f"{api.base}/api/v1/sermi/callback?{back.split('?', 1)[1]}", allow_redirects=False,
                             timeout=10)
    assert elsewhere.headers["Location"] == "/#/sermi?refused=SERMI_OTHER_BROWSER"
    assert api("GET", "/api/v1/sermi", workshop.token).json() == {"linked": False}
    portal, _ = link(api, workshop, "tech-anna")  # in the browser that started it: linked
    assert portal == "/#/sermi?linked=1"
    eventually(lambda: any(e["kind"] == "SermiRefused" and "SERMI_OTHER_BROWSER" in e["summary"]
                           for e in trail(api, workshop)), what="the refusal in the trail")


# ---- passkeys: a registration ceremony works once ----

def test_a_passkey_registration_ceremony_works_once(api, workshop):
    started = api("POST", "/api/v1/auth/passkeys/options", workshop.token).json()
    first, second = SoftPasskey(ORIGIN), SoftPasskey(ORIGIN)
    added = api("POST", "/api/v1/auth/passkeys", workshop.token, json={
        "ceremony": started["ceremony"], "credential": first.create(started["options"]), "name": "laptop"})
    assert added.status_code == 201, added.text
    again = api("POST", "/api/v1/auth/passkeys", workshop.token, json={
        "ceremony": started["ceremony"], "credential": second.create(started["options"]), "name": "a copy"})
    assert again.status_code == 401 and error(again)["code"] == "CEREMONY_USED"
    assert [p["name"] for p in api("GET", "/api/v1/auth/passkeys", workshop.token).json()["passkeys"]] == ["laptop"]


# ---- the audit trail as a spreadsheet opens it ----

def test_the_trail_s_csv_writes_a_formula_typed_into_a_field_as_text(api, workshop):
    email = "=1+2@werkstatt-mueller.de"
    join(api, invite(api, workshop, email, "technician").json())
    rows = eventually(lambda: (lambda text: text if email in text else None)(api(
        "GET", "/api/v1/audit/trail", workshop.token, headers={"Accept": "text/csv"}).text),
        what="the joined user in the trail")
    joined = next(r for r in csv.DictReader(io.StringIO(rows)) if r["kind"] == "UserJoined" and email in r["summary"])
    assert joined["summary"] == f"'{email} joined as technician"  # text, not a formula
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in csv.reader(io.StringIO(rows))
               for cell in row)
