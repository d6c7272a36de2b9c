"""Authentication backend that loads the user with the role and the teacher record in one query:
every page asks for them (scoping), so the per-page query count drops by two or three."""

from django.contrib.auth.backends import ModelBackend


class RoleAwareBackend(ModelBackend):
    def get_user(self, user_id):
        user = self._user_model_queryset().filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    @staticmethod
    def _user_model_queryset():
        from django.contrib.auth import get_user_model

        return get_user_model()._default_manager.select_related("profile", "teacher__school")
