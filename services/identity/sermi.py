"""The SERMI trust centre, as identity reaches it: an OpenID provider (authorization code with PKCE, through
authlib) whose ID token says who authorised a technician, for which workshop and as whom. The ID token is checked
here (signature against the provider's published keys, issuer, audience, expiry, and the nonce of this very
sign-in); what its claims must say is domain.sermi_refusal's. Whether a technician is still authorised is asked
again at the trust centre (its userinfo) when security-related work is asked for."""
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from services.shared.errors import Unauthenticated, Unavailable

ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]
SCOPE = "openid sermi"


class TrustCentre:
    """One OpenID provider: its metadata and keys read when first needed, and again when a key is not known."""

    def __init__(self, issuer, client_id, redirect_uri, timeout=10):
        self.issuer, self.client_id, self.redirect_uri, self.timeout = issuer.rstrip("/"), client_id, redirect_uri, timeout
        self._meta, self._keys = None, None

    def _get(self, url, **kwargs):
        try:
            return requests.get(url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise Unavailable("TRUST_CENTRE_UNAVAILABLE", "The SERMI trust centre is not answering; please try "
                              "again shortly.") from exc

    def _json(self, url):
        """A document the trust centre publishes (its configuration, its keys); anything else: it is not there."""
        answer = self._get(url)
        try:
            if answer.status_code != 200:
                raise ValueError(answer.status_code)
            return answer.json()
        except ValueError as exc:
            raise Unavailable("TRUST_CENTRE_UNAVAILABLE", f"The SERMI trust centre does not publish {url} as it "
                              "should.") from exc

    def meta(self):
        if self._meta is None:
            self._meta = self._json(f"{self.issuer}/.well-known/openid-configuration")
        return self._meta

    def _client(self):
        return OAuth2Session(self.client_id, redirect_uri=self.redirect_uri, scope=SCOPE, code_challenge_method="S256")

    def start(self):
        """A new sign-in at the trust centre: (where to send the browser, state, nonce, PKCE verifier)."""
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        url, _ = self._client().create_authorization_url(self.meta()["authorization_endpoint"], state=state,
                                                         nonce=nonce, code_verifier=verifier, max_age=0)
        return url, state, nonce, verifier

    def finish(self, code, verifier):
        """The authorization code traded for tokens (the verifier proves it is this sign-in's code)."""
        try:
            return self._client().fetch_token(self.meta()["token_endpoint"], code=code, code_verifier=verifier,
                                              grant_type="authorization_code", timeout=self.timeout)
        except requests.RequestException as exc:
            raise Unavailable("TRUST_CENTRE_UNAVAILABLE", "The SERMI trust centre is not answering.") from exc
        except Exception as exc:  # authlib's OAuth errors: the trust centre refused the code
            raise Unauthenticated("SERMI_CODE_REFUSED", "The trust centre did not confirm this sign-in; please sign "
                                  "in there again.") from exc

    def id_claims(self, id_token, nonce, now):
        """The ID token's claims once its signature, issuer, audience, expiry and nonce hold; else refused."""
        for fresh in (False, True):
            try:
                token = jwt.decode(id_token, self._key_set(fresh), algorithms=ALGORITHMS)
                break
            except (JoseError, ValueError) as exc:
                if fresh:
                    raise Unauthenticated("SERMI_ID_TOKEN_INVALID", "The trust centre's ID token is not valid "
                                          "(signature or form).", {"reason": type(exc).__name__}) from exc
        rules = jwt.JWTClaimsRegistry(now=int(now.timestamp()), leeway=30, iss={"essential": True,
                                      "value": self.issuer}, aud={"essential": True, "value": self.client_id},
                                      nonce={"essential": True, "value": nonce}, exp={"essential": True},
                                      sub={"essential": True})
        try:
            rules.validate(token.claims)
        except JoseError as exc:
            raise Unauthenticated("SERMI_ID_TOKEN_INVALID", f"The trust centre's ID token does not hold: "
                                  f"{exc.description or type(exc).__name__}.", {"reason": type(exc).__name__}) from exc
        return token.claims

    def _key_set(self, fresh):
        if self._keys is None or fresh:
            self._keys = KeySet.import_key_set(self._json(self.meta()["jwks_uri"]))
        return self._keys

    def still_authorised(self, access_token):
        """The trust centre's word now: its userinfo answers for a technician it still authorises."""
        answer = self._get(self.meta()["userinfo_endpoint"], headers={"Authorization": f"Bearer {access_token}"})
        return answer.status_code == 200
