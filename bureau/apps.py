from django.apps import AppConfig


class BureauConfig(AppConfig):
    name = "bureau"
    verbose_name = "学校与教师"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save, pre_save

        from . import roles
        from .auth import on_groups_changed, on_school_saved, on_teacher_pre_save, on_user_part_saved, on_user_saved
        from .context_processors import on_notice_saved
        from .models import District, Notice, Profile, School, Teacher

        # Keeps one auth Group per role with the permissions roles.py lists (data, not a workflow).
        post_migrate.connect(roles.sync_role_groups_after_migrate)

        # The cached signed-in user (bureau.auth) follows every change of what it carries.
        User = get_user_model()
        for signal in (post_save, post_delete):
            signal.connect(on_user_saved, sender=User, dispatch_uid=f"bureau.auth.user.{signal is post_save}")
            for model in (Profile, Teacher):
                signal.connect(on_user_part_saved, sender=model,
                               dispatch_uid=f"bureau.auth.{model.__name__}.{signal is post_save}")
            for model in (School, District):
                signal.connect(on_school_saved, sender=model,
                               dispatch_uid=f"bureau.auth.{model.__name__}.{signal is post_save}")
        # The header's unread count (bureau.context_processors) follows every notice sent, read or deleted.
        for signal in (post_save, post_delete):
            signal.connect(on_notice_saved, sender=Notice, dispatch_uid=f"bureau.notice.{signal is post_save}")
        pre_save.connect(on_teacher_pre_save, sender=Teacher, dispatch_uid="bureau.auth.teacher.before")
        m2m_changed.connect(on_groups_changed, sender=User.groups.through, dispatch_uid="bureau.auth.groups")
