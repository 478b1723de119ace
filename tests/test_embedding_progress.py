import pytest
from django.urls import reverse

from tracks.models import Track


def make(status, n, **extra):
    for i in range(n):
        Track.objects.create(title=f"{status}{i}", source="folder", source_key=f"{status}{i}", status=status, **extra)


@pytest.mark.django_db
class TestEmbeddingProgress:
    def test_staff_see_counts_by_state_and_it_polls_while_work_is_left(self, staff_client):
        make("ready", 3)
        make("pending", 2)
        make("failed", 1, error="The file is empty (0 bytes).")
        page = staff_client.get(reverse("embedding_progress")).content.decode()
        assert "3 ready" in page and "2 pending" in page and "1 failed" in page
        assert '<progress max="6" value="4">' in page
        assert 'hx-trigger="every 2s"' in page
        assert "python manage.py embed" in page  # pending but nothing queued: say what to do

    def test_it_stops_polling_when_everything_is_done(self, staff_client):
        make("ready", 2)
        page = staff_client.get(reverse("embedding_progress")).content.decode()
        assert "2 ready" in page and "hx-trigger" not in page

    def test_the_home_page_includes_it_for_staff(self, staff_client):
        make("pending", 1)
        page = staff_client.get(reverse("home")).content.decode()
        assert 'id="embedding-progress"' in page

    def test_listeners_neither_see_nor_reach_it(self, owner_client):
        make("pending", 1)
        assert 'id="embedding-progress"' not in owner_client.get(reverse("home")).content.decode()
        assert owner_client.get(reverse("embedding_progress")).status_code == 404
