"""Password reset: without a mail server the page says whom to ask and sends nothing; with EMAIL_HOST set,
Django's reset by mail works through the site's own pages."""

import re

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse

WITH_MAIL = {"EMAIL_HOST": "mail.example.org", "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
NEW_PASSWORD = "a-brand-new-tune-77"


@pytest.fixture
def listener(django_user_model):
    return django_user_model.objects.create_user("listener", email="listener@example.org", password="old-one-1234")


@pytest.mark.django_db
class TestWithoutMail:
    def test_the_page_says_to_ask_an_administrator(self, client):
        page = client.get(reverse("password_reset")).content.decode()
        assert "This site does not send mail" in page and "Ask an administrator of this site" in page
        assert 'name="email"' not in page

    def test_posting_an_address_sends_nothing(self, client, listener):
        response = client.post(reverse("password_reset"), {"email": listener.email})
        assert response.status_code == 200 and "This site does not send mail" in response.content.decode()
        assert mail.outbox == []

    @override_settings(WAVELENGTH_CONTACT="Ada on the group chat")
    def test_the_page_names_the_contact(self, client):
        assert "Ask Ada on the group chat to make you one" in client.get(reverse("password_reset")).content.decode()

    def test_the_log_in_page_links_to_it(self, client):
        assert reverse("password_reset") in client.get(reverse("login")).content.decode()


@pytest.mark.django_db
class TestWithMail:
    @pytest.fixture(autouse=True)
    def mail_server(self, settings):
        for name, value in WITH_MAIL.items():
            setattr(settings, name, value)

    def test_the_reset_mail_carries_a_link_that_sets_a_new_password(self, client, listener):
        response = client.post(reverse("password_reset"), {"email": listener.email})
        assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
        assert "Check your mail" in client.get(response["Location"]).content.decode()

        assert len(mail.outbox) == 1 and mail.outbox[0].to == [listener.email]
        assert mail.outbox[0].subject == "Choose a new Wavelength password"
        link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)

        page = client.get(link, follow=True)
        assert "Choose a new password" in page.content.decode()
        done = client.post(page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert done["Location"] == reverse("password_reset_complete")
        assert client.login(username="listener", password=NEW_PASSWORD)

    def test_an_unknown_address_gets_the_same_answer_and_no_mail(self, client, listener):
        response = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
        assert response["Location"] == reverse("password_reset_done") and mail.outbox == []
