"""Sign-up, the staff pages for invites and password reset links, and password resets with or without mail."""


from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required, login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from discovery.accounts.forms import InviteForm, InviteLinkForm, SignupForm
from discovery.accounts.models import Invite
from discovery.accounts.services import (
    create_account,
    mail_configured,
    make_invite,
    password_reset_path,
    revoke_invite,
    signup_mode,
    signup_state,
)
from discovery.lib.forms import ListenerError, cleaned
from discovery.lib.http import answers_listener_errors, staff_only

RECENTLY_USED_INVITES = 10


def _signup_page(request, form, invite_token: str, status: int = 200):
    state = signup_state(invite_token)
    return render(request, "accounts/signup.html", {"form": form, "state": state}, status=status)


def _administrator_welcome():
    return format_html(
        "You are this site's administrator: <a href=\"{}\">add music</a>, <a href=\"{}\">invite people</a>, "
        "and find everything else in <a href=\"{}\">the admin</a>.",
        reverse("library_home"),
        reverse("invite_list"),
        reverse("admin:index"),
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    if request.method == "GET":
        token = InviteLinkForm(request.GET).token()
        return _signup_page(request, SignupForm(initial={"invite": token}), token)
    form = SignupForm(request.POST)
    token = InviteLinkForm(request.POST).token()
    if not form.is_valid():
        return _signup_page(request, form, token, status=400)
    try:
        account = create_account(**form.account_fields())
    except ListenerError as error:
        form.add_error(None, str(error))
        return _signup_page(request, form, token, status=400)
    login(request, account.user, backend="django.contrib.auth.backends.ModelBackend")
    if account.is_administrator:
        messages.success(request, _administrator_welcome())
    return redirect("home")


@login_required
@staff_only
@require_http_methods(["GET", "POST"])
@answers_listener_errors
def invites(request):
    if request.method == "POST":
        data = cleaned(InviteForm(request.POST))
        invite = make_invite(request.user, note=data["note"], expires_in_days=data["expires_in_days"] or None)
        messages.success(request, "Invite link made: copy it and send it to the person it is for.")
        return redirect(f"{reverse('invite_list')}#invite-{invite.pk}")
    signup_path = reverse("signup")
    usable = [
        (invite, request.build_absolute_uri(f"{signup_path}?invite={invite.token}"))
        for invite in Invite.objects.usable().select_related("created_by")
    ]
    used = Invite.objects.filter(used_at__isnull=False).select_related("used_by", "created_by")
    context = {
        "form": InviteForm(),
        "usable": usable,
        "used": used.order_by("-used_at")[:RECENTLY_USED_INVITES],
        "mode": signup_mode(),
    }
    return render(request, "accounts/invites.html", context)


@login_required
@staff_only
@require_POST
@answers_listener_errors
def invite_revoke(request, pk):
    invite = revoke_invite(pk)
    messages.success(request, f"{invite} is withdrawn: its link no longer works.")
    return redirect("invite_list")


@login_required
@staff_only
@require_safe
def account_list(request):
    users = get_user_model().objects.order_by("username")
    return render(request, "accounts/account_list.html", {"users": users, "mail": mail_configured()})


@login_required
@staff_only
@require_POST
@answers_listener_errors
def account_reset_link(request, pk):
    user = get_object_or_404(get_user_model(), pk=pk)
    link = request.build_absolute_uri(password_reset_path(request.user, user))
    timeout_days = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
    return render(request, "accounts/reset_link.html", {"account": user, "link": link, "timeout_days": timeout_days})


_reset_by_mail = auth_views.PasswordResetView.as_view(
    template_name="accounts/password_reset_form.html",
    email_template_name="accounts/password_reset_email.txt",
    subject_template_name="accounts/password_reset_subject.txt",
    success_url=reverse_lazy("password_reset_done"),
)


@login_not_required
@require_http_methods(["GET", "POST"])
def password_reset(request):
    """Django's reset by mail when the site can send mail; otherwise a page that says whom to ask, so that
    nobody waits for a message that will never come."""
    if mail_configured():
        return _reset_by_mail(request)
    return render(request, "accounts/password_reset_unavailable.html")


password_reset_done = auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html")
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="accounts/password_reset_confirm.html", success_url=reverse_lazy("password_reset_complete")
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)
