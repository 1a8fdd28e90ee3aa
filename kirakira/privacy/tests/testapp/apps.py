from django.apps import AppConfig


class TestAppConfig(AppConfig):
    name = "kirakira.privacy.tests.testapp"
    label = "privacy_testapp"
