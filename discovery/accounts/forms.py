from django import forms
from django.contrib.auth.forms import UserCreationForm

from discovery.accounts.services import mail_configured
from discovery.lib.forms import text_field

TOKEN_MAX_LENGTH = 64
# What a malformed token (too long, a NUL character) is looked up as: a token no invite has.
MALFORMED_TOKEN = "-"
EXPIRY_CHOICES = [(1, "in a day"), (7, "in a week"), (30, "in 30 days"), (0, "never")]


def invite_field():
    return forms.CharField(max_length=TOKEN_MAX_LENGTH, required=False, widget=forms.HiddenInput)


class InviteLinkForm(forms.Form):
    """The invite token an invite link carries (?invite=…)."""

    invite = invite_field()

    def token(self) -> str:
        return self.cleaned_data["invite"] if self.is_valid() else MALFORMED_TOKEN


class SignupForm(UserCreationForm):
    invite = invite_field()

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if mail_configured():
            self.fields["email"].label = "Email (optional)"
            self.fields["email"].help_text = "Only used to send you a link when you forget your password."
        else:
            # Without a mail server nothing would ever be sent to it; staff make reset links instead.
            del self.fields["email"]

    def account_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "username": data["username"],
            "password": data["password1"],
            "email": data.get("email", ""),
            "invite_token": data["invite"],
        }


class InviteForm(forms.Form):
    note = text_field(
        "Note", 100, required=False, help_text="Who it is for, so that you recognise it in the list (optional)."
    )
    expires_in_days = forms.TypedChoiceField(
        label="Expires", choices=EXPIRY_CHOICES, coerce=int, initial=7,
        error_messages={"invalid_choice": "Choose when the invite expires from the list."},
    )
