from rest_framework.routers import SimpleRouter

from .views import ProjectViewSet, ProviderViewSet


class OptionalSlashRouter(SimpleRouter):
    """Serves `/providers` and `/providers/` alike: clients copy paths from documents either way."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("providers", ProviderViewSet, basename="provider")
router.register("projects", ProjectViewSet, basename="project")

urlpatterns = router.urls
