from django.db.models import Prefetch
from django.http import Http404

from .models import Order, Service, SnsPlatform


def services_on_sale():
    """Active services with their platforms, in display order (two queries however many)."""
    return Service.objects.active().prefetch_related(
        Prefetch("platforms", queryset=SnsPlatform.objects.filter(is_active=True))
    )


def orders_of(member):
    """The member's own orders, newest first, with what a list shows."""
    return Order.objects.filter(member=member).select_related("service", "platform")


def order_of(member, order_id) -> Order:
    """One of the member's own orders; 404 for anyone else's (never a 403, which would confirm
    that the order exists)."""
    order = orders_of(member).filter(pk=order_id).first()
    if order is None:
        raise Http404
    return order


def platforms_of(service: Service):
    """The active platforms a service is for."""
    return SnsPlatform.objects.filter(services=service, is_active=True)
