"""The clinician's picture: estradiol and testosterone over time with the profile's
target bands, hematocrit with its action level, dose changes as markers, and the
active flags and due reminders in plain words.

Bands and thresholds are the profile's (the device's profile when pulled, else
`monitor.rules` defaults); flags and reminders come from `monitor.tracker`
replaying the stored log, so the host shows exactly what the device computes.

- `gather(db, device_id, today=None) -> ReportData`
- `build_figure(data) -> matplotlib Figure` (Agg, no display needed)
- `render(db, device_id, out_path, today=None) -> ReportData` (.png or .html by extension)
"""
import base64
import datetime
import html
import io
import os
import textwrap

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from host_tools import alert_text  # noqa: E402
from host_tools.export import EPOCH, catalog, day_date, display_value, lab_method  # noqa: E402
from monitor import records, rules  # noqa: E402

FIG_INCHES = (11.0, 8.5)
DPI = 100
E2, TT, HCT = (records.ANALYTES.index(name) for name in ("E2", "TT", "HCT"))
COLORS = {"anastrozole": "#b03a2e", "testosterone": "#1f618d"}


class ReportData:
    def __init__(self, device_id):
        self.device_id = device_id
        self.series = {}        # analyte code -> ([date], [float value in stored unit])
        self.dose_changes = []  # (date, drug name, dose text)
        self.flags = []         # plain-words lines
        self.reminders = []     # plain-words lines
        self.bands = {}         # name -> number, from the profile
        self.latest = []        # (analyte name, value text, SI text or "", date, method) per analyte with a result
        self.first = self.last = None
        self.today = None
        self.count = 0


def today_day():
    return (datetime.date.today() - EPOCH).days


def load_profile(db, device_id):
    info = db.device(device_id) or {}
    if info.get("profile"):
        try:
            return rules.Profile.decode(bytes(info["profile"]))
        except Exception:
            pass  # a profile the host cannot read: fall back to defaults (shown in the title)
    return rules.Profile()


def gather(db, device_id, today=None):
    from host_tools.settings import device_title
    from monitor.tracker import Tracker

    data = ReportData(device_id)
    data.device_id = device_title(device_id, db.label(device_id))   # what the titles show: the label first
    profile = load_profile(db, device_id)
    tracker = Tracker(profile)
    last_dose = {}
    wanted = (E2, TT, HCT)
    for code in wanted:
        data.series[code] = ([], [])
    lab, dose = records.KIND_LAB, records.KIND_DOSE
    for seq, day, minute, kind, code, value, flags in db.records(device_id):
        tracker.apply(seq, day, minute, kind, code, value, flags)
        data.count += 1
        if data.first is None or day < data.first:
            data.first = day
        if data.last is None or day > data.last:
            data.last = day
        if kind == lab and code in data.series:
            dates, values = data.series[code]
            dates.append(day_date(day))
            values.append(float(display_value(kind, code, value)))
        elif kind == dose and last_dose.get(code) != value:
            entry = catalog(kind, code)
            last_dose[code] = value
            data.dose_changes.append((day_date(day), entry.name, records.format_value(kind, code, value)))
    data.today = today_day() if today is None else today
    data.flags = [alert_text.flag_line(f) for f in tracker.flags(data.today)]
    data.reminders = [alert_text.reminder_line(r) for r in tracker.reminders(data.today) if alert_text.is_due(r)]
    data.bands = plot_bands(profile)
    for code in range(len(records.ANALYTES)):
        latest = tracker.latest(code)   # the tracker's own view: what the rules evaluated
        if latest is not None:
            value, day, flags = latest
            shown = records.format_value(records.KIND_LAB, code, value)
            if flags & records.FLAG_BELOW_LLOQ:
                shown = "< " + shown
            data.latest.append((records.ANALYTES[code], shown, records.format_lab_si(code, value) or "",
                                day_date(day), lab_method(flags)))
    return data


def plot_bands(profile):
    """The profile's thresholds the picture draws, in the plotted (conventional) units."""
    def lab(name, analyte):
        return float(display_value(records.KIND_LAB, analyte, profile.get(name)))

    return {"e2_low": lab("E2_TARGET_LOW", E2), "e2_high": lab("E2_TARGET_HIGH", E2),
            "e2_severe": lab("E2_SEVERE", E2), "tt_low": lab("TT_TARGET_LOW", TT),
            "tt_high": lab("TT_TARGET_HIGH", TT), "hct_action": lab("HCT_HIGH", HCT)}


def _band(ax, low, high, label):
    if low is not None and high is not None:
        ax.axhspan(low, high, color="#2e8b57", alpha=0.15, label=label, gid="band")


MAX_DOSE_LABELS = 16


def _dose_markers(ax, data, with_labels):
    """Every dose change as a dotted vertical line (one collection per drug); labels only where they fit."""
    by_drug = {}
    for when, drug, _text in data.dose_changes:
        by_drug.setdefault(drug, []).append(when)
    for drug, whens in by_drug.items():
        ax.vlines(whens, 0, 1, transform=ax.get_xaxis_transform(), colors=COLORS.get(drug, "#555555"),
                  linestyles=":", linewidth=1.2, gid="dose", label="%s change" % drug if with_labels else None)
    if not with_labels or not data.dose_changes:
        return
    # Label the most recent changes, at least span/MAX_DOSE_LABELS days apart so the text stays legible.
    span = max(1, (data.dose_changes[-1][0] - data.dose_changes[0][0]).days)
    gap = span / MAX_DOSE_LABELS
    same_day = {}
    for when, drug, text in data.dose_changes:
        same_day.setdefault(when, []).append((drug, text))
    last = None
    for when in sorted(same_day, reverse=True):
        if last is not None and (last - when).days < gap:
            continue
        last = when
        changes = same_day[when]
        ax.annotate("\n".join("%s %s" % change for change in changes), xy=(when, 1.0),
                    xycoords=("data", "axes fraction"), xytext=(2, -2), textcoords="offset points",
                    rotation=90, va="top", fontsize=7, color=COLORS.get(changes[0][0], "#555555"),
                    gid="dose_label")


def _series(ax, data, code, color, low=None, high=None, out_label="outside target"):
    dates, values = data.series[code]
    entry = catalog(records.KIND_LAB, code)
    if dates:
        ax.plot(dates, values, marker="o", markersize=4, color=color, linewidth=1.5, gid="series",
                label=entry.name)
        # Results outside the band stand out (red rings) without reading numbers.
        out = [(d, v) for d, v in zip(dates, values, strict=True)
               if (low is not None and v < low) or (high is not None and v > high)]
        if out:
            ax.scatter([d for d, _ in out], [v for _, v in out], s=60, facecolors="none",
                       edgecolors="#c0392b", linewidths=1.5, zorder=5, gid="out_of_band",
                       label=out_label)
    else:
        ax.text(0.5, 0.5, "no %s results stored" % entry.name, transform=ax.transAxes, ha="center",
                color="#888888")
    ax.set_ylabel("%s (%s)" % (entry.name, entry.unit))
    ax.grid(True, alpha=0.3)


def build_figure(data):
    fig = Figure(figsize=FIG_INCHES, dpi=DPI)
    grid = fig.add_gridspec(4, 1, height_ratios=(3, 3, 2, 2), hspace=0.35)
    ax_e2 = fig.add_subplot(grid[0])
    ax_tt = fig.add_subplot(grid[1], sharex=ax_e2)
    ax_hct = fig.add_subplot(grid[2], sharex=ax_e2)
    ax_text = fig.add_subplot(grid[3])
    b = data.bands

    _band(ax_e2, b["e2_low"], b["e2_high"], "E2 target %g-%g" % (b["e2_low"], b["e2_high"]))
    ax_e2.axhline(b["e2_severe"], color="#b03a2e", linestyle="--", linewidth=0.8, gid="threshold")
    _series(ax_e2, data, E2, "#6c3483", b["e2_low"], b["e2_high"])
    ax_e2.set_title("Estradiol", loc="left", fontsize=10)
    _dose_markers(ax_e2, data, True)

    _band(ax_tt, b["tt_low"], b["tt_high"], "TT target %g-%g" % (b["tt_low"], b["tt_high"]))
    _series(ax_tt, data, TT, "#1f618d", b["tt_low"], b["tt_high"])
    ax_tt.set_title("Total testosterone", loc="left", fontsize=10)
    _dose_markers(ax_tt, data, False)

    ax_hct.axhline(b["hct_action"], color="#b03a2e", linestyle="--", linewidth=1.0, gid="threshold",
                   label="action level %g %%" % b["hct_action"])
    _series(ax_hct, data, HCT, "#7e5109", None, b["hct_action"] - 1e-9, "at or above action level")
    ax_hct.set_title("Hematocrit", loc="left", fontsize=10)
    _dose_markers(ax_hct, data, False)
    for ax in (ax_e2, ax_tt, ax_hct):
        ax.margins(y=0.12)   # points on a threshold line stay visible
        ax.legend(loc="upper right", fontsize=7)
    if data.first is not None:
        ax_e2.set_xlim(day_date(data.first - 7), day_date(max(data.last, data.today) + 7))

    ax_text.axis("off")
    ax_text.text(0.0, 1.0, "\n".join(summary_lines(data)), va="top", ha="left", fontsize=7.5,
                 family="monospace", transform=ax_text.transAxes, gid="summary")
    fig.subplots_adjust(top=0.93, bottom=0.02, left=0.08, right=0.97)
    fig.suptitle("e2mon %s - %d records, as of %s" % (data.device_id, data.count, day_date(data.today)),
                 fontsize=11)
    return fig


def summary_lines(data, width=150, limit=13):
    """Flags and due reminders, wrapped to the picture's width; the rest counted, never silently cut."""
    lines = ["Flags (discuss with your clinician):"]
    for text in data.flags or ["none"]:
        lines += textwrap.wrap(text, width, initial_indent="  - ", subsequent_indent="    ")
    lines.append("Due reminders:")
    for text in data.reminders or ["none"]:
        lines += textwrap.wrap(text, width, initial_indent="  - ", subsequent_indent="    ")
    if len(lines) > limit:
        hidden = len(lines) - (limit - 1)
        lines = lines[:limit - 1] + ["  ... %d more lines: see e2mon alerts or the HTML report" % hidden]
    return lines


def render(db, device_id, out_path, today=None):
    ext = os.path.splitext(out_path)[1].lower()
    if ext not in (".png", ".html", ".htm"):
        raise ValueError("report file must end in .png or .html, not %r" % ext)
    data = gather(db, device_id, today)
    buf = io.BytesIO()
    build_figure(data).savefig(buf, format="png")
    if ext == ".png":
        content = buf.getvalue()
    else:
        content = _html(data, base64.b64encode(buf.getvalue()).decode("ascii")).encode("utf-8")
    tmp = out_path + ".part"
    with open(tmp, "wb") as f:
        f.write(content)
    os.replace(tmp, out_path)   # a reader never sees half a report
    return data


def _html(data, png_b64):
    esc = html.escape
    items = lambda lines: "".join("<li>%s</li>" % esc(t) for t in lines) or "<li>none</li>"  # noqa: E731
    changes = "".join("<tr><td>%s</td><td>%s</td><td>%s</td></tr>" % (d.isoformat(), esc(n), esc(t))
                      for d, n, t in data.dose_changes)
    latest = "".join("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>"
                     % (esc(name), esc(value), esc(si), day.isoformat(), esc(method))
                     for name, value, si, day, method in data.latest)
    return ("<!doctype html><html><head><meta charset='utf-8'><title>e2mon report %s</title>"
            "<style>body{font-family:sans-serif;max-width:1150px;margin:auto}td{padding:2px 8px}</style>"
            "</head><body><h1>e2mon report: %s</h1><p>%d records, as of %s. The device never gives dosing "
            "advice: every flag is for discussion with the clinician.</p>"
            "<img alt='trends' src='data:image/png;base64,%s'>"
            "<h2>Flags</h2><ul>%s</ul><h2>Due reminders</h2><ul>%s</ul>"
            "<h2>Latest results</h2><table><tr><th>test</th><th>result</th><th>SI</th><th>date</th>"
            "<th>method</th></tr>%s</table>"
            "<h2>Dose changes</h2><table>%s</table></body></html>"
            % (esc(data.device_id), esc(data.device_id), data.count, day_date(data.today), png_b64,
               items(data.flags), items(data.reminders), latest, changes))
