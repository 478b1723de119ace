import argparse

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from embedding.base import REGISTRY, ModelUnavailable, is_model_name, load_embedder
from embedding.devices import DEVICE_NAMES, check_device_name
from embedding.services import (
    batches,
    default_model_name,
    embed_batch,
    enqueue_embedding,
    register_model,
    tracks_needing,
)
from tracks.models import Track


def _device_name(value: str) -> str:
    try:
        return check_device_name(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _model_name(value: str) -> str:
    if not is_model_name(value):
        known = ", ".join(sorted(REGISTRY))
        raise argparse.ArgumentTypeError(f"{value!r} is not a model: choose {known}, or a wavelength-... model.")
    return value


class Command(BaseCommand):
    help = (
        "Embed tracks with a music model: queued for the worker by default, or here and now with --sync. "
        "Safe to interrupt and run again: finished batches are kept and the rest is picked up."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--model",
            type=_model_name,
            help=f"{', '.join(sorted(REGISTRY))} or a model trained here; default: the site's default model",
        )
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--missing", action="store_true", help="tracks not yet embedded by the model (default)")
        which.add_argument("--all", action="store_true", help="every track, replacing existing vectors")
        which.add_argument("--track", type=int, nargs="+", metavar="ID", help="these tracks only")
        parser.add_argument("--sync", action="store_true", help="embed in this process, with a progress bar")
        parser.add_argument("--batch-size", type=int, default=settings.EMBED_BATCH_SIZE)
        parser.add_argument(
            "--device",
            type=_device_name,
            default=settings.EMBED_DEVICE,
            help=f"{DEVICE_NAMES}; default: the EMBED_DEVICE setting (auto)",
        )

    def handle(self, *args, **options):
        model_name = options["model"] or default_model_name()
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        ids = self._select(options, model_name)
        if not ids:
            self.stdout.write(f"Nothing to embed with {model_name}.")
            return
        if not options["sync"]:
            count = enqueue_embedding(ids, model_name, options["batch_size"], options["device"])
            self.stdout.write(
                f"Queued {len(ids)} track(s) for {model_name} in {count} batch(es). "
                "The worker (`make worker`, or `make run`) embeds them; staff see progress on the home page."
            )
            return
        self._embed_here(ids, model_name, options["batch_size"], options["device"])

    def _select(self, options, model_name: str) -> list[int]:
        if options["track"]:
            known = set(Track.objects.filter(pk__in=options["track"]).values_list("pk", flat=True))
            unknown = sorted(set(options["track"]) - known)
            if unknown:
                raise CommandError(f"No track with id {', '.join(map(str, unknown))}.")
            return sorted(known)
        if options["all"]:
            return list(Track.objects.order_by("pk").values_list("pk", flat=True))
        return list(tracks_needing(model_name))

    def _embed_here(self, ids: list[int], model_name: str, batch_size: int, device: str) -> None:
        try:
            embedder = load_embedder(model_name, device=device)
        except ModelUnavailable as error:
            raise CommandError(str(error)) from error
        model = register_model(embedder)
        ready = failed = 0
        bar = tqdm(total=len(ids), unit="track", desc=f"Embedding with {model_name}", dynamic_ncols=True)
        try:
            for batch in batches(ids, batch_size):
                result = embed_batch(batch, embedder, model)
                ready += len(result.ready)
                failed += len(result.failed)
                bar.set_postfix(ready=ready, failed=failed, refresh=False)
                bar.update(len(batch))
        except KeyboardInterrupt:
            bar.close()
            self.stderr.write(f"Stopped after {ready + failed} track(s). Run the same command again to finish.")
            raise SystemExit(130) from None
        bar.close()
        self.stdout.write(self.style.SUCCESS(f"{ready} track(s) embedded with {model_name}, {failed} failed."))
        if failed:
            self.stdout.write("Failed tracks and their reasons are listed in the admin (filter: status failed).")
