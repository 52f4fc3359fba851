//! Numbers as kernel text and tracesift's users write them: addresses in
//! decimal or hex, times as seconds with microseconds. Shared by the
//! command line, the rules' messages and every reporter.

/// Parse an address: decimal (`15302115328`) or hex with `0x` in any case
/// (`0x39013c000`, `0X39013C000`).
pub fn parse_addr(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, radix) = match t.get(..2) {
        Some("0x" | "0X") => (&t[2..], 16),
        _ => (t, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(format!(
            "'{s}' is not an extent buffer address: give eb->start in decimal (15302115328) or hex (0x39013c000)"
        ));
    }
    u64::from_str_radix(digits, radix).map_err(|_| format!("'{s}' does not fit in 64 bits"))
}

/// Nanoseconds as `seconds.micros`, the way printk and ftrace print times
/// (`2740.301767`).
pub(crate) fn fmt_secs(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, (ns % 1_000_000_000) / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_in_decimal_and_hex() {
        assert_eq!(parse_addr("15302115328"), Ok(15302115328));
        assert_eq!(parse_addr("0x390160000"), Ok(0x390160000));
        assert_eq!(parse_addr("0X390160000"), Ok(0x390160000));
        assert_eq!(parse_addr("0x362F3C000"), parse_addr("14545043456"));
        assert_eq!(parse_addr("0x362f3c000"), Ok(14545043456));
        assert_eq!(parse_addr("0x39013c000"), Ok(15302115328));
        assert!(parse_addr("").is_err());
        assert!(parse_addr("0x").is_err());
        assert!(parse_addr("12ab").is_err());
        assert!(parse_addr("-5").is_err());
        assert!(parse_addr("18446744073709551616").is_err());
        assert_eq!(parse_addr("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_addr(" 42 "), Ok(42));
    }

    #[test]
    fn seconds_with_micros() {
        assert_eq!(fmt_secs(2_740_301_767_000), "2740.301767");
        assert_eq!(fmt_secs(0), "0.000000");
        assert_eq!(fmt_secs(999), "0.000000");
    }
}
