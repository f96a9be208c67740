"""Identity's facts: workshops registered, users joined, sign-ins, revocations, SERMI links; and the words they use
(roles, why tokens were revoked). Each fact's one contract, which its publisher and every consumer import (the whole
catalogue: services/catalogue.py)."""
from marshmallow import fields, validate

from services.shared.events import Contract, Id, When, facts

ROLES = ("owner", "admin", "technician")
# a workshop works on cars; a data subscriber (a tool maker, a partner system) reads data and does not
OPERATOR_KINDS = ("workshop", "data_subscriber")
REVOCATION_REASONS = ("deactivated", "role_changed", "rights_changed", "signed_out", "password_reset",
                      "password_changed", "factor_reset")


class PostalAddress(Contract):
    street = fields.String(required=True)
    postal_code = fields.String(required=True)
    city = fields.String(required=True)


class OperatorRegistered(Contract):
    operator_id = Id()
    legal_name = fields.String(required=True)
    legal_form = fields.String(load_default=None, allow_none=True)
    kind = fields.String(load_default="workshop", validate=validate.OneOf(OPERATOR_KINDS))
    country = fields.String(required=True, validate=validate.Length(equal=2))
    vat_id = fields.String(allow_none=True, load_default=None)
    address = fields.Nested(PostalAddress, load_default=None, allow_none=True)
    contact_email = fields.Email(load_default=None, allow_none=True, metadata={
        "description": "the owner's address: where invoices and notices about access go"})
    registered_at = When()


class UserJoined(Contract):
    operator_id = Id()
    user_id = Id()
    email = fields.Email(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    joined_at = When()


class TokensRevoked(Contract):
    operator_id = Id()
    user_id = Id()
    session_id = fields.String(allow_none=True, load_default=None, validate=validate.Length(1, 64), metadata={
        "description": "one login session (the token's `sid`); none: every session of the user"})
    reason = fields.String(required=True, validate=validate.OneOf(REVOCATION_REASONS))
    revoked_at = When(metadata={"description": "access tokens issued up to this instant are refused"})


class SignedIn(Contract):
    """A user completed a sign-in with their second factor (for the audit trail)."""
    operator_id = Id()
    user_id = Id()
    session_id = Id(metadata={"description": "the login session (the tokens' `sid`)"})
    amr = fields.List(fields.String(validate=validate.OneOf(("pwd", "otp", "rec", "hwk"))), required=True,
                      metadata={"description": "how: password, authenticator code, recovery code, passkey"})
    signed_in_at = When()


class SignInFailed(Contract):
    """A password, code or passkey was wrong, or the account unknown or inactive (for the audit trail)."""
    operator_id = fields.String(allow_none=True, load_default=None, validate=validate.Length(1, 64), metadata={
        "description": "the account's workshop; none when no account has the address"})
    user_id = fields.String(allow_none=True, load_default=None, validate=validate.Length(1, 64))
    email = fields.String(required=True, validate=validate.Length(0, 254))
    failed_at = When()


class SermiLinked(Contract):
    """A technician's SERMI authorisation was confirmed by the trust centre at a sign-in there."""
    operator_id = Id()
    user_id = Id()
    authorisation_id = fields.String(required=True, validate=validate.Length(1, 100))
    cabuid = fields.String(required=True, validate=validate.Length(1, 100))
    chain = fields.Boolean(required=True, metadata={"description": "a remote employee acting for the workshop's"})
    linked_at = When()


class SermiRefused(Contract):
    """A technician's SERMI sign-in or security request was refused, with the rule it broke."""
    operator_id = Id()
    user_id = Id()
    reason = fields.String(required=True, validate=validate.Length(1, 64))
    refused_at = When()


FACTS = facts(
    "identity",
    OperatorRegistered=(OperatorRegistered, "A workshop company registered."),
    UserJoined=(UserJoined, "A user became active in a workshop."),
    TokensRevoked=(TokensRevoked, "A user's access tokens stop working: deactivated, role changed, signed out, or a "
                                  "password or second factor reset."),
    SignedIn=(SignedIn, "A user signed in with their second factor."),
    SignInFailed=(SignInFailed, "A sign-in failed: a wrong password, code or passkey, or an unknown or inactive "
                                "account."),
    SermiLinked=(SermiLinked, "A technician's SERMI authorisation was confirmed."),
    SermiRefused=(SermiRefused, "A SERMI sign-in or security request was refused."),
)
