from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from tracks.itunes import MAX_LIMIT, ITunesClient, ITunesError, ingest_itunes


class Command(BaseCommand):
    help = "Search the iTunes catalogue and add each song's 30-second preview (idempotent on trackId)."

    def add_arguments(self, parser):
        parser.add_argument("--term", required=True, help="what to search for, e.g. an artist or a style")
        parser.add_argument("--country", default="US", help="two-letter store country (default US)")
        parser.add_argument("--limit", type=int, default=200, help=f"results to ask for, 1–{MAX_LIMIT}")
        parser.add_argument("--genre", help="keep only songs of this primary genre, e.g. Jazz")

    def handle(self, *args, term, country, limit, genre, **options):
        if not 1 <= limit <= MAX_LIMIT:
            raise CommandError(f"--limit must be between 1 and {MAX_LIMIT}.")
        if len(country) != 2 or not country.isalpha():
            raise CommandError("--country must be a two-letter code such as US or GB.")
        client = ITunesClient(settings.ITUNES_BASE_URL, requests_per_minute=settings.ITUNES_REQUESTS_PER_MINUTE)

        def progress(results):
            return tqdm(results, unit="song", desc="Downloading previews", dynamic_ncols=True, disable=None)

        try:
            report = ingest_itunes(client, term, country=country.upper(), limit=limit, genre=genre, progress=progress)
        except ITunesError as error:
            raise CommandError(str(error)) from error
        for label, reason in report.failed:
            self.stderr.write(f"failed: {label}: {reason}")
        self.stdout.write(self.style.SUCCESS(report.summary()))
        if report.new_or_changed:
            self.stdout.write("Next: `python manage.py embed` to embed the new tracks.")
