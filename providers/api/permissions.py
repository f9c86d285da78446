from rest_framework.permissions import DjangoModelPermissions


class ModelPermissions(DjangoModelPermissions):
    """Django model permissions, the same ones the admin checks, with reads needing `view_*`
    (the stock class lets any authenticated user read). A view may name the model whose
    permissions apply with `permission_model` when its queryset lists another model."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }

    def _queryset(self, view):
        """Only the model is needed: the view's placeholder queryset rather than its selector
        (which builds annotations and joins for nothing)."""
        if getattr(view, "queryset", None) is not None:
            return view.queryset
        return super()._queryset(view)

    def has_permission(self, request, view):
        model = getattr(view, "permission_model", None)
        if model is None:
            return super().has_permission(request, view)
        if not request.user or not request.user.is_authenticated:
            return False
        return request.user.has_perms(self.get_required_permissions(request.method, model))


class ChangePermissions(ModelPermissions):
    """For actions that modify the object whatever their HTTP verb reads like (verify, enable)."""

    def get_required_permissions(self, method, model_cls):
        return super().get_required_permissions("PATCH", model_cls)


class ReadOrChangePermissions(ModelPermissions):
    """Reads need `view_*`, every other method `change_*` (a POST that acts on the object creates
    nothing, so `add_*` would be the wrong permission)."""

    def get_required_permissions(self, method, model_cls):
        return super().get_required_permissions(method if method in ("GET", "HEAD", "OPTIONS") else "PATCH", model_cls)


class NestedPermissions(ReadOrChangePermissions):
    """For objects that belong to another (mappers of an identity provider): reads need `view_*`
    of the parent model, every write needs `change_*`."""
