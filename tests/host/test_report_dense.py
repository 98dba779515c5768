"""The report of a dense, real-looking history (tests/dense_history.py: 15 months, a dose change every two to
four weeks, results below the lab's limit, a dozen symptoms) reads without stumbling: every label whole and
inside the picture, no text over a result or a dose line, tick labels apart, units as the lab gave them."""
import csv
import html.parser
import io
import itertools

import numpy as np
import pytest

import dense_history
from host_tools import export, report


@pytest.fixture(scope="module")
def dense(tmp_path_factory):
    db = dense_history.dense_db(tmp_path_factory.mktemp("dense") / "h.sqlite")
    data = report.gather(db, dense_history.DEVICE, today=dense_history.today())
    fig = report.build_figure(data)
    fig.canvas.draw()
    yield db, data, fig
    db.close()


def _panels(fig):
    return {ax.get_title(loc="left"): ax for ax in fig.axes if ax.get_title(loc="left")}


def test_every_label_is_whole_and_inside_the_picture(dense):
    _db, _data, fig = dense
    renderer = fig.canvas.get_renderer()
    width = fig.get_figwidth() * fig.dpi
    for title, ax in _panels(fig).items():
        box = ax.get_tightbbox(renderer)
        assert box.x0 >= 0 and box.x1 <= width, (title, box)
    symptoms = _panels(fig)["Symptoms (severity 0-3)"]
    longest = [t for t in symptoms.get_yticklabels() if t.get_text() == "reduced sense of well-being"]
    assert longest and longest[0].get_window_extent(renderer).x0 >= 0


def test_no_text_lies_over_a_result_or_a_dose_line(dense):
    _db, data, fig = dense
    renderer = fig.canvas.get_renderer()
    assert len(data.dose_changes) >= 25
    for title in ("Estradiol", "Total testosterone", "Hematocrit"):
        ax = _panels(fig)[title]
        marks = []
        for line in ax.get_lines():
            if line.get_gid() in ("series", "below_lloq"):
                marks.append(ax.transData.transform(
                    np.column_stack([ax.convert_xunits(line.get_xdata()), line.get_ydata()])))
        dose_x = [ax.transData.transform((segment[0][0], 0))[0]
                  for collection in ax.collections if collection.get_gid() == "dose"
                  for segment in collection.get_segments()]
        points = np.concatenate(marks)
        for text in ax.texts:
            box = text.get_window_extent(renderer).expanded(1.0, 1.0)
            assert not any(box.contains(x, y) for x, y in points), (title, text.get_text())
            assert not any(box.x0 <= x <= box.x1 for x in dose_x), (title, text.get_text())


def test_below_limit_results_are_named_beside_the_panel(dense):
    _db, _data, fig = dense
    ax = _panels(fig)["Estradiol"]
    assert "below the lab's limit: <5 pg/mL" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert not [t for t in ax.texts if t.get_text().startswith("<")]


def test_dose_panels_show_every_change_with_tick_labels_apart(dense):
    _db, data, fig = dense
    renderer = fig.canvas.get_renderer()
    for drug in ("anastrozole", "testosterone"):
        ax = _panels(fig)["%s dose" % drug.capitalize()]
        (changes,) = [line for line in ax.get_lines() if line.get_gid() == "dose_change"]
        assert len(changes.get_xdata()) == len([c for c in data.dose_changes if c[1] == drug])
        boxes = [t.get_window_extent(renderer) for t in ax.get_yticklabels() if t.get_text()
                 and ax.get_ylim()[0] <= t.get_position()[1] <= ax.get_ylim()[1]]
        assert len(boxes) >= 3
        for a, b in itertools.combinations(boxes, 2):
            assert not a.overlaps(b), drug
        assert max(amount for _when, amount in data.dose_steps[drug]) in set(ax.get_yticks())
    # every anastrozole dose taken is a tick of its own (0.25 mg steps fit)
    ticks = set(_panels(fig)["Anastrozole dose"].get_yticks())
    assert {0.25, 0.5, 0.75, 1.0} <= ticks


class _Cells(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self._in = [], False

    def handle_starttag(self, tag, attrs):
        self._in = tag == "td"

    def handle_endtag(self, tag):
        self._in = False

    def handle_data(self, data):
        if self._in:
            self.cells.append(data)


def test_html_gives_hematocrit_as_the_lab_did_and_updates_in_words(dense, tmp_path):
    db, _data, _fig = dense
    out = tmp_path / "r.html"
    report.render(db, dense_history.DEVICE, str(out), today=dense_history.today())
    parser = _Cells()
    parser.feed(out.read_text())
    row = parser.cells[parser.cells.index("HCT"):parser.cells.index("HCT") + 3]
    assert row[1].endswith(" %") and row[2] == "0.%s L/L" % row[1][:-2].replace(".", "")   # 55.1 % = 0.551
    update = "update to release 3 confirmed, from the version deployed over USB"
    assert update in parser.cells
    rows = list(csv.DictReader(io.StringIO(_csv(db))))
    assert update in [r["value"] for r in rows if r["name"] == "UPDATE"]


def _csv(db):
    out = io.StringIO()
    export.write_csv(db, dense_history.DEVICE, out)
    return out.getvalue()
