from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kirakira.api"
    label = "api"
