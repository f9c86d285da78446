from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse

from .errors import ConflictError
from .models import DEFAULT_WORKSPACE_ID, ApiToken, Membership, User, Workspace
from .selectors import acts_as_superuser, can_manage_workspace, owned_workspaces, user_to_add, workspaces_visible
from .services import (
    WORKSPACE_FIELDS,
    api_token_check_limits,
    api_token_issue,
    api_token_revoke,
    membership_remove,
    membership_set,
    workspace_create,
    workspace_delete,
    workspace_update,
)


@admin.register(User)
class RegistryUserAdmin(UserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_staff", "group_names"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="groups")
    def group_names(self, obj: User) -> str:
        return ", ".join(group.name for group in obj.groups.all())


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created here (shown once), then only listed and revoked. Non-superusers manage
    their own tokens only, so only a superuser can mint a token that acts as someone else."""

    list_display = ["name", "user", "prefix", "created_at", "expires_at", "last_used_at", "status"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    actions = ["revoke_selected"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(user=request.user)

    def get_fields(self, request, obj=None):
        if obj is None:
            limits = ["name", "expires_at", "workspace", "role"]
            return ["user", *limits] if request.user.is_superuser else limits
        return ["user", "name", "prefix", "created_at", "expires_at", "workspace", "role", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    @admin.display(description="status")
    def status(self, obj: ApiToken) -> str:
        if obj.revoked_at:
            return "revoked"
        return "active" if obj.is_active else "expired"

    def save_model(self, request, obj, form, change):
        if change:
            return
        if not request.user.is_superuser or obj.user_id is None:
            obj.user = request.user
        obj.raw_token = api_token_issue(token=obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "workspace":  # only the workspaces the signed-in user sees
            kwargs["queryset"] = workspaces_visible(user=request.user).order_by("name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        """The workspace and role limits are checked with the form: a refusal names the field."""
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None:
            return form
        user = request.user

        class LimitedTokenForm(form):  # type: ignore[valid-type,misc]
            def clean(self):
                cleaned = super().clean()
                owner = cleaned.get("user") or user
                token = ApiToken(user=owner, workspace=cleaned.get("workspace"), role=cleaned.get("role") or "")
                try:
                    api_token_check_limits(token)
                except ValidationError as exc:
                    for field, errors in exc.message_dict.items():
                        self.add_error(field, errors)
                return cleaned

        return LimitedTokenForm

    def response_add(self, request, obj, post_url_continue=None):
        """Show the token once, on this page only: it is not stored anywhere it could be read again."""
        context = {
            **self.admin_site.each_context(request),
            "title": "API token created",
            "token": obj,
            "raw_token": obj.raw_token,
            "opts": self.model._meta,
        }
        response = TemplateResponse(request, "admin/accounts/apitoken/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke_selected(self, request, queryset):
        for token in queryset:
            api_token_revoke(token=token, actor=request.user)
        self.message_user(request, f"{queryset.count()} token(s) revoked.", messages.SUCCESS)


def manages(request, workspace: Workspace | None = None) -> bool:
    """Whether the user manages this workspace (superusers, its owners), or, without one, any."""
    if request.user.is_superuser:
        return True
    if workspace is None:
        return owned_workspaces(user=request.user).exists()
    return can_manage_workspace(user=request.user, workspace=workspace)


class MembershipForm(forms.ModelForm):
    """The member by user name: typed, not picked from a list of every user of every workspace,
    and found among the users the signed-in user may name (`accounts.selectors.user_to_add`, as
    the API's): a workspace owner gets one answer for a name that is nobody's and for an account
    they do not see. A membership's user stays; its role changes."""

    user = forms.CharField(max_length=150, help_text="The user's name, e.g. “ada”.")
    actor: User  # the signed-in user (MembershipInline.get_formset)

    class Meta:
        model = Membership
        fields = ["user", "role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["user"] = self.instance.user.username
            self.fields["user"].disabled = True

    def clean_user(self):
        if self.instance.pk:
            return self.instance.user
        username = self.cleaned_data["user"]
        user = user_to_add(actor=self.actor, username=username, workspaces=workspaces_visible(user=self.actor))
        if user is None:
            if acts_as_superuser(self.actor):
                raise forms.ValidationError("No user with this name.")
            raise forms.ValidationError(f"No user “{username}” that you can add to this workspace.")
        return user


class MembershipInline(admin.TabularInline):
    """The members of the workspace on its page, editable by whoever manages the workspace (owners
    hold no model permissions: their role in the workspace is what counts)."""

    model = Membership
    form = MembershipForm
    extra = 1
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = type(MembershipForm.__name__, (MembershipForm,), {"actor": request.user})
        return super().get_formset(request, obj, **kwargs)

    def has_view_permission(self, request, obj=None):
        return manages(request, obj)

    def has_change_permission(self, request, obj=None):
        return manages(request, obj)

    def has_add_permission(self, request, obj=None):
        return manages(request, obj)

    def has_delete_permission(self, request, obj=None):
        return manages(request, obj)


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    """Workspaces (tenants) and their members: superusers manage all of them, a workspace's owners
    (staff users with the owner role) their own, members included. Only superusers create
    workspaces. The name is the URL slug: set once. A workspace that still holds providers or
    projects cannot be deleted (they are protected)."""

    list_display = ["name", "display_name", "public_id", "member_count", "created_at"]
    search_fields = ["name", "display_name", "public_id"]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).annotate(members=models.Count("memberships"))
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk__in=owned_workspaces(user=request.user).values("pk"))

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff and manages(request)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and manages(request, obj)

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # The default workspace stays: the un-prefixed API paths act on it (as the service says).
        if obj is not None and obj.pk == DEFAULT_WORKSPACE_ID:
            return False
        return self.has_view_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, through the service's rules
        return actions

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ConflictError as exc:  # another writer took the name since the form validated
            messages.error(request, exc.message)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ConflictError as exc:  # a provider or project was added since the page was shown
            messages.error(request, exc.message)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        """Through the services, which check and audit every workspace write (as for the API)."""
        if change:
            data = {name: form.cleaned_data[name] for name in form.changed_data if name in WORKSPACE_FIELDS}
            workspace_update(workspace=obj, actor=request.user, data=data)
            return
        created = workspace_create(actor=request.user, name=obj.name, display_name=obj.display_name)
        obj.pk, obj.public_id, obj.created_at, obj.updated_at = (
            created.pk,
            created.public_id,
            created.created_at,
            created.updated_at,
        )
        obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        """Members are added, changed and removed through the services (their rules and audit)."""
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        workspace = form.instance
        for member_form in formset.forms:
            if not member_form.has_changed() or not member_form.cleaned_data:
                continue
            membership = member_form.instance
            if member_form.cleaned_data.get("DELETE"):
                if membership.pk:
                    membership_remove(workspace=workspace, username=membership.user.username, actor=request.user)
                continue
            user = membership.user if membership.pk else member_form.cleaned_data["user"]
            membership_set(workspace=workspace, user=user, role=member_form.cleaned_data["role"], actor=request.user)

    def get_deleted_objects(self, objs, request):
        """What goes with a workspace (its memberships, tokens and audit events) is the service's
        rule, not a permission the deleting user needs on each: nobody may delete audit events one
        by one, and owners hold no model permissions. What protects it (its providers and
        projects) still refuses the deletion."""
        deleted, counts, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def delete_model(self, request, obj):
        workspace_delete(workspace=obj, actor=request.user)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        return ["public_id", "created_at", "updated_at"] + (["name"] if obj is not None else [])

    @admin.display(description="members", ordering="members")
    def member_count(self, obj: Workspace) -> int:
        return obj.members  # type: ignore[attr-defined]  # annotated by get_queryset
