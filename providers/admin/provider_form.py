"""The provider admin's form: the provider's fields and its credentials, validated with the
services' own rules (`provider_apply_changes`, `provider_validate`) on a copy of the row, and the
catalogue its script reads to show only the chosen types' inputs."""

import copy
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from providers import services
from providers.catalog import CAPABILITIES, CREDENTIAL_TYPE_CHOICES, CREDENTIAL_TYPES, PROVIDER_TYPES
from providers.models import Provider
from providers.selectors import provider_id_taken

from .common import SecretTextarea, plain_input, secret_input

# Credential content field (as the API names it) → the admin form's input.
CREDENTIAL_FORM_FIELDS = {
    "accessToken": "access_token",
    "userName": "user_name",
    "password": "password",
    "tokenUrl": "token_url",
    "clientId": "client_id",
    "clientSecret": "client_secret",
    "scope": "scope",
    "appId": "app_id",
    "privateKey": "private_key",
    "installationId": "installation_id",
}


def provider_form_catalog(*, creating: bool, current_type: str = "") -> dict[str, Any]:
    """What the provider form's script needs to show only the inputs of the chosen provider type and
    credential type (providers/static/providers/provider_admin.js), read from the catalogue."""
    return {
        "creating": creating,
        "currentType": current_type,
        "types": {
            t.key: {
                "label": t.label,
                "capability": CAPABILITIES[t.capability],
                "credentialTypes": list(t.credential_types),
                "base_url": t.base_url,
                "api_base_url": t.api_base_url,
            }
            for t in PROVIDER_TYPES.values()
        },
        "credentialTypes": {
            c.key: {"label": c.label, "help": c.help, "inputs": [CREDENTIAL_FORM_FIELDS[name] for name in c.all_fields]}
            for c in CREDENTIAL_TYPES.values()
        },
    }


class ProviderAdminForm(forms.ModelForm):
    """The provider form plus its credentials. Secret inputs never render a value; left blank
    on edit, the stored credentials stay as they are."""

    credential_type = forms.ChoiceField(
        choices=[("", "—"), *CREDENTIAL_TYPE_CHOICES],
        required=False,
        help_text="How the registry signs in to the provider, e.g. “Access token” for a GitHub token. On edit, "
        "choose a type only to replace the stored credentials (the replaced ones stay restorable for a while).",
    )
    access_token = secret_input("Access token, e.g. a GitHub fine-grained token “github_pat_…”.")
    user_name = plain_input("Service account's user name, e.g. “svc-ci”.")
    password = secret_input("Service account's password, or an app password, e.g. a Bitbucket app password.")
    token_url = plain_input(
        "OAuth 2.0 token endpoint, e.g. https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token."
    )
    client_id = plain_input("OAuth 2.0 client id, e.g. “6731de76-14a6-49ae-97bc-6eba6914391e”.")
    client_secret = secret_input("OAuth 2.0 client secret, e.g. the value of an Entra ID app's client secret.")
    scope = plain_input("Optional OAuth 2.0 scope, e.g. “499b84ac-1321-427f-aa17-267ca6975798/.default”.")
    app_id = plain_input("GitHub App id (a number), e.g. “123456”.")
    private_key = forms.CharField(
        required=False,
        strip=False,
        widget=SecretTextarea(attrs={"rows": 4, "autocomplete": "off"}),
        help_text="GitHub App private key (PEM), e.g. the downloaded .pem file's “-----BEGIN RSA PRIVATE KEY-----…”. "
        "Never shown again after saving.",
    )
    installation_id = plain_input("GitHub App installation id (a number), e.g. “7890123”.")
    credential_expires_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="When the provider stops accepting these credentials, e.g. the token's expiry date (optional; "
        "used by expiry reports and the dashboard).",
        label="Credentials expire at",
    )

    class Meta:
        model = Provider
        fields = ["provider_id", "label", "description", "type", "enabled", "base_url", "api_base_url"]

    def credential_input(self) -> services.CredentialInput | None:
        """The credentials typed into the form, or None when every credential input is blank."""
        ctype = self.cleaned_data.get("credential_type")
        values = {api: self.cleaned_data.get(form_name) for api, form_name in CREDENTIAL_FORM_FIELDS.items()}
        if not ctype and not any(values.values()):
            return None
        if not ctype:
            raise ValidationError({"credential_type": "Choose the credential type."})
        fields = CREDENTIAL_TYPES[ctype].all_fields
        return services.CredentialInput(
            type=ctype,
            content={name: values[name] for name in fields if values[name]},
            expires_at=self.cleaned_data.get("credential_expires_at"),
        )

    def clean(self):
        cleaned = super().clean() or {}
        creating = self.instance.pk is None
        if creating and cleaned.get("provider_id") and provider_id_taken(cleaned["provider_id"]):
            # In the workspace the form adds to; the unique constraint stays the guard (a 409).
            self.add_error("provider_id", f"A provider with id “{cleaned['provider_id']}” already exists.")
        try:
            credentials = self.credential_input()
            provider = copy.copy(self.instance)
            data = {name: cleaned[name] for name in services.PROVIDER_EDITABLE_FIELDS if name in cleaned}
            changed = services.provider_apply_changes(provider=provider, data=data)
            services.provider_validate(provider=provider, changed=changed, credentials=credentials, creating=creating)
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                field = CREDENTIAL_FORM_FIELDS.get(key.rsplit(".", 1)[-1], "credential_type")
                self.add_error(field if field in self.fields else None, errors)
        return cleaned
