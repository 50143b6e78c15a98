"""Recording inspection on files generated in code: durations, codecs, truncation and bytes that are not audio."""

import io
import random
import tempfile
import tracemalloc
from collections.abc import Callable

import pytest

from evidence.audio import RecordingInfo, inspect_recording
from evidence.inspection import Rejected
from tests.evidence.samples import (
    AMR_NB_FRAME,
    amr_bytes,
    heic_bytes,
    jpeg_bytes,
    m4a_bytes,
    mp3_bytes,
    opus_bytes,
    random_bytes,
    wav_bytes,
)

NB_PAYLOAD = [12, 13, 15, 17, 19, 20, 26, 31, 5, 6, 5, 5, 0, 0, 0, 0]  # bytes per frame type; 12-14 invalid


def inspect(data: bytes) -> RecordingInfo:
    return inspect_recording(io.BytesIO(data))


def rejection(data: bytes) -> Rejected:
    with pytest.raises(Rejected) as caught:
        inspect(data)
    return caught.value


@pytest.mark.parametrize(("seconds", "rate"), [(2.5, 8000), (1.234, 16_000), (0.3, 44_100)])
def test_wav_duration_and_codec(seconds: float, rate: int) -> None:
    info = inspect(wav_bytes(seconds, rate))

    assert (info.container, info.codec, info.mime_type) == ("wav", "pcm", "audio/wav")
    assert info.duration_s == pytest.approx(seconds, abs=0.05)


@pytest.mark.parametrize("seconds", [0.02, 3.0, 61.3])
def test_amr_nb_duration_is_frames_times_20_ms(seconds: float) -> None:
    frames = round(seconds / 0.02)

    info = inspect(amr_bytes(seconds))

    assert (info.container, info.codec, info.mime_type) == ("amr", "amr-nb", "audio/amr")
    assert info.duration_s == frames * 0.02


def test_amr_wb_duration() -> None:
    info = inspect(amr_bytes(4.5, wideband=True))

    assert (info.container, info.codec, info.mime_type) == ("amr", "amr-wb", "audio/amr")
    assert info.duration_s == 225 * 0.02


def mixed_amr(frames: int, seed: int) -> bytes:
    """Raw AMR-NB with every valid frame type (speech modes, SIDs, NO_DATA), in random order and runs."""
    rng = random.Random(seed)
    types = [t for t in range(16) if not 12 <= t <= 14]
    out = [b"#!AMR\n"]
    while frames:
        frame_type, run = rng.choice(types), min(frames, rng.choice([1, 1, 2, 7, 50]))
        header = bytes([frame_type << 3 | rng.choice([0x04, 0x00])])
        out.append((header + rng.randbytes(NB_PAYLOAD[frame_type])) * run)
        frames -= run
    return b"".join(out)


@pytest.mark.parametrize("seed", range(5))
def test_amr_with_mixed_frame_types_counts_every_frame(seed: int) -> None:
    data = mixed_amr(5_000, seed)

    assert inspect(data).duration_s == 5_000 * 0.02
    assert rejection(data[:-1]).reason == "truncated-audio"


@pytest.mark.parametrize("cut", [1, 5, 31])
def test_truncated_amr_is_refused(cut: int) -> None:
    data = amr_bytes(2.0)

    rejected = rejection(data[:-cut])

    assert rejected.reason == "truncated-audio"
    assert "truncated" in str(rejected)


def test_amr_with_an_invalid_frame_type_is_refused() -> None:
    frame_type_13 = bytes([13 << 3 | 0x04])

    assert rejection(amr_bytes(1.0) + frame_type_13 + amr_bytes(1.0)[6:]).reason == "truncated-audio"


def test_amr_header_without_frames_is_an_empty_recording() -> None:
    assert rejection(amr_bytes(0)).reason == "empty-recording"


def test_large_amr_is_parsed_in_little_memory() -> None:
    block = AMR_NB_FRAME * (1 << 15)  # 1 MiB: 32,768 frames
    with tempfile.TemporaryFile() as file:
        file.write(amr_bytes(0))
        for _ in range(50):
            file.write(block)
        file.flush()

        tracemalloc.start()
        try:
            info = inspect_recording(file)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert info.duration_s == 50 * (1 << 15) * 0.02
    assert peak < 4 * 1024 * 1024


@pytest.mark.parametrize("id3", [False, True])
def test_mp3_duration(id3: bool) -> None:
    info = inspect(mp3_bytes(4.8, id3=id3))

    assert (info.container, info.codec, info.mime_type) == ("mp3", "mp3", "audio/mpeg")
    assert info.duration_s == pytest.approx(4.8, abs=0.05)


def test_an_mpeg_frame_header_followed_by_garbage_is_not_audio() -> None:
    assert rejection(mp3_bytes(0.024) + random_bytes(100_000)).reason == "not-audio"


def test_ogg_opus_duration_and_truncation() -> None:
    data = opus_bytes(3.1)

    info = inspect(data)

    assert (info.container, info.codec, info.mime_type) == ("ogg", "opus", "audio/ogg")
    assert info.duration_s == pytest.approx(3.1, abs=0.001)
    assert rejection(data[: len(data) * 2 // 3]).reason == "truncated-audio"


def test_m4a_duration_codec_and_truncation() -> None:
    data = m4a_bytes(5.5)

    info = inspect(data)

    assert (info.container, info.codec, info.mime_type) == ("mp4", "aac", "audio/mp4")
    assert info.duration_s == pytest.approx(5.5, abs=0.001)
    assert rejection(data[: len(data) // 2]).reason == "truncated-audio"


@pytest.mark.parametrize("size", [1024, 4096, 65_536, 1 << 20])
@pytest.mark.parametrize("seed", range(6))
def test_random_bytes_are_not_audio(size: int, seed: int) -> None:
    assert rejection(random_bytes(size, seed)).reason == "not-audio"


@pytest.mark.parametrize("photo", [jpeg_bytes, heic_bytes], ids=["jpeg", "heic"])
def test_a_photo_is_not_audio(photo: Callable[[], bytes]) -> None:
    assert rejection(photo()).reason == "not-audio"  # HEIC is an ftyp file like m4a, but without a movie


def test_empty_file_is_refused() -> None:
    assert rejection(b"").reason == "empty-recording"


def test_wav_without_samples_is_an_empty_recording() -> None:
    assert rejection(wav_bytes(0)).reason == "empty-recording"


@pytest.mark.parametrize("keep", [4, 12, 20, 30, 40])
def test_wav_truncated_in_its_header_is_refused(keep: int) -> None:
    rejected = rejection(wav_bytes(1.0)[:keep])

    assert rejected.reason == ("not-audio" if keep < 12 else "truncated-audio")


def test_wav_truncated_in_its_samples_is_refused() -> None:
    data = wav_bytes(1.0)

    assert rejection(data[: len(data) - 100]).reason == "truncated-audio"


@pytest.mark.parametrize(
    ("head", "name"),
    [(b"fLaC", "FLAC"), (b"\x1a\x45\xdf\xa3", "WebM"), (b"\xff\xf1\x50\x80", "AAC"), (b"#!AMR_MC1.0\n", "AMR")],
)
def test_other_audio_formats_are_unsupported(head: bytes, name: str) -> None:
    rejected = rejection(head + random_bytes(2048))

    assert rejected.reason == "unsupported-audio-format"
    assert name in str(rejected)


def test_inspection_leaves_the_file_at_its_start() -> None:
    source = io.BytesIO(wav_bytes(0.5))
    source.seek(10)

    inspect_recording(source)

    assert not source.closed
    assert source.tell() == 0
