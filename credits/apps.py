from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "credits"
    verbose_name = "学分管理"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from .models import LedgerEntry, Policy
        from .selectors import forget_policies, on_ledger_saved

        # Cache invalidation only (no workflow): the cached policy list must follow every edit.
        post_save.connect(forget_policies, sender=Policy, dispatch_uid="credits.policy.saved")
        post_delete.connect(forget_policies, sender=Policy, dispatch_uid="credits.policy.deleted")
        post_save.connect(on_ledger_saved, sender=LedgerEntry, dispatch_uid="credits.ledger.appended")
