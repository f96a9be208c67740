"""The identity service: its RPC entrypoints, each validating its input and handing over to a use case."""
from datetime import datetime, timezone

from nameko.timer import timer

from services.identity.contracts import FACTS as IDENTITY
from services.identity import schemas as s
from services.identity import use_cases
from services.identity.dependencies import Credentials
from services.identity.models import OutboxMessage, ProcessedEvent
from services.shared.database import Database
from services.shared.caller import Proof, api
from services.shared.logs import Correlation
from services.shared.mail import Mailer
from services.shared.metrics import Metrics
from services.shared.schemas import dump, load
from services.shared.lease import one_replica



class IdentityService:
    name = "identity"
    proof = Proof()  # the caller's token, checked (services.shared.caller)

    db = Database(OutboxMessage, ProcessedEvent, IDENTITY)
    credentials = Credentials()
    mailer = Mailer()
    metrics = Metrics()
    correlation = Correlation()

    def _ctx(self):
        c = self.credentials
        return use_cases.Context(self.db, c.passwords, c.signer, c.policy, datetime.now(timezone.utc),
                                 mailer=self.mailer, portal_url=c.portal_url, trust_centre=c.trust_centre)

    @api
    def ping(self):
        return "pong"

    @timer(interval=60)
    @one_replica("forget-attempts")
    def forget_old_attempts(self):
        use_cases.forget_old_attempts(self._ctx())

    @api
    def register_operator(self, payload):
        return dump(s.MailSent, use_cases.register_operator(self._ctx(), load(s.RegisterOperator, payload)))

    @api
    def login(self, payload, address):
        return dump(s.LoginAnswer, use_cases.login(self._ctx(), load(s.Login, payload), address))

    @api
    def second_factor(self, payload, address):
        return dump(s.SignedIn, use_cases.second_factor(self._ctx(), load(s.SecondFactor, payload), address))

    @api
    def start_totp_enrolment(self, holder):
        return dump(s.Enrolment, use_cases.start_enrolment(self._ctx(), holder["user_id"]))

    @api
    def confirm_totp_enrolment(self, holder, payload, address):
        return dump(s.Confirmed, use_cases.confirm_enrolment(self._ctx(), holder["user_id"], load(s.ConfirmTotp, payload),
                                                             address))

    @api
    def verify_email(self, payload):
        return dump(s.Verified, use_cases.verify_email(self._ctx(), load(s.VerifyEmail, payload)))

    @api
    def resend_verification(self, holder):
        return dump(s.MailSent, use_cases.resend_verification(self._ctx(), holder["user_id"]))

    @api
    def forgot_password(self, payload, address):
        return dump(s.MailSent, use_cases.forgot_password(self._ctx(), load(s.ForgotPassword, payload), address))

    @api
    def reset_password(self, payload):
        return dump(s.PasswordReset, use_cases.reset_password(self._ctx(), load(s.ResetPassword, payload)))

    @api
    def change_password(self, actor, payload, address):
        return dump(s.Tokens, use_cases.change_password(self._ctx(), actor["user_id"], load(s.ChangePassword, payload),
                                                        address))

    @api
    def passkey_options(self, actor):
        return dump(s.PasskeyOptions, use_cases.passkey_options(self._ctx(), actor["user_id"]))

    @api
    def add_passkey(self, actor, payload):
        return dump(s.PasskeyOut, use_cases.add_passkey(self._ctx(), actor["user_id"], load(s.AddPasskey, payload)))

    @api
    def passkeys(self, actor):
        return dump(s.PasskeyList, use_cases.list_passkeys(self._ctx(), actor["user_id"]))

    @api
    def remove_passkey(self, actor, passkey_id):
        return use_cases.remove_passkey(self._ctx(), actor["user_id"], passkey_id)

    @api
    def passkey_sign_in_options(self, payload):
        return dump(s.PasskeyOptions, use_cases.passkey_sign_in_options(self._ctx(), load(s.PasskeyOptionsQuery,
                                                                                          payload)))

    @api
    def passkey_sign_in(self, payload, address):
        return dump(s.SignedIn, use_cases.passkey_sign_in(self._ctx(), load(s.PasskeySignIn, payload), address))

    @api
    def refresh(self, payload):
        return dump(s.Tokens, use_cases.refresh(self._ctx(), load(s.Refresh, payload)))

    @api
    def logout(self, actor, payload):
        """Ends the login session the token belongs to (its `sid`), not one the caller names."""
        return use_cases.logout(self._ctx(), actor["user_id"], actor["session_id"], load(s.Logout, payload))

    @api
    def revocations(self, query):
        return dump(s.Revocations, use_cases.revocations(self._ctx(), load(s.RevocationsQuery, query)["since"]))

    @api
    def me(self, actor):
        return dump(s.Me, use_cases.me(self._ctx(), actor["user_id"]))

    # ---- SERMI ----

    @api
    def start_sermi_link(self, actor):
        return dump(s.SermiLinkStarted, use_cases.start_sermi_link(self._ctx(), actor))

    @api
    def complete_sermi_link(self, query, browser=None):
        """The browser's return from the trust centre: its state, not a token, says whose sign-in it was, and the
        secret its cookie brought back, that it is the browser that started it."""
        return dump(s.SermiOut, use_cases.complete_sermi_link(self._ctx(), load(s.SermiCallback, query), browser))

    @api
    def sermi(self, actor):
        return dump(s.SermiOut, use_cases.sermi_status(self._ctx(), actor))

    @api
    def sermi_check(self, actor):
        return dump(s.SermiOut, use_cases.sermi_check(self._ctx(), actor))

    @api
    def list_users(self, actor, operator_id):
        return dump(s.UserList, use_cases.list_users(self._ctx(), actor, operator_id))

    @api
    def invite_user(self, actor, operator_id, payload):
        return dump(s.Invitation, use_cases.invite_user(self._ctx(), actor, operator_id, load(s.InviteUser, payload)))

    @api
    def accept_invitation(self, payload):
        return dump(s.Joined, use_cases.accept_invitation(self._ctx(), load(s.AcceptInvitation, payload)))

    @api
    def reset_second_factor(self, actor, operator_id, user_id):
        return dump(s.UserOut, use_cases.reset_second_factor(self._ctx(), actor, operator_id, user_id))

    @api
    def change_user(self, actor, operator_id, user_id, payload):
        return dump(s.UserOut, use_cases.change_user(self._ctx(), actor, operator_id, user_id, load(s.ChangeUser, payload)))
