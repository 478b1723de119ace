from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from tracks.artwork import ARTWORK_FOLDER, delete_stored_artwork, unreferenced_artwork_files
from tracks.media import delete_stored_audio, remove_empty_folders, unreferenced_media_files


def human_size(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    value = float(size)
    for unit in ["KB", "MB", "GB", "TB"]:
        value /= 1000
        if value < 1000 or unit == "TB":
            break
    return f"{value:.1f} {unit}"


class Command(BaseCommand):
    help = (
        "Remove audio files in MEDIA_ROOT's audio folders that no track plays (left by deleted tracks or "
        "interrupted uploads), and artwork thumbnails no track shows. Never touches anything outside "
        "MEDIA_ROOT, symlinks, or the library roots."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list what would be removed; remove nothing")
        parser.add_argument(
            "--min-age",
            type=float,
            default=60.0,
            metavar="MINUTES",
            help="leave files younger than this alone: an ingest may be about to use them (default 60)",
        )

    def handle(self, *args, dry_run: bool, min_age: float, verbosity: int = 1, **options):
        if min_age < 0:
            raise CommandError("--min-age cannot be negative.")
        min_age_s = min_age * 60
        files = unreferenced_media_files(min_age_s=min_age_s) + unreferenced_artwork_files(min_age_s=min_age_s)
        where = settings.MEDIA_ROOT
        if dry_run:
            for stored in files:
                self.stdout.write(f"would remove: {stored.name} ({human_size(stored.size)})")
            freed = sum(stored.size for stored in files)
            self.stdout.write(
                self.style.SUCCESS(f"Would remove {len(files)} file(s), freeing {human_size(freed)} in {where}.")
            )
            return
        removed, freed = 0, 0
        for stored in tqdm(files, unit="file", desc="Removing", dynamic_ncols=True, disable=None):
            # Each deleter looks again: a track may have started to use the file since it was listed.
            delete = delete_stored_artwork if stored.name.startswith(f"{ARTWORK_FOLDER}/") else delete_stored_audio
            if delete(stored.name):
                removed, freed = removed + 1, freed + stored.size
                if verbosity >= 2:
                    self.stdout.write(f"removed: {stored.name}")
        remove_empty_folders()
        self.stdout.write(
            self.style.SUCCESS(f"Removed {removed} file(s) no track uses, freeing {human_size(freed)} in {where}.")
        )
