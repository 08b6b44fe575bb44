extension IssuerKeys: KeyProvider {}
