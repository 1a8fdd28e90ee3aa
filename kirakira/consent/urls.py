from django.urls import path

from . import views

app_name = "consent"

urlpatterns = [
    path("", views.ConsentView.as_view(), name="settings"),
    path("notices/dismiss/", views.DismissView.as_view(), name="dismiss"),
]
