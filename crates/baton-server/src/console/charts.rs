//! Inline SVG charts, generated on the server: no chart library, nothing fetched.
//! Each chart is an `role="img"` element with a `<title>` that says what it shows, and
//! every bar carries its own `<title>` with the exact figure.

use std::fmt::Write;

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
}
