"""Decode an ECharts map file (``echarts.registerMap`` JS, or its JSON) into plain GeoJSON.

ECharts ships map outlines with ``UTF8Encoding: true``: each ring is a string of
zigzag-encoded coordinate deltas, started from the ring's ``encodeOffsets`` pair.
This mirrors ``decodeGeoJson`` in echarts' ``src/coord/geo/parseGeoJson.ts``.

The package's outlines are on AMap's GCJ-02 datum (their ``cp`` centres are AMap's); they are shifted to WGS-84,
the datum of every point fieldvisit stores, with the project's ``gcj02_to_wgs84`` (PyPI geocoordinates-rs).

Usage (from the repository root, in its venv):
python api/console/vendor/decode_echarts_geojson.py <input.js|input.json> <output.geojson>
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

DEFAULT_SCALE = 1024
DECIMALS = 6
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def _object_literal(text: str) -> str:
    """Return the first balanced ``{...}`` after ``registerMap(`` (or the whole text if it is JSON)."""
    anchor = text.find("registerMap(")
    start = text.find("{", anchor if anchor >= 0 else 0)
    if start < 0:
        raise ValueError("no object literal found")
    depth, i, quote = 0, start, ""
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
        i += 1
    raise ValueError("unbalanced object literal")


def _js_to_json(lit: str) -> str:
    """Turn a minified JS object literal (bare keys, ``!0``/``!1``, '...' strings) into JSON."""
    out: list[str] = []
    i = 0
    while i < len(lit):
        ch = lit[i]
        if ch in "\"'":
            j, buf = i + 1, []
            while lit[j] != ch:
                c = lit[j]
                if c == "\\":
                    nxt = lit[j + 1]
                    if nxt == "x":
                        buf.append("\\u00" + lit[j + 2 : j + 4])
                        j += 4
                        continue
                    buf.append("\\" + nxt if nxt in '"\\/bfnrtu' else nxt)
                    j += 2
                    continue
                buf.append('\\"' if c == '"' else c)
                j += 1
            out.append('"' + "".join(buf) + '"')
            i = j + 1
        elif lit.startswith("!0", i) or lit.startswith("!1", i):
            out.append("true" if lit[i + 1] == "0" else "false")
            i += 2
        elif (m := _IDENT.match(lit, i)) and not lit[i - 1 : i].isdigit():
            word = m.group()
            out.append(word if word in ("true", "false", "null") else json.dumps(word))
            i = m.end()
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def decode_ring(encoded: str, offset: list[int], scale: float) -> list[list[float]]:
    """Decode one ECharts-encoded ring into closed ``[lon, lat]`` points."""
    prev_x, prev_y = offset
    ring: list[list[float]] = []
    for i in range(0, len(encoded), 2):
        x = ord(encoded[i]) - 64
        y = ord(encoded[i + 1]) - 64
        x = (x >> 1) ^ (-(x & 1))
        y = (y >> 1) ^ (-(y & 1))
        x += prev_x
        y += prev_y
        prev_x, prev_y = x, y
        ring.append([round(x / scale, DECIMALS), round(y / scale, DECIMALS)])
    if ring and ring[0] != ring[-1]:
        ring.append(list(ring[0]))  # GeoJSON rings must be closed
    return ring


def decode(data: dict[str, Any]) -> dict[str, Any]:
    """Return a plain GeoJSON FeatureCollection for an ECharts map object."""
    encoded = bool(data.get("UTF8Encoding"))
    scale = float(data.get("UTF8Scale") or DEFAULT_SCALE)
    features: list[dict[str, Any]] = []
    for feat in data["features"]:
        geom = dict(feat["geometry"])
        offsets = geom.pop("encodeOffsets", None)
        geom_id = geom.pop("id", None)  # some files misplace the feature id inside geometry
        coords = geom["coordinates"]
        if encoded:
            if geom["type"] == "Polygon":
                coords = [decode_ring(r, o, scale) for r, o in zip(coords, offsets, strict=True)]
            elif geom["type"] == "MultiPolygon":
                coords = [
                    [decode_ring(r, o, scale) for r, o in zip(poly, poly_off, strict=True)]
                    for poly, poly_off in zip(coords, offsets, strict=True)
                ]
            else:
                raise ValueError(f"unsupported geometry type {geom['type']}")
        out: dict[str, Any] = {"type": "Feature"}
        if (fid := feat.get("id", geom_id)) is not None:
            out["id"] = fid
        out["properties"] = feat.get("properties", {})
        out["geometry"] = {"type": geom["type"], "coordinates": coords}
        features.append(out)
    return {"type": "FeatureCollection", "features": features}


def to_wgs84(collection: dict[str, Any]) -> dict[str, Any]:
    """Shift every outline point from GCJ-02 to WGS-84 (rounded as decoded)."""
    from api.addresses.geocoders import gcj02_to_wgs84

    def shift(ring: list[list[float]]) -> list[list[float]]:
        return [[round(lon, DECIMALS), round(lat, DECIMALS)] for lat, lon in (gcj02_to_wgs84(y, x) for x, y in ring)]

    for feature in collection["features"]:
        geometry = feature["geometry"]
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        shifted = [[shift(ring) for ring in polygon] for polygon in polygons]
        geometry["coordinates"] = shifted[0] if geometry["type"] == "Polygon" else shifted
    return collection


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    text = Path(argv[1]).read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = json.loads(_js_to_json(_object_literal(text)), strict=False)
    result = to_wgs84(decode(data))
    Path(argv[2]).write_text(json.dumps(result, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {len(result['features'])} features to {argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
