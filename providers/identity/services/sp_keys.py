"""The service provider's own key pair per SAML identity provider: it signs AuthnRequests and
decrypts encrypted assertions. The private key is encrypted at rest like every secret; the
certificate is public (in the SP metadata).

Rollover without downtime: `sp_key_generate` on an identity provider that has a key makes the
*next* key, which the metadata publishes beside the current one (the provider learns it on its
next metadata refresh); `sp_key_activate_next` makes it the one that signs and decrypts, and keeps
the replaced pair as the *previous* one. The previous key only decrypts: an identity provider that
has not refreshed this registry's metadata yet still encrypts for the old certificate, and its
sign-ins keep working until the operator runs `sp_key_forget_previous` (the provider has moved on).
Only the current key signs; the metadata lists the current and the next certificate, never the
previous one (`providers.signin.saml.metadata` says why)."""

from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from providers import audit
from providers.catalog import SAML
from providers.identity.discovery import certificates_expire_at
from providers.models import AuditEvent, IdentityProvider
from providers.services import provider_touch

KEY_SIZE = 3072
VALID_FOR = timedelta(days=3 * 365)


def _key_pair(common_name: str) -> tuple[str, str]:
    """A new RSA key (PKCS#8 PEM) and its self-signed certificate (PEM), SHA-256."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64] or "registry")])
    now = timezone.now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALID_FOR)
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return private, certificate.public_bytes(serialization.Encoding.PEM).decode()


@transaction.atomic
def sp_key_generate(*, identity: IdentityProvider, actor) -> str:
    """The first key pair, or the next one (published before it is used); "current" or "next"."""
    identity = _locked(identity)
    if identity.sp_next_certificate:
        raise ValidationError({"sp_key": ["A next key is already published: activate it first."]})
    private, certificate = _key_pair(f"{identity.provider.provider_id} SAML service provider")
    which = "next" if identity.sp_certificate else "current"
    if which == "current":
        identity.sp_private_key, identity.sp_certificate = private, certificate
        identity.sp_certificate_expires_at = certificates_expire_at(certificate)
        fields = ["sp_private_key", "sp_certificate", "sp_certificate_expires_at"]
    else:
        identity.sp_next_private_key, identity.sp_next_certificate = private, certificate
        fields = ["sp_next_private_key", "sp_next_certificate"]
    identity.save(update_fields=fields)
    provider_touch(provider_pk=identity.provider_id, actor=actor)
    audit.record(action=AuditEvent.Action.ROTATE, actor=actor, obj=identity.provider, fields=[f"SP key ({which})"])
    return which


@transaction.atomic
def sp_key_activate_next(*, identity: IdentityProvider, actor) -> None:
    """The next key signs and decrypts from now on. The pair it replaces becomes the previous one,
    which still decrypts (an identity provider may encrypt for it until it refreshes this registry's
    metadata) but neither signs nor is published; a previous pair kept from an earlier rollover is
    dropped (two rollovers old, no identity provider should still encrypt for it)."""
    identity = _locked(identity)
    if not identity.sp_next_certificate:
        raise ValidationError({"sp_key": ["There is no next key to activate: generate one first."]})
    replaced_previous = bool(identity.sp_previous_certificate)
    identity.sp_previous_private_key, identity.sp_previous_certificate = (
        identity.sp_private_key,
        identity.sp_certificate,
    )
    identity.sp_private_key, identity.sp_certificate = identity.sp_next_private_key, identity.sp_next_certificate
    identity.sp_certificate_expires_at = certificates_expire_at(identity.sp_certificate)
    identity.sp_next_private_key, identity.sp_next_certificate = None, ""
    identity.save(
        update_fields=[
            "sp_previous_private_key",
            "sp_previous_certificate",
            "sp_private_key",
            "sp_certificate",
            "sp_certificate_expires_at",
            "sp_next_private_key",
            "sp_next_certificate",
        ]
    )
    provider_touch(provider_pk=identity.provider_id, actor=actor)
    fields = ["SP key (activated)"]
    if replaced_previous:
        fields.append("SP key (the previous of an earlier rollover forgotten)")
    audit.record(action=AuditEvent.Action.ROTATE, actor=actor, obj=identity.provider, fields=fields)


@transaction.atomic
def sp_key_forget_previous(*, identity: IdentityProvider, actor) -> None:
    """The end of a rollover: the previous key is deleted, so an assertion still encrypted for its
    certificate is refused from now on (`decryption`). For when every identity provider encrypts
    for the current certificate."""
    identity = _locked(identity)
    if not identity.sp_previous_certificate:
        raise ValidationError({"sp_key": ["There is no previous key to forget."]})
    identity.sp_previous_private_key, identity.sp_previous_certificate = None, ""
    identity.save(update_fields=["sp_previous_private_key", "sp_previous_certificate"])
    provider_touch(provider_pk=identity.provider_id, actor=actor)
    audit.record(
        action=AuditEvent.Action.ROTATE, actor=actor, obj=identity.provider, fields=["SP key (previous forgotten)"]
    )


def _locked(identity: IdentityProvider) -> IdentityProvider:
    """The identity provider's row, locked for the key change; refused unless it signs in with
    SAML (only SAML has SP keys: OIDC clients have none of this registry's keys)."""
    identity = IdentityProvider.objects.select_for_update().select_related("provider").get(pk=identity.pk)
    if identity.protocol != SAML:
        raise ValidationError({"protocol": ["Only a SAML identity provider has SP keys."]})
    return identity
