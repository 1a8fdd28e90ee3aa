from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from kirakira.common.client_ip import client_ip
from kirakira.common.forms import apply_service_errors
from kirakira.orders.selectors import orders_of
from kirakira.privacy.crypto.fields import is_destroyed
from kirakira.privacy.policy.content import officer

from . import scanner, selectors, services, tokens
from .forms import ConsultationForm, MessageForm, VisitorConsultationForm
from .models import Consultation, Status

# The service names the visitor's fields as the API does.
_VISITOR_FIELDS = {"name": "name", "email": "email"}


def download(attachment) -> HttpResponse:
    """The file itself, always as a download (never rendered inline by the browser). A file
    whose subject's key was destroyed (crypto-shredding) is gone: 404."""
    content = attachment.content
    if is_destroyed(content):
        raise Http404
    response = HttpResponse(bytes(content), content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(True, attachment.filename)
    response["X-Content-Type-Options"] = "nosniff"
    add_never_cache_headers(response)
    return response


class ConsultationListView(LoginRequiredMixin, ListView):
    template_name = "consultations/consultation_list.html"
    context_object_name = "consultations"
    paginate_by = 20

    def get_queryset(self):
        return selectors.consultations_of(self.request.user)


class ConsultationNewView(View):
    """Members open a consultation at once; visitors give their name and email address and
    confirm the address by a link before staff see anything."""

    template_name = "consultations/consultation_form.html"

    def _form(self, request, data=None, files=None):
        # Links may preselect a category (the policy page's officer section) or an order.
        initial = {"category": request.GET.get("category", ""), "order": request.GET.get("order", "")}
        if request.user.is_authenticated:
            return ConsultationForm(data, files, orders=orders_of(request.user), initial=initial)
        return VisitorConsultationForm(data, files, initial=initial)

    def _render(self, request, form, status=200):
        context = {"form": form, "officer": officer(), "scanner_configured": scanner.is_configured()}
        return render(request, self.template_name, context, status=status)

    def get(self, request):
        return self._render(request, self._form(request))

    def post(self, request):
        form = self._form(request, request.POST, request.FILES)
        if form.is_valid():
            values = form.cleaned_data
            member = request.user if request.user.is_authenticated else None
            try:
                consultation = services.consultation_open(
                    member=member,
                    visitor_name=values.get("name", ""),
                    visitor_email=values.get("email", ""),
                    category=values["category"],
                    subject=values["subject"],
                    body=values["body"],
                    order=values.get("order") or None,
                    callback_phone=values["callback_phone"],
                    files=values["attachments"],
                    language=get_language(),
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
                if getattr(exc, "code", None) == "rate_limited":
                    # Over a limit: 429, with the form and what was typed kept.
                    response = self._render(request, form, status=429)
                    if exc.params and "retry_after" in exc.params:
                        response["Retry-After"] = str(exc.params["retry_after"])
                    return response
            else:
                if member is None:
                    return render(request, "consultations/visitor_sent.html", {"consultation": consultation})
                messages.success(
                    request, _("Your consultation has been sent. We will answer here and by email.")
                )
                return redirect("consultations:detail", consultation_id=consultation.pk)
        return self._render(request, form, status=400)


def _thread_context(consultation, form=None) -> dict:
    return {
        "consultation": consultation,
        "thread": selectors.thread(consultation),
        "form": form if form is not None else MessageForm(),
        "can_write": consultation.status in (Status.OPEN, Status.ANSWERED),
        "can_reopen": consultation.can_reopen(),
        "officer": officer(),
        "scanner_configured": scanner.is_configured(),
    }


class _ThreadActions:
    """Reply, close and reopen, for a member or (with ``member`` None) a visitor. Each returns
    a response to show instead of the redirect back to the thread, or None."""

    template_name = "consultations/consultation_detail.html"

    def act(self, request, consultation, member, extra):
        action = {"close": self._close, "reopen": self._reopen}.get(request.POST.get("action"), self._reply)
        try:
            return action(request, consultation, member, extra)
        except ValidationError as exc:
            if getattr(exc, "code", None) == "not_found":
                raise Http404 from None
            messages.error(request, " ".join(exc.messages))
            return None

    def _close(self, request, consultation, member, extra):
        services.consultation_close(consultation_id=consultation.pk, member=member)
        messages.success(request, _("The consultation is closed. You can reopen it within 30 days."))

    def _reopen(self, request, consultation, member, extra):
        services.consultation_reopen(consultation_id=consultation.pk, member=member)
        messages.success(request, _("The consultation is open again."))

    def _reply(self, request, consultation, member, extra):
        form = MessageForm(request.POST, request.FILES)
        form.is_valid()  # every field is optional; the service checks the values
        try:
            services.requester_reply(
                consultation_id=consultation.pk,
                body=form.cleaned_data.get("body", ""),
                files=form.cleaned_data.get("attachments", []),
                member=member,
            )
        except ValidationError as exc:
            if getattr(exc, "code", None) == "not_found":
                raise Http404 from None
            if hasattr(exc, "error_dict"):
                apply_service_errors(form, exc)
            else:  # a state error ("closed"): said above the page, as the form is not shown then
                messages.error(request, " ".join(exc.messages))
            consultation.refresh_from_db()
            context = {**_thread_context(consultation, form), **extra}
            return render(request, self.template_name, context, status=400)
        messages.success(request, _("Your message has been sent."))


class ConsultationDetailView(LoginRequiredMixin, _ThreadActions, View):
    def get(self, request, consultation_id):
        consultation = selectors.consultation_of(request.user, consultation_id)
        return render(request, self.template_name, _thread_context(consultation))

    def post(self, request, consultation_id):
        consultation = selectors.consultation_of(request.user, consultation_id)
        response = self.act(request, consultation, request.user, {})
        return response or redirect("consultations:detail", consultation_id=consultation.pk)


class AttachmentView(LoginRequiredMixin, View):
    def get(self, request, consultation_id, attachment_id):
        consultation = selectors.consultation_of(request.user, consultation_id)
        return download(selectors.attachment_in(consultation, attachment_id))


class VisitorConfirmView(View):
    """GET shows a button and POST confirms, so that a mail scanner fetching the link does not
    confirm on the visitor's behalf."""

    template_name = "consultations/visitor_confirm.html"

    def _check(self, token):
        try:
            return tokens.read_confirmation_token(token), None
        except tokens.LinkExpired:
            return None, _("This link has expired. Please send your consultation again.")
        except tokens.LinkInvalid:
            return None, _("This link is not valid. Please check that you copied all of it.")

    def get(self, request, token):
        consultation_id, error = self._check(token)
        if error is None:
            consultation = Consultation.objects.filter(pk=consultation_id).first()
            if consultation is None:
                error = _("This link has expired. Please send your consultation again.")
            elif consultation.status != Status.AWAITING_CONFIRMATION:
                error = _("This link has already been used. Your consultation was received.")
        return render(request, self.template_name, {"error": error}, status=400 if error else 200)

    def post(self, request, token):
        consultation_id, error = self._check(token)
        if error is None:
            try:
                consultation = services.visitor_confirm(consultation_id)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(
                    request,
                    _(
                        "Thank you: your consultation has reached our staff. This page is your private link "
                        "to it, where their replies appear: bookmark it or keep the email we sent you, and do "
                        "not share it."
                    ),
                )
                return redirect("consultations:visitor_thread", token=tokens.thread_token(consultation))
        return render(request, self.template_name, {"error": error}, status=400)


class _VisitorThread:
    def consultation(self, token) -> Consultation:
        try:
            consultation_id = tokens.read_thread_token(token)
        except tokens.LinkInvalid:
            raise Http404 from None
        consultation = Consultation.objects.filter(pk=consultation_id, member__isnull=True).first()
        if consultation is None or consultation.status == Status.AWAITING_CONFIRMATION:
            raise Http404
        return consultation


class VisitorThreadView(_VisitorThread, _ThreadActions, View):
    def get(self, request, token):
        consultation = self.consultation(token)
        return render(request, self.template_name, {**_thread_context(consultation), "token": token})

    def post(self, request, token):
        consultation = self.consultation(token)
        response = self.act(request, consultation, None, {"token": token})
        return response or redirect("consultations:visitor_thread", token=token)


class VisitorAttachmentView(_VisitorThread, View):
    def get(self, request, token, attachment_id):
        return download(selectors.attachment_in(self.consultation(token), attachment_id))
