"""The member's logins: the browsers logged in to their account and their API tokens, each of
which they can end (design in session_tracking.py)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from . import services
from .session_tracking import LOGIN_DATA_KEY, member_sessions, member_tokens


class LoginsView(LoginRequiredMixin, View):
    def get(self, request):
        context = {
            "sessions": member_sessions(user=request.user, current_key=request.session.session_key),
            "tokens": member_tokens(user=request.user),
        }
        return render(request, "accounts/sessions.html", context)


class SessionEndView(LoginRequiredMixin, View):
    def post(self, request, session_id):
        if request.session.get(LOGIN_DATA_KEY, {}).get("id") == str(session_id):
            logout(request)  # ending this browser's own session is logging out
            return redirect(settings.LOGOUT_REDIRECT_URL)
        if not services.member_session_end(user=request.user, session_id=session_id):
            raise Http404
        messages.success(request, _("That browser has been logged out."))
        return redirect("accounts:sessions")


class TokenEndView(LoginRequiredMixin, View):
    def post(self, request, token_id):
        if not services.member_token_end(user=request.user, token_id=token_id):
            raise Http404
        messages.success(request, _("That token has been ended; the API no longer accepts it."))
        return redirect("accounts:sessions")
