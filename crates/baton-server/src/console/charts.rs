//! Inline SVG charts, generated on the server: no chart library, nothing fetched.
//! Each chart is an `role="img"` element with a `<title>` that says what it shows, and
//! every bar and point carries its own `<title>` with the exact figure. Pages show the
//! same figures in a table next to each chart, for screen readers and for copying.

use std::fmt::Write;

use baton_core::insights::intents::{Bin, Reliability};
use baton_core::package::html::escape;

/// Colours for series, chosen to stay apart for common colour-vision deficiencies.
const PALETTE: &[&str] = &[
    "#0b6bcb", "#d55e00", "#009e73", "#cc79a7", "#8a6d00", "#56b4e9", "#555555",
];

/// The colour of the `index`th series.
pub fn colour(index: usize) -> &'static str {
    PALETTE[index % PALETTE.len()]
}

/// A small line chart of `values` on a fixed `lo..hi` scale, with a zero line when the
/// scale spans zero. `label` names it for screen readers.
pub fn sparkline(values: &[f64], lo: f64, hi: f64, label: &str) -> String {
    const W: f64 = 120.0;
    const H: f64 = 28.0;
    let span = if hi > lo { hi - lo } else { 1.0 };
    let y = |v: f64| H - 2.0 - ((v.clamp(lo, hi) - lo) / span) * (H - 4.0);
    let mut svg = format!(
        r#"<svg class="spark" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{}">"#,
        escape(label)
    );
    if lo < 0.0 && hi > 0.0 {
        let _ = write!(
            svg,
            r##"<line x1="0" x2="{W}" y1="{0:.1}" y2="{0:.1}" stroke="#bbb" stroke-dasharray="2 2"/>"##,
            y(0.0)
        );
    }
    match values {
        [] => {}
        [only] => {
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="2.5"/>"#,
                W / 2.0,
                y(*only)
            );
        }
        _ => {
            let step = W / (values.len() - 1) as f64;
            let points: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(i, v)| format!("{:.1},{:.1}", i as f64 * step, y(*v)))
                .collect();
            let _ = write!(
                svg,
                r#"<polyline fill="none" stroke-width="2" points="{}"/>"#,
                points.join(" ")
            );
            if let Some(last) = values.last() {
                let _ = write!(svg, r#"<circle cx="{W}" cy="{:.1}" r="2.5"/>"#, y(*last));
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// One column of a bar chart: its axis label and its stacked parts (series index, value).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Axis label, e.g. `14:00`.
    pub label: String,
    /// (series index, value) parts, stacked bottom-up.
    pub parts: Vec<(usize, f64)>,
}

/// A (stacked) bar chart. `series` names the parts (for the legend and the bars'
/// titles); `unit` follows every figure.
pub fn bar_chart(title: &str, columns: &[Column], series: &[String], unit: &str) -> String {
    const W: f64 = 480.0;
    const H: f64 = 160.0;
    const LEFT: f64 = 36.0;
    const BOTTOM: f64 = 20.0;
    let max = columns
        .iter()
        .map(|c| c.parts.iter().map(|p| p.1).sum::<f64>())
        .fold(0.0, f64::max);
    let top = nice_ceiling(max);
    let plot_h = H - BOTTOM - 6.0;
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{0}" preserveAspectRatio="xMinYMin meet"><title>{0}</title>"#,
        escape(title)
    );
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" x2="{W}" y1="{0}" y2="{0}" stroke="#888"/><text x="{1}" y="12" class="axis" text-anchor="end">{2}</text><text x="{1}" y="{0}" class="axis" text-anchor="end">0</text>"##,
        H - BOTTOM,
        LEFT - 4.0,
        figure(top)
    );
    if columns.is_empty() || max <= 0.0 {
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" class="empty" text-anchor="middle">no data yet</text>"#,
            (W + LEFT) / 2.0,
            H / 2.0
        );
    }
    let slot = (W - LEFT) / columns.len().max(1) as f64;
    let bar_w = (slot * 0.7).clamp(1.0, 36.0);
    let label_every = (columns.len() / 12).max(1);
    for (i, column) in columns.iter().enumerate() {
        let x = LEFT + i as f64 * slot + (slot - bar_w) / 2.0;
        let mut base = H - BOTTOM;
        for &(series_index, value) in &column.parts {
            if value <= 0.0 {
                continue;
            }
            let h = value / top * plot_h;
            base -= h;
            let name = series.get(series_index).map_or("", String::as_str);
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{base:.1}" width="{bar_w:.1}" height="{h:.1}" fill="{}"><title>{}: {} {} {}</title></rect>"#,
                colour(series_index),
                escape(&column.label),
                escape(name),
                figure(value),
                escape(unit)
            );
        }
        if i % label_every == 0 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{}" class="axis" text-anchor="middle">{}</text>"#,
                x + bar_w / 2.0,
                H - 6.0,
                escape(&column.label)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// One bar of a horizontal bar chart.
#[derive(Debug, Clone, PartialEq)]
pub struct HBar {
    /// What the bar stands for, left of it.
    pub label: String,
    /// Its length, on the chart's scale; `None` when there is nothing to measure.
    pub value: Option<f64>,
    /// The figure shown right of it, e.g. `42 %` or `4.2 of 5`.
    pub figure: String,
}

/// Horizontal bars on a `0..top` scale (`top` from the data when `None`), one row per
/// bar, the figure written at each bar's end. A bar without a value reads "no data".
pub fn hbar_chart(title: &str, bars: &[HBar], top: Option<f64>) -> String {
    const W: f64 = 480.0;
    const ROW: f64 = 24.0;
    const LEFT: f64 = 150.0;
    const RIGHT: f64 = 90.0;
    let h = ROW * bars.len().max(1) as f64 + 8.0;
    let max = bars.iter().filter_map(|b| b.value).fold(0.0, f64::max);
    let top = top
        .filter(|t| *t > 0.0)
        .unwrap_or_else(|| nice_ceiling(max));
    let span = W - LEFT - RIGHT;
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {W} {h}" role="img" aria-label="{0}" preserveAspectRatio="xMinYMin meet"><title>{0}</title>"#,
        escape(title)
    );
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" x2="{LEFT}" y1="2" y2="{}" stroke="#888"/>"##,
        h - 4.0
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = 4.0 + i as f64 * ROW;
        let len = bar.value.map_or(0.0, |v| (v / top).clamp(0.0, 1.0) * span);
        let figure = if bar.value.is_some() {
            bar.figure.as_str()
        } else {
            "no data"
        };
        let _ = write!(
            svg,
            r#"<g><title>{}: {}</title><text x="{:.1}" y="{:.1}" class="axis" text-anchor="end">{}</text>"#,
            escape(&bar.label),
            escape(figure),
            LEFT - 6.0,
            y + ROW / 2.0 + 3.0,
            escape(&bar.label)
        );
        if len > 0.0 {
            let _ = write!(
                svg,
                r#"<rect x="{LEFT}" y="{:.1}" width="{len:.1}" height="{:.1}" fill="{}"/>"#,
                y + 3.0,
                ROW - 8.0,
                colour(i)
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" class="axis">{}</text></g>"#,
            LEFT + len + 5.0,
            y + ROW / 2.0 + 3.0,
            escape(figure)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A bin's range in words, e.g. `0.8-0.9`.
pub fn bin_range(bin: &Bin) -> String {
    format!("{:.1}-{:.1}", bin.lower, bin.upper)
}

/// A reliability diagram: per confidence bin, a bar as high as the share the humans
/// confirmed and a point at the bin's mean confidence; the diagonal is perfect
/// calibration, so a bar below it is overconfidence. Under it, the cases per bin.
pub fn reliability_diagram(title: &str, table: &Reliability) -> String {
    const X0: f64 = 44.0;
    const Y0: f64 = 10.0;
    const S: f64 = 220.0;
    const HIST: f64 = 30.0;
    const W: f64 = X0 + S + 14.0;
    const H: f64 = Y0 + S + 14.0 + HIST + 30.0;
    let x = |c: f64| X0 + c.clamp(0.0, 1.0) * S;
    let y = |a: f64| Y0 + (1.0 - a.clamp(0.0, 1.0)) * S;
    let mut svg = format!(
        r#"<svg class="chart reliability" viewBox="0 0 {W} {H}" role="img" aria-label="{0}" preserveAspectRatio="xMinYMin meet"><title>{0}</title>"#,
        escape(title)
    );
    let base = Y0 + S;
    let _ = write!(
        svg,
        r##"<rect x="{X0}" y="{Y0}" width="{S}" height="{S}" fill="none" stroke="#888"/>"##
    );
    for tick in [0.0, 0.5, 1.0] {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" class="axis" text-anchor="end">{tick:.1}</text><text x="{:.1}" y="{:.1}" class="axis" text-anchor="middle">{tick:.1}</text>"#,
            X0 - 4.0,
            y(tick) + 3.0,
            x(tick),
            base + 11.0
        );
    }
    let _ = write!(
        svg,
        r#"<text x="10" y="{:.1}" class="axis" text-anchor="middle" transform="rotate(-90 10 {:.1})">confirmed</text>"#,
        Y0 + S / 2.0,
        Y0 + S / 2.0
    );
    for bin in table.bins.iter().filter(|b| b.count > 0) {
        let words = format!(
            "confidence {}: {} {}, {:.0} % confirmed, mean confidence {:.2}",
            bin_range(bin),
            bin.count,
            if bin.count == 1 { "case" } else { "cases" },
            bin.accuracy * 100.0,
            bin.mean_confidence
        );
        let left = x(bin.lower) + 1.0;
        let width = (x(bin.upper) - x(bin.lower) - 2.0).max(1.0);
        let _ = write!(
            svg,
            r#"<rect class="acc" x="{left:.1}" y="{:.1}" width="{width:.1}" height="{:.1}" fill="{}" fill-opacity="0.35"><title>{}</title></rect><circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{}"><title>{}</title></circle>"#,
            y(bin.accuracy),
            base - y(bin.accuracy),
            colour(0),
            escape(&words),
            x(bin.mean_confidence),
            y(bin.accuracy),
            colour(1),
            escape(&words)
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{X0}" y1="{base}" x2="{:.1}" y2="{Y0}" stroke="#555" stroke-dasharray="4 3"><title>perfect calibration: confirmed share = confidence</title></line>"##,
        X0 + S
    );
    if table.count == 0 {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" class="empty" text-anchor="middle">no labelled conversations yet</text>"#,
            X0 + S / 2.0,
            Y0 + S / 2.0
        );
    }
    let hist_base = base + 14.0 + HIST;
    let most = table.bins.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    for bin in table.bins.iter().filter(|b| b.count > 0) {
        let h = bin.count as f64 / most as f64 * HIST;
        let _ = write!(
            svg,
            r#"<rect class="count" x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{}"><title>confidence {}: {} {}</title></rect>"#,
            x(bin.lower) + 1.0,
            hist_base - h,
            (x(bin.upper) - x(bin.lower) - 2.0).max(1.0),
            colour(6),
            bin_range(bin),
            bin.count,
            if bin.count == 1 { "case" } else { "cases" }
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" class="axis" text-anchor="middle">bot confidence (bars below: cases per bin)</text>"#,
        X0 + S / 2.0,
        hist_base + 14.0
    );
    svg.push_str("</svg>");
    svg
}

/// The HTML legend for `series`.
pub fn legend(series: &[String]) -> String {
    let mut html = String::from(r#"<ul class="legend">"#);
    for (i, name) in series.iter().enumerate() {
        let _ = write!(
            html,
            r#"<li><svg class="swatch" width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="{}"/></svg>{}</li>"#,
            colour(i),
            escape(name)
        );
    }
    html.push_str("</ul>");
    html
}

/// A round number at or above `max` for the top of an axis.
fn nice_ceiling(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|c| *c >= max)
        .unwrap_or(10.0 * magnitude)
}

fn figure(value: f64) -> String {
    if value.fract().abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(3.0), 5.0);
        assert_eq!(nice_ceiling(11.0), 20.0);
        assert_eq!(nice_ceiling(240.0), 250.0);
    }

    #[test]
    fn sparkline_draws_one_point_per_value_and_escapes_its_label() {
        let svg = sparkline(&[-0.5, 0.0, 0.5], -1.0, 1.0, "sentiment <falling>");
        assert!(svg.contains("sentiment &lt;falling&gt;"));
        assert_eq!(svg.matches(',').count(), 3, "{svg}");
        assert!(svg.contains("stroke-dasharray"), "zero line");
    }

    #[test]
    fn bars_carry_exact_figures_and_stack() {
        let columns = vec![
            Column {
                label: "10:00".into(),
                parts: vec![(0, 2.0), (1, 1.0)],
            },
            Column {
                label: "11:00".into(),
                parts: vec![(1, 4.0)],
            },
        ];
        let svg = bar_chart(
            "handoffs",
            &columns,
            &["explicit_request".into(), "negative_sentiment".into()],
            "handoffs",
        );
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("10:00: explicit_request 2 handoffs"));
        assert!(svg.contains("11:00: negative_sentiment 4 handoffs"));
        assert!(!svg.contains("no data yet"));
        assert!(bar_chart("x", &[], &[], "").contains("no data yet"));
    }

    #[test]
    fn horizontal_bars_write_their_figures_and_say_no_data() {
        let bars = vec![
            HBar {
                label: "bot only".into(),
                value: Some(4.0),
                figure: "4.0 of 5".into(),
            },
            HBar {
                label: "after a handoff".into(),
                value: None,
                figure: String::new(),
            },
        ];
        let svg = hbar_chart("CSAT", &bars, Some(5.0));
        assert_eq!(svg.matches("<rect").count(), 1, "{svg}");
        assert!(svg.contains("<title>bot only: 4.0 of 5</title>"), "{svg}");
        assert!(svg.contains("<title>after a handoff: no data</title>"));
        // 4 of 5 on a 240-wide scale.
        assert!(svg.contains(r#"width="192.0""#), "{svg}");
    }

    #[test]
    fn the_reliability_diagram_has_a_bar_a_point_and_a_count_per_filled_bin() {
        let table = baton_core::insights::intents::reliability(
            [(0.96, true), (0.92, false), (0.35, true)],
            10,
        );
        let svg = reliability_diagram("reliability", &table);
        assert_eq!(svg.matches(r#"class="acc""#).count(), 2, "{svg}");
        assert_eq!(svg.matches("<circle").count(), 2);
        assert_eq!(svg.matches(r#"class="count""#).count(), 2);
        assert!(
            svg.contains("confidence 0.9-1.0: 2 cases, 50 % confirmed, mean confidence 0.94"),
            "{svg}"
        );
        assert!(svg.contains("confidence 0.3-0.4: 1 case</title>"));
        assert!(svg.contains("perfect calibration"));
        assert!(!svg.contains("no labelled"));
        let empty = baton_core::insights::intents::reliability([], 10);
        assert!(reliability_diagram("r", &empty).contains("no labelled conversations yet"));
    }
}
