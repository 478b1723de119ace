import os

import pytest

# Playwright's sync API runs an event loop in the test thread; the Django ORM calls the tests make there are
# still synchronous and safe, but Django refuses them inside a running loop unless told so.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "listen-closely-42"


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", password=PASSWORD)


@pytest.fixture
def outsider(django_user_model):
    return django_user_model.objects.create_user("outsider", password=PASSWORD)


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("curator", password=PASSWORD, is_staff=True, is_superuser=True)


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client
