"""Staff queue the two-tower's training from the map; for anyone else the button and its URL do not exist."""

import pytest

from discovery.atlas.builder import build_map
from taste.stations.constellations import recommender_path
from tests.atlas.helpers import add_tracks, map_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def mapped(settings, tmp_path):
    settings.MAP_DIR = tmp_path / "maps"
    settings.RECOMMENDER_DIR = tmp_path / "recommenders"
    model = map_model()
    add_tracks(model, 24)
    build_map()
    return model


def test_staff_see_the_button_and_queue_training_for_the_maps_model(staff_client, mapped):
    assert "Train the recommender again" in staff_client.get("/map/").content.decode()
    response = staff_client.post(f"/map/recommender/?model={mapped.name}")
    assert response.status_code == 302 and response["Location"] == "/map/"
    # Tests run the worker's tasks in place: the training ran and wrote its verdict for the stations.
    assert recommender_path(mapped.name).exists()


def test_a_listener_neither_sees_nor_reaches_it(owner_client, mapped):
    assert "Train the recommender again" not in owner_client.get("/map/").content.decode()
    assert owner_client.post(f"/map/recommender/?model={mapped.name}").status_code == 404


def test_a_model_without_a_map_is_a_404(staff_client, mapped):
    assert staff_client.post("/map/recommender/?model=no-such-model").status_code == 404
