from django.urls import include, path

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401  (Django reads them here)
from config.urls import urlpatterns as product_urlpatterns

from . import floor, floor_admin, naive

urlpatterns = [
    path("floor/admin/", floor_admin.site.urls),
    path("floor/", include(floor.urlpatterns)),
    path("naive/", include(naive.router.urls)),
    *product_urlpatterns,
]
