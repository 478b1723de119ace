"""Pages render before `collectstatic` has ever run (a plain `manage.py runserver`), and use hashed names after."""

import json

import pytest
from django.test import override_settings

PRODUCTION_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "discovery.staticfiles.ManifestOrSourceStorage"},
}

pytestmark = pytest.mark.django_db


def test_a_page_renders_and_its_stylesheet_is_served_without_a_manifest(client, tmp_path):
    with override_settings(STORAGES=PRODUCTION_STORAGES, STATIC_ROOT=tmp_path, DEBUG=False):
        page = client.get("/accounts/login/")
        assert page.status_code == 200 and 'href="/static/css/site.css"' in page.content.decode()
        stylesheet = client.get("/static/css/site.css")
        assert stylesheet.status_code == 200


def test_with_a_manifest_pages_name_the_hashed_files(client, tmp_path):
    manifest = {"version": "1.1", "paths": {"css/site.css": "css/site.0123456789ab.css"}, "hash": "x"}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    with override_settings(STORAGES=PRODUCTION_STORAGES, STATIC_ROOT=tmp_path, DEBUG=False):
        page = client.get("/accounts/login/").content.decode()
    assert 'href="/static/css/site.0123456789ab.css"' in page
    assert 'href="/static/favicon.svg"' in page  # not in that manifest: its plain name, not a 500
