from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kirakira.api"
    label = "api"

    def ready(self):
        from . import authentication  # noqa: F401 - registers the Bearer scheme with drf-spectacular
