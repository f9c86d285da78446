"""Several signing certificates, as an identity provider publishes them while rolling its key
over: each is checked, all are kept and returned, and the expiry tracked is the first one's (the
expiry report then says the old certificate is lapsing: time to remove it)."""

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from providers.identity.discovery import saml_parse_metadata
from providers.models import IdentityProvider
from tests.certificates import pem, self_signed

from .test_discovery import bare_base64

IDPS = "/api/identity-providers"


def certificate(name: str, days: int) -> x509.Certificate:
    return self_signed(name, days=days)[0]


def saml_body(signing_certificate: str) -> dict:
    return {
        "alias": "corp-saml",
        "provider_id": "saml",
        "saml_config": {
            "single_sign_on_service_url": "https://idp.example.test/sso",
            "signing_certificate": signing_certificate,
        },
    }


def test_two_certificates_are_kept_and_the_expiry_is_the_earlier_one(operator_client):
    old, new = certificate("old", days=10), certificate("new", days=400)

    # The new one first: the expiry is the earliest, not the first listed.
    response = operator_client.post(IDPS, saml_body(pem(new) + pem(old)), format="json")

    assert response.status_code == 201, response.content
    identity = IdentityProvider.objects.get()
    assert identity.certificate_expires_at == old.not_valid_after_utc
    assert response.json()["saml_config"]["signing_certificate"] == (pem(new) + pem(old)).strip()
    keycloak = operator_client.get(f"{IDPS}/corp-saml?representation=keycloak").json()
    assert keycloak["config"]["signingCertificate"] == f"{bare_base64(new)},{bare_base64(old)}".replace("\n", "")


def test_keycloaks_comma_separated_certificates_are_each_read(operator_client):
    old, new = certificate("old", days=10), certificate("new", days=400)
    body = {
        "alias": "corp-saml",
        "providerId": "saml",
        "config": {
            "singleSignOnServiceUrl": "https://idp.example.test/sso",
            "signingCertificate": ",".join(bare_base64(c).replace("\n", "") for c in (old, new)),
        },
    }

    response = operator_client.post(IDPS, body, format="json")

    assert response.status_code == 201, response.content
    assert IdentityProvider.objects.get().certificate_expires_at == old.not_valid_after_utc


def test_a_broken_second_certificate_is_refused(operator_client):
    broken = pem(certificate("good", days=10)) + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"

    response = operator_client.post(IDPS, saml_body(broken), format="json")

    assert response.status_code == 400
    assert response.json() == {"saml_config.signing_certificate": ["Not a valid PEM X.509 certificate."]}
    assert not IdentityProvider.objects.exists()


def test_metadata_with_two_signing_key_descriptors_gives_both_certificates():
    old, new = certificate("old", days=10), certificate("new", days=400)
    descriptors = "".join(
        f'<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{bare_base64(c)}'
        "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        for c in (old, new)
    )
    xml = f"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
        xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example.test">
      <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{descriptors}
        <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
          Location="https://idp.example.test/sso"/>
      </md:IDPSSODescriptor></md:EntityDescriptor>"""

    config = saml_parse_metadata(xml.encode())["saml_config"]

    assert config["signing_certificate"] == pem(old) + pem(new)


def test_a_private_key_beside_the_certificate_is_refused_and_never_stored(operator_client):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()

    response = operator_client.post(IDPS, saml_body(pem(certificate("good", days=10)) + private), format="json")

    assert response.status_code == 400
    assert response.json() == {
        "saml_config.signing_certificate": ["This holds a private key: send the certificate alone, never the key."]
    }
    assert "PRIVATE KEY" not in response.content.decode()
    assert not IdentityProvider.objects.exists()


def test_junk_after_a_comma_of_keycloaks_certificates_is_refused(operator_client):
    good = bare_base64(certificate("good", days=10)).replace("\n", "")
    body = {
        "alias": "corp-saml",
        "providerId": "saml",
        "config": {
            "singleSignOnServiceUrl": "https://idp.example.test/sso",
            "signingCertificate": f"{good},not a cert!!",
        },
    }

    response = operator_client.post(IDPS, body, format="json")

    assert response.status_code == 400
    assert response.json() == {"config.signingCertificate": ["Not a valid PEM X.509 certificate."]}
    assert not IdentityProvider.objects.exists()
