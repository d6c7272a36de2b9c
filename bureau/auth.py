"""Authentication backend that loads the signed-in user with the role (and a principal's school), the
teacher record and the teacher's school in one query (every page asks for them: scoping, the menu),
and keeps that user in the cache between requests.

The cached user is keyed by two version counters (bureau.versions): one per user, bumped whenever the
user, the profile (role, scope), the teacher record or the groups change, and one for all users, bumped
when a school or a district is saved or teachers are imported in bulk. A deactivated user, a changed role or a changed
password therefore takes effect on the very next request. The entry also expires after ten minutes.
"""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from . import versions
from .roles import SYSTEM_USERNAME

USER_TTL = 600
ALL_USERS = "auth.users.v"


def user_version_key(user_id) -> str:
    return f"auth.user.v.{user_id}"


def user_version_keys(user_id) -> list[str]:
    """What a cached signed-in user (and anything shown from it: name, menu, teacher record) depends on."""
    return [user_version_key(user_id), ALL_USERS]


def user_changed(user_id) -> None:
    if user_id is not None:
        versions.bump(user_version_key(user_id))


def all_users_changed() -> None:
    versions.bump(ALL_USERS)


def not_a_password_attempt(request, credentials=None) -> bool:
    """AXES_WHITELIST_CALLABLE: django-axes neither counts nor locks a sign-in without a username, i.e. one
    through the bureau's identity provider (bureau.sso: an OIDC code or a CAS ticket). A refused identity
    there is not a password guessed here (the provider locks its own password form), and counting it under
    (no username, address) would lock every sign-in from a school's shared address after ten refusals."""
    return not (credentials or {}).get("username")


class RoleAwareBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        """A password sign-in; with LOCAL_LOGIN_ENABLED false (sign-in through the bureau's identity provider
        only, bureau.sso) it is refused to all but superusers. django-axes (the backend before this one)
        counts the refusal as a failed attempt, so the lockout still applies."""
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and not settings.LOCAL_LOGIN_ENABLED and not user.is_superuser:
            return None
        return user

    def get_user(self, user_id):
        keys = user_version_keys(user_id)
        user, stamp = versions.fetch(f"auth.user.{user_id}", keys)
        if user is None:
            user = self._user_model_queryset().filter(pk=user_id).first()
            if user is None:
                return None
            versions.store(f"auth.user.{user_id}", keys, stamp, user, USER_TTL)
        # The versions this user was loaded under: a page rendered for this request is stored under
        # these, so a change committed meanwhile (demotion, deactivation) retires it (bureau.pages).
        user.auth_versions = dict(zip(keys, stamp))
        return user if self.user_can_authenticate(user) else None

    def user_can_authenticate(self, user):
        """The system account (bureau.services.system_user) writes for commands and jobs; it never signs in."""
        return super().user_can_authenticate(user) and user.get_username() != SYSTEM_USERNAME

    @staticmethod
    def _user_model_queryset():
        from django.contrib.auth import get_user_model

        return get_user_model()._default_manager.select_related("profile__school__district", "teacher__school")


# Group membership sends m2m_changed, not a save (connected in bureau.apps; registered in bureau/caching.py).


def on_groups_changed(sender, instance, **kwargs) -> None:
    from django.contrib.auth import get_user_model

    if isinstance(instance, get_user_model()):
        user_changed(instance.pk)
    else:  # a group's members changed from the group's side
        all_users_changed()
