"""`/api/identity-providers` with its mappers: the fields of the OIDC/SAML/mappers reference document
plus broker options and lifecycle, Keycloak's representation accepted as is."""
