from django.apps import AppConfig


class BackboneConfig(AppConfig):
    name = "backbone"
    verbose_name = "骨干教师"

    def ready(self):
        from . import export_jobs

        export_jobs.register_all()  # the background exports this app builds (bureau.exports)
