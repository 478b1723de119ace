"""Import jobs in the admin: listed and shown, never added or edited by hand."""

import pytest
from django.urls import reverse

from discovery.library.models import ImportJob

pytestmark = pytest.mark.django_db


def test_jobs_are_listed_and_shown_read_only(staff_client, staff):
    job = ImportJob.objects.create(kind="folder", created_by=staff, params={"folders": ["/music/Jazz"]})
    changelist = staff_client.get(reverse("admin:library_importjob_changelist"))
    assert changelist.status_code == 200 and "Scan of /music/Jazz" in changelist.content.decode()
    change = staff_client.get(reverse("admin:library_importjob_change", args=[job.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert staff_client.get(reverse("admin:library_importjob_add")).status_code == 403
