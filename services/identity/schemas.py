"""Identity's RPC contract: what its entrypoints accept and answer. The gateway validates HTTP bodies with the
same schemas and builds the OpenAPI document from them, so the two cannot drift apart."""
import unicodedata

import idna
from marshmallow import ValidationError, fields, validate, validates_schema

from services.shared.countries import SUPPORTED as COUNTRIES
from services.identity.contracts import OPERATOR_KINDS, ROLES
from services.shared.schemas import Input, Output, Text

PASSWORD_MIN, PASSWORD_MAX = 12, 256  # a password manager's long ones too


def _scripts(text):
    """The writing systems of the letters in `text` (LATIN, CYRILLIC, GREEK, ...)."""
    return {unicodedata.name(ch, "UNKNOWN").split(" ")[0] for ch in text if ch.isalpha()}


def canonical_email(text):
    """The form an address is stored and compared in: Unicode NFKC, lower case, the domain in IDNA (xn--).
    Raises ValueError for an address that mixes writing systems in a part (`аnna@`, Cyrillic а): a look-alike."""
    text = unicodedata.normalize("NFKC", text).strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise ValueError("Not a valid email address.")
    local, domain = local.lower(), domain.lower().rstrip(".")
    for part in [local, *domain.split(".")]:
        if len(_scripts(part)) > 1:
            raise ValueError("Mixes letters of different alphabets (a look-alike address): type it in one.")
    try:
        domain = idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        raise ValueError("The domain is not a valid internationalised domain name.")
    return f"{local}@{domain}"


class EmailAddress(fields.Email):
    """An email address in its canonical form (canonical_email) before it is checked: people type
    ` Anna@Example.DE`, and look-alikes are refused."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            try:
                value = canonical_email(value)
            except ValueError as bad:
                raise ValidationError(str(bad))
        return super()._deserialize(value, attr, data, **kwargs)


Email = lambda **kw: EmailAddress(required=True, validate=validate.Length(max=254), **kw)  # noqa: E731
Password = lambda: fields.String(required=True, validate=validate.Length(min=1, max=PASSWORD_MAX))  # noqa: E731
TotpCode = lambda **kw: fields.String(validate=validate.Regexp(r"^\d{6}$", error="A code has 6 digits."), **kw)  # noqa: E731


class Address(Input):
    street = Text(200)
    postal_code = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$", error="Not a postal code: 2 to 10 letters, digits, spaces or dashes."))
    city = Text(100)


class OperatorInput(Input):
    legal_name = Text(200)
    legal_form = Text(60)
    kind = fields.String(load_default="workshop", validate=validate.OneOf(
        OPERATOR_KINDS, error="A workshop (works on cars) or a data_subscriber (a tool maker's or partner's systems "
        "read the data)."))
    country = fields.String(required=True, validate=validate.OneOf(COUNTRIES, error="Not a supported country code."))
    vat_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=4, max=20))
    address = fields.Nested(Address, required=True)


class OwnerInput(Input):
    email = Email()
    name = Text(200)
    password = Password()


class RegisterOperator(Input):
    operator = fields.Nested(OperatorInput, required=True)
    owner = fields.Nested(OwnerInput, required=True)


DeviceToken = lambda: fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000), metadata={  # noqa: E731
    "description": "the device token a sign-in on this browser or app returned: failures elsewhere do not lock it out"})


class Login(Input):
    email = Email()
    password = Password()
    device_token = DeviceToken()


class OneFactor(Input):
    """Either a TOTP code or one of the recovery codes."""
    code = TotpCode(load_default=None)
    recovery_code = fields.String(load_default=None, validate=validate.Length(min=12, max=20))

    @validates_schema
    def one_factor(self, data, **kwargs):
        if (data.get("code") is None) == (data.get("recovery_code") is None):
            raise ValidationError("Send either `code` or `recovery_code`, not both or neither.", "code")


class SecondFactor(OneFactor):
    challenge = Text(2000)
    device_token = DeviceToken()


class ConfirmTotp(Input):
    code = TotpCode(required=True)
    device_token = DeviceToken()


class Refresh(Input):
    refresh_token = Text(200)


class Logout(Input):
    refresh_token = fields.String(load_default=None, validate=validate.Length(max=200))


class InviteUser(Input):
    email = Email()
    name = Text(200)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class AcceptInvitation(Input):
    token = Text(200)
    password = Password()


class SpendingRights(Input):
    may_buy = fields.Boolean(truthy={True}, falsy={False}, metadata={
        "description": "buy tariffs and tools with the workshop's credit"})
    may_pay_on_invoice = fields.Boolean(truthy={True}, falsy={False}, metadata={
        "description": "order tools on the workshop's invoice (with may_buy)"})
    monthly_budget_cents = fields.Integer(allow_none=True, validate=validate.Range(0, 100_000_000), metadata={
        "description": "the most this user may spend in a calendar month, gross; null: no limit"})


class VerifyEmail(Input):
    token = Text(200)


class ForgotPassword(Input):
    email = Email()


class ResetPassword(Input):
    token = Text(200)
    password = Password()


class ChangePassword(OneFactor):
    """The current password and the second factor (a TOTP code or a recovery code), then the new password."""
    current_password = Password()
    new_password = Password()


class AddPasskey(Input):
    ceremony = Text(4000, metadata={"description": "from POST /auth/passkeys/options"})
    credential = fields.Dict(required=True, metadata={"description": "the browser's credential, as its toJSON()"})
    name = Text(100, metadata={"description": "what you call it, e.g. 'workshop laptop'"})


class PasskeyOptionsQuery(Input):
    challenge = Text(2000, metadata={"description": "the login's challenge"})


class PasskeySignIn(Input):
    challenge = Text(2000)
    ceremony = Text(4000)
    credential = fields.Dict(required=True, metadata={"description": "the browser's assertion, as its toJSON()"})
    device_token = DeviceToken()


class ChangeUser(Input):
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean(truthy={True}, falsy={False})
    spending = fields.Nested(SpendingRights)


# ---- answers ----

class AddressOut(Output):
    street = fields.String()
    postal_code = fields.String()
    city = fields.String()


class OperatorOut(Output):
    id = fields.String()
    legal_name = fields.String()
    legal_form = fields.String()
    kind = fields.String()
    country = fields.String()
    vat_id = fields.String(allow_none=True)
    address = fields.Nested(AddressOut)
    registered_at = fields.DateTime()


class SpendingOut(Output):
    may_buy = fields.Boolean()
    on_invoice = fields.Boolean()
    monthly_budget_cents = fields.Integer(allow_none=True)


class UserOut(Output):
    id = fields.String()
    operator_id = fields.String()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    active = fields.Boolean()
    second_factor = fields.String(metadata={"description": "`totp` once confirmed, `none` before"})
    status = fields.String(metadata={"description": "`invited` until the invitation is accepted, then `member`"})
    created_at = fields.DateTime()
    spending = fields.Nested(SpendingOut, metadata={"description": "what the user may spend (an owner: anything)"})
    email_verified = fields.Boolean(metadata={"description": "the address is confirmed: purchases need it"})


class Me(Output):
    user = fields.Nested(UserOut)
    operator = fields.Nested(OperatorOut)
    roles = fields.List(fields.String())


class Tokens(Output):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    refresh_token = fields.String()


class LoginAnswer(Output):
    next = fields.String(metadata={"description": "`totp`: send the challenge with a code; `enrol`: enrol a factor"})
    challenge = fields.String(metadata={"description": "with next=totp: pass it to POST /auth/totp"})
    enrolment_token = fields.String(metadata={"description": "with next=enrol: a token that can only enrol TOTP"})
    factors = fields.List(fields.String(), metadata={"description": "with next=totp: the second factors this "
                                                                    "account can answer with (totp, recovery_code, passkey)"})
    expires_in = fields.Integer()


class PasskeyOptions(Output):
    options = fields.Dict(metadata={"description": "WebAuthn options as JSON (PublicKeyCredential.parse…FromJSON)"})
    ceremony = fields.String(metadata={"description": "send it back with the credential, within 5 minutes"})


class PasskeyOut(Output):
    id = fields.String()
    name = fields.String()
    created_at = fields.AwareDateTime()
    last_used_at = fields.AwareDateTime(allow_none=True)


class PasskeyList(Output):
    passkeys = fields.List(fields.Nested(PasskeyOut))


class Verified(Output):
    email = fields.String()
    verified = fields.Boolean()


class MailSent(Output):
    sent = fields.Boolean()
    sent_to = fields.String()
    message = fields.String()


class PasswordReset(Output):
    reset = fields.Boolean()


class Joined(Output):
    user = fields.Nested(UserOut)
    enrolment_token = fields.String()


class Enrolment(Output):
    secret = fields.String()
    otpauth_uri = fields.String()
    qr_svg = fields.String(metadata={"description": "the otpauth URI as a QR code, SVG"})


class SignedIn(Tokens):
    device_token = fields.String(metadata={"description": "keep it on this device and send it with the next sign-in"})


class Confirmed(SignedIn):
    recovery_codes = fields.List(fields.String(), metadata={"description": "shown once; each works once"})


class Invitation(Output):
    user = fields.Nested(UserOut)
    invitation_token = fields.String()
    expires_at = fields.DateTime()


class UserList(Output):
    users = fields.List(fields.Nested(UserOut))


# ---- for the gateway's revocation read model ----

class RevocationsQuery(Input):
    since = fields.AwareDateTime(required=True)


class RevocationOut(Output):
    user_id = fields.String()
    session_id = fields.String(allow_none=True)
    reason = fields.String()
    revoked_at = fields.AwareDateTime()


class Revocations(Output):
    revocations = fields.List(fields.Nested(RevocationOut))


class SermiCallback(Input):
    """What the trust centre hands back through the browser (OpenID Connect's authorization response)."""
    state = fields.String(required=True, validate=validate.Length(1, 64))
    code = fields.String(load_default=None, validate=validate.Length(1, 512))
    iss = fields.String(load_default=None, validate=validate.Length(1, 300))
    error = fields.String(load_default=None, validate=validate.Length(1, 100))
    error_description = fields.String(load_default=None, validate=validate.Length(0, 500))


class SermiLinkOut(Output):
    authorization_url = fields.String(metadata={"description": "where the technician signs in at the trust centre"})
    expires_in = fields.Integer()


class SermiLinkStarted(SermiLinkOut):
    """What identity answers the gateway: the link, and the secret the gateway keeps in the browser's cookie (never
    in the answer's body), which the trust centre's answer must bring back."""
    browser_binding = fields.String()


class SermiOut(Output):
    linked = fields.Boolean()
    authorisation_id = fields.String(metadata={"description": "the employee's SERMI authorisation (IOEUID)"})
    body = fields.String(metadata={"description": "the conformity assessment body (CABUID)"})
    country = fields.String()
    workshop = fields.Dict(metadata={"description": "the workshop the authorisation is for (IOUID)"})
    chain = fields.Dict(allow_none=True, metadata={"description": "a remote employee's chain authorisation"})
    authenticated_at = fields.AwareDateTime(metadata={"description": "the last sign-in at the trust centre"})
    fresh_until = fields.AwareDateTime(metadata={"description": "security-related work until then (15 minutes)"})
    fresh = fields.Boolean()
