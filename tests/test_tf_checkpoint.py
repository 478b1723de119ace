"""The NumPy reader of TensorFlow checkpoints: CRC32C, the table format, and every way a file can be bad.

Small bundles are written here by hand (a LevelDB table of protobuf entries), so the format tests need nothing
installed; the musicnn tests read the real checkpoint when the musicnn package is present.
"""

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

from embedding.tf_checkpoint import (
    TABLE_MAGIC,
    CheckpointChecksumError,
    CheckpointError,
    CheckpointFormatError,
    CheckpointTruncatedError,
    CheckpointUnsupportedError,
    TensorBundle,
    crc32c,
    mask_crc,
)

DTYPE_CODES = {np.dtype("float32"): 1, np.dtype("float64"): 2, np.dtype("int32"): 3, np.dtype("float16"): 19}


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(number: int, value) -> bytes:
    if isinstance(value, bytes):
        return _varint(number << 3 | 2) + _varint(len(value)) + value
    return _varint(number << 3) + _varint(value)


def _block(entries: list[tuple[bytes, bytes]], compression: int = 0) -> bytes:
    contents = b"".join(_varint(0) + _varint(len(k)) + _varint(len(v)) + k + v for k, v in entries)
    contents += (0).to_bytes(4, "little") + (1).to_bytes(4, "little")  # one restart point, at 0
    body = contents + bytes([compression])
    return body + mask_crc(crc32c(body)).to_bytes(4, "little")


def write_bundle(prefix: Path, tensors: dict, dtype_codes: dict | None = None, compression: int = 0):
    """A minimal TensorBundle as TensorFlow lays it out: one data block, an index block, an empty metaindex."""
    entries, data = [], b""
    header = _field(1, 1) + _field(3, _field(1, 1))  # one shard, producer version 1
    entries.append((b"", header))
    for name in sorted(tensors):
        array = np.asarray(tensors[name])
        raw = array.astype(array.dtype.newbyteorder("<")).tobytes()
        code = (dtype_codes or {}).get(name, DTYPE_CODES[array.dtype])
        shape = b"".join(_field(2, _field(1, size)) for size in array.shape)
        value = _field(1, code) + _field(2, shape) + (_field(4, len(data)) if data else b"") + _field(5, len(raw))
        value += _varint(6 << 3 | 5) + mask_crc(crc32c(raw)).to_bytes(4, "little")
        entries.append((name.encode(), value))
        data += raw
    data_block = _block(entries, compression)
    data_size = len(data_block) - 5
    index_block = _block([(b"\xff", _varint(0) + _varint(data_size))])
    meta_block = _block([])
    index_at, meta_at = len(data_block), len(data_block) + len(index_block)
    handles = _varint(meta_at) + _varint(len(meta_block) - 5) + _varint(index_at) + _varint(len(index_block) - 5)
    footer = handles.ljust(40, b"\0") + TABLE_MAGIC.to_bytes(8, "little")
    Path(f"{prefix}.index").write_bytes(data_block + index_block + meta_block + footer)
    Path(f"{prefix}.data-00000-of-00001").write_bytes(data)
    return f"{prefix}"


def small_tensors():
    rng = np.random.default_rng(7)
    return {
        "conv/kernel": rng.standard_normal((3, 5, 1, 4)).astype(np.float32),
        "conv/bias": rng.standard_normal(4).astype(np.float32),
        "counts": np.arange(-3, 9, dtype=np.int32).reshape(3, 4),
        "half": rng.standard_normal(6).astype(np.float16),
        "scalar": np.array(2.5, dtype=np.float64),
    }


def test_crc32c_matches_published_check_values():
    assert crc32c(b"123456789") == 0xE3069283
    # RFC 3720 (iSCSI), appendix B.4
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E
    assert crc32c(bytes(range(31, -1, -1))) == 0x113FDB5C


def test_long_buffers_take_the_vectorised_path_to_the_same_crc():
    data = np.random.default_rng(0).integers(0, 256, 300_001, dtype=np.uint8).tobytes()
    crc = 0
    for start in range(0, len(data), 1000):  # chunks short enough for the byte-by-byte loop
        crc = crc32c(data[start : start + 1000], crc)
    assert crc32c(data) == crc
    assert crc32c(np.frombuffer(data, dtype=np.uint8)) == crc


def test_masking_rotates_and_offsets():
    assert mask_crc(0) == 0xA282EAD8
    assert mask_crc(1 << 15) == 0xA282EAD9


def test_it_reads_back_every_tensor_of_a_bundle(tmp_path):
    tensors = small_tensors()
    bundle = TensorBundle(write_bundle(tmp_path / "model", tensors))
    read = bundle.read_all()
    assert read.keys() == tensors.keys()
    for name, expected in tensors.items():
        assert read[name].dtype == expected.dtype
        assert read[name].shape == expected.shape
        np.testing.assert_array_equal(read[name], expected)


def test_it_reads_a_subset_by_name(tmp_path):
    bundle = TensorBundle(write_bundle(tmp_path / "model", small_tensors()))
    assert list(bundle.read_all(names=["conv/bias"])) == ["conv/bias"]
    with pytest.raises(KeyError, match="no variables named"):
        bundle.read_all(names=["conv/weights"])


def _flip_byte(path: Path, offset: int):
    blob = bytearray(path.read_bytes())
    blob[offset] ^= 0x01
    path.write_bytes(bytes(blob))


def test_a_flipped_byte_in_a_tensor_fails_its_crc(tmp_path):
    prefix = write_bundle(tmp_path / "model", small_tensors())
    _flip_byte(Path(prefix + ".data-00000-of-00001"), 3)
    with pytest.raises(CheckpointChecksumError, match="'conv/bias' fails its CRC32C"):
        TensorBundle(prefix).read_all()


def test_a_flipped_byte_in_the_index_fails_the_block_crc(tmp_path):
    prefix = write_bundle(tmp_path / "model", small_tensors())
    _flip_byte(Path(prefix + ".index"), 10)
    with pytest.raises(CheckpointChecksumError, match="table block at byte 0 fails its CRC32C"):
        TensorBundle(prefix)


def test_a_file_without_the_table_magic_is_not_a_checkpoint(tmp_path):
    prefix = write_bundle(tmp_path / "model", small_tensors())
    _flip_byte(Path(prefix + ".index"), -1)
    with pytest.raises(CheckpointFormatError, match="magic number"):
        TensorBundle(prefix)


def test_a_truncated_data_file_is_reported(tmp_path):
    prefix = write_bundle(tmp_path / "model", small_tensors())
    data = Path(prefix + ".data-00000-of-00001")
    data.write_bytes(data.read_bytes()[:-10])
    with pytest.raises(CheckpointTruncatedError, match="truncated"):
        TensorBundle(prefix).read_all()


def test_a_truncated_index_is_reported(tmp_path):
    prefix = write_bundle(tmp_path / "model", small_tensors())
    Path(prefix + ".index").write_bytes(b"\0" * 20)
    with pytest.raises(CheckpointTruncatedError):
        TensorBundle(prefix)


def test_compressed_blocks_are_refused_by_name(tmp_path):
    prefix = write_bundle(tmp_path / "model", small_tensors(), compression=1)
    with pytest.raises(CheckpointUnsupportedError, match="compression type 1"):
        TensorBundle(prefix)


def test_string_tensors_are_refused_by_name(tmp_path):
    prefix = write_bundle(tmp_path / "model", small_tensors(), dtype_codes={"counts": 7})
    with pytest.raises(CheckpointUnsupportedError, match="'counts' has TensorFlow dtype 7"):
        TensorBundle(prefix)


def test_every_reader_error_is_a_checkpoint_error():
    for error in (CheckpointFormatError, CheckpointChecksumError, CheckpointTruncatedError, CheckpointUnsupportedError):
        assert issubclass(error, CheckpointError)


def _musicnn_prefix() -> str:
    package = Path(next(iter(importlib.util.find_spec("musicnn").submodule_search_locations)))
    return f"{package / 'MSD_musicnn'}/"


def test_the_musicnn_checkpoint_verifies_and_tiles_its_data_file():
    bundle = TensorBundle(_musicnn_prefix())
    tensors = bundle.read_all()  # raises on any CRC mismatch
    assert len(tensors) == 150
    assert tensors["conv2d/kernel"].shape == (7, 38, 1, 204)
    assert tensors["dense/kernel"].shape == (1506, 200)
    assert tensors["batch_normalization_9/moving_mean"].dtype == np.float32
    extents = sorted((e.offset, e.offset + e.size) for e in bundle.entries.values())
    assert all(end == next_start for (_, end), (next_start, _) in zip(extents, extents[1:]))
    assert extents[-1][1] == bundle.data_paths[0].stat().st_size
    model_values = sum(t.size for name, t in tensors.items() if "Adam" not in name and "_power" not in name)
    assert model_values == 792_079


def test_a_copy_of_the_musicnn_checkpoint_with_one_flipped_byte_fails(tmp_path):
    source = _musicnn_prefix()
    for suffix in (".index", ".data-00000-of-00001"):
        shutil.copyfile(source + suffix, tmp_path / suffix)
    _flip_byte(tmp_path / ".data-00000-of-00001", 5_000_000)
    with pytest.raises(CheckpointChecksumError, match="fails its CRC32C; the file is damaged"):
        TensorBundle(f"{tmp_path}/").read_all()
