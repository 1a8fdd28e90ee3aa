"""The gate's pages, under /backoffice/gate/ (included before the back office's own URLs)."""

from django.urls import path

from . import views

app_name = "staff_gate"

urlpatterns = [
    path("verify/", views.VerifyView.as_view(), name="verify"),
    path("enrol/", views.EnrolView.as_view(), name="enrol"),
    path("backup-codes/", views.BackupCodesView.as_view(), name="backup_codes"),
    path("pledge/", views.PledgeView.as_view(), name="pledge"),
    path("no-pledge/", views.NoPledgeView.as_view(), name="no_pledge"),
    path("training/", views.TrainingView.as_view(), name="training"),
]
