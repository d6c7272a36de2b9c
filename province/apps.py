from django.apps import AppConfig


class ProvinceConfig(AppConfig):
    name = "province"
    verbose_name = "上报省厅"
