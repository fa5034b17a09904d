//! `/proc/PID/stat` (the layout fields) and `/proc/PID/auxv`.
//!
//! Field numbers are those of `proc_pid_stat(5)`. The kernel shows the
//! address fields only to a reader that passes
//! `ptrace_may_access(PTRACE_MODE_READ_FSCREDS)` (`fs/proc/array.c`,
//! `do_task_stat`): the same uid and gid as the process, which must be
//! dumpable, or CAP_SYS_PTRACE. Being its parent is not enough. To other
//! readers start_code and end_code read 1 and the rest 0.

/// The fields of /proc/PID/stat that say where things are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    pub pid: u32,
    pub comm: String,
    /// `R` running, `S` sleeping, `T` stopped by a signal, `t` traced, `Z` zombie, …
    pub state: char,
    /// (10) minor page faults so far: faults the kernel served without
    /// reading from disk (a fresh zeroed page, the zero page, a page
    /// already in the page cache, a copy-on-write copy).
    pub minflt: u64,
    /// (24) resident set size, in pages; may lag behind, see [`status_kib`].
    pub rss_pages: u64,
    /// (26, 27) .text of the program.
    pub start_code: u64,
    pub end_code: u64,
    /// (28) the address of argc: the initial rsp, below argv, envp and
    /// auxv (not the top of [stack], where the strings lie).
    pub start_stack: u64,
    /// (45, 46) .data only, not .bss: the last PT_LOAD segment from its
    /// p_vaddr to p_vaddr + p_filesz, the end of its bytes in the file
    /// (`fs/binfmt_elf.c`); .bss has none, so it starts at end_data.
    pub start_data: u64,
    pub end_data: u64,
    /// (47) where the program break started: the bottom of [heap].
    pub start_brk: u64,
    /// (48–51) argv and environment strings, at the top of [stack].
    pub arg_start: u64,
    pub arg_end: u64,
    pub env_start: u64,
    pub env_end: u64,
}

/// Parses the text of /proc/PID/stat.
pub fn parse(text: &str) -> Result<Stat, String> {
    let bad = || format!("bad stat: {text:?}");
    // comm is in parentheses and may contain spaces and ')': take the last.
    let open = text.find('(').ok_or_else(bad)?;
    let close = text.rfind(')').ok_or_else(bad)?;
    let pid = text[..open].trim().parse().map_err(|_| bad())?;
    let comm = text[open + 1..close].to_string();
    // Field 3 (state) is the first after comm.
    let fields: Vec<&str> = text[close + 1..].split_whitespace().collect();
    let field = |n: usize| -> Result<u64, String> {
        fields
            .get(n - 3)
            .ok_or_else(bad)?
            .parse()
            .map_err(|_| bad())
    };
    Ok(Stat {
        pid,
        comm,
        state: fields
            .first()
            .and_then(|s| s.chars().next())
            .ok_or_else(bad)?,
        minflt: field(10)?,
        rss_pages: field(24)?,
        start_code: field(26)?,
        end_code: field(27)?,
        start_stack: field(28)?,
        start_data: field(45)?,
        end_data: field(46)?,
        start_brk: field(47)?,
        arg_start: field(48)?,
        arg_end: field(49)?,
        env_start: field(50)?,
        env_end: field(51)?,
    })
}

/// Reads /proc/PID/stat.
pub fn read(pid: u32) -> std::io::Result<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse(&text).map_err(std::io::Error::other)
}

/// A `kB` field of /proc/PID/status (`VmRSS`, `VmSize`, …). Unlike the
/// rss of /proc/PID/stat, which may lag behind (the kernel sums its
/// per-CPU counters lazily there), `VmRSS` is the exact sum.
pub fn status_kib(pid: u32, field: &str) -> std::io::Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no {field} in /proc/{pid}/status")))
}

/// Parses /proc/PID/auxv of a 64-bit process: native-endian (type, value)
/// pairs of u64, up to and without the terminating `AT_NULL`.
pub fn parse_auxv(bytes: &[u8]) -> Vec<(u64, u64)> {
    parse_auxv_words(bytes, 8)
}

/// Parses /proc/PID/auxv whose words are `word` bytes wide: 8 for a
/// 64-bit process, 4 for an i386 one (the kernel shows each process its
/// own `saved_auxv` as that process's ABI laid it out, `fs/proc/base.c`).
pub fn parse_auxv_words(bytes: &[u8], word: usize) -> Vec<(u64, u64)> {
    let read = |c: &[u8]| match word {
        4 => u64::from(u32::from_ne_bytes(c.try_into().expect("4-byte word"))),
        _ => u64::from_ne_bytes(c.try_into().expect("8-byte word")),
    };
    bytes
        .chunks_exact(2 * word)
        .map(|pair| (read(&pair[..word]), read(&pair[word..])))
        .take_while(|&(kind, _)| kind != 0)
        .collect()
}

/// The width of a process's words, 4 or 8, from the ELF class of its
/// executable (`/proc/PID/exe`). 8 if it cannot be read.
pub fn word_size(pid: u32) -> usize {
    let exe = std::path::PathBuf::from(format!("/proc/{pid}/exe"));
    match crate::elf::Elf::read(&exe) {
        Ok(elf) if elf.class == crate::elf::ELFCLASS32 => 4,
        _ => 8,
    }
}

/// Reads /proc/PID/auxv, in the word size of the process.
pub fn read_auxv(pid: u32) -> std::io::Result<Vec<(u64, u64)>> {
    let bytes = std::fs::read(format!("/proc/{pid}/auxv"))?;
    Ok(parse_auxv_words(&bytes, word_size(pid)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_stat_line_with_a_hostile_comm() {
        // Captured from `stop` on this machine, comm changed to contain
        // the characters that break a naive split.
        let line = "2509 (st) op (x) T 2500 2509 2500 34816 2509 1077936384 27 0 0 0 0 0 0 0 20 0 1 0 \
4242 12288 1 18446744073709551615 4198400 4200394 140722358214512 0 0 0 0 0 0 0 0 0 19 1 0 0 0 0 0 \
4205384 4205396 4206592 140722358218501 140722358218526 140722358218526 140722358218730 0\n";
        let s = parse(line).unwrap();
        assert_eq!(s.pid, 2509);
        assert_eq!(s.comm, "st) op (x");
        assert_eq!(s.state, 'T');
        assert_eq!(s.minflt, 27);
        assert_eq!(s.start_code, 4198400);
        assert_eq!(s.end_code, 4200394);
        assert_eq!(s.start_stack, 140722358214512);
        assert_eq!(s.start_data, 4205384);
        assert_eq!(s.start_brk, 4206592);
        assert_eq!(s.arg_start, 140722358218501);
        assert_eq!(s.env_end, 140722358218730);
    }

    #[test]
    fn rejects_truncated_stat() {
        assert!(parse("").is_err());
        assert!(parse("12 (x) T 1 2 3").is_err());
    }

    #[test]
    fn auxv_stops_at_at_null() {
        let mut bytes = Vec::new();
        for w in [6u64, 4096, 25, 0x7ffc_0000_1234, 0, 0, 99, 99] {
            bytes.extend_from_slice(&w.to_ne_bytes());
        }
        assert_eq!(parse_auxv(&bytes), vec![(6, 4096), (25, 0x7ffc_0000_1234)]);
    }

    #[test]
    fn auxv_of_an_i386_process_has_32_bit_words() {
        let mut bytes = Vec::new();
        for w in [6u32, 4096, 33, 0xf7f8_a000, 0, 0, 99, 99] {
            bytes.extend_from_slice(&w.to_ne_bytes());
        }
        assert_eq!(
            parse_auxv_words(&bytes, 4),
            vec![(6, 4096), (33, 0xf7f8_a000)]
        );
        // Read as 64-bit words, the same bytes would be nonsense pairs.
        assert_ne!(parse_auxv(&bytes), parse_auxv_words(&bytes, 4));
    }

    #[test]
    fn reads_our_own_stat_and_auxv() {
        let me = std::process::id();
        let s = read(me).unwrap();
        assert_eq!(s.pid, me);
        assert!(s.start_code < s.end_code);
        assert!(s.arg_start < s.arg_end && s.arg_end <= s.env_start);
        // Loading this test binary alone took page faults.
        assert!(s.minflt > 0);
        let auxv = read_auxv(me).unwrap();
        // AT_PAGESZ (6) is always there.
        assert!(auxv.contains(&(6, 4096)));
    }
}
