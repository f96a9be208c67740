"""A technician links their SERMI authorisation by signing in at the (demo) trust centre, a real OpenID provider:
authorization code with PKCE, the ID token's claims held against the workshop. A foreign workshop's technician,
a replayed answer, a revocation at the trust centre and a stale sign-in are refused in words, and every step is in
the workshop's audit trail."""
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from deploy import trust_centre as centre
from services.identity.models import SermiAuthorisation
from services.shared.database import make_engine
from tests.conftest import TECHNICIANS
from tests.e2e.conftest import Workshop, error
from tests.helpers import eventually


def link(api, workshop, login):
    """The whole link: AOS's start, the trust centre's sign-in, AOS's callback. Returns (where the portal goes,
    the callback's query, to replay it)."""
    started = api("POST", "/api/v1/sermi/link", workshop.token)
    assert started.status_code == 200, started.text
    back = urlsplit(centre.sign_in(started.json()["authorization_url"], login))
    assert back.geturl().startswith("http://portal.test/api/v1/sermi/callback?")
    answer = api("GET", f"/api/v1/sermi/callback?{back.query}", allow_redirects=False)
    assert answer.status_code == 303
    return answer.headers["Location"], back.query


def trail_kinds(api, workshop):
    return [(e["kind"], e["summary"]) for e in api("GET", "/api/v1/audit/trail", workshop.token).json()["entries"]]


def test_a_technician_links_sermi_at_the_trust_centre_and_is_ready_for_security_work(api, system):
    workshop = Workshop(api)
    assert api("GET", "/api/v1/sermi", workshop.token).json() == {"linked": False}
    refused = api("POST", "/api/v1/sermi/check", workshop.token)
    assert refused.status_code == 403 and error(refused)["code"] == "SERMI_NOT_LINKED"

    portal, query = link(api, workshop, "tech-anna")
    assert portal == "/#/sermi?linked=1"
    status = api("GET", "/api/v1/sermi", workshop.token).json()
    assert status["linked"] and status["fresh"] and status["authorisation_id"] == "SERMI-DE-0001"
    assert status["body"] == "DE-CAB-0042" and status["workshop"]["vat_id"] == "DE136695976"
    ready = api("POST", "/api/v1/sermi/check", workshop.token)
    assert ready.status_code == 200, ready.text

    # the trust centre's answer works once: replayed, its state (and the nonce the ID token carries) is spent
    replayed = api("GET", f"/api/v1/sermi/callback?{query}", allow_redirects=False)
    assert replayed.headers["Location"] == "/#/sermi?refused=SERMI_STATE_INVALID"
    eventually(lambda: any(k == "SermiLinked" for k, _ in trail_kinds(api, workshop)), what="the link in the trail")


def test_a_technician_of_another_workshop_or_revoked_is_refused_and_the_refusal_is_in_the_trail(api, system):
    workshop = Workshop(api)
    portal, _ = link(api, workshop, "tech-foreign")
    assert portal == "/#/sermi?refused=SERMI_WORKSHOP_MISMATCH"
    portal, _ = link(api, workshop, "tech-bernd-revoked")  # the trust centre refuses the sign-in itself
    assert portal == "/#/sermi?refused=SERMI_SIGN_IN_FAILED"
    assert api("GET", "/api/v1/sermi", workshop.token).json() == {"linked": False}
    eventually(lambda: ("SermiRefused", "SERMI refused: SERMI_WORKSHOP_MISMATCH") in trail_kinds(api, workshop),
               what="the refusal in the trail")


def test_a_chain_authorisation_is_honoured_for_24_hours(api, system, trust_centre):
    """A remote employee acting for one of the workshop's employees: one login at the trust centre, the chain
    accepted within the last 24 hours; an older chain is refused."""
    from datetime import datetime, timezone
    now = datetime.now(timezone.utc)
    remote = lambda hours: TECHNICIANS["tech-anna"] | {"chain": {  # noqa: E731
        "principal": {"authorisation_id": "SERMI-DE-0001"}, "accepted_at": (now - timedelta(hours=hours)).isoformat()}}
    centre.write_technicians(trust_centre[0], TECHNICIANS | {"tech-remote": remote(2), "tech-remote-old": remote(25)})
    try:
        workshop = Workshop(api)
        assert link(api, workshop, "tech-remote-old")[0] == "/#/sermi?refused=SERMI_CHAIN_EXPIRED"
        assert link(api, workshop, "tech-remote")[0] == "/#/sermi?linked=1"
        assert api("GET", "/api/v1/sermi", workshop.token).json()["chain"]["principal"] == {
            "authorisation_id": "SERMI-DE-0001"}
    finally:
        centre.write_technicians(trust_centre[0], TECHNICIANS)


def test_a_revocation_at_the_trust_centre_and_a_stale_sign_in_are_refused_at_the_next_security_request(
        api, system, trust_centre):
    workshop = Workshop(api)
    link(api, workshop, "tech-anna")
    assert api("POST", "/api/v1/sermi/check", workshop.token).status_code == 200
    folder = trust_centre[0]
    centre.write_technicians(folder, TECHNICIANS | {"tech-anna": TECHNICIANS["tech-anna"] | {"revoked": True}})
    try:
        revoked = api("POST", "/api/v1/sermi/check", workshop.token)
        assert revoked.status_code == 403 and error(revoked)["code"] == "SERMI_REVOKED"
    finally:
        centre.write_technicians(folder, TECHNICIANS)
    assert api("POST", "/api/v1/sermi/check", workshop.token).status_code == 200

    engine = make_engine(system["DATABASE_URLS"]["identity"])
    try:
        with Session(engine) as s, s.begin():  # the sign-in at the trust centre was 16 minutes ago
            found = s.get(SermiAuthorisation, workshop.user_id)
            found.authenticated_at -= timedelta(minutes=16)
    finally:
        engine.dispose()
    stale = api("POST", "/api/v1/sermi/check", workshop.token)
    assert stale.status_code == 403 and error(stale)["code"] == "SERMI_LOGIN_STALE"
    assert api("GET", "/api/v1/sermi", workshop.token).json()["fresh"] is False
    eventually(lambda: {("SermiRefused", "SERMI refused: SERMI_REVOKED"),
                        ("SermiRefused", "SERMI refused: SERMI_LOGIN_STALE")} <= set(trail_kinds(api, workshop)),
               what="both refusals in the trail")

