"""`manage.py ingest_folder PATH`: read a folder into the catalogue, then queue what it added or changed for
embedding, so the worker (`make run` starts one) embeds it without another command.

The command lives in the embedding app because it needs both halves: the catalogue's ingest (tracks/, which
knows nothing of vectors and may not import embedding) and the embedding queue.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from embedding.services import enqueue_embedding
from tracks.services import IngestReport, ingest_folder


class Command(BaseCommand):
    help = (
        "Add every audio file below PATH to the catalogue (idempotent: run it again after adding music), then "
        "queue the new and changed tracks for embedding. Files stay where they are unless --copy."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--copy", action="store_true", help="copy the audio into the site's media storage")
        parser.add_argument(
            "--no-embed", action="store_true", help="only read the files; embed later with `manage.py embed`"
        )

    def handle(self, *args, path: Path, copy: bool, no_embed: bool, **options):
        if not path.expanduser().is_dir():
            raise CommandError(f"{path} is not a folder.")

        def progress(files):
            return tqdm(files, unit="file", desc="Reading", dynamic_ncols=True, disable=None)

        report = ingest_folder(path, copy=copy, progress=progress)
        self.write_details(report)
        self.stdout.write(self.style.SUCCESS(report.summary()))
        track_ids = [track.pk for track in report.new_or_changed]
        if not track_ids:
            return
        if no_embed:
            self.stdout.write("Next: `python manage.py embed` to embed the new tracks.")
            return
        # Queued once the rows are committed, so that a worker never looks for tracks it cannot see yet.
        transaction.on_commit(lambda: self.queue(track_ids))

    def queue(self, track_ids: list[int]) -> None:
        try:
            tasks = enqueue_embedding(track_ids)
        except Exception as error:  # the queue is down: the tracks are in, say how to embed them
            raise CommandError(
                f"The {len(track_ids)} new or changed track(s) are in the catalogue but could not be queued for "
                f"embedding ({error}); run `python manage.py embed`."
            ) from error
        self.stdout.write(
            f"Queued {len(track_ids)} track(s) for embedding in {tasks} batch(es); the worker (`make run` starts "
            "one) embeds them, and the home page shows its progress."
        )

    def write_details(self, report: IngestReport) -> None:
        def line(kind: str, label: str, reason: str) -> str:
            # The reasons name the file themselves; the label is added only where one does not.
            return f"{kind}: {reason}" if label in reason else f"{kind}: {label}: {reason}"

        for label, reason in report.failed:
            self.stderr.write(line("failed", label, reason))
        for link, why in report.links:
            self.stderr.write(f"skipped link: {link}: {why}")
        for track in report.vanished:
            self.stderr.write(f"vanished: {track.source_key} (track {track.pk}) is no longer on disk")
