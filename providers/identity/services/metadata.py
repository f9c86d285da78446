"""Metadata refresh of a SAML identity provider imported from a metadata URL (`metadata_url`): the
identity provider publishes its next signing certificate in its metadata before it signs with it,
and a refresh (on demand, or `manage.py refresh_idp_metadata` from cron) trusts it in time.

A refresh adds every signing certificate the metadata lists that is not trusted yet, and reports
the trusted ones the metadata no longer lists without removing them: removing a certificate is an
operator's decision (`remove_missing`), since an identity provider that dropped it from its metadata
may still sign with it, and a refresh never leaves the identity provider without a trusted
certificate. The SSO and SLO URLs follow the metadata; the other settings (bindings, NameID format,
signed requests) are the operator's and stay as they are."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from providers import history
from providers.catalog import SAML
from providers.models import IdentityProvider
from providers.services import provider_touch

from ..discovery import certificate_blocks, certificate_info, certificates_expire_at, saml_fetch_metadata

# The settings a refresh takes from the metadata, besides the certificates.
URL_FIELDS = ("single_sign_on_service_url", "single_logout_service_url")
URL_LABELS = {"single_sign_on_service_url": "SSO URL", "single_logout_service_url": "SLO URL"}


@dataclass(frozen=True)
class UrlChange:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class RefreshReport:
    """What a refresh found and did. Certificates are named by their SHA-256 fingerprint:
    `added` are newly trusted; `removed` are no longer listed and were removed (`remove_missing`);
    `kept` are no longer listed but still trusted; `trusted` is every trusted one afterwards."""

    alias: str
    workspace: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    kept: tuple[str, ...]
    trusted: tuple[str, ...]
    changed_urls: tuple[UrlChange, ...]
    certificate_expires_at: datetime | None

    @property
    def changed(self) -> bool:
        """Whether anything was written."""
        return bool(self.added or self.removed or self.changed_urls)

    @property
    def summary(self) -> str:
        """One line for people: "1 certificate added; 1 no longer in the metadata, kept; SSO URL changed"."""
        parts = []
        if self.added:
            parts.append(f"{_certificates(len(self.added))} added")
        if self.removed:
            parts.append(f"{_certificates(len(self.removed))} no longer in the metadata, removed")
        if self.kept:
            parts.append(f"{_certificates(len(self.kept))} no longer in the metadata, kept")
        parts += [f"{URL_LABELS[change.field]} changed" for change in self.changed_urls]
        return "; ".join(parts) if parts else "unchanged"


def _certificates(count: int) -> str:
    return f"{count} certificate{'s' * (count != 1)}"


def _refused(*messages: str) -> ValidationError:
    return ValidationError({"metadata_url": list(messages)})


def _fetch(url: str, *, entity_id: str) -> dict[str, Any]:
    """The identity provider's own entry of the metadata at `url` (one among an aggregate's too),
    through the outbound policy; every failure (unreachable, not metadata, the entity missing)
    reported against `metadata_url`."""
    try:
        return saml_fetch_metadata(url, entity_id=entity_id)["saml_config"]
    except ValidationError as exc:
        messages = [message for messages in exc.message_dict.values() for message in messages]
        raise _refused(*messages) from exc


def _fingerprinted(pem: str) -> list[tuple[str, str]]:
    """(SHA-256 fingerprint, PEM block) of each certificate, in order."""
    return [(certificate_info(block).fingerprint_sha256, block) for block in certificate_blocks(pem)]


def identity_provider_refresh_metadata(
    *, identity: IdentityProvider, actor, remove_missing: bool = False
) -> RefreshReport:
    """Fetch the identity provider's metadata from its `metadata_url` and bring its trusted signing
    certificates and SSO/SLO URLs up to date (see the module's docstring); a ValidationError on
    `metadata_url` when that fails, nothing written. The fetch happens before the transaction, so no
    row stays locked while a remote server answers; the changes are then made in one transaction on
    the locked row, against what it holds at that moment. A refresh that changes nothing writes
    nothing (no history, no new ETag), so a frequent cron job leaves no trace."""
    if identity.protocol != SAML:
        raise _refused("Only a SAML identity provider has metadata to refresh.")
    url, entity_id = identity.metadata_url.strip(), identity.entity_id.strip()
    if not url:
        raise _refused("No metadata URL is set: set the URL the provider publishes its metadata at.")
    if not entity_id:
        raise _refused("The identity provider has no entity ID to find in the metadata: set it first.")
    config = _fetch(url, entity_id=entity_id)
    with transaction.atomic():
        return _apply(
            identity=identity, actor=actor, url=url, entity_id=entity_id, config=config, remove_missing=remove_missing
        )


def _apply(
    *, identity: IdentityProvider, actor, url: str, entity_id: str, config: dict[str, Any], remove_missing: bool
) -> RefreshReport:
    identity = (
        IdentityProvider.objects.select_for_update(of=("self",))
        .select_related("provider__workspace")
        .defer(*IdentityProvider.SECRET_COLUMNS)
        .get(pk=identity.pk)
    )
    if (identity.metadata_url.strip(), identity.entity_id.strip()) != (url, entity_id):
        raise _refused("The metadata URL or entity ID changed while the metadata was fetched: refresh again.")
    trusted = _fingerprinted(identity.signing_certificate)
    published = _fingerprinted(config["signing_certificate"])
    trusted_prints = {fingerprint for fingerprint, _ in trusted}
    published_prints = {fingerprint for fingerprint, _ in published}
    added = [(fingerprint, block) for fingerprint, block in published if fingerprint not in trusted_prints]
    missing = [fingerprint for fingerprint, _ in trusted if fingerprint not in published_prints]
    removed = missing if remove_missing else []
    now_trusted = [(fingerprint, block) for fingerprint, block in trusted if fingerprint not in removed] + added
    blocks = [block for _, block in now_trusted]
    if not blocks:
        # The parser refuses metadata without a signing certificate; this guards the rule itself.
        raise _refused("The metadata lists no signing certificate: the trusted certificates are kept.")

    changed: list[str] = []
    if added or removed:
        identity.signing_certificate = "\n".join(blocks) + "\n"
        identity.certificate_expires_at = certificates_expire_at(identity.signing_certificate)
        changed += ["signing_certificate", "certificate_expires_at"]
    url_changes = []
    for name in URL_FIELDS:
        new = (config.get(name) or "").strip()
        # An SLO URL the metadata no longer lists is kept: it may have been set by hand.
        if new and new != getattr(identity, name):
            url_changes.append(UrlChange(field=name, old=getattr(identity, name), new=new))
            setattr(identity, name, new)
            changed.append(name)

    report = RefreshReport(
        alias=identity.provider.provider_id,
        workspace=identity.provider.workspace.name,
        added=tuple(fingerprint for fingerprint, _ in added),
        removed=tuple(removed),
        kept=tuple(fingerprint for fingerprint in missing if fingerprint not in removed),
        trusted=tuple(fingerprint for fingerprint, _ in now_trusted),
        changed_urls=tuple(url_changes),
        certificate_expires_at=identity.certificate_expires_at,
    )
    if not changed:
        return report
    try:
        identity.full_clean(exclude=["provider", *IdentityProvider.SECRET_COLUMNS], validate_constraints=False)
    except ValidationError as exc:
        raise _refused(
            *(
                f"The metadata's {name.replace('_', ' ')}: {message}"
                for name, messages in exc.message_dict.items()
                for message in messages
            )
        ) from exc
    identity.save(update_fields=changed)
    provider_touch(provider_pk=identity.provider_id, actor=actor)
    history.log_change(
        actor=actor,
        obj=identity.provider,
        fields=[name.replace("_", " ") for name in changed if name != "certificate_expires_at"],
        detail=f"metadata refresh from {url}: {report.summary}",
    )
    return report
