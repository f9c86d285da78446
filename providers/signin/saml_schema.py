"""python3-saml validates each SAML message against the SAML XML Schema, and parses the schema
files (the protocol's, importing the assertion's, XML Signature's and XML Encryption's) again for
every one: 2–3 ms of a Response's check. `install` makes `OneLogin_Saml2_XML.validate_xml` keep the
parsed schema, one per thread (an lxml `XMLSchema` is not to be shared between threads), and
otherwise do exactly what python3-saml's does: the same parsing of the document (no DTD, no
entities), the same schema files, the same answers ('unloaded_xml', 'invalid_xml' or the root)."""

import threading
from pathlib import Path
from typing import Any

from lxml import etree
from onelogin.saml2 import xml_utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

SCHEMAS = Path(xml_utils.__file__).parent / "schemas"
_parsed = threading.local()


def schema(name: str) -> etree.XMLSchema:
    """The XML Schema `name` of python3-saml's schema directory, parsed once per thread."""
    schemas: dict[str, etree.XMLSchema] = _parsed.__dict__.setdefault("schemas", {})
    found = schemas.get(name)
    if found is None:
        with (SCHEMAS / name).open() as source:
            found = schemas[name] = OneLogin_Saml2_XML._schema_class(etree.parse(source))
    return found


def validate_xml(xml: Any, schema_name: str, debug: bool = False) -> Any:
    """`OneLogin_Saml2_XML.validate_xml` with the schema kept (python3-saml 1.16's code otherwise)."""
    assert isinstance(schema_name, str)
    try:
        xml = OneLogin_Saml2_XML.to_etree(xml)
    except Exception:
        return "unloaded_xml"
    if not schema(schema_name).validate(xml):
        return "invalid_xml"
    return xml


def install() -> None:
    OneLogin_Saml2_XML.validate_xml = staticmethod(validate_xml)
