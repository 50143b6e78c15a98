"""The console's files as the app serves them: a strict Content-Security-Policy, nothing from another origin, no
inline script, no way to put user text in as HTML, and only the page's own files (not the package's code)."""

import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.config import ConsoleSettings, Settings
from api.console import ROOT, security_headers
from api.main import create_app
from tests.factories import problem_type

OWN_SCRIPTS = sorted(ROOT.glob("*.js")) + sorted((ROOT / "js").glob("*.js"))
VENDOR = ROOT / "vendor"
# each row of vendor/README.md's tables: | `vendored file` | `from (inside the package)` | `sha256` |
PINNED = re.findall(
    r"^\| `([^`]+)` \| `[^`]+` \| `([0-9a-f]{64})` \|$", (VENDOR / "README.md").read_text(encoding="utf-8"), re.M
)


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[dict[str, str | None]] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.tags.append(dict(attrs))
            self._in_script = True
        if any(name.startswith("on") or name == "style" for name, _ in attrs):
            self.inline.append(f"{tag} {attrs}")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False if tag == "script" else self._in_script

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(data)


def test_the_page_is_served_with_a_strict_policy_and_no_inline_script(client: TestClient) -> None:
    page = client.get("/console/")

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self';" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy and page.headers["x-content-type-options"] == "nosniff"
    scripts = _Scripts()
    scripts.feed(page.text)
    assert scripts.tags == [{"type": "module", "src": "js/main.js"}] and scripts.inline == []
    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/"


@pytest.mark.parametrize("script", OWN_SCRIPTS, ids=lambda path: path.name)
def test_no_script_of_the_console_writes_html_or_names_another_origin(script: Path) -> None:
    code = script.read_text(encoding="utf-8")

    assert re.findall(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function", code) == []
    assert re.findall(r"https?://", code) == []
    assert re.findall(r"bindTooltip\(\s*[`\"']|bindPopup\(\s*[`\"']", code) == []  # Leaflet sets strings as HTML


def test_every_file_the_page_loads_is_served_and_the_package_code_is_not(client: TestClient) -> None:
    for path in ["js/main.js", "sw.js", "console.css", "favicon.svg", "vendor/leaflet/leaflet-src.esm.js",
                 "vendor/leaflet/leaflet.css", "vendor/chartjs/chart.umd.js", "vendor/shanghai-districts.geojson",
                 "config.json"]:  # fmt: skip
        answer = client.get(f"/console/{path}")
        assert answer.status_code == 200, path
        assert "content-security-policy" in answer.headers, path
    assert "javascript" in client.get("/console/js/main.js").headers["content-type"]
    for hidden in ["__init__.py", "vendor/decode_echarts_geojson.py", "nothing-here.js"]:
        answer = client.get(f"/console/{hidden}")
        assert answer.status_code == 404 and problem_type(answer) == "not-found", hidden


@pytest.mark.parametrize(("name", "sha256"), PINNED, ids=[name for name, _ in PINNED])
def test_each_vendored_file_is_the_one_the_vendor_readme_pins(name: str, sha256: str) -> None:
    assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == sha256


def test_the_vendor_readme_pins_every_vendored_library_file() -> None:
    pinned = {name for name, _ in PINNED}
    files = {path.relative_to(VENDOR).as_posix() for path in VENDOR.glob("*/**/*") if path.is_file()}

    assert files == pinned and {"leaflet/leaflet-src.esm.js", "chartjs/chart.umd.js"} <= pinned


def test_the_district_outlines_are_shanghais_sixteen_districts(client: TestClient) -> None:
    outlines = client.get("/console/vendor/shanghai-districts.geojson").json()

    names = {feature["properties"]["name"] for feature in outlines["features"]}
    assert len(names) == 16 and {"浦东新区", "黄浦区", "崇明区"} <= names
    points = [
        point
        for feature in outlines["features"]
        for polygon in (
            [feature["geometry"]["coordinates"]]
            if feature["geometry"]["type"] == "Polygon"
            else feature["geometry"]["coordinates"]
        )
        for ring in polygon
        for point in ring
    ]
    assert all(120.8 < lon < 122.1 and 30.6 < lat < 31.9 for lon, lat in points)


def test_a_tile_server_is_the_maps_basemap_and_the_only_other_origin_allowed(settings: Settings) -> None:
    tiles = ConsoleSettings(tile_url="https://tiles.agency.internal/osm/{z}/{x}/{y}.png", tile_attribution="© OSM")
    app = create_app(settings.model_copy(update={"console": tiles}))
    with TestClient(app) as client:
        config = client.get("/console/config.json").json()
        policy = client.get("/console/").headers["content-security-policy"]
    app.state.engine.dispose()

    assert config["tile_url"] == tiles.tile_url and config["tile_attribution"] == "© OSM"
    assert "img-src 'self' blob: https://tiles.agency.internal;" in policy
    assert "connect-src 'self';" in policy and "script-src 'self';" in policy
    assert "https://" not in security_headers(ConsoleSettings())["Content-Security-Policy"]


@pytest.mark.parametrize("url", ["tiles.example/{z}/{x}/{y}.png", "https://tiles.example/tile.png", "javascript:1"])
def test_a_tile_url_that_is_not_an_http_template_is_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        ConsoleSettings(tile_url=url)
