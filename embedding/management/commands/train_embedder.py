"""`manage.py train_embedder`: train a model of our own on the library's ready tracks, without labels.

The model is a checkpoint at WAVELENGTH_DATA/models/NAME.pt; `manage.py embed --model NAME --sync` then
embeds with it. It never becomes the default by itself: staff choose that in the admin.
"""

import argparse
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from embedding.base import TRAINED_NAME, ModelUnavailable
from embedding.devices import check_device_name
from embedding.training import train_library_model
from embedding.wavelength import DEFAULT_NAME, checkpoint_path
from embedding.wavelength_network import WavelengthConfig


def _trained_name(value: str) -> str:
    if not TRAINED_NAME.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a name for a trained model: use wavelength- then lower-case letters, digits or "
            "hyphens (e.g. wavelength-2)."
        )
    return value


def _device(value: str) -> str:
    if value not in ("auto", "cpu", "cuda"):
        try:
            check_device_name(value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from error
    return value


def _positive(kind):
    def parse(value: str):
        number = kind(value)
        if not number > 0:
            raise argparse.ArgumentTypeError(f"must be more than 0, not {value}")
        return number

    return parse


def _config_overrides(value: str) -> dict:
    try:
        overrides = json.loads(value)
        WavelengthConfig.from_dict(overrides)
    except (ValueError, TypeError) as error:
        raise argparse.ArgumentTypeError(f"--config must be a JSON object of config fields: {error}") from error
    return overrides


class Command(BaseCommand):
    help = (
        "Train our own music model on the library's ready tracks (self-supervised: no labels), then embed with "
        "`manage.py embed --model NAME --sync`. Running it again continues an unfinished run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", type=_trained_name, default=DEFAULT_NAME, help=f"default: {DEFAULT_NAME}")
        parser.add_argument("--epochs", type=_positive(int), help="default: the model config's (30 on a CPU)")
        parser.add_argument(
            "--max-minutes", type=_positive(float), help="stop training after this long, keeping the best checkpoint"
        )
        parser.add_argument("--device", type=_device, default="auto", help='"auto" (a GPU when present), "cpu", "cuda"')
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--folder", type=Path, action="append", default=[], help="train only on tracks under this folder (repeat)"
        )
        parser.add_argument("--config", type=_config_overrides, help='config fields as JSON, e.g. {"w_uniformity": 0}')
        parser.add_argument("--fresh", action="store_true", help="start again instead of continuing an unfinished run")

    def handle(self, *args, **options):
        name = options["name"]
        bars: dict[str, tqdm] = {}

        def on_features(done: int, total: int) -> None:
            if "features" not in bars:
                bars["features"] = tqdm(total=total, unit="track", desc="Reading", dynamic_ncols=True)
            bar = bars["features"]
            bar.update(done - bar.n)

        def on_epoch(epoch: int, total: int, row: dict) -> None:
            if "features" in bars:
                bars.pop("features").close()
            if "epochs" not in bars:
                bars["epochs"] = tqdm(total=total, unit="epoch", desc=f"Training {name}", dynamic_ncols=True)
            bar = bars["epochs"]
            bar.update(epoch - bar.n)
            bar.set_postfix(loss=row["validation"].get("total"), twin_top1=row["validation"].get("twin_top1"))

        try:
            summary = train_library_model(
                name,
                epochs=options["epochs"],
                max_minutes=options["max_minutes"],
                device=options["device"],
                seed=options["seed"],
                folders=options["folder"],
                config_overrides=options["config"],
                fresh=options["fresh"],
                on_features=on_features,
                on_epoch=on_epoch,
            )
        except (ModelUnavailable, ValueError) as error:
            raise CommandError(str(error)) from error
        except KeyboardInterrupt:
            self.stderr.write("Stopped. The best checkpoint so far is kept; run the same command again to go on.")
            raise SystemExit(130) from None
        finally:
            for bar in bars.values():
                bar.close()
        how = "finished" if summary["stopped"] == "finished" else "stopped at its time budget"
        self.stdout.write(
            self.style.SUCCESS(
                f"{name} {how} after {summary['epochs_done']} of {summary['epochs']} epoch(s) on {summary['tracks']} "
                f"track(s) in {summary['seconds']:.0f} s (best epoch {summary['best_epoch']}, validation loss "
                f"{summary['best_validation_loss']:.4f}). Checkpoint: {checkpoint_path(name)}"
            )
        )
        self.stdout.write(f"Next: python manage.py embed --model {name} --sync")
