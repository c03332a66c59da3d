//! Charts drawn on the server as SVG: no script, nothing fetched, and readable printed in black and white
//! (grey bars with black outlines, a dashed line for a target, every value written on its bar). Each chart
//! is shown beside a table of the same numbers, which is what screen readers and spreadsheets use. Written
//! by hand: the charts are two shapes (bars across, columns by month), and a plotting crate would bring
//! fonts and a drawing backend for them.

use std::fmt::Write;

/// Escape text for SVG (XML) content and attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Cut a label to `max` characters, with an ellipsis.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

const FONT: &str = "font-family=\"sans-serif\" font-size=\"12\"";

/// Horizontal bars, one per (label, value), largest first as given; `title` names the chart for assistive
/// technology.
pub fn bars(title: &str, rows: &[(String, u64)]) -> String {
    let (label_w, bar_w, row_h) = (180.0, 320.0, 22.0);
    let height = (rows.len().max(1) as f64) * row_h + 8.0;
    let width = label_w + bar_w + 60.0;
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1) as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" \
         height=\"{height}\" role=\"img\" aria-label=\"{t}\" class=\"chart\"><title>{t}</title>",
        t = esc(title)
    );
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = 4.0 + i as f64 * row_h;
        let w = (*value as f64 / max * bar_w).max(if *value > 0 { 1.0 } else { 0.0 });
        let _ = write!(
            svg,
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" {FONT}>{label}</text>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{bh}\" fill=\"#bbb\" stroke=\"#000\"/>\
             <text x=\"{vx:.1}\" y=\"{ty}\" {FONT}>{value}</text>",
            lx = label_w - 6.0,
            ty = y + row_h * 0.65,
            label = esc(&cut(label, 28)),
            bh = row_h - 6.0,
            vx = label_w + w + 4.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Columns by period (e.g. months), `None` for a period not yet begun; with an optional dashed line for the
/// value due per period (a yearly target spread over the months).
pub fn columns(title: &str, cols: &[(String, Option<u64>)], due_per_col: Option<f64>) -> String {
    let (col_w, chart_h, top, bottom) = (36.0, 140.0, 16.0, 20.0);
    let width = (cols.len().max(1) as f64) * col_w + 16.0;
    let height = chart_h + top + bottom;
    let max_v = cols.iter().filter_map(|(_, v)| *v).max().unwrap_or(0) as f64;
    let max = max_v.max(due_per_col.unwrap_or(0.0)).max(1.0);
    let base = top + chart_h;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" \
         height=\"{height}\" role=\"img\" aria-label=\"{t}\" class=\"chart\"><title>{t}</title>\
         <line x1=\"8\" y1=\"{base}\" x2=\"{x2}\" y2=\"{base}\" stroke=\"#000\"/>",
        t = esc(title),
        x2 = width - 8.0,
    );
    for (i, (label, value)) in cols.iter().enumerate() {
        let x = 8.0 + i as f64 * col_w;
        if let Some(v) = value {
            let h = (*v as f64 / max * chart_h).max(if *v > 0 { 1.0 } else { 0.0 });
            let _ = write!(
                svg,
                "<rect x=\"{rx}\" y=\"{ry:.1}\" width=\"{w}\" height=\"{h:.1}\" fill=\"#bbb\" stroke=\"#000\"/>\
                 <text x=\"{cx}\" y=\"{vy:.1}\" text-anchor=\"middle\" {FONT}>{v}</text>",
                rx = x + 4.0,
                ry = base - h,
                w = col_w - 8.0,
                cx = x + col_w / 2.0,
                vy = base - h - 3.0,
            );
        }
        let _ = write!(
            svg,
            "<text x=\"{cx}\" y=\"{ly}\" text-anchor=\"middle\" {FONT}>{label}</text>",
            cx = x + col_w / 2.0,
            ly = base + 14.0,
            label = esc(&cut(label, 5)),
        );
    }
    if let Some(due) = due_per_col {
        let y = base - due / max * chart_h;
        let _ = write!(
            svg,
            "<line x1=\"8\" y1=\"{y:.1}\" x2=\"{x2}\" y2=\"{y:.1}\" stroke=\"#000\" stroke-dasharray=\"6 4\"/>",
            x2 = width - 8.0
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_values_written() {
        let svg = bars("Theo xã <script>", &[("Trà My & Nam Giang".into(), 12), ("\"x\"".into(), 0)]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("Trà My &amp; Nam Giang") && svg.contains("&quot;x&quot;"));
        assert!(!svg.contains("<script>") && svg.contains("Theo xã &lt;script&gt;"));
        assert!(svg.contains(">12</text>") && svg.contains(">0</text>"));
        assert!(svg.contains("width=\"320.0\""), "the largest bar takes the full width");
        assert!(svg.contains("width=\"0.0\""), "a zero is no bar");
    }

    #[test]
    fn months_not_begun_have_no_column_and_the_target_is_dashed() {
        let cols: Vec<(String, Option<u64>)> = vec![("1".into(), Some(10)), ("2".into(), Some(0)), ("3".into(), None)];
        let svg = columns("Theo tháng", &cols, Some(5.0));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("stroke-dasharray"));
        assert!(columns("Theo tháng", &[], None).ends_with("</svg>"), "an empty chart still draws");
    }
}
