from django.urls import path

from kirakira.common.page_cache import visitor_page

from . import views

app_name = "legal"

urlpatterns = [
    path("commerce/", visitor_page(views.CommerceDisclosureView.as_view()), name="commerce"),
    path("terms/", visitor_page(views.TermsView.as_view()), name="terms"),
    path("terms/changes/", visitor_page(views.TermsChangesView.as_view()), name="terms_changes"),
    path("terms/v<int:number>/", visitor_page(views.TermsVersionView.as_view()), name="terms_version"),
    path("terms/agree/", views.TermsAgreeView.as_view(), name="terms_agree"),
]
