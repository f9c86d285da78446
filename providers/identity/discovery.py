"""Identity-provider configuration read from the outside world: OpenID Connect discovery
documents and SAML 2.0 IdP metadata.

Each parser returns a plain dict in the product's field names (``oidc_config`` /
``saml_config`` hold IdentityProvider fields), so the API and the admin can offer "import from
URL" without knowing either format. Every failure is a ``ValidationError`` keyed by the input
field ("url" or "metadata") with a message the user can act on. URLs go through
``providers.fetch.fetch``, which applies the outbound policy (security invariant 7).
"""

import base64
import binascii
import json
import re
import textwrap
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from defusedxml import DefusedXmlException
from django.core.exceptions import ValidationError

from providers.catalog import OIDC, SAML
from providers.fetch import FetchError, FetchResult, fetch

WELL_KNOWN_OIDC = "/.well-known/openid-configuration"

SAML_MD = "urn:oasis:names:tc:SAML:2.0:metadata"
SAML_MDUI = "urn:oasis:names:tc:SAML:metadata:ui"
SAML_DS = "http://www.w3.org/2000/09/xmldsig#"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SAML2_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML_BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
SAML_BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
SAML_NAMEID_UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"

# Preference order when the provider supports several; the first is also the OIDC default.
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt"]


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    not_before: datetime
    not_after: datetime
    fingerprint_sha256: str


@dataclass(frozen=True)
class MetadataCandidate:
    """One identity provider of a metadata aggregate, as the operator chooses among them."""

    entity_id: str
    display_name: str

    def label(self) -> str:
        return f"{self.entity_id} ({self.display_name})" if self.display_name else self.entity_id


class MetadataCandidatesError(ValidationError):
    """Metadata with several identity providers (a federation aggregate) and no `entity_id`
    choosing one, or one choosing none of them: a ValidationError whose `candidates` the API
    answers beside the messages, so a client can offer the choice."""

    def __init__(self, message: dict[str, list[str]], candidates: list[MetadataCandidate]):
        super().__init__(message)
        self.candidates = candidates

    def rekeyed(self, key: str, field: str) -> "MetadataCandidatesError":
        """The same error with the messages under `key` moved to `field` (the input they came in)."""
        errors = {(field if name == key else name): messages for name, messages in self.message_dict.items()}
        return MetadataCandidatesError(errors, self.candidates)


def oidc_discovery_url(value: str) -> str:
    """The discovery document URL for an issuer URL, or the URL itself if it already is one."""
    base = value.strip().rstrip("/")
    _require_http_url(base, key="url", label="The URL")
    if base.endswith(WELL_KNOWN_OIDC):
        return base
    return base + WELL_KNOWN_OIDC


def oidc_discover(url: str) -> dict[str, Any]:
    """Fetch an OpenID Connect discovery document and map it to an OIDC identity provider.

    ``url`` may be the issuer or the discovery URL itself. The choices a discovery document
    does not dictate (scope, PKCE, client authentication) get the safest value it supports.
    """
    discovery_url = oidc_discovery_url(url)
    result = _fetch_ok(discovery_url, accept="application/json", what="discovery document")
    try:
        document = json.loads(result.body)
    except (ValueError, RecursionError) as exc:
        raise _url_error("The discovery document is not valid JSON.") from exc
    if not isinstance(document, dict):
        raise _url_error("The discovery document is not a JSON object.")

    endpoints = {
        field: _discovery_url_field(document, key, required=required)
        for field, key, required in [
            ("issuer", "issuer", True),
            ("authorization_url", "authorization_endpoint", True),
            ("token_url", "token_endpoint", True),
            ("user_info_url", "userinfo_endpoint", False),
            ("jwks_url", "jwks_uri", True),
            ("logout_url", "end_session_endpoint", False),
        ]
    }
    _check_issuer(endpoints["issuer"], fetched_for=discovery_url.removesuffix(WELL_KNOWN_OIDC))
    scopes = _discovery_string_list(document, "scopes_supported")
    if scopes is None:
        default_scope = "openid email profile"
    else:
        default_scope = " ".join(["openid", *(scope for scope in ("email", "profile") if scope in scopes)])
    pkce_methods = _discovery_string_list(document, "code_challenge_methods_supported") or []
    auth_methods = _discovery_string_list(document, "token_endpoint_auth_methods_supported") or []
    client_auth_method = next((m for m in CLIENT_AUTH_METHODS if m in auth_methods), CLIENT_AUTH_METHODS[0])

    return {
        "protocol": "oidc",
        "oidc_config": {
            **endpoints,
            "default_scope": default_scope,
            "pkce_enabled": "S256" in pkce_methods,
            "pkce_method": "plain" if "plain" in pkce_methods and "S256" not in pkce_methods else "S256",
            "client_auth_method": client_auth_method,
            "validate_signature": True,
            "use_jwks_url": True,
        },
        "source_url": discovery_url,
    }


def saml_parse_metadata(xml: bytes | str, *, entity_id: str = "") -> dict[str, Any]:
    """Map SAML 2.0 metadata to a SAML identity provider.

    The root may be one EntityDescriptor or an EntitiesDescriptor (a federation aggregate). An
    aggregate listing one SAML 2.0 identity provider gives that one; one listing several is refused
    with the candidates (entityID and display name) unless `entity_id` names one: the first is never
    taken silently. `entity_id` must name the identity provider the metadata describes. Any DOCTYPE
    is refused outright, which rules out entity expansion (billion laughs) and external entities
    before they are read.
    """
    try:
        root = SafeET.fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise _metadata_error(
            "Metadata must not contain a DOCTYPE, entity declarations or external references."
        ) from exc
    except (ParseError, ValueError) as exc:
        raise _metadata_error("Metadata is not well-formed XML.") from exc

    if root.tag == _md("EntityDescriptor"):
        entities = [root]
    elif root.tag == _md("EntitiesDescriptor"):
        entities = list(root.iter(_md("EntityDescriptor")))
    else:
        raise _metadata_error("Metadata must have an EntityDescriptor or EntitiesDescriptor root element.")
    entity, idp = _chosen_identity_provider(_identity_providers(entities), entity_id=entity_id.strip())

    entity_id = (entity.get("entityID") or "").strip()
    if not entity_id:
        raise _metadata_error("The EntityDescriptor has no entityID.")
    sso_url, sso_binding = _saml_endpoint(idp, "SingleSignOnService")
    if not sso_url:
        raise _metadata_error(
            "The IDPSSODescriptor has no SingleSignOnService with the HTTP-POST or HTTP-Redirect binding."
        )
    # Single logout is sent by redirect (`signin.saml.logout_url`): the HTTP-Redirect endpoint first.
    slo_url, _ = _saml_endpoint(idp, "SingleLogoutService", prefer=SAML_BINDING_REDIRECT)
    name_id_format = next(
        (text for element in idp.findall(_md("NameIDFormat")) if (text := (element.text or "").strip())),
        SAML_NAMEID_UNSPECIFIED,
    )

    return {
        "protocol": "saml",
        "entity_id": entity_id,
        "saml_config": {
            "single_sign_on_service_url": sso_url,
            "single_logout_service_url": slo_url,
            "name_id_policy_format": name_id_format,
            "signing_certificate": _signing_certificates(idp),
            "want_authn_requests_signed": (idp.get("WantAuthnRequestsSigned") or "").strip() in ("true", "1"),
            "post_binding_authn_request": sso_binding == SAML_BINDING_POST,
            "post_binding_response": True,
        },
    }


def saml_fetch_metadata(url: str, *, entity_id: str = "") -> dict[str, Any]:
    """Fetch SAML metadata from ``url`` and parse it; errors about the document are reported against
    "url" (those about the `entity_id` chosen, against "entity_id")."""
    url = url.strip()
    result = _fetch_ok(
        url, accept="application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8", what="metadata"
    )
    try:
        return saml_parse_metadata(result.body, entity_id=entity_id)
    except ValidationError as exc:
        raise _rekeyed(exc, "url") from exc


CERTIFICATE_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----")


def certificates_pem(value: str) -> str:
    """Certificates as PEM: PEM as given, or bare base64 DER armoured (as IdP admin consoles show
    it; several separated by commas, as Keycloak writes them)."""
    text = value.strip()
    if "-----BEGIN" in text:
        return text
    return "".join(pem_from_base64("".join(part.split())) for part in text.split(",") if part.strip())


def certificate_blocks(value: str) -> list[str]:
    """Each certificate of `value` (see `certificates_pem`) as its own PEM block, in order."""
    return CERTIFICATE_BLOCK.findall(certificates_pem(value)) if value.strip() else []


def certificates_info(pem: str) -> list[CertificateInfo]:
    """Subject, validity and SHA-256 fingerprint of each certificate (an IdP rolling its key over
    publishes two), for display and expiry tracking. Only certificates: anything else beside them,
    a private key above all, is refused rather than stored and shown."""
    text = certificates_pem(pem)
    if "PRIVATE KEY" in text:
        raise ValidationError(
            {"signing_certificate": ["This holds a private key: send the certificate alone, never the key."]}
        )
    try:
        if not text or CERTIFICATE_BLOCK.sub("", text).strip():
            raise ValueError("text outside the certificates")
        certificates = x509.load_pem_x509_certificates(text.encode("ascii"))
    except ValueError as exc:
        raise ValidationError({"signing_certificate": ["Not a valid PEM X.509 certificate."]}) from exc
    return [
        CertificateInfo(
            subject=certificate.subject.rfc4514_string(),
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
            fingerprint_sha256=certificate.fingerprint(hashes.SHA256()).hex(":").upper(),
        )
        for certificate in certificates
    ]


def certificate_info(pem: str) -> CertificateInfo:
    """The first certificate of `certificates_info`."""
    return certificates_info(pem)[0]


def certificates_expire_at(pem: str) -> datetime:
    """When the first of the certificates expires: the expiry report then tells the operator that a
    trusted certificate is lapsing, the old one of a rollover included, which is the signal to
    remove it once the identity provider signs with the new one."""
    return min(info.not_after for info in certificates_info(pem))


def _url_error(message: str) -> ValidationError:
    return ValidationError({"url": [message]})


def _metadata_error(message: str) -> ValidationError:
    return ValidationError({"metadata": [message]})


def _require_http_url(value: str, *, key: str, label: str) -> None:
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValidationError({key: [f"{label} is not an http or https URL."]})


def _check_issuer(issuer: str, *, fetched_for: str) -> None:
    """OpenID Connect Discovery 1.0, section 4.3: the document's issuer is the issuer it was
    fetched for (a trailing slash aside, which people type or leave out). Entra ID's multi-tenant
    documents (`common`, `organizations`, `consumers`) name `{tenantid}` in its place: each ID
    token's `iss` is then checked against the template filled with its `tid`."""
    if issuer.rstrip("/") == fetched_for.rstrip("/"):
        return
    if "{tenantid}" in issuer:
        tenant = urlsplit(fetched_for).path.strip("/").split("/")[0]
        if tenant in ("common", "organizations", "consumers") and (
            issuer.replace("{tenantid}", tenant).rstrip("/") == fetched_for.rstrip("/")
        ):
            return
    raise _url_error(
        f"The discovery document is for the issuer {issuer}, not {fetched_for}: "
        "its issuer must be the one it is fetched for (OpenID Connect Discovery 1.0)."
    )


def _fetch_ok(url: str, *, accept: str, what: str) -> FetchResult:
    try:
        result = fetch(url, accept=accept)
    except FetchError as exc:
        raise _url_error(str(exc)) from exc
    if result.status != 200:
        raise _url_error(f"The {what} URL returned HTTP {result.status}; expected 200.")
    return result


def _discovery_url_field(document: dict[str, Any], key: str, *, required: bool) -> str:
    value = document.get(key)
    if value is None or value == "":
        if required:
            raise _url_error(f"The discovery document has no {key}.")
        return ""
    if not isinstance(value, str):
        raise _url_error(f"{key} in the discovery document is not a string.")
    _require_http_url(value, key="url", label=f"{key} in the discovery document")
    return value


def _discovery_string_list(document: dict[str, Any], key: str) -> list[str] | None:
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _url_error(f"{key} in the discovery document is not a list of strings.")
    return value


def _md(name: str) -> str:
    return f"{{{SAML_MD}}}{name}"


def _identity_providers(entities: list[Element]) -> list[tuple[Element, Element]]:
    """Each entity's SAML 2.0 IDPSSODescriptor (the first, if an entity has several)."""
    found = []
    for entity in entities:
        for idp in entity.findall(_md("IDPSSODescriptor")):
            # Shibboleth-style metadata may also carry SAML 1.x descriptors; only 2.0 is usable.
            if SAML2_PROTOCOL in (idp.get("protocolSupportEnumeration") or "").split():
                found.append((entity, idp))
                break
    if not found:
        raise _metadata_error("Metadata has no SAML 2.0 IDPSSODescriptor; it does not describe an identity provider.")
    return found


def _chosen_identity_provider(found: list[tuple[Element, Element]], *, entity_id: str) -> tuple[Element, Element]:
    """The one identity provider, or the one `entity_id` names; several without a choice, or a
    choice matching none (or more than one), are refused with the candidates."""
    if not entity_id:
        if len(found) == 1:
            return found[0]
        candidates = _candidates(found)
        raise MetadataCandidatesError(
            {
                "metadata": [
                    f"The metadata lists {len(candidates)} identity providers: send `entity_id` with the "
                    "entityID of the one to import. Candidates: "
                    + "; ".join(candidate.label() for candidate in candidates)
                    + "."
                ]
            },
            candidates,
        )
    matching = [(entity, idp) for entity, idp in found if (entity.get("entityID") or "").strip() == entity_id]
    if len(matching) == 1:
        return matching[0]
    if matching:
        message = f"The metadata lists the identity provider {entity_id} {len(matching)} times; it is ambiguous."
    elif len(found) == 1:
        described = (found[0][0].get("entityID") or "").strip()
        message = f"The metadata describes the identity provider {described}, not {entity_id}."
    else:
        message = f"No identity provider in the metadata has the entityID {entity_id}."
    raise MetadataCandidatesError({"entity_id": [message]}, _candidates(found))


def _candidates(found: list[tuple[Element, Element]]) -> list[MetadataCandidate]:
    return [
        MetadataCandidate(entity_id=(entity.get("entityID") or "").strip(), display_name=_display_name(entity, idp))
        for entity, idp in found
    ]


def _display_name(entity: Element, idp: Element) -> str:
    """The identity provider's name for people: mdui:DisplayName (the English one if there are
    several), else the Organization's OrganizationDisplayName, else ""."""
    names = idp.findall(f"{_md('Extensions')}/{{{SAML_MDUI}}}UIInfo/{{{SAML_MDUI}}}DisplayName")
    names = names or entity.findall(f"{_md('Organization')}/{_md('OrganizationDisplayName')}")
    texts = [(element.get(XML_LANG) or "", " ".join((element.text or "").split())) for element in names]
    texts = [(lang, text) for lang, text in texts if text]
    english = [text for lang, text in texts if lang.lower().startswith("en")]
    return (english or [text for _, text in texts] or [""])[0]


def _saml_endpoint(idp: Element, tag: str, *, prefer: str = SAML_BINDING_POST) -> tuple[str, str]:
    """Location and binding of the endpoint with the `prefer` binding, else of the other one
    (HTTP-POST, HTTP-Redirect), else ("", "")."""
    locations: dict[str, str] = {}
    for element in idp.findall(_md(tag)):
        binding = element.get("Binding") or ""
        location = (element.get("Location") or "").strip()
        if binding in (SAML_BINDING_POST, SAML_BINDING_REDIRECT) and location and binding not in locations:
            _require_http_url(location, key="metadata", label=f"The {tag} Location")
            locations[binding] = location
    for binding in sorted((SAML_BINDING_POST, SAML_BINDING_REDIRECT), key=lambda binding: binding != prefer):
        if binding in locations:
            return locations[binding], binding
    return "", ""


def _signing_certificates(idp: Element) -> str:
    """Every signing certificate as PEM, one after the other, each once (an identity provider rolling
    its key over publishes two, Entra ID often three); KeyDescriptors without ``use`` sign too, and
    every X509Certificate of a KeyInfo counts."""
    pems: list[str] = []
    for descriptor in idp.findall(_md("KeyDescriptor")):
        if (descriptor.get("use") or "signing").strip() != "signing":
            continue
        key_info = descriptor.find(f"{{{SAML_DS}}}KeyInfo")
        if key_info is None:
            continue
        for element in key_info.iter(f"{{{SAML_DS}}}X509Certificate"):
            if not (element.text or "").strip():
                continue
            pem = pem_from_base64("".join((element.text or "").split()))
            try:
                certificate_info(pem)
            except ValidationError as exc:
                raise _metadata_error(
                    "The signing certificate in the metadata is not a valid X.509 certificate."
                ) from exc
            if pem not in pems:
                pems.append(pem)
    if not pems:
        raise _metadata_error('The IDPSSODescriptor has no signing certificate (KeyDescriptor use="signing").')
    return "".join(pems)


def pem_from_base64(data: str) -> str:
    """Re-encode base64 DER as PEM with 64-character lines; invalid base64 yields text the PEM
    loader rejects, so callers report one error for both cases."""
    try:
        der = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return data
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode("ascii"), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"


METADATA_MAX_BYTES = 1_000_000


def guess_protocol(url: str, *, entity_id: str = "") -> str:
    """The protocol a configuration URL most likely serves, when the request does not say; a request
    choosing an `entity_id` is about SAML metadata, unless the URL is an OIDC discovery document."""
    looks_saml = bool(entity_id) or any(hint in url.lower() for hint in ("saml", "metadata", ".xml"))
    return SAML if looks_saml and "openid-configuration" not in url else OIDC


def import_configuration(
    *,
    url: str = "",
    protocol: str | None = None,
    metadata: bytes | str | None = None,
    field: str = "metadata",
    entity_id: str = "",
) -> dict[str, Any]:
    """A configuration read from the outside world, nothing saved: SAML metadata given as a document
    (`field` names the input it came in, for errors), or an OIDC discovery document or SAML metadata
    fetched from `url`. `entity_id` chooses the identity provider of a SAML metadata aggregate. SAML
    results carry `entity_id` inside `saml_config` too, so the config can be posted as it is; fetched
    from a URL, they carry it as `metadata_url`, so the saved identity provider can be refreshed."""
    if metadata is not None:
        if len(metadata) > METADATA_MAX_BYTES:
            raise ValidationError({field: [f"At most {METADATA_MAX_BYTES // 1_000_000} MB."]})
        try:
            result = saml_parse_metadata(metadata, entity_id=entity_id)
        except ValidationError as exc:
            raise _rekeyed(exc, field) from exc
    elif (protocol or guess_protocol(url, entity_id=entity_id)) == SAML:
        result = saml_fetch_metadata(url, entity_id=entity_id)
        # Where it came from, so the saved identity provider can refresh it (metadata refresh).
        result["saml_config"]["metadata_url"] = url.strip()
    elif entity_id:
        raise ValidationError({"entity_id": ["Only SAML metadata lists entities to choose from."]})
    else:
        result = oidc_discover(url)
    if "saml_config" in result and result.get("entity_id"):
        result["saml_config"] = {"entity_id": result["entity_id"], **result["saml_config"]}
    return result


def _rekeyed(exc: ValidationError, field: str) -> ValidationError:
    """A metadata error reported against the input the document came in (`url`, `metadata_xml`…);
    errors about the `entity_id` chosen stay on `entity_id`, and the candidates stay with them."""
    if isinstance(exc, MetadataCandidatesError):
        return exc.rekeyed("metadata", field)
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"metadata": exc.messages}
    return ValidationError({(field if name == "metadata" else name): messages for name, messages in errors.items()})
