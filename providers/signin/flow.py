"""What a verified login leads to (first login and linking): the rules in one place.

- A known (identity provider, subject) signs its user in; FORCE mappers apply again.
- A signed-in user who started a link gets the provider linked to their account.
- `linkOnly`: nothing else; no account is created or linked through that provider.
- An existing account with the same email is linked automatically only when the provider
  asserts the email verified (`email_verified` true, or `trustEmail` on) and its domain is one of
  that identity provider's verified domains, and never a superuser's. Otherwise the user proves
  the account is theirs (signs in to it) first: never take over an account on an unverified email.
- Else a new account, after the user reviewed the mapped profile when
  `updateProfileFirstLoginMode` says so."""

from dataclasses import asdict, dataclass
from typing import Any

from django.contrib.auth import get_user_model

from providers.identity.services.federation import (
    Profile,
    identity_mapper_specs,
    map_login,
    proposed_profile,
)
from providers.models import FederatedIdentity, IdentityProvider, IdentityProviderDomain

from .oidc import LoginError, LoginResult

User = get_user_model()


@dataclass(frozen=True)
class Outcome:
    """`kind`: "login" (user known), "link" (link to `user`, then sign in), "create", "review"
    (show the profile first), "prove" (an account with that email exists: the user signs in to it)."""

    kind: str
    user: Any = None
    federated: FederatedIdentity | None = None
    profile: Profile | None = None


def decide(*, identity: IdentityProvider, result: LoginResult, linking_user=None) -> Outcome:
    federated = (
        FederatedIdentity.objects.filter(identity=identity, subject=result.subject).select_related("user").first()
    )
    if federated is not None:
        if linking_user is not None and federated.user_id != linking_user.pk:
            raise LoginError(
                "This account at the provider is already linked to another user.", code="linked_elsewhere", status=409
            )
        if not federated.user.is_active:
            raise LoginError("This account is disabled.", code="inactive", status=403)
        return Outcome("login", user=federated.user, federated=federated)
    if linking_user is not None:
        return Outcome("link", user=linking_user)
    if identity.link_only:
        raise LoginError(
            "This identity provider only links accounts: sign in first, then link it from your linked accounts.",
            code="link_only",
            status=403,
        )
    specs = identity_mapper_specs(identity=identity)
    mapped = map_login(specs=specs, claims=result.claims, alias=identity.provider.provider_id, first_login=True)
    profile = proposed_profile(identity=identity, subject=result.subject, claims=result.claims, mapped=mapped)
    if profile.email:
        existing = User.objects.filter(email__iexact=profile.email).order_by("pk").first()
        if existing is not None:
            if not existing.is_active:
                raise LoginError("The account with this email is disabled.", code="inactive", status=403)
            # A superuser spans every workspace: one workspace's identity provider never links it
            # on an email alone, however vouched for; it proves the account instead.
            if not existing.is_superuser and email_trusted(
                identity=identity, claims=result.claims, email=profile.email
            ):
                return Outcome("link", user=existing)
            return Outcome("prove", user=existing, profile=profile)
    mode = identity.update_profile_first_login_mode
    missing = not (profile.email and profile.first_name and profile.last_name)
    if mode == IdentityProvider.FirstLoginMode.ON or (mode == IdentityProvider.FirstLoginMode.MISSING and missing):
        return Outcome("review", profile=profile)
    return Outcome("create", profile=profile)


def email_trusted(*, identity: IdentityProvider, claims: dict[str, Any], email: str) -> bool:
    """Whether the provider vouches for `email`: asserted verified (or `trustEmail`), in one of
    the identity provider's verified domains."""
    verified = claims.get("email_verified") is True or str(claims.get("email_verified")).lower() == "true"
    if not (verified or identity.trust_email):
        return False
    domain = email.rpartition("@")[2].lower()
    return IdentityProviderDomain.objects.filter(identity=identity, domain=domain, verified_at__isnull=False).exists()


def profile_values(profile: Profile) -> dict[str, str]:
    return asdict(profile)
