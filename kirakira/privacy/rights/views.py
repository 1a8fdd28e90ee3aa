"""The member's pages of rights requests: the list, one page per kind of request (what they ask
for, then the identity check on the same page), the code's email, a request's state, and lifting
a stop of processing. The work is in ``services``; a staff account is sent to the officer."""

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import ListView

from kirakira.accounts.lockout import lockout_response

from . import forms, services
from .identity import CodeRequestsExceeded, IdentityLocked, code_send
from .models import Kind, RightsRequest, Status


class MemberOnlyMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.is_staff:
            return render(
                request,
                "common/error.html",
                {
                    "title": _("My data"),
                    "message": _(
                        "Staff accounts make requests about their own data to the privacy officer directly."
                    ),
                },
                status=403,
            )
        return super().dispatch(request, *args, **kwargs)


class RequestListView(MemberOnlyMixin, ListView):
    template_name = "privacy/rights/requests.html"
    context_object_name = "rights_requests"
    paginate_by = 20

    def get_queryset(self):
        return RightsRequest.objects.filter(member=self.request.user).order_by("-received_at")


class IdentityCodeView(MemberOnlyMixin, View):
    """Mails a code and goes back to the request page it was asked from."""

    NEXT = {
        "export_request",
        "correction_request",
        "deletion_request",
        "restriction_request",
    }

    def post(self, request):
        back = request.POST.get("next", "")
        target = reverse(f"privacy:{back}") if back in self.NEXT else reverse("privacy:requests")
        try:
            code_send(request.user)
        except CodeRequestsExceeded as exc:
            minutes = max(1, exc.wait // 60)
            messages.error(
                request,
                ngettext(
                    "You asked for codes too often. Please try again in %(minutes)d minute.",
                    "You asked for codes too often. Please try again in %(minutes)d minutes.",
                    minutes,
                )
                % {"minutes": minutes},
            )
        else:
            minutes = settings.IDENTITY_CODE_MINUTES
            messages.success(
                request,
                ngettext(
                    "We emailed you a 6-digit code. Enter it below within %(minutes)d minute.",
                    "We emailed you a 6-digit code. Enter it below within %(minutes)d minutes.",
                    minutes,
                )
                % {"minutes": minutes},
            )
        query = request.POST.get("query", "")
        return redirect(f"{target}?{query}" if query and back == "correction_request" else target)


class RequestFormView(MemberOnlyMixin, View):
    kind: str = ""
    form_class = forms.IdentityForm
    template_name = "privacy/rights/request_form.html"

    def form(self, data=None):
        if self.form_class in (forms.CorrectionRequestForm, forms.DeletionRequestForm):
            return self.form_class(data, member=self.request.user, initial=self.initial())
        return self.form_class(data, initial=self.initial())

    def initial(self) -> dict:
        return {}

    def render(self, form, status=200):
        return render(
            self.request,
            self.template_name,
            {
                "form": form,
                "kind": self.kind,
                "url_name": f"{self.kind}_request",
                "query": self.request.GET.urlencode(),
            },
            status=status,
        )

    def get(self, request):
        return self.render(self.form())

    def post(self, request):
        form = self.form(request.POST)
        if not form.is_valid():
            return self.render(form, status=400)
        try:
            rights_request = services.request_submit(
                request.user,
                self.kind,
                password=form.cleaned_data["password"],
                identity_code=form.cleaned_data["identity_code"],
                http_request=request,
                **form.details(),
            )
        except IdentityLocked:
            return lockout_response(request)
        except ValidationError as exc:
            _add_errors(form, exc)
            return self.render(form, status=400)
        messages.success(request, _("We received your request. We will answer it by the date below."))
        return redirect("privacy:request_detail", request_id=rights_request.pk)


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            name = field if field in form.fields else None
            if field in ("target", "target_id", "target_field"):
                name = "what" if "what" in form.fields else None
            for message in errors:
                form.add_error(name, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


class ExportRequestView(RequestFormView):
    kind = Kind.EXPORT
    form_class = forms.ExportRequestForm


class CorrectionRequestView(RequestFormView):
    kind = Kind.CORRECTION
    form_class = forms.CorrectionRequestForm

    def initial(self) -> dict:
        target = self.request.GET
        if target.get("target") and target.get("target_id") and target.get("target_field"):
            return {"what": f"{target['target']}|{target['target_id']}|{target['target_field']}"}
        return {}


class DeletionRequestView(RequestFormView):
    kind = Kind.DELETION
    form_class = forms.DeletionRequestForm


class RestrictionRequestView(RequestFormView):
    kind = Kind.RESTRICTION
    form_class = forms.RestrictionRequestForm

    def initial(self) -> dict:
        scope = self.request.GET.get("scope")
        return {"scope": scope} if scope else {}


def _own(request, request_id) -> RightsRequest:
    found = RightsRequest.objects.filter(pk=request_id, member=request.user).first()
    if found is None:
        raise Http404
    return found


def _target_labels(rights_request) -> dict | None:
    """A correction's record and field in words ("order", "SNS account ID"), not code names."""
    if rights_request.kind != Kind.CORRECTION:
        return None
    try:
        model = apps.get_model(rights_request.target)
        field = model._meta.get_field(rights_request.target_field)
    except (LookupError, ValueError, FieldDoesNotExist):
        return {"record": rights_request.target, "field": rights_request.target_field}
    return {"record": model._meta.verbose_name, "field": field.verbose_name}


class RequestDetailView(MemberOnlyMixin, View):
    def get(self, request, request_id):
        rights_request = _own(request, request_id)
        return render(
            request,
            "privacy/rights/request_detail.html",
            {
                "rr": rights_request,
                "building": rights_request.kind == Kind.EXPORT and rights_request.is_open,
                "in_force": rights_request.kind == Kind.RESTRICTION
                and rights_request.status in (Status.RECEIVED, Status.BUILDING, Status.DONE),
                "target": _target_labels(rights_request),
            },
        )


class RestrictionLiftView(MemberOnlyMixin, View):
    def post(self, request, request_id):
        try:
            services.restriction_lift(request.user, request_id)
        except RightsRequest.DoesNotExist:
            raise Http404 from None
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(request, _("Processing has started again as before."))
        return redirect("privacy:request_detail", request_id=request_id)
