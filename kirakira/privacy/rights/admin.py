"""The back office of members' rights requests (policy C7): every request with its due date and
days left, the most urgent first, and a request's page where privacy staff answer it — done
(a correction written), refused on ground ①, ② or ③ with an explanation, or extended with a
reason before the due date. Each answer is ``services``' work, told to the member by email.

Requests are never added, edited or deleted here: a member makes them, staff answer them.
"""

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kirakira.common import clock
from kirakira.common.admin_base import ViewOnlyAdmin
from kirakira.common.forms import ServiceCheckedChoiceField, apply_service_errors
from kirakira.privacy.catalog.admin import CatalogMaskingAdminMixin, shows

from . import services, staff_selectors
from .models import Ground, Kind, RightsRequest

_TEXT = {"rows": 4, "cols": 80}


class AnswerForm(forms.Form):
    """One of the answers' forms. Its input is judged by the service, whose messages it shows."""

    def __init__(self, *args, rights_request: RightsRequest, value_shown: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.rights_request = rights_request


class CompleteForm(AnswerForm):
    value = forms.CharField(
        label=_("Value to write"),
        required=False,
        widget=forms.Textarea(attrs=_TEXT),
        help_text=_("Left blank, what the member said is right is written."),
    )
    corrected_elsewhere = forms.BooleanField(
        label=_("Corrected in the record's own page (nothing is written here)"), required=False
    )
    answer = forms.CharField(
        label=_("Answer to the member"), required=False, widget=forms.Textarea(attrs=_TEXT)
    )

    def __init__(self, *args, rights_request: RightsRequest, value_shown: bool = False, **kwargs):
        super().__init__(*args, rights_request=rights_request, **kwargs)
        if rights_request.kind != Kind.CORRECTION:
            del self.fields["value"], self.fields["corrected_elsewhere"]
        elif value_shown:
            self.fields["value"].initial = rights_request.right_value


class RefuseForm(AnswerForm):
    ground = ServiceCheckedChoiceField(
        label=_("Ground of the privacy policy"),
        choices=Ground.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    answer = forms.CharField(
        label=_("Explanation to the member"), required=False, widget=forms.Textarea(attrs=_TEXT)
    )


class ExtendForm(AnswerForm):
    days = forms.IntegerField(
        label=_("Days to add"), required=False, widget=forms.NumberInput(attrs={"min": 1, "max": 30})
    )
    reason = forms.CharField(
        label=_("Reason told to the member"), required=False, widget=forms.Textarea(attrs=_TEXT)
    )


ACTION_FORMS = {"complete": CompleteForm, "refuse": RefuseForm, "extend": ExtendForm}

# What a request's page shows of each kind, in a section of its own.
KIND_FIELDS = {
    Kind.CORRECTION: ("target_record", "target_field_name", "wrong_value", "right_value"),
    Kind.DELETION: ("deletion_entries", "kept_entries"),
    Kind.RESTRICTION: ("scope", "lifted_at"),
    Kind.EXPORT: ("progress", "file_size", "expires_at"),
}


def _field_name(field) -> str:
    # A masked field is shown through a callable named "masked_<field>" (catalog admin mixin).
    return field.__name__.removeprefix("masked_") if callable(field) else field


@shows("status", "due_at")
class OverdueFilter(admin.SimpleListFilter):
    title = _("due date")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue")), ("open", _("Open, not overdue"))]

    def queryset(self, request, queryset):
        now = clock.now()
        if self.value() == "overdue":
            return queryset.overdue(now)
        if self.value() == "open":
            return queryset.open().filter(due_at__gte=now)
        return queryset


def _overdue_label(rights_request, now):
    days = -rights_request.days_left(now)
    return format_html(
        '<span class="rights-overdue">{}</span>',
        ngettext("overdue by %(days)d day", "overdue by %(days)d days", days) % {"days": days},
    )


@admin.register(RightsRequest)
class RightsRequestAdmin(CatalogMaskingAdminMixin, ViewOnlyAdmin):
    list_display = (
        "reference", "kind", "status", "handler", "member__login_id", "received_at", "due_at", "days_left"
    )
    list_filter = ("kind", "status", OverdueFilter)
    list_select_related = ("member", "handler")
    actions = ["take"]
    ordering = staff_selectors.URGENCY
    change_list_template = "admin/privacy/rightsrequest/change_list.html"
    change_form_template = "admin/privacy/rightsrequest/change_form.html"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "reference",
                    "kind",
                    "status",
                    "handler",
                    "member__login_id",
                    "member__name",
                    "received_at",
                    "due_at",
                    "days_left",
                    "extended_at",
                    "extension_reason",
                )
            },
        ),
        *((kind.label, {"fields": fields}) for kind, fields in KIND_FIELDS.items()),
        (_("Answer"), {"fields": ("decided_at", "decided_by", "ground", "answer")}),
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        # Only the section of the request's own kind: the others are empty for it.
        others = {name for kind, fields in KIND_FIELDS.items() if kind != obj.kind for name in fields}
        return [
            (title, options)
            for title, options in fieldsets
            if not any(_field_name(name) in others for name in options["fields"])
        ]

    def has_decide_permission(self, request):
        return request.user.has_perm(staff_selectors.DECIDE_PERMISSION)

    @admin.action(description=_("Take it: I handle the selected requests"), permissions=["decide"])
    def take(self, request, queryset):
        taken = 0
        for rights_request in queryset:
            try:
                services.request_take(rights_request.pk, actor=request.user)
            except (PermissionDenied, ValidationError) as exc:
                text = " ".join(getattr(exc, "messages", [])) or _("Your role may not do this.")
                self.message_user(request, f"{rights_request.reference}: {text}", messages.WARNING)
            else:
                taken += 1
        if taken:
            self.message_user(
                request,
                ngettext("You now handle %(count)d request.", "You now handle %(count)d requests.", taken)
                % {"count": taken},
                messages.SUCCESS,
            )

    # --- columns and fields -----------------------------------------------------------------
    @admin.display(description=_("reference"), ordering="id")
    @shows("id")
    def reference(self, obj):
        return obj.reference

    @admin.display(description=_("days left"), ordering="due_at")
    @shows("status", "due_at")
    def days_left(self, obj):
        if not obj.is_open:
            return None
        now = clock.now()
        return _overdue_label(obj, now) if obj.is_overdue(now) else obj.days_left(now)

    @admin.display(description=_("record"))
    @shows("target", "target_id")
    def target_record(self, obj):
        try:
            model = apps.get_model(obj.target)
        except (LookupError, ValueError):
            return obj.target or None
        name = f"{capfirst(model._meta.verbose_name)} {obj.target_id}"
        try:
            url = reverse(
                f"{self.admin_site.name}:{model._meta.app_label}_{model._meta.model_name}_change",
                args=[obj.target_id],
            )
        except NoReverseMatch:
            return name
        return format_html('<a href="{}">{}</a>', url, name)

    @admin.display(description=_("field"))
    @shows("target", "target_field")
    def target_field_name(self, obj):
        try:
            return capfirst(apps.get_model(obj.target)._meta.get_field(obj.target_field).verbose_name)
        except (LookupError, ValueError, FieldDoesNotExist):
            return obj.target_field or None

    @admin.display(description=_("data"))
    @shows("entries")
    def deletion_entries(self, obj):
        return (
            format_html_join("", "<div>{}</div>", ((_entry_name(entry),) for entry in obj.entries or ()))
            or None
        )

    @admin.display(description=_("kept under a rule"))
    @shows("kept")
    def kept_entries(self, obj):
        rows = (
            (_entry_name(item.get("entry", "")), item.get("rule", ""), item.get("until", ""))
            for item in obj.kept or ()
            if isinstance(item, dict)
        )
        return format_html_join("", "<div>{}: {} ({})</div>", rows) or None

    # --- the request's page and its answers -------------------------------------------------
    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member", "decided_by")

    def _url(self, name: str, *args) -> str:
        return reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_{name}", args=args
        )

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                f"<uuid:object_id>/{action}/",
                self.admin_site.admin_view(self.action_view),
                {"action": action},
                name=f"{info[0]}_{info[1]}_{action}",
            )
            for action in ACTION_FORMS
        ] + super().get_urls()

    def may_decide(self, request) -> bool:
        return request.user.has_perm(staff_selectors.DECIDE_PERMISSION)

    def _value_shown(self, request) -> bool:
        # The correction's value is prefilled only for a viewer who sees the member's value in full.
        return self._shown(request, "right_value") == "right_value"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if obj is not None and self.has_view_permission(request, obj):
            now = clock.now()
            context["history"] = [
                {"request": other, "url": self._url("change", other.pk)}
                for other in staff_selectors.member_history(obj)
            ]
            if obj.is_open and self.may_decide(request):
                context["may_answer"] = True
                shown = self._value_shown(request)
                for action, form_class in ACTION_FORMS.items():
                    if f"{action}_form" not in context:
                        context[f"{action}_form"] = form_class(rights_request=obj, value_shown=shown)
                    context[f"{action}_url"] = self._url(action, obj.pk)
                context["may_complete"] = obj.kind != Kind.EXPORT
                context["may_extend"] = obj.due_at > now
            form_url = self._url("change", obj.pk)  # the answers' pages show this page too
        return super().change_view(request, object_id, form_url, context)

    def action_view(self, request, object_id, action):
        """Posts one answer; on a mistake (or a plain visit) the request's page again, with the
        form and its messages."""
        if not (self.has_view_permission(request) and self.may_decide(request)):
            raise PermissionDenied
        object_id = str(object_id)
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        form_class = ACTION_FORMS[action]
        form = form_class(rights_request=obj, value_shown=self._value_shown(request))
        if request.method == "POST":
            form = form_class(request.POST, rights_request=obj, value_shown=self._value_shown(request))
            if form.is_valid():
                try:
                    done = getattr(self, f"_{action}")(request, obj, form.cleaned_data)
                except ValidationError as exc:
                    if hasattr(exc, "error_dict"):
                        apply_service_errors(form, exc)
                    else:  # about the request itself (answered, past its due date): above the page
                        self.message_user(request, " ".join(exc.messages), messages.ERROR)
                else:
                    self.message_user(request, done, messages.SUCCESS)
                    return redirect(self._url("change", obj.pk))
        request.method = "GET"  # the page below is read-only; the POST was this form's
        return self.change_view(request, object_id, extra_context={f"{action}_form": form})

    def _complete(self, request, obj, data) -> str:
        write = not data.get("corrected_elsewhere", False)
        value = (data.get("value") or "").strip() or None
        services.request_complete(
            obj.pk, actor=request.user, answer=data.get("answer", ""), value=value, write=write
        )
        return _("The request is done. The member is told by email.")

    def _refuse(self, request, obj, data) -> str:
        ground = str(data.get("ground") or "")
        services.request_refuse(
            obj.pk,
            actor=request.user,
            ground=int(ground) if ground.isdigit() else None,
            answer=data.get("answer", ""),
        )
        return _("The request is refused. The member is told the ground and your explanation by email.")

    def _extend(self, request, obj, data) -> str:
        extended = services.request_extend(
            obj.pk, actor=request.user, days=data.get("days"), reason=data.get("reason", "")
        )
        due = date_format(timezone.localtime(extended.due_at), "DATE_FORMAT")
        return _("The request is now due on %(due)s. The member is told the reason by email.") % {"due": due}


def _entry_name(entry: str) -> str:
    """A catalog entry "app.Model.field" as staff read it: the record's and the field's names."""
    label, _dot, field_name = str(entry).rpartition(".")
    try:
        model = apps.get_model(label)
        return f"{capfirst(model._meta.verbose_name)}: {model._meta.get_field(field_name).verbose_name}"
    except (LookupError, ValueError, FieldDoesNotExist):
        return str(entry)
