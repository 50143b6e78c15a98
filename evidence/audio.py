"""Recordings made at the door: container, codec and duration read from the bytes, without ffmpeg.

The container is told by its magic bytes, never by the file's name: MP4 (m4a, 3gp), MP3, Ogg (Opus, Vorbis) and WAV
are read with mutagen, raw AMR-NB and AMR-WB with a small streaming parser. mutagen reads durations from headers and
does not notice a file cut short, so each container also gets a cheap structural check (the boxes, chunks, last page
or frames must end exactly at the end of the file, or at least fit in it). MP3 has no such structure: a truncated MP3
is not detected.
"""

import math
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

from mutagen import FileType, MutagenError
from mutagen.mp3 import MPEGInfo
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from evidence.inspection import Rejected

MIME_TYPES = {"mp4": "audio/mp4", "mp3": "audio/mpeg", "ogg": "audio/ogg", "wav": "audio/wav", "amr": "audio/amr"}


@dataclass(frozen=True, slots=True)
class RecordingInfo:
    """What the bytes say about a recording."""

    container: str  # "mp4" | "mp3" | "ogg" | "wav" | "amr"
    codec: str  # "aac", "samr" (AMR in 3GP)..., "mp3", "opus", "vorbis", "pcm"..., "amr-nb", "amr-wb"
    duration_s: float
    mime_type: str  # "audio/mp4" | "audio/mpeg" | "audio/ogg" | "audio/wav" | "audio/amr" (also for AMR-WB)


# Payload bytes per frame type, RFC 4867 §5 / 3GPP TS 26.101 and 26.201; every frame is 20 ms.
_AMR_NB_PAYLOAD = (12, 13, 15, 17, 19, 20, 26, 31, 5, 6, 5, 5, 0, 0, 0, 0)  # 12..14 reserved
_AMR_WB_PAYLOAD = (17, 23, 32, 36, 40, 46, 50, 58, 60, 5, 0, 0, 0, 0, 0, 0)  # 9 is SID; 10..13 reserved
_AMR_FRAME_S = 0.020
_CHUNK = 64 * 1024
# Codecs whose duration is data size / block size, as mutagen computes it (not so for ADPCM, GSM...).
_WAV_CODECS = {0x0001: "pcm", 0x0003: "pcm-float", 0x0006: "alaw", 0x0007: "mulaw"}
_MAX_WAV_CHUNKS = 100
_MAX_ID3_TAGS = 8
_OGG_MAX_PAGE = 27 + 255 + 255 * 255
# Magic bytes of audio we recognise but do not take: say so rather than "not audio".
_OTHER_AUDIO = {
    b"fLaC": "FLAC",
    b"\x1a\x45\xdf\xa3": "WebM/Matroska",
    b"caff": "CAF",
    b"#!AMR_MC1.0\n": "multichannel AMR",
    b"#!AMR-WB_MC1.0\n": "multichannel AMR-WB",
    b"\x30\x26\xb2\x75\x8e\x66\xcf\x11": "WMA",
    b"#!SILK_V3": "SILK",
}
# mutagen converts most parse failures to MutagenError; these slip through on some malformed input.
_PARSE_ERRORS = (MutagenError, EOFError, ValueError, IndexError, OverflowError, struct.error)


def _frame_steps(payload: tuple[int, ...], invalid: range) -> bytes:
    """A translation table: header byte -> bytes from that frame header to the next, 0 for an invalid frame type."""
    return bytes(0 if (byte >> 3) & 0x0F in invalid else 1 + payload[(byte >> 3) & 0x0F] for byte in range(256))


_AMR_NB_STEPS = _frame_steps(_AMR_NB_PAYLOAD, range(12, 15))
_AMR_WB_STEPS = _frame_steps(_AMR_WB_PAYLOAD, range(10, 14))


def inspect_recording(file: BinaryIO) -> RecordingInfo:
    """Read the container, codec and duration of a recording from a seekable binary file, without ffmpeg.

    Accepts MP4 (m4a, 3gp), MP3, Ogg Opus and Vorbis, WAV (PCM, float, A-law, mu-law) and raw AMR-NB/AMR-WB. Reads
    from the start, never the whole file into memory, and leaves the file positioned at the start. Raises Rejected:
    "not-audio" for bytes that are no recording we can read (random bytes, a photo), "unsupported-audio-format" for
    audio in another format, "truncated-audio" for a file cut short or damaged, "empty-recording" for an empty file or
    one that lasts no time.
    """
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    try:
        container, codec, duration_s = _inspect(file, size)
    finally:
        file.seek(0)
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise Rejected("empty-recording", "The recording lasts no time.")
    return RecordingInfo(container, codec, duration_s, MIME_TYPES[container])


def _inspect(file: BinaryIO, size: int) -> tuple[str, str, float]:
    """Container, codec and duration, by the magic bytes."""
    if size == 0:
        raise Rejected("empty-recording", "The recording is empty.")
    head = file.read(64)
    if head.startswith(b"#!AMR\n"):
        return "amr", "amr-nb", _amr_duration(file, size, 6, _AMR_NB_STEPS)
    if head.startswith(b"#!AMR-WB\n"):
        return "amr", "amr-wb", _amr_duration(file, size, 9, _AMR_WB_STEPS)
    if head[4:8] == b"ftyp":
        return ("mp4", *_mp4(file, size))
    if head.startswith(b"OggS"):
        return ("ogg", *_ogg(file, size))
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return ("wav", *_wav(file, size))
    for magic, name in _OTHER_AUDIO.items():
        if head.startswith(magic):
            raise _unsupported(name)
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        raise _unsupported("AIFF")
    start = _after_id3(file, head)
    file.seek(start)
    sync = file.read(2)
    if len(sync) == 2 and sync[0] == 0xFF and sync[1] & 0xF6 == 0xF0:  # 12 sync bits, then layer 00
        raise _unsupported("raw AAC (ADTS)")
    if len(sync) == 2 and sync[0] == 0xFF and sync[1] & 0xE0 == 0xE0:
        return ("mp3", *_mp3(file, start))
    raise Rejected("not-audio", "The file is not a recording.")


def _unsupported(name: str) -> Rejected:
    return Rejected("unsupported-audio-format", f"{name} recordings are not accepted: send m4a, mp3, Ogg, WAV or AMR.")


def _truncated(container: str) -> Rejected:
    return Rejected("truncated-audio", f"The {container} recording is truncated or damaged.")


def _read_info(kind: type[FileType], file: BinaryIO, container: str) -> Any:
    """mutagen's stream info, or "not-audio" if mutagen cannot read the container."""
    file.seek(0)
    try:
        return kind(file).info
    except _PARSE_ERRORS as exc:
        raise Rejected("not-audio", f"The file looks like {container} but could not be read as audio.") from exc


def _amr_duration(file: BinaryIO, size: int, start: int, steps: bytes) -> float:
    """Count the 20 ms frames of raw AMR, reading 64 KiB at a time; the last frame must end at the end of the file."""
    frames, offset = 0, start
    while offset < size:
        file.seek(offset)
        chunk = file.read(_CHUNK).translate(steps)  # each byte -> the step to the next frame, were it a header
        if not chunk:
            break
        i = 0
        while i < len(chunk):  # i may jump past the chunk: the next read starts at that frame header
            step = chunk[i]
            if not step:
                raise Rejected("truncated-audio", f"The AMR recording is damaged: invalid frame at byte {offset + i}.")
            # Encoders repeat one frame size for long runs: count the run in C rather than frame by frame.
            run_of = chunk[i::step]
            run = len(run_of) - len(run_of.lstrip(run_of[:1]))
            frames += run
            i += run * step
        offset += i
    if offset != size:
        raise Rejected("truncated-audio", "The AMR recording is truncated: its last frame is incomplete.")
    return frames * _AMR_FRAME_S


def _mp4(file: BinaryIO, size: int) -> tuple[str, float]:
    """Top-level boxes must fit the file (mutagen reads `moov` and never looks at the media data), then mutagen."""
    offset, kinds = 0, set()
    while offset < size:
        file.seek(offset)
        header = file.read(16)
        if len(header) < 8:
            raise _truncated("MP4")
        box_size, kind = struct.unpack(">I4s", header[:8])
        if box_size == 1:  # 64-bit size follows
            if len(header) < 16:
                raise _truncated("MP4")
            (box_size,) = struct.unpack(">Q", header[8:16])
        elif box_size == 0:  # runs to the end of the file
            box_size = size - offset
        if box_size < 8:
            raise Rejected("not-audio", "The file looks like MP4 but its structure is broken.")
        kinds.add(kind)
        offset += box_size
    if offset != size:
        raise _truncated("MP4")
    if b"moov" not in kinds:  # e.g. a HEIC photo, which is an ftyp file too
        raise Rejected("not-audio", "The file is not a recording.")
    info = _read_info(MP4, file, "MP4")
    if not info.codec:
        raise Rejected("not-audio", "The MP4 file has no audio track.")
    return ("aac" if info.codec.startswith("mp4a.40.") else info.codec), info.length


def _ogg(file: BinaryIO, size: int) -> tuple[str, float]:
    """Opus or Vorbis by the first packet; the last page must be whole (mutagen would use an earlier page)."""
    file.seek(0)
    first_page = file.read(27 + 255 + 8)
    segments = first_page[26] if len(first_page) > 26 else 0
    first_packet = first_page[27 + segments :]
    if not _ogg_ends_with_whole_page(file, size):
        raise _truncated("Ogg")
    if first_packet.startswith(b"OpusHead"):
        return "opus", _read_info(OggOpus, file, "Ogg Opus").length
    if first_packet.startswith(b"\x01vorbis"):
        return "vorbis", _read_info(OggVorbis, file, "Ogg Vorbis").length
    raise _unsupported("Ogg streams other than Opus or Vorbis")


def _ogg_ends_with_whole_page(file: BinaryIO, size: int) -> bool:
    """Whether some page in the last 64 KiB (the longest page) ends exactly at the end of the file."""
    tail_start = max(0, size - _OGG_MAX_PAGE)
    file.seek(tail_start)
    tail = file.read()
    index = len(tail)
    while (index := tail.rfind(b"OggS", 0, index)) >= 0:
        if index + 27 <= len(tail):
            segments = tail[index + 26]
            lacing = tail[index + 27 : index + 27 + segments]
            if len(lacing) == segments and index + 27 + segments + sum(lacing) == len(tail):
                return True
    return False


def _wav(file: BinaryIO, size: int) -> tuple[str, float]:
    """The fmt chunk names the codec; the data chunk must fit in the file (mutagen trusts its declared size)."""
    offset, fmt, has_data = 12, b"", False
    for _ in range(_MAX_WAV_CHUNKS):
        if offset + 8 > size:
            break
        file.seek(offset)
        kind, length = struct.unpack("<4sI", file.read(8))
        if kind == b"fmt ":
            fmt = file.read(min(length, 40))
        elif kind == b"data":
            if offset + 8 + length > size:
                raise _truncated("WAV")
            has_data = True
            break
        offset += 8 + length + (length & 1)
    if len(fmt) < 16 or not has_data:
        raise _truncated("WAV")
    (code,) = struct.unpack("<H", fmt[:2])
    if code == 0xFFFE and len(fmt) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the real code starts the sub-format GUID
        (code,) = struct.unpack("<H", fmt[24:26])
    if code not in _WAV_CODECS:
        raise _unsupported(f"WAV with codec 0x{code:04x}")
    return _WAV_CODECS[code], _read_info(WAVE, file, "WAV").length


def _after_id3(file: BinaryIO, head: bytes) -> int:
    """Offset after the ID3v2 tags at the start of the file (some writers stack several), 0 if none."""
    offset = 0
    for _ in range(_MAX_ID3_TAGS):
        if head[:3] != b"ID3" or len(head) < 10:
            break
        size = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | (head[9] & 0x7F)
        offset += 10 + size + (10 if head[5] & 0x10 else 0)  # flag 0x10: a footer follows
        file.seek(offset)
        head = file.read(10)
    return offset


def _mp3(file: BinaryIO, start: int) -> tuple[str, float]:
    """mutagen's MPEG reader, trusted only if it found a consistent stream (4 frames in a row, or a Xing/VBRI
    header) starting right where the file said: its sync search can otherwise "find" a frame in random bytes."""
    file.seek(start)
    try:
        info = MPEGInfo(file, start)
    except _PARSE_ERRORS as exc:
        raise Rejected("not-audio", "The file is not a recording.") from exc
    if info.sketchy or getattr(info, "frame_offset", None) != start:
        raise Rejected("not-audio", "The file is not a recording.")
    return f"mp{info.layer}", info.length
