"""The service catalog holds no personal data (orders, which do, are declared with them)."""

from kirakira.privacy.catalog import Context, catalog, not_personal

catalog.register(
    "orders.SnsPlatform",
    context=Context.SERVICE,
    not_personal=not_personal(
        "id",
        "code",
        "name",
        "account_id_pattern",
        "account_id_rule_ja",
        "account_id_rule_en",
        "account_id_rule_ko",
        "sort_order",
        "is_active",
        reason="the studio's list of platforms",
    ),
)
catalog.register(
    "orders.Service",
    context=Context.SERVICE,
    not_personal=not_personal(
        "id",
        "name_ja",
        "name_en",
        "name_ko",
        "description_ja",
        "description_en",
        "description_ko",
        "price_yen",
        "platforms",
        "photo_link_count",
        "sort_order",
        "is_active",
        "created_at",
        reason="the studio's service catalog",
    ),
)
