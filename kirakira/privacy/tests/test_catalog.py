"""The data catalog: queries, the system checks that hold the code to it, the command that
prints it, and masking by role."""

import json
import sys
import uuid
from contextlib import contextmanager
from io import StringIO

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from kirakira.accounts.models import User
from kirakira.privacy.catalog import (
    Catalog,
    Context,
    Item,
    Mask,
    Protection,
    Purpose,
    Retention,
    RetentionRule,
    Role,
    catalog,
    not_personal,
    personal,
)
from kirakira.privacy.catalog.checks import catalog_problems
from kirakira.privacy.catalog.masking import HIDDEN, mask_value, shown_to, visibility
from kirakira.privacy.crypto import datakeys
from kirakira.privacy.crypto.fields import Destroyed, Sealed
from kirakira.privacy.tests.testapp.models import PlainSecret, Secret

pytestmark = pytest.mark.django_db


def entry_keys(entries) -> set[tuple[str, str]]:
    return {(e.model_label, e.field) for e in entries}


# --- querying the catalog -------------------------------------------------------------------
def test_for_model_finds_a_declaration_by_class_or_label():
    by_class = catalog.for_model(User)
    by_label = catalog.for_model("ACCOUNTS.user")

    assert by_class is by_label
    assert by_class.model_label == "accounts.User"
    assert by_class.model is User
    assert by_class.subject == "pk"
    assert by_class.context == Context.MEMBERSHIP
    assert by_class.fields["email"].item == Item.EMAIL
    assert "id" in by_class.not_personal
    assert catalog.for_model("nowhere.Nothing") is None


def test_by_item_finds_fields_and_whole_model_records():
    email = entry_keys(catalog.by_item(Item.EMAIL))
    ip_address = entry_keys(catalog.by_item(Item.IP_ADDRESS))

    assert ("accounts.User", "email") in email
    assert ("accounts.User", "pending_email") in email
    assert ("accounts.User", "name") not in email
    assert ("usage.UsageRecord", "*") in ip_address  # one of the record's several items
    assert ("axes.AccessAttempt", "*") in ip_address


def test_by_rule_finds_everything_under_a_retention_rule():
    usage_log = catalog.by_rule(Retention.USAGE_LOG_6M)
    contract = entry_keys(catalog.by_rule(Retention.CONTRACT_RECORD_5Y))

    assert ("usage.UsageRecord", "*") in entry_keys(usage_log)
    assert all(e.retention == Retention.USAGE_LOG_6M for e in usage_log)
    assert ("accounts.User", "email") not in entry_keys(usage_log)
    assert ("privacy_testapp.Secret", "phone") in contract


def test_visible_to_lists_what_a_role_may_see_in_full_or_masked():
    accounting = entry_keys(catalog.visible_to(Role.ACCOUNTING))

    assert ("accounts.User", "email") in accounting  # masked
    assert ("privacy_testapp.Secret", "phone") in accounting  # full
    assert ("privacy_testapp.Secret", "note") not in accounting
    assert ("usage.UsageRecord", "*") not in accounting
    assert ("accounts.User", "password") not in accounting
    assert entry_keys(catalog.visible_to("accounting")) == accounting


def test_field_returns_the_entry_or_the_whole_model_record():
    assert catalog.field(Secret, "phone").mask == Mask.LAST4
    assert catalog.field("usage.UsageRecord", "ip_address").field == "*"
    assert catalog.field(Secret, "member_id") is None
    assert catalog.field("nowhere.Nothing", "x") is None


# --- every installed model is covered ---------------------------------------------------------
def test_every_installed_model_is_declared_and_the_check_passes():
    undeclared = [m._meta.label for m in apps.get_models() if catalog.for_model(m) is None]
    assert undeclared == []
    assert catalog_problems(apps.get_models(), catalog) == []

    call_command("check", stdout=StringIO(), stderr=StringIO())


@contextmanager
def undeclared_app_installed():
    """The undeclared test app installed, its privacy.py registered; the catalog restored after."""
    module = "kirakira.privacy.tests.undeclared_app.privacy"
    saved_models, saved_problems = dict(catalog._models), list(catalog.problems)
    sys.modules.pop(module, None)
    try:
        with override_settings(
            INSTALLED_APPS=[*settings.INSTALLED_APPS, "kirakira.privacy.tests.undeclared_app"]
        ):
            yield
    finally:
        sys.modules.pop(module, None)
        catalog._models.clear()
        catalog._models.update(saved_models)
        catalog.problems[:] = saved_problems


def test_check_fails_on_a_field_nobody_declared():
    with undeclared_app_installed():
        assert catalog.for_model("privacy_undeclared.Leaky") is not None
        with pytest.raises(SystemCheckError) as excinfo:
            call_command("check", stdout=StringIO(), stderr=StringIO())

    message = str(excinfo.value)
    assert "kirakira.privacy.E001" in message
    assert "privacy_undeclared.Leaky.nickname" in message
    assert "favourite_colour" not in message
    # Once the app is gone again, so is its declaration, and the check passes.
    assert catalog.for_model("privacy_undeclared.Leaky") is None
    call_command("check", stdout=StringIO(), stderr=StringIO())


# --- catalog_problems on a fresh catalog -------------------------------------------------------
SECRET_FIELDS = {
    "phone": dict(
        item=Item.PHONE,
        protection=Protection.ENCRYPTED,
        full=[Role.ACCOUNTING],
        masked=[Role.CUSTOMER_SERVICE],
        mask=Mask.LAST4,
    ),
    "phone_index": dict(item=Item.PHONE, protection=Protection.ONE_WAY),
    "note": dict(item=Item.ORDER_INFORMATION, protection=Protection.ENCRYPTED, full=[Role.CUSTOMER_SERVICE]),
    "links": dict(item=Item.PHOTO_LINKS, protection=Protection.ENCRYPTED, full=[Role.CUSTOMER_SERVICE]),
}


def secret_fields(**overrides):
    out = []
    for name, spec in SECRET_FIELDS.items():
        spec = {
            "purposes": [Purpose.SERVICE_CONTRACT],
            "retention": Retention.CONTRACT_RECORD_5Y,
            **spec,
            **overrides.get(name, {}),
        }
        out.append(personal(name, spec.pop("item"), **spec))
    return out


def declare_secret(the_catalog, fields=None, not_personal_fields=("id", "member_id")):
    the_catalog.register(
        "privacy_testapp.Secret",
        context=Context.SERVICE,
        subject="member_id",
        fields=secret_fields() if fields is None else fields,
        not_personal=not_personal(*not_personal_fields, reason="identifiers"),
    )


def ids(problems) -> list[str]:
    return [p.id for p in problems]


def test_fresh_catalog_with_a_complete_declaration_has_no_problems():
    fresh = Catalog()
    declare_secret(fresh)

    assert catalog_problems([Secret], fresh) == []


def test_project_model_without_declaration_is_e001():
    problems = catalog_problems([Secret], Catalog())

    assert ids(problems) == ["kirakira.privacy.E001"]
    assert "privacy_testapp.Secret" in problems[0].msg


def test_project_field_left_out_is_e001_naming_it():
    fresh = Catalog()
    declare_secret(fresh, not_personal_fields=("id",))

    problems = catalog_problems([Secret], fresh)

    assert ids(problems) == ["kirakira.privacy.E001"]
    assert "privacy_testapp.Secret.member_id" in problems[0].msg


def test_declared_field_missing_from_the_model_is_e002():
    fresh = Catalog()
    declare_secret(
        fresh,
        fields=[
            *secret_fields(),
            personal(
                "fax", Item.PHONE, purposes=[Purpose.SERVICE_CONTRACT], retention=Retention.CONTRACT_RECORD_5Y
            ),
        ],
        not_personal_fields=("id", "member_id", "colour"),
    )

    problems = catalog_problems([Secret], fresh)

    assert sorted(ids(problems)) == ["kirakira.privacy.E002", "kirakira.privacy.E002"]
    messages = " ".join(p.msg for p in problems)
    assert "privacy_testapp.Secret.fax" in messages
    assert "privacy_testapp.Secret.colour" in messages


def test_encrypted_declared_on_a_plain_field_is_e003():
    fresh = Catalog()
    fresh.register(
        "privacy_testapp.PlainSecret",
        context=Context.SERVICE,
        subject="member_id",
        fields=[
            personal(
                "note",
                Item.ORDER_INFORMATION,
                purposes=[Purpose.SERVICE_CONTRACT],
                retention=Retention.CONTRACT_RECORD_5Y,
                protection=Protection.ENCRYPTED,
            )
        ],
        not_personal=not_personal("id", "member_id", "phone", reason="test"),
    )

    problems = catalog_problems([PlainSecret], fresh)

    assert ids(problems) == ["kirakira.privacy.E003"]
    assert "privacy_testapp.PlainSecret.note" in problems[0].msg


def test_encrypting_field_declared_as_plain_is_e003():
    fresh = Catalog()
    declare_secret(fresh, fields=secret_fields(phone={"protection": Protection.PLAIN}))

    problems = catalog_problems([Secret], fresh)

    assert ids(problems) == ["kirakira.privacy.E003"]
    assert "privacy_testapp.Secret.phone" in problems[0].msg


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"purposes": ["marketing"]}, "marketing"),
        ({"purposes": []}, "no purpose"),
        ({"retention": RetentionRule("forever", "Forever", "none")}, "forever"),
        ({"full": ["intern"]}, "intern"),
        ({"masked": ["janitor"]}, "janitor"),
        ({"full": [Role.ACCOUNTING], "masked": [Role.ACCOUNTING]}, "both full and masked"),
        ({"mask": "blur"}, "blur"),
        ({"protection": "rot13"}, "rot13"),
    ],
    ids=["purpose", "no-purpose", "rule", "full-role", "masked-role", "both", "mask", "protection"],
)
def test_vocabulary_outside_the_policy_is_e004(override, expected):
    fresh = Catalog()
    declare_secret(fresh, fields=secret_fields(note=override))

    problems = [p for p in catalog_problems([Secret], fresh) if p.id == "kirakira.privacy.E004"]

    assert len(problems) == 1
    assert "privacy_testapp.Secret.note" in problems[0].msg
    assert expected in problems[0].msg


def test_unknown_item_is_e004():
    fresh = Catalog()
    fields = [e for e in secret_fields() if e.field != "note"]
    fields.append(
        personal(
            "note",
            "shoe_size",
            purposes=[Purpose.SERVICE_CONTRACT],
            retention=Retention.CONTRACT_RECORD_5Y,
            protection=Protection.ENCRYPTED,
        )
    )
    declare_secret(fresh, fields=fields)

    problems = catalog_problems([Secret], fresh)

    assert ids(problems) == ["kirakira.privacy.E004"]
    assert "shoe_size" in problems[0].msg


@pytest.mark.parametrize("duplicate_as", ["personal", "not_personal", "record"])
def test_duplicate_declarations_are_e005(duplicate_as):
    fresh = Catalog()
    declare_secret(fresh)
    if duplicate_as == "personal":
        fresh.register("privacy_testapp.Secret", context=Context.SERVICE, fields=secret_fields()[:1])
        expected = "privacy_testapp.Secret.phone"
    elif duplicate_as == "not_personal":
        fresh.register(
            "privacy_testapp.Secret",
            context=Context.SERVICE,
            not_personal=not_personal("member_id", reason="again"),
        )
        expected = "privacy_testapp.Secret.member_id"
    else:
        for _ in range(2):
            fresh.register_record(
                "usage.UsageRecord",
                context=Context.MEMBERSHIP,
                subject="member",
                items=[Item.IP_ADDRESS],
                purposes=[Purpose.IDENTITY],
                retention=Retention.USAGE_LOG_6M,
            )
        expected = "usage.UsageRecord"

    problems = [p for p in catalog_problems([Secret], fresh) if p.id == "kirakira.privacy.E005"]

    assert len(problems) == 1
    assert expected in problems[0].msg


def test_third_party_model_unclassified_is_e006_not_e001():
    problems = catalog_problems([Session], Catalog())

    assert ids(problems) == ["kirakira.privacy.E006"]
    assert "sessions.Session" in problems[0].msg
    assert "third_party.py" in problems[0].hint


def test_third_party_field_unclassified_is_e006():
    fresh = Catalog()
    fresh.register(
        "sessions.Session",
        context=Context.SECURITY,
        third_party=True,
        not_personal=not_personal("session_key", "expire_date", reason="test"),
    )

    problems = catalog_problems([Session], fresh)

    assert ids(problems) == ["kirakira.privacy.E006"]
    assert "sessions.Session.session_data" in problems[0].msg


def test_declaration_of_a_model_that_is_not_installed_is_e007():
    fresh = Catalog()
    declare_secret(fresh)
    fresh.register("ghosts.Ghost", context=Context.SERVICE, not_personal=not_personal("id", reason="test"))

    problems = catalog_problems([Secret], fresh)

    assert ids(problems) == ["kirakira.privacy.E007"]
    assert "ghosts.Ghost" in problems[0].msg


def test_subject_field_that_does_not_exist_is_e008():
    fresh = Catalog()
    fresh.register(
        "privacy_testapp.Secret",
        context=Context.SERVICE,
        subject="owner",
        fields=secret_fields(),
        not_personal=not_personal("id", "member_id", reason="identifiers"),
    )

    assert ids(catalog_problems([Secret], fresh)) == ["kirakira.privacy.E008"]


def test_the_registered_catalog_itself_has_no_duplicates():
    assert catalog.problems == []


# --- the privacy_catalog command ------------------------------------------------------------
def run_catalog(*args) -> str:
    out = StringIO()
    call_command("privacy_catalog", *args, stdout=out)
    return out.getvalue()


def table_rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines()[2:] if line.strip() and not line.endswith("entries")]


def test_privacy_catalog_prints_a_table_with_a_row_per_field():
    output = run_catalog()

    header = output.splitlines()[0].split()
    assert header[:2] == ["model", "field"]
    assert {"items", "purposes", "retention", "protection", "full", "masked"} <= set(header)
    email_rows = [r for r in table_rows(output) if r[:2] == ["accounts.User", "email"]]
    assert len(email_rows) == 1
    assert "email" in email_rows[0][2].split(",")
    assert "withdrawn_member_5y" in email_rows[0]
    assert f"{len(catalog.entries())} entries" in output


def test_privacy_catalog_json_is_valid_and_complete():
    rows = json.loads(run_catalog("--json"))

    assert len(rows) == len(catalog.entries())
    for row in rows:
        assert {"model", "field", "items", "purposes", "retention", "protection", "full", "masked"} <= set(
            row
        )
    email = next(r for r in rows if (r["model"], r["field"]) == ("accounts.User", "email"))
    assert email["items"] == ["email"]
    assert email["retention"] == "withdrawn_member_5y"
    assert email["protection"] == "encrypted"
    assert "accounting" in email["masked"]
    assert "customer_service" in email["full"]
    phone = next(r for r in rows if (r["model"], r["field"]) == ("privacy_testapp.Secret", "phone"))
    assert phone["protection"] == "encrypted"


def test_privacy_catalog_role_filter_lists_only_what_the_role_may_see():
    rows = json.loads(run_catalog("--json", "--role", "accounting"))
    keys = {(r["model"], r["field"]) for r in rows}

    assert rows
    assert all("accounting" in r["full"] or "accounting" in r["masked"] for r in rows)
    assert ("accounts.User", "email") in keys
    assert ("privacy_testapp.Secret", "phone") in keys
    assert ("usage.UsageRecord", "*") not in keys
    assert keys == entry_keys(catalog.visible_to(Role.ACCOUNTING))

    table = table_rows(run_catalog("--role", "accounting"))
    assert {(r[0], r[1]) for r in table} == keys


def test_privacy_catalog_rule_filter():
    rows = json.loads(run_catalog("--json", "--rule", "usage_log_6m"))

    assert [(r["model"], r["field"]) for r in rows] == [("usage.UsageRecord", "*")]


# --- masking --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "mask", "expected"),
    [
        ("090-1234-5678", Mask.LAST4, "****5678"),
        ("12345", Mask.LAST4, "****2345"),
        ("1234", Mask.LAST4, HIDDEN),
        ("hanako@example.com", Mask.EMAIL, "h****@example.com"),
        ("김민지@example.kr", Mask.EMAIL, "김****@example.kr"),
        ("not-an-email", Mask.EMAIL, HIDDEN),
        ("山田花子", Mask.NAME, "山***"),
        ("Kim", Mask.NAME, "K**"),
        ("Alexandria Ocasio", Mask.NAME, "A****"),
        ("X", Mask.NAME, "X*"),
        ("anything at all", Mask.HIDDEN, HIDDEN),
        (None, Mask.LAST4, ""),
        ("", Mask.EMAIL, ""),
        (9012345678, Mask.LAST4, "****5678"),
    ],
)
def test_mask_value(value, mask, expected):
    assert mask_value(value, mask) == expected


def test_masks_never_reveal_the_hidden_part():
    assert "1234" not in mask_value("090-1234-5678", Mask.LAST4)
    assert "anako" not in mask_value("hanako@example.com", Mask.EMAIL)
    assert "花子" not in mask_value("山田花子", Mask.NAME)


def test_mask_of_a_destroyed_value_is_the_marker():
    marker = Destroyed.marker()

    assert mask_value(marker, Mask.LAST4) == str(marker)
    assert mask_value(marker, Mask.EMAIL) == str(marker)


@pytest.fixture
def secret():
    created = Secret.objects.create(member_id=uuid.uuid4(), phone="090-1234-5678", note="受付メモ")
    datakeys.clear_cache()
    return Secret.objects.get(pk=created.pk)


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ([Role.ACCOUNTING], "090-1234-5678"),
        ([Role.CUSTOMER_SERVICE], "****5678"),
        ([Role.PRIVACY_STAFF], None),
        ([], None),
        (["accounting"], "090-1234-5678"),
        ([Role.CUSTOMER_SERVICE, Role.ACCOUNTING], "090-1234-5678"),
        ([Role.ACCOUNTING, Role.CUSTOMER_SERVICE], "090-1234-5678"),
        ([Role.PRIVACY_STAFF, Role.CUSTOMER_SERVICE], "****5678"),
    ],
    ids=[
        "accounting",
        "customer-service",
        "privacy-staff",
        "no-role",
        "string",
        "two-a",
        "two-b",
        "none+masked",
    ],
)
def test_shown_to_gives_each_role_its_visibility_and_the_best_of_several(secret, roles, expected):
    assert shown_to(roles, secret, "phone") == expected


def test_shown_to_for_another_field_follows_its_own_declaration(secret):
    assert shown_to([Role.CUSTOMER_SERVICE], secret, "note") == "受付メモ"
    assert shown_to([Role.ACCOUNTING], secret, "note") is None


def test_shown_to_a_field_that_is_not_personal_is_full(secret):
    assert shown_to([], secret, "member_id") == secret.member_id
    assert visibility([], Secret, "member_id") == "full"


def test_shown_to_roles_given_as_a_generator(secret):
    assert shown_to((r for r in [Role.PRIVACY_STAFF, Role.ACCOUNTING]), secret, "phone") == "090-1234-5678"


def test_shown_to_does_not_decrypt_for_a_role_that_sees_nothing(secret):
    shown_to([Role.PRIVACY_STAFF], secret, "phone")

    assert "phone" in secret.__dict__
    assert not isinstance(secret.__dict__["phone"], str)
    assert isinstance(secret.__dict__["phone"], Sealed)  # still sealed
