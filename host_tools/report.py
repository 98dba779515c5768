"""The clinician's picture: estradiol and testosterone over time with the profile's
target bands, hematocrit with its action level, symptoms with their severity, dose
changes as markers, and the active flags and due reminders in plain words.

The time axis spans the therapy's real dates: records with no clinical value (sync
marks, clock events) never set it, and a record dated after today or on 2000-01-01
(what an unset clock reads) is listed apart with a note, never drawn. Each line joins
its points in date order. Results below the lab's limit of quantitation are drawn as
"<" markers labelled "<24 pg/mL". Legends sit beside the panels, never over a point.

Bands and thresholds are the profile's (the device's profile when pulled, else
`monitor.rules` defaults); flags and reminders come from `monitor.tracker`
replaying the stored log, so the host shows what the device computes, except that
records with impossible dates are left out (and listed).

- `gather(db, device_id, today=None, since=None, until=None) -> ReportData` (since/until: the dates shown)
- `build_figure(data) -> matplotlib Figure` (Agg, no display needed)
- `render(db, device_id, out_path, today=None, since=None, until=None) -> ReportData` (.png or .html by extension)
"""
import base64
import datetime
import html
import io
import os
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.ticker  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from host_tools import alert_text, profile_file  # noqa: E402
from host_tools.export import (  # noqa: E402
    EPOCH, catalog, day_date, display_value, entered_by, known, lab_method, unknown_note, update_text,
)
from host_tools.outfile import private_output  # noqa: E402
from monitor import profile_codec, protocol_host, records, texts  # noqa: E402
from monitor import state as S  # noqa: E402
from monitor.catalog import ANALYTES  # noqa: E402
from monitor.texts import SYMPTOM_WORDS  # noqa: E402

FIG_INCHES = (11.0, 11.0)
DPI = 100
E2, TT, HCT = (ANALYTES.index(name) for name in ("E2", "TT", "HCT"))
COLORS = {"anastrozole": "#b03a2e", "testosterone": "#1f618d"}


class ReportData:
    def __init__(self, device_id):
        self.device_id = device_id
        # analyte code -> ([date], [float value in stored unit], [below LLOQ], [text], [entered by the patient]),
        # by date
        self.series = {}
        self.symptoms = {}      # symptom code -> ([date], [severity 0-3]), by date
        self.impossible = []    # (day, what) of clinical records dated where no clock can have been right
        self.unknown = 0        # records with a code this host does not know (newer firmware): left out
        self.updates = []       # (date, what became of a firmware update, in words: export.update_text)
        self.later = 0          # clinical records dated after an as-of date given (--today): left out, no fault
        self.dose_changes = []  # (date, drug name, dose text)
        self.dose_steps = {}    # drug name -> [(date, dose in its unit as a float, 0 for a stop)], the changes
        self.flags = []         # plain-words lines
        self.reminders = []     # plain-words lines
        self.flag_items = []    # the same flags as alert_text.flag_dict gives them (level, rule, source)
        self.reminder_items = []   # the same due reminders as alert_text.reminder_dict (state: due/overdue)
        self.bands = {}         # name -> number, from the profile
        # (analyte name, value text, SI text or "", date, method, entered by) per analyte with a result
        self.latest = []
        self.first = self.last = None
        self.today = None
        self.count = 0
        self.corrected = 0      # entries a correction voided or replaced: left out


def today_day():
    return (datetime.date.today() - EPOCH).days


UNSET_CLOCK_DAY = 0     # 2000-01-01: the date a device with an unset clock gives its records
CLOCK_SLACK_DAYS = 1    # the device's local day may run one ahead of this computer's


def gather(db, device_id, today=None, since=None, until=None):
    """since/until (day numbers): the dates the picture and its tables show; the rules still read the whole
    log. Entries a correction took back (host_tools.corrections) are neither shown nor evaluated."""
    from host_tools.export import corrections_of
    from host_tools.settings import device_title
    from monitor.tracker import Tracker

    data = ReportData(device_id)
    data.device_id = device_title(device_id, db.label(device_id))   # what the titles show: the label first
    data.today = today_day() if today is None else today
    clock_limit = max(data.today, today_day())   # beyond this computer's today too: no clock was right
    profile = profile_file.stored_profile(db, device_id)
    tracker = Tracker(profile)
    wanted = (E2, TT, HCT)
    points = {code: [] for code in wanted}     # (day, minute, seq, value, below LLOQ)
    symptoms = {}
    doses = []
    lab, dose, symptom = records.KIND_LAB, records.KIND_DOSE, records.KIND_SYMPTOM
    fixes = corrections_of(db, device_id)
    running = None    # the release last confirmed (an update says where it came from)
    for seq, day, minute, kind, code, value, flags in db.records(device_id):
        data.count += 1
        if not fixes.counts(seq):
            data.corrected += 1
            continue
        if not known(kind, code):
            data.unknown += 1     # its meaning is unknown here: neither plotted nor fed to the rules
            continue
        if kind not in (lab, dose, symptom):
            # Sync marks, clock and other events: no clinical value and no date to plot; the tracker
            # still needs acknowledgements, snoozes and goal changes.
            tracker.apply(seq, day, minute, kind, code, value, flags)
            if kind == records.KIND_EVENT and code == records.EVENT_UPDATE:   # in words, as every export
                data.updates.append((day_date(day), update_text(value, flags, running)))
                if flags == protocol_host.UPDATE_CONFIRMED:
                    running = value
            continue
        if day == UNSET_CLOCK_DAY or day > clock_limit + CLOCK_SLACK_DAYS:
            # A result "from 2179" would pass for the latest one: listed apart, kept out of the flags.
            data.impossible.append((day, _record_text(kind, code, value, flags)))
            continue
        if day > data.today:
            data.later += 1     # after the date the report is as of: not yet, as that day saw it
            continue
        tracker.apply(seq, day, minute, kind, code, value, flags)
        if kind == dose:
            doses.append((day, minute, seq, code, value))   # the dose changes are judged on the whole log
        if (since is not None and day < since) or (until is not None and day > until):
            continue
        data.first = day if data.first is None else min(data.first, day)
        data.last = day if data.last is None else max(data.last, day)
        if kind == lab and code in points:
            points[code].append((day, minute, seq, float(display_value(kind, code, value)),
                                 bool(flags & records.FLAG_BELOW_LLOQ), texts.format_value(kind, code, value, flags),
                                 not flags & records.FLAG_CLINIC))
        elif kind == symptom:
            symptoms.setdefault(code, []).append((day, minute, seq, value))
    for code in wanted:
        rows = sorted(points[code])
        data.series[code] = ([day_date(r[0]) for r in rows], [r[3] for r in rows], [r[4] for r in rows],
                             [r[5] for r in rows], [r[6] for r in rows])
    for code in sorted(symptoms):
        rows = sorted(symptoms[code])
        data.symptoms[code] = ([day_date(r[0]) for r in rows], [r[3] for r in rows])
    # a change as the device judges one (start, amount, stop, frequency), in date order
    judge = Tracker(profile)
    last_dose = {}
    for day, minute, seq, code, value in sorted(doses):
        marked = judge.st[S.DRUG_CHANGE + code]
        judge.apply(seq, day, minute, dose, code, value, records.FLAG_CONFIRMED)
        shown = (since is None or day >= since) and (until is None or day <= until)
        if judge.st[S.DRUG_CHANGE + code] != marked and shown:
            text = texts.format_value(dose, code, value)
            if value and last_dose.get(code) == value:
                text += ", new frequency"
            data.dose_changes.append((day_date(day), catalog(dose, code).name, text))
            data.dose_steps.setdefault(catalog(dose, code).name, []).append(
                (day_date(day), float(display_value(dose, code, value))))
        last_dose[code] = value
    data.impossible.sort()
    flags = tracker.flags(data.today)
    due = [r for r in tracker.reminders(data.today) if alert_text.is_due(r)]
    data.flags = [alert_text.flag_line(f, p=profile.params) for f in flags]
    data.reminders = [alert_text.reminder_line(r, profile.params) for r in due]
    data.flag_items = [alert_text.flag_dict(f, profile.params) for f in flags]
    data.reminder_items = [alert_text.reminder_dict(r, profile.params) for r in due]
    data.bands = plot_bands(profile)
    for code in range(len(ANALYTES)):
        latest = tracker.latest(code)   # the tracker's own view: what the rules evaluated
        if latest is not None:
            value, day, flags = latest
            si = texts.format_lab_si(code, value)
            if si and flags & records.FLAG_BELOW_LLOQ:
                si = "<" + si   # the limit in SI units is a limit too
            data.latest.append((ANALYTES[code], texts.format_value(lab, code, value, flags), si or "",
                                day_date(day), lab_method(flags), entered_by(lab, flags)))
    return data


def _record_text(kind, code, value, flags):
    """'E2 <24 pg/mL', 'anastrozole 0.5 mg', 'JOINT severity 2'."""
    text = texts.format_value(kind, code, value, flags)   # keeps a result's "<"
    return text if kind == records.KIND_SYMPTOM else "%s %s" % (catalog(kind, code).name, text)


def plot_bands(profile):
    """The profile's thresholds the picture draws, in the plotted (conventional) units."""
    def lab(name, analyte):
        return float(display_value(records.KIND_LAB, analyte, profile_codec.get_param(profile, name)))

    return {"e2_low": lab("E2_TARGET_LOW", E2), "e2_high": lab("E2_TARGET_HIGH", E2),
            "e2_severe": lab("E2_SEVERE", E2), "tt_low": lab("TT_TARGET_LOW", TT),
            "tt_high": lab("TT_TARGET_HIGH", TT), "hct_action": lab("HCT_HIGH", HCT)}


def _band(ax, low, high, label):
    if low is not None and high is not None:
        ax.axhspan(low, high, color="#2e8b57", alpha=0.15, label=label, gid="band")


def _dose_markers(ax, data, with_labels):
    """Every dose change as a dotted vertical line (one collection per drug), so a result can be read against
    the dose it was drawn on; the amounts are written in the dose panel, never over a result."""
    by_drug = {}
    for when, drug, _text in data.dose_changes:
        by_drug.setdefault(drug, []).append(when)
    for drug, whens in by_drug.items():
        ax.vlines(whens, 0, 1, transform=ax.get_xaxis_transform(), colors=COLORS.get(drug, "#555555"),
                  linestyles=":", linewidth=1.2, gid="dose", label="%s change" % drug if with_labels else None)


def _dose_panel(ax, drug, steps, end):
    """One drug's dose as a step line from each change to the next (to `end` for the last), the amounts on
    the y axis: no text over the picture, however often the dose changed; a dot marks each change (a new
    frequency at the same amount too)."""
    color = COLORS.get(drug, "#555555")
    whens = [when for when, _ in steps] + [max(end, steps[-1][0])]
    amounts = [amount for _, amount in steps]
    ax.step(whens, amounts + amounts[-1:], where="post", color=color, linewidth=1.6, gid="dose_step")
    ax.plot(whens[:-1], amounts, linestyle="none", marker="o", markersize=3, color=color, gid="dose_change")
    top = max(amounts) or 1
    ax.set_ylim(-0.12 * top, 1.18 * top)
    ax.set_yticks(dose_ticks(amounts))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _pos: "%g" % v))
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylabel("mg", fontsize=8)
    ax.set_title("%s dose" % drug.capitalize(), loc="left", fontsize=10)
    ax.grid(True, alpha=0.3)


TICK_GAP = 0.22   # of the highest dose: closer tick labels would touch in a panel this low (a test measures)


def dose_ticks(amounts):
    """The doses actually taken as ticks, highest first kept, a lower one only when far enough from the
    last kept; 0 too when it fits (a stop, or the scale's foot)."""
    top = max(amounts) or 1
    kept = []
    for amount in sorted(set(amounts) | {0.0}, reverse=True):
        if not kept or kept[-1] - amount >= TICK_GAP * top:
            kept.append(amount)
    return sorted(kept)


def _renderer(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    return fig.canvas.get_renderer()


def _series(ax, data, code, color, low=None, high=None, out_label="outside target"):
    dates, values, below, _texts, by_patient = data.series[code]
    entry = catalog(records.KIND_LAB, code)
    if dates:
        # One line in date order; round markers on measured results only.
        measured = [i for i, b in enumerate(below) if not b]
        ax.plot(dates, values, marker="o", markersize=4, markevery=measured, color=color, linewidth=1.5,
                gid="series", label=entry.name)
        if len(measured) < len(dates):
            _below_lloq(ax, data, code, color)
        patient = [(d, v) for d, v, p in zip(dates, values, by_patient, strict=True) if p]
        if patient:   # a result the patient entered, not the clinic: a hollow square around its point
            ax.scatter([d for d, _ in patient], [v for _, v in patient], s=90, marker="s", facecolors="none",
                       edgecolors=color, linewidths=1.0, zorder=5, gid="patient_reported",
                       label="entered by the patient")
        # Results surely outside the band stand out (red rings) without reading numbers; a "<" result
        # only when its limit is already under the band.
        out = [(d, v) for d, v, b in zip(dates, values, below, strict=True)
               if (low is not None and (v < low or (b and v <= low))) or (not b and high is not None and v > high)]
        if out:
            ax.scatter([d for d, _ in out], [v for _, v in out], s=60, facecolors="none",
                       edgecolors="#c0392b", linewidths=1.5, zorder=5, gid="out_of_band",
                       label=out_label)
    else:
        ax.text(0.5, 0.25, "no %s results stored" % entry.name, transform=ax.transAxes, ha="center",
                color="#888888")
    ax.set_ylabel("%s (%s)" % (entry.name, entry.unit))
    ax.grid(True, alpha=0.3)


def _below_lloq(ax, data, code, color):
    """Results below the limit of quantitation: a "<" marker at the limit, labelled "<24 pg/mL"."""
    shown = [(d, v, t) for d, v, b, t, _p in zip(*data.series[code], strict=True) if b]
    limits = []
    for _d, _v, text in shown:
        if text not in limits:
            limits.append(text)
    # The limits are named in the legend, beside the panel: a label at each point ran into its neighbours
    # and the dose lines when results stayed below the limit for months.
    named = ", ".join(limits[:3]) + (" ..." if len(limits) > 3 else "")
    ax.plot([d for d, _, _ in shown], [v for _, v, _ in shown], linestyle="none", marker="$<$", markersize=9,
            color=color, zorder=6, gid="below_lloq", label="below the lab's limit: %s" % named)


def _threshold(ax, value, text, color="#b03a2e", width=0.8):
    """A dashed threshold line, named in the legend and labelled at its left end (the axis keeps room
    there: no point lies left of the first record)."""
    ax.axhline(value, color=color, linestyle="--", linewidth=width, gid="threshold", label=text)
    ax.annotate(text, xy=(0.003, value), xycoords=("axes fraction", "data"), xytext=(0, 1.5),
                textcoords="offset points", va="bottom", ha="left", fontsize=7, color=color,
                gid="threshold_label")


SEVERITY_COLORS = ("#bbbbbb", "#f5b041", "#e67e22", "#b03a2e")


def _symptom_panel(ax, data):
    """One row per symptom reported, a marker per entry coloured and sized by severity (0 = gone)."""
    codes = list(data.symptoms)
    for severity in range(records.SEVERITY_MAX + 1):
        xs, ys = [], []
        for row, code in enumerate(codes):
            for when, level in zip(*data.symptoms[code], strict=True):
                if level == severity:
                    xs.append(when)
                    ys.append(row)
        if xs:
            ax.scatter(xs, ys, s=14 + 14 * severity, color=SEVERITY_COLORS[severity], zorder=4,
                       gid="symptom", label="severity %d" % severity)
    for row, code in enumerate(codes):   # the course of each symptom, thin and in date order
        ax.plot(data.symptoms[code][0], [row] * len(data.symptoms[code][0]), color="#dddddd", linewidth=0.8,
                zorder=2, gid="symptom_course")
    ax.set_yticks(range(len(codes)))
    ax.set_yticklabels([SYMPTOM_WORDS[code] for code in codes], fontsize=7)
    ax.set_ylim(-0.7, max(len(codes), 1) - 0.3)
    if not codes:
        ax.text(0.5, 0.5, "no symptoms recorded", transform=ax.transAxes, ha="center", color="#888888")
    ax.set_title("Symptoms (severity 0-3)", loc="left", fontsize=10)
    ax.grid(True, axis="x", alpha=0.3)


def build_figure(data, with_summary=True):
    """The picture; the HTML report lists flags and reminders itself (with_summary=False)."""
    fig = Figure(figsize=FIG_INCHES, dpi=DPI)
    drugs = [drug for drug in COLORS if drug in data.dose_steps] + sorted(
        drug for drug in data.dose_steps if drug not in COLORS)
    ratios = (1.5,) * len(drugs) + (3, 2.4, 1.8, 1 + 0.25 * max(len(data.symptoms), 2)) + (
        (2.4,) if with_summary else ())
    grid = fig.add_gridspec(len(ratios), 1, height_ratios=ratios, hspace=0.55)
    ax_e2 = fig.add_subplot(grid[len(drugs)])
    dose_axes = [fig.add_subplot(grid[row], sharex=ax_e2) for row in range(len(drugs))]
    ax_tt = fig.add_subplot(grid[len(drugs) + 1], sharex=ax_e2)
    ax_hct = fig.add_subplot(grid[len(drugs) + 2], sharex=ax_e2)
    ax_sym = fig.add_subplot(grid[len(drugs) + 3], sharex=ax_e2)
    b = data.bands

    _band(ax_e2, b["e2_low"], b["e2_high"], "E2 target %g-%g" % (b["e2_low"], b["e2_high"]))
    _threshold(ax_e2, b["e2_severe"], "severe above %g pg/mL" % b["e2_severe"])
    _series(ax_e2, data, E2, "#6c3483", b["e2_low"], b["e2_high"])
    ax_e2.set_title("Estradiol", loc="left", fontsize=10)
    _dose_markers(ax_e2, data, True)

    _band(ax_tt, b["tt_low"], b["tt_high"], "TT target %g-%g" % (b["tt_low"], b["tt_high"]))
    _series(ax_tt, data, TT, "#1f618d", b["tt_low"], b["tt_high"])
    ax_tt.set_title("Total testosterone", loc="left", fontsize=10)
    _dose_markers(ax_tt, data, False)

    _threshold(ax_hct, b["hct_action"], "action level %g %%" % b["hct_action"], width=1.0)
    _series(ax_hct, data, HCT, "#7e5109", None, b["hct_action"] - 1e-9, "at or above action level")
    ax_hct.set_title("Hematocrit", loc="left", fontsize=10)
    _dose_markers(ax_hct, data, False)

    _symptom_panel(ax_sym, data)
    _dose_markers(ax_sym, data, False)
    for ax in (ax_e2, ax_tt, ax_hct):
        ax.margins(y=0.12)   # points on a threshold line stay visible
    for ax in (ax_e2, ax_tt, ax_hct, ax_sym):
        if ax.get_legend_handles_labels()[0]:   # beside the panel, never over a point
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize=7)
    if data.first is not None:
        first, last = data.first, max(data.last, data.today)
        # Room on the left for the threshold labels (no point lies before the first record).
        start, end = day_date(first - max(7, (last - first) // 5)), day_date(last + max(7, (last - first) // 50))
    else:   # nothing to place in time: the month up to today
        start, end = day_date(data.today - 30), day_date(data.today + 7)
    for ax, drug in zip(dose_axes, drugs, strict=True):
        _dose_panel(ax, drug, data.dose_steps[drug], day_date(max(data.last or data.today, data.today)))
    ax_e2.set_xlim(start, end)
    panels = dose_axes + [ax_e2, ax_tt, ax_hct, ax_sym]
    for ax in panels:
        locator = mdates.AutoDateLocator(maxticks=12)   # labels that never run into each other
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))

    if with_summary:
        ax_text = fig.add_subplot(grid[len(drugs) + 4])
        ax_text.axis("off")
        ax_text.text(0.0, 1.0, "\n".join(summary_lines(data)), va="top", ha="left", fontsize=7.5,
                     family="monospace", transform=ax_text.transAxes, gid="summary", parse_math=False)
    fig.subplots_adjust(top=0.93, bottom=0.02 if with_summary else 0.06, left=0.12, right=0.80)
    # Texts that carry a device's label or stored words are drawn as written ("$" is not mathtext).
    fig.suptitle("e2mon %s - %d records, as of %s" % (data.device_id, data.count, day_date(data.today)),
                 fontsize=11, parse_math=False)
    fit_left_margin(fig, panels)
    return fig


MARGIN_PIXELS = 6   # between the figure's left edge and the widest axis label


def fit_left_margin(fig, axes):
    """Moves the panels right until every axis's tick labels and y label start inside the figure ("reduced
    sense of well-being" was cut to "uced sense of well-being")."""
    renderer = _renderer(fig)
    width = fig.get_figwidth() * fig.dpi
    for _attempt in range(3):
        leftmost = min(ax.get_tightbbox(renderer).x0 for ax in axes)
        if leftmost >= MARGIN_PIXELS:
            return
        left = fig.subplotpars.left + (MARGIN_PIXELS - leftmost) / width
        fig.subplots_adjust(left=min(left, 0.4))


def impossible_note(data):
    return ("%d record%s dated after %s or on 2000-01-01 (a device clock that was wrong or unset) "
            "cannot be placed in time: %s left out of the picture and the flags"
            % (len(data.impossible), "" if len(data.impossible) == 1 else "s",
               day_date(max(data.today, today_day())), "it is" if len(data.impossible) == 1 else "they are"))


def later_note(data):
    """Records after the as-of date a report was asked for: left out because of the date chosen, not a clock."""
    return ("%d record%s dated after %s, the date this report is as of, %s left out" % (
        data.later, "" if data.later == 1 else "s", day_date(data.today), "is" if data.later == 1 else "are"))


def summary_lines(data, width=150, limit=13):
    """Flags and due reminders, wrapped to the picture's width; the rest counted, never silently cut."""
    lines = []
    if data.unknown:
        lines += textwrap.wrap("Note: %s." % unknown_note(data.unknown), width, subsequent_indent="  ")
    if data.later:
        lines += textwrap.wrap("Note: %s." % later_note(data), width, subsequent_indent="  ")
    if data.impossible:
        listed = "; ".join("%s %s" % (day_date(day), what) for day, what in data.impossible[:3])
        more = " and %d more (see the HTML report)" % (len(data.impossible) - 3) if len(data.impossible) > 3 else ""
        lines += textwrap.wrap("Note: %s: %s%s." % (impossible_note(data), listed, more), width,
                               subsequent_indent="  ")
    lines.append("Flags (discuss with your clinician):")
    for text in data.flags or ["none"]:
        lines += textwrap.wrap(text, width, initial_indent="  - ", subsequent_indent="    ")
    lines.append("Due reminders:")
    for text in data.reminders or ["none"]:
        lines += textwrap.wrap(text, width, initial_indent="  - ", subsequent_indent="    ")
    if len(lines) > limit:
        hidden = len(lines) - (limit - 1)
        lines = lines[:limit - 1] + ["  ... %d more lines: see e2mon alerts or the HTML report" % hidden]
    return lines


def render(db, device_id, out_path, today=None, since=None, until=None):
    ext = os.path.splitext(out_path)[1].lower()
    if ext not in (".png", ".html", ".htm"):
        raise ValueError("report file must end in .png or .html, not %r" % ext)
    data = gather(db, device_id, today, since, until)
    content = png_bytes(data) if ext == ".png" else html_report(data).encode("utf-8")
    with private_output(out_path, binary=True) as f:
        f.write(content)
    return data


def png_bytes(data, with_summary=True):
    buf = io.BytesIO()
    build_figure(data, with_summary=with_summary).savefig(buf, format="png")
    return buf.getvalue()


def html_report(data):
    """The HTML report: one page, the picture inlined (what `e2mon report --out x.html` writes and the clinic
    page serves)."""
    return _html(data, base64.b64encode(png_bytes(data, with_summary=False)).decode("ascii"))


def _table(header, rows):
    """An HTML table: header cells, then rows of already-escaped cells."""
    head = "".join("<th>%s</th>" % h for h in header)
    body = "".join("<tr>%s</tr>" % "".join("<td>%s</td>" % c for c in row) for row in rows)
    return "<table><thead><tr>%s</tr></thead><tbody>%s</tbody></table>" % (head, body)


def _html(data, png_b64):
    esc = html.escape
    items = lambda lines: "".join("<li>%s</li>" % esc(t) for t in lines) or "<li>none</li>"  # noqa: E731
    changes = _table(("date", "drug", "new dose"), [(d.isoformat(), esc(n), esc(t)) for d, n, t in data.dose_changes])
    latest = _table(("test", "result", "SI", "date", "method", "by"),
                    [(esc(name), esc(value), esc(si), day.isoformat(), esc(method), esc(by))
                     for name, value, si, day, method, by in data.latest])
    symptoms = _table(("symptom", "latest severity", "highest severity", "entries"),
                      [(esc(SYMPTOM_WORDS[code]), "%d on %s" % (sev[-1], when[-1].isoformat()),
                        "%d on %s" % (max(sev), when[sev.index(max(sev))].isoformat()), len(sev))
                       for code, (when, sev) in data.symptoms.items()])
    impossible = "<p>%s.</p>" % esc(unknown_note(data.unknown)) if data.unknown else ""
    if data.updates:
        impossible = ("<h2>Firmware updates</h2>%s" % _table(("date", "update"), [
            (when.isoformat(), esc(text)) for when, text in data.updates])) + impossible
    if data.later:
        impossible += "<p>%s.</p>" % esc(later_note(data))
    if data.impossible:
        impossible += ("<h2>Records with impossible dates</h2><p>%s. They are kept as stored; check the "
                      "device clock (e2mon time sync).</p>%s"
                      % (esc(impossible_note(data)), _table(("date as stored", "record"),
                         [(esc(str(day_date(day))), esc(what)) for day, what in data.impossible])))
    return ("<!doctype html><html><head><meta charset='utf-8'><title>e2mon report %s</title>"
            "<style>body{font-family:sans-serif;max-width:1150px;margin:auto}td,th{padding:2px 8px}"
            "th{text-align:left;border-bottom:1px solid #888}img{max-width:100%%}</style>"
            "</head><body><h1>e2mon report: %s</h1><p>%d records, as of %s. The device never gives dosing "
            "advice: every flag is for discussion with the clinician.</p>"
            "<img alt='trends' src='data:image/png;base64,%s'>"
            "<h2>Flags</h2><ul>%s</ul><h2>Due reminders</h2><ul>%s</ul>"
            "<h2>Latest results</h2>%s<h2>Symptoms</h2>%s<h2>Dose changes</h2>%s%s</body></html>"
            % (esc(data.device_id), esc(data.device_id), data.count, day_date(data.today), png_b64,
               items(data.flags), items(data.reminders), latest, symptoms if data.symptoms else "<p>none</p>",
               changes if data.dose_changes else "<p>none</p>", impossible))
