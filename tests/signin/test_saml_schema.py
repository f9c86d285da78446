"""The SAML XML Schema kept between messages (`providers.signin.saml_schema`) answers as python3-saml's
own `validate_xml`, which parses the schema for every message."""

import base64
import threading
from pathlib import Path

import pytest
from lxml import etree
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

from providers.signin import saml_schema

PROTOCOL = "saml-schema-protocol-2.0.xsd"


def python3_saml_validate_xml(xml, schema_name):
    """python3-saml 1.16's validate_xml: the schema parsed on every call."""
    try:
        xml = OneLogin_Saml2_XML.to_etree(xml)
    except Exception:
        return "unloaded_xml"
    with (Path(saml_schema.SCHEMAS) / schema_name).open() as source:
        schema = etree.XMLSchema(etree.parse(source))
    return xml if schema.validate(xml) else "invalid_xml"


@pytest.fixture
def signed_response(fresh_saml_provider):
    idp = fresh_saml_provider
    idp.register_sp(entity_id="https://sp.test/metadata", acs_url="https://sp.test/acs")
    return base64.b64decode(idp.unsolicited_response("https://sp.test/acs")["SAMLResponse"])


def test_installed_in_python3_saml():
    import providers.signin.saml  # noqa: F401  (installs it)

    assert OneLogin_Saml2_XML.validate_xml is saml_schema.validate_xml


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (None, "valid"),  # the identity provider's signed Response
        (b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1"/>', "invalid_xml"),
        (b"<not-saml/>", "invalid_xml"),
        (b"not xml", "unloaded_xml"),
        (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "boom">]><r>&x;</r>', "unloaded_xml"),
    ],
)
def test_the_same_answers_as_python3_saml(signed_response, document, expected):
    document = signed_response if document is None else document
    ours, theirs = saml_schema.validate_xml(document, PROTOCOL), python3_saml_validate_xml(document, PROTOCOL)
    if expected == "valid":
        assert etree.tostring(ours) == etree.tostring(theirs)
    else:
        assert ours == theirs == expected


def test_the_schema_is_parsed_once_per_thread():
    first, again = saml_schema.schema(PROTOCOL), saml_schema.schema(PROTOCOL)
    other: list = []
    thread = threading.Thread(target=lambda: other.append(saml_schema.schema(PROTOCOL)))
    thread.start()
    thread.join()
    assert first is again and other[0] is not first
