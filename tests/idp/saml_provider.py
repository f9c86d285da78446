"""The test SAML 2.0 identity provider: pysaml2's IdP (`saml2.server.Server`, signing and encrypting with
Debian's `xmlsec1`) served in-process on 127.0.0.1 by a small WSGI app on a port the OS picks, and the
fixtures that hand it to tests.

`saml_provider` (session-scoped; one per pytest-xdist worker) and `fresh_saml_provider` (the same
provider, reset to its start state before the test: default user, no service providers, key 0 signing
and alone in the metadata, default options) give a `SamlProvider`:

    idp.entity_id, idp.metadata_url        "http://127.0.0.1:<port>/metadata", the same URL for both
    idp.sso_url, idp.slo_url               SingleSignOnService (HTTP-Redirect and HTTP-POST), SingleLogoutService
    idp.metadata()                         the IdP metadata XML /metadata serves
    idp.certificate_pem(0), idp.certificate_pem(1)      the two signing certificates made at start
    idp.use_key(1)                         key 1 signs from now on (and is published); use_key(1, publish_both=True)
    idp.publish_both_keys()                the metadata lists both signing certificates (a rollover)
    idp.set_user("ana@example.test", attributes={"mail": [...], "urn:oid:2.5.4.42": [...]},
                 name_id_format=NAMEID_EMAIL)  the user who signs in (a known friendly name, such as mail,
                                           gives Name urn:oid:0.9.2342.19200300.100.1.3 and FriendlyName mail;
                                           other keys are sent as Name alone)
    idp.register_sp(metadata_xml)  or  idp.register_sp(entity_id=..., acs_url=..., sls_url=..., certificate=pem)
    idp.sign_in(authn_request_url)  or  idp.sign_in({"SAMLRequest": ..., "RelayState": ...})
                                       -> (acs_url, {"SAMLResponse": ..., "RelayState": ...}), nothing posted
        options: sign_response, sign_assertion, encrypt_assertion (with the SP's certificate),
        not_on_or_after (seconds from now; negative: already expired), audience, in_response_to,
        destination, recipient, issuer, name_id, sign_alg/digest_alg (RSA-SHA256/SHA-256 by default),
        cancel (a Responder/AuthnFailed status)
    idp.unsolicited_response(acs_url, relay_state="...", **the same options)   IdP-initiated login
    idp.requests                           the AuthnRequests answered (pysaml2 objects), idp.logout_requests

A browser signs in at the same SSO URL: a page with a `login` field (the NameID, the current user's by
default) and a "Sign in" button (or "Cancel") answers with a form that posts the response to the ACS.
"""

import base64
import datetime
import re
import shutil
import socket
import tempfile
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from cryptography.hazmat.primitives import serialization
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, md, saml, samlp
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor, metadata_tostring_fix
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_UNSPECIFIED
from saml2.samlp import STATUS_AUTHN_FAILED
from saml2.server import Server
from saml2.sigver import class_name, pre_encrypt_assertion, pre_signature_part, signed_instance_factory
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from tests.certificates import pem, self_signed

NAMEID_EMAIL = NAMEID_FORMAT_EMAILADDRESS
NAMEID_PERSISTENT = NAMEID_FORMAT_PERSISTENT
NAMEID_UNSPECIFIED = NAMEID_FORMAT_UNSPECIFIED
AUTHN_PASSWORD = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
DEFAULT_USER = "ana@example.test"
DEFAULT_ATTRIBUTES = {"mail": ["ana@example.test"], "givenName": ["Ana"], "sn": ["Lima"]}
NOT_ON_OR_AFTER = 300  # seconds an assertion is valid by default
KEEP = object()  # an override left out: the value the request calls for
MESSAGE_FIELDS = ("SAMLRequest", "RelayState", "SigAlg", "Signature")
# The pages a browser sees name an empty icon: no request for /favicon.ico, which would be a 404 in
# the console of the browser tests.
NO_FAVICON = '<link rel="icon" href="data:,">'


class SamlProviderError(Exception):
    """The test identity provider could not start, or could not answer a request as asked."""


@dataclass
class ServiceProvider:
    entity_id: str
    acs_url: str
    metadata_xml: str


@dataclass
class User:
    name_id: str
    attributes: dict[str, list[str]]
    name_id_format: str = NAMEID_EMAIL


@dataclass
class _Key:
    certificate_pem: str
    key_file: Path
    cert_file: Path


@dataclass
class _State:
    """What `reset` puts back."""

    key: int = 0
    published: tuple[int, ...] = (0,)
    want_authn_requests_signed: bool = False
    users: dict[str, User] = field(default_factory=dict)
    current_user: str = DEFAULT_USER
    sps: dict[str, ServiceProvider] = field(default_factory=dict)


def sp_metadata(
    *,
    entity_id: str,
    acs_url: str,
    sls_url: str = "",
    certificate: str | None = None,
    authn_requests_signed: bool = False,
    want_assertions_signed: bool = True,
    name_id_formats: tuple[str, ...] = (NAMEID_EMAIL, NAMEID_PERSISTENT, NAMEID_UNSPECIFIED),
) -> str:
    """SAML 2.0 SP metadata: one ACS (HTTP-POST), an SLS (HTTP-Redirect) if given, the certificate for
    signing and encryption if given."""
    keys = ""
    if certificate:
        der = _bare_certificate(certificate)
        keys = "".join(
            f'<md:KeyDescriptor use="{use}"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{der}'
            "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
            for use in ("signing", "encryption")
        )
    sls = f'<md:SingleLogoutService Binding="{BINDING_HTTP_REDIRECT}" Location="{escape(sls_url)}"/>' if sls_url else ""
    formats = "".join(f"<md:NameIDFormat>{name_id_format}</md:NameIDFormat>" for name_id_format in name_id_formats)
    return (
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{escape(entity_id)}">'
        f'<md:SPSSODescriptor AuthnRequestsSigned="{str(authn_requests_signed).lower()}" '
        f'WantAssertionsSigned="{str(want_assertions_signed).lower()}" '
        'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f"{keys}{sls}{formats}"
        f'<md:AssertionConsumerService Binding="{BINDING_HTTP_POST}" Location="{escape(acs_url)}" index="0" '
        'isDefault="true"/></md:SPSSODescriptor></md:EntityDescriptor>'
    )


def _bare_certificate(certificate: str) -> str:
    """A PEM certificate's base64 body on one line (or base64 given bare)."""
    lines = [line.strip() for line in certificate.strip().splitlines()]
    return "".join(line for line in lines if line and not line.startswith("-----"))


def _utc(seconds: float) -> str:
    moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class _ThreadingWSGIServer(WSGIServer):
    daemon_threads = True

    def process_request(self, request, client_address):
        thread = threading.Thread(target=self._handle, args=(request, client_address), daemon=True)
        thread.start()

    def _handle(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)


class SamlProvider:
    """A running test identity provider (see the module docstring)."""

    def __init__(self, base_url: str, directory: Path):
        self.base_url = base_url
        self.entity_id = f"{base_url}/metadata"
        self.metadata_url = f"{base_url}/metadata"
        self.sso_url = f"{base_url}/sso"
        self.slo_url = f"{base_url}/slo"
        self._directory = directory
        self._lock = threading.RLock()
        self._keys = [self._make_key(index) for index in range(2)]
        self._state = _State()
        self._built: tuple = ()
        self.requests: list[samlp.AuthnRequest] = []
        self.logout_requests: list[samlp.LogoutRequest] = []
        self.reset()

    def _make_key(self, index: int) -> _Key:
        certificate, key = self_signed(f"saml-idp-{index}.test", days=30)
        key_file = self._directory / f"key{index}.pem"
        cert_file = self._directory / f"cert{index}.pem"
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        cert_file.write_text(pem(certificate))
        return _Key(pem(certificate), key_file, cert_file)

    # State

    def reset(self) -> None:
        """Back to the start state: the default user, no service providers, key 0 signing and alone in
        the metadata, requests not required to be signed, the records emptied."""
        with self._lock:
            start = _State(users={DEFAULT_USER: User(DEFAULT_USER, dict(DEFAULT_ATTRIBUTES))})
            rebuild = self._built != (start.key, start.published, start.want_authn_requests_signed, ())
            self._state = start
            self.requests.clear()
            self.logout_requests.clear()
            if rebuild:
                self._build()

    def _build(self) -> None:
        """A pysaml2 Server for the current state (keys, options and the service providers it knows)."""
        state = self._state
        signing = self._keys[state.key]
        others = [str(self._keys[index].cert_file) for index in state.published if index != state.key]
        config = {
            "entityid": self.entity_id,
            "xmlsec_binary": shutil.which("xmlsec1"),
            "key_file": str(signing.key_file),
            "cert_file": str(signing.cert_file),
            "additional_cert_files": others or None,
            "metadata": {"inline": [sp.metadata_xml for sp in state.sps.values()]},
            "service": {
                "idp": {
                    "name": "Test SAML identity provider",
                    "endpoints": {
                        "single_sign_on_service": [
                            (self.sso_url, BINDING_HTTP_REDIRECT),
                            (self.sso_url, BINDING_HTTP_POST),
                        ],
                        "single_logout_service": [
                            (self.slo_url, BINDING_HTTP_REDIRECT),
                            (self.slo_url, BINDING_HTTP_POST),
                        ],
                    },
                    "name_id_format": [NAMEID_EMAIL, NAMEID_PERSISTENT, NAMEID_UNSPECIFIED],
                    "want_authn_requests_signed": state.want_authn_requests_signed,
                    "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None}},
                    "signing_algorithm": SIG_RSA_SHA256,
                    "digest_algorithm": DIGEST_SHA256,
                }
            },
            "delete_tmpfiles": True,
        }
        idp_config = IdPConfig()
        idp_config.load(config)
        self._server = Server(config=idp_config)
        self._built = (state.key, state.published, state.want_authn_requests_signed, tuple(state.sps))

    def use_key(self, index: int, *, publish_both: bool = False) -> None:
        """Signs with key `index` (0 or 1) from now on; the metadata lists it, and with `publish_both`
        the other one too."""
        with self._lock:
            self._state.key = index
            self._state.published = (index, 1 - index) if publish_both else (index,)
            self._build()

    def publish_both_keys(self) -> None:
        """The metadata lists both signing certificates (the signing one first), as during a rollover."""
        self.use_key(self._state.key, publish_both=True)

    @property
    def signing_key(self) -> int:
        return self._state.key

    def certificate_pem(self, index: int | None = None) -> str:
        """Signing certificate `index` (the one signing now without it), PEM."""
        return self._keys[self._state.key if index is None else index].certificate_pem

    def require_signed_requests(self, required: bool = True) -> None:
        """WantAuthnRequestsSigned: unsigned AuthnRequests are refused (and the metadata says so)."""
        with self._lock:
            self._state.want_authn_requests_signed = required
            self._build()

    def set_user(
        self, name_id: str, attributes: dict[str, Any] | None = None, *, name_id_format: str = NAMEID_EMAIL
    ) -> None:
        """Sets (or replaces) a user and makes it the one who signs in. Attribute values may be a string
        or a list of strings."""
        values = {
            name: [value] if isinstance(value, str) else [str(item) for item in value]
            for name, value in (attributes or {}).items()
        }
        with self._lock:
            self._state.users[name_id] = User(name_id, values, name_id_format)
            self._state.current_user = name_id

    def register_sp(
        self,
        metadata_xml: str | None = None,
        *,
        entity_id: str = "",
        acs_url: str = "",
        sls_url: str = "",
        certificate: str | None = None,
        authn_requests_signed: bool = False,
    ) -> ServiceProvider:
        """The service provider the identity provider answers, from its metadata or from its entity ID,
        ACS URL, SLS URL and certificate (for signed requests and encrypted assertions)."""
        if metadata_xml is None:
            if not entity_id or not acs_url:
                raise ValueError("register_sp needs metadata_xml, or entity_id and acs_url")
            metadata_xml = sp_metadata(
                entity_id=entity_id,
                acs_url=acs_url,
                sls_url=sls_url,
                certificate=certificate,
                authn_requests_signed=authn_requests_signed,
            )
        descriptor = md.entity_descriptor_from_string(metadata_xml)
        if descriptor is None or not descriptor.spsso_descriptor:
            raise ValueError("the metadata has no SPSSODescriptor")
        services = descriptor.spsso_descriptor[0].assertion_consumer_service
        acs = next((service.location for service in services if service.binding == BINDING_HTTP_POST), "")
        sp = ServiceProvider(descriptor.entity_id, acs, metadata_xml)
        with self._lock:
            replaced = sp.entity_id in self._state.sps
            self._state.sps[sp.entity_id] = sp
            if replaced:
                self._build()
            else:  # added to the running Server's metadata, cheaper than building it again
                self._server.metadata.load("inline", metadata_xml)
                self._built = (*self._built[:3], tuple(self._state.sps))
        return sp

    def metadata(self) -> str:
        """The IdP metadata document (what /metadata serves)."""
        with self._lock:
            descriptor = entity_descriptor(self._server.config)
            xml = metadata_tostring_fix(descriptor, {"md": "urn:oasis:names:tc:SAML:2.0:metadata"})
        return xml.decode() if isinstance(xml, bytes) else xml

    # Answers

    def sign_in(
        self, authn_request: str | dict[str, str], *, relay_state: Any = KEEP, **options: Any
    ) -> tuple[str, dict[str, str]]:
        """Answers an AuthnRequest as a user who signed in (`name_id`, or the current user): the
        request is a Redirect-binding URL (SAMLRequest, RelayState, SigAlg and Signature in its query)
        or a POST form's fields. Returns where the browser would post the response and the fields it
        would post; nothing is posted."""
        request, relay = self._parse_request(authn_request)
        with self._lock:
            self.requests.append(request)
            try:
                args = self._server.response_args(request, [BINDING_HTTP_POST])
            except Exception as exc:  # pysaml2 names an unknown SP or ACS in its own exceptions
                raise SamlProviderError(
                    f"no ACS to answer {request.issuer.text if request.issuer else 'the request'} "
                    f"(register_sp): {type(exc).__name__}: {exc}"
                ) from exc
        fields = {"SAMLResponse": self._response(args, **options)}
        relay = relay if relay_state is KEEP else relay_state
        if relay is not None:
            fields["RelayState"] = relay
        return args["destination"], fields

    def unsolicited_response(
        self, acs_url: str, *, relay_state: str | None = None, sp_entity_id: str | None = None, **options: Any
    ) -> dict[str, str]:
        """An IdP-initiated login's fields (no InResponseTo) for the service provider whose ACS is
        `acs_url` (or `sp_entity_id`)."""
        with self._lock:
            sp = next(
                (sp for sp in self._state.sps.values() if sp.entity_id == sp_entity_id or sp.acs_url == acs_url),
                None,
            )
        if sp is None:
            raise SamlProviderError(f"no registered service provider has the ACS {acs_url}")
        args = {"in_response_to": None, "sp_entity_id": sp.entity_id, "destination": acs_url, "name_id_policy": None}
        fields = {"SAMLResponse": self._response(args, **options)}
        if relay_state is not None:
            fields["RelayState"] = relay_state
        return fields

    def _parse_request(self, authn_request: str | dict[str, str]) -> tuple[samlp.AuthnRequest, str | None]:
        if isinstance(authn_request, str):
            parts = urlsplit(authn_request)
            if f"{parts.scheme}://{parts.netloc}{parts.path}" != self.sso_url:
                raise SamlProviderError(f"{authn_request} is not this identity provider's SSO URL {self.sso_url}")
            query = {name: values[0] for name, values in parse_qs(parts.query).items()}
            binding = BINDING_HTTP_REDIRECT
        else:
            query, binding = dict(authn_request), BINDING_HTTP_POST
        if "SAMLRequest" not in query:
            raise SamlProviderError("no SAMLRequest")
        relay = query.get("RelayState")
        with self._lock:
            try:
                parsed = self._server.parse_authn_request(
                    query["SAMLRequest"],
                    binding,
                    relay_state=relay,
                    sigalg=query.get("SigAlg"),
                    signature=query.get("Signature"),
                )
            except Exception as exc:
                raise SamlProviderError(f"the AuthnRequest was refused: {type(exc).__name__}: {exc}") from exc
        if parsed is None or parsed.message is None:
            raise SamlProviderError("the AuthnRequest was refused")
        return parsed.message, relay

    def _response(
        self,
        args: dict[str, Any],
        *,
        name_id: str | None = None,
        sign_response: bool = True,
        sign_assertion: bool = True,
        encrypt_assertion: bool = False,
        not_on_or_after: float = NOT_ON_OR_AFTER,
        audience: Any = KEEP,
        in_response_to: Any = KEEP,
        destination: Any = KEEP,
        recipient: Any = KEEP,
        issuer: str | None = None,
        cancel: bool = False,
        sign_alg: str | None = None,
        digest_alg: str | None = None,
    ) -> str:
        """The base64 Response: pysaml2 builds it unsigned, the overrides apply, then pysaml2 signs the
        assertion, encrypts it with the SP's certificate and signs the response, as asked."""
        with self._lock:
            server = self._server
            sp_entity_id = args["sp_entity_id"]
            if sp_entity_id not in self._state.sps:
                raise SamlProviderError(f"the service provider {sp_entity_id} is not registered (register_sp)")
            user = self._state.users.get(name_id or self._state.current_user)
            if user is None:
                raise SamlProviderError(f"no user {name_id} (set_user)")
            if cancel:
                response = server.create_error_response(
                    args["in_response_to"],
                    args["destination"],
                    (STATUS_AUTHN_FAILED, "The user cancelled the sign-in."),
                    sign=False,
                )
            else:
                response = server.create_authn_response(
                    user.attributes,
                    args["in_response_to"],
                    args["destination"],
                    sp_entity_id,
                    name_id=saml.NameID(format=user.name_id_format, text=user.name_id, sp_name_qualifier=sp_entity_id),
                    authn={"class_ref": AUTHN_PASSWORD, "authn_auth": self.entity_id},
                    sign_response=False,
                    sign_assertion=False,
                    encrypt_assertion=False,
                )
            self._override(
                response,
                not_on_or_after=not_on_or_after,
                audience=audience,
                in_response_to=in_response_to,
                destination=destination,
                recipient=recipient,
                issuer=issuer,
            )
            xml = self._sign_and_encrypt(
                response,
                sign_response=sign_response,
                sign_assertion=sign_assertion and not cancel,
                encrypt_for=sp_entity_id if encrypt_assertion and not cancel else None,
                sign_alg=sign_alg,
                digest_alg=digest_alg,
            )
        return base64.b64encode(xml.encode()).decode()

    @staticmethod
    def _override(
        response: samlp.Response,
        *,
        not_on_or_after: float,
        audience: Any,
        in_response_to: Any,
        destination: Any,
        recipient: Any,
        issuer: str | None,
    ) -> None:
        if destination is not KEEP:
            response.destination = destination
        if in_response_to is not KEEP:
            response.in_response_to = in_response_to
        if issuer is not None:
            response.issuer.text = issuer
        assertion = _assertion(response)
        if assertion is None:
            return
        if issuer is not None:
            assertion.issuer.text = issuer
        expiry = _utc(not_on_or_after)
        assertion.conditions.not_on_or_after = expiry
        if audience is not KEEP:
            audiences = [] if audience is None else [audience] if isinstance(audience, str) else list(audience)
            assertion.conditions.audience_restriction = (
                [saml.AudienceRestriction(audience=[saml.Audience(text=value) for value in audiences])]
                if audiences
                else []
            )
        for confirmation in assertion.subject.subject_confirmation:
            data = confirmation.subject_confirmation_data
            data.not_on_or_after = expiry
            if in_response_to is not KEEP:
                data.in_response_to = in_response_to
            if recipient is not KEEP:
                data.recipient = recipient

    def _sign_and_encrypt(
        self,
        response: samlp.Response,
        *,
        sign_response: bool,
        sign_assertion: bool,
        encrypt_for: str | None,
        sign_alg: str | None,
        digest_alg: str | None,
    ) -> str:
        """pysaml2's own steps (`Entity._response`): the assertion signed (inside, if encrypted), then
        encrypted for the SP, then the response signed around it."""
        server = self._server
        sign_alg, digest_alg = sign_alg or server.signing_algorithm, digest_alg or server.digest_algorithm
        if sign_response:
            response.signature = pre_signature_part(
                response.id, server.sec.my_cert, 1, sign_alg=sign_alg, digest_alg=digest_alg
            )
        assertion = _assertion(response)
        assertion_signed = []
        if sign_assertion and assertion is not None:
            assertion.signature = pre_signature_part(
                assertion.id, server.sec.my_cert, 2, sign_alg=sign_alg, digest_alg=digest_alg
            )
            assertion_signed = [(class_name(assertion), assertion.id)]
        document: Any = response
        if encrypt_for is not None and assertion is not None:
            if not server.metadata.certs(encrypt_for, "any", "encryption"):
                raise SamlProviderError(f"{encrypt_for} has no certificate to encrypt for (register_sp certificate=)")
            document = _self_contained_assertion(str(pre_encrypt_assertion(response)))
            if assertion_signed:
                document = signed_instance_factory(document, server.sec, assertion_signed)
            document = server._encrypt_assertion(None, encrypt_for, document)
        elif assertion_signed:
            document = signed_instance_factory(document, server.sec, assertion_signed)
        if sign_response:
            document = signed_instance_factory(document, server.sec, [(class_name(response), response.id)])
        return document if isinstance(document, str) else str(document)

    # The web app

    def wsgi(self, environ, start_response):
        """/metadata, /sso (the sign-in page, HTTP-Redirect or HTTP-POST), /sso/login (its answer: a
        form posting the response to the ACS) and /slo (LogoutRequest → LogoutResponse redirect)."""
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        query = {name: values[0] for name, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
        form: dict[str, str] = {}
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length).decode()
            form = {name: values[0] for name, values in parse_qs(body, keep_blank_values=True).items()}
        try:
            if path == "/metadata" and method == "GET":
                return _answer(start_response, "200 OK", self.metadata(), "application/samlmetadata+xml")
            if path == "/sso":
                binding = BINDING_HTTP_POST if method == "POST" else BINDING_HTTP_REDIRECT
                return self._login_page(start_response, query if method == "GET" else form, binding)
            if path == "/sso/login" and method == "POST":
                return self._login(start_response, form)
            if path == "/slo":
                return self._logout(start_response, query if method == "GET" else form, method)
        except SamlProviderError as error:
            return _answer(start_response, "400 Bad Request", f"<p>{escape(str(error))}</p>", "text/html")
        return _answer(start_response, "404 Not Found", "not found", "text/plain")

    def _login_page(self, start_response, fields: dict[str, str], binding: str):
        fields = {name: fields[name] for name in MESSAGE_FIELDS if name in fields} | {"binding": binding}
        self._parse_request(self._as_request(fields))  # a bad request is refused before the page
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{escape(value)}">' for name, value in fields.items()
        )
        page = (
            "<!doctype html><html><head><title>Test SAML identity provider</title>"
            f"{NO_FAVICON}</head><body>"
            '<h1>Sign in</h1><form method="post" action="/sso/login">'
            f'<label>Account <input name="login" value="{escape(self._state.current_user)}"></label>{hidden}'
            '<button type="submit" name="action" value="login">Sign in</button>'
            '<button type="submit" name="action" value="cancel">Cancel</button></form></body></html>'
        )
        return _answer(start_response, "200 OK", page, "text/html")

    def _as_request(self, fields: dict[str, str]) -> str | dict[str, str]:
        """The request as `sign_in` takes it: the fields of a POST, the URL of a Redirect."""
        message = {name: fields[name] for name in MESSAGE_FIELDS if name in fields}
        if fields.get("binding") == BINDING_HTTP_POST:
            return message
        return f"{self.sso_url}?{urlencode(message)}"

    def _login(self, start_response, form: dict[str, str]):
        login = form.get("login", "")
        if form.get("action") != "cancel" and login not in self._state.users:
            raise SamlProviderError(f"no account {login}")
        acs_url, fields = self.sign_in(self._as_request(form), name_id=login, cancel=form.get("action") == "cancel")
        inputs = "".join(
            f'<input type="hidden" name="{name}" value="{escape(value)}">' for name, value in fields.items()
        )
        page = (
            f"<!doctype html><html><head><title>Signing in…</title>{NO_FAVICON}</head>"
            '<body onload="document.forms[0].submit()">'
            f'<form method="post" action="{escape(acs_url)}">{inputs}'
            '<noscript><button type="submit">Continue</button></noscript></form></body></html>'
        )
        return _answer(start_response, "200 OK", page, "text/html")

    def _logout(self, start_response, fields: dict[str, str], method: str):
        binding = BINDING_HTTP_POST if method == "POST" else BINDING_HTTP_REDIRECT
        if "SAMLRequest" not in fields:
            raise SamlProviderError("no SAMLRequest")
        with self._lock:
            try:
                request = self._server.parse_logout_request(
                    fields["SAMLRequest"],
                    binding,
                    relay_state=fields.get("RelayState"),
                    sigalg=fields.get("SigAlg"),
                    signature=fields.get("Signature"),
                )
            except Exception as exc:
                raise SamlProviderError(f"the LogoutRequest was refused: {type(exc).__name__}: {exc}") from exc
            self.logout_requests.append(request.message)
            response = self._server.create_logout_response(request.message, [BINDING_HTTP_REDIRECT])
            answer = self._server.apply_binding(
                BINDING_HTTP_REDIRECT,
                str(response),
                response.destination,
                fields.get("RelayState"),
                response=True,
            )
        location = dict(answer["headers"])["Location"]
        start_response("302 Found", [("Location", location), ("Content-Length", "0")])
        return [b""]


def _self_contained_assertion(xml: str) -> str:
    """The Response with its Assertion declaring, itself, the namespaces the Response declares, under
    the same prefixes: decrypted on its own it still parses, and decrypted in place (python3-saml) it
    keeps its prefixes, so its signature still verifies. (pysaml2's own self-contained form renames
    the prefixes, which an in-place decryption maps back to the Response's: the signature breaks.)"""
    root_tag = re.search(r"<[A-Za-z_][\w.-]*:Response\b[^>]*>", xml)
    assertion_tag = re.search(r"<([A-Za-z_][\w.-]*):Assertion\b[^>]*>", xml)
    if root_tag is None or assertion_tag is None:
        raise SamlProviderError("no Assertion to encrypt")
    declared = set(re.findall(r'xmlns:([\w.-]+)="', assertion_tag.group(0)))
    missing = [
        f'xmlns:{prefix}="{uri}"'
        for prefix, uri in re.findall(r'xmlns:([\w.-]+)="([^"]*)"', root_tag.group(0))
        if prefix not in declared
    ]
    name_end = assertion_tag.start() + len(f"<{assertion_tag.group(1)}:Assertion")
    return xml[:name_end] + "".join(f" {declaration}" for declaration in missing) + xml[name_end:]


def _assertion(response: samlp.Response) -> saml.Assertion | None:
    """The response's one assertion (none in an error response)."""
    assertion = response.assertion
    if isinstance(assertion, list):
        return assertion[0] if assertion else None
    return assertion


def _answer(start_response, status: str, body: str, content_type: str):
    data = body.encode()
    start_response(
        status,
        [("Content-Type", f"{content_type}; charset=utf-8"), ("Content-Length", str(len(data)))],
    )
    return [data]


def redirect_request_xml(url: str) -> str:
    """The AuthnRequest (or LogoutRequest, LogoutResponse) XML a Redirect-binding URL carries."""
    query = parse_qs(urlsplit(url).query)
    message = (query.get("SAMLRequest") or query["SAMLResponse"])[0]
    return zlib.decompress(base64.b64decode(message), -15).decode()


def _missing_prerequisite() -> str | None:
    if shutil.which("xmlsec1") is None:
        return "`xmlsec1` is not on PATH: the test SAML identity provider signs with it (`make test` installs xmlsec1)."
    return None


@contextmanager
def running_saml_provider() -> Iterator[SamlProvider]:
    """Serves a SamlProvider on 127.0.0.1 (a port the OS picks) in a thread, and stops it on exit."""
    problem = _missing_prerequisite()
    if problem:
        raise SamlProviderError(problem)
    with tempfile.TemporaryDirectory(prefix="saml-idp-") as directory:
        holder: list[SamlProvider] = []
        httpd = make_server(
            "127.0.0.1",
            0,
            lambda environ, start_response: holder[0].wsgi(environ, start_response),
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        httpd.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        host, port = httpd.server_address[:2]
        holder.append(SamlProvider(f"http://{host}:{port}", Path(directory)))
        thread = threading.Thread(target=httpd.serve_forever, name="saml-provider", daemon=True)
        thread.start()
        try:
            yield holder[0]
        finally:
            httpd.shutdown()
            httpd.server_close()
            thread.join(timeout=5)


@pytest.fixture(scope="session")
def saml_provider() -> Iterator[SamlProvider]:
    """The test SAML identity provider, one per test session (per pytest-xdist worker). Tests that change
    its state (users, service providers, keys, options) should use `fresh_saml_provider` or reset it."""
    try:
        with running_saml_provider() as provider:
            yield provider
    except SamlProviderError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def fresh_saml_provider(saml_provider: SamlProvider) -> SamlProvider:
    """The session's test SAML identity provider, reset to its start state before the test."""
    saml_provider.reset()
    return saml_provider
