from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "credits"
    verbose_name = "学分管理"

    def ready(self):
        from . import caching, export_jobs, queues

        export_jobs.register_all()  # the background exports this app builds (bureau.exports)

        caching.register_all()
        queues.register_all()
