//! Kubernetes resource quantities (`500m`, `128Mi`, `1e3`), parsed the way the API server parses them.

use std::fmt;

/// A parsed quantity: its value as a floating-point number of base units (bytes, cores).
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Quantity(pub f64);

/// Why a quantity string is not a quantity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuantityError(pub String);

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a valid quantity (a number with an optional suffix such as 500m, 128Mi, 1G or 1e3)",
            self.0
        )
    }
}

impl Quantity {
    /// Parses `text` by the Kubernetes grammar `<signedNumber><suffix>`.
    pub fn parse(text: &str) -> Result<Self, QuantityError> {
        let err = || QuantityError(text.to_string());
        let s = text.trim();
        if s.is_empty() || s != text {
            return Err(err());
        }
        let (sign, rest) = match s.as_bytes()[0] {
            b'+' => (1.0, &s[1..]),
            b'-' => (-1.0, &s[1..]),
            _ => (1.0, s),
        };
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, suffix) = rest.split_at(num_end);
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return Err(err());
        }
        let base: f64 = num.parse().map_err(|_| err())?;
        let factor = match suffix {
            "" => 1.0,
            "n" => 1e-9,
            "u" => 1e-6,
            "m" => 1e-3,
            "k" => 1e3,
            "M" => 1e6,
            "G" => 1e9,
            "T" => 1e12,
            "P" => 1e15,
            "E" => 1e18,
            "Ki" => 1024.0,
            "Mi" => 1024f64.powi(2),
            "Gi" => 1024f64.powi(3),
            "Ti" => 1024f64.powi(4),
            "Pi" => 1024f64.powi(5),
            "Ei" => 1024f64.powi(6),
            exp if exp.starts_with(['e', 'E']) => {
                let e = &exp[1..];
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                    return Err(err());
                }
                let e: i32 = e.parse().map_err(|_| err())?;
                10f64.powi(e)
            }
            _ => return Err(err()),
        };
        Ok(Quantity(sign * base * factor))
    }

    /// The value rounded up to a whole number (bytes for memory).
    pub fn ceil_u64(self) -> u64 {
        if self.0 <= 0.0 {
            0
        } else {
            self.0.ceil() as u64
        }
    }

    /// The value in thousandths (millicores for CPU), rounded up.
    pub fn millis(self) -> u64 {
        if self.0 <= 0.0 {
            0
        } else {
            (self.0 * 1000.0 - 1e-9).ceil() as u64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_kubernetes_grammar() {
        assert_eq!(Quantity::parse("500m").unwrap().millis(), 500);
        assert_eq!(Quantity::parse("2").unwrap().millis(), 2000);
        assert_eq!(Quantity::parse("0.5").unwrap().millis(), 500);
        assert_eq!(
            Quantity::parse("128Mi").unwrap().ceil_u64(),
            128 * 1024 * 1024
        );
        assert_eq!(Quantity::parse("1G").unwrap().ceil_u64(), 1_000_000_000);
        assert_eq!(Quantity::parse("1e3").unwrap().ceil_u64(), 1000);
        assert_eq!(Quantity::parse(".5Ki").unwrap().ceil_u64(), 512);
        for bad in ["", "abc", "1.2.3", "12MB", "1e", "--1", " 1", "1 "] {
            assert!(Quantity::parse(bad).is_err(), "{bad}");
        }
    }
}
