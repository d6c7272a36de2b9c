from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "培训管理"

    def ready(self):
        from django.db.models.signals import post_save

        from .models import Result

        # Cache invalidation only (no workflow): a school's cached figures count its results.
        post_save.connect(_result_saved, sender=Result, dispatch_uid="training.result.saved")


def _result_saved(sender, instance, **kwargs) -> None:
    from credits.selectors import teacher_school_changed

    from .models import Enrolment

    teacher_id = Enrolment.objects.filter(pk=instance.enrolment_id).values_list("teacher_id", flat=True).first()
    teacher_school_changed(teacher_id=teacher_id)
