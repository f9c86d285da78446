from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .backends import api_token_with_permissions
from .models import ApiToken, hash_token
from .throttling import check_token_lockout, record_token_failure

KEYWORDS = (b"bearer", b"token")


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>` or `Token <token>`, checked against the stored hash."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in KEYWORDS:
            return None
        check_token_lockout(request)
        if len(header) != 2:
            record_token_failure(request)
            raise exceptions.AuthenticationFailed("Invalid token header: expected “Bearer <token>”.")
        try:
            raw = header[1].decode()
        except UnicodeError:
            record_token_failure(request)
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        # A workspace's path (`/api/workspaces/{workspaceName}/…`): the token's query also reads
        # the user's access to it (`selectors.api_workspace`).
        match = getattr(request, "resolver_match", None)
        name = match.kwargs.get("workspaceName") if match is not None else None
        token = api_token_with_permissions(hash_token(raw), workspace_name=name)
        now = timezone.now()
        if token is None or not token.user.is_active:
            problem = "Invalid token."
        elif token.revoked_at is not None:
            problem = "Token has been revoked."
        elif token.expires_at is not None and token.expires_at <= now:
            problem = "Token has expired."
        else:
            problem = ""
        if problem or token is None:
            record_token_failure(request)
            raise exceptions.AuthenticationFailed(problem or "Invalid token.")
        resolution = timedelta(seconds=settings.API_TOKEN_LAST_USED_RESOLUTION)
        if token.last_used_at is None or now - token.last_used_at >= resolution:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "API token (`Bearer` or `Token`)."}
