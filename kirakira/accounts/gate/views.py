"""The gate's pages (under /backoffice/gate/): second-factor enrolment and verification, backup
codes, the security pledge, and the pages that say what the staff member cannot fix alone (no
pledge published yet, training missing or lapsed). Thin: the reads are ``selectors``', the
writes ``services``', the lockout ``lockout``'s."""

import segno
from django.contrib import admin
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django_otp import login as otp_login

from kirakira.accounts.lockout import lockout_response

from . import lockout, selectors, services
from .forms import CodeForm, PledgeAcceptForm
from .middleware import NEXT_KEY, OFFICER_PAGES, STEP_URLS, back_office_rest
from .models import TRAINING_VALID_MONTHS


def continue_url(request) -> str:
    """Where a staff member goes once a step is done: the page of the next missing step, else
    the back-office URL they first asked for, else the back office's home page."""
    user = request.user
    why = selectors.missing_step(user)
    wanted = request.session.get(NEXT_KEY)
    rest = back_office_rest(wanted.split("?")[0]) if isinstance(wanted, str) else None
    if rest is None or not url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}):
        wanted = None
    officer_bypass = (
        wanted is not None
        and why not in (None, selectors.SECOND_FACTOR)
        and rest.startswith(OFFICER_PAGES)
        and user.has_perm(services.PUBLISH_PERMISSION)
    )
    if why is not None and not officer_bypass:
        if why == selectors.SECOND_FACTOR and not selectors.has_second_factor(user):
            return reverse("staff_gate:enrol")
        return reverse(STEP_URLS[why])
    request.session.pop(NEXT_KEY, None)
    return wanted or reverse("admin:index")


@method_decorator([never_cache, csrf_protect], name="dispatch")
class GatePage(View):
    """A page of the gate: for signed-in, active staff only, drawn as a back-office page."""

    template_name = ""
    title = ""

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated or not user.is_active or not user.is_staff:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return super().dispatch(request, *args, **kwargs)

    def render(self, context=None, status=200):
        page = {
            **admin.site.each_context(self.request),
            "title": self.title,
            # The gate's pages show no list of the back office: it is behind the gate.
            "is_nav_sidebar_enabled": False,
            **(context or {}),
        }
        return render(self.request, self.template_name, page, status=status)

    def locked_out(self):
        """The (login ID, address) pair is locked: the half-done login ends here."""
        logout(self.request)
        return lockout_response(self.request)


class VerifyView(GatePage):
    template_name = "staff_gate/verify.html"

    @property
    def title(self):
        return _("Second factor")

    def get(self, request):
        early = self._early(request)
        return early or self.render({"form": CodeForm()})

    def _early(self, request):
        if request.user.is_verified():
            return HttpResponseRedirect(continue_url(request))
        if not selectors.has_second_factor(request.user):
            return HttpResponseRedirect(reverse("staff_gate:enrol"))
        if lockout.is_locked(request, request.user):
            return self.locked_out()
        return None

    def post(self, request):
        early = self._early(request)
        if early:
            return early
        user = request.user
        form = CodeForm(request.POST)
        code = form.data.get("otp_token", "")
        braked = services.throttle_wait_seconds(user=user)
        device = services.second_factor_check(user=user, code=code) if isinstance(code, str) else None
        if device is not None:
            # A new session key for the session that now reaches personal data.
            request.session.cycle_key()
            otp_login(request, device)
            lockout.second_factor_passed(request, user)
            return HttpResponseRedirect(continue_url(request))
        if lockout.second_factor_failed(request, user):
            return self.locked_out()
        form.is_valid()
        message = _("This code was not accepted. Check it and try again.")
        if braked:
            # Sent before the brake of wrong codes in a row let go: refused whatever it was.
            message = ngettext(
                "Too many wrong codes in a row: wait %(seconds)d second, then try again.",
                "Too many wrong codes in a row: wait %(seconds)d seconds, then try again.",
                braked,
            ) % {"seconds": braked}
        form.add_error(None, message)
        return self.render({"form": form})


class EnrolView(GatePage):
    template_name = "staff_gate/enrol.html"

    @property
    def title(self):
        return _("Set up your second factor")

    def _early(self, request):
        if selectors.has_second_factor(request.user):
            return HttpResponseRedirect(reverse("staff_gate:verify"))
        if lockout.is_locked(request, request.user):
            return self.locked_out()
        return None

    def _page(self, form, status=200):
        device = services.totp_device_pending(user=self.request.user)
        uri = device.config_url
        secret = device_secret(device)
        qr = segno.make(uri, error="m").svg_inline(scale=4, title=_("QR code for your authenticator app"))
        return self.render(
            {
                "form": form,
                "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
                "otpauth_uri": uri,
                "qr_svg": mark_safe(qr),  # noqa: S308 - drawn here by segno from our own URI
            },
            status=status,
        )

    def get(self, request):
        return self._early(request) or self._page(CodeForm())

    def post(self, request):
        early = self._early(request)
        if early:
            return early
        user = request.user
        form = CodeForm(request.POST)
        code = form.data.get("otp_token", "")
        result = services.totp_enrol_confirm(user=user, code=code) if isinstance(code, str) else None
        if result is None:
            if lockout.second_factor_failed(request, user):
                return self.locked_out()
            form.is_valid()
            form.add_error(None, _("This code was not accepted. Check the time on your phone and try again."))
            return self._page(form)
        device, codes = result
        request.session.cycle_key()
        otp_login(request, device)
        lockout.second_factor_passed(request, user)
        return render_backup_codes(self, codes, enrolled=True)


def device_secret(device) -> str:
    from base64 import b32encode

    return b32encode(device.bin_key).decode()


def render_backup_codes(page: GatePage, codes: list[str], *, enrolled: bool):
    page.template_name = "staff_gate/backup_codes.html"
    return page.render(
        {
            "codes": [f"{code[:5]}-{code[5:]}" for code in codes],
            "enrolled": enrolled,
            "continue_url": continue_url(page.request),
            "title": _("Your backup codes"),
        }
    )


class BackupCodesView(GatePage):
    """A new set of backup codes, for a staff member who passed the second factor."""

    template_name = "staff_gate/backup_codes_new.html"

    @property
    def title(self):
        return _("New backup codes")

    def get(self, request):
        if not request.user.is_verified():
            return HttpResponseRedirect(reverse("staff_gate:verify"))
        return self.render()

    def post(self, request):
        if not request.user.is_verified():
            return HttpResponseRedirect(reverse("staff_gate:verify"))
        codes = services.backup_codes_replace(user=request.user)
        return render_backup_codes(self, codes, enrolled=False)


class PledgeView(GatePage):
    template_name = "staff_gate/pledge.html"

    @property
    def title(self):
        return _("Security pledge")

    def _early(self, request):
        if not request.user.is_verified():
            return HttpResponseRedirect(reverse("staff_gate:verify"))
        pledge = selectors.current_pledge()
        if pledge is None:
            return HttpResponseRedirect(reverse("staff_gate:no_pledge"))
        if selectors.missing_step(request.user) != selectors.PLEDGE:
            return HttpResponseRedirect(continue_url(request))
        return None

    def _page(self, pledge, error=""):
        return self.render(
            {
                "pledge": pledge,
                "text": pledge.text(translation.get_language()),
                "form": PledgeAcceptForm(initial={"number": pledge.number}),
                "error": error,
            }
        )

    def get(self, request):
        return self._early(request) or self._page(selectors.current_pledge())

    def post(self, request):
        early = self._early(request)
        if early:
            return early
        form = PledgeAcceptForm(request.POST)
        number = form.cleaned_data["number"] if form.is_valid() else 0
        try:
            services.pledge_accept(user=request.user, number=number)
        except ValidationError as exc:
            return self._page(selectors.current_pledge(), error=" ".join(exc.messages))
        return HttpResponseRedirect(continue_url(request))


class NoPledgeView(GatePage):
    template_name = "staff_gate/no_pledge.html"

    @property
    def title(self):
        return _("No security pledge has been published yet")

    def get(self, request):
        if selectors.current_pledge() is not None:
            return HttpResponseRedirect(continue_url(request))
        officer = request.user.is_verified() and request.user.has_perm(services.PUBLISH_PERMISSION)
        return self.render(
            {
                "publish_url": reverse("admin:staff_gate_securitypledge_add") if officer else None,
                "training_url": reverse("admin:staff_gate_trainingrecord_changelist") if officer else None,
            }
        )


class TrainingView(GatePage):
    template_name = "staff_gate/training.html"

    @property
    def title(self):
        return _("Training needed")

    def get(self, request):
        if selectors.missing_step(request.user) != selectors.TRAINING:
            return HttpResponseRedirect(continue_url(request))
        latest = selectors.latest_training(request.user)
        officer = request.user.has_perm(services.TRAINING_PERMISSION)
        return self.render(
            {
                "latest": latest,
                "months": TRAINING_VALID_MONTHS,
                "training_url": reverse("admin:staff_gate_trainingrecord_add") if officer else None,
            }
        )
