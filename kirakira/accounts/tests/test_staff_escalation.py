"""Staff cannot give themselves, or anyone, more than their role.

Observed on the old back office: the administrator created an account, made it staff with the
administrator role, and that account ticked its own ``is_superuser``; as superuser it read full
email addresses, account numbers and personal-information consultations and reached the member
delete page. The administrator could set any member's password. View-only roles were offered
"reset password", which ended in a 403 drawn as a member page, and saw the hash algorithm and the
first characters of salt and hash.
"""

import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from kirakira.accounts import services as member_services
from kirakira.accounts import staff, validation
from kirakira.accounts.models import User
from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory
from kirakira.consultations import services as consultation_services
from kirakira.consultations.models import Attachment
from kirakira.consultations.testing import PNG, open_for_member, open_for_visitor, upload
from kirakira.orders import lifecycle
from kirakira.orders.models import Order, Payment
from kirakira.orders.testing import place_order, record_payment
from kirakira.usage.models import UsageRecord

from .helpers import link_in, page_text

USERS = "/en/backoffice/accounts/user/"
NEW_PASSWORD = "a-brand-new-secret-42"
BACK_OFFICE_PAGE = 'id="site-name"'  # the admin's header, on every back-office page
MEMBER_PAGE = 'class="site-header"'  # the member site's header


def change_url(user) -> str:
    return f"{USERS}{user.pk}/change/"


def role_ids(*roles) -> list[int]:
    return [Group.objects.get(name=str(role)).pk for role in roles]


def as_staff(client, user):
    client.force_login(user)
    return client


def set_password_by_link(client, link, password):
    landing = client.get(link)
    assert landing.status_code == 302  # Django moves the token out of the address bar
    return client.post(landing["Location"], {"new_password1": password, "new_password2": password})


def own_page_post(user, **extra) -> dict:
    """What a change form for ``user`` sends, plus whatever a crafted request adds."""
    return {"login_id": user.login_id, "name": user.name, "language": user.language, **extra}


@pytest.fixture
def administrator(db):
    return StaffFactory(login_id="admin_kato", roles=[Role.ADMINISTRATOR])


# --- the escalation path ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_staff_account_the_administrator_creates_cannot_make_itself_superuser(
    client, administrator, mailoutbox, django_capture_on_commit_callbacks
):
    as_staff(client, administrator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{USERS}add/",
            {
                "login_id": "climber",
                "name": "登る 人",
                "email": "climber@example.com",
                "language": "ja",
                "roles": role_ids(Role.ADMINISTRATOR),
            },
        )
    assert response.status_code == 302, page_text(response)[:3000]
    climber = User.objects.get(login_id="climber")
    assert climber.is_staff and not climber.is_superuser

    client.force_login(climber)
    page = page_text(client.get(change_url(climber)))
    for field in ("is_superuser", "is_staff", "is_active", "groups"):
        assert f'name="{field}"' not in page
    assert "Superuser status" in page  # shown, read-only

    crafted = own_page_post(
        climber, is_superuser="on", is_staff="on", is_active="on", groups=role_ids(*Role.values)
    )
    client.post(change_url(climber), crafted)

    climber.refresh_from_db()
    assert not climber.is_superuser
    assert set(climber.groups.values_list("name", flat=True)) == {Role.ADMINISTRATOR}


@pytest.mark.django_db
def test_an_administrator_cannot_tick_its_own_superuser_flag_even_with_a_crafted_post(client, administrator):
    as_staff(client, administrator)

    client.post(
        change_url(administrator),
        own_page_post(administrator, is_superuser="on", is_staff="on", is_active="on"),
    )

    administrator.refresh_from_db()
    assert not administrator.is_superuser
    with pytest.raises(TypeError):  # the service has no way to say it
        staff.access_change(user_id=administrator.pk, actor=administrator, is_superuser=True)


@pytest.mark.django_db
def test_no_back_office_form_sets_superuser_status_even_on_another_account(client, administrator):
    other = StaffFactory(roles=[Role.ACCOUNTING])
    as_staff(client, administrator)

    page = page_text(client.get(change_url(other)))
    assert 'name="is_superuser"' not in page
    client.post(change_url(other), own_page_post(other, is_superuser="on", is_staff="on", is_active="on"))
    add = page_text(client.get(f"{USERS}add/"))
    assert 'name="is_superuser"' not in add

    other.refresh_from_db()
    assert not other.is_superuser


@pytest.mark.django_db
def test_nobody_changes_their_own_roles_or_flags(client, administrator):
    as_staff(client, administrator)

    client.post(change_url(administrator), own_page_post(administrator, groups=role_ids(*Role.values)))
    client.post(change_url(administrator), own_page_post(administrator))  # unticks everything it can

    administrator.refresh_from_db()
    assert administrator.is_staff and administrator.is_active
    assert set(administrator.groups.values_list("name", flat=True)) == {Role.ADMINISTRATOR}
    with pytest.raises(PermissionDenied):
        staff.access_change(user_id=administrator.pk, actor=administrator, roles=[Role.PRIVACY_OFFICER])
    with pytest.raises(PermissionDenied):
        staff.access_change(user_id=administrator.pk, actor=administrator, is_active=False)


@pytest.mark.django_db
def test_a_member_account_cannot_be_made_staff(client, administrator):
    member = MemberFactory()
    as_staff(client, administrator)

    page = page_text(client.get(change_url(member)))
    assert 'name="is_staff"' not in page
    assert 'name="groups"' not in page
    client.post(
        change_url(member),
        own_page_post(member, is_staff="on", is_active="on", groups=role_ids(Role.ACCOUNTING)),
    )

    member.refresh_from_db()
    assert not member.is_staff
    assert not member.groups.exists()
    with pytest.raises(ValidationError) as refused:
        staff.access_change(user_id=member.pk, actor=administrator, is_staff=True)
    assert "is_staff" in refused.value.message_dict
    with pytest.raises(ValidationError) as no_roles:
        staff.access_change(user_id=member.pk, actor=administrator, roles=[Role.ACCOUNTING])
    assert "groups" in no_roles.value.message_dict


@pytest.mark.django_db
def test_the_administrator_offboards_a_staff_member(client, administrator):
    leaving = StaffFactory(roles=[Role.ACCOUNTING, Role.CUSTOMER_SERVICE])
    pausing = StaffFactory(roles=[Role.ACCOUNTING])
    as_staff(client, administrator)

    page = page_text(client.get(change_url(leaving)))
    assert 'name="is_staff"' in page and 'name="groups"' in page
    gone = client.post(change_url(leaving), own_page_post(leaving, is_active="on"))  # staff unticked
    paused = client.post(
        change_url(pausing), own_page_post(pausing, is_staff="on", groups=role_ids(Role.ACCOUNTING))
    )

    assert gone.status_code == paused.status_code == 302
    leaving.refresh_from_db()
    pausing.refresh_from_db()
    assert not leaving.is_staff and not leaving.groups.exists()  # no role outlives staff status
    assert not pausing.is_active and pausing.is_staff


@pytest.mark.django_db
def test_the_administrator_changes_another_staff_members_roles_within_their_own_sight(client, administrator):
    colleague = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    as_staff(client, administrator)

    response = client.post(
        change_url(colleague),
        own_page_post(colleague, is_staff="on", is_active="on", groups=role_ids(Role.ADMINISTRATOR)),
    )

    assert response.status_code == 302
    assert set(colleague.groups.values_list("name", flat=True)) == {Role.ADMINISTRATOR}


@pytest.mark.django_db
def test_roles_are_read_only_in_the_back_office(client):
    superuser = StaffFactory(is_superuser=True)
    group = Group.objects.get(name=Role.ACCOUNTING)
    as_staff(client, superuser)

    assert client.get("/en/backoffice/auth/group/add/").status_code == 403
    response = client.post(
        f"/en/backoffice/auth/group/{group.pk}/change/", {"name": "accounting", "permissions": []}
    )

    assert response.status_code == 403
    assert group.permissions.exists()


# --- a superuser with no role sees no personal data ---------------------------------------------

EMAIL = "walk.secret@example.com"
PHONE = "090-8765-4321"
ACCOUNT_NUMBER = "7654329"
SNS_ID = "secret.sns.walk"
PAYER = "ヒミツ ハライテ"
SUBJECT = "ひみつの件名です"
BODY = "ひみつの相談本文です。"
VISITOR_EMAIL = "visitor.secret@example.net"
IP = "198.51.100.77"
PLANTED = (EMAIL, PHONE, ACCOUNT_NUMBER, SNS_ID, PAYER, SUBJECT, BODY, VISITOR_EMAIL, IP)


@pytest.fixture
def planted(db):
    """A member with an order, a payment, a cancellation with a refund to their bank account,
    consultations of every category (one with an attachment), a visitor's consultation and a
    usage record, each holding a value the walk looks for."""
    member = MemberFactory(email=EMAIL)
    order = place_order(member=member, phone=PHONE, sns_account_id=SNS_ID)
    lifecycle.payment_record(
        order_id=order.pk,
        amount_yen=order.price_yen,
        received_on=clock.now().date(),
        payer_name=PAYER,
        actor=StaffFactory(roles=[Role.ACCOUNTING]),
    )
    lifecycle.order_cancel(
        order_id=order.pk,
        member=member,
        reason="間違えました",
        refund_account={
            "bank_name": "きらきら銀行",
            "branch": "本店",
            "account_type": "ordinary",
            "account_number": ACCOUNT_NUMBER,
            "account_holder": PAYER,
        },
    )
    for category in ("question", "proposal", "complaint", "personal_information"):
        open_for_member(member, category=category, subject=SUBJECT, body=BODY, callback_phone=PHONE)
    with_file = open_for_member(member, category="personal_information", subject=SUBJECT, body=BODY)
    consultation_services.requester_reply(
        consultation_id=with_file.pk, member=member, body=BODY, files=[upload("photo.png", PNG, "image/png")]
    )
    visitor = open_for_visitor(visitor_email=VISITOR_EMAIL, subject=SUBJECT, body=BODY)
    consultation_services.visitor_confirm(visitor.pk)
    UsageRecord.objects.create(
        member=member, occurred_at=clock.now(), ip_address=IP, method="GET", route="home", status_code=200
    )
    record_payment(place_order(member=member, phone=PHONE))  # a second order, paid
    return member


def planted_order(member) -> Order:
    return Order.objects.filter(member=member).order_by("pk").first()


def _url_kwargs(pattern, obj):
    """Values for a custom admin URL's parameters, from a real object."""
    kwargs = {}
    for name in pattern.pattern.converters:
        if name == "object_id":
            kwargs[name] = obj.pk
        elif name == "attachment_id":
            attachment = Attachment.objects.filter(message__consultation=obj).first()
            if attachment is None:
                return None
            kwargs[name] = attachment.pk
        else:
            return None
    return kwargs


def back_office_urls():
    """Every page of every registered admin: index, app pages, changelists, and for a real object (any, not only those the viewer's queryset offers)
    its change, history and delete pages and every custom URL."""
    urls = [reverse("admin:index")]
    seen_apps = set()
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        if info[0] not in seen_apps:
            seen_apps.add(info[0])
            urls.append(reverse("admin:app_list", args=[info[0]]))
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        urls.append(changelist)
        objects = [model._base_manager.order_by("pk").first()]
        if model is User:
            objects = [User.objects.get(email_index=User.email_index_of(EMAIL))]
        if model._meta.label == "consultations.Consultation":
            objects = list(model._base_manager.all())
        for obj in filter(None, objects):
            for view in ("change", "history", "delete"):
                urls.append(reverse(f"admin:{info[0]}_{info[1]}_{view}", args=[obj.pk]))
            standard = {
                f"{info[0]}_{info[1]}_{view}" for view in ("changelist", "add", "change", "history", "delete")
            }
            for pattern in model_admin.get_urls():
                if not pattern.name or pattern.name in standard:
                    continue
                kwargs = _url_kwargs(pattern, obj)
                if kwargs is None:
                    continue
                try:
                    urls.append(reverse(f"admin:{pattern.name}", kwargs=kwargs))
                except NoReverseMatch:
                    urls.append(reverse(f"admin:{pattern.name}"))
    return list(dict.fromkeys(urls))


def _body(response) -> str:
    """Whatever the response carries, a page or a file."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode(errors="replace")


def _leaks(response) -> list[str]:
    body = _body(response)
    return [value for value in PLANTED if value in body]


@pytest.mark.django_db
def test_a_superuser_with_no_role_sees_no_personal_data_anywhere_in_the_back_office(client, planted):
    superuser = StaffFactory(is_superuser=True)
    # The walk's eyes work: a role that sees these values in full finds them on the same pages.
    officer = StaffFactory(roles=[Role.PRIVACY_OFFICER, Role.CUSTOMER_SERVICE, Role.ACCOUNTING])
    with translation.override("en"):
        urls = back_office_urls()
    assert len(urls) > 40

    as_staff(client, officer)
    found = set()
    for url in urls:
        found.update(_leaks(client.get(url)))
    assert {EMAIL, PHONE, BODY, SUBJECT, VISITOR_EMAIL} <= found

    as_staff(client, superuser)
    leaks = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 302, 403, 404), (url, response.status_code)
        if _leaks(response):
            leaks[url] = _leaks(response)
    for refund_reveal in [u for u in urls if u.endswith("/reveal/")]:
        response = client.post(refund_reveal, {"reason": "I am a superuser and want to see it"})
        assert response.status_code == 403
        assert ACCOUNT_NUMBER not in page_text(response)
    assert leaks == {}


NO_PERMISSION = "You don’t have permission to view or edit anything."


@pytest.mark.django_db
def test_a_superuser_with_no_role_is_refused_every_back_office_page(client, planted):
    """Django's PermissionsMixin answers every permission question with yes for a superuser, so
    such a superuser opened every page and read ``str(obj)`` in titles, breadcrumbs and history
    (a payment's amount, a usage record's time and route, a member's login ID)."""
    superuser = StaffFactory(is_superuser=True)
    with translation.override("en"):
        urls = back_office_urls()
    as_staff(client, superuser)

    index = client.get(urls[0])
    assert index.status_code == 200 and NO_PERMISSION in page_text(index)
    answers = {url: client.get(url) for url in urls[1:]}

    for url, response in answers.items():
        if url.count("/") <= 4:  # an app's page, e.g. /en/backoffice/orders/: no such page for them
            assert response.status_code == 404, url
        elif response.status_code == 302:  # an object their (empty) queryset does not hold
            assert response["Location"] == urls[0], url
        else:
            assert response.status_code == 403, (url, response.status_code)
    refused = [url for url, response in answers.items() if response.status_code == 403]
    assert len(refused) > 40
    payment = Payment.objects.first()
    assert not any(str(payment) in _body(response) for response in answers.values())
    assert not any(planted.login_id in _body(response) for response in answers.values())


@pytest.mark.django_db
def test_a_superuser_with_no_role_can_add_nothing(client, planted):
    superuser = StaffFactory(is_superuser=True)
    as_staff(client, superuser)
    order = planted_order(planted)
    before = Payment.objects.count()

    for model in admin.site._registry:
        add = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
        assert client.get(add).status_code == 403, add
    response = client.post(
        reverse("admin:orders_payment_add"),
        {
            "order": order.pk,
            "amount_yen": order.price_yen,
            "received_on": "2026-11-30",
            "payer_name": "ダレ カ",
        },
    )

    assert response.status_code == 403
    assert Payment.objects.count() == before
    assert not superuser.has_perm("orders.record_payment")
    assert not superuser.has_perms(["accounts.view_user"]) and not superuser.has_module_perms("orders")
    assert superuser.get_all_permissions() == set()


@pytest.mark.django_db
def test_only_roles_give_permissions_and_an_inactive_account_has_none():
    accountant = StaffFactory(is_superuser=True, roles=[Role.ACCOUNTING])
    expected = {
        f"{app}.{code}"
        for app, code in Group.objects.get(name=Role.ACCOUNTING).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }

    assert accountant.get_all_permissions() == expected
    assert accountant.has_perm("orders.record_payment") and not accountant.has_perm("accounts.add_user")
    assert accountant.has_module_perms("orders") and not accountant.has_module_perms("usage")
    with pytest.raises(ValueError):
        accountant.has_perms("orders.record_payment")
    inactive = User.objects.get(pk=accountant.pk)
    inactive.is_active = False
    assert not inactive.has_perm("orders.record_payment") and inactive.get_all_permissions() == set()


@pytest.mark.django_db
def test_no_role_and_no_superuser_reaches_a_members_delete_page(client, planted):
    delete_url = f"{USERS}{planted.pk}/delete/"
    for viewer in (StaffFactory(is_superuser=True), StaffFactory(is_superuser=True, roles=list(Role.values))):
        as_staff(client, viewer)
        assert client.get(delete_url).status_code == 403
        assert client.post(delete_url, {"post": "yes"}).status_code == 403
        listing = page_text(client.get(USERS))
        assert 'value="delete_selected"' not in listing
    assert User.objects.filter(pk=planted.pk).exists()


# --- passwords ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_administrators_password_page_is_gone(client, administrator):
    member = MemberFactory()
    for viewer in (administrator, StaffFactory(is_superuser=True, roles=[Role.ADMINISTRATOR])):
        as_staff(client, viewer)
        page = client.get(f"{USERS}{member.pk}/password/")
        posted = client.post(
            f"{USERS}{member.pk}/password/",
            {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
        )
        assert page.status_code == posted.status_code == 404
        assert BACK_OFFICE_PAGE in page_text(page) and MEMBER_PAGE not in page_text(page)
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


HASH_TRACES = re.compile(r"argon2|pbkdf2|algorithm|salt|\$[0-9a-zA-Z+/=]{6,}|hash", re.IGNORECASE)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role", [Role.ADMINISTRATOR, Role.CUSTOMER_SERVICE, Role.ACCOUNTING, Role.PRIVACY_STAFF]
)
def test_no_page_shows_a_password_hash(client, role):
    member = MemberFactory()
    as_staff(client, StaffFactory(roles=[role]))

    page = page_text(client.get(change_url(member)))

    assert member.password[:20] not in page
    assert not HASH_TRACES.search(page), HASH_TRACES.search(page)
    assert "../password/" not in page
    assert "Password:" in page or ">Password<" in page  # only whether one is set


@pytest.mark.django_db
def test_the_administrator_sends_the_members_own_reset_email(
    client, administrator, mailoutbox, django_capture_on_commit_callbacks
):
    member = MemberFactory()
    as_staff(client, administrator)
    page = page_text(client.get(change_url(member)))
    send_url = f"{USERS}{member.pk}/send-password-reset/"
    assert send_url in page
    assert client.get(send_url).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(send_url)

    assert response.status_code == 302 and response["Location"] == change_url(member)
    assert [message.to for message in mailoutbox] == [[member.email]]
    client.logout()
    done = set_password_by_link(client, link_in(mailoutbox[0]), NEW_PASSWORD)
    assert done.status_code == 302
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)


@pytest.mark.django_db
def test_the_reset_email_reaches_an_account_without_a_usable_password_through_the_action(
    client, administrator, mailoutbox, django_capture_on_commit_callbacks
):
    member = MemberFactory()
    member.set_unusable_password()
    member.save(update_fields=["password"])
    inactive = MemberFactory(is_active=False)
    as_staff(client, administrator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            USERS,
            {"action": "send_password_reset", "_selected_action": [member.pk, inactive.pk]},
            follow=True,
        )

    assert response.status_code == 200
    assert [message.to for message in mailoutbox] == [[member.email]]
    assert "deactivated" in page_text(response)
    set_password_by_link(client, link_in(mailoutbox[0]), NEW_PASSWORD)
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)


@pytest.mark.django_db
def test_a_new_staff_member_sets_their_own_first_password(
    client, administrator, mailoutbox, django_capture_on_commit_callbacks
):
    as_staff(client, administrator)
    add = page_text(client.get(f"{USERS}add/"))
    assert 'name="password1"' not in add and 'name="usable_password"' not in add

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"{USERS}add/",
            {
                "login_id": "newcomer",
                "name": "新人 太郎",
                "email": "newcomer@example.com",
                "language": "en",
                "roles": role_ids(Role.CUSTOMER_SERVICE),
            },
        )

    newcomer = User.objects.get(login_id="newcomer")
    assert not newcomer.has_usable_password()
    assert [message.to for message in mailoutbox] == [["newcomer@example.com"]]
    client.logout()
    set_password_by_link(client, link_in(mailoutbox[0]), NEW_PASSWORD)
    newcomer.refresh_from_db()
    assert newcomer.check_password(NEW_PASSWORD)


@pytest.mark.django_db
def test_creating_a_staff_account_checks_what_the_administrator_typed(client, administrator):
    taken = MemberFactory(login_id="takenid", email="taken@example.com")
    as_staff(client, administrator)

    response = client.post(
        f"{USERS}add/",
        {"login_id": "TAKENID", "name": "名前\u202e", "email": taken.email, "language": "ja", "roles": []},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) >= {"login_id", "name", "email", "roles"}
    assert all(len(messages) == 1 for messages in errors.values()), errors
    assert User.objects.filter(is_staff=True).count() == 1


# --- view-only roles ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.CUSTOMER_SERVICE, Role.ACCOUNTING, Role.PRIVACY_OFFICER])
def test_view_only_roles_are_offered_nothing_they_cannot_do(client, role, mailoutbox):
    member = MemberFactory()
    as_staff(client, StaffFactory(roles=[role]))

    page = page_text(client.get(change_url(member)))
    listing = page_text(client.get(USERS))
    refused = client.post(f"{USERS}{member.pk}/send-password-reset/")

    assert "password-reset" not in page and "Reset password" not in page
    assert 'name="_save"' not in page
    assert "send_password_reset" not in listing
    assert refused.status_code == 403
    assert BACK_OFFICE_PAGE in page_text(refused) and MEMBER_PAGE not in page_text(refused)
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_403_in_the_back_office_is_drawn_as_a_back_office_page_in_the_pages_language(client):
    as_staff(client, StaffFactory(roles=[Role.CUSTOMER_SERVICE]))

    english = client.get(f"/en{USERS.removeprefix('/en')}add/")
    japanese = client.get(f"{USERS.removeprefix('/en')}add/")

    assert english.status_code == japanese.status_code == 403
    assert BACK_OFFICE_PAGE in page_text(english) and MEMBER_PAGE not in page_text(english)
    assert "Access denied" in page_text(english)
    assert BACK_OFFICE_PAGE in page_text(japanese) and "Access denied" not in page_text(japanese)


# --- the reset email from the back office: recorded with the sending, and limited --------------


def reset_entries(user) -> list[LogEntry]:
    return list(
        LogEntry.objects.filter(object_id=str(user.pk), change_message="Sent a password-reset email.")
    )


@pytest.mark.django_db
def test_sending_a_reset_email_is_recorded_in_the_same_transaction(
    client, administrator, mailoutbox, django_capture_on_commit_callbacks
):
    member = MemberFactory()

    with pytest.raises(RuntimeError), transaction.atomic(), translation.override("en"):
        staff.account_send_password_reset(user_id=member.pk, actor=administrator)
        assert len(reset_entries(member)) == 1  # written before the commit, with the sending
        raise RuntimeError("the sending is rolled back")
    assert reset_entries(member) == []

    as_staff(client, administrator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{USERS}{member.pk}/send-password-reset/")
        client.post(USERS, {"action": "send_password_reset", "_selected_action": [member.pk]})

    entries = reset_entries(member)
    assert len(entries) == 2 and len(mailoutbox) == 2  # one record per email, page and action alike
    assert {entry.user_id for entry in entries} == {administrator.pk}
    history = page_text(client.get(f"{USERS}{member.pk}/history/"))
    assert "Sent a password-reset email." in history


@pytest.mark.django_db
def test_the_bulk_reset_action_reaches_at_most_twenty_accounts(
    client, administrator, mailoutbox, django_capture_on_commit_callbacks
):
    members = [MemberFactory() for _ in range(staff.PASSWORD_RESET_BULK_LIMIT + 1)]
    as_staff(client, administrator)

    with django_capture_on_commit_callbacks(execute=True):
        too_many = client.post(
            USERS, {"action": "send_password_reset", "_selected_action": [m.pk for m in members]}, follow=True
        )
        every = client.post(
            USERS,
            {"action": "send_password_reset", "select_across": "1", "_selected_action": [members[0].pk]},
            follow=True,
        )
    assert "at most 20 accounts" in page_text(too_many) and "at most 20 accounts" in page_text(every)
    assert (
        mailoutbox == []
        and not LogEntry.objects.filter(change_message="Sent a password-reset email.").exists()
    )

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            USERS, {"action": "send_password_reset", "_selected_action": [m.pk for m in members[:20]]}
        )
    assert len(mailoutbox) == 20


@pytest.mark.django_db
def test_the_back_office_obeys_the_per_address_reset_limit(
    client, administrator, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 2
    member = MemberFactory()
    as_staff(client, administrator)
    send_url = f"{USERS}{member.pk}/send-password-reset/"

    with django_capture_on_commit_callbacks(execute=True):
        answers = [client.post(send_url, follow=True) for _ in range(3)]
        action = client.post(
            USERS, {"action": "send_password_reset", "_selected_action": [member.pk]}, follow=True
        )

    assert len(mailoutbox) == 2
    assert "Too many password reset requests" in page_text(answers[2])
    assert "Too many password reset requests" in page_text(action)
    assert len(reset_entries(member)) == 2
    # The same count as "forgot my password": the public form is refused for this address too.
    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        public = client.post("/en/accounts/password/reset/", {"email": member.email})
    assert public.status_code == 429 and len(mailoutbox) == 2


# --- the first password: a longer-lived, single-use link -----------------------------------------


@pytest.mark.django_db
def test_a_new_staff_members_link_works_for_three_days_and_once(
    client, administrator, mailoutbox, django_capture_on_commit_callbacks
):
    start = clock.now()
    with clock.frozen_at(start), django_capture_on_commit_callbacks(execute=True):
        staff.staff_create(
            login_id="slowreader",
            name="遅い 読者",
            email="slow.reader@example.com",
            language="en",
            roles=[Role.ADMINISTRATOR],
            actor=administrator,
        )
    link = link_in(mailoutbox[0])
    assert "/accounts/password/first/" in link and "3 days" in mailoutbox[0].body

    with clock.frozen_at(start + timedelta(days=3, seconds=1)):
        assert client.get(link).status_code == 200  # the "invalid link" page
        assert 'name="new_password1"' not in page_text(client.get(link, follow=True))
    with clock.frozen_at(start + timedelta(days=2)):  # long past the reset link's hour
        done = set_password_by_link(client, link, NEW_PASSWORD)
        assert done.status_code == 302
        newcomer = User.objects.get(login_id="slowreader")
        assert newcomer.check_password(NEW_PASSWORD)
        client.logout()
        again = client.get(link, follow=True)
        assert again.redirect_chain == [] and 'name="new_password1"' not in page_text(again)  # used


# --- one check of a new account's login ID and email, for members and staff alike -------------


@pytest.mark.django_db
def test_registration_and_staff_creation_refuse_taken_login_ids_and_emails_alike(administrator):
    MemberFactory(login_id="hanako", email="hanako@example.com")
    refusals = []
    for create in (
        lambda: member_services.member_register(
            accept_terms=True,
            login_id="ＨＡＮＡＫＯ",
            name="花子",
            email="HANAKO@example.com",
            password="a-long-password-42",
            language="ja",
        ),
        lambda: staff.staff_create(
            login_id="ＨＡＮＡＫＯ",
            name="花子",
            email="HANAKO@example.com",
            language="ja",
            roles=[Role.ADMINISTRATOR],
            actor=administrator,
        ),
    ):
        with pytest.raises(ValidationError) as refused, translation.override("en"):
            create()
        refusals.append({field: refused.value.message_dict[field] for field in ("login_id", "email")})

    assert (
        refusals[0]
        == refusals[1]
        == {
            "login_id": ["This login ID is already taken."],
            "email": ["This email address is already registered."],
        }
    )
    assert member_services._validate_email_syntax is validation.validate_email_syntax
    assert not hasattr(staff, "_validate_email")
