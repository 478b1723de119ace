"""The two-tower recommender in torch, for training only (the worker's; inference is discovery/engine/two_tower.py).

query tower: attention pooling over an anchor set, then a residual linear map, both starting where the centroid
is (uniform attention, zero residual), so training can only move away from today's throughline if that helps.
track tower: a frozen pass-through of the track vectors; its projection (initialised to the identity) is
unfrozen only once the query tower has converged, so the two towers do not chase each other from the start.
Loss: leave-one-out with in-batch softmax: each set's held-out member must score above the other sets' ones.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class TwoTowerConfig:
    dim: int
    hidden: int = 64
    temperature: float = 0.05
    batch_size: int = 128
    query_epochs: int = 60  # at most, before the track tower may move
    item_epochs: int = 20
    learning_rate: float = 3e-3
    item_learning_rate: float = 1e-3
    max_anchors: int = 10
    plateau: float = 0.005  # converged: the epoch loss improved by less than this share over `patience` epochs
    patience: int = 3
    seed: int = 0


class QueryTower(nn.Module):
    def __init__(self, config: TwoTowerConfig):
        super().__init__()
        self.attention_in = nn.Linear(config.dim, config.hidden)
        self.attention_out = nn.Linear(config.hidden, 1, bias=False)
        nn.init.zeros_(self.attention_out.weight)  # uniform attention: the centroid
        self.residual = nn.Linear(config.dim, config.dim, bias=False)
        nn.init.zeros_(self.residual.weight)

    def forward(self, anchors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # anchors (B, K, d), mask (B, K) True where an anchor is present
        scores = self.attention_out(torch.tanh(self.attention_in(anchors))).squeeze(-1)  # (B, K)
        scores = scores.masked_fill(~mask, float("-inf"))
        pooled = (torch.softmax(scores, dim=1).unsqueeze(-1) * anchors).sum(dim=1)  # (B, d)
        return F.normalize(pooled + self.residual(pooled), dim=-1)


class TrackTower(nn.Module):
    def __init__(self, config: TwoTowerConfig):
        super().__init__()
        self.projection = nn.Linear(config.dim, config.dim, bias=False)
        nn.init.eye_(self.projection.weight)
        self.projection.requires_grad_(False)  # a pass-through until the query tower has converged

    def forward(self, tracks: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.projection(tracks), dim=-1)


@dataclass
class TrainingReport:
    query_epochs: int
    item_epochs: int
    converged: bool
    losses: list[float]


def _batches(sets: Sequence[Sequence[int]], config: TwoTowerConfig, rng: random.Random):
    """(anchor rows, target row) pairs: each set once per epoch, one member held out at random."""
    order = [s for s in sets if len(s) >= 2]
    rng.shuffle(order)
    for first in range(0, len(order), config.batch_size):
        chunk = order[first : first + config.batch_size]
        anchors, targets = [], []
        for members in chunk:
            members = list(members)
            held = members.pop(rng.randrange(len(members)))
            rng.shuffle(members)
            anchors.append(members[: config.max_anchors])
            targets.append(held)
        yield anchors, targets


def _tensor_batch(vectors: torch.Tensor, anchors: list[list[int]], targets: list[int]):
    k = max(len(a) for a in anchors)
    index = torch.zeros((len(anchors), k), dtype=torch.long, device=vectors.device)
    mask = torch.zeros((len(anchors), k), dtype=torch.bool, device=vectors.device)
    for row, rows in enumerate(anchors):
        index[row, : len(rows)] = torch.tensor(rows, device=vectors.device)
        mask[row, : len(rows)] = True
    return vectors[index], mask, vectors[torch.tensor(targets, device=vectors.device)]


def train(
    vectors: np.ndarray, sets: Sequence[Sequence[int]], config: TwoTowerConfig, device: str = "cpu"
) -> tuple[QueryTower, TrackTower, TrainingReport]:
    """Train on `sets` of row indices into `vectors` (unit rows)."""
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    data = torch.as_tensor(np.asarray(vectors, dtype=np.float32), device=device)
    query, track = QueryTower(config).to(device), TrackTower(config).to(device)
    optimiser = torch.optim.Adam(query.parameters(), lr=config.learning_rate)
    losses: list[float] = []

    def epoch() -> float:
        total, count = 0.0, 0
        for anchors, targets in _batches(sets, config, rng):
            if len(targets) < 2:
                continue  # in-batch softmax needs another set's member to beat
            anchor_vectors, mask, target_vectors = _tensor_batch(data, anchors, targets)
            logits = query(anchor_vectors, mask) @ track(target_vectors).T / config.temperature  # (B, B)
            loss = F.cross_entropy(logits, torch.arange(len(targets), device=device))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total, count = total + float(loss.detach()) * len(targets), count + len(targets)
        return total / max(count, 1)

    query.train()
    converged, query_epochs = False, 0
    for query_epochs in range(1, config.query_epochs + 1):  # noqa: B007 (the count is reported)
        losses.append(epoch())
        if len(losses) > config.patience:
            before = losses[-config.patience - 1]
            if before - losses[-1] < config.plateau * max(abs(before), 1e-9):
                converged = True
                break
    item_epochs = 0
    if converged and config.item_epochs:
        track.projection.requires_grad_(True)
        optimiser = torch.optim.Adam(
            [{"params": query.parameters()}, {"params": track.parameters(), "lr": config.item_learning_rate}],
            lr=config.item_learning_rate,
        )
        for item_epochs in range(1, config.item_epochs + 1):  # noqa: B007
            losses.append(epoch())
    query.eval()
    track.eval()
    return query, track, TrainingReport(query_epochs, item_epochs, converged, [round(v, 5) for v in losses])


def export(query: QueryTower, track: TrackTower) -> dict:
    """The weights as discovery/engine/two_tower.py's TwoTowerWeights reads them (row-vector convention)."""
    with torch.no_grad():
        projection = track.projection.weight.detach().cpu().double().numpy().T
        moved = not np.allclose(projection, np.eye(len(projection)))
        return {
            "attention_in": query.attention_in.weight.detach().cpu().double().numpy().T.tolist(),
            "attention_bias": query.attention_in.bias.detach().cpu().double().numpy().tolist(),
            "attention_out": query.attention_out.weight.detach().cpu().double().numpy()[0].tolist(),
            "residual": query.residual.weight.detach().cpu().double().numpy().T.tolist(),
            "item_projection": projection.tolist() if moved else None,
        }


def torch_query(query: QueryTower, anchors: np.ndarray) -> np.ndarray:
    """One anchor set's query in torch (for checking the NumPy export against)."""
    with torch.no_grad():
        x = torch.as_tensor(np.asarray(anchors, dtype=np.float32)).unsqueeze(0)
        return query(x, torch.ones(x.shape[:2], dtype=torch.bool))[0].double().numpy()

