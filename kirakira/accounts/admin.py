"""The back office's accounts and roles.

Threat model: a member of staff who gives themselves, or someone else, more than their role —
superuser status, staff status for a member account, a role, or another person's password.
So here:

- superuser status is shown, never set (only ``createsuperuser`` on the server gives it);
- one's own roles and flags are read-only, and the services refuse them again
  (``kirakira.accounts.staff``), as does the permission-change log's hook for any other path;
- staff status is set only by creating a staff account, and can only be removed afterwards;
  roles exist on staff accounts only;
- no page shows or sets a password: the owner is sent the reset email ("forgot my password"),
  and a new staff member sets their first password from an emailed link;
- no account is ever deleted here; offboarding is removing staff status or deactivating, and a
  staff member who still handles open consultations or rights requests is deactivated only from
  the offboarding page, which hands them over first (``kirakira.accounts.offboarding``);
- a grant of a role that sees more than the administrator's own, and the removal of a privacy
  role, become role requests that the privacy officer approves or refuses (``RoleRequestAdmin``;
  the rules are ``staff``'s).

Personal fields are shown as the catalog allows the viewer's roles (the masking mixin), and roles
are read-only: their permissions are set from their declarations (``kirakira.common.roles``).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken

from kirakira.common.admin_base import ViewOnlyAdmin
from kirakira.common.forms import apply_service_errors
from kirakira.common.roles import Role
from kirakira.privacy.catalog.admin import CatalogMaskingAdminMixin, shows

from . import offboarding, staff
from .models import RoleRequest, User
from .normalization import normalize_email

ACCESS_FLAGS = ("is_active", "is_staff")


def _role_groups():
    return Group.objects.filter(name__in=Role.values).order_by("name")


def _role_labels(codes) -> str:
    return ", ".join(str(Role(code).label) if code in Role.values else code for code in codes)


def _waiting_message(request_obj) -> str:
    """What the administrator is told when part of a change waits for the privacy officer."""
    parts = []
    if request_obj.roles_added:
        parts.append(_("to add: %(roles)s") % {"roles": _role_labels(request_obj.roles_added)})
    if request_obj.roles_removed:
        parts.append(_("to remove: %(roles)s") % {"roles": _role_labels(request_obj.roles_removed)})
    return _("These role changes wait for the privacy officer's approval (%(changes)s).") % {
        "changes": "; ".join(parts)
    }


def _add_service_errors(form, exc) -> None:
    """A service's errors on the fields that have none yet (a field the form already refused
    needs no second message)."""
    if isinstance(exc, PermissionDenied):
        form.add_error(None, str(exc) or _("Your role may not do this."))
        return
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            if field not in form.errors:
                form.add_error(field if field in form.fields else None, errors)
    else:
        apply_service_errors(form, exc)


class StaffCreationForm(forms.ModelForm):
    """A new staff account: who it is and its roles. No password: the person sets their own
    from the email they are sent."""

    roles = forms.ModelMultipleChoiceField(
        label=_("roles"), queryset=Group.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = User
        fields = ("login_id", "name", "email", "language")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].queryset = _role_groups()

    def clean(self):
        cleaned = super().clean()
        try:
            staff.staff_check_new(
                login_id=cleaned.get("login_id", ""),
                name=cleaned.get("name", ""),
                email=cleaned.get("email", ""),
                language=cleaned.get("language", ""),
                roles=[group.name for group in cleaned.get("roles") or ()],
            )
        except ValidationError as exc:
            _add_service_errors(self, exc)
        return cleaned


class AccountChangeForm(forms.ModelForm):
    """An account's page. Which fields it holds is decided per viewer and account by
    ``UserAdmin``; what it may change of access is checked by the service."""

    actor = None  # the viewer, set by ``UserAdmin.get_form``

    class Meta:
        model = User
        fields = ("login_id", "name", "email", "pending_email", "language", "is_active", "is_staff", "groups")

    def clean_email(self):
        email = normalize_email(self.cleaned_data.get("email", ""))
        if User.objects.with_email(email).exclude(pk=self.instance.pk).exists():
            raise ValidationError(_("This email address is already registered."))
        return email

    def requested_access(self) -> dict:
        """The access changes this form asks for (``None``: left as it is)."""
        groups = self.cleaned_data.get("groups") if "groups" in self.changed_data else None
        return {
            **{flag: self.cleaned_data.get(flag) if flag in self.changed_data else None for flag in ACCESS_FLAGS},
            "roles": None if groups is None else [group.name for group in groups],
        }

    def clean(self):
        cleaned = super().clean()
        try:
            # The instance still holds the stored values here (the form's values reach it later).
            staff.access_check_change(user=self.instance, actor=self.actor, **self.requested_access())
        except (PermissionDenied, ValidationError) as exc:
            _add_service_errors(self, exc)
        if (
            self.requested_access()["is_active"] is False
            and self.instance.is_staff
            and self.instance.is_active
            and "is_active" not in self.errors
            and offboarding.has_open_items(self.instance)
        ):
            self.add_error(
                "is_active",
                _(
                    "This staff member still handles open consultations or rights requests. Hand them over to "
                    "colleagues on the offboarding page (“Offboard”), which then deactivates the account."
                ),
            )
        return cleaned


class OffboardingForm(forms.Form):
    """The offboarding page: a colleague for each open item (any account key is accepted here,
    so that the service can say exactly what is wrong with a choice), the exit pledge's version
    and the day it was signed."""

    exit_pledge = forms.CharField(label=_("exit pledge signed"), required=False, widget=forms.Select)
    signed_on = forms.DateField(
        label=_("signed on"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, items=(), colleagues=(), pledges=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        self.fields["exit_pledge"].widget.choices = [("", "---------")] + [
            (pledge.number, str(pledge)) for pledge in pledges
        ]
        if pledges:
            self.fields["exit_pledge"].initial = pledges[0].number
        for item in self.items:
            choices = [("", "---------")] + [
                (person.pk, person.login_id) for person in offboarding.candidates(item, colleagues)
            ]
            self.fields[item.field] = forms.CharField(
                label=item.reference, required=False, widget=forms.Select(choices=choices)
            )

    def rows(self):
        return [(item, self[item.field]) for item in self.items]


class _AccountAdminBase(admin.ModelAdmin):
    """What the fields are for a viewer and an account; the masking mixin (placed before this)
    then shows each personal field as the viewer's roles allow."""

    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("login_id", "name", "email", "language", "roles")}),)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        access = ["is_active", "is_staff", "is_superuser", *(["groups", "waiting_roles"] if obj.is_staff else [])]
        return (
            (None, {"fields": ("login_id", "password_status")}),
            (
                _("Personal information"),
                {"fields": ("name", "email", "email_confirmed_at", "pending_email", "language")},
            ),
            (_("Staff and roles"), {"fields": access}),
            (_("Dates"), {"fields": ("last_login", "date_joined")}),
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        readonly = [
            "password_status",
            "last_login",
            "date_joined",
            "email_confirmed_at",
            "is_superuser",
            "waiting_roles",
        ]
        if obj.pk == request.user.pk:
            readonly += ["is_active", "is_staff", "groups"]  # nobody changes their own access
        elif not obj.is_staff:
            readonly += ["is_staff"]  # a member account never becomes staff
        return readonly


@admin.register(User)
class UserAdmin(CatalogMaskingAdminMixin, _AccountAdminBase):
    form = AccountChangeForm
    add_form = StaffCreationForm
    ordering = ("login_id",)
    list_display = ("login_id", "name", "is_staff", "is_active", "email_confirmed_at", "date_joined")
    list_filter = ("is_staff", "is_active", "groups")
    search_fields = ("login_id",)
    actions = ["send_password_reset"]

    def get_queryset(self, request):
        # A withdrawn member's emptied row is nobody's account any more: what is kept of them is
        # in separate storage, where only the privacy officer reads it.
        return super().get_queryset(request).filter(withdrawn_at__isnull=True)

    @admin.display(description=_("password"))
    def password_status(self, obj):
        return _("set") if obj.has_usable_password() else _("not set")

    @admin.display(description=_("role changes waiting for approval"))
    @shows()
    def waiting_roles(self, obj):
        waiting = RoleRequest.objects.pending().filter(account=obj).order_by("requested_at")
        lines = [_waiting_message(request_obj) for request_obj in waiting]
        return " ".join(lines) or "-"

    # --- permissions ------------------------------------------------------------------------
    def has_add_permission(self, request):
        # As Django's own user admin: adding an account is changing accounts.
        return super().has_add_permission(request) and self.has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False  # no role deletes accounts; superuser status changes nothing here

    def lookup_allowed(self, lookup, value, request=None):
        return not lookup.startswith("password") and super().lookup_allowed(lookup, value, request)

    # --- forms ------------------------------------------------------------------------------
    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        form_class = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            return form_class
        return type(form_class.__name__, (form_class,), {"actor": request.user})

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            kwargs["queryset"] = _role_groups()
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            data = form.cleaned_data
            created = staff.staff_create(
                login_id=data["login_id"],
                name=data["name"],
                email=data["email"],
                language=data["language"],
                roles=[group.name for group in data["roles"]],
                actor=request.user,
            )
            # The admin logs and redirects with the object it built; make it the created one.
            obj.pk, obj.login_id, obj._state.adding = created.pk, created.login_id, False
            self.message_user(
                request,
                _("The new staff member is sent an email to set their own password."),
                messages.SUCCESS,
            )
            for waiting in RoleRequest.objects.pending().filter(account=created):
                self.message_user(request, _waiting_message(waiting), messages.WARNING)
            return
        # Access is changed by the service below (save_related); the rest of the form as usual.
        for flag in ACCESS_FLAGS:
            setattr(obj, flag, form.initial.get(flag, getattr(obj, flag)))
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        if not change:
            return super().save_related(request, form, formsets, change)
        requested = form.requested_access()
        form.cleaned_data.pop("groups", None)  # roles are set by the service, not the form
        super().save_related(request, form, formsets, change)
        if any(value is not None for value in requested.values()):
            waiting = staff.access_change(user_id=form.instance.pk, actor=request.user, **requested)
            if waiting is not None:
                self.message_user(request, _waiting_message(waiting), messages.WARNING)

    # --- the password-reset email ------------------------------------------------------------
    @admin.action(description=_("Send a password-reset email to the account's own address"), permissions=["change"])
    def send_password_reset(self, request, queryset):
        limit = staff.PASSWORD_RESET_BULK_LIMIT
        if queryset.count() > limit:
            # All or nothing: sending to "the first 20" of a selection would be a guess.
            self.message_user(
                request,
                _("Select at most %(limit)d accounts to send password-reset emails to; no email was sent.")
                % {"limit": limit},
                messages.ERROR,
            )
            return
        sent = 0
        for user in queryset.order_by("login_id")[:limit]:
            try:
                staff.account_send_password_reset(user_id=user.pk, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{user.login_id}: {' '.join(exc.messages)}", messages.WARNING)
            else:
                sent += 1
        if sent:
            self.message_user(
                request, _("Password-reset emails are being sent: %(count)d.") % {"count": sent}, messages.SUCCESS
            )

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            # Django's page for setting another person's password; it does not exist here.
            path("<path:object_id>/password/", self.admin_site.admin_view(self.no_password_page)),
            path(
                "<path:object_id>/offboard/",
                self.admin_site.admin_view(self.offboard_view),
                name="{}_{}_offboard".format(*info),
            ),
            path(
                "<path:object_id>/send-password-reset/",
                self.admin_site.admin_view(self.send_password_reset_view),
                name="{}_{}_send_password_reset".format(*info),
            ),
            *super().get_urls(),
        ]

    def no_password_page(self, request, object_id):
        raise Http404

    def _change_url(self, obj):
        return reverse(f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra_context = dict(extra_context or {})
        if obj is not None and self.has_change_permission(request, obj):
            extra_context["send_password_reset_url"] = reverse(
                f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_send_password_reset",
                args=[obj.pk],
            )
            if obj.is_staff:
                extra_context["offboard_url"] = self._offboard_url(obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def _offboard_url(self, obj):
        return reverse(f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_offboard", args=[obj.pk])

    def offboard_view(self, request, object_id):
        """A staff member's leaving: their open work handed over, the exit pledge recorded, the
        account deactivated (``offboarding.offboarding_complete``); and the records of it."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        can_offboard = obj.is_staff and obj.is_active and obj.pk != request.user.pk
        form = None
        if can_offboard:
            pledges = list(offboarding.ExitPledge.objects.order_by("-number"))
            form = OffboardingForm(
                request.POST if request.method == "POST" else None,
                items=offboarding.open_items(obj),
                colleagues=offboarding.colleagues(obj),
                pledges=pledges,
            )
            if request.method == "POST" and form.is_valid():
                data = form.cleaned_data
                try:
                    offboarding.offboarding_complete(
                        leaver_id=obj.pk,
                        handovers={item.field: data.get(item.field) for item in form.items},
                        exit_pledge=data.get("exit_pledge"),
                        signed_on=data.get("signed_on"),
                        actor=request.user,
                    )
                except (PermissionDenied, ValidationError) as exc:
                    _add_service_errors(form, exc)
                else:
                    self.message_user(
                        request,
                        _(
                            "The staff member is offboarded: their work is handed over, the exit pledge is "
                            "recorded, and the account is deactivated with all its logins ended."
                        ),
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(self._offboard_url(obj))
        return TemplateResponse(
            request,
            "admin/accounts/user/offboard.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": obj,
                "title": _("Offboard a staff member"),
                "change_url": self._change_url(obj),
                "form": form,
                "is_self": obj.pk == request.user.pk,
                "records": offboarding.records_of(obj),
            },
        )

    def send_password_reset_view(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        if request.method == "POST":
            try:
                staff.account_send_password_reset(user_id=obj.pk, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                self.message_user(
                    request, _("A password-reset email is being sent to the account's own address."), messages.SUCCESS
                )
            return HttpResponseRedirect(self._change_url(obj))
        return TemplateResponse(
            request,
            "admin/accounts/user/send_password_reset.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": obj,
                "title": _("Send a password-reset email"),
                "change_url": self._change_url(obj),
            },
        )


# Roles are read-only in the back office: their permissions come from their declarations.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)

# API tokens are shown to no role (their digests and owners are login state); members see and
# end their own from "my page", and nobody may mint a token for someone else.
if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)


@admin.register(Group)
class RoleAdmin(ViewOnlyAdmin):
    list_display = ("name",)
    fields = ("name", "permissions")
    readonly_fields = ("name", "permissions")


@admin.register(RoleRequest)
class RoleRequestAdmin(CatalogMaskingAdminMixin, ViewOnlyAdmin):
    """Role changes waiting for the privacy officer (``staff``'s separation of duties).

    The privacy officer sees every request and approves or refuses those that are neither about
    their own account nor their own; an administrator sees the requests they made. Requests are
    never edited: the decision is the one change, made by ``staff.role_request_decide``."""

    list_display = ("requested_at", "account__login_id", "account__name", "changes", "requested_by", "status")
    list_filter = ("status",)
    list_select_related = ("account", "requested_by", "decided_by")
    ordering = ("-requested_at",)
    fieldsets = (
        (None, {"fields": ("requested_at", "requested_by", "changes", "status", "decided_by", "decided_at")}),
        (_("Account"), {"fields": ("account__login_id", "account__name", "account__email")}),
    )

    @admin.display(description=_("roles"))
    @shows("roles_added", "roles_removed")
    def changes(self, obj):
        parts = []
        if obj.roles_added:
            parts.append(_("add: %(roles)s") % {"roles": _role_labels(obj.roles_added)})
        if obj.roles_removed:
            parts.append(_("remove: %(roles)s") % {"roles": _role_labels(obj.roles_removed)})
        return "; ".join(parts)

    # --- who sees what ----------------------------------------------------------------------
    def _decides(self, request) -> bool:
        return request.user.has_perm(staff.DECIDE_PERMISSION)

    def has_view_permission(self, request, obj=None):
        if self._decides(request):
            return True
        return request.user.has_perm(staff.CHANGE_PERMISSION) and (
            obj is None or obj.requested_by_id == request.user.pk
        )

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if self._decides(request) else queryset.filter(requested_by=request.user)

    def may_decide(self, request, obj) -> bool:
        return (
            obj.status == RoleRequest.Status.PENDING
            and self._decides(request)
            and request.user.pk not in (obj.account_id, obj.requested_by_id)
        )

    # --- the decision -----------------------------------------------------------------------
    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="{}_{}_decide".format(*info),
            ),
            *super().get_urls(),
        ]

    def _url(self, view: str, obj) -> str:
        return reverse(f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_{view}", args=[obj.pk])

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra_context = dict(extra_context or {})
        if obj is not None and self.may_decide(request, obj):
            extra_context["decide_url"] = self._url("decide", obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def decide_view(self, request, object_id):
        if not self._decides(request):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        decision = request.POST.get("decision") if request.method == "POST" else None
        if decision in ("approve", "refuse"):
            try:
                staff.role_request_decide(request_id=obj.pk, approve=decision == "approve", actor=request.user)
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, " ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR)
            else:
                done = _("The role request is approved and applied.") if decision == "approve" else _(
                    "The role request is refused; nothing was changed."
                )
                self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(self._url("change", obj))
