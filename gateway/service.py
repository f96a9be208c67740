"""The gateway service: the public HTTP API (identity, billing, AIR, vehicle data and the shop so far), health, readiness, the OpenAPI
document and metrics. Each route reads and checks its input, calls one service, and answers."""
import base64
import csv
import io
import json
import logging
from datetime import datetime, timedelta, timezone

import eventlet
from nameko.events import BROADCAST
from services.shared.queues import RpcProxy, lane_target
from nameko.timer import timer
from werkzeug.wrappers import Response

from gateway import asyncapi, openapi, portal
from gateway.auth import REMEMBER_SECONDS, Authenticator
from gateway.http import client_address, file_route, json_response, read_json, route
from gateway.settings import GatewaySettings
from services.air import schemas as airs
from services.audit import schemas as aus
from services.billing import schemas as bs
from services.identity import schemas as ids
from services.programming import AGENTS, schemas as ps
from services.shared.config import Settings
from services.shared import jsonread
from services.shared.consumer import consumes
from services.shared.errors import AosError, BadRequest, Unauthenticated, Unavailable
from services.shop import schemas as ss
from services.vehicle_data import schemas as vs
from services.shared.logs import Correlation
from services.shared.metrics import Metrics
from services.shared.schemas import Empty

log = logging.getLogger(__name__)
V1 = "/api/v1"
PAYMENT = (402, "not enough credit, or the card was declined: nothing charged")
KEYED = (409, "the Idempotency-Key was used with another body")
THROTTLED = (429, "too many failed attempts: details.retry_after_seconds says how long to wait")
UNAUTHENTICATED = (401, "no token, or an expired, revoked or tampered one")
FORBIDDEN = (403, "your role may not do this")
NO_ACCESS = (402, "no access to vehicle data for this VIN: details.tariffs says what to buy")
NO_VEHICLE = (404, "the registry has no such vehicle")
SERMI_COOKIE = "aos_sermi_link"


class GatewayService:
    name = "gateway"

    identity = RpcProxy("identity")
    billing = RpcProxy("billing")
    vehicle_data = RpcProxy("vehicle_data")
    shop = RpcProxy("shop")
    air = RpcProxy("air")
    programming = RpcProxy("programming")
    agent_lane = RpcProxy(lane_target("programming", AGENTS))  # what agents call, on programming's lane for them
    audit = RpcProxy("audit")
    auth = Authenticator()
    settings = Settings(GatewaySettings)
    metrics = Metrics()
    correlation = Correlation()

    def _address(self, request):
        return client_address(request, self.settings.trusted_proxies)

    def _call(self, method, *args):
        """One RPC, bounded in time: a service that does not answer gives 503, not a hung request."""
        try:
            with eventlet.Timeout(self.settings.rpc_timeout):
                return method(*args)
        except eventlet.Timeout:  # a BaseException: nameko's worker would not catch it
            raise Unavailable("SERVICE_UNAVAILABLE", "A service is not answering; please try again shortly.")

    # ---- identity's revocations, kept in memory ----

    @consumes("TokensRevoked", handler_type=BROADCAST, reliable_delivery=False)  # every gateway replica hears it
    def on_tokens_revoked(self, event):
        self.auth.revocations.add(event.data)

    @timer(interval=1, eager=True)
    def read_revocations(self):
        """At start, until identity answers, then every half minute (healing a missed event): identity's
        revocations still in force."""
        if not self.auth.revocations.due():
            return
        since = datetime.now(timezone.utc) - timedelta(seconds=REMEMBER_SECONDS)
        try:
            with eventlet.Timeout(5):
                found = self.identity.revocations({"since": since.isoformat()})["revocations"]
        except BaseException as exc:  # identity not up yet: the next round asks again
            log.warning("identity's revocations could not be read: %s", type(exc).__name__)
            return
        self.auth.revocations.load(found)

    # ---- operations ----

    @route("GET", "/health", "The gateway process is alive", "operations", public=True)
    def health(self, request):
        return {"status": "alive"}

    @route("GET", "/ready", "Every service the gateway needs answers", "operations", public=True,
           errors=((503, "a dependency is not reachable"),))
    def ready(self, request):
        checks = {}
        for name, proxy in (("identity", self.identity), ("billing", self.billing),
                            ("vehicle_data", self.vehicle_data), ("shop", self.shop), ("air", self.air),
                            ("programming", self.programming), ("audit", self.audit)):
            try:
                with eventlet.Timeout(2):
                    proxy.ping()
                checks[name] = "ok"
            except BaseException as exc:  # eventlet.Timeout is a BaseException
                checks[name] = f"unreachable: {type(exc).__name__}"
        checks["revocations"] = "ok" if self.auth.revocations.loaded else "not yet read from identity"
        ready = all(v == "ok" for v in checks.values())
        return json_response({"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503)

    @route("GET", V1 + "/openapi.json", "This document", "operations", public=True)
    def openapi_document(self, request):
        return openapi.build()

    @route("GET", V1 + "/asyncapi.json", "The event catalogue for partner systems (AsyncAPI 3): every event's "
           "exchange, routing key, schema and an example", "operations", public=True)
    def asyncapi_document(self, request):
        return asyncapi.build()

    # ---- the web portal's files (not API routes: they stay out of the OpenAPI document) ----

    @file_route("/")
    def portal_page(self, request):
        return portal.page(request)

    @file_route("/assets/<path:name>")
    def portal_asset(self, request, name):
        return portal.asset(request, name)

    # ---- identity ----

    @route("POST", V1 + "/operators", "Register a workshop company and its owner: a link to confirm the address is "
           "mailed (the same answer whether or not the address had an account; its owner is mailed instead); after "
           "confirming, the owner signs in and sets up the second factor", "identity", public=True,
           body=ids.RegisterOperator, answer=ids.MailSent, status=202,
           errors=((409, "the VAT id is registered already"), (422, "a field breaks a rule")))
    def register_operator(self, request):
        return self._call(self.identity.register_operator, read_json(request, ids.RegisterOperator))

    @route("POST", V1 + "/auth/login", "Email and password: a second-factor challenge, or an enrolment token",
           "identity", public=True, body=ids.Login, answer=ids.LoginAnswer,
           errors=((401, "Login failed"), THROTTLED))
    def login(self, request):
        return self._call(self.identity.login, read_json(request, ids.Login), self._address(request))

    @route("POST", V1 + "/auth/totp", "Challenge and TOTP code (or a recovery code): access and refresh tokens",
           "identity", public=True, body=ids.SecondFactor, answer=ids.SignedIn,
           errors=((401, "wrong, reused or expired"), THROTTLED))
    def second_factor(self, request):
        return self._call(self.identity.second_factor, read_json(request, ids.SecondFactor), self._address(request))

    @route("POST", V1 + "/auth/totp/enrol", "Start TOTP enrolment: secret, otpauth URI and QR code", "identity",
           answer=ids.Enrolment, errors=(UNAUTHENTICATED, (409, "a factor is set up already")))
    def start_totp_enrolment(self, request):
        caller = self.auth.caller(request, scope="enrol")
        read_json(request, Empty)
        return self._call(self.identity.start_totp_enrolment, caller.actor())

    @route("POST", V1 + "/auth/totp/confirm", "Confirm enrolment with a first code: recovery codes and tokens",
           "identity", body=ids.ConfirmTotp, answer=ids.Confirmed,
           errors=(UNAUTHENTICATED, (409, "enrolment not started, or done already"), THROTTLED))
    def confirm_totp_enrolment(self, request):
        caller = self.auth.caller(request, scope="enrol")
        return self._call(self.identity.confirm_totp_enrolment, caller.actor(),
                          read_json(request, ids.ConfirmTotp), self._address(request))

    @route("POST", V1 + "/auth/email/verify", "Confirm the email address with the token from the mail", "identity",
           public=True, body=ids.VerifyEmail, answer=ids.Verified, errors=((404, "not valid, or expired"),))
    def verify_email(self, request):
        return self._call(self.identity.verify_email, read_json(request, ids.VerifyEmail))

    @route("POST", V1 + "/auth/email/resend", "Send the confirmation mail again", "identity", answer=ids.MailSent,
           errors=(UNAUTHENTICATED, (409, "confirmed already")))
    def resend_verification(self, request):
        caller = self.auth.caller(request, scope="enrol")
        read_json(request, Empty)
        return self._call(self.identity.resend_verification, caller.actor())

    @route("POST", V1 + "/auth/password/forgot", "A link to reset the password, by mail (the same answer whether or "
           "not there is such an account)", "identity", public=True, body=ids.ForgotPassword, answer=ids.MailSent,
           status=202, errors=(THROTTLED,))
    def forgot_password(self, request):
        return self._call(self.identity.forgot_password, read_json(request, ids.ForgotPassword),
                          self._address(request))

    @route("POST", V1 + "/auth/password/reset", "A new password with the mailed link: every session is signed out; "
           "the second factor is still asked for at the next sign-in", "identity", public=True,
           body=ids.ResetPassword, answer=ids.PasswordReset,
           errors=((404, "the link is not valid, was used, or expired"), (422, "the password breaks a rule")))
    def reset_password(self, request):
        return self._call(self.identity.reset_password, read_json(request, ids.ResetPassword))

    @route("POST", V1 + "/auth/password", "Change the password with the current one and the second factor: every "
           "other session ends, this one gets new tokens", "identity", body=ids.ChangePassword, answer=ids.Tokens,
           errors=(UNAUTHENTICATED, THROTTLED, (422, "the new password breaks a rule")))
    def change_password(self, request):
        caller = self.auth.caller(request)
        return self._call(self.identity.change_password, caller.actor(), read_json(request, ids.ChangePassword),
                          self._address(request))

    @route("POST", V1 + "/auth/passkeys/options", "Start adding a passkey: WebAuthn creation options", "identity",
           answer=ids.PasskeyOptions, errors=(UNAUTHENTICATED,))
    def passkey_options(self, request):
        caller = self.auth.caller(request)
        read_json(request, Empty)
        return self._call(self.identity.passkey_options, caller.actor())

    @route("POST", V1 + "/auth/passkeys", "Add a passkey as a second factor (the browser's credential)", "identity",
           body=ids.AddPasskey, answer=ids.PasskeyOut, status=201,
           errors=(UNAUTHENTICATED, (409, "registered already"), (422, "the credential was not accepted")))
    def add_passkey(self, request):
        caller = self.auth.caller(request)
        return self._call(self.identity.add_passkey, caller.actor(), read_json(request, ids.AddPasskey))

    @route("GET", V1 + "/auth/passkeys", "Your passkeys", "identity", answer=ids.PasskeyList,
           errors=(UNAUTHENTICATED,))
    def passkeys(self, request):
        return self._call(self.identity.passkeys, self.auth.caller(request).actor())

    @route("DELETE", V1 + "/auth/passkeys/<passkey_id>", "Remove one of your passkeys", "identity",
           errors=(UNAUTHENTICATED, (404, "no such passkey of yours")))
    def remove_passkey(self, request, passkey_id):
        return self._call(self.identity.remove_passkey, self.auth.caller(request).actor(), passkey_id)

    @route("POST", V1 + "/auth/passkey/options", "Second factor by passkey, step 1: WebAuthn request options for "
           "the login's challenge", "identity", public=True, body=ids.PasskeyOptionsQuery, answer=ids.PasskeyOptions,
           errors=((401, "the challenge is not valid, expired or used"), (409, "the account has no passkey")))
    def passkey_sign_in_options(self, request):
        return self._call(self.identity.passkey_sign_in_options, read_json(request, ids.PasskeyOptionsQuery))

    @route("POST", V1 + "/auth/passkey", "Second factor by passkey, step 2: the key's answer; access and refresh "
           "tokens", "identity", public=True, body=ids.PasskeySignIn, answer=ids.SignedIn,
           errors=((401, "the key's answer or the challenge did not check out"), THROTTLED))
    def passkey_sign_in(self, request):
        return self._call(self.identity.passkey_sign_in, read_json(request, ids.PasskeySignIn), self._address(request))

    @route("POST", V1 + "/auth/refresh", "Rotate a refresh token", "identity", public=True,
           body=ids.Refresh, answer=ids.Tokens, errors=((401, "invalid, expired or reused: sign in again"),))
    def refresh(self, request):
        return self._call(self.identity.refresh, read_json(request, ids.Refresh))

    @route("POST", V1 + "/auth/logout", "End this login session: its refresh tokens stop working", "identity",
           body=ids.Logout, errors=(UNAUTHENTICATED,))
    def logout(self, request):
        caller = self.auth.caller(request)
        return self._call(self.identity.logout, caller.actor(), read_json(request, ids.Logout))

    @route("POST", V1 + "/auth/invitations/accept", "Accept an invitation: set a password, then enrol a factor",
           "identity", public=True, body=ids.AcceptInvitation, answer=ids.Joined,
           errors=((404, "invalid or expired invitation"), (422, "weak password")))
    def accept_invitation(self, request):
        return self._call(self.identity.accept_invitation, read_json(request, ids.AcceptInvitation))

    @route("GET", V1 + "/me", "The user, their workshop and roles", "identity", answer=ids.Me,
           errors=(UNAUTHENTICATED,))
    def me(self, request):
        return self._call(self.identity.me, self.auth.caller(request).actor())

    @route("GET", V1 + "/operators/<operator_id>/users", "The workshop's users (owner, admin)", "identity",
           answer=ids.UserList, errors=(UNAUTHENTICATED, (403, "not your workshop, or not allowed")))
    def list_users(self, request, operator_id):
        return self._call(self.identity.list_users, self.auth.caller(request).actor(), operator_id)

    @route("POST", V1 + "/operators/<operator_id>/users", "Invite a user with a role (owner)", "identity",
           body=ids.InviteUser, answer=ids.Invitation, status=201,
           errors=(UNAUTHENTICATED, (403, "only the owner invites"), (409, "email registered already")))
    def invite_user(self, request, operator_id):
        caller = self.auth.caller(request)
        return self._call(self.identity.invite_user, caller.actor(), operator_id, read_json(request, ids.InviteUser))

    @route("PATCH", V1 + "/operators/<operator_id>/users/<user_id>", "Change a user's role, or deactivate (owner)",
           "identity", body=ids.ChangeUser, answer=ids.UserOut,
           errors=(UNAUTHENTICATED, (403, "only the owner changes users"), (409, "the last owner stays")))
    def change_user(self, request, operator_id, user_id):
        caller = self.auth.caller(request)
        return self._call(self.identity.change_user, caller.actor(), operator_id, user_id,
                          read_json(request, ids.ChangeUser))

    @route("POST", V1 + "/operators/<operator_id>/users/<user_id>/second-factor/reset", "Reset a user's lost second "
           "factor (owner; admin for non-owners; yourself after signing in with a recovery code): they enrol again "
           "at the next sign-in", "identity", answer=ids.UserOut,
           errors=(UNAUTHENTICATED, FORBIDDEN, (404, "no such user in your workshop")))
    def reset_second_factor(self, request, operator_id, user_id):
        caller = self.auth.caller(request)
        read_json(request, Empty)
        return self._call(self.identity.reset_second_factor, caller.actor(),
                          operator_id, user_id)

    # ---- billing ----

    @route("GET", V1 + "/tariffs", "What can be bought, with prices excl. and incl. VAT for a country (`?country=DE`)",
           "billing", public=True, answer=bs.TariffList, errors=((422, "unsupported country"),))
    def tariffs(self, request):
        return self._call(self.billing.tariffs, single_query(request))

    @route("POST", V1 + "/purchases", "Buy a tariff, paid from the credit account (`Idempotency-Key` required)",
           "billing", body=bs.PurchaseInput, answer=bs.PurchaseOut, status=201,
           errors=(UNAUTHENTICATED, PAYMENT, KEYED, (404, "no such tariff on sale"), (422, "VIN or quantity does not fit")))
    def purchase(self, request):
        caller = self.auth.caller(request)
        body = read_json(request, bs.PurchaseInput)
        return self._call(self.billing.purchase, caller.actor(), body, idempotency_key(request))

    @route("GET", V1 + "/purchases", "The workshop's purchases", "billing", answer=bs.PurchaseList,
           errors=(UNAUTHENTICATED,))
    def purchases(self, request):
        return self._call(self.billing.purchases, self.auth.caller(request).actor())

    @route("GET", V1 + "/entitlements", "What the workshop may use now, and how much time is left", "billing",
           answer=bs.Entitlements, errors=(UNAUTHENTICATED,))
    def entitlements(self, request):
        return self._call(self.billing.entitlements, self.auth.caller(request).actor())

    @route("GET", V1 + "/credit", "The credit account: balance and statement", "billing", answer=bs.Credit,
           errors=(UNAUTHENTICATED,))
    def credit(self, request):
        return self._call(self.billing.credit, self.auth.caller(request).actor())

    @route("POST", V1 + "/credit/top-ups", "Add money to the credit account by card (`Idempotency-Key` required)",
           "billing", body=bs.TopUpInput, answer=bs.Credit, status=201,
           errors=(UNAUTHENTICATED, PAYMENT, KEYED, (403, "owner or admin only")))
    def top_up(self, request):
        caller = self.auth.caller(request)
        body = read_json(request, bs.TopUpInput)
        return self._call(self.billing.top_up, caller.actor(), body, idempotency_key(request))

    @route("GET", V1 + "/invoices", "The workshop's invoices", "billing", answer=bs.InvoiceList,
           errors=(UNAUTHENTICATED,))
    def invoices(self, request):
        return self._call(self.billing.invoices, self.auth.caller(request).actor())

    @route("GET", V1 + "/invoices/<invoice_id>", "One invoice: JSON, or the PDF with `Accept: application/pdf`",
           "billing", answer=bs.InvoiceOut, errors=(UNAUTHENTICATED, (404, "no such invoice in your workshop")))
    def invoice(self, request, invoice_id):
        actor = self.auth.caller(request).actor()
        if request.accept_mimetypes.best_match(["application/json", "application/pdf"]) == "application/pdf":
            document = self._call(self.billing.invoice_pdf, actor, invoice_id)
            return Response(base64.b64decode(document["pdf_base64"]), mimetype="application/pdf", headers={
                "Content-Disposition": f'attachment; filename="{document["filename"]}"'})
        return self._call(self.billing.invoice, actor, invoice_id)

    # ---- AIR: technical information ----

    @route("GET", V1 + "/air/search", "Search technical information (`q`, `vin`, `type`, `system`, `language`, `page`, "
           "`size`): ranked hits with highlights and facet counts; without access titles only, and `offer`", "AIR",
           query=airs.SearchQuery, answer=airs.SearchOut,
           errors=(UNAUTHENTICATED, NO_VEHICLE, (422, "a parameter breaks a rule, or the page is past the end")))
    def air_search(self, request):
        return self._call(self.air.search, self.auth.caller(request).actor(), query(request))

    @route("GET", V1 + "/air/suggest", "Titles completing what was typed so far (`q`, `vin`, `language`)", "AIR",
           query=airs.SuggestQuery, answer=airs.SuggestOut, errors=(UNAUTHENTICATED, (422, "a parameter breaks a rule")))
    def air_suggest(self, request):
        return self._call(self.air.suggest, self.auth.caller(request).actor(), query(request))

    @route("GET", V1 + "/air/documents/<document_id>", "One document, with signed links to its binaries (`vin`: the "
           "car it is opened for)", "AIR", query=airs.DocumentQuery, answer=airs.DocumentOut,
           errors=(UNAUTHENTICATED, (402, "ACCESS_REQUIRED: details.tariffs says what to buy"),
                   (404, "no such document, or no such vehicle"), (422, "the document does not apply to the VIN")))
    def air_document(self, request, document_id):
        return self._call(self.air.document, self.auth.caller(request).actor(), document_id, query(request))

    @route("GET", V1 + "/air/navigation", "The standard navigation: main groups and document types, counted, "
           "optionally for a `vin`", "AIR", query=airs.NavigationQuery, answer=airs.NavigationOut,
           errors=(UNAUTHENTICATED, NO_VEHICLE, (422, "a parameter breaks a rule")))
    def air_navigation(self, request):
        return self._call(self.air.navigation, self.auth.caller(request).actor(), query(request))

    # ---- programming ----

    @route("POST", V1 + "/agents", "Register a workshop agent (the pass-through client): its credential is shown "
           "once", "programming", body=ps.AgentInput, answer=ps.AgentOut, status=201, errors=(UNAUTHENTICATED,))
    def register_agent(self, request):
        caller = self.auth.caller(request)
        return self._call(self.programming.register_agent, caller.actor(), read_json(request, ps.AgentInput))

    @route("GET", V1 + "/agents", "The workshop's agents, and which are online", "programming",
           answer=ps.AgentList, errors=(UNAUTHENTICATED,))
    def agents(self, request):
        return self._call(self.programming.agents, self.auth.caller(request).actor())

    @route("PATCH", V1 + "/agents/<agent_id>", "Rename an agent (owner, admin)", "programming", body=ps.AgentInput,
           answer=ps.AgentSeen, errors=(UNAUTHENTICATED, FORBIDDEN, (404, "no such agent in your workshop")))
    def rename_agent(self, request, agent_id):
        caller = self.auth.caller(request)
        return self._call(self.programming.rename_agent, caller.actor(), agent_id, read_json(request, ps.AgentInput))

    @route("POST", V1 + "/agents/<agent_id>/credential", "A new credential for an agent, shown once; the old one "
           "stops working (owner, admin)", "programming", answer=ps.AgentOut,
           errors=(UNAUTHENTICATED, FORBIDDEN, (404, "no such agent in your workshop"), (409, "the agent is revoked")))
    def renew_agent_credential(self, request, agent_id):
        caller = self.auth.caller(request)
        read_json(request, Empty)
        return self._call(self.programming.renew_agent_credential, caller.actor(), agent_id)

    @route("POST", V1 + "/agents/<agent_id>/revoke", "Revoke an agent: refused at once, the clock of a session it "
           "runs stops (owner, admin)", "programming", answer=ps.AgentSeen,
           errors=(UNAUTHENTICATED, FORBIDDEN, (404, "no such agent in your workshop")))
    def revoke_agent(self, request, agent_id):
        caller = self.auth.caller(request)
        read_json(request, Empty)
        return self._call(self.programming.revoke_agent, caller.actor(), agent_id)

    @route("POST", V1 + "/programming/sessions", "Open a session for a VIN and an agent: pre-flight runs, the clock "
           "does not", "programming", body=ps.OpenSession, answer=ps.SessionOut, status=201,
           errors=(UNAUTHENTICATED, (404, "no such agent in your workshop, or no such vehicle"),
                   (409, "the agent has a session open"), (422, "a field breaks a rule")))
    def open_session(self, request):
        caller = self.auth.caller(request)
        return self._call(self.programming.open_session, caller.actor(), read_json(request, ps.OpenSession))

    @route("GET", V1 + "/programming/sessions", "The workshop's programming sessions, newest first (the last 50)",
           "programming", answer=ps.SessionList, errors=(UNAUTHENTICATED,))
    def programming_sessions(self, request):
        return self._call(self.programming.sessions, self.auth.caller(request).actor())

    @route("GET", V1 + "/programming/sessions/<session_id>", "State, pre-flight checklist, plan, progress, time "
           "used and left", "programming", answer=ps.SessionOut, errors=(UNAUTHENTICATED, (404, "no such session")))
    def programming_session(self, request, session_id):
        return self._call(self.programming.session, self.auth.caller(request).actor(), session_id)

    @route("POST", V1 + "/programming/sessions/<session_id>/start", "Start flashing: the clock starts (a technician "
           "or owner whose login passed the second factor within 15 minutes)", "programming", answer=ps.SessionOut,
           errors=(UNAUTHENTICATED, (402, "no programming time and no VIN pass for the car"),
                   (403, "STEP_UP_REQUIRED or ROLE_NOT_ALLOWED"), (404, "no such session"),
                   (409, "pre-flight has not passed, or SECURITY_JOB_REQUIRED: the plan holds a theft-relevant ECU and "
                         "no SERMI security job is open on the car")))
    def start_session(self, request, session_id):
        caller = self.auth.caller(request)
        read_json(request, Empty)
        actor = caller.actor()
        return self._call(self.programming.start, actor, session_id)

    @route("POST", V1 + "/programming/sessions/<session_id>/end", "Close the session: what ran is billed, the "
           "rest of the reservation goes back", "programming", answer=ps.SessionOut,
           errors=(UNAUTHENTICATED, (404, "no such session"), (409, "it has ended")))
    def end_session(self, request, session_id):
        caller = self.auth.caller(request)
        read_json(request, Empty)
        return self._call(self.programming.end, caller.actor(), session_id)

    @route("GET", V1 + "/agents/jobs", "Agent: the next job (`Authorization: Agent <id>:<credential>`)",
           "programming", answer=ps.Job, errors=((401, "unknown agent or wrong credential"),), lane="agents")
    def agent_job(self, request):
        return self._call(self.agent_lane.next_job, agent_credentials(request))

    @route("POST", V1 + "/agents/sessions/<session_id>/heartbeat", "Agent: alive, with progress; the clock counts "
           "while these come", "programming", body=ps.Heartbeat, answer=ps.SessionClock,
           errors=((401, "unknown agent or wrong credential"), (404, "not this agent's session")), lane="agents")
    def agent_heartbeat(self, request, session_id):
        return self._call(self.agent_lane.heartbeat, agent_credentials(request), session_id,
                          read_json(request, ps.Heartbeat))

    @route("POST", V1 + "/agents/sessions/<session_id>/report", "Agent: a numbered report (pre-flight reading, "
           "files verified, per-ECU result); a report refused is final: the session ends with the refusal "
           "(details.final)", "programming", body=ps.AgentReport, answer=ps.SessionOut,
           errors=((401, "unknown agent or wrong credential"), (404, "not this agent's session"),
                   (409, "out of order, or not possible in the session's state"),
                   (422, "a field breaks a rule; at pre-flight, an ECU read twice, not in the car, or whose hardware "
                         "number contradicts the vehicle registry")),
           lane="agents")
    def agent_report(self, request, session_id):
        return self._call(self.agent_lane.report, agent_credentials(request), session_id,
                          read_json(request, ps.AgentReport))

    @route("POST", V1 + "/agents/sessions/<session_id>/security-key", "Agent: the key for an ECU's security access "
           "seed, for an ECU of the running session's plan (by its type as the registry records it; each key recorded). A "
           "refusal is final: the session ends with it (details.final), at no charge when the step was one of the "
           "server's own plan", "programming",
           body=ps.SeedInput, answer=ps.KeyOut,
           errors=((401, "unknown agent or wrong credential"), (404, "not this agent's session"),
                   (403, "SECURITY_JOB_REQUIRED: a theft-relevant ECU without the session's security job"),
                   (409, "the session is not running, or the ECU is flashed already"),
                   (422, "the ECU is not in the session's plan")), lane="agents")
    def agent_security_key(self, request, session_id):
        return self._call(self.agent_lane.security_key, agent_credentials(request), session_id,
                          read_json(request, ps.SeedInput))

    # ---- the job card and diagnosis ----

    @route("POST", V1 + "/jobs", "Open a job for a car: the customer's complaint and the odometer (technician, "
           "owner); diagnosis through the agent named", "diagnosis", body=ps.OpenJob, answer=ps.JobOut, status=201,
           errors=(UNAUTHENTICATED, (402, "no remote-diagnosis time and no VIN pass for the car: the offer"),
                   (404, "no such vehicle or agent"), (422, "a field breaks a rule")))
    def open_job(self, request):
        caller = self.auth.caller(request)
        return self._call(self.programming.open_job, caller.actor(), read_json(request, ps.OpenJob))

    @route("GET", V1 + "/jobs", "The workshop's jobs, newest first (the last 50)", "diagnosis", answer=ps.JobList,
           errors=(UNAUTHENTICATED,))
    def jobs(self, request):
        return self._call(self.programming.jobs, self.auth.caller(request).actor())

    @route("GET", V1 + "/jobs/<job_id>", "A job: fault memory before and after, each code's documents and ranked "
           "repair instructions for the car, runs with live data, operations and estimate", "diagnosis",
           answer=ps.JobOut, errors=(UNAUTHENTICATED, (404, "no such job")))
    def job(self, request, job_id):
        return self._call(self.programming.job, self.auth.caller(request).actor(), job_id)

    @route("POST", V1 + "/jobs/<job_id>/runs", "Diagnose through the agent: a quick test, live data, an actuator test "
           "or a clear; paid before it is queued, its clock runs while the agent works", "diagnosis",
           body=ps.RunInput, answer=ps.RunOut, status=201,
           errors=(UNAUTHENTICATED, (402, "no remote-diagnosis time and no VIN pass for the car: the offer"),
                   (404, "no such job"), (409, "the job is closed, or a run is still going"),
                   (422, "a field breaks a rule")))
    def start_run(self, request, job_id):
        caller = self.auth.caller(request)
        return self._call(self.programming.start_run, caller.actor(), job_id, read_json(request, ps.RunInput))

    @route("GET", V1 + "/jobs/<job_id>/runs/<run_id>", "One diagnosis run as it goes: state, clock, live data so "
           "far (what a screen polls while the agent reads)", "diagnosis", answer=ps.RunOut,
           errors=(UNAUTHENTICATED, (404, "no such job or run")))
    def job_run(self, request, job_id, run_id):
        return self._call(self.programming.run, self.auth.caller(request).actor(), job_id, run_id)

    @route("PUT", V1 + "/jobs/<job_id>/operations", "The operations picked: repair instructions for the car, each "
           "with its labour time from the document; the estimate follows", "diagnosis", body=ps.OperationsInput,
           answer=ps.JobOut, errors=(UNAUTHENTICATED, (402, "no information access: the offer"),
                                     (404, "no such job or document"), (409, "the job is closed"),
                                     (422, "a document without a labour time")))
    def choose_operations(self, request, job_id):
        caller = self.auth.caller(request)
        return self._call(self.programming.choose_operations, caller.actor(), job_id,
                          read_json(request, ps.OperationsInput))

    @route("POST", V1 + "/jobs/<job_id>/close", "Close the job: the service record written, the PDF report kept",
           "diagnosis", answer=ps.JobOut, errors=(UNAUTHENTICATED, (404, "no such job"),
                                                  (409, "closed already, or no quick test yet")))
    def close_job(self, request, job_id):
        caller = self.auth.caller(request)
        read_json(request, Empty)
        return self._call(self.programming.close_job, caller.actor(), job_id)

    @route("GET", V1 + "/jobs/<job_id>/report", "The job report (PDF): a link valid for a few minutes", "diagnosis",
           answer=ps.LinkOut, errors=(UNAUTHENTICATED, (404, "no such job"), (409, "the job is not closed yet")))
    def job_report(self, request, job_id):
        return self._call(self.programming.job_report, self.auth.caller(request).actor(), job_id)

    @route("POST", V1 + "/agents/runs/<run_id>/samples", "Agent: a batch of live data; the run's clock counts to now",
           "diagnosis", body=ps.Samples, answer=ps.SamplesOut,
           errors=((401, "unknown agent or wrong credential"), (404, "not this agent's run"),
                   (409, "the run is not running")), lane="agents")
    def agent_samples(self, request, run_id):
        return self._call(self.agent_lane.run_samples, agent_credentials(request), run_id,
                          read_json(request, ps.Samples))

    @route("POST", V1 + "/agents/runs/<run_id>/report", "Agent: a diagnosis run's result (decoded through the ODX)",
           "diagnosis", body=ps.RunReport, answer=ps.RunOut,
           errors=((401, "unknown agent or wrong credential"), (404, "not this agent's run"),
                   (409, "the run is not running"), (422, "a field breaks a rule")), lane="agents")
    def agent_run_report(self, request, run_id):
        return self._call(self.agent_lane.run_report, agent_credentials(request), run_id,
                          read_json(request, ps.RunReport))

    # ---- vehicle data ----

    @route("GET", V1 + "/vehicles/<vin>", "The VIN decoded and checked (free for every signed-in user); with "
           "access, the build data and installed ECUs", "vehicle data", answer=vs.VehicleOut,
           errors=(UNAUTHENTICATED, (422, "the VIN breaks a rule: details name it and the position")))
    def vehicle(self, request, vin):
        return self._call(self.vehicle_data.vehicle, self.auth.caller(request).actor(), vin)

    @route("GET", V1 + "/vehicles/<vin>/service-records", "The vehicle's service history, newest first",
           "vehicle data", answer=vs.ServiceHistory, errors=(UNAUTHENTICATED, NO_ACCESS, NO_VEHICLE))
    def service_records(self, request, vin):
        return self._call(self.vehicle_data.service_records, self.auth.caller(request).actor(), vin)

    @route("POST", V1 + "/vehicles/<vin>/service-records", "Add a service record, or correct one of yours "
           "(`corrects`) within 14 days", "vehicle data", body=vs.ServiceRecordInput, answer=vs.ServiceRecordOut,
           status=201, errors=(UNAUTHENTICATED, NO_ACCESS, NO_VEHICLE,
                               (403, "not your record, or older than 14 days"), (422, "a field breaks a rule")))
    def add_service_record(self, request, vin):
        actor = self.auth.caller(request).actor()
        body = read_json(request, vs.ServiceRecordInput)
        return self._call(self.vehicle_data.add_service_record, actor, vin, body)

    @route("GET", V1 + "/vehicles/<vin>/maintenance", "What is due, by distance and time (`?odometer_km=`)",
           "vehicle data", answer=vs.MaintenanceOut, errors=(UNAUTHENTICATED, NO_ACCESS, NO_VEHICLE))
    def maintenance(self, request, vin):
        return self._call(self.vehicle_data.maintenance, self.auth.caller(request).actor(), vin,
                          single_query(request))

    @route("GET", V1 + "/vehicles/<vin>/campaigns", "Recalls and service campaigns for the vehicle, open or done",
           "vehicle data", answer=vs.CampaignList, errors=(UNAUTHENTICATED, NO_ACCESS, NO_VEHICLE))
    def campaigns(self, request, vin):
        return self._call(self.vehicle_data.campaigns, self.auth.caller(request).actor(), vin)

    # ---- shop ----

    @route("GET", V1 + "/shop/products", "The catalogue with stock, prices excl. and incl. VAT for a country "
           "(`?country=DE`)", "shop", public=True, answer=ss.Catalogue, errors=((422, "unsupported country"),))
    def products(self, request):
        return self._call(self.shop.catalogue, single_query(request))

    @route("GET", V1 + "/shop/products/<sku>", "One product: technical data, what it is needed for, a picture",
           "shop", public=True, answer=ss.ProductOut, errors=((404, "no such product"),))
    def product(self, request, sku):
        return self._call(self.shop.product, sku, single_query(request))

    @route("POST", V1 + "/shop/orders", "Order tools (`Idempotency-Key` required): the stock is reserved, billing "
           "takes the price from the credit account", "shop", body=ss.OrderInput, answer=ss.OrderOut, status=201,
           errors=(UNAUTHENTICATED, KEYED, (404, "unknown SKU"), (409, "not enough in stock, or the key was used "
                                                                     "with another body"), (422, "a bad line")))
    def place_order(self, request):
        caller = self.auth.caller(request)
        body = read_json(request, ss.OrderInput)
        return self._call(self.shop.place_order, caller.actor(), body, idempotency_key(request))

    @route("GET", V1 + "/shop/orders", "The workshop's orders", "shop", answer=ss.OrderList, errors=(UNAUTHENTICATED,))
    def orders(self, request):
        return self._call(self.shop.orders, self.auth.caller(request).actor())

    @route("GET", V1 + "/shop/orders/<order_id>", "One order and its status", "shop", answer=ss.OrderOut,
           errors=(UNAUTHENTICATED, (404, "no such order in your workshop")))
    def order(self, request, order_id):
        return self._call(self.shop.order, self.auth.caller(request).actor(), order_id)

    @route("POST", V1 + "/shop/orders/<order_id>/cancel", "Cancel an order before it ships: the stock goes back, "
           "what was paid comes back to the credit account", "shop", answer=ss.OrderOut,
           errors=(UNAUTHENTICATED, (404, "no such order in your workshop"), (409, "it has shipped")))
    def cancel_order(self, request, order_id):
        return self._call(self.shop.cancel_order, self.auth.caller(request).actor(), order_id)

    # ---- SERMI: the technician's authorisation for security-related work ----

    @route("POST", V1 + "/sermi/link", "Start linking your SERMI authorisation: where to sign in at the trust centre "
           "(OpenID Connect, authorization code with PKCE)", "SERMI", answer=ids.SermiLinkOut,
           errors=(UNAUTHENTICATED, (503, "no trust centre configured, or it does not answer")))
    def start_sermi_link(self, request):
        caller = self.auth.caller(request)
        read_json(request, Empty)
        started = self._call(self.identity.start_sermi_link, caller.actor())
        browser = started.pop("browser_binding")
        response = json_response(started)
        # the trust centre's answer comes back through this browser only: the secret rides in a cookie that scripts
        # cannot read and that only the callback receives (Lax: sent on the trust centre's redirect, a top-level GET)
        response.set_cookie(SERMI_COOKIE, browser, max_age=started["expires_in"], path=V1 + "/sermi/callback",
                            httponly=True, samesite="Lax", secure=request.scheme == "https")
        return response

    @route("GET", V1 + "/sermi/callback", "The trust centre sends the browser back here; it goes on to the portal's "
           "SERMI screen (`#/sermi?linked=1`, or `?refused=<code>`)", "SERMI", public=True, query=ids.SermiCallback, status=303)
    def sermi_callback(self, request):
        try:
            self._call(self.identity.complete_sermi_link, single_query(request), request.cookies.get(SERMI_COOKIE))
            target = "/#/sermi?linked=1"
        except AosError as exc:  # the portal says why in words; the trail has it too
            target = f"/#/sermi?refused={exc.code}"
        response = Response(status=303, headers={"Location": target})
        response.delete_cookie(SERMI_COOKIE, path=V1 + "/sermi/callback")
        return response

    @route("GET", V1 + "/sermi", "Your SERMI authorisation as the trust centre last confirmed it, and until when it "
           "is fresh enough for security-related work (15 minutes after the sign-in there)", "SERMI",
           answer=ids.SermiOut, errors=(UNAUTHENTICATED,))
    def sermi(self, request):
        return self._call(self.identity.sermi, self.auth.caller(request).actor())

    @route("POST", V1 + "/sermi/check", "Ready for security-related work? Signed in at the trust centre within 15 "
           "minutes, and the trust centre confirms the authorisation now", "SERMI", answer=ids.SermiOut,
           errors=(UNAUTHENTICATED, (403, "not linked, the sign-in is stale, or the authorisation was revoked"),
                   (503, "the trust centre does not answer")))
    def sermi_check(self, request):
        caller = self.auth.caller(request)
        read_json(request, Empty)
        return self._call(self.identity.sermi_check, caller.actor())

    @route("POST", V1 + "/security/jobs", "Security-related work on a car (SERMI): the vehicle owner's identity "
           "recorded first, by a technician signed in at the trust centre within 15 minutes", "SERMI",
           body=ps.SecurityJobInput, answer=ps.SecurityJobOut, status=201,
           errors=(UNAUTHENTICATED, (403, "no fresh SERMI authorisation, or revoked"), (404, "no such car"),
                   (503, "the trust centre does not answer")))
    def open_security_job(self, request):
        caller = self.auth.caller(request)
        return self._call(self.programming.open_security_job, caller.actor(), read_json(request, ps.SecurityJobInput))

    @route("GET", V1 + "/security/jobs", "The workshop's security jobs, newest first", "SERMI",
           answer=ps.SecurityJobList, errors=(UNAUTHENTICATED,))
    def security_jobs(self, request):
        return self._call(self.programming.security_jobs, self.auth.caller(request).actor())

    @route("POST", V1 + "/security/jobs/<job_id>/gateway-unlock", "A one-time unlock token for the car's secure "
           "gateway, for the challenge it shows (typed in, or read by the agent)", "SERMI", body=ps.UnlockInput,
           answer=ps.UnlockOut, errors=(UNAUTHENTICATED, (403, "no fresh SERMI authorisation, or revoked"),
                                        (404, "no such job of yours"), (409, "the job closed, or this challenge "
                                                                             "was answered"),
                                        (422, "not this car's secure gateway")))
    def gateway_unlock(self, request, job_id):
        caller = self.auth.caller(request)
        return self._call(self.programming.gateway_unlock, caller.actor(), job_id, read_json(request, ps.UnlockInput))

    @route("POST", V1 + "/security/jobs/<job_id>/keys", "Program a key into the car's immobiliser: the workshop's "
           "agent at the car takes it with its next job", "SERMI", body=ps.KeyJobInput, answer=ps.TaskOut,
           status=201, errors=(UNAUTHENTICATED, (403, "no fresh SERMI authorisation, or revoked"),
                               (404, "no such job of yours"), (409, "the job closed, or the car has no immobiliser"),
                               (422, "not an agent of your workshop")))
    def program_key(self, request, job_id):
        caller = self.auth.caller(request)
        return self._call(self.programming.program_key, caller.actor(), job_id, read_json(request, ps.KeyJobInput))

    @route("POST", V1 + "/security/jobs/<job_id>/gateway-unlock/agent", "Unlock the car's secure gateway online: "
           "the workshop's agent at the car reads its challenge, gets the token and writes it", "SERMI",
           body=ps.AgentUnlockInput, answer=ps.TaskOut, status=201,
           errors=(UNAUTHENTICATED, (403, "no fresh SERMI authorisation, or revoked"), (404, "no such job of yours"),
                   (409, "the job closed, or the car has no secure gateway"), (422, "not an agent of your workshop")))
    def unlock_by_agent(self, request, job_id):
        caller = self.auth.caller(request)
        return self._call(self.programming.unlock_by_agent, caller.actor(), job_id,
                          read_json(request, ps.AgentUnlockInput))

    @route("GET", V1 + "/security/tasks/<task_id>", "A task of the agent at the car: queued, running, done or "
           "failed", "SERMI", answer=ps.TaskOut, errors=(UNAUTHENTICATED, (404, "no such task in your workshop")))
    def task(self, request, task_id):
        return self._call(self.programming.task, self.auth.caller(request).actor(), task_id)

    @route("POST", V1 + "/agents/tasks/<task_id>/security-key", "Agent: the immobiliser's key for its seed, for a "
           "running key task only (recorded)", "SERMI", body=ps.SeedInput, answer=ps.KeyOut,
           errors=((401, "unknown agent or wrong credential"), (404, "not this agent's task"),
                   (409, "the task is not running"), (422, "not the task's immobiliser")), lane="agents")
    def agent_task_security_key(self, request, task_id):
        return self._call(self.agent_lane.task_security_key, agent_credentials(request), task_id,
                          read_json(request, ps.SeedInput))

    @route("POST", V1 + "/agents/tasks/<task_id>/gateway-token", "Agent: the unlock token for the challenge it read "
           "from the car's secure gateway, in a running unlock task (once per challenge)", "SERMI",
           body=ps.ChallengeInput, answer=ps.TokenOut,
           errors=((401, "unknown agent or wrong credential"), (404, "not this agent's task"),
                   (409, "the task is not running, or the challenge was answered")), lane="agents")
    def agent_task_gateway_token(self, request, task_id):
        return self._call(self.agent_lane.task_gateway_token, agent_credentials(request), task_id,
                          read_json(request, ps.ChallengeInput))

    @route("POST", V1 + "/agents/tasks/<task_id>/report", "Agent: the task is done, or it failed", "SERMI",
           body=ps.TaskReport, answer=ps.TaskOut,
           errors=((401, "unknown agent or wrong credential"), (404, "not this agent's task")), lane="agents")
    def agent_task_report(self, request, task_id):
        return self._call(self.agent_lane.task_report, agent_credentials(request), task_id,
                          read_json(request, ps.TaskReport))

    # ---- the audit trail ----

    @route("GET", V1 + "/audit/trail", "The workshop's audit trail, newest first (`vin`, `user_id`, `kind`, `since`, "
           "`until`, `limit`): the owner and admins see the workshop's, a technician their own; as CSV with "
           "`Accept: text/csv`", "audit", query=aus.TrailQuery, answer=aus.Trail,
           errors=(UNAUTHENTICATED, (422, "a parameter breaks a rule")))
    def audit_trail(self, request):
        actor = self.auth.caller(request).actor()
        if request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv":
            found = self._call(self.audit.export_trail, actor, single_query(request))
            return Response(trail_csv(found["entries"]), mimetype="text/csv", headers={
                "Content-Disposition": 'attachment; filename="aos-audit-trail.csv"'})
        return self._call(self.audit.trail, actor, single_query(request))


def trail_csv(entries):
    """The trail as a spreadsheet opens it: one entry a row, the fact's detail as JSON in its last column."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["occurred_at", "kind", "summary", "vin", "user_id", "seq", "hash", "detail"])
    for e in entries:
        writer.writerow([as_text(cell) for cell in (
            e["occurred_at"], e["kind"], e["summary"], e["vin"] or "", e["user_id"] or "", e["seq"], e["hash"],
            json.dumps(e["detail"], ensure_ascii=False, sort_keys=True))])
    return out.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text(cell):
    """A cell a spreadsheet would run as a formula (a name or a complaint typed as =HYPERLINK(...)) is written with
    a leading apostrophe, which makes it text (OWASP's CSV injection rule)."""
    text = str(cell)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def agent_credentials(request):
    """`Authorization: Agent <agent id>:<credential>`, as given at registration."""
    kind, _, value = request.headers.get("Authorization", "").partition(" ")
    agent_id, _, credential = value.strip().partition(":")
    if kind != "Agent" or not agent_id or not credential:
        raise Unauthenticated("AGENT_CREDENTIAL_MISSING", "Send `Authorization: Agent <agent id>:<credential>`.")
    return {"agent_id": agent_id, "credential": credential}


def query(request):
    """Query parameters as lists (a repeated one stays visible to the service's schema, which refuses it)."""
    return jsonread.check(request.args.to_dict(flat=False), "query")


def single_query(request):
    """Query parameters, one value each."""
    return jsonread.check(dict(request.args), "query")


def idempotency_key(request):
    key = request.headers.get("Idempotency-Key")
    if not key:
        raise BadRequest("IDEMPOTENCY_KEY_REQUIRED", "Send an `Idempotency-Key` header (a new UUID per purchase): "
                         "a retry with the same key is then charged once.", {"header": "Idempotency-Key"})
    return key
