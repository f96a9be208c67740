"""The owner runs the workshop's users: invites with a role, changes roles, deactivates at once."""
import pyotp

from tests.e2e.conftest import Workshop


def error(answer):
    return answer.json()["error"]


def invite(api, workshop, email, role, name="Tom Techniker"):
    return api("POST", f"/api/v1/operators/{workshop.operator_id}/users", workshop.token,
               json={"email": email, "name": name, "role": role})


def join(api, invitation, password="Zuendkerze-Wechsel-77"):
    """The invited user accepts, enrols TOTP, and returns their tokens."""
    accepted = api("POST", "/api/v1/auth/invitations/accept",
                   json={"token": invitation["invitation_token"], "password": password})
    assert accepted.status_code == 200, accepted.text
    enrolment_token = accepted.json()["enrolment_token"]
    secret = api("POST", "/api/v1/auth/totp/enrol", enrolment_token).json()["secret"]
    confirmed = api("POST", "/api/v1/auth/totp/confirm", enrolment_token, json={"code": pyotp.TOTP(secret).now()})
    assert confirmed.status_code == 200, confirmed.text
    return confirmed.json()


def test_an_invited_technician_joins_and_sees_their_workshop(api, workshop):
    invited = invite(api, workshop, "tom@werkstatt-mueller.de", "technician")
    assert invited.status_code == 201, invited.text
    assert invited.json()["user"]["status"] == "invited"
    tokens = join(api, invited.json())
    me = api("GET", "/api/v1/me", tokens["access_token"]).json()
    assert me["user"]["role"] == "technician" and me["operator"]["id"] == workshop.operator_id

    users = api("GET", f"/api/v1/operators/{workshop.operator_id}/users", workshop.token)
    assert users.status_code == 200
    assert [(u["email"], u["role"], u["status"]) for u in users.json()["users"]] == [
        (workshop.email, "owner", "member"), ("tom@werkstatt-mueller.de", "technician", "member")]

    # An invitation works once.
    again = api("POST", "/api/v1/auth/invitations/accept",
                json={"token": invited.json()["invitation_token"], "password": "Zuendkerze-Wechsel-77"})
    assert again.status_code == 404 and error(again)["code"] == "INVITATION_INVALID"


def test_only_the_owner_invites_and_changes_users(api, workshop):
    technician = join(api, invite(api, workshop, "tom@werkstatt-mueller.de", "technician").json())
    answer = api("POST", f"/api/v1/operators/{workshop.operator_id}/users", technician["access_token"],
                 json={"email": "x@werkstatt-mueller.de", "name": "X", "role": "owner"})
    assert answer.status_code == 403 and error(answer)["code"] == "OWNER_ONLY"
    listing = api("GET", f"/api/v1/operators/{workshop.operator_id}/users", technician["access_token"])
    assert listing.status_code == 403 and error(listing)["code"] == "ROLE_NOT_ALLOWED"
    bad_role = invite(api, workshop, "y@werkstatt-mueller.de", "superuser")
    assert bad_role.status_code == 422 and "role" in error(bad_role)["details"]["fields"]


def test_another_workshop_is_out_of_reach(api, workshop):
    rival = Workshop(api, email="chef@konkurrenz.de", vat_id=None)
    for method, path, body in (("GET", f"/api/v1/operators/{workshop.operator_id}/users", None),
                               ("POST", f"/api/v1/operators/{workshop.operator_id}/users",
                                {"email": "spy@konkurrenz.de", "name": "Spy", "role": "admin"}),
                               ("PATCH", f"/api/v1/operators/{workshop.operator_id}/users/{workshop.user_id}",
                                {"active": False})):
        answer = api(method, path, rival.token, json=body)
        assert answer.status_code == 403 and error(answer)["code"] == "OTHER_OPERATOR", path
    assert api("GET", "/api/v1/me", workshop.token).status_code == 200


def test_deactivation_ends_every_session_at_once_and_roles_change(api, workshop):
    invitation = invite(api, workshop, "tom@werkstatt-mueller.de", "technician").json()
    tom = join(api, invitation)
    tom_id = invitation["user"]["id"]
    path = f"/api/v1/operators/{workshop.operator_id}/users/{tom_id}"

    promoted = api("PATCH", path, workshop.token, json={"role": "admin"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"

    off = api("PATCH", path, workshop.token, json={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    refresh = api("POST", "/api/v1/auth/refresh", json={"refresh_token": tom["refresh_token"]})
    assert refresh.status_code == 401
    me = api("GET", "/api/v1/me", tom["access_token"])  # identity says so, or the gateway has heard already
    assert me.status_code == 401 and error(me)["code"] in ("USER_INACTIVE", "TOKEN_REVOKED")
    relogin = api("POST", "/api/v1/auth/login", json={"email": "tom@werkstatt-mueller.de",
                                                       "password": "Zuendkerze-Wechsel-77"})
    assert relogin.status_code == 401 and error(relogin)["code"] == "LOGIN_FAILED"


def test_the_last_owner_stays_and_empty_changes_are_refused(api, workshop):
    path = f"/api/v1/operators/{workshop.operator_id}/users/{workshop.user_id}"
    demote = api("PATCH", path, workshop.token, json={"role": "technician"})
    assert demote.status_code == 409 and error(demote)["code"] == "LAST_OWNER"
    leave = api("PATCH", path, workshop.token, json={"active": False})
    assert leave.status_code == 409 and error(leave)["code"] == "LAST_OWNER"
    nothing = api("PATCH", path, workshop.token, json={})
    assert nothing.status_code == 422 and error(nothing)["code"] == "NOTHING_TO_CHANGE"
    wrong_type = api("PATCH", path, workshop.token, json={"active": "no"})
    assert wrong_type.status_code == 422 and "active" in error(wrong_type)["details"]["fields"]
    unknown = api("PATCH", f"/api/v1/operators/{workshop.operator_id}/users/nobody", workshop.token,
                  json={"role": "admin"})
    assert unknown.status_code == 404 and error(unknown)["code"] == "USER_NOT_FOUND"
    assert api("GET", "/api/v1/me", workshop.token).json()["user"]["role"] == "owner"
