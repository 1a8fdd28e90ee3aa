from django.urls import path

from kirakira.common.page_cache import visitor_page

from . import views
from .access_log import transparency_views
from .rights import export_views, my_data_views
from .rights import views as rights_views

app_name = "privacy"

urlpatterns = [
    path("policy/", visitor_page(views.PolicyView.as_view()), name="policy"),
    path("policy/changes/", visitor_page(views.PolicyChangesView.as_view()), name="policy_changes"),
    path("policy/v<int:number>/", visitor_page(views.PolicyVersionView.as_view()), name="policy_version"),
    path("access-log/", transparency_views.MyAccessLogView.as_view(), name="access_log"),
    # Members' rights (policy C7): see, download, correct, delete, stop processing.
    path("my-data/", my_data_views.MyDataView.as_view(), name="my_data"),
    path("requests/", rights_views.RequestListView.as_view(), name="requests"),
    path("requests/identity-code/", rights_views.IdentityCodeView.as_view(), name="identity_code"),
    path("requests/new/export/", rights_views.ExportRequestView.as_view(), name="export_request"),
    path("requests/new/correction/", rights_views.CorrectionRequestView.as_view(), name="correction_request"),
    path("requests/new/deletion/", rights_views.DeletionRequestView.as_view(), name="deletion_request"),
    path("requests/new/restriction/", rights_views.RestrictionRequestView.as_view(), name="restriction_request"),
    path("requests/<uuid:request_id>/", rights_views.RequestDetailView.as_view(), name="request_detail"),
    path("requests/<uuid:request_id>/lift/", rights_views.RestrictionLiftView.as_view(), name="restriction_lift"),
    path("exports/<uuid:request_id>/download/", export_views.ExportDownloadView.as_view(), name="export_download"),
]
