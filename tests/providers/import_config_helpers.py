"""What the import-config endpoint tests (tests/providers/test_import_config_*.py) share: the
endpoints and paths served, SAML metadata and what it imports as, hostile XML, uploads, and the
checks that a refusal is a 400 naming the field with nothing saved."""

import base64

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile

from providers.models import IdentityProvider, IdentityProviderMapper, Provider

IMPORT = "/api/identity-providers/import-config"
IDPS = "/api/identity-providers"
DISCOVERY_PATH = "/realms/acme/.well-known/openid-configuration"
METADATA_PATH = "/saml/metadata"
ENTITY_ID = "https://idp.acme.test/realms/acme"
SSO_BASE = "https://idp.acme.test/realms/acme/protocol/saml"
POST_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
REDIRECT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"


def der_base64(certificate: x509.Certificate) -> str:
    """The certificate the way metadata carries it: base64 DER, wrapped at 64 columns."""
    encoded = base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()
    return "\n".join(encoded[i : i + 64] for i in range(0, len(encoded), 64))


def idp_metadata(certificate: x509.Certificate) -> str:
    """IdP metadata shaped like Keycloak's export: Redirect listed before POST on purpose."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
                     xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
                     entityID="{ENTITY_ID}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="true"
                       protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo>
        <ds:KeyName>acme-rsa</ds:KeyName>
        <ds:X509Data>
          <ds:X509Certificate>{der_base64(certificate)}</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleLogoutService Binding="{REDIRECT_BINDING}" Location="{SSO_BASE}/logout-redirect"/>
    <md:SingleLogoutService Binding="{POST_BINDING}" Location="{SSO_BASE}/logout"/>
    <md:NameIDFormat>{EMAIL_FORMAT}</md:NameIDFormat>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:SingleSignOnService Binding="{REDIRECT_BINDING}" Location="{SSO_BASE}/redirect"/>
    <md:SingleSignOnService Binding="{POST_BINDING}" Location="{SSO_BASE}/post"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""


def upload(xml: str | bytes, name: str = "idp-metadata.xml") -> SimpleUploadedFile:
    content = xml.encode() if isinstance(xml, str) else xml
    return SimpleUploadedFile(name, content, content_type="application/samlmetadata+xml")


def assert_nothing_saved() -> None:
    assert not Provider.objects.exists()
    assert not IdentityProvider.objects.exists()
    assert not IdentityProviderMapper.objects.exists()
    assert not LogEntry.objects.exists()


def requested_paths(httpserver) -> list[str]:
    return [request.path for request, _ in httpserver.log]
