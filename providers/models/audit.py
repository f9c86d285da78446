"""The audit log's rows."""

from django.conf import settings
from django.db import models

from .common import WorkspaceManager, workspace_field


class AuditEvent(models.Model):
    """Who did what to which object, from where, and whether it was allowed: every write and every
    refused attempt on providers, identity providers, mappers and projects. Field names only;
    never a value."""

    class Action(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"
        ROTATE = "rotate", "rotate credentials"
        ROLLBACK = "rollback", "roll back credentials"
        TEST = "test", "test connection"
        VERIFY = "verify", "verify domains"
        EXPORT = "export"
        DENIED = "denied", "permission denied"
        SIGNIN = "signin", "sign in"
        LINK = "link", "link account"
        UNLINK = "unlink", "unlink account"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    fields = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=10, blank=True, help_text="api, admin or cli")
    ip = models.GenericIPAddressField(null=True, blank=True)
    ok = models.BooleanField(default=True)
    detail = models.CharField(max_length=500, blank=True)

    workspace = workspace_field(related_name="audit_events", on_delete=models.CASCADE)

    objects = WorkspaceManager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or '-'} {self.action} {self.object_type} {self.object_id}"
