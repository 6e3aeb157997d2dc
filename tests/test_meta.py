"""Report metadata: agency, reporting year, publication date, place, narrative request count."""

from __future__ import annotations

import pytest

from gknb.extractors import extract_file
from gknb.extractors.document import Document, Paragraph
from gknb.extractors.meta import extract_meta, resolve_region


def meta_of(*lines, title=None):
    d = Document("t", "text", [Paragraph(text, i + 1) for i, text in enumerate(lines)], title=title)
    return extract_meta(d, None)


@pytest.mark.parametrize("rel, agency, year, published, place", [
    ("seeds/000_1a488c694ce6abfd.txt", "银川市兴庆区解放西街街道办事处", 2020, "2021-01-25", ("宁夏回族自治区", "银川市", "兴庆区")),
    ("seeds/001_b39e880f26e76352.txt", "西工区凯旋东路街道办事处", 2020, None, ("河南省", "洛阳市", "西工区")),
    ("seeds/002_33e9445466d7bd01.txt", "兴庆区信访局", 2020, None, ("宁夏回族自治区", "银川市", "兴庆区")),
    ("seeds/003_8faff2b7f5fbbbed.txt", "兴庆区民政局", 2019, None, ("宁夏回族自治区", "银川市", "兴庆区")),
    ("seeds/004_f91fd63a8d753a03.txt", "红旗区西街街道办事处", 2023, None, ("河南省", "新乡市", "红旗区")),
    ("markdown/shanghai_office_2025.md", "上海市人民政府办公厅", 2025, None, ("上海市", "上海市", None)),
])
def test_meta_of_the_text_reports(samples, rel, agency, year, published, place):
    m = extract_file(samples / rel).meta
    assert (m.agency, m.year, m.published) == (agency, year, published)
    assert (m.province, m.city, m.district) == place


def test_title_over_two_lines_and_year_first():
    assert (meta_of("兴庆区民政局", "2019 年政府信息公开工作年度报告").agency) == "兴庆区民政局"
    m = meta_of("2025 年上海市人民政府办公厅政府信息公开", "工作年度报告")
    assert (m.agency, m.year) == ("上海市人民政府办公厅", 2025)


def test_year_is_the_reporting_year_not_the_publication_year():
    m = meta_of("淮安市人民政府2020年度政府信息公开工作年度报告", "正文", "淮安市人民政府", "2021年1月25日")
    assert (m.year, m.published) == (2020, "2021-01-25")
    # no year in the title: the 统计期限
    m = meta_of("某某局政府信息公开工作年度报告", "本报告中所列数据统计期限为2025年1月1日至12月31日。")
    assert m.year == 2025


def test_signature_names_the_agency_when_the_title_does_not():
    m = meta_of("政府信息公开工作年度报告", "正文……", "兴庆区信访局", "2021年1月25日")
    assert (m.agency, m.published, m.district) == ("兴庆区信访局", "2021-01-25", "兴庆区")


def test_published_line_and_html_title():
    m = meta_of("正文", "发布时间: 2022-02-08", title="洪泽区人民政府2021年政府信息公开工作年度报告")
    assert (m.agency, m.year, m.published) == ("洪泽区人民政府", 2021, "2022-02-08")


@pytest.mark.parametrize("agency, place", [
    ("兴庆区信访局", ("宁夏回族自治区", "银川市", "兴庆区", "640104")),
    ("淮安市人民政府", ("江苏省", "淮安市", None, "320800")),        # city level: district null
    ("洪泽区人民政府", ("江苏省", "淮安市", "洪泽区", "320813")),
    ("鼓楼区人民政府", (None, None, None, None)),                   # four cities have a 鼓楼区
    ("福州市鼓楼区人民政府", ("福建省", "福州市", "鼓楼区", "350102")),
    ("平潭综合实验区管理委员会", ("福建省", "福州市", "平潭县", "350128")),  # schemas/region_aliases.yaml
    ("测试市", (None, None, None, None)),
])
def test_region_resolution_never_guesses(agency, place):
    r = resolve_region(agency)
    assert (r["province"], r["city"], r["district"], r["adcode"]) == place


def test_narrative_request_count():
    m = meta_of("某区民政局2023年政府信息公开工作年度报告", "2023年，全年共收到政府信息公开申请21件，均已按时答复。")
    assert m.narrative_requests == 21
    assert meta_of("某区民政局2023年政府信息公开工作年度报告", "本年度未发生行政复议。").narrative_requests is None


def test_markdown_narrative_wrapped_over_lines(samples):
    # `市政府共受理政府信息公开申请 1295 件` in the Markdown report
    assert extract_file(samples / "markdown" / "shanghai_office_2025.md").meta.narrative_requests == 1295


def test_title_variants():
    m = meta_of("北京市朝阳区人民政府关于2020年政府信息公开工作年度报告")
    assert (m.agency, m.year) == ("北京市朝阳区人民政府", 2020)
    m = meta_of("某某县民政局二〇二一年度政府信息公开工作报告", "某某县民政局", "2022-01-20")
    assert (m.agency, m.year, m.published) == ("某某县民政局", 2021, "2022-01-20")


def test_agency_without_breadcrumbs_or_cover_letter():
    assert meta_of("首页 > 政务公开 > 兴庆区民政局2020年政府信息公开工作年度报告").agency == "兴庆区民政局"
    m = meta_of("淮安市人民政府办公室关于印发淮安市2024年政府信息公开工作年度报告的通知")
    assert (m.agency, m.year) == ("淮安市", 2024)
