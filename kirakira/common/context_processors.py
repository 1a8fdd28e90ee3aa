from django.conf import settings


def site(request):
    return {"STUDIO_NAME": settings.STUDIO_NAME}
