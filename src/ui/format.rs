//! Small text helpers shared by the widgets.

use chrono::{DateTime, Utc};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// "12s", "5m", "3h", "2d": short enough for a table column, precise enough to notice a
/// request that has been in progress for too long.
pub fn age(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let secs = (now - then).num_seconds().max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86_400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// Cuts `text` to `max` terminal cells (wide characters count two), ending with an ellipsis
/// when cut, so a cut reason always says it was cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.width() <= max {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        used += w;
        out.push(c);
    }
    if max > 0 {
        out.push('…');
    }
    out
}

/// Breaks `text` into lines of at most `width` cells, at spaces when it can, inside a word
/// when a word is longer than a line (ARNs are).
pub fn wrap_text(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let needed = if line.is_empty() { 0 } else { 1 } + word.width();
        if !line.is_empty() && line.width() + needed > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        for c in word.chars() {
            if line.width() + c.width().unwrap_or(0) > width {
                lines.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// A count with thousands separators (`2,989`): counts of failures are read at a glance.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A duration in the words an operator weighs a cost in: `45 s`, `2 min 30 s`, `55 min`,
/// `1 h 5 min` (rounded to what matters at that size).
pub fn duration_words(secs: f64) -> String {
    let secs = if secs.is_finite() { secs.max(0.0) } else { 0.0 };
    if secs > 0.0 && secs < 1.0 {
        return "under 1 s".to_string();
    }
    let total = secs.round() as u64;
    match total {
        0..60 => format!("{total} s"),
        60..600 => match total % 60 {
            0 => format!("{} min", total / 60),
            s => format!("{} min {s} s", total / 60),
        },
        600..3600 => format!("{} min", (total + 30) / 60),
        _ => {
            let minutes = (total + 30) / 60;
            match minutes % 60 {
                0 => format!("{} h", minutes / 60),
                m => format!("{} h {m} min", minutes / 60),
            }
        }
    }
}

/// A popup of `width` x `height` centred in `area` (both clamped to it): the help and the
/// failure groups' offer float the same way.
pub fn centered(area: ratatui::layout::Rect, width: u16, height: u16) -> ratatui::layout::Rect {
    use ratatui::layout::{Constraint, Flex, Layout};
    let [vertical] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(vertical);
    popup
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ages_pick_the_largest_unit() {
        let t0 = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(age(t0 + chrono::Duration::seconds(59), t0), "59s");
        assert_eq!(age(t0 + chrono::Duration::seconds(61), t0), "1m");
        assert_eq!(age(t0 + chrono::Duration::hours(5), t0), "5h");
        assert_eq!(age(t0 + chrono::Duration::days(3), t0), "3d");
        assert_eq!(age(t0, t0 + chrono::Duration::seconds(5)), "0s");
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_inside_long_words() {
        assert_eq!(wrap_text("a bb ccc", 4), vec!["a bb", "ccc"]);
        assert_eq!(
            wrap_text("arn:aws:iam::1", 5),
            vec!["arn:a", "ws:ia", "m::1"]
        );
        assert_eq!(wrap_text("", 5), vec![""]);
    }

    #[test]
    fn shorten_adds_an_ellipsis_only_when_cutting() {
        assert_eq!(shorten("abcdef", 6), "abcdef");
        assert_eq!(shorten("abcdefg", 6), "abcde…");
        // By display width: each of these takes two cells.
        assert_eq!(shorten("名前名前", 5), "名前…");
        assert_eq!(shorten("名前名前", 4), "名…");
        assert_eq!(shorten("x", 0), "");
    }

    #[test]
    fn thousands_groups_digits_by_three() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(2_989), "2,989");
        assert_eq!(super::thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn durations_read_as_an_operator_says_them() {
        assert_eq!(super::duration_words(45.2), "45 s");
        assert_eq!(super::duration_words(150.0), "2 min 30 s");
        assert_eq!(super::duration_words(3_299.0), "55 min");
        assert_eq!(super::duration_words(3_900.0), "1 h 5 min");
        assert_eq!(super::duration_words(f64::NAN), "0 s");
    }
}
