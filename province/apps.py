from django.apps import AppConfig


class ProvinceConfig(AppConfig):
    name = "province"
    verbose_name = "上报省厅"

    def ready(self):
        from . import export_jobs

        export_jobs.register_all()  # the province report is a background export (bureau.exports)
