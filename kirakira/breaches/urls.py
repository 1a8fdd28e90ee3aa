from django.urls import path

from . import views

app_name = "breaches"

urlpatterns = [
    path("", views.NoticesView.as_view(), name="notices"),
    path("incidents/", views.PublicNoticesView.as_view(), name="public_notices"),
]
