from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("policy/", views.PolicyView.as_view(), name="policy"),
    path("policy/changes/", views.PolicyChangesView.as_view(), name="policy_changes"),
    path("policy/v<int:number>/", views.PolicyVersionView.as_view(), name="policy_version"),
]
