from django.http import JsonResponse
from django.urls import path


def hello(request):
    return JsonResponse({"bare": True, "path": request.path})


urlpatterns = [path("", hello)]
