from .models import Service


def services_on_sale():
    """Active services with their platforms, in display order (two queries however many)."""
    return Service.objects.active().prefetch_related("platforms")
