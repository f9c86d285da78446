from django.urls import include, path

from bench.urls_signin import handler400, handler403, handler404, handler500  # noqa: F401  (Django reads them here)
from bench.urls_signin import urlpatterns as signin_urlpatterns

# Login: /accounts/oidc/bench/login/ → the provider → /accounts/oidc/bench/login/callback/.
urlpatterns = [path("accounts/", include("allauth.urls")), *signin_urlpatterns]
