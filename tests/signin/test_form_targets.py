"""The sign-in pages' forms that a browser must be able to submit: they send their origin (Django's
CSRF check refuses `Origin: null`, which a `no-referrer` page sends)."""

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_sign_in_pages_keep_the_origin_on_their_form_posts(client):
    page = client.get("/login/")
    assert '<meta name="referrer" content="same-origin">' in page.content.decode()
    assert "no-referrer" not in page.content.decode() and page.get("Referrer-Policy", "same-origin") == "same-origin"
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(UserFactory(username="ana", is_staff=False))
    token = browser.get("/logout/").cookies["csrftoken"].value
    posted = browser.post("/logout/", {"csrfmiddlewaretoken": token}, HTTP_ORIGIN="http://testserver")
    assert posted.status_code == 302
