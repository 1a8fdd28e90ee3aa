from kirakira.privacy.catalog import Context, catalog, not_personal

catalog.register(
    "privacy_undeclared.Leaky",
    context=Context.SERVICE,
    not_personal=not_personal("id", "favourite_colour", reason="test data"),
)
