from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "credits"
    verbose_name = "学分管理"

    def ready(self):
        from . import caching, queues

        caching.register_all()
        queues.register_all()
