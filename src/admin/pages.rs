//! The HTML the dashboard serves: plain pages, charts as inline SVG drawn on
//! the server (no scripts, nothing fetched from elsewhere, works offline).

use std::fmt::Write as _;

use crate::activity::report::ProfileReport;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
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

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2733}\
header{background:#2b5d8a;color:#fff;padding:12px 24px;display:flex;justify-content:space-between;align-items:center}\
header h1{font-size:20px;margin:0}main{padding:16px 24px;max-width:1100px}\
section.card{background:#fff;border-radius:8px;padding:16px;margin:0 0 16px;box-shadow:0 1px 3px #0002}\
h2{margin:0 0 8px;font-size:18px}h3{font-size:14px;margin:12px 0 4px;color:#445}\
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}table{border-collapse:collapse}\
td,th{padding:3px 10px 3px 0;text-align:left;font-size:14px}.muted{color:#667;font-size:13px}\
input,select,button{font-size:14px;padding:4px 8px;margin:2px}button{cursor:pointer}\
.chart rect.bar{fill:#3b82c4}.chart rect.block{fill:#d0643b}.chart text{font-size:10px;fill:#445}\
.help{background:#eef6ee;border-left:4px solid #4a9a4a;padding:8px 12px}";

/// A whole page.
pub fn page(title: &str, body: &str, logout_csrf: Option<&str>) -> String {
    let logout = logout_csrf.map_or(String::new(), |csrf| {
        format!(
            "<form method=post action=/logout><input type=hidden name=csrf value=\"{}\"><button>Log out</button></form>",
            esc(csrf)
        )
    });
    format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width\">\
         <title>{}</title><style>{STYLE}</style></head><body><header><h1>nestguard · {}</h1>{logout}</header>\
         <main>{body}</main></body></html>",
        esc(title),
        esc(title)
    )
}

pub fn login(message: &str) -> String {
    let msg = if message.is_empty() {
        String::new()
    } else {
        format!("<p class=muted>{}</p>", esc(message))
    };
    page(
        "Parents' dashboard",
        &format!(
            "<section class=card><h2>Log in</h2>{msg}<form method=post action=/login>\
             <input type=password name=password id=password autofocus placeholder=Password>\
             <button type=submit id=login>Log in</button></form></section>"
        ),
        None,
    )
}

/// Vertical bars, one per label (activity by hour).
pub fn bars(id: &str, values: &[(String, u64)], class: &str) -> String {
    let (w, h, pad) = (480.0, 140.0, 18.0);
    let most = values.iter().map(|v| v.1).max().unwrap_or(0).max(1) as f64;
    let step = w / values.len().max(1) as f64;
    let mut svg = format!(
        "<svg class=chart id=\"{id}\" width={w} height={} viewBox=\"0 0 {w} {}\" role=img>",
        h + pad,
        h + pad
    );
    for (i, (label, v)) in values.iter().enumerate() {
        let bh = (*v as f64 / most) * (h - 4.0);
        let x = i as f64 * step;
        let _ = write!(
            svg,
            "<rect class={class} x={:.1} y={:.1} width={:.1} height={:.1}><title>{}: {v}</title></rect>",
            x + 1.0,
            h - bh,
            (step - 2.0).max(1.0),
            bh,
            esc(label)
        );
        if i % 3 == 0 {
            let _ = write!(
                svg,
                "<text x={:.1} y={}>{}</text>",
                x + 1.0,
                h + 12.0,
                esc(label)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars with labels (blocked by category).
pub fn hbars(id: &str, values: &[(String, u64)]) -> String {
    if values.is_empty() {
        return "<p class=muted>Nothing blocked in this period.</p>".into();
    }
    let (w, row) = (480.0, 18.0);
    let label_w = 130.0;
    let most = values.iter().map(|v| v.1).max().unwrap_or(1).max(1) as f64;
    let h = row * values.len() as f64;
    let mut svg = format!(
        "<svg class=chart id=\"{id}\" width={w} height={h} viewBox=\"0 0 {w} {h}\" role=img>"
    );
    for (i, (label, v)) in values.iter().enumerate() {
        let y = i as f64 * row;
        let bw = (*v as f64 / most) * (w - label_w - 40.0);
        let _ = write!(
            svg,
            "<text x=0 y={:.1}>{}</text><rect class=block x={label_w} y={:.1} width={:.1} height={:.1}><title>{}: {v}</title></rect><text x={:.1} y={:.1}>{v}</text>",
            y + 12.0,
            esc(label),
            y + 2.0,
            bw.max(1.0),
            row - 4.0,
            esc(label),
            label_w + bw + 4.0,
            y + 12.0
        );
    }
    svg.push_str("</svg>");
    svg
}

fn hours(m: u64) -> String {
    match (m / 60, m % 60) {
        (0, m) => format!("{m} min"),
        (h, m) => format!("{h} h {m:02} min"),
    }
}

/// One child's (profile's) card.
pub fn profile_card(r: &ProfileReport) -> String {
    let by_hour: Vec<(String, u64)> = r
        .active_by_hour
        .iter()
        .enumerate()
        .map(|(h, m)| (format!("{h:02}"), *m))
        .collect();
    let mut out = format!(
        "<section class=card data-profile=\"{p}\"><h2>{p}</h2>\
         <p>{q} lookups · {b} blocked · time online {t} · bypass attempts {bp}</p><div class=grid><div>\
         <h3>Active minutes by hour (last 24 hours)</h3>{chart}</div><div><h3>Blocked by category</h3>{cats}</div></div>",
        p = esc(&r.profile),
        q = r.queries,
        b = r.blocked,
        t = hours(r.active_minutes),
        bp = r.bypass_attempts,
        chart = bars(&format!("hours-{}", r.profile), &by_hour, "bar"),
        cats = hbars(&format!("categories-{}", r.profile), &r.blocked_by_category),
    );
    if !r.devices_gone.is_empty() {
        let _ = write!(
            out,
            "<p>Devices that stopped using the filter (a day without a lookup): {}. Another resolver, a VPN, or just switched off?</p>",
            esc(&r.devices_gone.join(", "))
        );
    }
    for (w, n) in &r.schedule_queries {
        let _ = write!(out, "<p class=muted>During “{}”: {n} lookups.</p>", esc(w));
    }
    if !r.top_blocked.is_empty() {
        out.push_str("<h3>Blocked sites</h3><table>");
        for (d, n) in &r.top_blocked {
            let _ = write!(out, "<tr><td>{}</td><td>{n}</td></tr>", esc(d));
        }
        out.push_str("</table>");
    }
    out.push_str("</section>");
    out
}
