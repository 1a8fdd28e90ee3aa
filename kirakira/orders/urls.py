from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("", views.OrderListView.as_view(), name="list"),
    path("new/<int:service_id>/", views.OrderNewView.as_view(), name="new"),
    path("statement.csv", views.StatementView.as_view(), name="statement"),
    path("<uuid:order_id>/", views.OrderDetailView.as_view(), name="detail"),
    path("<uuid:order_id>/cancel/", views.OrderCancelView.as_view(), name="cancel"),
    path("<uuid:order_id>/receipt.pdf", views.OrderReceiptView.as_view(), name="receipt"),
    path("<uuid:order_id>/refund-account/", views.OrderRefundAccountView.as_view(), name="refund_account"),
    path("<uuid:order_id>/phone/", views.OrderPhoneView.as_view(), name="phone"),
    path(
        "<uuid:order_id>/refund-account/change/",
        views.OrderRefundAccountChangeView.as_view(),
        name="refund_account_change",
    ),
]
