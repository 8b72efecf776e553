//! Go-style durations (`90s`, `15m`, `1h30m`), as users write them in schedules and flags.

use std::time::Duration;

/// A duration string that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {why} (expected whole numbers with h, m, s or ms units, such as 1h30m)")]
pub struct ParseDurationError {
    input: String,
    why: &'static str,
}

/// Parses a sequence of `<number><unit>` pairs with units `h`, `m`, `s`, `ms`.
pub fn parse_duration(input: &str) -> Result<Duration, ParseDurationError> {
    let fail = |why| ParseDurationError { input: input.to_string(), why };
    if input.is_empty() {
        return Err(fail("it is empty"));
    }
    let mut total = Duration::ZERO;
    let mut rest = input;
    while !rest.is_empty() {
        let digits =
            rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| fail("a number lacks its unit"))?;
        if digits == 0 {
            return Err(fail("a unit lacks its number"));
        }
        let value: u64 = rest[..digits].parse().map_err(|_| fail("a number is too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "h" => Duration::from_secs(3600),
            "m" => Duration::from_secs(60),
            "s" => Duration::from_secs(1),
            "ms" => Duration::from_millis(1),
            _ => return Err(fail("unknown unit")),
        };
        let part = unit.checked_mul(u32::try_from(value).map_err(|_| fail("a number is too large"))?);
        total = total
            .checked_add(part.ok_or_else(|| fail("it is too long"))?)
            .ok_or_else(|| fail("it is too long"))?;
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// `parse_duration` for clap.
pub fn parse_duration_arg(input: &str) -> Result<Duration, String> {
    parse_duration(input).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_compound_durations() {
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn rejects_malformed_durations() {
        for bad in ["", "10", "m", "5d", "1h30", "99999999999h"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should not parse");
        }
    }
}
