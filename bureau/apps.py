from django.apps import AppConfig


class BureauConfig(AppConfig):
    name = "bureau"
    verbose_name = "学校与教师"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed, post_migrate

        from . import caching, roles
        from .auth import on_groups_changed

        # Keeps one auth Group per role with the permissions roles.py lists (data, not a workflow).
        post_migrate.connect(roles.sync_role_groups_after_migrate)
        # The cache registry: what bureau's rows bump (the signed-in user, the unread count).
        caching.register_all()
        m2m_changed.connect(on_groups_changed, sender=get_user_model().groups.through, dispatch_uid="bureau.auth.groups")
