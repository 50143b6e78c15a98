"""Evidence files drawn in memory for tests: photos with EXIF, bombs, recordings. No files, no external tools.

The recordings other than WAV are structurally valid containers (what mutagen and a demuxer read) around placeholder
codec data: enough to test duration and format detection, not to be played.
"""

import functools
import io
import math
import random
import struct
import wave
import zlib
from datetime import datetime

import pillow_heif
from mutagen.ogg import OggPage
from PIL import ExifTags, Image

pillow_heif.register_heif_opener()  # also registers the HEIF saver

AMR_NB_FRAME = b"\x3c" + bytes(31)  # frame type 7 (12.2 kbit/s), quality bit set, 31 payload bytes: 20 ms
AMR_WB_FRAME = b"\x44" + bytes(60)  # frame type 8 (23.85 kbit/s): 20 ms


def _exif(
    taken_at: datetime | None, lat: float | None, lon: float | None, orientation: int | None
) -> Image.Exif | None:
    exif = Image.Exif()
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    if taken_at is not None:
        details = exif.get_ifd(ExifTags.IFD.Exif)
        details[ExifTags.Base.DateTimeOriginal] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
        offset = taken_at.utcoffset()
        if offset is not None:
            minutes = int(offset.total_seconds()) // 60
            sign = "-" if minutes < 0 else "+"
            details[ExifTags.Base.OffsetTimeOriginal] = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    if lat is not None and lon is not None:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef] = "S" if lat < 0 else "N"
        gps[ExifTags.GPS.GPSLatitude] = _dms(lat)
        gps[ExifTags.GPS.GPSLongitudeRef] = "W" if lon < 0 else "E"
        gps[ExifTags.GPS.GPSLongitude] = _dms(lon)
    nothing = orientation is None and taken_at is None and (lat is None or lon is None)
    return None if nothing else exif  # len(exif) counts only top-level tags, not the Exif and GPS IFDs


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = math.floor(value)
    minutes = math.floor((value - degrees) * 60)
    return float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4)


def _picture(width: int, height: int) -> Image.Image:
    """Grey with a red top-left quarter, so rotations can be seen."""
    image = Image.new("RGB", (width, height), (200, 200, 200))
    image.paste((220, 30, 30), (0, 0, width // 2, height // 2))
    return image


def jpeg_bytes(
    *,
    width: int = 640,
    height: int = 480,
    taken_at: datetime | None = None,
    lat: float | None = None,
    lon: float | None = None,
    orientation: int | None = None,
) -> bytes:
    """A real JPEG with EXIF DateTimeOriginal (+ OffsetTimeOriginal when `taken_at` is aware), GPS and orientation."""
    out = io.BytesIO()
    exif = _exif(taken_at, lat, lon, orientation)
    _picture(width, height).save(out, "JPEG", quality=85, **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def heic_bytes(
    *,
    width: int = 640,
    height: int = 480,
    taken_at: datetime | None = None,
    lat: float | None = None,
    lon: float | None = None,
    orientation: int | None = None,
) -> bytes:
    """A real HEIC (pillow-heif's x265 encoder), with the same EXIF as `jpeg_bytes`."""
    out = io.BytesIO()
    exif = _exif(taken_at, lat, lon, orientation)
    # pillow-heif wants EXIF as bytes: given an Image.Exif it drops the orientation
    _picture(width, height).save(out, "HEIF", quality=50, **({"exif": exif.tobytes()} if exif is not None else {}))
    return out.getvalue()


def png_bytes(width: int = 64, height: int = 48) -> bytes:
    """A real PNG without EXIF."""
    out = io.BytesIO()
    _picture(width, height).save(out, "PNG")
    return out.getvalue()


def gif_bytes(width: int = 64, height: int = 48) -> bytes:
    """A real GIF: an image, but not a format accepted as evidence."""
    out = io.BytesIO()
    _picture(width, height).convert("P").save(out, "GIF")
    return out.getvalue()


def bomb_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A 1-bit black PNG of width x height pixels (400 Mpx by default) that compresses to some 50 KiB.

    Written chunk by chunk: drawing it with Pillow would take one byte per pixel.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = bytes(1 + (width + 7) // 8)  # filter byte 0, then the packed bits
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # bit depth 1, greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@functools.cache  # the same few recordings, made once per run (a 20-minute one takes a second)
def wav_bytes(seconds: float, rate: int = 8000) -> bytes:
    """A real WAV: a 440 Hz sine, mono, 16-bit PCM."""
    count = round(seconds * rate)
    samples = struct.pack(f"<{count}h", *(int(12_000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(count)))
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples)
    return out.getvalue()


def amr_bytes(seconds: float, *, wideband: bool = False) -> bytes:
    """Raw AMR-NB ('#!AMR\\n', 12.2 kbit/s frames) or AMR-WB ('#!AMR-WB\\n'): round(seconds / 0.02) frames of 20 ms."""
    count = round(seconds / 0.02)
    if wideband:
        return b"#!AMR-WB\n" + AMR_WB_FRAME * count
    return b"#!AMR\n" + AMR_NB_FRAME * count


def mp3_bytes(seconds: float, *, id3: bool = False) -> bytes:
    """An MPEG-1 Layer III stream: 128 kbit/s, 48 kHz, mono, so every frame is 384 bytes and 24 ms of silence.

    `id3` puts an (empty, padded) ID3v2.3 tag in front, as most encoders do.
    """
    frame = b"\xff\xfb\x94\xc0" + bytes(380)  # sync, MPEG-1 layer III no CRC; 128k, 48 kHz, no padding; mono
    tag = b"ID3\x03\x00\x00" + bytes([0, 0, 0, 16]) + bytes(16) if id3 else b""
    return tag + frame * round(seconds / 0.024)


def opus_bytes(seconds: float) -> bytes:
    """An Ogg Opus stream: OpusHead, OpusTags, then 20 ms packets, 50 to a page, the last page flagged end of stream.

    The duration mutagen reads is (last granule position - pre-skip) / 48 kHz = exactly `seconds` (rounded to 20 ms).
    """
    pre_skip, serial = 312, 0x5EED
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, pre_skip, 48_000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 6) + b"tests!" + struct.pack("<I", 0)
    packet = b"\xf8" + bytes(40)  # TOC: CELT fullband 20 ms, mono, one frame
    count = round(seconds / 0.02)
    pages: list[OggPage] = []
    for packets, position in [([head], 0), ([tags], 0)]:
        pages.append(_ogg_page(serial, len(pages), packets, position))
    for start in range(0, count, 50):
        done = min(start + 50, count)
        pages.append(_ogg_page(serial, len(pages), [packet] * (done - start), pre_skip + done * 960))
    pages[0].first = True
    pages[-1].last = True
    return b"".join(page.write() for page in pages)


def _ogg_page(serial: int, sequence: int, packets: list[bytes], position: int) -> OggPage:
    page = OggPage()
    page.serial, page.sequence, page.packets, page.position = serial, sequence, packets, position
    return page


def m4a_bytes(seconds: float, *, rate: int = 16_000) -> bytes:
    """An MP4 audio file (ftyp M4A, moov before mdat) declaring one mono AAC-LC track of `seconds`."""
    duration = round(seconds * rate)
    identity = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _full_box(
        b"mvhd", struct.pack(">5IH10x", 0, 0, rate, duration, 0x10000, 0x100) + identity + bytes(24) + b"\0\0\0\2"
    )
    tkhd = _full_box(b"tkhd", struct.pack(">5I8xHHH2x", 0, 0, 1, 0, duration, 0, 0, 0x100) + identity + bytes(8), 7)
    mdhd = _full_box(b"mdhd", struct.pack(">4IHH", 0, 0, rate, duration, 0x55C4, 0))  # language "und"
    hdlr = _full_box(b"hdlr", struct.pack(">I4s12x", 0, b"soun") + b"SoundHandler\x00")
    rate_index = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000].index(rate)
    audio_config = struct.pack(">H", (2 << 11) | (rate_index << 7) | (1 << 3))  # AAC LC, rate, mono
    decoder = _descriptor(
        4, struct.pack(">BB3sII", 0x40, 0x15, bytes(3), 64_000, 64_000) + _descriptor(5, audio_config)
    )
    esds = _full_box(b"esds", _descriptor(3, struct.pack(">HB", 1, 0) + decoder + _descriptor(6, b"\x02")))
    mp4a = _box(b"mp4a", bytes(6) + struct.pack(">H8xHHHHI", 1, 1, 16, 0, 0, rate << 16) + esds)
    stsd = _full_box(b"stsd", struct.pack(">I", 1) + mp4a)
    empty_tables = [
        _full_box(kind, bytes(size)) for kind, size in ((b"stts", 4), (b"stsc", 4), (b"stsz", 8), (b"stco", 4))
    ]
    stbl = _box(b"stbl", stsd, *empty_tables)
    dinf = _box(b"dinf", _full_box(b"dref", struct.pack(">I", 1) + _full_box(b"url ", b"", 1)))
    minf = _box(b"minf", _full_box(b"smhd", bytes(4)), dinf, stbl)
    moov = _box(b"moov", mvhd, _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf)))
    ftyp = _box(b"ftyp", b"M4A " + struct.pack(">I", 0) + b"M4A isommp42")
    mdat = _box(b"mdat", bytes(round(seconds * 8_000)))  # 64 kbit/s of placeholder data
    return ftyp + moov + mdat


def _box(kind: bytes, *children: bytes) -> bytes:
    payload = b"".join(children)
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _full_box(kind: bytes, payload: bytes, flags: int = 0) -> bytes:
    return _box(kind, struct.pack(">I", flags), payload)  # version 0


def _descriptor(tag: int, payload: bytes) -> bytes:
    return bytes([tag, len(payload)]) + payload  # lengths below 128 fit one byte


def random_bytes(n: int, seed: int = 1) -> bytes:
    """n reproducible random bytes."""
    return random.Random(seed).randbytes(n)
