from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "kirakira.common"
    label = "common"
