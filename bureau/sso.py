"""Sign-in through the bureau's identity provider (issue 19 item 3; docs/decisions.md): OpenID Connect through
mozilla-django-oidc and CAS through django-cas-ng, each off unless OIDC_ENABLED / CAS_ENABLED (settings).

Identities are matched, never given a role: the identity's name (the claim OIDC_USERNAME_CLAIM, or the CAS
user / attribute CAS_USERNAME_ATTRIBUTE) is looked up as a teacher's 工号 first (Teacher.staff_no -> the
teacher's account; a 工号 never signs in as any other account), else as an account's username (staff). The one account ever made here is a teacher's
who has none yet: a serving (在职) Teacher with that 工号 and no account gets one (username = 工号, no usable password),
with the teacher role through bureau.services.user_assign_role. Anything else is refused and the login page
says so (?sso=refused); staff accounts are never made here.

The backends load the signed-in user as bureau.auth.RoleAwareBackend does (role, school, teacher in one query,
cached under the user's versions), since Django asks the backend that signed a session in for its user.

Single sign-out: 退出 (bureau.views.LogoutView) of a session signed in through a provider ends the provider's
session too: OIDC through the end_session endpoint (RP-initiated logout, `oidc_logout_url`), CAS through the
server's /logout (django-cas-ng's logout view). The CAS server's back-channel logout (a SAML LogoutRequest
POSTed to the service URL, /cas/login/) ends ours through django-cas-ng's session-ticket table.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import resolve_url
from django_cas_ng import views as cas_views
from django_cas_ng.backends import CASBackend
from mozilla_django_oidc import views as oidc_views
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from .auth import RoleAwareBackend
from .choices import Role, Status
from .models import Teacher
from .roles import SYSTEM_USERNAME

logger = logging.getLogger(__name__)

REFUSED_URL = "/accounts/login/?sso=refused"
FAILED_URL = "/accounts/login/?sso=failed"  # the provider refused the exchange (e.g. a wrong PKCE verifier) or is out of reach


def match_identity(name: str):
    """The active account an identity named `name` signs in as, or None (refused). See the module docstring."""
    name = (name or "").strip()
    if not name or name == SYSTEM_USERNAME:
        return None
    teacher = Teacher.objects.select_related("user").filter(staff_no=name).first()
    if teacher is not None:  # a 工号 is that teacher's identity, never another account's
        if teacher.user_id is not None:
            return teacher.user
        if teacher.status != Status.ACTIVE:  # an account is made for a serving teacher only
            logger.info("SSO sign-in refused: the teacher matched has no account and is not serving")
            return None
        return _teacher_account(teacher)
    user = get_user_model()._default_manager.filter(username=name).first()
    if user is not None:
        return user
    logger.info("SSO sign-in refused: no teacher or account matches the identity")
    return None


def _teacher_account(teacher: Teacher):
    """An account for a teacher who has none, with the teacher role (and nothing else)."""
    from .services import system_user, user_assign_role

    try:
        with transaction.atomic():
            teacher = Teacher.objects.select_for_update().get(pk=teacher.pk)
            if teacher.user_id is not None:  # made meanwhile by another sign-in
                return teacher.user
            user = get_user_model()._default_manager.create(
                username=teacher.staff_no, first_name=teacher.name, password=make_password(None)
            )
            user_assign_role(user=user, role=Role.TEACHER, actor=system_user(), teacher=teacher)
    except IntegrityError:  # the 工号 is taken as the username of an account that is not this teacher's
        logger.warning("SSO sign-in refused: a teacher's staff number is another account's username")
        return None
    logger.info("SSO sign-in made a teacher account (user %s)", user.pk)
    return user


class OIDCBackend(RoleAwareBackend, OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, matching instead of creating (OIDC_CREATE_USER stays False)."""

    authenticate = OIDCAuthenticationBackend.authenticate  # not RoleAwareBackend's password check

    def verify_claims(self, claims):
        # No e-mail needed; a missing username claim matches nobody and is refused like an unknown identity
        # (returning False here would end the sign-in on a bare 400 page instead of the login page).
        return True

    def filter_users_by_claims(self, claims):
        user = match_identity(str(claims.get(settings.OIDC_USERNAME_CLAIM, "")))
        return [user] if user is not None else []

    def create_user(self, claims):  # never reached with OIDC_CREATE_USER False; refuse all the same
        return None

    def update_user(self, user, claims):  # the provider's name and address do not overwrite ours
        return user


class CASSignInBackend(RoleAwareBackend, CASBackend):
    """django-cas-ng's backend, matching instead of creating (CAS_CREATE_USER stays False)."""

    def authenticate(self, request, ticket=None, service=None, **kwargs):
        if ticket is None or service is None:  # a password sign-in: not ours
            return None
        from django_cas_ng.utils import get_cas_client

        client = get_cas_client(service_url=service, request=request)
        username, attributes, _ = client.verify_ticket(ticket)
        attr = settings.CAS_USERNAME_ATTRIBUTE
        if attr != "cas:user":
            username = (attributes or {}).get(attr)
        user = match_identity(str(username or ""))
        if user is None or not self.user_can_authenticate(user):
            return None
        return user


# --- Views --------------------------------------------------------------------------------------------------


def _require(flag: str):
    if not getattr(settings, flag, False):
        raise Http404


class OIDCAuthenticateView(oidc_views.OIDCAuthenticationRequestView):
    def get(self, request):
        _require("OIDC_ENABLED")
        return super().get(request)


class OIDCCallbackView(oidc_views.OIDCAuthenticationCallbackView):
    def get(self, request):
        _require("OIDC_ENABLED")
        try:
            return super().get(request)
        except requests.RequestException as exc:  # the token endpoint refused the code (or is out of reach)
            logger.warning("OIDC sign-in failed at the provider: %s", type(exc).__name__)
            return HttpResponseRedirect(FAILED_URL)

    @property
    def failure_url(self):
        return REFUSED_URL


class CASLoginView(cas_views.LoginView):
    def get(self, request):
        _require("CAS_ENABLED")
        try:
            return super().get(request)
        except PermissionDenied:  # django-cas-ng's answer to a refused ticket: back to the login page instead
            return HttpResponseRedirect(REFUSED_URL)
        except requests.RequestException as exc:  # the CAS server is out of reach while validating the ticket
            logger.warning("CAS sign-in failed at the server: %s", type(exc).__name__)
            return HttpResponseRedirect(FAILED_URL)

    def post(self, request):
        """The CAS server's back-channel single logout (form field logoutRequest, a SAML LogoutRequest whose
        SessionIndex is the service ticket): the session signed in with that ticket is deleted. The library
        answers any other POST with a redirect to the CAS login."""
        _require("CAS_ENABLED")
        return super().post(request)


# --- Single sign-out ----------------------------------------------------------------------------------------

OIDC_BACKEND = f"{OIDCBackend.__module__}.{OIDCBackend.__qualname__}"
CAS_BACKEND = f"{CASSignInBackend.__module__}.{CASSignInBackend.__qualname__}"


def oidc_logout_url(request) -> str:
    """OIDC_OP_LOGOUT_URL_METHOD: the provider's end_session URL (OpenID Connect RP-Initiated Logout 1.0)
    with the session's id_token as id_token_hint and the login page as post_logout_redirect_uri; the login
    page itself when no end_session endpoint is configured or the session holds no id_token."""
    back = request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL))
    endpoint = settings.OIDC_OP_LOGOUT_ENDPOINT
    id_token = request.session.get("oidc_id_token")
    if not endpoint or not id_token:
        return resolve_url(settings.LOGOUT_REDIRECT_URL)
    params = {"id_token_hint": id_token, "post_logout_redirect_uri": back, "client_id": settings.OIDC_RP_CLIENT_ID}
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)


def provider_logout_view(request):
    """The view that signs this session out at its provider as well (None: a password session, or the
    provider's sign-in has since been switched off, so the sign-out stays local)."""
    backend = request.session.get(BACKEND_SESSION_KEY)
    if backend == OIDC_BACKEND and settings.OIDC_ENABLED:
        return oidc_views.OIDCLogoutView.as_view()
    if backend == CAS_BACKEND and settings.CAS_ENABLED:
        return cas_views.LogoutView.as_view()
    return None


class SignInView(LoginView):
    """The login page: the password form (with LOCAL_LOGIN_ENABLED false only superusers get past it,
    bureau.auth) and the buttons for the identity providers switched on."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            oidc_enabled=settings.OIDC_ENABLED,
            cas_enabled=settings.CAS_ENABLED,
            local_login_enabled=settings.LOCAL_LOGIN_ENABLED,
            sso_refused=self.request.GET.get("sso") == "refused",
            sso_failed=self.request.GET.get("sso") == "failed",
        )
        return context

