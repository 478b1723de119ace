import pytest
from django.template import Context, Template
from django.urls import reverse, set_script_prefix

NAMES = ["track_detail", "track_artwork", "track_audio", "slider_rating_widget"]


def render(name: str, pk) -> str:
    return Template("{% load track_urls %}{% track_url name pk %}").render(Context({"name": name, "pk": pk}))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("pk", [1, 0, 7, 73402189, "42"])
def test_it_names_what_reverse_names(name, pk):
    assert render(name, pk) == reverse(name, args=[pk])


def test_it_follows_the_script_prefix():
    try:
        set_script_prefix("/radio/")
        assert render("track_audio", 5) == reverse("track_audio", args=[5]) == "/radio/tracks/5/audio/"
    finally:
        set_script_prefix("/")
    assert render("track_audio", 5) == "/tracks/5/audio/"


def test_an_id_must_be_a_number():
    with pytest.raises(ValueError):
        render("track_audio", "5/../../admin")
