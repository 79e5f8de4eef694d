"""The identity provider (OpenID Connect, with Authlib): its metadata, its keys, and the tokens it signs.

Configured by TOVHOLDER_OIDC_* (engine.settings); `provider_for(app)` gives
the app's Provider, or None when no provider is configured. It is made again
when the settings change, so its caches never outlive a configuration.

- **Web login** (api/web/oidc_login.py): authorization code flow with PKCE
  (S256), a fresh `state` and `nonce` per attempt (`start_login`), the code
  exchanged with Authlib's client (`finish_login`), and the ID token checked:
  signature against the provider's keys, issuer, audience (the client id),
  expiry and issue time, nonce, `azp` and `at_hash` (Authlib's CodeIDToken).
- **Bearer tokens** (api/deps.py): a JWT the provider signed is accepted by
  the API when its issuer, audience (TOVHOLDER_OIDC_AUDIENCE, default the
  client id) and expiry hold (`check_bearer`).
- **Keys**: the discovery document (`/.well-known/openid-configuration`,
  whose `issuer` must be the configured one) and the key set (`jwks_uri`)
  are fetched when first needed and cached; a token signed with a key id the
  cache does not know (or, naming no key, not verified by the cached one)
  makes one fetch of the keys again (a provider rolled its keys), at most
  once per KEY_REFRESH so that made-up tokens cannot make Tovholder hammer
  the provider. Only asymmetric algorithms the
  provider announces are accepted: never `none`, never an HMAC keyed with
  something a client knows.

Time comes from engine.clock (tests move it). Nothing here touches the
database; token contents are never logged.
"""
from __future__ import annotations

import logging
import threading
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import authlib.deprecate
import httpx
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.oauth2.claims import JWTClaims
from authlib.oidc.core import CodeIDToken
from fastapi import FastAPI
from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from engine import clock
from engine.errors import EngineError, Unauthorized
from engine.group_map import GroupMap, GroupMapError, GroupMapFile
from engine.oidc_accounts import Identity, identity_from_claims
from engine.settings import Settings, https_or_loopback

with warnings.catch_warnings():
    # Authlib 1.9 prefers the httpx2 fork and warns when it falls back to httpx, which we ship (pinned)
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client

log = logging.getLogger("tovholder.oidc")
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
METADATA_TTL = timedelta(hours=1)
KEY_REFRESH = timedelta(seconds=60)
FAILURE_PAUSE = timedelta(seconds=10)
LEEWAY_SECONDS = 60  # clock skew between the provider and this server
TIMEOUT_SECONDS = 10.0
MAX_TOKEN_CHARS = 16384


class ProviderUnavailable(EngineError):
    """The identity provider did not answer, or answered something that is not OpenID Connect (503)."""
    status = 503


class TokenRejected(Unauthorized):
    """A token the provider did not sign for us, or no longer valid (401); `why` is for the log only."""

    def __init__(self, why: str):
        super().__init__("the token is invalid or has expired (its signature, issuer, audience and expiry are checked)")
        self.why = why


@dataclass(frozen=True)
class LoginStart:
    url: str  # where the browser goes at the provider
    state: str
    nonce: str
    verifier: str  # PKCE code verifier; only its S256 challenge travels in the URL


class Provider:
    def __init__(self, settings: Settings):
        assert settings.oidc_issuer and settings.oidc_client_id and settings.oidc_group_map
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.client_id = settings.oidc_client_id
        self.client_secret = settings.oidc_client_secret
        self.audience = settings.oidc_audience or settings.oidc_client_id
        self.scopes = settings.oidc_scopes
        self.name = settings.oidc_name
        self.groups_claim = settings.oidc_groups_claim
        self.username_claim = settings.oidc_username_claim
        self.groups = GroupMapFile(settings.oidc_group_map)
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at: datetime | None = None
        self._keys: KeySet | None = None
        self._keys_at: datetime | None = None
        self._failed_at: datetime | None = None

    # -- the provider's documents ---------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            now = clock.now()
            if self._metadata is None or self._metadata_at is None or now - self._metadata_at > METADATA_TTL:
                if self._failed_at is not None and now - self._failed_at < FAILURE_PAUSE:
                    # a provider that is down is asked again after a pause, not by every waiting request
                    raise ProviderUnavailable("the identity provider does not answer; try again later")
                try:
                    self._metadata = self._discover()
                except ProviderUnavailable:
                    self._failed_at = now
                    raise
                self._metadata_at, self._failed_at = now, None
            return self._metadata

    def _discover(self) -> dict[str, Any]:
        doc = _get_json(self.issuer + "/.well-known/openid-configuration")
        if not isinstance(doc.get("issuer"), str) or doc["issuer"].rstrip("/") != self.issuer:
            raise ProviderUnavailable("the identity provider's discovery document names another issuer than "
                                      "TOVHOLDER_OIDC_ISSUER")
        for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(doc.get(field), str) or not https_or_loopback(doc[field]):
                raise ProviderUnavailable(f"the identity provider's discovery document has no usable {field}")
        return doc

    def key_set(self, *, unknown_kid: bool = False) -> KeySet:
        """The provider's keys: cached; fetched again for an unknown key id, at most once per KEY_REFRESH."""
        uri = self.metadata()["jwks_uri"]
        with self._lock:
            now = clock.now()
            stale = unknown_kid and (self._keys_at is None or now - self._keys_at >= KEY_REFRESH)
            if self._keys is None or stale:
                self._keys = _import_keys(_get_json(uri))
                self._keys_at = now
            return self._keys

    def algorithms(self) -> list[str]:
        announced = self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
        return [alg for alg in ASYMMETRIC if alg in announced]

    def group_map(self) -> GroupMap | GroupMapError:
        try:
            return self.groups.current()
        except GroupMapError as exc:
            return exc

    # -- web login ------------------------------------------------------------------------------

    def start_login(self, redirect_uri: str) -> LoginStart:
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        with OAuth2Client(self.client_id, scope=self.scopes, redirect_uri=redirect_uri,
                          code_challenge_method="S256") as client:
            url, _ = client.create_authorization_url(self.metadata()["authorization_endpoint"], state=state,
                                                     nonce=nonce, code_verifier=verifier)
        return LoginStart(url, state, nonce, verifier)

    def finish_login(self, *, code: str, redirect_uri: str, verifier: str, nonce: str) -> Identity:
        """Exchange the code (with the PKCE verifier) and check the ID token; TokenRejected if it fails a check."""
        metadata = self.metadata()
        try:
            with OAuth2Client(self.client_id, self.client_secret, redirect_uri=redirect_uri,
                              token_endpoint_auth_method=self._client_auth(metadata),
                              timeout=TIMEOUT_SECONDS) as client:
                token = client.fetch_token(metadata["token_endpoint"], grant_type="authorization_code", code=code,
                                           code_verifier=verifier)
        except OAuthError as exc:
            log.warning("oidc: the token endpoint refused the code (%s)", exc.error)
            raise TokenRejected(f"token endpoint: {exc.error}") from None
        except (httpx.HTTPError, ValueError):
            raise ProviderUnavailable("the identity provider's token endpoint did not answer") from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise TokenRejected("no id_token in the token response")
        header, claims = self._verified(id_token)
        params = {"nonce": nonce, "client_id": self.client_id}
        if isinstance(token.get("access_token"), str):
            params["access_token"] = token["access_token"]
        self._validate(CodeIDToken(claims, header, self._claim_options(self.client_id), params))
        if not claims.get("nonce"):  # the library checks a nonce that is there; ours is always sent
            raise TokenRejected("the ID token carries no nonce")
        return self.identity(claims)

    def _client_auth(self, metadata: dict[str, Any]) -> str:
        if not self.client_secret:
            return "none"  # a public client: PKCE alone
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        return "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"

    # -- bearer tokens ----------------------------------------------------------------------------

    def check_bearer(self, token: str) -> Identity:
        """A token the provider signed for this API, still valid; TokenRejected otherwise."""
        header, claims = self._verified(token)
        self._validate(JWTClaims(claims, header, self._claim_options(self.audience)))
        return self.identity(claims)

    def identity(self, claims: dict[str, Any]) -> Identity:
        return identity_from_claims(claims, groups_claim=self.groups_claim, username_claim=self.username_claim)

    # -- checks -----------------------------------------------------------------------------------

    def _verified(self, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Header and claims of a JWT whose signature one of the provider's keys verifies."""
        if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
            raise TokenRejected("not a signed JWT")
        algorithms = self.algorithms()
        keys = self.key_set()
        try:
            try:
                decoded = jwt.decode(token, keys, algorithms=algorithms)
            except (InvalidKeyIdError, BadSignatureError):
                # The provider may have rolled its keys since they were cached: an unknown key id, or a token
                # without one (it names no key) that the cached key does not verify. Tried again only with
                # keys fetched anew.
                fresh = self.key_set(unknown_kid=True)
                if fresh is keys:
                    raise
                decoded = jwt.decode(token, fresh, algorithms=algorithms)
        except (JoseError, ValueError, TypeError) as exc:
            raise TokenRejected(f"signature: {type(exc).__name__}") from None
        return dict(decoded.header), dict(decoded.claims)

    def _claim_options(self, audience: str) -> dict[str, dict[str, Any]]:
        required = {"essential": True}
        return {"iss": {**required, "value": self.metadata()["issuer"]}, "aud": {**required, "value": audience},
                "exp": required, "iat": required, "sub": required}

    @staticmethod
    def _validate(claims: JWTClaims) -> None:
        try:
            claims.validate(now=int(clock.now().timestamp()), leeway=LEEWAY_SECONDS)
        except JoseError as exc:
            raise TokenRejected(f"claims: {type(exc).__name__} {getattr(exc, 'description', '')}") from None


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=TIMEOUT_SECONDS, follow_redirects=False)
        response.raise_for_status()
        doc = response.json()
    except (httpx.HTTPError, ValueError):
        log.warning("oidc: the identity provider did not answer with JSON at one of its endpoints")
        raise ProviderUnavailable("the identity provider does not answer; try again later") from None
    if not isinstance(doc, dict):
        raise ProviderUnavailable("the identity provider answered something that is not OpenID Connect")
    return doc


def _import_keys(doc: dict[str, Any]) -> KeySet:
    """The signing keys of a JWKS document; encryption keys and kinds the library cannot read are left out."""
    usable = []
    for item in doc.get("keys") or []:
        if not isinstance(item, dict) or item.get("use", "sig") != "sig" or item.get("kty") == "oct":
            continue
        try:
            KeySet.import_key_set({"keys": [item]})
        except (JoseError, ValueError, TypeError):
            continue
        usable.append(item)
    if not usable:
        raise ProviderUnavailable("the identity provider publishes no signing keys Tovholder can use")
    return KeySet.import_key_set({"keys": usable})


def provider_for(app: FastAPI) -> Provider | None:
    """The app's identity provider under its current settings, or None without TOVHOLDER_OIDC_ISSUER."""
    settings: Settings = app.state.settings
    if not settings.oidc_issuer:
        return None
    cached = getattr(app.state, "oidc_provider", None)
    if cached is None or cached[0] is not settings:
        cached = (settings, Provider(settings))
        app.state.oidc_provider = cached
    return cached[1]
