from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("policy/", views.PolicyView.as_view(), name="policy"),
]
