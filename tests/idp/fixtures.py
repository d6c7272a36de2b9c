"""pytest fixtures that start the test identity providers and switch sign-in through them on (settings)."""

from __future__ import annotations

import copy

import pytest
import requests

from .cas import CASServer
from .oidc import OIDCProvider
from .server import serving

BACKENDS = ["axes.backends.AxesStandaloneBackend", "bureau.auth.RoleAwareBackend"]


def _allow_form_action(settings, base: str) -> None:
    """As config.settings does for the configured provider: the logout form's redirect goes there."""
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"].append(base)
    settings.CONTENT_SECURITY_POLICY = policy


@pytest.fixture
def oidc_provider(settings):
    """A running OIDC provider; settings read from its discovery document as an operator would copy them.
    Set `.user` to the identity (preferred_username) it approves."""
    provider = OIDCProvider()
    with serving(provider) as base:
        provider.issuer = base
        config = requests.get(f"{base}/.well-known/openid-configuration", timeout=5).json()
        settings.OIDC_ENABLED = True
        settings.OIDC_OP_ISSUER = config["issuer"]
        settings.OIDC_RP_CLIENT_ID = provider.client_id
        settings.OIDC_RP_CLIENT_SECRET = provider.client_secret
        settings.OIDC_OP_AUTHORIZATION_ENDPOINT = config["authorization_endpoint"]
        settings.OIDC_OP_TOKEN_ENDPOINT = config["token_endpoint"]
        settings.OIDC_OP_USER_ENDPOINT = config["userinfo_endpoint"]
        settings.OIDC_OP_JWKS_ENDPOINT = config["jwks_uri"]
        settings.OIDC_OP_LOGOUT_ENDPOINT = config["end_session_endpoint"]
        _allow_form_action(settings, base)
        settings.AUTHENTICATION_BACKENDS = [*BACKENDS, "bureau.sso.OIDCBackend"]
        yield provider


@pytest.fixture
def cas_server(settings):
    """A running CAS server; set `.user` to the identity it approves."""
    server = CASServer()
    with serving(server) as base:
        settings.CAS_ENABLED = True
        settings.CAS_SERVER_URL = f"{base}/cas/"
        _allow_form_action(settings, base)
        settings.AUTHENTICATION_BACKENDS = [*BACKENDS, "bureau.sso.CASSignInBackend"]
        yield server
