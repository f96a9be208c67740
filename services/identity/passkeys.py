"""Passkeys (WebAuthn) as a second factor beside TOTP, phishing-resistant: the key signs a challenge for this
portal's origin only. The ceremonies' rules, over the maintained `webauthn` library; no storage, no network."""
import json
import secrets
from urllib.parse import urlparse

from webauthn import (generate_authentication_options, generate_registration_options, options_to_json,
                      verify_authentication_response, verify_registration_response)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (AuthenticatorSelectionCriteria, PublicKeyCredentialDescriptor,
                                      ResidentKeyRequirement, UserVerificationRequirement)

from services.shared.errors import Unauthenticated, invalid_field

RP_NAME = "AOS"


def rp_id(origin):
    """The relying party: the portal's host name (a passkey works on this portal only)."""
    return urlparse(origin).hostname


def new_challenge():
    return secrets.token_bytes(32)


def creation_options(origin, user, challenge, existing_ids):
    """What the browser needs to make a passkey for `user`, none of `existing_ids` again."""
    options = generate_registration_options(
        rp_id=rp_id(origin), rp_name=RP_NAME, user_id=user.id.encode(), user_name=user.email,
        user_display_name=user.name, challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(i)) for i in existing_ids])
    return json.loads(options_to_json(options))


def request_options(origin, challenge, allowed_ids):
    options = generate_authentication_options(
        rp_id=rp_id(origin), challenge=challenge,
        allow_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(i)) for i in allowed_ids],
        user_verification=UserVerificationRequirement.PREFERRED)
    return json.loads(options_to_json(options))


def registered(origin, challenge, credential):
    """(credential id, public key, sign count) of a new passkey, or InvalidInput naming `credential`."""
    try:
        verified = verify_registration_response(credential=credential, expected_challenge=challenge,
                                                expected_rp_id=rp_id(origin), expected_origin=origin.rstrip("/"))
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise invalid_field("PASSKEY_INVALID", "credential", "webauthn", f"The passkey was not accepted: {exc}")
    return (bytes_to_base64url(verified.credential_id), bytes_to_base64url(verified.credential_public_key),
            verified.sign_count)


def credential_id(credential):
    found = credential.get("id") if isinstance(credential, dict) else None
    if not isinstance(found, str) or not found:
        raise invalid_field("PASSKEY_INVALID", "credential", "webauthn", "The credential has no id.")
    return found


def asserted(origin, challenge, credential, public_key, sign_count):
    """The new sign count once the key's signature over the challenge checks out; otherwise PASSKEY_WRONG."""
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id(origin),
            expected_origin=origin.rstrip("/"), credential_public_key=base64url_to_bytes(public_key),
            credential_current_sign_count=sign_count)
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise Unauthenticated("PASSKEY_WRONG", "The passkey's answer did not check out; try again.",
                              {"field": "credential", "rule": "webauthn"})
    return verified.new_sign_count


def encode(challenge):
    return bytes_to_base64url(challenge)


def decode(text):
    return base64url_to_bytes(text)
