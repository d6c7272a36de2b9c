from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "credits"
    verbose_name = "学分管理"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from bureau.models import School, Teacher
        from bureau.signals import teachers_bulk_changed

        from .models import Exemption, HoursSubmission, LedgerEntry, Policy
        from .selectors import (
            forget_policies,
            on_exemption_saved,
            on_ledger_saved,
            on_school_saved,
            on_submission_saved,
            on_teacher_saved,
            on_teachers_bulk_changed,
        )

        # Cache invalidation only (no workflow): the cached policy list must follow every edit.
        post_save.connect(forget_policies, sender=Policy, dispatch_uid="credits.policy.saved")
        post_delete.connect(forget_policies, sender=Policy, dispatch_uid="credits.policy.deleted")
        post_save.connect(on_ledger_saved, sender=LedgerEntry, dispatch_uid="credits.ledger.appended")
        post_save.connect(on_teacher_saved, sender=Teacher, dispatch_uid="credits.teacher.saved")
        post_save.connect(on_school_saved, sender=School, dispatch_uid="credits.school.saved")
        post_save.connect(on_exemption_saved, sender=Exemption, dispatch_uid="credits.exemption.saved")
        post_delete.connect(on_exemption_saved, sender=Exemption, dispatch_uid="credits.exemption.deleted")
        post_save.connect(on_submission_saved, sender=HoursSubmission, dispatch_uid="credits.submission.saved")
        post_delete.connect(on_submission_saved, sender=HoursSubmission, dispatch_uid="credits.submission.deleted")
        teachers_bulk_changed.connect(on_teachers_bulk_changed, dispatch_uid="credits.teachers.bulk")
