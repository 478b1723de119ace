from django.utils.functional import SimpleLazyObject

from discovery.accounts.services import contact, signup_state


def signup(request):
    """`site_signup` (whether and how one can sign up, for the log-in page and the top bar) and `site_contact`
    (whom to ask). Lazy: pages that never show them never count the users."""
    return {"site_signup": SimpleLazyObject(signup_state), "site_contact": SimpleLazyObject(contact)}
