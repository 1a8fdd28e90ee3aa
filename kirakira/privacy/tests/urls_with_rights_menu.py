"""A URLconf in which the member's data page exists, for the test of a capability found by URL."""

from django.http import HttpResponse
from django.urls import include, path

urlpatterns = [
    path("privacy/", include(([path("my-data/", lambda request: HttpResponse(), name="my_data")], "privacy"))),
]
