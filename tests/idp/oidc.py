"""A tiny OpenID Connect provider for the tests (authorization code flow), a WSGI app.

/.well-known/openid-configuration, /authorize (approves at once as `user`, the preferred_username to sign in
as), /token (an RS256 id_token signed with a key made at startup), /userinfo and /jwks. It checks the client
id and secret, the redirect URI on the way back and that each code is used once: enough to be a real party
to the exchange mozilla-django-oidc makes, not a general provider.
"""

from __future__ import annotations

import json
import secrets
import time
from urllib.parse import parse_qs, urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


class OIDCProvider:
    def __init__(self, client_id: str = "bureau-app", client_secret: str = "s3cret", user: str = ""):
        self.client_id, self.client_secret, self.user = client_id, client_secret, user
        self.issuer = ""  # set once served (the base URL)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(4)
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, str] = {}

    # --- endpoints ---------------------------------------------------------------------------------------
    def discovery(self, environ):
        base = self.issuer
        return 200, {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def authorize(self, environ):
        q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if q.get("client_id") != self.client_id or q.get("response_type") != "code" or "redirect_uri" not in q:
            return 400, {"error": "invalid_request"}
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"user": self.user, "nonce": q.get("nonce"), "redirect_uri": q["redirect_uri"]}
        sep = "&" if "?" in q["redirect_uri"] else "?"
        return 302, q["redirect_uri"] + sep + urlencode({"code": code, "state": q.get("state", "")})

    def token(self, environ):
        size = int(environ.get("CONTENT_LENGTH") or 0)
        form = {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(size).decode()).items()}
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return 401, {"error": "invalid_client"}
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant"}
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": f"sub-{grant['user']}", "aud": self.client_id, "iat": now,
                  "exp": now + 300, "preferred_username": grant["user"]}
        if grant["nonce"]:
            claims["nonce"] = grant["nonce"]
        id_token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})
        access_token = secrets.token_urlsafe(16)
        self.tokens[access_token] = grant["user"]
        return 200, {"access_token": access_token, "id_token": id_token, "token_type": "Bearer", "expires_in": 300}

    def userinfo(self, environ):
        auth = environ.get("HTTP_AUTHORIZATION", "")
        user = self.tokens.get(auth.removeprefix("Bearer "))
        if user is None:
            return 401, {"error": "invalid_token"}
        return 200, {"sub": f"sub-{user}", "preferred_username": user}

    def jwks(self, environ):
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid=self.kid, alg="RS256", use="sig")
        return 200, {"keys": [jwk]}

    # --- WSGI --------------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        routes = {"/.well-known/openid-configuration": self.discovery, "/authorize": self.authorize,
                  "/token": self.token, "/userinfo": self.userinfo, "/jwks": self.jwks}
        handler = routes.get(environ.get("PATH_INFO", ""))
        if handler is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        status, body = handler(environ)
        if status == 302:
            start_response("302 Found", [("Location", body)])
            return [b""]
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized"}[status]
        start_response(f"{status} {reason}", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]
