"""The divisions an address starts with: full and short names, inferred parents, municipalities, shared names."""

import re

import pytest

from api.rules import divisions

GOES_ON = re.compile("[东南西北中]?路|公园|火车站")  # the grader's is longer; enough to show the rule
SHANGHAI_DISTRICTS = ("310113", "310107")  # 宝山区, 普陀区: the home branch's


def head(text: str) -> tuple[str | None, str | None, str | None, str, str] | None:
    found = divisions.read_head(text, 0, goes_on=GOES_ON, preferred=SHANGHAI_DISTRICTS)
    return None if found is None else (found.province, found.city, found.district, found.adcode, text[found.end :])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("上海市浦东新区银城中路", ("上海市", "上海市", "浦东新区", "310115", "银城中路")),
        ("上海浦东银城中路", ("上海市", "上海市", "浦东新区", "310115", "银城中路")),
        ("上海市", ("上海市", None, None, "310000", "")),
        ("浦东新区", ("上海市", "上海市", "浦东新区", "310115", "")),
        ("内蒙古呼和浩特市新城区", ("内蒙古自治区", "呼和浩特市", "新城区", "150102", "")),
        ("内蒙古自治区兴安盟乌兰浩特市", ("内蒙古自治区", "兴安盟", "乌兰浩特市", "152201", "")),
        ("延边州延吉市", ("吉林省", "延边朝鲜族自治州", "延吉市", "222401", "")),
        ("阿克苏地区库车市", ("新疆维吾尔自治区", "阿克苏地区", "库车市", "652902", "")),
        ("重庆石柱县", ("重庆市", "重庆市", "石柱土家族自治县", "500240", "")),
        ("广州天河区", ("广东省", "广州市", "天河区", "440106", "")),
        ("江苏省昆山市前进路", ("江苏省", "苏州市", "昆山市", "320583", "前进路")),  # from the district up
        ("湖北省仙桃市", ("湖北省", "仙桃市", "仙桃市", "429004", "")),  # a county its province governs
        ("吉林吉林市", ("吉林省", "吉林市", None, "220200", "")),  # 吉林 alone is the province
        ("宝山区友谊路", ("上海市", "上海市", "宝山区", "310113", "友谊路")),  # shared, the home branch's
        ("黑龙江省双鸭山市宝山区", ("黑龙江省", "双鸭山市", "宝山区", "230506", "")),
        ("北京市朝阳区建国路", ("北京市", "北京市", "朝阳区", "110105", "建国路")),
        ("辽宁省铁西区", ("辽宁省", None, None, "210000", "铁西区")),  # 沈阳 and 鞍山 both have one
        ("杭州市下城区", ("浙江省", "杭州市", None, "330100", "下城区")),  # merged into 拱墅区 in 2021
    ],
)
def test_the_divisions_at_the_head_of_an_address(text: str, expected: tuple[str | None, ...]) -> None:
    assert head(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "朝阳区建国路",  # 北京 and 长春: no city says which
        "南京东路100号",  # a road named after a city
        "中山公园",
        "浦东南路",  # a district's short name needs a coarser one before it
        "莲花国际广场",
        "同上",
    ],
)
def test_no_division_where_the_head_names_none_or_an_ambiguous_one(text: str) -> None:
    assert head(text) is None


def test_centres_are_of_today_s_districts() -> None:
    lat, lon = divisions.centre("310115") or (0.0, 0.0)

    assert 30.9 < lat < 31.3 and 121.5 < lon < 121.9  # 浦东新区
    assert divisions.centre("330103") is None  # 下城区, merged away
