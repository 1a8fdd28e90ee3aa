from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from . import selectors
from .forms import OrderForm
from .lifecycle import paid_total
from .models import OrderStatus, Service


class OrderNewView(LoginRequiredMixin, View):
    template_name = "orders/order_form.html"

    def dispatch(self, request, *args, service_id, **kwargs):
        if request.user.is_authenticated:
            self.service = get_object_or_404(Service.objects.active(), pk=service_id)
        return super().dispatch(request, *args, **kwargs)

    def _render(self, request, form, status=200):
        return render(request, self.template_name, {"service": self.service, "form": form}, status=status)

    def get(self, request):
        if not request.user.can_order:
            return self._render(request, None)
        return self._render(request, OrderForm(service=self.service))

    def post(self, request):
        if not request.user.can_order:
            return self._render(request, None, status=403)
        form = OrderForm(request.POST, service=self.service)
        if form.is_valid():
            order = form.place(request.user, self.service)
            if order is not None:
                messages.success(
                    request,
                    _("Thank you for your order. Please pay by bank transfer as shown below."),
                )
                return redirect("orders:detail", order_id=order.pk)
        return self._render(request, form, status=400)


class OrderDetailView(LoginRequiredMixin, View):
    def get(self, request, order_id):
        order = selectors.order_of(request.user, order_id)
        awaiting_payment = order.status == OrderStatus.AWAITING_PAYMENT
        context = {
            "order": order,
            "awaiting_payment": awaiting_payment,
            "bank": settings.STUDIO_BANK_ACCOUNT if awaiting_payment else None,
            "events": order.events.all(),
            "paid_total": paid_total(order),
        }
        return render(request, "orders/order_detail.html", context)


class OrderListView(LoginRequiredMixin, ListView):
    template_name = "orders/order_list.html"
    context_object_name = "orders"
    paginate_by = 20

    def get_queryset(self):
        return selectors.orders_of(self.request.user)
