"""The report as a clinician reads it: a time axis over the therapy's real dates, lines in date order,
legends beside the points, symptoms with their severity, a labelled severe line, "<" results, and an
HTML page that says each thing once."""
import base64
import datetime
import html.parser
import io

import numpy as np
from PIL import Image

from host_tools import report
from host_tools.db import HostDB
from monitor import dates, records

START = dates.days_from_civil(2026, 3, 2)
TODAY = START + 175
FUTURE = dates.days_from_civil(2179, 5, 1)      # a clock that was wrong, later set back
LLOQ = records.FLAG_BELOW_LLOQ | records.METHOD_IMMUNOASSAY
# E2 in the order it was entered (seq order): the result of day 60 came in late; day 100 is "<24 pg/mL";
# 90 pg/mL at the right end sits where a legend in the upper right corner would be.
E2 = [(START + 30, 450, 0), (START + 90, 150, 0), (START + 60, 320, 0), (START + 100, 240, LLOQ),
      (START + 130, 520, 0), (START + 165, 900, 0), (START + 170, 880, 0)]
SYMPTOMS = [(START + 40, records.S_JOINT, 1), (START + 85, records.S_JOINT, 2), (START + 110, records.S_JOINT, 0),
            (START + 92, records.S_FATIGUE, 3), (START + 150, records.S_GYNO, 2)]


def day(d):
    return datetime.date(2000, 1, 1) + datetime.timedelta(days=d)


def build_db(tmp_path, clock_trouble=True):
    db = HostDB(str(tmp_path / "r.sqlite"))
    db.ensure_device("dev")
    rows = []
    if clock_trouble:
        rows += [(0, 10, records.KIND_EVENT, records.EVENT_SYNC_MARK, 5, 0),       # pulled before time-sync
                 (0, 11, records.KIND_EVENT, records.EVENT_CLOCK_SET, 3600, 0),
                 (FUTURE, 600, records.KIND_LAB, records.A_E2, 330, 0),
                 (FUTURE, 601, records.KIND_DOSE, records.D_ANASTROZOLE, 500, 0)]
    for d, value in ((START, 1000), (START + 35, 500), (START + 65, 250)):
        rows.append((d, 480, records.KIND_DOSE, records.D_ANASTROZOLE, value, 0))
    for d, value, flags in E2:
        rows.append((d, 540, records.KIND_LAB, records.A_E2, value, flags))
    for d, value in ((START + 30, 420), (START + 165, 1180)):
        rows.append((d, 540, records.KIND_LAB, records.A_TT, value, 0))
    for d, value in ((START + 30, 480), (START + 170, 560)):
        rows.append((d, 540, records.KIND_LAB, records.A_HCT, value, 0))
    for d, code, severity in SYMPTOMS:
        rows.append((d, 600, records.KIND_SYMPTOM, code, severity, 0))
    db.store_records("dev", [(seq,) + row for seq, row in enumerate(rows)])
    return db


def figure(tmp_path, clock_trouble=True):
    data = report.gather(build_db(tmp_path, clock_trouble), "dev", today=TODAY)
    return data, report.build_figure(data)


def panels(fig):
    return {ax.get_title(loc="left"): ax for ax in fig.axes if ax.get_title(loc="left")}


def gid(ax, name):
    return [a for a in ax.get_children() if a.get_gid() == name]


def as_date(x):
    import matplotlib.dates as mdates
    return x if isinstance(x, datetime.date) else mdates.num2date(x).date()


def test_time_axis_covers_the_therapy_and_impossible_dates_are_listed_apart(tmp_path):
    data, fig = figure(tmp_path)
    low, high = (as_date(x) for x in panels(fig)["Estradiol"].get_xlim())
    # Neither the sync mark of 2000-01-01 nor the results "from 2179" stretch the axis.
    span = TODAY - START
    assert day(START - span // 4) <= low <= day(START) and day(TODAY) <= high <= day(TODAY + 14)
    assert [d for d, _ in data.impossible] == [FUTURE, FUTURE]
    assert data.impossible[0][1] == "E2 33 pg/mL"
    summary = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == "summary"][0]
    assert "2 records dated after" in summary and "2179-05-01 E2 33 pg/mL" in summary
    # ... and kept out of what the rules read: the latest E2 is the real one of day 170.
    assert [row[1:4:2] for row in data.latest if row[0] == "E2"] == [("88 pg/mL", day(START + 170))]
    assert any("88 pg/mL" in f and "E2_SEVERE" in f for f in data.flags)


def test_each_line_joins_its_points_in_date_order(tmp_path):
    data, fig = figure(tmp_path)
    for title, ax in panels(fig).items():
        for line in gid(ax, "series"):
            xs = [as_date(x) for x in line.get_xdata()]
            assert xs == sorted(xs), title
    (line,) = gid(panels(fig)["Estradiol"], "series")
    assert [as_date(x) for x in line.get_xdata()] == sorted(day(d) for d, _, _ in E2)
    assert list(line.get_ydata()) == [45.0, 32.0, 15.0, 24.0, 52.0, 90.0, 88.0]


def test_no_legend_covers_a_point(tmp_path):
    _, fig = figure(tmp_path, clock_trouble=False)
    fig.canvas.draw()   # Agg: lays the legends out
    checked = 0
    for title, ax in panels(fig).items():
        legend = ax.get_legend()
        if title.endswith(" dose"):   # a step line and its axis: no legend to cover anything
            assert legend is None
            continue
        assert legend is not None, title
        box = legend.get_window_extent()
        points = []
        for line in ax.get_lines():
            if line.get_gid() in ("series", "below_lloq"):
                xy = np.column_stack([ax.convert_xunits(line.get_xdata()), line.get_ydata()])
                points.append(ax.transData.transform(xy))
        for collection in ax.collections:
            if collection.get_gid() in ("out_of_band", "symptom"):
                points.append(ax.transData.transform(collection.get_offsets()))
        for xy in np.concatenate(points):
            assert not box.contains(*xy), "%s: legend over the point at %s" % (title, xy)
            checked += 1
    assert checked >= len(E2) + len(SYMPTOMS)


def test_symptoms_with_their_severity_over_time(tmp_path):
    data, fig = figure(tmp_path)
    ax = panels(fig)["Symptoms (severity 0-3)"]
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows == ["joint pain", "fatigue", "breast enlargement"]
    drawn = set()
    for collection in gid(ax, "symptom"):
        severity = int(collection.get_label().split()[-1])
        for x, y in collection.get_offsets():
            drawn.add((as_date(x), rows[int(y)], severity))
    words = {records.S_JOINT: "joint pain", records.S_FATIGUE: "fatigue", records.S_GYNO: "breast enlargement"}
    assert drawn == {(day(d), words[code], severity) for d, code, severity in SYMPTOMS}
    # A bigger marker for a worse symptom.
    sizes = {int(c.get_label().split()[-1]): c.get_sizes()[0] for c in gid(ax, "symptom")}
    assert sizes[0] < sizes[1] < sizes[2] < sizes[3]


def test_the_severe_line_is_labelled(tmp_path):
    _, fig = figure(tmp_path)
    ax = panels(fig)["Estradiol"]
    labels = [t for t in gid(ax, "threshold_label") if t.xy[1] == 80.0]
    assert labels and labels[0].get_text() == "severe above 80 pg/mL"
    assert "severe above 80 pg/mL" in [t.get_text() for t in ax.get_legend().get_texts()]
    # The label sits left of the first record, so it covers no point.
    fig.canvas.draw()
    box = labels[0].get_window_extent()
    first = ax.transData.transform([(ax.convert_xunits(day(START)), 80.0)])[0]
    assert box.x1 < first[0]


def test_results_below_the_limit_are_drawn_as_less_than(tmp_path):
    _, fig = figure(tmp_path)
    ax = panels(fig)["Estradiol"]
    (marks,) = gid(ax, "below_lloq")
    assert marks.get_marker() == "$<$"
    assert [(as_date(x), y) for x, y in zip(marks.get_xdata(), marks.get_ydata(), strict=True)] == [
        (day(START + 100), 24.0)]
    # The limit is named in the legend beside the panel, not written over the neighbouring points.
    assert "below the lab's limit: <24 pg/mL" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert not [t for t in ax.texts if "<" in t.get_text()]
    # The line's round markers are on measured results only.
    (line,) = gid(ax, "series")
    assert 3 not in list(line.get_markevery())


class Page(html.parser.HTMLParser):
    """Headings, the header cells and rows of the table after each heading, list items, the image."""

    def __init__(self):
        super().__init__()
        self.section, self.tables, self.items, self.image, self._cell, self._tag = None, {}, [], None, None, None

    def handle_starttag(self, tag, attrs):
        self._tag = tag
        if tag == "img":
            self.image = dict(attrs)["src"]
        elif tag == "tr" and self.section:
            self.tables.setdefault(self.section, []).append([])
        elif tag in ("th", "td", "li"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self.section in self.tables:
            self.tables[self.section][-1].append(self._cell)
        elif tag == "li":
            self.items.append(self._cell)
        if tag in ("th", "td", "li"):
            self._cell = None

    def handle_data(self, text):
        if self._tag == "h2" and self._cell is None:
            self.section = text
        if self._cell is not None:
            self._cell += text


def html_page(tmp_path):
    db = build_db(tmp_path)
    out = tmp_path / "r.html"
    data = report.render(db, "dev", str(out), today=TODAY)
    page = Page()
    page.feed(out.read_text())
    return data, page, out.read_text()


def test_html_dose_table_has_a_header(tmp_path):
    _, page, _ = html_page(tmp_path)
    header, *rows = page.tables["Dose changes"]
    assert header == ["date", "drug", "new dose"]
    assert rows[0] == [str(day(START)), "anastrozole", "1 mg"] and len(rows) == 3
    assert page.tables["Symptoms"][0][:2] == ["symptom", "latest severity"]
    assert page.tables["Latest results"][1][:2] == ["E2", "88 pg/mL"]
    impossible = page.tables["Records with impossible dates"]
    assert impossible[1:] == [["2179-05-01", "E2 33 pg/mL"], ["2179-05-01", "anastrozole 0.5 mg"]]


def test_html_says_each_flag_once(tmp_path):
    data, page, text = html_page(tmp_path)
    assert data.flags
    for flag in data.flags:
        assert page.items.count(flag) == 1
        assert text.count(flag.split("]")[1][:40].replace("&", "&amp;")) == 1
    # The picture in the page is the one without the flag list (it would say each flag a second time).
    embedded = Image.open(io.BytesIO(base64.b64decode(page.image.split(",", 1)[1])))
    bare = report.build_figure(data, with_summary=False)
    assert not [t for ax in bare.axes for t in ax.texts if t.get_gid() == "summary"]
    buf = io.BytesIO()
    bare.savefig(buf, format="png")
    assert np.array_equal(np.asarray(embedded), np.asarray(Image.open(buf)))


def test_html_shows_a_result_below_the_limit_with_its_less_than(tmp_path):
    db = build_db(tmp_path)
    db.store_records("dev", [(100, START + 172, 600, records.KIND_LAB, records.A_E2, 240, LLOQ)])
    out = tmp_path / "r.html"
    report.render(db, "dev", str(out), today=TODAY)
    page = Page()
    page.feed(out.read_text())
    assert page.tables["Latest results"][1][:3] == ["E2", "<24 pg/mL", "<88.1 pmol/L"]


def test_dose_changes_include_a_stop_and_a_new_frequency(tmp_path):
    db = HostDB(str(tmp_path / "d.sqlite"))
    db.ensure_device("dev")
    rows = [(d, 480, records.KIND_DOSE, records.D_ANASTROZOLE, 500, 0) for d in range(START, START + 56)
            if (d - START) % 7 in (0, 3)]                                     # twice a week
    rows += [(d, 480, records.KIND_DOSE, records.D_ANASTROZOLE, 500, 0) for d in range(START + 56, START + 70)]
    rows.append((START + 80, 480, records.KIND_DOSE, records.D_ANASTROZOLE, 0, 0))   # stopped
    db.store_records("dev", [(seq,) + row for seq, row in enumerate(rows)])
    data = report.gather(db, "dev", today=START + 90)
    assert [(d[0], d[2]) for d in data.dose_changes] == [
        (day(START), "0.5 mg"), (day(START + 58), "0.5 mg, new frequency"), (day(START + 80), "stopped")]
