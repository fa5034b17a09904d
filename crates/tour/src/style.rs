//! Sizes as people say them, and colour (only on a terminal, never with
//! `NO_COLOR`, see <https://no-color.org>).

use std::ffi::OsStr;
use std::io::IsTerminal;

const KIB: u64 = 1 << 10;
pub const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
const TIB: u64 = 1 << 40;
const PIB: u64 = 1 << 50;
const EIB: u64 = 1 << 60;

/// Below this a size that is not whole KiB is given in bytes: an ELF
/// section of 725 B or 2637 B reads better exact than as 0.7 or 2.6 KiB.
const EXACT_BELOW: u64 = 10 * KIB;

/// A size, of a mapping (whole pages) or an ELF section (any number of
/// bytes): `4 KiB`, `132 KiB`, `725 B`, `19.5 KiB`, `512 MiB`,
/// `512.5 MiB`; one decimal when not whole.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b >= MIB => scaled(b, MIB, "MiB"),
        b if b < EXACT_BELOW && !b.is_multiple_of(KIB) => format!("{b} B"),
        b => scaled(b, KIB, "KiB"),
    }
}

/// A gap's size, which may be terabytes: `1.9 GiB`, `127.9 TiB`, and up
/// to the 16 EiB from [stack] to [vsyscall], almost all of them
/// non-canonical addresses (see `diagram::USER_TOP`).
pub fn big(bytes: u64) -> String {
    match bytes {
        b if b >= EIB => scaled(b, EIB, "EiB"),
        b if b >= PIB => scaled(b, PIB, "PiB"),
        b if b >= TIB => scaled(b, TIB, "TiB"),
        b if b >= GIB => scaled(b, GIB, "GiB"),
        b => size(b),
    }
}

fn scaled(bytes: u64, unit: u64, name: &str) -> String {
    if bytes.is_multiple_of(unit) {
        format!("{} {name}", bytes / unit)
    } else {
        format!("{:.1} {name}", bytes as f64 / unit as f64)
    }
}

/// A signed size change: `+4 KiB`, `-512 MiB`.
pub fn delta(old: u64, new: u64) -> String {
    if new >= old {
        format!("+{}", size(new - old))
    } else {
        format!("-{}", size(old - new))
    }
}

/// ANSI colours, or nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    pub on: bool,
}

impl Style {
    /// For this process: is stdout a terminal, and `NO_COLOR`.
    pub fn detect() -> Style {
        Style::new(
            std::io::stdout().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        )
    }

    /// Colour only on a terminal, and not when `no_color` (the value of
    /// `NO_COLOR`) is set to anything but the empty string, which
    /// no-color.org says to treat as unset.
    pub fn new(is_tty: bool, no_color: Option<&OsStr>) -> Style {
        let refused = no_color.is_some_and(|v| !v.is_empty());
        Style {
            on: is_tty && !refused,
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.on && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn added(&self, t: &str) -> String {
        self.paint("32", t)
    }
    pub fn removed(&self, t: &str) -> String {
        self.paint("31", t)
    }
    pub fn changed(&self, t: &str) -> String {
        self.paint("33", t)
    }
    pub fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
    pub fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_the_seeds() {
        assert_eq!(size(4096), "4 KiB");
        assert_eq!(size(132 * KIB), "132 KiB");
        assert_eq!(size(512 * MIB), "512 MiB");
        assert_eq!(size(512 * MIB + 512 * KIB), "512.5 MiB");
        assert_eq!(size(100), "100 B");
        assert_eq!(size(2637), "2637 B");
        assert_eq!(size(20_000), "19.5 KiB");
        assert_eq!(size(12 * KIB), "12 KiB");
        assert_eq!(big(0x7ff0_0000_0000), "127.9 TiB");
        assert_eq!(big(3 * GIB), "3 GiB");
        assert_eq!(big(0xffff_ffff_ff60_0000 - 0x7ffd_f240_b000), "16.0 EiB");
        assert_eq!(delta(8192, 12288), "+4 KiB");
        assert_eq!(delta(512 * MIB + 512 * KIB, 512 * KIB), "-512 MiB");
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        let set = Some(OsStr::new("1"));
        let empty = Some(OsStr::new(""));
        assert!(Style::new(true, None).on, "a terminal, NO_COLOR unset");
        assert!(!Style::new(true, set).on, "a terminal, NO_COLOR=1");
        assert!(Style::new(true, empty).on, "NO_COLOR= counts as unset");
        assert!(!Style::new(false, None).on, "not a terminal");
        assert!(!Style::new(false, set).on, "neither");
    }

    #[test]
    fn no_colour_means_plain_text() {
        assert_eq!(Style { on: false }.added("+"), "+");
        assert_eq!(Style { on: true }.added("+"), "\x1b[32m+\x1b[0m");
    }
}
