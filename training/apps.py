from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "培训管理"

    def ready(self):
        from . import caching, queues

        caching.register_all()
        queues.register_all()
