"""Photos taken at the door: check that the bytes are a whole JPEG, PNG or HEIC of sane size, read when and where
the photo was taken from its EXIF, and draw a thumbnail. The original bytes are never changed.

Decompression bombs without changing global Pillow state: `Image.MAX_IMAGE_PIXELS` is process-wide, so it is left
alone; instead the size is checked against the caller's `max_pixels` right after `Image.open()`, which only parses
the header, before anything is decoded. Pillow's own guard still runs inside `open()`: above 2 x MAX_IMAGE_PIXELS it
raises `DecompressionBombError`, above 1 x it warns. A `warnings.catch_warnings()` block around `open()` alone turns
that warning into an error, so it never escapes to the caller, and the effective limit is
min(max_pixels, Image.MAX_IMAGE_PIXELS). Before Python 3.14 `catch_warnings()` swaps the process-wide filter list and
is not thread-safe: two overlapping blocks can restore each other's list. Our blocks take a lock, so they never
overlap each other; one racing with another library's block could at worst leave or drop a filter for this one
warning class. Refusal never depends on it: the explicit size check is what refuses images above `max_pixels`.
"""

import math
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from io import BytesIO
from typing import Any, BinaryIO

import pillow_heif
from PIL import ExifTags, Image, ImageFile, ImageOps, UnidentifiedImageError

from evidence.inspection import Rejected

pillow_heif.register_heif_opener()

ACCEPTED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "HEIF": "image/heic"}


@dataclass(frozen=True, slots=True)
class PhotoInfo:
    """What the bytes say about a photo."""

    format: str  # "JPEG" | "PNG" | "HEIF": the real format, from the bytes, whatever the file was called
    mime_type: str  # "image/jpeg" | "image/png" | "image/heic"
    width: int  # as displayed: EXIF orientation applied (pillow-heif applies it on open, so HEIF agrees)
    height: int
    taken_at: datetime | None  # EXIF DateTimeOriginal (or DateTime); aware only if the EXIF gives the UTC offset
    lat: float | None  # EXIF GPS in decimal degrees, south and west negative; both or neither
    lon: float | None


# Pillow reports bad image data as OSError mostly, but some decoders and plugins raise these.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, RuntimeError)
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # length 0, type, CRC
_TAIL = 64 * 1024
_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")
_open_lock = threading.Lock()  # serialises our catch_warnings() blocks, see the module docstring


def inspect_photo(file: BinaryIO, *, max_pixels: int) -> PhotoInfo:
    """Check that a seekable binary file holds a whole JPEG, PNG or HEIC photo and read its EXIF time and place.

    Reads from the start of the file and leaves it positioned at the start. Refuses more than `max_pixels` pixels
    before decoding anything ("image-too-large"), other formats ("unsupported-image-format"), bytes that are no image
    ("not-an-image") and images whose data is cut short or damaged ("truncated-image"): the whole image is decoded,
    since `verify()` misses truncation. JPEGs are decoded at 1/8 scale (libjpeg still reads every byte of entropy
    data, so truncation is found, but a 48 Mpx photo takes 2.3 MB instead of 144 MB). Unreadable EXIF is ignored.
    Raises Rejected.
    """
    if max_pixels <= 0:
        raise ValueError(f"max_pixels must be positive, not {max_pixels}")
    try:
        with _opened(file, max_pixels) as im:
            image_format = im.format or ""
            width, height = im.size
            if image_format == "JPEG":
                im.draft(None, (max(1, width // 8), max(1, height // 8)))
            with _decoding(im):
                im.load()
            if image_format == "PNG" and not _png_ends(file):
                raise Rejected("truncated-image", "The PNG image is truncated: it has no end chunk.")
            taken_at, lat, lon, orientation = _read_exif(im)
    finally:
        file.seek(0)
    if orientation in (5, 6, 7, 8):  # rotated a quarter turn
        width, height = height, width
    return PhotoInfo(image_format, ACCEPTED_FORMATS[image_format], width, height, taken_at, lat, lon)


def thumbnail(file: BinaryIO, *, size: int = 320) -> bytes:
    """A JPEG thumbnail of an already inspected photo: longest side `size` (smaller images are not enlarged),
    EXIF orientation applied, transparency on white, and no EXIF, GPS or other metadata kept.

    Reads from the start of the file and leaves it positioned at the start; the original is never re-encoded or
    changed. Raises Rejected like `inspect_photo` (with Pillow's own pixel limit) if the bytes are not a good photo.
    """
    if size <= 0:
        raise ValueError(f"size must be positive, not {size}")
    try:
        with _opened(file, None) as im:
            with _decoding(im):
                im.thumbnail((size, size))  # first: decodes JPEGs at reduced scale (draft), then rotates a small image
            small = ImageOps.exif_transpose(im)
    finally:
        file.seek(0)
    if small.mode in ("RGBA", "LA", "PA") or "transparency" in small.info:
        rgba = small.convert("RGBA")
        small = Image.new("RGB", rgba.size, "white")
        small.paste(rgba, mask=rgba.getchannel("A"))
    elif small.mode not in ("RGB", "L"):
        small = small.convert("RGB")
    out = BytesIO()
    small.save(out, "JPEG", quality=80, optimize=True)  # no exif= nor icc_profile=: nothing of the original is kept
    return out.getvalue()


@contextmanager
def _opened(file: BinaryIO, max_pixels: int | None) -> Iterator[ImageFile.ImageFile]:
    """The image with only its header read; refuses bombs, other formats and non-images."""
    file.seek(0)
    try:
        im = _open(file, tuple(ACCEPTED_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Rejected("image-too-large", "The image has too many pixels.") from exc
    except UnidentifiedImageError as exc:
        raise _unaccepted(file) from exc
    except _DECODE_ERRORS as exc:  # e.g. a JPEG cut inside its header: "Truncated File Read"
        raise Rejected("truncated-image", "The image is truncated or damaged.") from exc
    # Leaving `with im` lets go of the file without closing it; im.close() would close the caller's file.
    with im:
        if max_pixels is not None and im.width * im.height > max_pixels:
            raise Rejected(
                "image-too-large", f"The image has {im.width} x {im.height} pixels, more than the {max_pixels} allowed."
            )
        yield im


def _open(file: BinaryIO, formats: tuple[str, ...] | None) -> ImageFile.ImageFile:
    """`Image.open` (the header only) with Pillow's bomb warning as an error and its EXIF complaints silenced."""
    with _open_lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pillow's complaints about malformed EXIF: still a photo
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(file, formats=formats)


def _unaccepted(file: BinaryIO) -> Rejected:
    """Say why bytes that none of the accepted formats could open were refused."""
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    try:
        with _open(file, None) as other:
            other_format = other.format
    except Exception:  # only naming the format: any failure means "not an image we know"
        other_format = None
    if other_format:
        return Rejected(
            "unsupported-image-format", f"{other_format} images are not accepted: send a JPEG, PNG or HEIC photo."
        )
    looks_accepted = (
        head.startswith(b"\xff\xd8\xff")
        or head.startswith(b"\x89PNG\r\n\x1a\n")
        or (head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS)
    )
    if looks_accepted:
        return Rejected("truncated-image", "The image is truncated or damaged.")
    return Rejected("not-an-image", "The file is not an image.")


@contextmanager
def _decoding(im: Image.Image) -> Iterator[None]:
    """Turn Pillow's errors while decoding the pixels into "truncated-image"."""
    try:
        yield
    except _DECODE_ERRORS as exc:
        raise Rejected("truncated-image", f"The {im.format} image is truncated or damaged.") from exc


def _png_ends(file: BinaryIO) -> bool:
    """Whether the IEND chunk is there: Pillow decodes a PNG cut after its pixel data without a word."""
    file.seek(0, 2)
    file.seek(max(0, file.tell() - _TAIL))
    return _IEND in file.read()  # near the end rather than at it: some writers append bytes after IEND


def _read_exif(im: Image.Image) -> tuple[datetime | None, float | None, float | None, int]:
    """Time taken, latitude, longitude and orientation from the EXIF; None (orientation 1) if absent or unreadable."""
    try:
        exif = im.getexif()
        details = exif.get_ifd(ExifTags.IFD.Exif)
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:  # EXIF is written by every phone maker its own way; a photo with broken EXIF is still a photo
        return None, None, None, 1
    orientation = exif.get(ExifTags.Base.Orientation)
    taken_at = _taken_at(details.get(ExifTags.Base.DateTimeOriginal), details.get(ExifTags.Base.OffsetTimeOriginal))
    if taken_at is None:
        taken_at = _taken_at(exif.get(ExifTags.Base.DateTime), details.get(ExifTags.Base.OffsetTime))
    lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "N", "S", 90)
    lon = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "E", "W", 180)
    if lat is None or lon is None:
        lat = lon = None
    return taken_at, lat, lon, orientation if isinstance(orientation, int) else 1


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value).strip("\x00 ")


def _taken_at(stamp: Any, offset: Any) -> datetime | None:
    """EXIF "YYYY:MM:DD HH:MM:SS" (+ "+HH:MM" offset) as a datetime, aware only when the offset is given."""
    if stamp is None:
        return None
    text = _text(stamp)[:19]
    for pattern in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            moment = datetime.strptime(text, pattern)
            break
        except ValueError:
            continue
    else:
        return None  # also the "0000:00:00 00:00:00" of cameras without a clock
    match = _OFFSET.fullmatch(_text(offset)) if offset is not None else None
    if match is None:
        return moment
    sign = -1 if match[1] == "-" else 1
    delta = timedelta(hours=int(match[2]), minutes=int(match[3]))
    return moment.replace(tzinfo=timezone(sign * delta)) if delta < timedelta(hours=24) else moment


def _degrees(value: Any, ref: Any, positive: str, negative: str, limit: float) -> float | None:
    """EXIF (degrees, minutes, seconds) and hemisphere as signed decimal degrees; None if missing or nonsense."""
    if value is None or ref is None:
        return None
    hemisphere = _text(ref).upper()
    if hemisphere not in (positive, negative):
        return None
    try:
        parts = [float(part) for part in (value if isinstance(value, tuple | list) else (value,))][:3]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    parts += [0.0] * (3 - len(parts))
    degrees = parts[0] + parts[1] / 60 + parts[2] / 3600
    if not math.isfinite(degrees) or not 0 <= degrees <= limit:
        return None
    return -degrees if hemisphere == negative else degrees
