from django.urls import path

from kirakira.common.page_cache import visitor_page

from . import views

app_name = "legal"

urlpatterns = [
    path("commerce/", visitor_page(views.CommerceDisclosureView.as_view()), name="commerce"),
]
