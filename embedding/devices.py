"""Which torch device a model runs on, by one rule for every model: "auto", "cpu", "cuda" or "cuda:N".

torch is imported only when a device is resolved, so the names can be checked (the embed command's --device)
in a process that must not load torch.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from embedding.base import ModelUnavailable

if TYPE_CHECKING:
    import torch

DEVICE_NAMES = '"auto", "cpu", "cuda" or "cuda:N" (N the number of a CUDA device)'
_CUDA = re.compile(r"cuda(?::(\d+))?")


def check_device_name(name: str) -> str:
    """`name` if it is a device name this site understands, else ValueError; whether it exists is not checked."""
    if not isinstance(name, str) or not (name in ("auto", "cpu") or _CUDA.fullmatch(name)):
        raise ValueError(f"The device must be {DEVICE_NAMES}, not {name!r}.")
    return name


def resolve_device(name: str, model: str = "The model") -> torch.device:
    """The torch device `name` stands for on this machine.

    "auto" is the first CUDA device when torch sees one, else the CPU. "cuda" and "cuda:N" must exist here, else
    ModelUnavailable (nothing falls back to the CPU silently: a worker asked for a GPU would crawl unnoticed).
    Any other name is a ValueError. `model` names the model in the messages.
    """
    check_device_name(name)
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        raise ModelUnavailable(
            f"{model} was asked to run on {name}, but this PyTorch sees no CUDA device (a CPU-only build, or no "
            'GPU driver); use device "cpu" or "auto".'
        )
    index = _CUDA.fullmatch(name).group(1)
    if index is not None and int(index) >= count:
        devices = "cuda:0" if count == 1 else f"cuda:0 to cuda:{count - 1}"
        raise ModelUnavailable(
            f"{model} was asked to run on {name}, but this machine has {count} CUDA device(s): {devices}."
        )
    return torch.device(name)
