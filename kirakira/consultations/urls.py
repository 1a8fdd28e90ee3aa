from django.urls import path

from . import views

app_name = "consultations"

urlpatterns = [
    path("", views.ConsultationListView.as_view(), name="list"),
    path("new/", views.ConsultationNewView.as_view(), name="new"),
    path("<uuid:consultation_id>/", views.ConsultationDetailView.as_view(), name="detail"),
    path(
        "<uuid:consultation_id>/files/<uuid:attachment_id>/",
        views.AttachmentView.as_view(),
        name="attachment",
    ),
    path("confirm/<str:token>/", views.VisitorConfirmView.as_view(), name="visitor_confirm"),
    path("visitor/<str:token>/", views.VisitorThreadView.as_view(), name="visitor_thread"),
    path(
        "visitor/<str:token>/files/<uuid:attachment_id>/",
        views.VisitorAttachmentView.as_view(),
        name="visitor_attachment",
    ),
]
