"""Training a wavelength model on a library's segment features, and its checkpoint file.

No Django here: the caller (embedding.wavelength, for `manage.py train_embedder` and the worker) gathers the
features of the library's tracks, and this module turns them into a checkpoint.

- Deterministic for a seed: every epoch draws its excerpts, masks and dropout from generators seeded by
  (seed, epoch), so a run stopped and resumed lands on the same weights as one run straight through.
- Resumable: after every epoch the file holds the best weights so far (what the embedder loads) and, beside
  them, the last weights, the optimiser state and the history needed to continue.
- A time budget (`max_minutes`) stops after the step that crosses it; the best weights are kept.
"""

from __future__ import annotations

import copy
import hashlib
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from embedding.wavelength_network import Wavelength, WavelengthConfig, parameter_count, training_loss

CHECKPOINT_FORMAT = "wavelength-checkpoint-3"
# Read as what they were: the config fields added since take the values that mean "as that format did".
# Format 1 (before the whitened base): no base, mean pooling. Format 2 (before the within-track whitening): the
# base whitened all of the library's segments.
OLDER_FORMATS = {
    "wavelength-checkpoint-1": {"whitened_base": False, "pooling": "mean", "base_whitening": "library"},
    "wavelength-checkpoint-2": {"base_whitening": "library"},
}
WARMUP_EPOCHS = 5
VALIDATION_SEED = 2**31 - 1  # the validation views never change during a run, so epochs compare fairly


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable or not a wavelength checkpoint; the message says which."""


@dataclass
class Views:
    """A batch of tracks as two disjoint excerpts each, padded to the context length."""

    a: torch.Tensor  # (B, T, F)
    b: torch.Tensor
    valid_a: torch.Tensor  # (B, T) bool
    valid_b: torch.Tensor
    masked_a: torch.Tensor  # (B, T) bool, a subset of valid
    masked_b: torch.Tensor

    def to(self, device: torch.device) -> Views:
        return Views(*(getattr(self, name).to(device) for name in self.__dataclass_fields__))


def excerpt_bounds(n: int, context: int, rng: np.random.Generator) -> tuple[tuple[int, int], tuple[int, int]]:
    """Two disjoint [start, end) excerpts of a track of n segments, each as long as possible up to `context`.

    A one-segment track gives that segment twice (there is nothing to split); the order of the two excerpts
    in the track is random, so neither view is always the earlier one.
    """
    if n < 2:
        return (0, n), (0, n)
    length = min(context, n // 2)
    slack = n - 2 * length
    before = int(rng.integers(0, slack + 1))
    between = int(rng.integers(0, slack - before + 1))
    first = (before, before + length)
    second = (first[1] + between, first[1] + between + length)
    return (first, second) if rng.random() < 0.5 else (second, first)


def make_views(tracks: Sequence[torch.Tensor], context: int, mask_ratio: float, rng: np.random.Generator) -> Views:
    feature_dim = tracks[0].shape[1]
    B = len(tracks)
    out = {name: torch.zeros(B, context, feature_dim) for name in ("a", "b")}
    valid = {name: torch.zeros(B, context, dtype=torch.bool) for name in ("a", "b")}
    masked = {name: torch.zeros(B, context, dtype=torch.bool) for name in ("a", "b")}
    for i, track in enumerate(tracks):
        for name, (start, end) in zip(("a", "b"), excerpt_bounds(len(track), context, rng)):
            length = end - start
            out[name][i, :length] = track[start:end]
            valid[name][i, :length] = True
            # At least one segment stays visible, so a masked segment always has something to be predicted from.
            hidden = min(length - 1, int(round(mask_ratio * length)))
            if hidden > 0:
                masked[name][i, rng.choice(length, size=hidden, replace=False)] = True
    return Views(out["a"], out["b"], valid["a"], valid["b"], masked["a"], masked["b"])


def features_fingerprint(features: Sequence[np.ndarray]) -> str:
    """Identifies the training material, so a run is resumed only on the features it started with."""
    digest = hashlib.sha256()
    for track in features:
        digest.update(np.ascontiguousarray(track, dtype=np.float32).tobytes())
    return digest.hexdigest()


def learning_rate(config: WavelengthConfig, progress: float) -> float:
    """Linear warm-up over the first epochs, then cosine decay to a tenth; progress is epochs done, fractional."""
    warmup = min(WARMUP_EPOCHS, max(1, config.epochs // 10))
    if progress < warmup:
        return config.learning_rate * (progress + 1e-3) / warmup
    ratio = min(1.0, (progress - warmup) / max(1e-9, config.epochs - warmup))
    return config.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * ratio)))


@torch.no_grad()
def evaluate(model: Wavelength, tracks: Sequence[torch.Tensor], device: torch.device) -> dict[str, float]:
    """Loss on fixed views (no dropout) and how often excerpt A finds its own B among all B (top-1)."""
    c = model.config
    model.eval()
    rng = np.random.default_rng(VALIDATION_SEED)
    totals: dict[str, float] = {}
    embeddings_a, embeddings_b = [], []
    batches = range(0, len(tracks), c.batch_tracks)
    for start in batches:
        views = make_views(tracks[start : start + c.batch_tracks], c.context_segments, c.mask_ratio, rng).to(device)
        if len(views.a) > 1:
            for name, value in training_loss(model, *_views_args(views)).as_floats().items():
                totals[name] = totals.get(name, 0.0) + value / len(batches)
        embeddings_a.append(F.normalize(model(views.a, views.valid_a)[1], dim=1))
        embeddings_b.append(F.normalize(model(views.b, views.valid_b)[1], dim=1))
    similarity = torch.cat(embeddings_a) @ torch.cat(embeddings_b).T
    top1 = (similarity.argmax(dim=1) == torch.arange(len(similarity), device=device)).float().mean()
    model.train()
    return {**totals, "twin_top1": float(top1)}


@torch.no_grad()
def neighbour_bank(model: Wavelength, tracks: Sequence[torch.Tensor], device: torch.device) -> torch.Tensor:
    """(N, out_dim) unit vectors: for each track, the mean of its `neighbour_k` nearest other tracks' vectors."""
    model.eval()
    vectors = torch.stack([model.embed_track(t.to(device)) for t in tracks])  # (N, out_dim)
    model.train()
    similarity = vectors @ vectors.T
    similarity.fill_diagonal_(-math.inf)
    k = min(model.config.neighbour_k, len(tracks) - 1)
    nearest = similarity.topk(k, dim=1).indices  # (N, k)
    return F.normalize(vectors[nearest].mean(dim=1), dim=1)


def _views_args(views: Views):
    return views.a, views.b, views.valid_a, views.valid_b, views.masked_a, views.masked_b


def save_checkpoint(path: Path, checkpoint: dict) -> None:
    """Written beside and then moved over the old file, so a crash mid-write never leaves half a checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(checkpoint, partial)
    os.replace(partial, path)


def read_checkpoint(path: Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"There is no checkpoint at {path}.")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for a damaged file; all mean the same here
        raise CheckpointError(f"The checkpoint {path} cannot be read ({error}); train the model again.") from error
    known = (CHECKPOINT_FORMAT, *OLDER_FORMATS)
    if not isinstance(checkpoint, dict) or checkpoint.get("format") not in known:
        raise CheckpointError(f"{path} is not a {CHECKPOINT_FORMAT} file; train the model again.")
    if checkpoint["format"] in OLDER_FORMATS and isinstance(checkpoint.get("config"), dict):
        checkpoint["config"] = {**OLDER_FORMATS[checkpoint["format"]], **checkpoint["config"]}
    return checkpoint


def build_model(checkpoint: dict) -> Wavelength:
    """The best weights of a checkpoint, rebuilt from the config stored beside them, ready for inference."""
    try:
        model = Wavelength(WavelengthConfig.from_dict(checkpoint["config"]))
        model.load_state_dict(checkpoint["model"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise CheckpointError(f"The checkpoint's weights do not fit its config ({error}); train it again.") from error
    return model.eval()


def train(
    features: Sequence[np.ndarray],
    config: WavelengthConfig,
    checkpoint_path: Path,
    *,
    seed: int = 0,
    device: torch.device | str = "cpu",
    max_minutes: float | None = None,
    resume: bool = True,
    about: dict | None = None,
    on_epoch: Callable[[int, int, dict], None] | None = None,
) -> dict:
    """Train on `features` (one (n_segments, feature_dim) array per track) and return the training summary.

    The checkpoint at `checkpoint_path` is continued when it holds an unfinished run of the same config, seed
    and features (and `resume` is true); otherwise training starts afresh and replaces it. `about` is stored
    in the summary as is (what the features are, where the tracks came from). `on_epoch(epoch, epochs, row)`
    is called after each epoch with that epoch's losses.
    """
    if len(features) < 2:
        raise ValueError("Training needs at least two tracks (each excerpt is told apart from the others).")
    device = torch.device(device)
    tracks = [torch.from_numpy(np.ascontiguousarray(f, dtype=np.float32)) for f in features]
    if any(t.ndim != 2 or t.shape[1] != config.feature_dim or len(t) == 0 for t in tracks):
        raise ValueError(f"Every track needs a (segments, {config.feature_dim}) feature array with a segment.")
    fingerprint = features_fingerprint(features)

    torch.manual_seed(seed)
    model = Wavelength(config)
    model.fit_feature_scale(torch.cat(tracks), [len(t) for t in tracks])
    model.to(device).train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    state = {"epoch": 0, "history": [], "best_epoch": 0, "best_loss": math.inf, "seconds": 0.0, "best": None}
    # The state at the end of the last whole epoch: what a resumed run continues from.
    state["last_model"], state["last_optimizer"] = _cpu_state(model), copy.deepcopy(optimiser.state_dict())

    previous = _resumable(checkpoint_path, config, seed, fingerprint) if resume else None
    if previous is not None:
        model.load_state_dict(previous["model"])
        optimiser.load_state_dict(previous["optimizer"])
        state.update({key: previous[key] for key in ("epoch", "history", "best_epoch", "best_loss", "seconds")})
        state["best"] = previous["best"]
        state["last_model"], state["last_optimizer"] = previous["model"], previous["optimizer"]

    def checkpoint(stopped: str) -> dict:
        summary = {
            "tracks": len(tracks),
            "segments": int(sum(len(t) for t in tracks)),
            "epochs": config.epochs,
            "epochs_done": state["epoch"],
            "best_epoch": state["best_epoch"],
            "best_validation_loss": state["best_loss"],
            "history": state["history"],
            "seconds": round(state["seconds"], 2),
            "device": str(device),
            "seed": seed,
            "parameters": parameter_count(model),
            "stopped": stopped,
            "about": about or {},
        }
        resume_state = {
            "model": state["last_model"],
            "optimizer": state["last_optimizer"],
            "best": state["best"],
            "fingerprint": fingerprint,
            **{key: state[key] for key in ("epoch", "history", "best_epoch", "best_loss", "seconds")},
        }
        return {
            "format": CHECKPOINT_FORMAT,
            "config": config.to_dict(),
            "seed": seed,
            "model": state["best"],
            "summary": summary,
            "resume": None if stopped == "finished" else resume_state,
        }

    started = time.monotonic() - state["seconds"]
    budget_s = None if max_minutes is None else max_minutes * 60
    out_of_time = False
    steps_per_epoch = math.ceil(len(tracks) / config.batch_tracks)
    while state["epoch"] < config.epochs and not out_of_time:
        epoch = state["epoch"]
        rng = np.random.default_rng([seed, epoch])
        torch.manual_seed(seed * 100_003 + epoch)  # dropout
        order = rng.permutation(len(tracks))
        bank = neighbour_bank(model, tracks, device) if config.w_neighbour else None
        sums: dict[str, float] = {}
        for step, start in enumerate(range(0, len(order), config.batch_tracks)):
            chosen = order[start : start + config.batch_tracks]
            if len(chosen) < 2:  # a batch of one has no other track to be told apart from
                continue
            views = make_views([tracks[i] for i in chosen], config.context_segments, config.mask_ratio, rng)
            for group in optimiser.param_groups:
                group["lr"] = learning_rate(config, epoch + step / steps_per_epoch)
            neighbours = None if bank is None else bank[torch.as_tensor(chosen, device=device)]
            terms = training_loss(model, *_views_args(views.to(device)), neighbours)
            optimiser.zero_grad(set_to_none=True)
            terms.total.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            for name, value in terms.as_floats().items():
                sums[name] = sums.get(name, 0.0) + value / steps_per_epoch
            if budget_s is not None and time.monotonic() - started > budget_s:
                out_of_time = True
                break
        if out_of_time and state["best"] is not None:
            break  # a half epoch is not compared with whole ones; the best whole epoch stays
        validation = evaluate(model, tracks, device)
        state["epoch"] = epoch + 1
        state["seconds"] = time.monotonic() - started
        row = {"epoch": epoch + 1, "train": _rounded(sums), "validation": _rounded(validation)}
        state["history"].append(row)
        if validation["total"] < state["best_loss"]:
            state["best_loss"], state["best_epoch"], state["best"] = validation["total"], epoch + 1, _cpu_state(model)
        state["last_model"], state["last_optimizer"] = _cpu_state(model), copy.deepcopy(optimiser.state_dict())
        save_checkpoint(checkpoint_path, checkpoint("running"))
        if on_epoch is not None:
            on_epoch(epoch + 1, config.epochs, row)
    state["seconds"] = time.monotonic() - started
    final = checkpoint("time budget" if state["epoch"] < config.epochs else "finished")
    save_checkpoint(checkpoint_path, final)
    return final["summary"]


def _resumable(path: Path, config: WavelengthConfig, seed: int, fingerprint: str) -> dict | None:
    try:
        previous = read_checkpoint(path)
    except CheckpointError:
        return None
    same_run = previous.get("config") == config.to_dict() and previous.get("seed") == seed
    resume = previous.get("resume")
    if same_run and resume and resume.get("fingerprint") == fingerprint:
        return resume
    return None


def _cpu_state(model: torch.nn.Module) -> dict:
    return {key: value.detach().to("cpu", copy=True) for key, value in model.state_dict().items()}


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 5) for key, value in values.items()}
