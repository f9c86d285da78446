"""The SAML 2.0 side of a login, with python3-saml (xmlsec signatures, lxml parsing with entities
and DTDs refused): the service provider's metadata, the AuthnRequest (HTTP-Redirect or HTTP-POST,
signed when the provider wants it) and the checks of a Response (a signature by one of the
provider's trusted certificates on the Response or the Assertion, Destination, Audience,
Recipient, InResponseTo, NotBefore/NotOnOrAfter within the clock skew, signature wrapping).

An assertion ID is used once: `SamlAssertionUse` in the database, so a replay is refused on
every app server. What a login produced is a `LoginResult` like an OIDC login's: the principal
as subject, the attributes as claims (under their Name and their FriendlyName), so first login,
linking and mappers are the same code (`flow`, `services.federation`)."""

import base64
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import xmlsec
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.errors import OneLogin_Saml2_Error, OneLogin_Saml2_ValidationError
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from providers.identity.discovery import certificates_pem
from providers.identity.selectors import saml_acs_path as acs_path
from providers.identity.selectors import saml_sls_path as sls_path
from providers.identity.selectors import saml_sp_entity_id as sp_entity_id
from providers.models import IdentityProvider, SamlAssertionUse

from . import saml_schema
from .oidc import LoginError, LoginResult
from .state import PENDING_TTL

saml_schema.install()  # the SAML XML Schema parsed once per thread, not for every message

# python3-saml reads the clock drift it allows in NotBefore/NotOnOrAfter from this constant (there
# is no setting per request): the product's skew, the same as for ID tokens, for the whole process.
OneLogin_Saml2_Constants.ALLOWED_CLOCK_DRIFT = settings.SIGNIN_CLOCK_SKEW
NAMEID_UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
PEM_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)
# Where the standard claims the first login reads (email, names) are found in SAML attributes:
# the OIDs of eduPerson/inetOrgPerson, Microsoft's claim URIs, and common friendly names.
STANDARD_CLAIMS = {
    "email": (
        "urn:oid:0.9.2342.19200300.100.1.3",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "mail",
        "email",
        "emailAddress",
    ),
    "given_name": (
        "urn:oid:2.5.4.42",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
        "givenName",
        "firstName",
    ),
    "family_name": (
        "urn:oid:2.5.4.4",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
        "sn",
        "surname",
        "lastName",
    ),
    "preferred_username": ("urn:oid:0.9.2342.19200300.100.1.1", "uid"),
}


def trusted_certificates(identity: IdentityProvider) -> list[str]:
    """Each certificate the provider may sign with (several during a rollover)."""
    return PEM_BLOCK.findall(certificates_pem(identity.signing_certificate)) if identity.signing_certificate else []


def _settings(identity: IdentityProvider, request: HttpRequest, *, key: str = "current") -> dict[str, Any]:
    """python3-saml's settings for this identity provider. `key` chooses the SP key pair they hold:
    "current" (what signs, and what the metadata lists with the next certificate), or, only to
    decrypt an assertion encrypted for another of this registry's keys, "next" (published before it
    signs) or "previous" (replaced by the last rollover, kept until forgotten). python3-saml takes
    one private key, so each is a separate settings object; none of them changes which certificates
    of the identity provider are trusted."""
    acs = request.build_absolute_uri(acs_path(identity))
    signs = bool(identity.sp_private_key)
    pairs = {
        "current": (identity.sp_private_key, identity.sp_certificate),
        "next": (identity.sp_next_private_key, identity.sp_next_certificate),
        "previous": (identity.sp_previous_private_key, identity.sp_previous_certificate),
    }
    private_key, certificate = pairs[key]
    sp: dict[str, Any] = {
        "entityId": sp_entity_id(identity, request),
        "assertionConsumerService": {"url": acs, "binding": OneLogin_Saml2_Constants.BINDING_HTTP_POST},
        "NameIDFormat": identity.name_id_policy_format or NAMEID_UNSPECIFIED,
        "x509cert": certificate if signs else "",
        "privateKey": private_key if signs else "",
    }
    if identity.sp_next_certificate:
        sp["x509certNew"] = identity.sp_next_certificate
    idp: dict[str, Any] = {
        "entityId": identity.entity_id,
        "singleSignOnService": {
            "url": identity.single_sign_on_service_url,
            "binding": OneLogin_Saml2_Constants.BINDING_HTTP_POST
            if identity.post_binding_authn_request
            else OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT,
        },
        "x509certMulti": {"signing": trusted_certificates(identity)},
    }
    if identity.single_logout_service_url and identity.logout_at_provider:
        sp["singleLogoutService"] = {
            "url": request.build_absolute_uri(sls_path(identity)),
            "binding": OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT,
        }
    if identity.single_logout_service_url:
        idp["singleLogoutService"] = {
            "url": identity.single_logout_service_url,
            "binding": OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT,
        }
    return {
        "strict": True,
        "debug": False,
        "sp": sp,
        "idp": idp,
        "security": {
            "authnRequestsSigned": bool(identity.want_authn_requests_signed and signs),
            "logoutRequestSigned": signs,
            "wantAssertionsSigned": bool(identity.want_assertions_signed),
            "wantAssertionsEncrypted": bool(identity.want_assertions_encrypted),
            "wantMessagesSigned": False,
            "wantNameId": identity.principal_type == IdentityProvider.PrincipalType.SUBJECT,
            "requestedAuthnContext": False,
            "rejectDeprecatedAlgorithm": True,
            "signatureAlgorithm": OneLogin_Saml2_Constants.RSA_SHA256,
            "digestAlgorithm": OneLogin_Saml2_Constants.SHA256,
            "allowRepeatAttributeName": True,
            "allowSingleLabelDomains": True,  # intranet hosts and localhost
            # No validUntil in the SP metadata (python3-saml's default is two days from the request):
            # the document is then the same for as long as its ETag, and a copy an identity provider
            # keeps on a 304 never expires under it.
            "metadataValidUntil": "",
        },
    }


def _request_data(request: HttpRequest, path: str, post: dict[str, str] | None = None) -> dict[str, Any]:
    """The request as python3-saml reads it, for the URL `path` of this host (the ACS URL when a
    Response is checked: its Destination must be that URL). The host with its port as the URLs
    this registry builds have it (python3-saml deprecates a separate `server_port`)."""
    host = urlsplit(request.build_absolute_uri("/"))
    return {
        "https": "on" if host.scheme == "https" else "off",
        "http_host": host.netloc.lower(),
        "script_name": path,
        "get_data": {},
        "post_data": post or {},
    }


class _AuthnRequest(OneLogin_Saml2_Authn_Request):
    """python3-saml's AuthnRequest with `AllowCreate` as the identity provider says."""

    def __init__(self, settings: OneLogin_Saml2_Settings, *, force_authn: bool, allow_create: bool):
        super().__init__(settings, force_authn=force_authn, set_nameid_policy=True)
        if not allow_create:
            xml = str(getattr(self, "_authn_request"))  # noqa: B009 - python3-saml's attribute, untyped
            self._authn_request = xml.replace('AllowCreate="true"', 'AllowCreate="false"')


def authn_request(identity: IdentityProvider, request: HttpRequest, *, relay_state: str) -> dict[str, Any]:
    """The AuthnRequest for a login: {"binding": "redirect", "url": …} or {"binding": "post",
    "url": …, "fields": {"SAMLRequest": …, "RelayState": …}}, and its "request_id" (the
    InResponseTo the Response must carry). The used assertion IDs past their NotOnOrAfter are
    let go here, at the start, off the Response's path."""
    _require_usable(identity)
    SamlAssertionUse.objects.filter(identity=identity, not_on_or_after__lt=timezone.now()).delete()
    try:
        auth = OneLogin_Saml2_Auth(_request_data(request, acs_path(identity)), _settings(identity, request))
        saml_settings = auth.get_settings()
        built = _AuthnRequest(saml_settings, force_authn=identity.force_authn, allow_create=identity.allow_create)
        sso_url = identity.single_sign_on_service_url
        if identity.post_binding_authn_request:
            xml = built.get_xml()
            if saml_settings.get_security_data()["authnRequestsSigned"]:
                xml = OneLogin_Saml2_Utils.add_sign(
                    xml,
                    identity.sp_private_key,
                    identity.sp_certificate,
                    sign_algorithm=OneLogin_Saml2_Constants.RSA_SHA256,
                    digest_algorithm=OneLogin_Saml2_Constants.SHA256,
                )
            encoded = base64.b64encode(xml if isinstance(xml, bytes) else xml.encode()).decode()
            fields = {"SAMLRequest": encoded, "RelayState": relay_state}
            return {"binding": "post", "url": sso_url, "fields": fields, "request_id": built.get_id()}
        parameters = {"SAMLRequest": built.get_request(), "RelayState": relay_state}
        if saml_settings.get_security_data()["authnRequestsSigned"]:
            auth.add_request_signature(parameters, OneLogin_Saml2_Constants.RSA_SHA256)
        return {"binding": "redirect", "url": auth.redirect_to(sso_url, parameters), "request_id": built.get_id()}
    except OneLogin_Saml2_Error as exc:
        raise LoginError(f"The SAML request could not be made: {exc}", code="configuration", status=403) from exc


def process_response(
    identity: IdentityProvider, request: HttpRequest, *, saml_response: str, request_id: str | None
) -> LoginResult:
    """The login a SAML Response establishes, once every check has passed; `request_id` None for
    an IdP-initiated (unsolicited) response, accepted only when the identity provider allows it."""
    _require_usable(identity)
    if request_id is None and not identity.allow_idp_initiated:
        raise LoginError(
            "This identity provider may not start sign-ins (IdP-initiated sign-in is off).",
            code="unsolicited",
            status=403,
        )
    data = _request_data(request, acs_path(identity), {"SAMLResponse": saml_response})
    try:
        response = _parsed_response(identity, request, saml_response)
        response.is_valid(data, request_id, raise_exceptions=True)
        claims = _claims(response)
        principal = _principal_value(identity, response, claims)
        answered = response.get_in_response_to()
        assertion_id, not_on_or_after = response.get_assertion_id(), response.get_assertion_not_on_or_after()
        # What single logout names the session by (`logout_url`); kept as the login's "tokens".
        session = {"name_id": response.get_nameid() or "", "name_id_format": response.get_nameid_format() or ""}
        session["session_index"] = response.get_session_index() or ""
    except OneLogin_Saml2_ValidationError as exc:
        raise LoginError(_reason(str(exc)), code=_code(exc)) from exc
    except xmlsec.Error as exc:  # only decryption is left to raise it (signatures are checked quietly)
        raise LoginError(
            "The SAML assertion is encrypted for a key this registry does not have (or no longer has): give the "
            "provider the current SP certificate (the metadata).",
            code="decryption",
        ) from exc
    except (OneLogin_Saml2_Error, ValueError, TypeError) as exc:
        raise LoginError("The SAML response is malformed.", code="malformed") from exc
    except Exception as exc:  # lxml and xmlsec raise their own kinds on hostile XML
        raise LoginError("The SAML response could not be read.", code="malformed") from exc
    if request_id is None and answered:
        raise LoginError("An unsolicited SAML response answers a request of another sign-in.", code="in_response_to")
    if not principal:
        raise LoginError("The SAML response does not name the user (principal).", code="principal")
    _use_once(identity, assertion_id, not_on_or_after)
    return LoginResult(subject=principal, claims={**claims, "sub": principal}, tokens=session)


# The SP keys an encrypted assertion is decrypted with, in turn: the current one; during a rollover
# the next one, which the metadata already lists; after one, the previous one, until forgotten.
DECRYPTION_KEYS = (
    ("current", "sp_private_key"),
    ("next", "sp_next_private_key"),
    ("previous", "sp_previous_private_key"),
)


def _parsed_response(identity: IdentityProvider, request: HttpRequest, saml_response: str) -> OneLogin_Saml2_Response:
    """The Response, its assertion decrypted (python3-saml decrypts as it parses, with the one SP
    key its settings hold): with the current SP key, else with each other key this registry holds
    (`DECRYPTION_KEYS`). Only a failed decryption (xmlsec.Error) moves on to the next key; the
    last one's error is raised, which the caller refuses as `decryption`. Nothing here checks a
    signature: the Response a key decrypted goes through the same `is_valid` as any other, against
    the identity provider's trusted certificates only, so a key tried here can let in only an
    assertion encrypted for this registry, never one signed by someone else."""
    keys = [role for role, column in DECRYPTION_KEYS if role == "current" or getattr(identity, column)]
    for role in keys[:-1]:
        try:
            return OneLogin_Saml2_Response(
                OneLogin_Saml2_Settings(_settings(identity, request, key=role)), saml_response
            )
        except xmlsec.Error:
            continue
    return OneLogin_Saml2_Response(OneLogin_Saml2_Settings(_settings(identity, request, key=keys[-1])), saml_response)


def logout_url(identity: IdentityProvider, request: HttpRequest, *, session: dict[str, str], return_to: str) -> str:
    """The provider's single logout (SP-initiated, HTTP-Redirect binding, signed when the SP has
    a key), or "" when it has no SLO URL or the operator has not turned `logout_at_provider` on."""
    if not (identity.logout_at_provider and identity.single_logout_service_url and session.get("name_id")):
        return ""
    try:
        auth = OneLogin_Saml2_Auth(_request_data(request, sls_path(identity)), _settings(identity, request))
        return auth.logout(
            return_to=return_to,
            name_id=session["name_id"],
            session_index=session.get("session_index") or None,
            name_id_format=session.get("name_id_format") or None,
        )
    except OneLogin_Saml2_Error:
        return ""


def logout_finished(identity: IdentityProvider, request: HttpRequest) -> bool:
    """Whether the provider's LogoutResponse (at the SLS URL) is valid; the local session has
    ended before the browser went there."""
    data = {**_request_data(request, sls_path(identity)), "get_data": request.GET.dict()}
    try:
        auth = OneLogin_Saml2_Auth(data, _settings(identity, request))
        auth.process_slo(keep_local_session=True)
    except (OneLogin_Saml2_Error, ValueError, TypeError):
        return False
    return not auth.get_errors()


def metadata(identity: IdentityProvider, request: HttpRequest) -> str:
    """The service provider's metadata for this identity provider: entity ID, ACS (HTTP-POST),
    NameID format, and the current and, during a rollover, the next certificate, each for signing
    (and for encryption when assertions must be encrypted).

    The previous certificate (kept after a rollover, `sp_key_forget_previous`) is left out, for
    encryption too. SAML 2.0 Metadata (saml-metadata-2.0-os, 2.4.1.1) lets an identity provider
    encrypt for any `KeyDescriptor` with `use="encryption"` it finds: listing the previous one would
    invite a provider that does refresh the metadata to keep encrypting for the key being retired,
    whose sign-ins would then break when it is forgotten. The providers that still encrypt for it
    are by definition those that have not read the metadata since the rollover, so listing it would
    help none of them; they are served by the previous key kept for decryption (`_parsed_response`),
    not by the metadata. It never signs, so it is not listed for signing either (the InCommon and
    Shibboleth key-rollover practice: an old key leaves the encryption descriptors first)."""
    saml_settings = OneLogin_Saml2_Settings(_settings(identity, request), sp_validation_only=True)
    xml = saml_settings.get_sp_metadata()
    return xml.decode() if isinstance(xml, bytes) else xml


def _require_usable(identity: IdentityProvider) -> None:
    if not identity.single_sign_on_service_url or not trusted_certificates(identity):
        raise LoginError(
            "The identity provider has no SSO URL or no signing certificate.", code="configuration", status=403
        )
    if (identity.want_authn_requests_signed or identity.want_assertions_encrypted) and not identity.sp_private_key:
        raise LoginError(
            "The identity provider needs this registry's SAML key, which is not generated yet.",
            code="configuration",
            status=403,
        )


def _use_once(identity: IdentityProvider, assertion_id: str | None, not_on_or_after: Any) -> None:
    if not assertion_id:
        raise LoginError("The SAML assertion has no ID.", code="invalid")
    expires = parse_datetime(not_on_or_after) if isinstance(not_on_or_after, str) else None
    if isinstance(not_on_or_after, int | float):
        expires = datetime.fromtimestamp(not_on_or_after, tz=UTC)
    expires = expires or timezone.now() + timedelta(seconds=PENDING_TTL)
    try:
        with transaction.atomic():
            SamlAssertionUse.objects.create(identity=identity, assertion_id=assertion_id[:255], not_on_or_after=expires)
    except IntegrityError as exc:
        raise LoginError("This SAML assertion was used already (a replay).", code="replay") from exc


def _claims(response: OneLogin_Saml2_Response) -> dict[str, Any]:
    """The attributes under their Name and, where one is not already taken, their FriendlyName:
    one value as itself, several as a list; with the standard claims the first login reads."""
    claims: dict[str, Any] = {}
    for source in (response.get_attributes(), response.get_friendlyname_attributes()):
        for name, values in source.items():
            if name not in claims:
                claims[name] = values[0] if len(values) == 1 else list(values)
    for claim, names in STANDARD_CLAIMS.items():
        for name in names:
            if claim not in claims and isinstance(claims.get(name), str):
                claims[claim] = claims[name]
    claims["name_id"] = response.get_nameid() or ""
    return claims


def _principal_value(identity: IdentityProvider, response: OneLogin_Saml2_Response, claims: dict[str, Any]) -> str:
    """The user's id at the provider: the NameID, or the configured attribute's single value."""
    if identity.principal_type == IdentityProvider.PrincipalType.SUBJECT:
        principal = response.get_nameid()
    else:
        value = claims.get(identity.principal_attribute)
        principal = value if isinstance(value, str) else None
    return str(principal)[:255] if principal else ""


def _reason(message: str) -> str:
    """python3-saml's reason, shortened, without XML or values from the response."""
    text = re.sub(r"<[^>]*>", "", message).strip()
    return f"The SAML response was refused: {text[:200]}" if text else "The SAML response was refused."


def _code(exc: OneLogin_Saml2_ValidationError) -> str:
    names = {
        OneLogin_Saml2_ValidationError.WRONG_AUDIENCE: "audience",
        OneLogin_Saml2_ValidationError.WRONG_DESTINATION: "destination",
        OneLogin_Saml2_ValidationError.WRONG_INRESPONSETO: "in_response_to",
        OneLogin_Saml2_ValidationError.ASSERTION_EXPIRED: "expired",
        OneLogin_Saml2_ValidationError.ASSERTION_TOO_EARLY: "too_early",
        OneLogin_Saml2_ValidationError.INVALID_SIGNATURE: "signature",
        OneLogin_Saml2_ValidationError.NO_SIGNATURE_FOUND: "unsigned",
        OneLogin_Saml2_ValidationError.NO_SIGNED_ASSERTION: "unsigned",
        OneLogin_Saml2_ValidationError.WRONG_ISSUER: "issuer",
    }
    return names.get(getattr(exc, "code", None), "invalid")
