"""A tiny OpenID Connect provider for the tests (authorization code flow with PKCE), a WSGI app.

/.well-known/openid-configuration, /authorize (approves at once as `user`, the preferred_username to sign in
as, and opens a provider session), /token (an RS256 id_token signed with a key made at startup), /userinfo,
/jwks and /logout (the end_session endpoint of RP-Initiated Logout: ends the session named by the
id_token_hint and goes back to post_logout_redirect_uri). It checks the client id and secret, the redirect
URI on the way back, that each code is used once and, with `require_pkce` (the default), that the
authorization request carried an S256 code_challenge and the token request the code_verifier that hashes to
it (RFC 7636): enough to be a real party to the exchanges mozilla-django-oidc makes, not a general provider.
Switches for the negative tests: `id_token_claims` (claims put into, or as None taken out of, the id_tokens:
a wrong aud, iss, nonce, a past exp), `sign_with_foreign_key` (a signature no key in /jwks verifies) and
`userinfo_sub` (userinfo about another subject); `signed_userinfo` answers userinfo as a signed JWT.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from urllib.parse import parse_qs, urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


def s256(verifier: str) -> str:
    """BASE64URL(SHA256(ASCII(code_verifier))) without padding (RFC 7636 section 4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


class OIDCProvider:
    def __init__(self, client_id: str = "bureau-app", client_secret: str = "s3cret", user: str = ""):
        self.client_id, self.client_secret, self.user = client_id, client_secret, user
        self.issuer = ""  # set once served (the base URL)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(4)
        self.require_pkce = True
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, str] = {}
        self.sessions: dict[str, str] = {}  # provider session id (the id_token's sid) -> user
        self.ended: list[str] = []  # sessions ended through /logout, in order
        self.token_errors: list[str] = []  # why token requests were refused, in order
        # Switches for the negative tests: claims to put into (or, as None, take out of) the next id_tokens,
        # sign them with a key not in /jwks (same kid), answer userinfo about another subject.
        self.id_token_claims: dict = {}
        self.sign_with_foreign_key = False
        self.userinfo_sub: str | None = None
        self.signed_userinfo: dict | None = None  # answer userinfo as a signed JWT (application/jwt) with these claims

    # --- endpoints ---------------------------------------------------------------------------------------
    def discovery(self, environ):
        base = self.issuer
        return 200, {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks",
            "end_session_endpoint": f"{base}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        }

    def authorize(self, environ):
        q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if q.get("client_id") != self.client_id or q.get("response_type") != "code" or "redirect_uri" not in q:
            return 400, {"error": "invalid_request"}
        challenge, method = q.get("code_challenge"), q.get("code_challenge_method", "plain")
        if challenge and method != "S256":
            return 400, {"error": "invalid_request", "error_description": "only S256 is supported"}
        if self.require_pkce and not challenge:
            return 400, {"error": "invalid_request", "error_description": "PKCE required"}
        sid = secrets.token_urlsafe(8)
        self.sessions[sid] = self.user
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"user": self.user, "nonce": q.get("nonce"), "redirect_uri": q["redirect_uri"],
                            "challenge": challenge, "sid": sid}
        sep = "&" if "?" in q["redirect_uri"] else "?"
        return 302, q["redirect_uri"] + sep + urlencode({"code": code, "state": q.get("state", "")})

    def token(self, environ):
        size = int(environ.get("CONTENT_LENGTH") or 0)
        form = {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(size).decode()).items()}
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return 401, {"error": "invalid_client"}
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            self.token_errors.append("code")
            return 400, {"error": "invalid_grant"}
        if grant["challenge"] is not None:
            verifier = form.get("code_verifier")
            if not verifier or s256(verifier) != grant["challenge"]:
                self.token_errors.append("code_verifier")
                return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": f"sub-{grant['user']}", "aud": self.client_id, "iat": now,
                  "exp": now + 300, "preferred_username": grant["user"], "sid": grant["sid"]}
        if grant["nonce"]:
            claims["nonce"] = grant["nonce"]
        claims.update(self.id_token_claims)
        claims = {k: v for k, v in claims.items() if v is not None}
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if self.sign_with_foreign_key else self.key
        id_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.kid})
        access_token = secrets.token_urlsafe(16)
        self.tokens[access_token] = grant["user"]
        return 200, {"access_token": access_token, "id_token": id_token, "token_type": "Bearer", "expires_in": 300}

    def userinfo(self, environ):
        auth = environ.get("HTTP_AUTHORIZATION", "")
        user = self.tokens.get(auth.removeprefix("Bearer "))
        if user is None:
            return 401, {"error": "invalid_token"}
        claims = {"sub": self.userinfo_sub or f"sub-{user}", "preferred_username": user}
        if self.signed_userinfo is not None:  # OpenID Connect Core 5.3.2: iss and aud, no azp
            claims.update({"iss": self.issuer, "aud": self.client_id, **self.signed_userinfo})
            return 200, ("application/jwt", jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid}))
        return 200, claims

    def jwks(self, environ):
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid=self.kid, alg="RS256", use="sig")
        return 200, {"keys": [jwk]}

    def logout(self, environ):
        """end_session: the id_token_hint must be one of ours (signature, audience; it may have expired)."""
        q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        try:
            claims = jwt.decode(q.get("id_token_hint", ""), self.key.public_key(), algorithms=["RS256"],
                                audience=self.client_id, issuer=self.issuer, options={"verify_exp": False})
        except jwt.InvalidTokenError:
            return 400, {"error": "invalid_request", "error_description": "bad id_token_hint"}
        if q.get("client_id", self.client_id) != self.client_id:
            return 400, {"error": "invalid_request"}
        if self.sessions.pop(claims.get("sid", ""), None) is not None:
            self.ended.append(claims["sid"])
        if q.get("post_logout_redirect_uri"):
            return 302, q["post_logout_redirect_uri"]
        return 200, {"signed_out": True}

    # --- WSGI --------------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        routes = {"/.well-known/openid-configuration": self.discovery, "/authorize": self.authorize,
                  "/token": self.token, "/userinfo": self.userinfo, "/jwks": self.jwks, "/logout": self.logout}
        handler = routes.get(environ.get("PATH_INFO", ""))
        if handler is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        status, body = handler(environ)
        if status == 302:
            start_response("302 Found", [("Location", body)])
            return [b""]
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized"}[status]
        if isinstance(body, tuple):  # (content type, text)
            start_response(f"{status} {reason}", [("Content-Type", body[0])])
            return [body[1].encode()]
        start_response(f"{status} {reason}", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]
