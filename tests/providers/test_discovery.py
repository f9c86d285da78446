import base64
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from defusedxml import DTDForbidden
from django.core.exceptions import ValidationError

from providers.identity.discovery import (
    MetadataCandidate,
    MetadataCandidatesError,
    certificate_info,
    certificates_info,
    oidc_discover,
    oidc_discovery_url,
    saml_fetch_metadata,
    saml_parse_metadata,
)
from tests.certificates import self_signed

from .oidc_documents import keycloak_discovery_document, keycloak_oidc_config, minimal_discovery_document

POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"


def okta_discovery_document(issuer):
    """A discovery document shaped like an Okta custom authorization server's."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/v1/authorize",
        "token_endpoint": f"{issuer}/v1/token",
        "userinfo_endpoint": f"{issuer}/v1/userinfo",
        "registration_endpoint": "https://dev-123456.okta.com/oauth2/v1/clients",
        "jwks_uri": f"{issuer}/v1/keys",
        "response_types_supported": ["code", "id_token", "code id_token", "code token", "id_token token"],
        "response_modes_supported": ["query", "fragment", "form_post", "okta_post_message"],
        "grant_types_supported": ["authorization_code", "implicit", "refresh_token", "password"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile", "email", "address", "phone", "offline_access", "device_sso"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "private_key_jwt",
            "none",
        ],
        "claims_supported": ["iss", "ver", "sub", "aud", "iat", "exp", "jti", "auth_time", "amr", "idp", "nonce"],
        "code_challenge_methods_supported": ["S256"],
        "introspection_endpoint": f"{issuer}/v1/introspect",
        "revocation_endpoint": f"{issuer}/v1/revoke",
        "end_session_endpoint": f"{issuer}/v1/logout",
        "request_parameter_supported": True,
    }


def make_certificate(common_name):
    return self_signed(common_name, days=1)[0]


def bare_base64(certificate):
    """The certificate the way metadata carries it: base64 DER, wrapped at 76 columns."""
    encoded = base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()
    return "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


def idp_metadata(*, entity_id, signing, encryption, sso_bindings=(REDIRECT, POST), want_signed="true"):
    """IdP metadata shaped like Keycloak's and Okta's exports."""
    base = "https://idp.example.com/realms/acme/protocol/saml"
    sso = "\n".join(f'<md:SingleSignOnService Binding="{b}" Location="{base}"/>' for b in sso_bindings)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
                     xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
                     entityID="{entity_id}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="{want_signed}"
                       protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="encryption">
      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{bare_base64(encryption)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo>
        <ds:KeyName>acme-signing</ds:KeyName>
        <ds:X509Data>
          <ds:X509Certificate>
{bare_base64(signing)}
          </ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:ArtifactResolutionService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP"
                                  Location="{base}/resolve" index="0"/>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="{base}/soap"/>
    <md:SingleLogoutService Binding="{REDIRECT}" Location="{base}/logout-redirect"/>
    <md:SingleLogoutService Binding="{POST}" Location="{base}/logout"/>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    {sso}
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""


def test_oidc_discover_maps_a_keycloak_document(httpserver):
    issuer = httpserver.url_for("/realms/acme")
    url = f"{issuer}/.well-known/openid-configuration"
    httpserver.expect_request("/realms/acme/.well-known/openid-configuration").respond_with_json(
        keycloak_discovery_document(issuer)
    )

    result = oidc_discover(url)

    assert result == {"protocol": "oidc", "oidc_config": keycloak_oidc_config(issuer), "source_url": url}


def test_oidc_discover_accepts_the_issuer_and_fetches_the_well_known_document(httpserver):
    issuer = httpserver.url_for("/oauth2/default")
    httpserver.expect_request("/oauth2/default/.well-known/openid-configuration").respond_with_json(
        okta_discovery_document(issuer)
    )

    result = oidc_discover(httpserver.url_for("/oauth2/default/"))

    assert [request.path for request, _ in httpserver.log] == ["/oauth2/default/.well-known/openid-configuration"]
    assert result["source_url"] == httpserver.url_for("/oauth2/default/.well-known/openid-configuration")
    assert result["oidc_config"]["issuer"] == issuer
    assert result["oidc_config"]["authorization_url"] == f"{issuer}/v1/authorize"
    assert result["oidc_config"]["logout_url"] == f"{issuer}/v1/logout"
    assert result["oidc_config"]["default_scope"] == "openid email profile"
    assert result["oidc_config"]["pkce_enabled"] is True
    assert result["oidc_config"]["client_auth_method"] == "client_secret_basic"


def test_oidc_discover_refuses_a_document_for_another_issuer_naming_both(httpserver):
    httpserver.expect_request("/realms/acme/.well-known/openid-configuration").respond_with_json(
        minimal_discovery_document("https://evil.example.com/realms/acme")
    )
    with pytest.raises(ValidationError) as raised:
        oidc_discover(httpserver.url_for("/realms/acme"))
    message = raised.value.message_dict["url"][0]
    assert "https://evil.example.com/realms/acme" in message and httpserver.url_for("/realms/acme") in message


@pytest.mark.parametrize("tenant", ["common", "organizations"])
def test_oidc_discover_accepts_entra_multi_tenant_documents(httpserver, tenant):
    """Entra ID's published document for /common/v2.0 and /organizations/v2.0 names
    https://login.microsoftonline.com/{tenantid}/v2.0 as its issuer."""
    template = httpserver.url_for("/{tenantid}/v2.0")
    httpserver.expect_request(f"/{tenant}/v2.0/.well-known/openid-configuration").respond_with_json(
        minimal_discovery_document(template)
    )
    assert oidc_discover(httpserver.url_for(f"/{tenant}/v2.0"))["oidc_config"]["issuer"] == template


def test_oidc_discovery_url_builds_the_well_known_url_from_an_issuer():
    assert (
        oidc_discovery_url("https://idp.example.com/realms/acme/")
        == "https://idp.example.com/realms/acme/.well-known/openid-configuration"
    )
    assert (
        oidc_discovery_url("https://login.example.com/.well-known/openid-configuration")
        == "https://login.example.com/.well-known/openid-configuration"
    )


def test_oidc_discovery_url_rejects_a_non_http_url():
    with pytest.raises(ValidationError) as caught:
        oidc_discovery_url("javascript:alert(1)")

    assert caught.value.message_dict == {"url": ["The URL is not an http or https URL."]}


def test_oidc_discover_uses_defaults_when_optional_fields_are_absent(httpserver):
    issuer = httpserver.url_for("/").rstrip("/")
    httpserver.expect_request("/.well-known/openid-configuration").respond_with_json(minimal_discovery_document(issuer))

    config = oidc_discover(httpserver.url_for("/"))["oidc_config"]

    assert config["user_info_url"] == ""
    assert config["logout_url"] == ""
    assert config["default_scope"] == "openid email profile"
    assert config["pkce_enabled"] is False
    assert config["pkce_method"] == "S256"
    assert config["client_auth_method"] == "client_secret_basic"


def test_oidc_discover_follows_what_the_provider_supports(httpserver):
    issuer = httpserver.url_for("/").rstrip("/")
    httpserver.expect_request("/.well-known/openid-configuration").respond_with_json(
        {
            **minimal_discovery_document(issuer),
            "scopes_supported": ["openid", "email"],
            "code_challenge_methods_supported": ["plain"],
            "token_endpoint_auth_methods_supported": ["tls_client_auth", "client_secret_post"],
        }
    )

    config = oidc_discover(httpserver.url_for("/"))["oidc_config"]

    assert config["default_scope"] == "openid email"
    assert config["pkce_enabled"] is False
    assert config["pkce_method"] == "plain"
    assert config["client_auth_method"] == "client_secret_post"


def test_oidc_discover_names_a_missing_jwks_uri(httpserver):
    document = keycloak_discovery_document("https://idp.example.com/realms/acme")
    del document["jwks_uri"]
    httpserver.expect_request("/.well-known/openid-configuration").respond_with_json(document)

    with pytest.raises(ValidationError) as caught:
        oidc_discover(httpserver.url_for("/"))

    assert caught.value.message_dict == {"url": ["The discovery document has no jwks_uri."]}


def test_oidc_discover_rejects_an_endpoint_that_is_not_http(httpserver):
    document = keycloak_discovery_document("https://idp.example.com/realms/acme")
    document["token_endpoint"] = "file:///etc/passwd"
    httpserver.expect_request("/.well-known/openid-configuration").respond_with_json(document)

    with pytest.raises(ValidationError) as caught:
        oidc_discover(httpserver.url_for("/"))

    assert caught.value.message_dict == {
        "url": ["token_endpoint in the discovery document is not an http or https URL."]
    }


def test_oidc_discover_rejects_a_response_that_is_not_json(httpserver):
    httpserver.expect_request("/.well-known/openid-configuration").respond_with_data(
        "<html><body>Sign in</body></html>", content_type="text/html"
    )

    with pytest.raises(ValidationError) as caught:
        oidc_discover(httpserver.url_for("/"))

    assert caught.value.message_dict == {"url": ["The discovery document is not valid JSON."]}


def test_oidc_discover_rejects_json_that_is_not_an_object(httpserver):
    httpserver.expect_request("/.well-known/openid-configuration").respond_with_json(["issuer"])

    with pytest.raises(ValidationError) as caught:
        oidc_discover(httpserver.url_for("/"))

    assert caught.value.message_dict == {"url": ["The discovery document is not a JSON object."]}


def test_oidc_discover_reports_the_http_status_of_a_failed_fetch(httpserver):
    httpserver.expect_request("/.well-known/openid-configuration").respond_with_data("boom", status=500)

    with pytest.raises(ValidationError) as caught:
        oidc_discover(httpserver.url_for("/"))

    [message] = caught.value.message_dict["url"]
    assert "returned HTTP 500" in message
    assert "boom" not in message


def test_oidc_discover_turns_a_refused_fetch_into_a_validation_error(httpserver):
    httpserver.expect_request("/.well-known/openid-configuration").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )

    with pytest.raises(ValidationError) as caught:
        oidc_discover(httpserver.url_for("/"))

    assert caught.value.message_dict == {"url": ["127.0.0.1 redirected (HTTP 302); redirects are not followed."]}


def test_saml_parse_metadata_maps_every_field():
    signing = make_certificate("idp.example.com signing")
    encryption = make_certificate("idp.example.com encryption")
    xml = idp_metadata(entity_id="https://idp.example.com/realms/acme", signing=signing, encryption=encryption)

    result = saml_parse_metadata(xml.encode())

    pem = signing.public_bytes(serialization.Encoding.PEM).decode()
    assert result == {
        "protocol": "saml",
        "entity_id": "https://idp.example.com/realms/acme",
        "saml_config": {
            "single_sign_on_service_url": "https://idp.example.com/realms/acme/protocol/saml",
            "single_logout_service_url": "https://idp.example.com/realms/acme/protocol/saml/logout-redirect",
            "name_id_policy_format": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            "signing_certificate": pem,
            "want_authn_requests_signed": True,
            "post_binding_authn_request": True,
            "post_binding_response": True,
        },
    }
    assert all(len(line) <= 64 for line in pem.splitlines())
    info = certificate_info(result["saml_config"]["signing_certificate"])
    assert info.not_after == signing.not_valid_after_utc
    assert info.not_before == signing.not_valid_before_utc
    assert info.subject == "CN=idp.example.com signing"
    assert info.fingerprint_sha256 == signing.fingerprint(hashes.SHA256()).hex(":").upper()


def test_saml_parse_metadata_falls_back_to_the_redirect_binding_and_defaults():
    certificate = make_certificate("idp")
    xml = idp_metadata(
        entity_id="urn:idp", signing=certificate, encryption=certificate, sso_bindings=(REDIRECT,), want_signed="false"
    )
    xml = xml.replace("<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>", "")
    xml = xml.replace("<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>", "")

    config = saml_parse_metadata(xml)["saml_config"]

    assert config["single_sign_on_service_url"] == "https://idp.example.com/realms/acme/protocol/saml"
    assert config["post_binding_authn_request"] is False
    assert config["want_authn_requests_signed"] is False
    assert config["name_id_policy_format"] == "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"


def test_saml_parse_metadata_takes_the_identity_provider_from_an_entities_descriptor():
    certificate = make_certificate("idp")
    idp = idp_metadata(entity_id="https://idp.example.com/idp", signing=certificate, encryption=certificate)
    idp = idp.split("?>", 1)[1]
    xml = f"""<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" Name="federation">
  <md:EntityDescriptor entityID="https://sp.example.com/sp">
    <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
      <md:AssertionConsumerService Binding="{POST}" Location="https://sp.example.com/acs" index="0"/>
    </md:SPSSODescriptor>
  </md:EntityDescriptor>
  {idp}
</md:EntitiesDescriptor>"""

    assert saml_parse_metadata(xml)["entity_id"] == "https://idp.example.com/idp"


def aggregate(*entities: str) -> str:
    return f"""<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
        xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui" Name="federation">{"".join(entities)}
</md:EntitiesDescriptor>"""


def aggregated_idp(entity_id: str, certificate, *, ui_names: str = "", organization_names: str = "") -> str:
    extensions = f"<md:Extensions><mdui:UIInfo>{ui_names}</mdui:UIInfo></md:Extensions>" if ui_names else ""
    organization = f"<md:Organization>{organization_names}</md:Organization>" if organization_names else ""
    return f"""
  <md:EntityDescriptor xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">
    <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{extensions}
      <md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{bare_base64(certificate)}</ds:X509Certificate>
      </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
      <md:SingleSignOnService Binding="{POST}" Location="{entity_id}/sso"/>
    </md:IDPSSODescriptor>{organization}
  </md:EntityDescriptor>"""


def test_saml_parse_metadata_refuses_an_aggregate_of_several_identity_providers_naming_them():
    certificate = make_certificate("idp")
    xml = aggregate(
        aggregated_idp(
            "https://a.example.edu/idp",
            certificate,
            ui_names='<mdui:DisplayName xml:lang="de">Universität A</mdui:DisplayName>'
            '<mdui:DisplayName xml:lang="en">University A</mdui:DisplayName>',
            organization_names='<md:OrganizationDisplayName xml:lang="en">A Org</md:OrganizationDisplayName>',
        ),
        aggregated_idp(
            "https://b.example.edu/idp",
            certificate,
            organization_names='<md:OrganizationDisplayName xml:lang="fr">École B</md:OrganizationDisplayName>',
        ),
        aggregated_idp("https://c.example.edu/idp", certificate),
    )

    with pytest.raises(MetadataCandidatesError) as caught:
        saml_parse_metadata(xml)

    assert caught.value.candidates == [
        MetadataCandidate("https://a.example.edu/idp", "University A"),  # mdui, the English one
        MetadataCandidate("https://b.example.edu/idp", "École B"),  # else OrganizationDisplayName
        MetadataCandidate("https://c.example.edu/idp", ""),
    ]
    assert caught.value.message_dict == {
        "metadata": [
            "The metadata lists 3 identity providers: send `entity_id` with the entityID of the one to import. "
            "Candidates: https://a.example.edu/idp (University A); https://b.example.edu/idp (École B); "
            "https://c.example.edu/idp."
        ]
    }
    assert saml_parse_metadata(xml, entity_id=" https://b.example.edu/idp ")["entity_id"] == "https://b.example.edu/idp"


def test_saml_parse_metadata_refuses_an_entity_id_listed_twice():
    certificate = make_certificate("idp")
    xml = aggregate(*(aggregated_idp("https://a.example.edu/idp", certificate) for _ in range(2)))

    with pytest.raises(MetadataCandidatesError) as caught:
        saml_parse_metadata(xml, entity_id="https://a.example.edu/idp")

    assert caught.value.message_dict == {
        "entity_id": ["The metadata lists the identity provider https://a.example.edu/idp 2 times; it is ambiguous."]
    }


def test_saml_parse_metadata_keeps_every_certificate_of_a_key_info_once():
    first, second = make_certificate("first"), make_certificate("second")
    xml = aggregate(aggregated_idp("https://a.example.edu/idp", first)).replace(
        "</ds:X509Data>",
        f"<ds:X509Certificate>{bare_base64(second)}</ds:X509Certificate></ds:X509Data>"
        f"<ds:X509Data><ds:X509Certificate>{bare_base64(first)}</ds:X509Certificate></ds:X509Data>",
    )

    config = saml_parse_metadata(xml)["saml_config"]

    assert [info.subject for info in certificates_info(config["signing_certificate"])] == ["CN=first", "CN=second"]


def test_saml_fetch_metadata_reads_metadata_over_http(httpserver):
    certificate = make_certificate("idp")
    xml = idp_metadata(entity_id="http://www.okta.com/exk1abc", signing=certificate, encryption=certificate)
    httpserver.expect_request("/app/exk1abc/sso/saml/metadata").respond_with_data(
        xml, content_type="application/samlmetadata+xml"
    )

    result = saml_fetch_metadata(httpserver.url_for("/app/exk1abc/sso/saml/metadata"))

    assert result["entity_id"] == "http://www.okta.com/exk1abc"
    assert result["saml_config"]["signing_certificate"] == certificate.public_bytes(serialization.Encoding.PEM).decode()


def test_saml_fetch_metadata_reports_errors_against_the_url(httpserver):
    httpserver.expect_request("/missing").respond_with_data("not found", status=404)
    httpserver.expect_request("/html").respond_with_data("<html><body>Login</body></html>")

    with pytest.raises(ValidationError) as missing:
        saml_fetch_metadata(httpserver.url_for("/missing"))
    with pytest.raises(ValidationError) as html:
        saml_fetch_metadata(httpserver.url_for("/html"))

    assert missing.value.message_dict == {"url": ["The metadata URL returned HTTP 404; expected 200."]}
    assert html.value.message_dict == {
        "url": ["Metadata must have an EntityDescriptor or EntitiesDescriptor root element."]
    }


def test_saml_parse_metadata_rejects_billion_laughs_before_expanding_entities():
    entities = "\n".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    xml = f"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol0 "lol">
  {entities}
]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&lol9;"/>"""

    started = time.monotonic()
    with pytest.raises(ValidationError) as caught:
        saml_parse_metadata(xml)

    assert time.monotonic() - started < 1
    assert isinstance(caught.value.__cause__, DTDForbidden)
    assert caught.value.message_dict == {
        "metadata": ["Metadata must not contain a DOCTYPE, entity declarations or external references."]
    }


def test_saml_parse_metadata_rejects_external_entities(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    xml = f"""<?xml version="1.0"?>
<!DOCTYPE md [<!ENTITY xxe SYSTEM "file://{secret}">]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&xxe;"/>"""

    with pytest.raises(ValidationError) as caught:
        saml_parse_metadata(xml.encode())

    assert "TOPSECRET" not in str(caught.value)
    assert list(caught.value.message_dict) == ["metadata"]


def test_saml_parse_metadata_rejects_any_doctype():
    certificate = make_certificate("idp")
    xml = idp_metadata(entity_id="urn:idp", signing=certificate, encryption=certificate)
    xml = xml.replace("?>", '?>\n<!DOCTYPE md:EntityDescriptor SYSTEM "saml-schema-metadata-2.0.dtd">', 1)

    with pytest.raises(ValidationError) as caught:
        saml_parse_metadata(xml)

    assert list(caught.value.message_dict) == ["metadata"]


def test_saml_parse_metadata_rejects_metadata_without_an_identity_provider():
    xml = f"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example.com">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:AssertionConsumerService Binding="{POST}" Location="https://sp.example.com/acs" index="0"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"""

    with pytest.raises(ValidationError) as caught:
        saml_parse_metadata(xml)

    assert caught.value.message_dict == {
        "metadata": ["Metadata has no SAML 2.0 IDPSSODescriptor; it does not describe an identity provider."]
    }


def test_saml_parse_metadata_rejects_xml_that_is_not_well_formed():
    with pytest.raises(ValidationError) as caught:
        saml_parse_metadata(b"<md:EntityDescriptor")

    assert caught.value.message_dict == {"metadata": ["Metadata is not well-formed XML."]}


def test_saml_parse_metadata_requires_a_signing_certificate():
    certificate = make_certificate("idp")
    xml = idp_metadata(entity_id="urn:idp", signing=certificate, encryption=certificate)
    xml = xml.replace('use="signing"', 'use="encryption"')

    with pytest.raises(ValidationError) as caught:
        saml_parse_metadata(xml)

    assert caught.value.message_dict == {
        "metadata": ['The IDPSSODescriptor has no signing certificate (KeyDescriptor use="signing").']
    }


@pytest.mark.parametrize(
    "garbage",
    [
        "not a certificate",
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
        "",
        "Zm9vYmFy",
    ],
)
def test_certificate_info_rejects_garbage(garbage):
    with pytest.raises(ValidationError) as caught:
        certificate_info(garbage)

    assert caught.value.message_dict == {"signing_certificate": ["Not a valid PEM X.509 certificate."]}


def test_certificate_info_accepts_bare_base64():
    certificate = make_certificate("idp.example.com")

    info = certificate_info(bare_base64(certificate))

    assert info.subject == "CN=idp.example.com"
    assert info.not_after == certificate.not_valid_after_utc
    assert info.not_after.tzinfo is not None
