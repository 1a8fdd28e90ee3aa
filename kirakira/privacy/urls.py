from django.urls import path

from . import views
from .access_log import transparency_views

app_name = "privacy"

urlpatterns = [
    path("policy/", views.PolicyView.as_view(), name="policy"),
    path("policy/changes/", views.PolicyChangesView.as_view(), name="policy_changes"),
    path("policy/v<int:number>/", views.PolicyVersionView.as_view(), name="policy_version"),
    path("access-log/", transparency_views.MyAccessLogView.as_view(), name="access_log"),
]
