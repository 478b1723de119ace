from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from tracks.services import ingest_folder


class Command(BaseCommand):
    help = (
        "Add every audio file below PATH to the catalogue (idempotent: run it again after adding music). "
        "Files stay where they are unless --copy."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--copy", action="store_true", help="copy the audio into the site's media storage")

    def handle(self, *args, path: Path, copy: bool, **options):
        if not path.expanduser().is_dir():
            raise CommandError(f"{path} is not a folder.")

        def progress(files):
            return tqdm(files, unit="file", desc="Reading", dynamic_ncols=True, disable=None)

        report = ingest_folder(path, copy=copy, progress=progress)
        for label, reason in report.failed:
            self.stderr.write(f"failed: {label}: {reason}")
        for track in report.vanished:
            self.stderr.write(f"vanished: {track.source_key} (track {track.pk}) is no longer on disk")
        self.stdout.write(self.style.SUCCESS(report.summary()))
        if report.new_or_changed:
            self.stdout.write("Next: `python manage.py embed` to embed the new tracks.")
