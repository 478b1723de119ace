import time
import tracemalloc

import numpy as np
import pytest

from tests import audio_oddities as oddities
from tests import audio_samples as samples
from tracks.audio import DEFAULT_WINDOWS, AudioDecodeError, DecodedAudio, Windows, decode, decode_many, probe

TAGS = {"title": "Night Drive", "artist": "The Testers", "album": "Synthetic", "genre": "Electronic",
        "date": "2019-05-03"}


def rms_db(signal) -> float:
    signal = np.asarray(signal, dtype=np.float64)
    return 10 * np.log10(np.mean(signal**2))


def peak_hz(signal, sample_rate) -> float:
    """The strongest frequency, refined between bins by a parabola through the log magnitudes."""
    spectrum = np.log(np.abs(np.fft.rfft(signal * np.hanning(len(signal)))) + 1e-12)
    k = int(np.argmax(spectrum[1:-1])) + 1
    left, centre, right = spectrum[k - 1 : k + 2]
    offset = 0.5 * (left - right) / (left - 2 * centre + right)
    return (k + offset) * sample_rate / len(signal)


def made(make, *args, **options):
    """What `make` writes, or a skip where this PyAV build lacks the encoder it needs."""
    try:
        return make(*args, **options)
    except samples.CodecUnavailable as missing:
        pytest.skip(str(missing))


def clip(tmp_path, codec, name="clip", **options):
    if codec == "opus":
        options.setdefault("sample_rate", 48000)
    return made(samples.write_clip, tmp_path / f"{name}{samples.CODECS[codec].suffix}", codec=codec, **options)


@pytest.mark.parametrize("codec", list(samples.CODECS))
def test_every_codec_decodes_to_the_right_length_as_mono_float(tmp_path, codec):
    path = clip(tmp_path, codec, seconds=3.0)

    decoded = decode(path, 16000)

    assert decoded.samples.dtype == np.float32 and decoded.samples.ndim == 1
    assert decoded.sample_rate == 16000
    assert abs(decoded.decoded_s - 3.0) <= 0.05
    assert abs(decoded.duration_s - 3.0) <= 0.05
    assert decoded.spans == [(0.0, pytest.approx(decoded.decoded_s))]
    assert np.abs(decoded.samples).max() <= 1.0
    assert abs(rms_db(decoded.samples) - rms_db(samples.music(3.0, 44100))) < 1.0
    assert decoded.warnings == []


@pytest.mark.parametrize("codec", ["wav", "wav_float", "flac", "wavpack", "mp3", "opus", "aac"])
def test_identical_channels_mix_down_to_the_level_of_the_mono_signal(tmp_path, codec):
    mono = decode(clip(tmp_path, codec, "mono", seconds=2.0, channels=1), 16000).samples
    stereo = decode(clip(tmp_path, codec, "stereo", seconds=2.0, channels=2), 16000).samples

    assert abs(rms_db(stereo) - rms_db(mono)) < 0.1


@pytest.mark.parametrize("codec", ["wav_float", "flac", "wavpack"])
def test_lossless_codecs_keep_the_source_level(tmp_path, codec):
    source = samples.music(2.0, 44100)

    decoded = decode(clip(tmp_path, codec, seconds=2.0), 44100)

    assert abs(rms_db(decoded.samples) - rms_db(source)) < 0.1
    assert np.abs(decoded.samples - source).max() < 1e-3


@pytest.mark.parametrize(("source_rate", "target_rate"), [(44100, 16000), (8000, 22050), (96000, 16000)])
def test_resampling_keeps_a_tone_at_its_pitch_and_length(tmp_path, source_rate, target_rate):
    path = samples.write_clip(tmp_path / "tone.flac", seconds=2.0, sample_rate=source_rate, codec="flac",
                              signal=samples.tone)

    decoded = decode(path, target_rate)

    assert len(decoded.samples) == 2 * target_rate
    assert peak_hz(decoded.samples, target_rate) == pytest.approx(440.0, abs=0.5)
    assert abs(rms_db(decoded.samples) - rms_db(samples.tone(2.0, source_rate))) < 0.1


def test_it_downmixes_5_1_by_the_mean_of_all_six_channels(tmp_path):
    seconds, rate = 2.0, 48000
    channels = np.stack([samples.tone(seconds, rate, frequency=110.0 * (k + 1), level_db=-20 + 2 * k)
                         for k in range(6)])
    path = samples.write_clip(tmp_path / "surround.wav", seconds=seconds, sample_rate=rate, channels=6,
                              codec="wav_float", signal=channels)

    decoded = decode(path, rate)

    np.testing.assert_allclose(decoded.samples, channels.mean(axis=0), atol=1e-6)


def test_more_than_eight_channels_are_averaged_too(tmp_path):
    rate = 16000
    planes = np.stack([samples.tone(3.0, rate, frequency=100.0 + 50 * k, level_db=-30 + k) for k in range(12)])
    path = made(samples.write_twelve_channels, tmp_path / "atmos.wv", planes, rate)

    whole = decode(path, rate)
    sampled = decode(path, rate, windows=Windows(count=2, seconds=0.5))

    np.testing.assert_allclose(whole.samples, planes.mean(axis=0), atol=1e-4)
    assert [start for start, _ in sampled.spans] == pytest.approx([0.3, 2.2])
    for (start, _), segment in zip(sampled.spans, sampled.segments()):
        first = round(start * rate)
        np.testing.assert_allclose(segment, whole.samples[first : first + len(segment)], atol=1e-6)


@pytest.mark.parametrize("codec", ["flac", "mp3", "vorbis", "opus", "wavpack"])
def test_windows_are_exactly_those_spans_of_a_whole_decode(tmp_path, codec):
    path = clip(tmp_path, codec, seconds=12.0, channels=2)
    windows = Windows(count=3, seconds=2.0)

    whole = decode(path, 16000, windows=None)
    sampled = decode(path, 16000, windows=windows)

    assert [start for start, _ in sampled.spans] == pytest.approx([1.2, 5.0, 8.8], abs=0.01)
    assert sampled.decoded_s == pytest.approx(6.0)
    assert sampled.duration_s == pytest.approx(12.0, abs=0.05)
    for (start, _), segment in zip(sampled.spans, sampled.segments()):
        first = round(start * 16000)
        np.testing.assert_allclose(segment, whole.samples[first : first + len(segment)], atol=1e-6)


def test_default_windows_sample_long_tracks_and_leave_short_ones_whole():
    assert DEFAULT_WINDOWS.spans(150.0) is None
    spans = DEFAULT_WINDOWS.spans(1000.0)
    assert len(spans) == 6
    assert spans[0] == (100.0, 120.0)
    assert spans[-1] == pytest.approx((880.0, 900.0))
    assert all(end - start == pytest.approx(20.0) for start, end in spans)


def test_an_hour_long_file_decodes_only_its_windows_quickly_and_in_little_memory(tmp_path):
    path = samples.write_long_wav(tmp_path / "hour.wav", seconds=3600.0)

    tracemalloc.start()
    started = time.perf_counter()
    decoded = decode(path, 16000)
    elapsed = time.perf_counter() - started
    _, peak_bytes = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert len(decoded.samples) == 6 * 20 * 16000
    assert decoded.duration_s == pytest.approx(3600.0)
    assert decoded.spans[0] == pytest.approx((360.0, 380.0))
    assert decoded.spans[-1] == pytest.approx((3220.0, 3240.0))
    assert elapsed < 3.0
    assert peak_bytes < 40e6  # the whole hour at 16 kHz would be 230 MB
    for (start, _), segment in zip(decoded.spans, decoded.segments()):
        expected = samples.minute_tone(int(start // 60))
        assert peak_hz(segment[:16000], 16000) == pytest.approx(expected, abs=1.0)


def test_max_seconds_decodes_only_the_start(tmp_path):
    path = samples.write_long_wav(tmp_path / "long.wav", seconds=300.0)

    decoded = decode(path, 16000, max_seconds=10.0)

    assert len(decoded.samples) == 10 * 16000
    assert decoded.spans == [(0.0, 10.0)]
    assert decoded.duration_s == pytest.approx(300.0)
    assert peak_hz(decoded.samples, 16000) == pytest.approx(samples.minute_tone(0), abs=1.0)


BROKEN = {
    "empty": (lambda d: samples.write_empty(d / "empty.mp3"), ["empty", "0 bytes"]),
    "text": (lambda d: samples.write_text(d / "setlist.txt"), ["no audio track", "text"]),
    "text_named_mp3": (lambda d: samples.write_text(d / "setlist.mp3"), ["not audio", "damaged"]),
    "random_bytes": (lambda d: samples.write_garbage(d / "noise.mp3"), ["not audio", "damaged"]),
    "image": (lambda d: samples.write_png(d / "cover.png"), ["no audio track", "image"]),
    "image_named_flac": (lambda d: samples.write_png(d / "cover.flac"), ["no audio track", "image"]),
    "video_only": (lambda d: samples.write_video_only(d / "clip.mp4"), ["no audio track", "video"]),
    "damaged_header": (lambda d: samples.write_damaged_header(d / "song.wav"), ["not audio", "damaged"]),
    "unknown_codec": (lambda d: samples.write_unknown_codec(d / "odd.wav"), ["codec", "cannot decode"]),
    "zero_samples_wav": (lambda d: samples.write_zero_length(d / "blank.wav", "wav"), ["0 samples"]),
    "zero_samples_flac": (lambda d: samples.write_zero_length(d / "blank.flac", "flac"), ["0 samples"]),
    "zero_samples_ogg": (lambda d: samples.write_zero_length(d / "blank.ogg", "vorbis"), ["ends before any audio"]),
    "truncated_to_0.4_s": (
        lambda d: samples.write_truncated(d / "cut.flac", 0.1, seconds=4.0, codec="flac"),
        ["truncated", "should last 4.0 s", "too little"],
    ),
    "truncated_m4a_with_its_index_last": (
        lambda d: samples.write_truncated(d / "cut.m4a", 0.75, seconds=4.0, codec="aac_index_last"),
        ["not audio", "cut off"],
    ),
    "truncated_wav": (
        lambda d: samples.write_truncated(d / "cut.wav", 0.1, seconds=4.0, codec="wav"),
        ["truncated", "should last 4.0 s"],
    ),
    "too_short": (lambda d: samples.write_clip(d / "blip.wav", seconds=0.5), ["too short", "0.50 s"]),
    "digital_silence": (
        lambda d: samples.write_clip(d / "quiet.flac", codec="flac", signal=samples.silence),
        ["silent", "digital silence"],
    ),
    "below_minus_70_dbfs": (
        lambda d: samples.write_clip(d / "hum.wav", codec="wav_float",
                                     signal=lambda s, r: samples.tone(s, r, level_db=-80.0)),
        ["silent", "-83 dBFS"],
    ),
    "channels_in_opposite_phase": (
        lambda d: samples.write_clip(d / "wired.wav", signal=np.stack([samples.music(2.0, 44100),
                                                                      -samples.music(2.0, 44100)])),
        ["silent", "cancel out"],
    ),
    "all_nan": (
        lambda d: samples.write_clip(d / "nan.wav", codec="wav_float", signal=np.full(88200, np.nan, np.float32)),
        ["NaN"],
    ),
    "missing": (lambda d: d / "gone.mp3", ["no file"]),
    "folder": (lambda d: d, ["folder"]),
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_every_kind_of_broken_file_raises_a_readable_error(tmp_path, kind):
    make, words = BROKEN[kind]
    path = made(make, tmp_path)

    with pytest.raises(AudioDecodeError) as raised:
        decode(path, 16000)

    message = str(raised.value)
    assert path.name in message
    for word in words:
        assert word in message
    assert message.rstrip().endswith(".")


@pytest.mark.parametrize("kind", ["empty", "text", "image", "video_only", "random_bytes", "missing"])
def test_probe_rejects_broken_files_with_the_same_error(tmp_path, kind):
    make, words = BROKEN[kind]

    with pytest.raises(AudioDecodeError, match=words[0]):
        probe(made(make, tmp_path))


@pytest.mark.parametrize("codec", ["wav", "flac", "mp3", "vorbis", "opus", "aac", "wavpack"])
def test_a_truncated_file_decodes_what_is_there_and_says_so(tmp_path, codec):
    path = made(samples.write_truncated, tmp_path / f"cut{samples.CODECS[codec].suffix}", 0.75, seconds=4.0,
                codec=codec, sample_rate=48000 if codec == "opus" else 44100)

    decoded = decode(path, 16000)

    assert 1.0 <= decoded.decoded_s < 3.8
    assert decoded.duration_s == pytest.approx(decoded.decoded_s)
    assert any("truncated" in warning for warning in decoded.warnings)


def test_a_damaged_stretch_in_the_middle_is_skipped_with_a_warning(tmp_path):
    path = made(samples.write_damaged_middle, tmp_path / "scratched.mp3", seconds=3.0, codec="mp3")

    decoded = decode(path, 16000)

    assert 2.5 < decoded.decoded_s <= 3.05
    assert any("damaged packet" in warning for warning in decoded.warnings)


@pytest.mark.parametrize(("codec", "name"), [("flac", "song.mp3"), ("vorbis", "song.wav"), ("wav", "song.m4a"),
                                             ("mp3", "song.ogg")])
def test_a_wrong_extension_does_not_matter(tmp_path, codec, name):
    path = made(samples.write_clip, tmp_path / name, seconds=2.0, codec=codec)

    decoded = decode(path, 16000)

    assert abs(decoded.decoded_s - 2.0) <= 0.05
    assert probe(path).codec == {"flac": "flac", "vorbis": "vorbis", "wav": "pcm_s16le", "mp3": "mp3"}[codec]


def test_nan_and_infinite_samples_become_silence_with_a_warning(tmp_path):
    signal = samples.music(2.0, 44100)
    signal[1000:1100] = np.nan
    signal[5000] = np.inf
    path = samples.write_clip(tmp_path / "glitch.wav", seconds=2.0, codec="wav_float", signal=signal)

    decoded = decode(path, 44100)

    assert np.isfinite(decoded.samples).all()
    assert np.all(decoded.samples[1000:1100] == 0)
    assert any("NaN" in warning for warning in decoded.warnings)


def test_samples_over_full_scale_are_clipped(tmp_path):
    path = samples.write_clip(tmp_path / "hot.wav", seconds=2.0, codec="wav_float",
                              signal=lambda s, r: samples.tone(s, r, level_db=6.0))

    decoded = decode(path, 44100)

    assert np.abs(decoded.samples).max() == pytest.approx(1.0)


@pytest.mark.parametrize("codec", ["wav", "flac", "mp3", "vorbis", "opus", "aac", "wavpack"])
def test_probe_reads_length_format_and_tags(tmp_path, codec):
    path = clip(tmp_path, codec, seconds=3.0, tags=TAGS)

    info = probe(path)

    assert (info.title, info.artist, info.album, info.genre, info.year) == (
        "Night Drive", "The Testers", "Synthetic", "Electronic", 2019)
    assert info.duration_s == pytest.approx(3.0, abs=0.05)
    assert info.channels == 2
    assert info.sample_rate == (48000 if codec == "opus" else 44100)


def test_probe_makes_a_title_from_the_file_name_when_tags_are_missing(tmp_path):
    info = probe(samples.write_clip(tmp_path / "03_late_night__demo.flac", codec="flac"))

    assert info.title == "03 late night demo"
    assert (info.artist, info.album, info.genre, info.year) == ("", "", "", None)
    assert info.codec == "flac"


def test_probe_reads_a_bare_year_tag(tmp_path):
    info = probe(samples.write_clip(tmp_path / "old.flac", codec="flac", tags={"title": "Old", "year": "1987"}))

    assert info.year == 1987


def test_decode_many_yields_results_and_errors_in_the_order_given(tmp_path):
    good = samples.write_clip(tmp_path / "a.flac", seconds=2.0, codec="flac")
    empty = samples.write_empty(tmp_path / "b.mp3")
    other = samples.write_clip(tmp_path / "c.wav", seconds=3.0, signal=samples.tone)
    paths = [good, empty, other, good, empty]

    results = list(decode_many(paths, 16000, workers=2))

    assert [path for path, _ in results] == paths
    assert [type(result) for _, result in results] == [DecodedAudio, AudioDecodeError, DecodedAudio,
                                                       DecodedAudio, AudioDecodeError]
    np.testing.assert_array_equal(results[2][1].samples, decode(other, 16000).samples)
    assert "empty" in str(results[1][1])


def test_decode_many_passes_options_to_decode(tmp_path):
    path = samples.write_clip(tmp_path / "a.flac", seconds=3.0, codec="flac")

    [(_, result)] = list(decode_many([path], 16000, max_seconds=1.5))

    assert len(result.samples) == 24000


def test_a_30_s_clip_decodes_in_well_under_a_second(tmp_path):
    path = samples.write_clip(tmp_path / "album_track.flac", seconds=30.0, codec="flac")
    decode(path, 16000)

    started = time.perf_counter()
    decoded = decode(path, 16000)
    elapsed = time.perf_counter() - started

    assert len(decoded.samples) == 30 * 16000
    assert elapsed < 0.5


@pytest.mark.parametrize("codec", ["wav_float", "flac", "mp3", "vorbis", "opus", "aac", "wavpack"])
def test_damaged_copies_decode_or_raise_a_readable_error_and_nothing_else(tmp_path, codec):
    original = clip(tmp_path, codec, "original", seconds=2.5).read_bytes()
    rng = np.random.default_rng(7)

    for attempt in range(16):
        data = bytearray(original)
        cut, other = sorted(int(position) for position in rng.integers(0, len(data), 2))
        if attempt % 4 == 0:
            data = data[: max(cut, 1)]
        elif attempt % 4 == 1:
            for position in rng.integers(0, len(data), 40):
                data[position] = int(rng.integers(0, 256))
        elif attempt % 4 == 2:
            data[cut : cut + 500] = bytes(len(data[cut : cut + 500]))
        else:
            data = data[:cut] + data[other:] + data[cut:other]
        path = tmp_path / f"damaged{attempt}{samples.CODECS[codec].suffix}"
        path.write_bytes(bytes(data))

        try:
            decoded = decode(path, 16000, windows=Windows(count=2, seconds=0.5))
        except AudioDecodeError as error:
            assert path.name in str(error)
        else:
            assert decoded.decoded_s >= 1.0
            assert np.isfinite(decoded.samples).all() and np.abs(decoded.samples).max() <= 1.0


# Files that lie about themselves, and what the messages say about them.


def test_a_header_promising_433_hours_over_20_seconds_is_cut_short_and_the_20_seconds_are_used(tmp_path):
    path = oddities.write_flac_promising(tmp_path / "liar.flac", seconds=20.0)

    assert probe(path).duration_s == pytest.approx(20.0, abs=0.05)
    decoded = decode(path, 16000)

    assert decoded.decoded_s == pytest.approx(20.0, abs=0.05) and decoded.duration_s == pytest.approx(20.0, abs=0.05)
    assert decoded.spans == [(0.0, pytest.approx(20.0, abs=0.05))]
    assert decoded.warnings == [
        "The file is cut short: its header promises 433 h but it holds 20 s of audio; that audio was used."
    ]
    whole = decode(samples.write_clip(tmp_path / "honest.flac", seconds=20.0, codec="flac"), 16000)
    assert np.array_equal(decoded.samples, whole.samples)


def test_an_mp3_whose_header_promises_726_hours_is_cut_short_too(tmp_path):
    path = made(oddities.write_mp3_promising, tmp_path / "liar.mp3", seconds=20.0)

    assert probe(path).duration_s == pytest.approx(20.0, abs=0.1)
    decoded = decode(path, 16000)

    assert decoded.decoded_s == pytest.approx(20.0, abs=0.1) and decoded.duration_s == pytest.approx(20.0, abs=0.1)
    assert decoded.warnings == [
        "The file is cut short: its header promises 726 h but it holds 20 s of audio; that audio was used."
    ]


def test_a_header_promising_433_hours_over_too_little_audio_says_both(tmp_path):
    path = oddities.write_flac_promising(tmp_path / "stub.flac", seconds=0.4)

    with pytest.raises(AudioDecodeError) as raised:
        decode(path, 16000)

    message = str(raised.value)
    assert message.startswith("“stub.flac” is truncated (its header promises 433 h but it holds 0.40 s of audio)")
    assert "too little to analyse" in message and "0 samples" not in message


def test_a_one_millisecond_file_is_too_short_by_its_real_length(tmp_path):
    path = samples.write_clip(tmp_path / "blip.wav", seconds=44 / 44100)  # 44 samples

    for rate in (16000, 44100):
        with pytest.raises(AudioDecodeError) as raised:
            decode(path, rate)
        assert str(raised.value) == (
            "“blip.wav” is too short to analyse: only 1 ms of audio, and at least 1 s is needed."
        )


def test_floats_near_1e30_are_scaled_down_and_the_warning_says_so(tmp_path):
    music = samples.music(3.0, 44100)
    huge = samples.write_clip(tmp_path / "huge.wav", seconds=3.0, codec="wav_float", signal=music * np.float32(1e30))
    normal = samples.write_clip(tmp_path / "normal.wav", seconds=3.0, codec="wav_float", signal=music)

    decoded, reference = decode(huge, 16000), decode(normal, 16000)

    assert np.abs(decoded.samples).max() <= 1.0
    assert np.corrcoef(decoded.samples, reference.samples)[0, 1] > 0.999  # the same music, not a square wave
    assert len(decoded.warnings) == 1
    assert decoded.warnings[0].startswith("The decoded samples go up to 5e+29 times full scale")
    assert "so the audio was scaled down by 5" in decoded.warnings[0]


def test_a_few_wild_samples_are_clipped_and_the_warning_says_so(tmp_path):
    signal = samples.music(2.0, 44100)
    signal[1000:1010] = 1e30
    path = samples.write_clip(tmp_path / "spikes.wav", seconds=2.0, codec="wav_float", signal=signal)

    decoded = decode(path, 44100)

    assert np.abs(decoded.samples).max() == pytest.approx(1.0)
    assert np.allclose(decoded.samples[20000:30000], signal[20000:30000], atol=1e-6)  # the rest is untouched
    assert decoded.warnings == ["10 sample(s) went beyond full scale (up to 1e+30 times it) and were clipped."]


def test_resampling_a_full_scale_master_needs_no_warning(tmp_path):
    path = samples.write_clip(tmp_path / "loud.wav", seconds=2.0, codec="wav_float",
                              signal=lambda s, r: samples.tone(s, r, 3000.0, level_db=0.0))

    decoded = decode(path, 16000)

    assert np.abs(decoded.samples).max() <= 1.0 and decoded.warnings == []


def test_messages_name_the_file_as_its_owner_knows_it_not_as_it_is_stored(tmp_path):
    stored = samples.write_clip(tmp_path / ("ab" * 32 + ".wav"), seconds=2.0, signal=samples.silence)

    for read in (lambda: decode(stored, 16000, name="Quiet Song.wav"),
                 lambda: next(decode_many([stored], 16000, names=["Quiet Song.wav"]))[1]):
        try:
            result = read()
        except AudioDecodeError as error:
            result = error
        assert str(result).startswith("“Quiet Song.wav” is silent") and stored.name not in str(result)
    with pytest.raises(AudioDecodeError, match="“Music/gone.mp3” is missing: there is no file at "):
        probe(tmp_path / "gone.mp3", name="Music/gone.mp3")


# Multi-valued tags: every value kept, in order, as "A; B".


def test_several_vorbis_comments_of_one_name_are_every_value(tmp_path):
    path = oddities.write_flac_with_comments(
        tmp_path / "two.flac",
        ["TITLE=Alpha", "TITLE=Beta", "ARTIST=Ann", "ARTIST=Bob", "ARTIST=ann", "ALBUM=Live; Loud", "GENRE=Jazz"],
        seconds=1.5,
    )

    info = probe(path)

    assert (info.title, info.artist, info.album, info.genre) == ("Alpha; Beta", "Ann; Bob", "Live; Loud", "Jazz")


@pytest.mark.parametrize(
    "frames, version",
    [
        ([oddities.id3_frame("TIT2", "Alpha\x00Beta"), oddities.id3_frame("TPE1", "Ann\x00Bob")], 4),
        ([oddities.id3_frame("TIT2", "Alpha"), oddities.id3_frame("TIT2", "Beta"),
          oddities.id3_frame("TPE1", "Ann"), oddities.id3_frame("TPE1", "Bob")], 4),
        ([oddities.id3_frame("TIT2", "Alpha", 3, encoding=1), oddities.id3_frame("TIT2", "Beta", 3, encoding=1),
          oddities.id3_frame("TPE1", "Ann\x00Bob", 3, encoding=1)], 3),
    ],
    ids=["v2.4 NUL-separated", "v2.4 frame twice", "v2.3 UTF-16 frame twice"],
)
def test_every_value_of_a_multi_valued_id3_frame_is_kept(tmp_path, frames, version):
    path = made(oddities.write_mp3_with_id3, tmp_path / "multi.mp3", frames, version=version, seconds=1.5)

    info = probe(path)

    assert (info.title, info.artist) == ("Alpha; Beta", "Ann; Bob")
    assert decode(path, 16000).decoded_s == pytest.approx(1.5, abs=0.1)


def test_a_single_id3_value_is_left_to_ffmpeg(tmp_path):
    frames = [oddities.id3_frame("TIT2", "Café au lait"), oddities.id3_frame("TPE1", "Les Testeurs")]
    info = probe(made(oddities.write_mp3_with_id3, tmp_path / "one.mp3", frames, seconds=1.5))
    assert (info.title, info.artist) == ("Café au lait", "Les Testeurs")

