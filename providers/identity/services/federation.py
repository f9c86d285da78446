"""Writes of a sign-in through an identity provider: the federated identity that links a user to
the provider's subject, the account a first login creates, and what the mappers set on the user.
The login flows (`providers.signin`) call these; each is one transaction and audited."""

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import DEFAULT_WORKSPACE_ID, Membership
from accounts.roles import GROUP_ROLES, ROLE_RANK
from providers import audit
from providers.identity.mappers import VALUE_TO_GROUP, group_name
from providers.identity.mapping import MapperSpec, MappingResult, apply_mappers
from providers.models import AuditEvent, FederatedIdentity, IdentityProvider

User = get_user_model()
# The user's own columns a mapper may set; any other attribute goes to `User.attributes`.
USER_COLUMNS = {"email": 254, "first_name": 150, "last_name": 150}
GROUP_MAPPERS = frozenset({*VALUE_TO_GROUP, "oidc-hardcoded-group-idp-mapper"})
IMPORT, FORCE = IdentityProvider.SyncMode.IMPORT, IdentityProvider.SyncMode.FORCE
USERNAME_REFUSED = re.compile(r"[^\w.@+-]")
MAPPER_CACHE_SECONDS = 3600


@dataclass(frozen=True)
class Profile:
    """What a first login proposes for the new account (the mapped profile a user may review)."""

    username: str
    email: str
    first_name: str
    last_name: str


def identity_mapper_specs(*, identity: IdentityProvider) -> list[MapperSpec]:
    """The identity provider's mappers as the engine takes them, each with the sync mode it acts by
    (INHERIT resolved to the identity provider's; LEGACY acts as IMPORT). Cached under the
    provider's `updated_at`, which every write of the identity provider or its mappers moves
    (`provider_touch`), so a login never acts on stale mappers and a returning user's costs no query."""
    key = f"signin:mappers:{identity.pk}:{identity.provider.updated_at.isoformat()}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    specs = []
    for row in identity.mappers.order_by("id").values_list("name", "mapper_type", "config", "sync_mode"):
        name, mapper_type, config, mode = row
        if mode == IdentityProvider.SyncMode.INHERIT:
            mode = identity.sync_mode
        specs.append(
            MapperSpec(name=name, mapper_type=mapper_type, config=config, sync_mode=FORCE if mode == FORCE else IMPORT)
        )
    cache.set(key, specs, MAPPER_CACHE_SECONDS)
    return specs


def map_login(*, specs: list[MapperSpec], claims: dict[str, Any], alias: str, first_login: bool) -> MappingResult:
    """The mappers that act on this login: every one at a first login, the FORCE ones after."""
    acting = specs if first_login else [spec for spec in specs if spec.sync_mode == FORCE]
    return apply_mappers(mappers=acting, claims=claims, alias=alias)


def proposed_profile(
    *, identity: IdentityProvider, subject: str, claims: dict[str, Any], mapped: MappingResult
) -> Profile:
    """The new account's profile: mapped attributes first, then the standard claims."""

    def pick(attribute: str, *claim_names: str) -> str:
        value = mapped.attributes.get(attribute)
        for name in claim_names:
            if value not in (None, ""):
                break
            value = claims.get(name)
        return "" if value is None else str(value)[: USER_COLUMNS.get(attribute, 150)]

    email = pick("email", "email")
    username = mapped.username or str(claims.get("preferred_username") or claims.get("login") or "")
    username = username or email.partition("@")[0] or f"{identity.provider.provider_id}.{subject}"
    return Profile(
        username=username[:150],
        email=email,
        first_name=pick("first_name", "given_name"),
        last_name=pick("last_name", "family_name"),
    )


def free_username(wanted: str) -> str:
    """`wanted` in the characters a user name may hold (letters, digits, @ . + - _), or that with
    the first free numeric suffix (ana, ana2, ana3, …; a random one after 20 taken)."""
    base = USERNAME_REFUSED.sub("", wanted.replace(" ", "."))[:140] or "user"
    candidates = [base, *(f"{base}{n}" for n in range(2, 21))]
    for candidate in candidates:
        if not User.objects.filter(username__iexact=candidate).exists():
            return candidate
    return f"{base}.{secrets.token_hex(4)}"


@transaction.atomic
def federated_user_create(
    *,
    identity: IdentityProvider,
    subject: str,
    profile: Profile,
    claims: dict[str, Any],
    specs: list[MapperSpec],
    tokens: dict[str, Any],
) -> tuple[Any, FederatedIdentity]:
    """A first login's new account, linked to the provider's subject, with every mapper applied.
    The account has no usable password: it signs in through the identity provider."""
    user = User(
        username=free_username(profile.username),
        email=profile.email,
        first_name=profile.first_name,
        last_name=profile.last_name,
    )
    user.set_unusable_password()
    try:
        user.full_clean(exclude=["password"])
        with transaction.atomic():
            user.save()
    except ValidationError as exc:
        raise ValidationError({"profile": [str(message) for message in exc.messages]}) from exc
    except IntegrityError as exc:  # the name was taken a moment ago by another sign-in
        raise ValidationError({"profile": ["That user name was just taken: sign in again."]}) from exc
    mapped = map_login(specs=specs, claims=claims, alias=identity.provider.provider_id, first_login=True)
    _apply(user=user, mapped=mapped, specs=specs, first_login=True, keep_profile=True, workspace_id=_ws(identity))
    federated = _link(identity=identity, user=user, subject=subject, claims=claims, tokens=tokens)
    audit.record(action=AuditEvent.Action.CREATE, actor=user, obj=user, object_type="user", workspace_id=_ws(identity))
    return user, federated


@transaction.atomic
def federated_identity_link(
    *, identity: IdentityProvider, user, subject: str, claims: dict[str, Any], specs: list[MapperSpec], tokens: dict
) -> FederatedIdentity:
    """Link an existing account to the provider's subject (its first login through that provider:
    every mapper applies). Refused when the user already has an account at that provider."""
    if FederatedIdentity.objects.filter(identity=identity, user=user).exists():
        raise ValidationError({"link": ["This account is already linked to another account at this provider."]})
    mapped = map_login(specs=specs, claims=claims, alias=identity.provider.provider_id, first_login=True)
    _apply(user=user, mapped=mapped, specs=specs, first_login=True, keep_profile=False, workspace_id=_ws(identity))
    return _link(identity=identity, user=user, subject=subject, claims=claims, tokens=tokens)


@transaction.atomic
def federated_identity_login(
    *, federated: FederatedIdentity, claims: dict[str, Any], specs: list[MapperSpec], tokens: dict
) -> None:
    """A returning user's login: the FORCE mappers applied again, the last login and (with
    `store_token`) the tokens updated."""
    identity = federated.identity
    if any(spec.sync_mode == FORCE for spec in specs):
        mapped = map_login(specs=specs, claims=claims, alias=identity.provider.provider_id, first_login=False)
        _apply(
            user=federated.user,
            mapped=mapped,
            specs=specs,
            first_login=False,
            keep_profile=False,
            workspace_id=_ws(identity),
        )
    federated.last_login_at = timezone.now()
    federated.username, federated.email = _given_names(claims)
    update = ["last_login_at", "username", "email"]
    if identity.store_token:
        federated.token = json.dumps(tokens)
        update.append("token")
    federated.save(update_fields=update)


@transaction.atomic
def federated_identity_unlink(*, federated: FederatedIdentity, actor, allow_last: bool = False) -> None:
    """Remove a link. A user may not remove their last way to sign in (no usable password and no
    other linked provider); an operator may (`allow_last`, the admin)."""
    user = federated.user
    others = FederatedIdentity.objects.filter(user=user).exclude(pk=federated.pk).exists()
    if not allow_last and not others and not user.has_usable_password():
        raise ValidationError({"link": ["This is the account's only way to sign in; link another provider first."]})
    audit.record(
        action=AuditEvent.Action.UNLINK,
        actor=actor,
        obj=federated.identity.provider,
        object_type="federated_identity",
        object_id=federated.subject,
        object_repr=f"{user.get_username()} at {federated.identity.provider.provider_id}",
    )
    federated.delete()


def _ws(identity: IdentityProvider) -> int:
    workspace_id = identity.provider.workspace_id
    assert workspace_id is not None  # a provider always belongs to a workspace (a NOT NULL column)
    return workspace_id


def _given_names(claims: dict[str, Any]) -> tuple[str, str]:
    username = claims.get("preferred_username") or claims.get("login") or ""
    email = claims.get("email") or ""
    return str(username)[:255], str(email)[:254]


def _link(*, identity: IdentityProvider, user, subject: str, claims: dict[str, Any], tokens: dict) -> FederatedIdentity:
    username, email = _given_names(claims)
    federated = FederatedIdentity(
        identity=identity,
        user=user,
        subject=subject,
        username=username,
        email=email,
        last_login_at=timezone.now(),
        token=json.dumps(tokens) if identity.store_token else None,
        token_readable=bool(identity.store_token and identity.add_read_token_role_on_create),
    )
    try:
        with transaction.atomic():
            federated.save()
    except IntegrityError as exc:
        raise ValidationError({"link": ["This account at the provider is already linked to a user."]}) from exc
    audit.record(
        action=AuditEvent.Action.LINK,
        actor=user,
        obj=identity.provider,
        object_type="federated_identity",
        object_id=subject,
        object_repr=f"{user.get_username()} at {identity.provider.provider_id}",
    )
    return federated


def _apply(
    *,
    user,
    mapped: MappingResult,
    specs: list[MapperSpec],
    first_login: bool,
    keep_profile: bool,
    workspace_id: int,
) -> None:
    """Set what the mappers gave: columns, other attributes, groups; under FORCE, take away the
    groups of FORCE group mappers that no longer grant them. A user holding a role group (the
    operators', the project owners') or a workspace role may open the admin."""
    changed: set[str] = set()
    for attribute, value in mapped.attributes.items():
        text = "" if value is None else value if isinstance(value, str) else json.dumps(value)
        if attribute in USER_COLUMNS:
            if keep_profile:
                continue  # the reviewed profile already holds it
            text = text[: USER_COLUMNS[attribute]]
            if getattr(user, attribute) != text:
                setattr(user, attribute, text)
                changed.add(attribute)
        elif user.attributes.get(attribute) != value:
            user.attributes[attribute] = value
            changed.add("attributes")

    granted = set(mapped.groups)
    revoked = set()
    if not first_login:
        for spec in specs:
            if spec.sync_mode == FORCE and spec.mapper_type in GROUP_MAPPERS:
                name = group_name(spec.config.get("group", ""))
                if name not in granted:
                    revoked.add(name)
    if workspace_id != DEFAULT_WORKSPACE_ID:
        # Outside the default workspace a global group stands for its role in this workspace only.
        roles = {GROUP_ROLES[name] for name in granted & GROUP_ROLES.keys()}
        lost = bool(revoked & GROUP_ROLES.keys())
        granted -= GROUP_ROLES.keys()
        revoked -= GROUP_ROLES.keys()
        member = _set_workspace_role(user=user, workspace_id=workspace_id, roles=roles, remove=lost)
        if member and not user.is_staff:
            user.is_staff = True
            changed.add("is_staff")
        elif not member and lost and _may_lose_admin(user):
            user.is_staff = False
            changed.add("is_staff")
    if granted:
        user.groups.add(*Group.objects.filter(name__in=granted))
    if revoked:
        user.groups.remove(*Group.objects.filter(name__in=revoked))
    if granted & GROUP_ROLES.keys() and not user.is_staff:
        user.is_staff = True
        changed.add("is_staff")
    elif revoked & GROUP_ROLES.keys() and _may_lose_admin(user):
        user.is_staff = False
        changed.add("is_staff")
    if changed:
        user.save(update_fields=sorted(changed))


def _may_lose_admin(user) -> bool:
    """Whether a user whose role groups a FORCE mapper took away also loses the admin: only an
    account made by sign-in (no password; a local operator keeps what was given by hand), with no
    role group and no workspace membership left."""
    if not user.is_staff or user.is_superuser or user.has_usable_password():
        return False
    return not user.groups.filter(name__in=GROUP_ROLES.keys()).exists() and not user.memberships.exists()


def _set_workspace_role(*, user, workspace_id: int, roles: set[str], remove: bool) -> bool:
    """Make the user a member of the workspace with the highest of `roles`, or, with none and
    `remove`, take away a membership a sign-in gave. A membership given by hand is never changed.
    True when the user is a member afterwards."""
    membership = Membership.objects.filter(workspace_id=workspace_id, user=user).first()
    role = max(roles, key=ROLE_RANK.__getitem__) if roles else None
    if membership is not None and not membership.via_signin:
        return True
    if role is None:
        if membership is not None and remove:
            membership.delete()
            audit.record(action=AuditEvent.Action.DELETE, actor=user, obj=membership, object_id=user.get_username())
            return False
        return membership is not None
    if membership is None:
        membership = Membership.objects.create(workspace_id=workspace_id, user=user, role=role, via_signin=True)
        audit.record(action=AuditEvent.Action.CREATE, actor=user, obj=membership, object_id=user.get_username())
    elif membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
        audit.record(
            action=AuditEvent.Action.UPDATE, actor=user, obj=membership, object_id=user.get_username(), fields=["role"]
        )
    return True
