//! Narration without `core::fmt`.
//!
//! `core::fmt` would add kilobytes to every demo; a demo only ever needs
//! strings, decimal numbers and `0x` addresses. A [`Line`] collects them in
//! a buffer on the stack and hands it to write(2) in one piece, so that
//! strace shows one `write` a line instead of one a fragment.

use core::mem::MaybeUninit;

/// File descriptors 1 and 2, open when the kernel starts us (`stdout(3)`).
pub const STDOUT: usize = 1;
pub const STDERR: usize = 2;

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Room for one line of narration; a longer line is written in pieces.
const CAPACITY: usize = 192;

/// A line being built: `Line::new(STDERR).str("brk = ").hex(brk).str("\n").write()`.
pub struct Line {
    /// Left uninitialised: zeroing it would cost a `memset` call (and a
    /// GOT entry for it) in every demo. Only `buf[..len]` is ever read.
    buf: MaybeUninit<[u8; CAPACITY]>,
    len: usize,
    /// Where the line goes: STDOUT or STDERR.
    fd: usize,
}

impl Line {
    /// A line for `fd`, STDOUT or STDERR. Chosen now, not at `write`:
    /// a line longer than the buffer is written in pieces as it grows,
    /// and every piece must go to the same place.
    pub const fn new(fd: usize) -> Self {
        Line {
            buf: MaybeUninit::uninit(),
            len: 0,
            fd,
        }
    }

    /// Appends raw bytes (an argument, an environment string).
    // Never inlined, like the other appenders: a demo calls them dozens of
    // times, and one shared copy keeps it under its size budget.
    #[inline(never)]
    pub fn bytes(&mut self, s: &[u8]) -> &mut Self {
        for &b in s {
            if self.len >= CAPACITY {
                self.flush();
            }
            // SAFETY: len < CAPACITY after the flush above, so the byte
            // lands inside `buf`.
            unsafe { self.buf.as_mut_ptr().cast::<u8>().add(self.len).write(b) };
            self.len += 1;
        }
        self
    }

    pub fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }

    /// Appends `n` in decimal.
    #[inline(never)]
    pub fn dec(&mut self, n: u64) -> &mut Self {
        self.digits(n, 10)
    }

    /// Appends `n` as `0x…` in lower-case hex, as /proc/PID/maps writes it.
    #[inline(never)]
    pub fn hex(&mut self, n: u64) -> &mut Self {
        self.str("0x").digits(n, 16)
    }

    /// The digits of `n` in `radix` (10 or 16), most significant first.
    #[inline(never)]
    fn digits(&mut self, mut n: u64, radix: u64) -> &mut Self {
        let mut digits = [0u8; 20]; // u64::MAX has 20 decimal digits
        let mut start = digits.len();
        for slot in digits.iter_mut().rev() {
            *slot = HEX_DIGITS[(n % radix) as usize & 0xf];
            start -= 1;
            n /= radix;
            if n == 0 {
                break;
            }
        }
        self.bytes(digits.get(start..).unwrap_or_default())
    }

    /// Appends a size the way a student reads it: `4100 bytes`, `132 KiB`,
    /// `512 MiB` (whole units only, else bytes).
    pub fn size(&mut self, n: u64) -> &mut Self {
        const KIB: u64 = 1024;
        if n != 0 && n.is_multiple_of(KIB * KIB) {
            self.dec(n / (KIB * KIB)).str(" MiB")
        } else if n != 0 && n.is_multiple_of(KIB) {
            self.dec(n / KIB).str(" KiB")
        } else {
            self.dec(n).str(" bytes")
        }
    }

    /// What has been collected, not yet written.
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: `bytes` has written the first `len` (<= CAPACITY) bytes.
        unsafe { core::slice::from_raw_parts(self.buf.as_ptr().cast::<u8>(), self.len) }
    }

    fn flush(&mut self) {
        // Narration is best effort: a closed stderr must not fail the lesson.
        let _ = crate::calls::write(self.fd, self.as_bytes());
        self.len = 0;
    }

    /// Writes what has been collected, and empties the line for reuse.
    // Never inlined: a demo writes a line at each stop, and one shared
    // copy saves about 50 bytes per call site.
    #[inline(never)]
    pub fn write(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_render_like_proc_does() {
        let mut l = Line::new(STDERR);
        l.dec(0).str(" ").dec(4100).str(" ").dec(u64::MAX).str(" ");
        l.hex(0).str(" ").hex(0x40_0000).str(" ").hex(u64::MAX);
        assert_eq!(
            std::str::from_utf8(l.as_bytes()).unwrap(),
            "0 4100 18446744073709551615 0x0 0x400000 0xffffffffffffffff"
        );
    }

    #[test]
    fn sizes_use_whole_units_only() {
        let mut l = Line::new(STDERR);
        l.size(4100)
            .str(",")
            .size(135_168)
            .str(",")
            .size(512 << 20)
            .str(",")
            .size(0);
        assert_eq!(
            std::str::from_utf8(l.as_bytes()).unwrap(),
            "4100 bytes,132 KiB,512 MiB,0 bytes"
        );
    }
}
