from django.apps import AppConfig


class BackboneConfig(AppConfig):
    name = "backbone"
    verbose_name = "骨干教师"
