"""The service catalog: managed in the back office, shown on the home page."""

import pytest
from django.core.exceptions import ValidationError

from kirakira.common.roles import Role
from kirakira.common.testing import StaffFactory
from kirakira.orders.demo import load_demo_services
from kirakira.orders.models import Service, SnsPlatform


def make_service(**overrides):
    data = {
        "name_ja": "写真レタッチ",
        "name_en": "Photo retouch",
        "name_ko": "사진 보정",
        "description_ja": "説明",
        "description_en": "Description",
        "description_ko": "설명",
        "price_yen": 3000,
        "photo_link_count": 2,
    }
    data.update(overrides)
    service = Service.objects.create(**data)
    service.platforms.set(SnsPlatform.objects.filter(code__in=["instagram", "x"]))
    return service


@pytest.mark.django_db
def test_the_four_platforms_exist_with_their_rules():
    assert list(SnsPlatform.objects.values_list("code", flat=True)) == ["instagram", "x", "tiktok", "youtube"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "valid", "invalid"),
    [
        ("instagram", ["kira.kira_01", "a"], [".kira", "kira.", "ki..ra", "kira-kira", "a" * 31, "きら"]),
        ("x", ["kira_01", "a" * 15], ["kira.kira", "a" * 16, "kira kira", ""]),
        ("tiktok", ["ki", "kira.kira_01"], ["k", "kira.", "a" * 25, "kira-kira"]),
        ("youtube", ["kira-kira.01", "abc"], ["ab", "a" * 31, "kira kira", "@kira"]),
    ],
)
def test_account_ids_follow_each_platforms_rule(code, valid, invalid):
    platform = SnsPlatform.objects.get(code=code)
    for account_id in valid:
        assert platform.is_valid_account_id(account_id), account_id
    for account_id in invalid:
        assert not platform.is_valid_account_id(account_id), account_id


@pytest.mark.django_db
def test_a_broken_pattern_is_refused():
    platform = SnsPlatform(
        code="broken",
        name="Broken",
        account_id_pattern="[a-",
        account_id_rule_ja="x",
        account_id_rule_en="x",
        account_id_rule_ko="x",
    )
    with pytest.raises(ValidationError) as excinfo:
        platform.full_clean()
    assert "account_id_pattern" in excinfo.value.message_dict


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), [("price_yen", 0), ("photo_link_count", 11)])
def test_price_and_photo_link_count_are_bounded(field, value):
    service = Service(
        name_ja="x",
        name_en="x",
        name_ko="x",
        description_ja="x",
        description_en="x",
        description_ko="x",
        price_yen=1000,
        photo_link_count=1,
    )
    setattr(service, field, value)
    with pytest.raises(ValidationError) as excinfo:
        service.full_clean()
    assert field in excinfo.value.message_dict


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("prefix", "name", "price"),
    [("", "写真レタッチ", "3,000円"), ("/en", "Photo retouch", "¥3,000"), ("/ko", "사진 보정", "3,000엔")],
)
def test_home_page_lists_active_services_in_the_pages_language(client, prefix, name, price):
    make_service()
    make_service(name_ja="販売停止", name_en="Withdrawn", name_ko="판매 중지", is_active=False)
    html = client.get(f"{prefix}/").content.decode()
    assert name in html
    assert price in html
    assert "Instagram、X" in html or "Instagram, X" in html
    assert "販売停止" not in html and "Withdrawn" not in html and "판매 중지" not in html


@pytest.mark.django_db
def test_home_page_queries_do_not_grow_with_the_number_of_services(client, django_assert_max_num_queries):
    for n in range(8):
        make_service(name_ja=f"サービス{n}")
    # The services, the policy-change and terms-change notices and the staff notices (popups).
    with django_assert_max_num_queries(5):
        client.get("/")


@pytest.mark.django_db
def test_demo_services_load_once():
    first = load_demo_services()
    second = load_demo_services()
    assert [created for _, created in first] == [True, True, True]
    assert [created for _, created in second] == [False, False, False]
    assert Service.objects.count() == 3


@pytest.mark.django_db
def test_the_administrator_manages_the_catalog_and_other_roles_only_read_it(client):
    admin_user = StaffFactory(roles=[Role.ADMINISTRATOR])
    client.force_login(admin_user)
    response = client.post(
        "/en/backoffice/orders/service/add/",
        {
            "name_ja": "新サービス",
            "name_en": "New",
            "name_ko": "신규",
            "description_ja": "説明",
            "description_en": "d",
            "description_ko": "d",
            "price_yen": "4500",
            "photo_link_count": "3",
            "work_days": "4",
            "platforms": [SnsPlatform.objects.get(code="x").pk],
            "sort_order": "0",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    service = Service.objects.get(name_ja="新サービス")
    assert (service.price_yen, service.work_days) == (4500, 4)
    client.force_login(StaffFactory(roles=[Role.CUSTOMER_SERVICE]))
    assert client.get(f"/en/backoffice/orders/service/{service.pk}/change/").status_code == 200
    refused = client.post("/en/backoffice/orders/service/add/", {"name_ja": "x"})
    assert refused.status_code == 403
