from django.conf import settings
from django.core.management.base import BaseCommand
from tqdm import tqdm

from tracks.artwork import look_again
from tracks.itunes import ITunesClient
from tracks.models import Track


class Command(BaseCommand):
    help = (
        "Find artwork for tracks already in the catalogue: the picture attached to each audio file, a cover "
        "image beside it (cover.jpg, folder.jpg, ...), or an iTunes preview's artwork. Stores small thumbnails "
        "in MEDIA_ROOT/artwork. Tracks that ingest gave artwork are left alone unless --all."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", dest="everything", action="store_true", help="look again at tracks that have artwork too"
        )
        parser.add_argument("--track", type=int, nargs="+", metavar="ID", help="only these tracks")
        parser.add_argument(
            "--no-itunes", action="store_true", help="read local files only; fetch nothing from the iTunes API"
        )

    def handle(self, *args, everything: bool, track: list[int] | None, no_itunes: bool, **options):
        tracks = Track.objects.order_by("pk")
        if track:
            tracks = tracks.filter(pk__in=track)
        elif not everything:
            tracks = tracks.filter(artwork_sha256="")
        client = None if no_itunes else ITunesClient(
            settings.ITUNES_BASE_URL, requests_per_minute=settings.ITUNES_REQUESTS_PER_MINUTE
        )
        looked, with_art = 0, 0
        for each in tqdm(tracks.iterator(), total=tracks.count(), unit="track", desc="Artwork", disable=None):
            looked += 1
            with_art += look_again(each, client.fetch if client else None)
        self.stdout.write(
            self.style.SUCCESS(
                f"Looked at {looked} track(s): {with_art} have artwork, {looked - with_art} get a tile drawn "
                "from their sound."
            )
        )
