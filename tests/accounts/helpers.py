"""Steps several account tests take: posting the sign-up form, racing two sign-ups."""

import threading
import time

from django.contrib.auth.models import UserManager
from django.db import connection
from django.urls import reverse

from tests.conftest import PASSWORD


def post_signup(client, username, invite=""):
    data = {"username": username, "password1": PASSWORD, "password2": PASSWORD}
    if invite:
        data["invite"] = invite
    return client.post(reverse("signup"), data)


def at_the_same_time(*calls):
    """Run each call in its own thread (so its own database connection), all released at once; the return
    value or the exception of each, in order."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as error:  # noqa: BLE001  (the test looks at what each call raised)
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def slow_user_creation(monkeypatch, seconds=0.3):
    """Widen the gap between deciding about a sign-up and writing the account, so that a second sign-up that
    did not wait for the first would decide on the same empty table (or the same unused invite)."""
    create_user = UserManager.create_user

    def slow(self, *args, **kwargs):
        time.sleep(seconds)
        return create_user(self, *args, **kwargs)

    monkeypatch.setattr(UserManager, "create_user", slow)
