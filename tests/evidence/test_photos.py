"""Photo inspection and thumbnails on images drawn in memory; run with `-W error` so no warning goes unnoticed."""

import io
import tempfile
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from PIL import ExifTags, Image

from evidence.inspection import Rejected
from evidence.photos import ACCEPTED_FORMATS, PhotoInfo, inspect_photo, thumbnail
from tests.evidence.samples import bomb_png, gif_bytes, heic_bytes, jpeg_bytes, png_bytes, random_bytes

MAX_PIXELS = 50_000_000
PARIS = timezone(timedelta(hours=1))


def inspect(data: bytes, max_pixels: int = MAX_PIXELS) -> PhotoInfo:
    return inspect_photo(io.BytesIO(data), max_pixels=max_pixels)


def rejection(data: bytes, max_pixels: int = MAX_PIXELS) -> Rejected:
    with pytest.raises(Rejected) as caught:
        inspect(data, max_pixels)
    return caught.value


@pytest.mark.parametrize(("lat", "lon"), [(48.8566, 2.3522), (-33.8688, 151.2093), (40.7128, -74.0060)])
def test_jpeg_time_and_gps_are_read_back(lat: float, lon: float) -> None:
    taken_at = datetime(2026, 11, 28, 9, 15, 30, tzinfo=PARIS)

    info = inspect_photo(io.BytesIO(jpeg_bytes(taken_at=taken_at, lat=lat, lon=lon)), max_pixels=MAX_PIXELS)

    assert (info.format, info.mime_type, info.width, info.height) == ("JPEG", "image/jpeg", 640, 480)
    assert info.taken_at == taken_at
    assert info.taken_at is not None and info.taken_at.utcoffset() == timedelta(hours=1)
    assert info.lat == pytest.approx(lat, abs=1e-4)
    assert info.lon == pytest.approx(lon, abs=1e-4)


def test_time_without_offset_is_naive_for_the_caller_to_place() -> None:
    info = inspect_photo(io.BytesIO(jpeg_bytes(taken_at=datetime(2026, 3, 1, 17, 0, 5))), max_pixels=MAX_PIXELS)

    assert info.taken_at == datetime(2026, 3, 1, 17, 0, 5)
    assert info.taken_at.tzinfo is None
    assert (info.lat, info.lon) == (None, None)


def test_png_is_accepted_without_exif() -> None:
    info = inspect_photo(io.BytesIO(png_bytes()), max_pixels=MAX_PIXELS)

    assert (info.format, info.mime_type, info.width, info.height) == ("PNG", "image/png", 64, 48)
    assert (info.taken_at, info.lat, info.lon) == (None, None, None)


def test_heic_is_accepted_with_its_exif() -> None:
    data = heic_bytes(taken_at=datetime(2026, 5, 4, 8, 30, tzinfo=PARIS), lat=45.764, lon=4.8357)

    info = inspect_photo(io.BytesIO(data), max_pixels=MAX_PIXELS)

    assert (info.format, info.mime_type, info.width, info.height) == ("HEIF", "image/heic", 640, 480)
    assert info.taken_at == datetime(2026, 5, 4, 8, 30, tzinfo=PARIS)
    assert info.lat == pytest.approx(45.764, abs=1e-4)
    assert info.lon == pytest.approx(4.8357, abs=1e-4)


def test_a_png_named_jpg_is_reported_as_png() -> None:
    with tempfile.NamedTemporaryFile(suffix=".jpg") as file:
        file.write(png_bytes())
        file.flush()
        with open(file.name, "rb") as named_jpg:
            info = inspect_photo(named_jpg, max_pixels=MAX_PIXELS)

    assert (info.format, info.mime_type) == ("PNG", ACCEPTED_FORMATS["PNG"])


def test_quarter_turned_jpeg_reports_displayed_size_like_heic() -> None:
    jpeg = inspect_photo(io.BytesIO(jpeg_bytes(orientation=6)), max_pixels=MAX_PIXELS)
    heic = inspect_photo(io.BytesIO(heic_bytes(orientation=6)), max_pixels=MAX_PIXELS)

    assert (jpeg.width, jpeg.height) == (heic.width, heic.height) == (480, 640)


def test_bomb_is_refused_before_decoding_and_no_warning_escapes() -> None:
    filters_before, limit_before = list(warnings.filters), Image.MAX_IMAGE_PIXELS

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rejected = rejection(bomb_png())  # 400 Mpx: Pillow's DecompressionBombError
        rejected_warned = rejection(bomb_png(10_000, 10_000), max_pixels=10**9)  # 100 Mpx: Pillow only warns

    assert rejected.reason == rejected_warned.reason == "image-too-large"
    assert [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)] == []
    assert (list(warnings.filters), Image.MAX_IMAGE_PIXELS) == (filters_before, limit_before)


def test_more_pixels_than_the_callers_limit_is_refused() -> None:
    assert inspect(png_bytes(64, 48), max_pixels=64 * 48).format == "PNG"
    assert rejection(png_bytes(64, 48), max_pixels=64 * 48 - 1).reason == "image-too-large"


def test_concurrent_inspections_leave_the_warning_filters_alone() -> None:
    filters_before = list(warnings.filters)
    bomb, photo = bomb_png(10_000, 10_000), jpeg_bytes()

    def one(i: int) -> str:
        try:
            return inspect(bomb if i % 2 else photo, max_pixels=10**9).format
        except Rejected as exc:
            return exc.reason

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(40)))

    assert results == ["JPEG", "image-too-large"] * 20
    assert list(warnings.filters) == filters_before


@pytest.mark.parametrize("keep", [0.5, 0.9, 200])
def test_truncated_jpeg_is_refused(keep: float) -> None:
    data = jpeg_bytes(width=1200, height=900)
    cut = int(len(data) * keep) if keep < 1 else int(keep)

    assert rejection(data[:cut]).reason == "truncated-image"


def test_truncated_png_and_heic_are_refused() -> None:
    png, heic = png_bytes(400, 300), heic_bytes()

    assert rejection(png[: len(png) // 2]).reason == "truncated-image"
    assert rejection(png[:-12]).reason == "truncated-image"  # every pixel there, only the end chunk missing
    assert inspect(png + b"appended").format == "PNG"
    assert rejection(heic[: len(heic) // 2]).reason == "truncated-image"


@pytest.mark.parametrize(("size", "seed"), [(0, 1), (10, 1), (1024, 1), (4096, 2), (65536, 3), (1 << 20, 4)])
def test_random_bytes_are_not_an_image(size: int, seed: int) -> None:
    assert rejection(random_bytes(size, seed)).reason == "not-an-image"


def test_gif_is_an_unsupported_format() -> None:
    rejected = rejection(gif_bytes())

    assert rejected.reason == "unsupported-image-format"
    assert "GIF" in str(rejected)


def test_thumbnail_is_a_small_jpeg_without_gps() -> None:
    data = jpeg_bytes(width=1600, height=1200, taken_at=datetime(2026, 1, 1, 12, 0), lat=48.85, lon=2.35)
    source = io.BytesIO(data)

    thumb = thumbnail(source)

    with Image.open(io.BytesIO(thumb)) as image:
        assert image.format == "JPEG"
        assert max(image.size) == 320
        assert image.size == (320, 240)
        exif = image.getexif()
        assert len(exif) == 0
        assert exif.get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert source.getvalue() == data and source.tell() == 0


@pytest.mark.parametrize("make", [jpeg_bytes, heic_bytes])
def test_quarter_turned_photo_gives_a_portrait_thumbnail(make: Callable[..., bytes]) -> None:
    thumb = thumbnail(io.BytesIO(make(orientation=6)))

    with Image.open(io.BytesIO(thumb)) as image:
        assert image.size == (240, 320)
        # the red quarter drawn at the top left ends at the top right once turned clockwise
        red, grey = image.getpixel((image.width - 20, 20)), image.getpixel((20, 20))
        assert red[0] > 180 and red[1] < 80  # type: ignore[index]
        assert grey[0] == pytest.approx(200, abs=20)  # type: ignore[index]


def test_transparent_png_thumbnail_is_on_white() -> None:
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")

    with Image.open(io.BytesIO(thumbnail(io.BytesIO(out.getvalue()), size=50))) as thumb:
        assert thumb.size == (50, 50)
        assert thumb.getpixel((25, 25)) == pytest.approx((255, 255, 255), abs=3)


@pytest.mark.parametrize(
    ("data", "reason"),
    [(random_bytes(2048), "not-an-image"), (jpeg_bytes()[:5000], "truncated-image"), (bomb_png(), "image-too-large")],
    ids=["random", "truncated", "bomb"],
)
def test_thumbnail_refuses_what_inspection_refuses(data: bytes, reason: str) -> None:
    with pytest.raises(Rejected) as caught:
        thumbnail(io.BytesIO(data))

    assert caught.value.reason == reason


def test_inspection_leaves_the_file_at_its_start() -> None:
    source = io.BytesIO(jpeg_bytes())
    source.seek(100)

    inspect_photo(source, max_pixels=MAX_PIXELS)
    with pytest.raises(Rejected):
        inspect_photo(source, max_pixels=100)

    assert not source.closed  # Pillow's Image.close() would close it: the caller's file is the caller's
    assert source.tell() == 0
