from django.apps import AppConfig


class BureauConfig(AppConfig):
    name = "bureau"
    verbose_name = "学校与教师"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import roles

        # Keeps one auth Group per role with the permissions roles.py lists (data, not a workflow).
        post_migrate.connect(roles.sync_role_groups_after_migrate)
