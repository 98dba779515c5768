"""The report picture: size, axes, the profile's bands, the plotted data, dose markers, flags."""
import matplotlib.dates as mdates
from PIL import Image

from host_tools import report
from host_tools.db import HostDB
from monitor import dates, profile_codec, records
from monitor import profile as P

START = dates.days_from_civil(2026, 3, 2)
E2 = [(START + 30, 450), (START + 60, 320), (START + 90, 150)]        # 45.0, 32.0, 15.0 pg/mL
TT = [(START + 30, 420), (START + 60, 650), (START + 90, 1100)]
HCT = [(START + 30, 480), (START + 90, 551)]                          # 48.0 %, 55.1 %
DOSES = [(START, 1000), (START + 7, 1000), (START + 35, 500), (START + 42, 500), (START + 65, 250)]


def build_db(tmp_path, profile=None):
    db = HostDB(str(tmp_path / "r.sqlite"))
    db.ensure_device("dev")
    if profile is not None:
        db.set_profile("dev", profile_codec.encode(profile))
    rows = []
    for day, value in DOSES:
        rows.append((day, 480, records.KIND_DOSE, records.D_ANASTROZOLE, value, 0))
    for code, series in ((records.A_E2, E2), (records.A_TT, TT), (records.A_HCT, HCT)):
        for day, value in series:
            rows.append((day, 540, records.KIND_LAB, code, value, records.METHOD_LCMS))
    rows.append((START + 85, 600, records.KIND_SYMPTOM, records.S_JOINT, 2, 0))
    rows.sort()
    db.store_records("dev", [(seq,) + r for seq, r in enumerate(rows)])
    return db


def axes_by_title(fig):
    return {ax.get_title(loc="left"): ax for ax in fig.axes if ax.get_title(loc="left")}


def band_extent(band):
    """(low, high) in data units of an axhspan (a Rectangle in axes-x, data-y coordinates)."""
    low = band.get_y()
    return (round(low, 6), round(low + band.get_height(), 6))


def gid_artists(ax, gid):
    return [a for a in ax.get_children() if a.get_gid() == gid]


def test_png_size_and_panels(tmp_path):
    db = build_db(tmp_path)
    out = str(tmp_path / "report.png")
    data = report.render(db, "dev", out, today=START + 95)
    with Image.open(out) as image:
        assert image.format == "PNG"
        assert image.size == (int(report.FIG_INCHES[0] * report.DPI), int(report.FIG_INCHES[1] * report.DPI))
        # Not a blank canvas: the plot has many colours.
        assert len(image.convert("RGB").getcolors(maxcolors=100000) or []) > 50
    assert data.count == len(DOSES) + len(E2) + len(TT) + len(HCT) + 1


def test_plotted_data_bands_and_markers(tmp_path):
    db = build_db(tmp_path)
    fig = report.build_figure(report.gather(db, "dev", today=START + 95))
    axes = axes_by_title(fig)
    assert set(axes) == {"Anastrozole dose", "Estradiol", "Total testosterone", "Hematocrit",
                         "Symptoms (severity 0-3)"}
    ax_e2 = axes["Estradiol"]
    (line,) = gid_artists(ax_e2, "series")
    assert [as_date(x) for x in line.get_xdata()] == [dates_of(d) for d, _ in E2]
    assert list(line.get_ydata()) == [45.0, 32.0, 15.0]
    assert "pg/mL" in ax_e2.get_ylabel()
    # The target band is the profile default (20-40 pg/mL), drawn as a span.
    (band,) = gid_artists(ax_e2, "band")
    assert band_extent(band) == (20.0, 40.0)
    (tt_band,) = gid_artists(axes["Total testosterone"], "band")
    assert band_extent(tt_band) == (500.0, 1000.0)
    (hct_line,) = gid_artists(axes["Hematocrit"], "series")
    assert list(hct_line.get_ydata()) == [48.0, 55.1]
    action = [a for a in gid_artists(axes["Hematocrit"], "threshold")]
    assert action and set(action[0].get_ydata()) == {54.0}
    # Results outside the band are ringed: E2 45 and 15, TT 420 and 1100, HCT 55.1.
    (rings,) = gid_artists(ax_e2, "out_of_band")
    assert sorted(v for _x, v in rings.get_offsets()) == [15.0, 45.0]
    (hct_rings,) = gid_artists(axes["Hematocrit"], "out_of_band")
    assert [v for _x, v in hct_rings.get_offsets()] == [55.1]
    # Dose changes only (1 mg, then 0.5 mg, then 0.25 mg), on every panel.
    (markers,) = gid_artists(ax_e2, "dose")
    xs = sorted(as_date(segment[0][0]) for segment in markers.get_segments())
    assert xs == [dates_of(START), dates_of(START + 35), dates_of(START + 65)]
    assert len(gid_artists(axes["Hematocrit"], "dose")) == 1
    # The amounts are a step line in the dose panel (1 mg, 0.5 mg, 0.25 mg), never text over the results.
    (steps,) = gid_artists(axes["Anastrozole dose"], "dose_step")
    assert list(steps.get_ydata()[:3]) == [1.0, 0.5, 0.25]
    assert [t.get_gid() for t in ax_e2.texts] == ["threshold_label"]
    # The summary lists the flags in plain words (E2 15 pg/mL with joint pain).
    summary = [t for t in fig.texts + [t for ax in fig.axes for t in ax.texts] if t.get_gid() == "summary"]
    text = summary[0].get_text()
    assert "Estradiol 15 pg/mL" in text and "clinician" in text


def test_bands_follow_the_device_profile(tmp_path):
    profile = P.Profile()
    profile_codec.set_param(profile, "E2_TARGET_LOW", 250)
    profile_codec.set_param(profile, "E2_TARGET_HIGH", 350)
    db = build_db(tmp_path, profile)
    fig = report.build_figure(report.gather(db, "dev", today=START + 95))
    (band,) = gid_artists(axes_by_title(fig)["Estradiol"], "band")
    assert band_extent(band) == (25.0, 35.0)


def test_html_report_embeds_picture_and_flags(tmp_path):
    db = build_db(tmp_path)
    out = tmp_path / "report.html"
    data = report.render(db, "dev", str(out), today=START + 95)
    page = out.read_text()
    assert "data:image/png;base64,iVBOR" in page
    assert data.flags and all(f.split("]")[1].strip()[:30].replace("&", "&amp;") in page for f in data.flags)
    assert "anastrozole" in page and "never gives dosing" in page
    # Latest results as the tracker saw them, in both unit systems.
    assert "<td>E2</td><td>15 pg/mL</td><td>55.07 pmol/L</td>" in page
    assert "<td>HCT</td><td>55.1 %</td>" in page


def as_date(x):
    import datetime
    return x if isinstance(x, datetime.date) else mdates.num2date(x).date()


def dates_of(day):
    import datetime
    return datetime.date(2000, 1, 1) + datetime.timedelta(days=day)


def test_labels_with_dollar_signs_render_plain(tmp_path):
    db = build_db(tmp_path)
    label = r"a$\frac{1}{0}$b"
    db.set_label("dev", label)
    for name in ("report.png", "report.html"):
        data = report.render(db, "dev", str(tmp_path / name), today=START + 95)
    fig = report.build_figure(data)
    assert label in fig._suptitle.get_text() and not fig._suptitle.get_parse_math()


def test_patient_entered_results_are_marked(tmp_path):
    db = build_db(tmp_path)
    # one E2 the clinic entered (records.FLAG_CLINIC, set by the device in a clinician session), the rest not
    db.store_records("dev", [(100, START + 92, 540, records.KIND_LAB, records.A_E2, 300,
                              records.METHOD_LCMS | records.FLAG_CLINIC)])
    out = tmp_path / "report.html"
    data = report.render(db, "dev", str(out), today=START + 95)
    ax_e2 = axes_by_title(report.build_figure(data))["Estradiol"]
    marked = gid_artists(ax_e2, "patient_reported")
    assert len(marked) == 1 and len(marked[0].get_offsets()) == len(E2)   # the clinic's result is not marked
    assert "<td>E2</td><td>30 pg/mL</td><td>110.13 pmol/L</td><td>2026-06-02</td><td>LC-MS/MS</td><td>clinic</td>" \
        in out.read_text()
    assert "<td>patient</td>" in out.read_text()
