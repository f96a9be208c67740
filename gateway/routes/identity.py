"""Identity's routes: registration, sign-in with the second factor, passkeys, the address and passwords, the workshop's
users."""
from gateway.http import FORBIDDEN, THROTTLED, UNAUTHENTICATED, V1, read_json, route
from services.identity import schemas as ids
from services.shared.schemas import Empty


class Routes:
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
