"""The sign-in routes (see `views`)."""

from django.urls import path

from . import views

app_name = "signin"

urlpatterns = [
    path("login/", views.login_page, name="login"),
    path("login/<slug:workspace_name>/", views.login_page, name="workspace_login"),
    path("signin/first-login/profile/", views.review, name="review"),
    path("signin/first-login/existing-account/", views.prove, name="prove"),
    path("signin/<slug:workspace_name>/<str:alias>/", views.start, name="start"),
    path("signin/<slug:workspace_name>/<str:alias>/callback", views.callback, name="callback"),
    path("signin/<slug:workspace_name>/<str:alias>/link/", views.link_start, name="link"),
    path("signin/<slug:workspace_name>/<str:alias>/saml/metadata", views.saml_metadata, name="saml_metadata"),
    path("signin/<slug:workspace_name>/<str:alias>/saml/acs", views.saml_acs, name="saml_acs"),
    path("signin/<slug:workspace_name>/<str:alias>/saml/finish", views.saml_finish, name="saml_finish"),
    path("signin/<slug:workspace_name>/<str:alias>/saml/sls", views.saml_sls, name="saml_sls"),
    path("account/linked/", views.linked_accounts, name="linked"),
    path("logout/", views.logout_view, name="logout"),
]
