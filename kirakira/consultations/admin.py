"""The back office's consultations: each role sees only the categories routed to it
(``routing.py``), every personal field as the catalog allows, the thread with internal notes,
a reply form, and the privacy officer's desk."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kirakira.accounts.models import User
from kirakira.common import clock
from kirakira.common.admin_base import ViewOnlyAdmin
from kirakira.common.forms import apply_service_errors
from kirakira.privacy.access_log.services import Action, describe
from kirakira.privacy.catalog.admin import CatalogMaskingAdminMixin, shows
from kirakira.privacy.crypto.fields import is_destroyed
from kirakira.privacy.rights import freeze, work_queue
from kirakira.privacy.rights import staff_selectors as rights_selectors

from . import scanner, selectors, services
from .forms import MultipleFileField, _files_help
from .models import BODY_MAX, Attachment, Channel, Consultation, Status
from .routing import categories_for, may_use_desk
from .views import download


class StaffMessageForm(forms.Form):
    body = forms.CharField(
        label=_("Message"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80, "maxlength": BODY_MAX}),
    )
    attachments = MultipleFileField(label=_("Attachments"))
    internal = forms.BooleanField(
        label=_("Internal note (never shown to the member or visitor, no email)"), required=False
    )

    def __init__(self, *args, notes_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = _files_help()
        if notes_only:  # a closed consultation takes internal notes only (a reply is refused)
            self.fields["internal"].initial = True


class ChannelIntakeForm(forms.Form):
    """A consultation that arrived by email or phone, entered by the member of staff who took it."""

    channel = forms.ChoiceField(
        label=_("Received by"),
        choices=[(Channel.EMAIL, Channel.EMAIL.label), (Channel.PHONE, Channel.PHONE.label)],
        widget=forms.RadioSelect,
    )
    received_at = forms.DateTimeField(
        label=_("Received at"),
        help_text=_("As 2026/11/30 14:05. Empty: now."),
        required=False,
    )
    member_login_id = forms.CharField(
        label=_("Member's login ID"),
        required=False,
        max_length=60,
        help_text=_("Empty for someone who is not a member: then give their name and how to answer them."),
    )
    visitor_name = forms.CharField(label=_("Name"), required=False, max_length=200)
    visitor_email = forms.CharField(label=_("Email address"), required=False, max_length=300)
    callback_phone = forms.CharField(label=_("Phone number for a call back"), required=False, max_length=40)
    language = forms.ChoiceField(
        label=_("Language of the answers"),
        choices=[("ja", "日本語"), ("en", "English"), ("ko", "한국어")],
        help_text=_("For someone who is not a member; a member's answers are in their own language."),
    )
    category = forms.ChoiceField(label=_("Category"))
    subject = forms.CharField(label=_("Subject"), max_length=400)
    body = forms.CharField(
        label=_("What they asked"),
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80, "maxlength": BODY_MAX}),
        help_text=_("As they wrote or said it: this is the first message of the thread, shown to them."),
    )
    original_email = forms.FileField(
        label=_("Original email (.eml)"),
        required=False,
        help_text=_(
            "Saved from the mail program; kept with the consultation, scanned and encrypted like any attachment."
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Consultation._meta.get_field("category").choices)
        self.fields["category"].choices = [(c, labels[c]) for c in categories_for(user)]

    def clean_member_login_id(self):
        from kirakira.accounts.normalization import normalize_login_id

        login_id = self.cleaned_data["member_login_id"].strip()
        if not login_id:
            return None
        member = User.objects.filter(
            login_id=normalize_login_id(login_id), is_staff=False, is_active=True
        ).first()
        if member is None:
            raise ValidationError(_("No active member has this login ID."))
        return member


def _field_name(field) -> str:
    # A masked field is shown through a callable named "masked_<field>" (catalog admin mixin).
    return field.__name__.removeprefix("masked_") if callable(field) else field


class RoutedFilter(admin.SimpleListFilter):
    title = _("category")
    parameter_name = "category"

    def lookups(self, request, model_admin):
        labels = dict(Consultation._meta.get_field("category").choices)
        return [(c, labels[c]) for c in categories_for(request.user)]

    def queryset(self, request, queryset):
        return queryset.filter(category=self.value()) if self.value() else queryset


class StatusFilter(admin.SimpleListFilter):
    # Staff never see consultations awaiting a visitor's confirmation, so that state is not offered.
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(s.value, s.label) for s in (Status.OPEN, Status.ANSWERED, Status.CLOSED)]

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(Consultation)
class ConsultationAdmin(CatalogMaskingAdminMixin, ViewOnlyAdmin):
    list_display = (
        "reference", "category", "status", "handler", "opened_by", "age", "updated_at", "processing_stopped"
    )
    actions = ["take"]
    list_filter = (RoutedFilter, StatusFilter, work_queue.stopped_filter())
    processing_stopped = staticmethod(work_queue.stopped_column())
    search_fields = ("reference",)
    ordering = ("-updated_at",)
    change_form_template = "admin/consultations/consultation/change_form.html"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "reference",
                    "category",
                    "status",
                    "member",
                    "order",
                    "channel",
                    "received_at",
                    "registered_by",
                    "handler",
                    "created_at",
                    "closed_at",
                )
            },
        ),
        (_("Consultation"), {"fields": ("subject", "visitor_name", "visitor_email", "callback_phone")}),
    )
    readonly_fields = (
        "reference",
        "category",
        "status",
        "member",
        "order",
        "channel",
        "received_at",
        "registered_by",
        "handler",
        "created_at",
        "closed_at",
        "subject",
        "visitor_name",
        "visitor_email",
        "callback_phone",
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        # A member's consultation has no visitor fields; a visitor's has no member.
        hidden = {"visitor_name", "visitor_email"} if obj.member_id else {"member"}
        return [
            (title, {**options, "fields": [f for f in options["fields"] if _field_name(f) not in hidden]})
            for title, options in fieldsets
        ]

    def get_queryset(self, request):
        return work_queue.with_stopped(selectors.for_staff(request.user).select_related("member", "order", "handler"))

    @admin.display(description=_("opened by"))
    @shows("member")
    def opened_by(self, obj):
        return _("member") if obj.member_id else _("visitor")

    @admin.display(description=_("age (days)"))
    @shows("created_at", "confirmed_at")
    def age(self, obj):
        return obj.age_days()

    def has_reply_permission(self, request):
        return request.user.has_perm("consultations.reply_consultation")

    @admin.action(description=_("Take it: I handle the selected consultations"), permissions=["reply"])
    def take(self, request, queryset):
        taken = 0
        for consultation in queryset.order_by("reference"):
            try:
                services.consultation_take(consultation_id=consultation.pk, actor=request.user)
            except (PermissionDenied, ValidationError) as exc:
                text = " ".join(getattr(exc, "messages", [])) or _("Your role may not do this.")
                self.message_user(request, f"{consultation.reference}: {text}", messages.WARNING)
            else:
                taken += 1
        if taken:
            self.message_user(
                request,
                ngettext("You now handle %(count)d consultation.", "You now handle %(count)d consultations.", taken)
                % {"count": taken},
                messages.SUCCESS,
            )

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("desk/", self.admin_site.admin_view(self.desk_view), name="{}_{}_desk".format(*info)),
            path(
                "register/",
                self.admin_site.admin_view(self.register_view),
                name="{}_{}_register".format(*info),
            ),
            path(
                "<uuid:object_id>/files/<uuid:attachment_id>/",
                self.admin_site.admin_view(self.attachment_view),
                name="{}_{}_attachment".format(*info),
            ),
            *super().get_urls(),
        ]

    def _url(self, name, *args):
        return reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_{name}", args=args
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "scanner_configured": scanner.is_configured(),
            "desk_url": self._url("desk") if may_use_desk(request.user) else None,
            "register_url": self._url("register") if self.has_reply_permission(request) else None,
        }
        return super().changelist_view(request, extra_context)

    def register_view(self, request):
        """Enter a consultation that arrived by email or phone (services.consultation_register_from_channel)."""
        if not self.has_reply_permission(request) or not categories_for(request.user):
            raise PermissionDenied
        form = ChannelIntakeForm(request.POST or None, request.FILES or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            member = data["member_login_id"]
            try:
                consultation = services.consultation_register_from_channel(
                    actor=request.user,
                    channel=data["channel"],
                    received_at=data["received_at"],
                    member=member,
                    visitor_name=data["visitor_name"],
                    visitor_email=data["visitor_email"],
                    callback_phone=data["callback_phone"],
                    language=data["language"],
                    category=data["category"],
                    subject=data["subject"],
                    body=data["body"],
                    original_email=data["original_email"],
                )
            except ValidationError as exc:
                apply_service_errors(form, exc, {"member": "member_login_id"})
            else:
                self.message_user(
                    request,
                    _("Consultation %(reference)s is registered.") % {"reference": consultation.reference},
                    messages.SUCCESS,
                )
                return redirect(self._url("change", consultation.pk))
        return TemplateResponse(
            request,
            "admin/consultations/consultation/register.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Register a consultation received by email or phone"),
                "form": form,
            },
            status=400 if request.method == "POST" else 200,
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        consultation = self.get_object(request, object_id)  # routed: None if not this user's to see
        if consultation is None:
            return super().change_view(request, object_id, form_url, extra_context)
        closed = consultation.status == Status.CLOSED
        form = StaffMessageForm(notes_only=closed)
        if request.method == "POST":
            if not self.has_reply_permission(request):
                raise PermissionDenied
            # A member who stopped all processing: only the privacy roles, who answer the stop, write.
            if consultation.processing_stopped and not work_queue.answers_requests(request.user):
                work_queue.refuse(request, consultation, consultation.member_id)
                self.message_user(request, work_queue.refusal_message(consultation.reference), messages.ERROR)
                return redirect(self._url("change", consultation.pk))
            response = self._act(request, consultation)
            if response is not None and not isinstance(response, StaffMessageForm):
                return response
            form = response
        thread = list(selectors.thread(consultation, internal=True))
        files = [file for message in thread for file in message.attachments.all()]
        freeze.annotate([*thread, *files])  # what is under correction shows as such (policy C7)
        for message in thread:
            message.shown_body = freeze.shown(message, "body")
        for file in files:
            file.download_url = self._url("attachment", consultation.pk, file.pk)
            file.shown_filename = freeze.shown(file, "filename")
        context = {
            **(extra_context or {}),
            "thread": thread,
            "reply_form": form if self.has_reply_permission(request) else None,
            # Once the subject's key is destroyed (final disposal) nothing more can be written;
            # on a closed consultation, only internal notes.
            "can_write": not is_destroyed(consultation.subject),
            "closed": closed,
            "can_close": consultation.status in (Status.OPEN, Status.ANSWERED),
            "scanner_configured": scanner.is_configured(),
        }
        request.method = "GET"  # the model form below is read-only; never process the POST as it
        return super().change_view(request, object_id, form_url, context)

    def _act(self, request, consultation):
        change_url = self._url("change", consultation.pk)
        if request.POST.get("action") == "close":
            try:
                services.consultation_close(consultation_id=consultation.pk, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.WARNING)
            else:
                self.message_user(request, _("The consultation is closed."), messages.SUCCESS)
            return redirect(change_url)
        form = StaffMessageForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.staff_reply(
                    consultation_id=consultation.pk,
                    actor=request.user,
                    body=form.cleaned_data["body"],
                    files=form.cleaned_data["attachments"],
                    internal=form.cleaned_data["internal"],
                )
            except ValidationError as exc:
                if not hasattr(exc, "error_dict"):  # about the consultation (closed, disposed of)
                    self.message_user(request, " ".join(exc.messages), messages.ERROR)
                    return redirect(change_url)
                apply_service_errors(form, exc)
                return form
            note = form.cleaned_data["internal"]
            self.message_user(
                request,
                _("The internal note is saved.") if note else _("The reply is sent."),
                messages.SUCCESS,
            )
            return redirect(change_url)
        return form

    def attachment_view(self, request, object_id, attachment_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        attachment = selectors.attachment_for_staff(request.user, object_id, attachment_id)
        try:
            for field in ("content", "filename"):
                freeze.refuse_use(attachment, field, request=request)
        except freeze.FieldFrozen:
            self.message_user(
                request,
                _("The member has asked for this file to be corrected: it cannot be opened until then."),
                messages.ERROR,
            )
            return redirect(self._url("change", object_id))
        describe(
            request,
            action=Action.DOWNLOAD,
            model=Attachment,
            object_id=attachment_id,
            fields=["filename", "content"],
        )
        return download(attachment)

    def desk_view(self, request):
        if not self.has_view_permission(request) or not may_use_desk(request.user):
            raise PermissionDenied
        now = clock.now()
        rows = [
            {"consultation": c, "age_days": c.age_days(now), "url": self._url("change", c.pk)}
            for c in selectors.officer_desk(request.user)
        ]
        # Members' rights requests past or near their due date (policy C7), the most urgent first.
        rights = [
            {
                "request": r,
                "days_left": r.days_left(now),
                "overdue": r.is_overdue(now),
                "url": reverse(f"{self.admin_site.name}:privacy_rightsrequest_change", args=[r.pk]),
            }
            for r in rights_selectors.desk_requests(request.user, now)
        ]
        return TemplateResponse(
            request,
            "admin/consultations/consultation/desk.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Privacy officer's desk"),
                "rows": rows,
                "rights_rows": rights,
                "rights_open": rights_selectors.open_count(request.user),
                "rights_url": reverse(f"{self.admin_site.name}:privacy_rightsrequest_changelist")
                if request.user.has_perm(rights_selectors.VIEW_PERMISSION)
                else None,
            },
        )
