from django.http import HttpResponse
from django.urls import path

from bench.urls import handler400, handler403, handler404, handler500  # noqa: F401  (Django reads them here)
from bench.urls import urlpatterns as bench_urlpatterns


def whoami(request):
    """Who the session is signed in as (empty: nobody): how the harness checks that a login worked."""
    return HttpResponse(request.user.get_username() if request.user.is_authenticated else "", content_type="text/plain")


urlpatterns = [path("bench/whoami", whoami), *bench_urlpatterns]
