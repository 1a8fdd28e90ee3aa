"""Back-office lists show, filter, search, sort and drill into personal data only as the catalog
allows the viewer's roles (issue: customer service learned ``last_login`` through
``?last_login__gte=``), and ``check`` refuses admins configured otherwise."""

import datetime
import html

import pytest
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.core.exceptions import FieldDoesNotExist, SuspiciousOperation
from django.test import RequestFactory

from kirakira.accounts.models import User
from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consent.services import consent_record
from kirakira.consultations.testing import open_for_member
from kirakira.orders import lifecycle
from kirakira.orders.models import Payment
from kirakira.orders.testing import place_order, record_payment
from kirakira.privacy.catalog import catalog
from kirakira.privacy.catalog.admin import CatalogMaskingAdminMixin, hidden_row, shows
from kirakira.privacy.catalog.admin_checks import admin_problems, check_admin_catalog
from kirakira.privacy.catalog.masking import mask_value
from kirakira.usage.models import UsageRecord

LAST_LOGIN = datetime.datetime(2019, 6, 15, 9, 30, tzinfo=datetime.UTC)
EMAIL = "hanako.yamada@example.com"
PENDING = "hanako.new@example.org"


# --- A deliberately careless admin of members: everything a list can do, on every field ---------


class CarelessUserAdmin(CatalogMaskingAdminMixin, admin.ModelAdmin):
    list_display = ("login_id", "email", "pending_email", "last_login", "days_since_login", "greeting")
    list_filter = ("last_login", "is_staff")
    search_fields = ("login_id", "last_login", "email")
    date_hierarchy = "last_login"
    ordering = ("-last_login",)

    @admin.display(description="days since login", ordering="last_login")
    @shows("last_login")
    def days_since_login(self, obj):
        return (clock.now() - obj.last_login).days if obj.last_login else None

    def greeting(self, obj):  # says nothing of what it reads: never shown
        return f"hello {obj.email}"


class CarelessPaymentAdmin(CatalogMaskingAdminMixin, admin.ModelAdmin):
    list_display = ("order", "order__phone", "amount_yen")
    list_filter = ("order__member__last_login",)
    search_fields = ("order__reference", "order__member__login_id", "order__member__last_login")


@pytest.fixture
def site():
    site = AdminSite(name="adminmask")
    site.register(User, CarelessUserAdmin)
    site.register(Payment, CarelessPaymentAdmin)
    return site


@pytest.fixture
def member(db):
    return MemberFactory(login_id="maskme", email=EMAIL, pending_email=PENDING, last_login=LAST_LOGIN)


def as_role(*roles, superuser=False):
    staff = StaffFactory(roles=list(roles), is_superuser=superuser)
    return User.objects.get(pk=staff.pk)  # a fresh object: roles are cached per object


def _request(user, **params):
    request = RequestFactory().get("/", params)
    request.user = user
    return request


def changelist(site, model, user, **params):
    """The changelist Django builds for this request (filters, search, sorting, query)."""
    return site._registry[model].get_changelist_instance(_request(user, **params))


def log_in(client, user):
    client.force_login(user, backend="kirakira.accounts.backends.SessionUserBackend")


def column_names(cl):
    return [getattr(c, "__name__", c) for c in cl.list_display if c != "action_checkbox"]


# --- The observed leak, on the lists' own machinery ---------------------------------------------


def test_customer_service_cannot_filter_members_by_last_login(site, member):
    user = as_role(Role.CUSTOMER_SERVICE)
    assert not site._registry[User].lookup_allowed("last_login__gte", "2019-01-01", _request(user))
    with pytest.raises(SuspiciousOperation):
        changelist(site, User, user, last_login__gte="2019-01-01")
    with pytest.raises(SuspiciousOperation):
        changelist(site, User, user, last_login__year="2019")  # the date hierarchy's parameter


def test_the_privacy_staff_may_filter_members_by_last_login(site, member):
    cl = changelist(site, User, as_role(Role.PRIVACY_STAFF), last_login__gte="2019-01-01T00:00:00+00:00")
    assert list(cl.queryset) == [member]
    assert cl.date_hierarchy == "last_login"
    assert [spec.title for spec in cl.filter_specs][:1] == [User._meta.get_field("last_login").verbose_name]


def test_customer_service_cannot_sort_members_by_last_login(site, member):
    MemberFactory(last_login=LAST_LOGIN + datetime.timedelta(days=1))
    user = as_role(Role.CUSTOMER_SERVICE)
    static = list(CarelessUserAdmin.list_display)
    for column in ("last_login", "days_since_login"):
        # The column's place in the list as configured: what a URL would carry.
        index = static.index(column)
        cl = changelist(site, User, user, o=str(index))
        assert "last_login" not in str(cl.queryset.query.order_by)
    # Nor by a column shown but not offered for sorting (an encrypted email sorts by ciphertext).
    assert column_names(changelist(site, User, user))[1] == "email"
    cl = changelist(site, User, user, o="1")
    assert not {"email", "-email"} & set(map(str, cl.queryset.query.order_by))
    # The admin's own default ordering by last_login is not applied for them either.
    cl = changelist(site, User, user)
    assert "last_login" not in str(cl.queryset.query.order_by)
    privacy = changelist(site, User, as_role(Role.PRIVACY_STAFF), o=str(static.index("last_login")))
    assert "last_login" in str(privacy.queryset.query.order_by)


def test_customer_service_search_does_not_reach_last_login_or_an_encrypted_email(site, member):
    user = as_role(Role.CUSTOMER_SERVICE)
    assert site._registry[User].get_search_fields(_request(user)) == ["login_id"]
    assert list(changelist(site, User, user, q="2019").queryset) == []
    assert list(changelist(site, User, user, q="hanako.yamada").queryset) == []
    assert list(changelist(site, User, user, q="maskme").queryset) == [member]


def test_accounting_search_on_a_masked_email_finds_nothing_and_raises_nothing(site, member):
    user = as_role(Role.ACCOUNTING)
    assert list(changelist(site, User, user, q="hanako").queryset) == []


def test_the_date_hierarchy_and_filters_follow_the_role(site, member):
    cs = changelist(site, User, as_role(Role.CUSTOMER_SERVICE))
    assert cs.date_hierarchy is None
    assert [spec.title for spec in cs.filter_specs] == [User._meta.get_field("is_staff").verbose_name]


# --- Columns as the catalog says ----------------------------------------------------------------


def test_columns_are_full_masked_or_absent_by_role(site, member):
    cs = changelist(site, User, as_role(Role.CUSTOMER_SERVICE))
    assert column_names(cs) == ["login_id", "email", "masked_pending_email"]
    accounting = changelist(site, User, as_role(Role.ACCOUNTING))
    assert column_names(accounting) == ["login_id", "masked_email"]
    privacy = changelist(site, User, as_role(Role.PRIVACY_STAFF))
    assert column_names(privacy) == ["login_id", "email", "pending_email", "last_login", "days_since_login"]
    masked_email = accounting.list_display[-1]
    assert masked_email(member) == "h****@example.com"
    masked_pending = cs.list_display[-1]
    assert masked_pending(member) == mask_value(PENDING, catalog.field(User, "pending_email").mask)


def test_masked_and_hidden_columns_cannot_be_sorted(site, member):
    model_admin = site._registry[User]
    cs = _request(as_role(Role.CUSTOMER_SERVICE))
    sortable = model_admin.get_sortable_by(cs)
    # Email is shown in full but encrypted: its order says nothing, so it is not offered.
    assert [getattr(c, "__name__", c) for c in sortable] == ["login_id", "masked_pending_email"]
    assert not hasattr(sortable[-1], "admin_order_field")


def test_a_column_through_a_relation_is_judged_at_its_end(site, db):
    order = place_order(phone="090-1234-5678")
    record_payment(order)
    cs = changelist(site, Payment, as_role(Role.CUSTOMER_SERVICE))
    assert column_names(cs) == ["order", "masked_order__phone", "amount_yen"]
    masked = next(c for c in cs.list_display if getattr(c, "__name__", "") == "masked_order__phone")
    assert masked(cs.result_list[0]) == "****5678"
    privacy = changelist(site, Payment, as_role(Role.PRIVACY_OFFICER))
    assert column_names(privacy) == ["order", "order__phone", "amount_yen"]


def test_related_lookups_are_judged_by_the_model_at_their_end(site, member):
    model_admin = site._registry[Payment]
    cs, privacy = _request(as_role(Role.CUSTOMER_SERVICE)), _request(as_role(Role.PRIVACY_STAFF))
    assert not model_admin.lookup_allowed("order__member__last_login__gte", "2019-01-01", cs)
    assert model_admin.lookup_allowed("order__member__last_login__gte", "2019-01-01", privacy)
    assert not model_admin.lookup_allowed("order__phone", "09012345678", privacy)  # encrypted
    assert model_admin.get_list_filter(cs) == []
    assert model_admin.get_list_filter(privacy) == ["order__member__last_login"]
    assert model_admin.get_search_fields(cs) == ["order__reference", "order__member__login_id"]
    users = site._registry[User]
    # A reverse relation says what the rows pointing here hold: the usage log is the privacy roles'.
    assert not users.lookup_allowed("usage_records__ip_address", "203.0.113.9", cs)
    assert not users.lookup_allowed("usage_records__isnull", "False", cs)
    assert users.lookup_allowed("usage_records__isnull", "False", privacy)


def test_one_way_hashes_are_never_a_filter(site, member):
    users = site._registry[User]
    privacy = _request(as_role(Role.PRIVACY_OFFICER))
    assert not users.lookup_allowed("password__startswith", "argon2", privacy)
    assert not users.lookup_allowed("email_index", "abc", privacy)
    assert not users.to_field_allowed(privacy, "email_index")


def test_a_superuser_without_roles_sees_no_personal_column(site, member):
    cl = changelist(site, User, as_role(superuser=True))
    assert cl.list_display[-1] is hidden_row
    assert column_names(cl) == ["hidden_row"]
    assert (
        cl.date_hierarchy is None
        and cl.filter_specs[0].title == User._meta.get_field("is_staff").verbose_name
    )
    assert site._registry[User].get_search_fields(_request(as_role(superuser=True))) == []


def test_an_unjudgeable_default_ordering_falls_back_to_the_key(site, member):
    users = site._registry[User]
    assert users.get_ordering(_request(as_role(Role.CUSTOMER_SERVICE))) == ["-pk"]
    assert users.get_ordering(_request(as_role(Role.PRIVACY_STAFF))) == ["-last_login"]


# --- The system check ---------------------------------------------------------------------------


def ids(problems):
    return sorted(p.id for p in problems)


def check(model, admin_class):
    site = AdminSite(name="adminmask_check")
    site.register(model, admin_class)
    return admin_problems(site)


def test_the_projects_own_admins_pass(db):
    from kirakira.consent.models import ConsentRecord, Notice
    from kirakira.consultations.models import Consultation
    from kirakira.orders.models import Cancellation, Order, Refund, Service, SnsPlatform

    mine = {
        Order,
        Payment,
        Refund,
        Cancellation,
        Service,
        SnsPlatform,
        Consultation,
        UsageRecord,
        ConsentRecord,
        Notice,
    }
    assert admin_problems(admin.site, mine) == []
    assert mine <= set(admin.site._registry)


def test_the_check_is_registered_and_reads_the_admin_site():
    from django.core import checks

    assert check_admin_catalog in checks.registry.registry.get_checks()
    assert all(p.id.startswith("kirakira.privacy.E") for p in check_admin_catalog())


def test_an_admin_showing_personal_data_needs_the_mixin():
    class Plain(admin.ModelAdmin):
        list_display = ("login_id", "is_staff")

    problems = check(User, Plain)
    assert ids(problems) == ["kirakira.privacy.E013"]
    assert "Plain" in problems[0].msg and "login_id" in problems[0].msg
    assert "CatalogMaskingAdminMixin" in problems[0].hint and __name__.replace(".", "/") in problems[0].hint


def test_the_mixin_is_needed_for_personal_data_reached_through_a_relation():
    class Searching(admin.ModelAdmin):
        list_display = ("order", "recorded_at")
        fields = ("order", "recorded_at")
        search_fields = ("order__member__login_id",)

    assert ids(check(Payment, Searching)) == ["kirakira.privacy.E013"]


def test_an_admin_of_data_that_is_not_personal_needs_nothing():
    from kirakira.consent.models import Notice

    class Notices(admin.ModelAdmin):
        list_display = ("title_ja", "starts_at")
        list_filter = ("audience",)
        search_fields = ("title_ja",)

        def extra(self, obj):
            return obj.title_en

    assert check(Notice, Notices) == []


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("search_fields", ("email",), "accounts.User.email"),
        ("list_filter", ("pending_email",), "accounts.User.pending_email"),
        ("ordering", ("email",), "accounts.User.email"),
    ],
)
def test_an_encrypted_field_cannot_be_filtered_searched_or_sorted(option, value, field):
    class Encrypted(CatalogMaskingAdminMixin, admin.ModelAdmin):
        list_display = ("login_id",)

    setattr(Encrypted, option, value)
    problems = check(User, Encrypted)
    assert ids(problems) == ["kirakira.privacy.E014"]
    assert field in problems[0].msg and option in problems[0].hint


def test_an_encrypted_field_is_found_through_a_relation():
    class Related(CatalogMaskingAdminMixin, admin.ModelAdmin):
        list_display = ("order",)
        list_filter = ("order__phone",)

    problems = check(Payment, Related)
    assert ids(problems) == ["kirakira.privacy.E014"]
    assert "orders.Order.phone" in problems[0].msg


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("list_filter", ("last_login",)),
        ("search_fields", ("^last_login",)),
        ("ordering", ("-last_login",)),
        ("date_hierarchy", "last_login"),
        ("sortable_by", ("last_login",)),
    ],
)
def test_a_field_some_viewer_may_not_see_in_full_is_not_a_list_tool(option, value):
    class LastLogin(CatalogMaskingAdminMixin, admin.ModelAdmin):
        list_display = ("login_id", "last_login")

    setattr(LastLogin, option, value)
    problems = check(User, LastLogin)
    assert ids(problems) == ["kirakira.privacy.E015"]
    assert "accounts.User.last_login" in problems[0].msg
    assert "customer_service" in problems[0].msg and "privacy_staff" not in problems[0].msg
    assert "kirakira/accounts/privacy.py" in problems[0].hint


def test_a_related_field_is_judged_against_those_who_see_the_list():
    class Related(CatalogMaskingAdminMixin, admin.ModelAdmin):
        list_display = ("order",)
        list_filter = ("order__member__last_login",)

    problems = check(Payment, Related)
    assert ids(problems) == ["kirakira.privacy.E015"]
    assert "accounts.User.last_login" in problems[0].msg


def test_a_sort_column_computed_from_a_hidden_field_is_refused():
    class Sorting(CatalogMaskingAdminMixin, admin.ModelAdmin):
        list_display = ("login_id", "since")

        @admin.display(ordering="last_login")
        @shows("last_login")
        def since(self, obj):
            return obj.last_login

    assert ids(check(User, Sorting)) == ["kirakira.privacy.E015"]


def test_a_record_seen_in_full_by_all_its_viewers_may_be_filtered_and_drilled_into():
    class Log(CatalogMaskingAdminMixin, admin.ModelAdmin):
        list_display = ("occurred_at", "member", "ip_address")
        list_filter = ("method",)
        date_hierarchy = "occurred_at"
        search_fields = ("route",)

    assert check(UsageRecord, Log) == []


def test_computed_columns_must_say_what_they_read():
    class Computed(CatalogMaskingAdminMixin, admin.ModelAdmin):
        list_display = ("login_id", "shout", "quiet", "__str__")

        def shout(self, obj):
            return obj.name.upper()

        @shows()
        def quiet(self, obj):
            return "-"

    problems = check(User, Computed)
    assert ids(problems) == ["kirakira.privacy.E016", "kirakira.privacy.E016"]
    assert {"'shout'" in p.msg or "'__str__'" in p.msg for p in problems} == {True}
    assert "@shows" in problems[0].hint


def test_a_custom_filter_must_say_what_it_reads_unless_it_is_named_after_a_field():
    class Vague(admin.SimpleListFilter):
        title = parameter_name = "recent"

        def lookups(self, request, model_admin):
            return [("yes", "yes")]

        def queryset(self, request, queryset):
            return queryset

    @shows("is_active")
    class Declared(Vague):
        parameter_name = "declared"

    class Named(Vague):
        parameter_name = "is_staff"

    class Filters(CatalogMaskingAdminMixin, admin.ModelAdmin):
        list_display = ("login_id",)
        list_filter = (Vague, Declared, Named)

    problems = check(User, Filters)
    assert ids(problems) == ["kirakira.privacy.E016"]
    assert "Vague" in problems[0].msg


def test_shows_must_name_fields():
    class Typo(CatalogMaskingAdminMixin, admin.ModelAdmin):
        list_display = ("login_id", "seen")

        @shows("last_logon")
        def seen(self, obj):
            return obj.last_login

    problems = check(User, Typo)
    assert ids(problems) == ["kirakira.privacy.E018"]
    assert "last_logon" in problems[0].msg


def test_personal_data_is_not_edited_in_the_list():
    class Editable(CatalogMaskingAdminMixin, admin.ModelAdmin):
        list_display = ("login_id", "name")
        list_editable = ("name",)

    problems = check(User, Editable)
    assert ids(problems) == ["kirakira.privacy.E017"]


def test_an_admin_without_fields_shows_every_field_of_its_form():
    class Everything(admin.ModelAdmin):
        list_display = ("recorded_at",)

    problems = check(Payment, Everything)
    assert ids(problems) == ["kirakira.privacy.E013"]
    assert "payer_name" in problems[0].msg


# --- The real back office -----------------------------------------------------------------------

ACCOUNT = {
    "bank_name": "きらきら銀行",
    "branch": "渋谷支店",
    "account_type": "ordinary",
    "account_number": "7654321",
    "account_holder": "イチラン ハナコ",
}
REAL_LISTS = [
    "accounts.User",
    "orders.Order",
    "orders.Payment",
    "orders.Refund",
    "orders.Cancellation",
    "consultations.Consultation",
    "usage.UsageRecord",
    "consent.ConsentRecord",
]
# Each role alone, and a superuser with no role (who gets no personal data from being one).
VIEWERS = [(role,) for role in Role] + [()]
RANK = {"none": 0, "masked": 1, "full": 2}


@pytest.fixture
def world(db):
    member = MemberFactory(
        login_id="listme", name="一覧 花子", email=EMAIL, pending_email=PENDING, last_login=LAST_LOGIN
    )
    order = place_order(
        member=member, phone="090-8765-4321", sns_account_id="kira.listed", note="窓側の写真を明るく"
    )
    record_payment(order)
    lifecycle.order_cancel(
        order_id=order.pk, member=member, reason="予定が変わってしまいました", refund_account=ACCOUNT
    )
    for category, subject in [
        ("question", "納品の時期について知りたい"),
        ("complaint", "仕上がりに不満があります"),
        ("personal_information", "登録情報の開示を求めます"),
    ]:
        open_for_member(member, category=category, subject=subject)
    UsageRecord.objects.create(
        member=member,
        occurred_at=clock.now(),
        ip_address="203.0.113.99",
        method="GET",
        route="accounts:mypage",
        status_code=200,
    )
    consent_record(choice="accept")
    return member


def best(entry, roles) -> str:
    """What the catalog gives the roles of one entry (``None``: not personal data)."""
    if entry is None:
        return "full"
    return max((entry.visibility(str(role)) for role in roles), key=RANK.__getitem__, default="none")


def expected_column(model, model_admin, column, roles):
    """The catalog's answer for one configured column: (level, entry of the field it shows)."""
    if isinstance(column, str):
        try:
            model._meta.get_field(column)
        except FieldDoesNotExist:
            pass  # a computed column
        else:
            entry = catalog.field(model, column)
            return best(entry, roles), entry
    target = column if callable(column) else getattr(model_admin, column, None) or getattr(model, column)
    paths = (target.fget if isinstance(target, property) else target).catalog_fields
    assert all("__" not in path for path in paths)  # the real lists read their own fields
    levels = [best(catalog.field(model, path), roles) for path in paths]
    return ("full" if all(level == "full" for level in levels) else "none"), None


def personal_fields(model):
    declaration = catalog.for_model(model)
    if declaration is None:
        return []
    if declaration.record is not None:
        return [(f.name, declaration.record) for f in model._meta.concrete_fields]
    return [(name, entry) for name, entry in declaration.fields.items()]


def name_of(column):
    return getattr(column, "__name__", column)


@pytest.mark.parametrize("label", REAL_LISTS)
def test_each_list_shows_each_role_what_the_catalog_says(client, world, label):
    from django.apps import apps

    model = apps.get_model(label)
    model_admin = admin.site._registry[model]
    url = f"/en/backoffice/{model._meta.app_label}/{model._meta.model_name}/"
    viewers = 0
    for roles in VIEWERS:
        staff = as_role(*roles, superuser=not roles)
        if not staff.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}"):
            continue
        viewers += 1
        log_in(client, staff)
        response = client.get(url)
        assert response.status_code == 200, (label, roles)
        page = response.content.decode()
        cl = response.context["cl"]
        shown = {name_of(column) for column in cl.list_display}
        rows = list(cl.result_list)
        for column in model_admin.list_display:
            level, entry = expected_column(model, model_admin, column, roles)
            name = name_of(column)
            assert (name in shown) == (level == "full"), (label, roles, name, level)
            assert (f"masked_{name}" in shown) == (level == "masked"), (label, roles, name, level)
            for row in rows:
                value = getattr(row, name, None) if isinstance(column, str) else None
                if not isinstance(value, str) or not value:
                    continue
                if level == "full":
                    assert html.escape(value) in page, (label, roles, name)
                elif level == "masked":
                    assert html.escape(mask_value(value, entry.mask)) in page, (label, roles, name)
        # Nothing the roles may not see in full is anywhere on the page (but the header greets
        # the viewer by their own login ID).
        for row in rows:
            if row == staff:
                continue
            for field_name, entry in personal_fields(model):
                value = getattr(row, field_name, None)
                if isinstance(value, str) and len(value) >= 6 and best(entry, roles) != "full":
                    assert html.escape(value) not in page, (label, roles, field_name)
    assert viewers >= 2


def test_customer_service_cannot_learn_last_login_from_the_member_list(client, world):
    log_in(client, as_role(Role.CUSTOMER_SERVICE))
    url = "/en/backoffice/accounts/user/"
    for query in (
        "last_login__gte=2019-01-01",
        "last_login__lt=2020-01-01",
        "last_login__year=2019",
        "last_login__isnull=True",
        "last_login__range=2019-01-01,2019-12-31",
    ):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400, query
        assert "listme" not in response.content.decode()
    # A search for an email address or a year does not reach the email or the last login.
    for term in (EMAIL, "hanako.yamada", "2019-06-15", "2019"):
        response = client.get(url, {"q": term})
        assert response.status_code == 200
        assert world not in response.context["cl"].result_list, term
    # No column of the list sorts by the last login.
    for index in range(len(admin.site._registry[User].list_display) + 1):
        response = client.get(url, {"o": str(index)})
        assert response.status_code == 200
        assert "last_login" not in str(response.context["cl"].queryset.query.order_by)


def test_the_privacy_staff_still_filter_members_by_last_login(client, world):
    log_in(client, as_role(Role.PRIVACY_STAFF))
    response = client.get("/en/backoffice/accounts/user/", {"last_login__lt": "2020-01-01T00:00:00+00:00"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [world]


def test_a_usage_records_page_follows_the_whole_record_declaration(client, world):
    # The usage admin names no fields: its page is built from the model's form, then masked.
    record = UsageRecord.objects.get(ip_address="203.0.113.99")
    url = f"/en/backoffice/usage/usagerecord/{record.pk}/change/"
    log_in(client, as_role(Role.PRIVACY_STAFF))
    response = client.get(url)
    assert response.status_code == 200 and "203.0.113.99" in response.content.decode()
    log_in(client, as_role(superuser=True))  # superuser status gives no permission at all
    response = client.get(url)
    assert response.status_code == 403 and "203.0.113.99" not in response.content.decode()
    response = client.get("/en/backoffice/usage/usagerecord/")
    assert response.status_code == 403 and "203.0.113.99" not in response.content.decode()


def test_row_checkboxes_name_no_one(client, world):
    # Django names each row's checkbox after str(obj): for a payment, its order and amount.
    payment = Payment.objects.get()
    log_in(client, as_role(Role.ACCOUNTING))
    page = client.get("/en/backoffice/orders/payment/").content.decode()
    assert 'class="action-select"' in page and payment.order.reference in page
    assert str(payment) not in page
