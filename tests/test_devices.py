"""One device rule for every model (embedding.devices), and both torch models holding to it.

CUDA's presence is faked where a test needs it, so each rule is checked on any machine, with or without a GPU.
"""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from embedding import musicfm, musicnn
from embedding.base import ModelUnavailable
from embedding.devices import check_device_name, resolve_device

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)


@pytest.fixture
def two_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)


def test_cpu_is_the_cpu():
    assert resolve_device("cpu") == torch.device("cpu")


def test_auto_is_the_cpu_without_cuda_and_cuda_with_it(no_cuda, monkeypatch):
    assert resolve_device("auto") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")


def test_an_existing_cuda_device_is_given_by_number(two_gpus):
    assert resolve_device("cuda") == torch.device("cuda")
    assert resolve_device("cuda:1") == torch.device("cuda", 1)


@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda:1"])
def test_cuda_without_a_cuda_device_is_unavailable_and_says_what_to_use(no_cuda, name):
    with pytest.raises(ModelUnavailable) as error:
        resolve_device(name, model="musicnn")
    assert str(error.value) == (
        f"musicnn was asked to run on {name}, but this PyTorch sees no CUDA device (a CPU-only build, or no GPU "
        'driver); use device "cpu" or "auto".'
    )


def test_a_cuda_device_beyond_the_last_is_unavailable_and_says_which_exist(two_gpus):
    with pytest.raises(ModelUnavailable, match=r"^MusicFM was asked to run on cuda:2, but this machine has 2 CUDA "
                       r"device\(s\): cuda:0 to cuda:1\.$"):
        resolve_device("cuda:2", model="MusicFM")


@pytest.mark.parametrize("name", ["gpu", "CUDA", "cuda:", "cuda:x", "cuda:-1", "cuda:0:1", " cpu", "", "mps", None, 0])
def test_anything_else_is_refused_with_the_names_that_work(name):
    with pytest.raises(ValueError, match=r'^The device must be "auto", "cpu", "cuda" or "cuda:N" \(N the number '
                       r"of a CUDA device\), not .*\.$"):
        resolve_device(name)
    with pytest.raises(ValueError):
        check_device_name(name)


def test_both_torch_models_follow_the_rule(no_cuda, tmp_path):
    with pytest.raises(ValueError, match="The device must be"):
        musicnn.load_embedder(device="gpu")
    with pytest.raises(ModelUnavailable, match="^musicnn was asked to run on cuda:1, but this PyTorch sees no CUDA"):
        musicnn.load_embedder(device="cuda:1")
    with pytest.raises(ValueError, match="The device must be"):
        musicfm.load_embedder(device="gpu", checkpoint=tmp_path / "x.pt", stats=tmp_path / "x.json")
    with pytest.raises(ModelUnavailable, match="^MusicFM was asked to run on cuda:1, but this PyTorch sees no CUDA"):
        musicfm.load_embedder(device="cuda:1", checkpoint=tmp_path / "x.pt", stats=tmp_path / "x.json")


def test_names_are_checked_without_importing_torch():
    probe = (
        "import sys; from embedding.devices import check_device_name; check_device_name('cuda:3'); "
        "print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
