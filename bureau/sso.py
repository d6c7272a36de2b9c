"""Sign-in through the bureau's identity provider (issue 19 item 3; docs/decisions.md): OpenID Connect through
mozilla-django-oidc and CAS through django-cas-ng, each off unless OIDC_ENABLED / CAS_ENABLED (settings).

Identities are matched, never given a role (match_identity):
1. an account whose profile bureau staff linked to the identity in the admin (Profile.sso_issuer/sso_subject:
   the OIDC provider's `iss` and the id_token's `sub`; the CAS server and the CAS user);
2. a teacher by 工号: the identity's name (the claim OIDC_USERNAME_CLAIM, or the CAS user / attribute
   CAS_USERNAME_ATTRIBUTE) looked up as Teacher.staff_no -> the teacher's account (a 工号 never signs in as any
   other account). The one account ever made here is a teacher's who has none yet: a serving (在职) Teacher
   with that 工号 and no account gets one (username = 工号, no usable password), with the teacher role through
   bureau.services.user_assign_role;
3. only with SSO_MATCH_USERNAME: the name as a username, never of a staff (is_staff) or superuser account.
A superuser never signs in through a provider (not even linked): with LOCAL_LOGIN_ENABLED false the password
stays the break-glass way in. Anything else is refused and the login page says so (?sso=refused). The
configured claim must be unique and not editable by the provider's users (docs/decisions.md).

OIDC id_tokens are checked in full: signature (the provider's JWKS), `iss` = OIDC_OP_ISSUER, `aud` = our
client id (with several audiences, `azp` = our client id too), `exp`, and the nonce of the session (the library); the userinfo answer must be about the same
`sub`. After sign-in only a ?next= of this site is followed (both protocols), else "/".

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

import jwt
import requests
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django_cas_ng import views as cas_views
from django_cas_ng.backends import CASBackend
from django_cas_ng.views import is_local_url
from mozilla_django_oidc import views as oidc_views
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from .auth import RoleAwareBackend
from .choices import Role, Status
from .models import Profile, Teacher
from .roles import SYSTEM_USERNAME

logger = logging.getLogger(__name__)

REFUSED_URL = "/accounts/login/?sso=refused"
FAILED_URL = "/accounts/login/?sso=failed"  # the provider refused the exchange (e.g. a wrong PKCE verifier) or is out of reach


def match_identity(name: str, *, issuer: str = "", subject: str = ""):
    """The active account an identity signs in as, or None (refused): `issuer`/`subject` for the explicit link,
    `name` for a teacher's 工号 (and a username with SSO_MATCH_USERNAME). See the module docstring."""
    user = _match(name, issuer, subject)
    if user is not None and (user.is_superuser or user.username == SYSTEM_USERNAME):
        logger.warning("SSO sign-in refused: the identity matches a superuser or the system account (user %s)",
                       user.pk)
        return None
    return user


def _match(name: str, issuer: str, subject: str):
    if issuer and subject:
        linked = Profile.objects.select_related("user").filter(sso_issuer=issuer, sso_subject=subject).first()
        if linked is not None:
            return linked.user
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
    if settings.SSO_MATCH_USERNAME:
        user = get_user_model()._default_manager.filter(username=name).first()
        if user is not None and not user.is_staff and not user.is_superuser:
            return user
        if user is not None:
            logger.warning("SSO sign-in refused: a staff or superuser account is never matched by username (user %s)",
                           user.pk)
            return None
    logger.info("SSO sign-in refused: no linked account or teacher matches the identity")
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

    def _verify_jws(self, payload, key):
        """The id_token (and a signed userinfo answer) in full: the library checks the signature and `exp`
        only, not `iss` nor `aud`. Any failure is a SuspiciousOperation, which OIDCCallbackView answers with
        ?sso=failed."""
        issuer = settings.OIDC_OP_ISSUER
        if not issuer:
            raise SuspiciousOperation("OIDC_OP_ISSUER is not set: every id_token is refused")
        try:
            claims = jwt.decode(
                payload, key, algorithms=[self.OIDC_RP_SIGN_ALGO], audience=self.OIDC_RP_CLIENT_ID, issuer=issuer,
                options={"require": ["iss", "aud", "sub"]}, leeway=30,  # exp: checked when present, required below
            )
        except jwt.InvalidTokenError as exc:
            raise SuspiciousOperation(f"id_token refused: {type(exc).__name__}") from exc
        return claims

    def verify_token(self, token, **kwargs):
        """The library's check (`_verify_jws` above, and the nonce), plus for the id_token only (the call
        that passes a nonce; a signed userinfo answer has no azp to give) OpenID Connect Core 3.1.3.7 (4, 5):
        a token for several audiences must name the party it was issued to (azp), and a named party must
        be us: another client of the same provider cannot pass on a token it was given that also lists us."""
        claims = super().verify_token(token, **kwargs)
        if "nonce" in kwargs:
            audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
            if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != self.OIDC_RP_CLIENT_ID:
                raise SuspiciousOperation("id_token refused: azp missing or not this client")
        return claims

    def get_or_create_user(self, access_token, id_token, payload):
        """`payload` is the checked id_token: its iss/sub for the explicit link; the userinfo answer (for the
        configured claim) must be about the same subject (OpenID Connect Core 5.3.2)."""
        if "exp" not in payload:  # an id_token must expire (a signed userinfo answer need not, hence here)
            logger.warning("OIDC sign-in refused: the id_token has no exp")
            return None
        claims = self.get_userinfo(access_token, id_token, payload)
        if str(claims.get("sub", "")) != str(payload.get("sub", "")):
            logger.warning("OIDC sign-in refused: the userinfo subject differs from the id_token's")
            return None
        return match_identity(
            str(claims.get(settings.OIDC_USERNAME_CLAIM, "")),
            issuer=str(payload.get("iss", "")), subject=str(payload.get("sub", "")),
        )

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
        user = match_identity(str(username or ""), issuer=settings.CAS_SERVER_URL, subject=str(username or ""))
        if user is None or not self.user_can_authenticate(user):
            return None
        return user


# --- Views --------------------------------------------------------------------------------------------------


def _require(flag: str):
    if not getattr(settings, flag, False):
        raise Http404


def safe_next(request, url: str | None) -> str:
    """`url` when it is a page of this site (same host; https when the request is), else "/"."""
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, require_https=request.is_secure()):
        return url
    return "/"


class OIDCAuthenticateView(oidc_views.OIDCAuthenticationRequestView):
    """The library keeps ?next= only when url_has_allowed_host_and_scheme passes (OIDC_REDIRECT_ALLOWED_HOSTS
    stays unset: this site's host only)."""

    def dispatch(self, request, *args, **kwargs):
        _require("OIDC_ENABLED")
        return super().dispatch(request, *args, **kwargs)


class OIDCCallbackView(oidc_views.OIDCAuthenticationCallbackView):
    def dispatch(self, request, *args, **kwargs):
        _require("OIDC_ENABLED")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        try:
            return super().get(request)
        except requests.RequestException as exc:  # the token endpoint refused the code (or is out of reach)
            logger.warning("OIDC sign-in failed at the provider: %s", type(exc).__name__)
            return HttpResponseRedirect(FAILED_URL)
        except SuspiciousOperation as exc:  # an id_token that fails its checks, a nonce or state not ours
            logger.warning("OIDC sign-in refused: %s", exc)
            return HttpResponseRedirect(FAILED_URL)

    @property
    def failure_url(self):
        return REFUSED_URL

    @property
    def success_url(self):  # checked when stored (OIDCAuthenticateView); checked again on the way out
        return safe_next(self.request, super().success_url)


class CASLoginView(cas_views.LoginView):
    """django-cas-ng's view: with CAS_LOGIN_NEXT_PAGE None it never checks ?next= (it reads it raw through
    get_redirect_url), so a ?next= that is not a page of this site is replaced by "/" before the library
    sees it (GET and POST, so the service URL sent to the CAS server carries the safe one), and checked again
    on every way out (successful_login: a sign-in and an already signed-in visit)."""

    @method_decorator(csrf_exempt)  # as the library's dispatch: the server's single-logout POST has no token
    def dispatch(self, request, *args, **kwargs):
        _require("CAS_ENABLED")  # every method: the sign-in and the server's single-logout POST
        for name in ("GET", "POST"):
            data = getattr(request, name)
            if "next" in data and not self._is_ours(request, data["next"]):
                data = data.copy()
                data["next"] = "/"
                setattr(request, name, data)
        return super().dispatch(request, *args, **kwargs)

    @staticmethod
    def _is_ours(request, url: str) -> bool:
        # the library's own is_local_url too: what it would refuse (CAS_CHECK_NEXT) would end in a 500
        return safe_next(request, url) == url and is_local_url(request.build_absolute_uri("/"), url)

    def successful_login(self, request, next_page):
        return HttpResponseRedirect(next_page if next_page and self._is_ours(request, next_page) else "/")

    def get(self, request):
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

