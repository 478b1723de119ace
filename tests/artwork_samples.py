"""Pictures for the artwork tests: real JPEG/PNG made with Pillow, muxed into real audio files with PyAV."""

from __future__ import annotations

import io
import struct
import zlib
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

from tests.audio_samples import music, write_clip

# Codecs whose muxers carry an attached picture (ID3 APIC, FLAC PICTURE): FFmpeg suffix and audio codec.
PICTURE_CODECS = {"mp3": ".mp3", "flac": ".flac"}


def picture_bytes(colour=(200, 40, 40), size=(300, 200), image_format="JPEG", mode="RGB") -> bytes:
    """A picture of one colour with a white band at the top, so a crop and an orientation can be checked."""
    image = Image.new(mode, size, colour if mode == "RGB" else (*colour, 128))
    band = Image.new(mode, (size[0], max(1, size[1] // 10)), (255, 255, 255) if mode == "RGB" else (255,) * 4)
    image.paste(band, (0, 0))
    out = io.BytesIO()
    image.save(out, image_format)
    return out.getvalue()


def write_clip_with_picture(
    path: Path, picture: bytes, codec: str = "mp3", seconds: float = 1.5, size: tuple[int, int] = (300, 200)
) -> Path:
    """A real audio clip (tests/audio_samples.py) with `picture` (JPEG bytes) attached as its cover.

    The audio is encoded as usual, then copied packet for packet into a new file beside a picture stream with
    the attached_pic disposition, which is how FFmpeg writes cover art (`ffmpeg -disposition:v attached_pic`).
    `size` is the picture's size as the stream's header gives it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    plain = write_clip(path.with_name(f".plain-{path.name}"), seconds=seconds, codec=codec, signal=music)
    width, height = size  # what the stream's header says; the picture may be broken on purpose
    with av.open(str(plain)) as source, av.open(str(path), "w", format=codec) as out:
        audio = out.add_stream_from_template(source.streams.audio[0])
        cover = out.add_stream("mjpeg")
        cover.width, cover.height, cover.pix_fmt = width, height, "yuvj420p"
        cover.codec_context.time_base = Fraction(1, 25)
        cover.disposition = av.stream.Disposition.attached_pic
        cover.metadata["comment"] = "Cover (front)"
        for packet in source.demux(source.streams.audio[0]):
            if packet.dts is None:
                continue
            packet.stream = audio
            out.mux(packet)
        packet = av.Packet(picture)
        packet.stream, packet.pts, packet.dts = cover, 0, 0
        out.mux(packet)
    plain.unlink()
    return path


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A tiny PNG whose header claims `width` × `height` pixels: decoding it would need gigabytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(
        b"IEND", b""
    )
