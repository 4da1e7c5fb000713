//! `strftime_now(format)`: Python's `datetime.now().strftime(format)` over a fixed clock
//! (`RenderOptions::now_unix`, UTC), so a render is reproducible.

use time::OffsetDateTime;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// Formats `now_unix` (seconds since the epoch, UTC) with C/Python `strftime` directives:
/// `%Y %y %m %d %e %H %I %M %S %p %b %B %h %a %A %j %w %u %Z %z %F %T %D %R %c %x %X %%`, and the
/// glibc `%-d`-style flag that drops zero padding. Unknown directives are copied as written.
pub(crate) fn strftime(now_unix: i64, fmt: &str) -> Result<String, String> {
    let t = OffsetDateTime::from_unix_timestamp(now_unix)
        .map_err(|e| format!("strftime_now: the clock value {now_unix} is out of range: {e}"))?;
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut pad = true;
        if chars.peek() == Some(&'-') {
            pad = false;
            chars.next();
        }
        let Some(d) = chars.next() else {
            out.push('%');
            break;
        };
        let num = |n: i64, width: usize| {
            if pad {
                format!("{n:0width$}")
            } else {
                n.to_string()
            }
        };
        let month = t.month() as usize; // 1-based
        let weekday = t.weekday().number_days_from_monday() as usize;
        let hour12 = match t.hour() % 12 {
            0 => 12,
            h => h,
        };
        let piece = match d {
            'Y' => t.year().to_string(),
            'y' => num(i64::from(t.year().rem_euclid(100)), 2),
            'm' => num(month as i64, 2),
            'd' => num(i64::from(t.day()), 2),
            'e' => format!("{:>2}", t.day()),
            'H' => num(i64::from(t.hour()), 2),
            'I' => num(i64::from(hour12), 2),
            'M' => num(i64::from(t.minute()), 2),
            'S' => num(i64::from(t.second()), 2),
            'p' => if t.hour() < 12 { "AM" } else { "PM" }.to_string(),
            'b' | 'h' => MONTHS[month - 1][..3].to_string(),
            'B' => MONTHS[month - 1].to_string(),
            'a' => DAYS[weekday][..3].to_string(),
            'A' => DAYS[weekday].to_string(),
            'j' => num(i64::from(t.ordinal()), 3),
            'w' => ((weekday + 1) % 7).to_string(),
            'u' => (weekday + 1).to_string(),
            'Z' => "UTC".to_string(),
            'z' => "+0000".to_string(),
            'F' => format!("{:04}-{:02}-{:02}", t.year(), month, t.day()),
            'T' => format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second()),
            'R' => format!("{:02}:{:02}", t.hour(), t.minute()),
            'D' => format!("{:02}/{:02}/{:02}", month, t.day(), t.year().rem_euclid(100)),
            'c' => format!(
                "{} {} {:>2} {:02}:{:02}:{:02} {}",
                &DAYS[weekday][..3],
                &MONTHS[month - 1][..3],
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                t.year()
            ),
            'x' => format!("{:02}/{:02}/{:02}", month, t.day(), t.year().rem_euclid(100)),
            'X' => format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second()),
            '%' => "%".to_string(),
            other => {
                if pad {
                    format!("%{other}")
                } else {
                    format!("%-{other}")
                }
            }
        };
        out.push_str(&piece);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::strftime;

    #[test]
    fn python_formats() {
        // 2024-07-26 09:05:03 UTC, a Friday.
        let t = 1_721_984_703;
        assert_eq!(strftime(t, "%d %b %Y").ok().as_deref(), Some("26 Jul 2024"));
        assert_eq!(strftime(t, "%Y-%m-%d").ok().as_deref(), Some("2024-07-26"));
        assert_eq!(strftime(t, "%B %d, %Y").ok().as_deref(), Some("July 26, 2024"));
        assert_eq!(strftime(t, "%A %I:%M:%S %p %j %%").ok().as_deref(), Some("Friday 09:05:03 AM 208 %"));
        assert_eq!(strftime(t, "%-H:%-M").ok().as_deref(), Some("9:5"));
    }
}
