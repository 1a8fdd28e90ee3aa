from django.apps import AppConfig


class UndeclaredAppConfig(AppConfig):
    name = "kirakira.privacy.tests.undeclared_app"
    label = "privacy_undeclared"
