from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "培训管理"

    def ready(self):
        from . import caching, checks, export_jobs, queues  # noqa: F401 (checks registers itself)

        export_jobs.register_all()  # the background exports this app builds (bureau.exports)

        caching.register_all()
        queues.register_all()
