//! Words for a 32-bit (i386) run, a renderer's part: what differs in the
//! layout of an i386 process, with the addresses of the stop at hand,
//! and with `--arch both` the differences between the x86-64 and the
//! i686 run of one lesson, stop by stop. Reads only the recording: the
//! run's `program` file (its ELF class) and the stop's `maps` and
//! `personality`.

use procfs::Mapping;

use crate::record::{DemoRun, Stop};

/// Where a 32-bit process's user space ends on a 64-bit kernel
/// (`IA32_PAGE_OFFSET`), and under ADDR_LIMIT_3GB.
const IA32_TOP: u64 = procfs::i686::IA32_TASK_SIZE;
const TOP_3GB: u64 = procfs::i686::LIMIT_3GB;

/// Whether the run's program is an i386 ELF file (ELFCLASS32, EM_386).
pub fn is_i386(run: &DemoRun) -> bool {
    use procfs::elf::{ELFCLASS32, EM_386, Elf};
    run.bytes("program")
        .and_then(|b| Elf::parse(b).ok())
        .is_some_and(|e| e.class == ELFCLASS32 && e.machine == EM_386)
}

/// The stop's personality (`/proc/PID/personality`, hex), if recorded.
fn personality(stop: &Stop) -> Option<u64> {
    u64::from_str_radix(stop.text("personality")?.trim(), 16).ok()
}

fn parsed(stop: &Stop) -> Vec<Mapping> {
    stop.text("maps")
        .and_then(|t| procfs::maps::parse(&t).ok())
        .unwrap_or_default()
}

/// The note under the first stop of an i386 run: the 32-bit layout, with
/// this run's addresses. `None` for a 64-bit run.
pub fn note(run: &DemoRun, stop: &Stop) -> Option<String> {
    if !is_i386(run) {
        return None;
    }
    let maps = parsed(stop);
    let find = |name: &str| procfs::maps::find(&maps, name);
    let limit_3gb = personality(stop).is_some_and(|p| p & procfs::child::ADDR_LIMIT_3GB != 0);
    let mut text = String::from("\n  32-bit (i386) process");
    if limit_3gb {
        text += &format!(
            " with ADDR_LIMIT_3GB (setarch i386 --3gb): user space ends at {TOP_3GB:#x}, \
             as under a 32-bit kernel's 3 GiB/1 GiB split (the top GiB was the kernel's): \
             seed 001's layout.\n"
        );
    } else {
        text += &format!(
            " on a 64-bit kernel: user space ends at {IA32_TOP:#x}, 4 GiB less one page \
             (a 32-bit kernel kept the top GiB for itself: --3gb shows that layout).\n"
        );
    }
    text += "  Addresses have 8 hex digits; no [vsyscall] (x86-64 only); the program sits at \
             0x08048000, the i386 ET_EXEC address.\n";
    if let Some(s) = find("[stack]") {
        text += &format!(
            "  [stack] ends at {:#x}, {} below the top: the stack's randomisation.\n",
            s.end,
            size((if limit_3gb { TOP_3GB } else { IA32_TOP }).saturating_sub(s.end))
        );
    }
    if let (Some(vvar), Some(vdso)) = (find("[vvar]"), find("[vdso]")) {
        text += &format!(
            "  [vvar] at {:#x} and [vdso] at {:#x}: mapped at mmap_base, below the stack gap; \
             mmap takes addresses from right below them, downwards.\n",
            vvar.start, vdso.start
        );
    }
    if let Some(h) = find("[heap]") {
        text += &format!(
            "  [heap] at {:#x}: randomised within 32 MiB above the program (1 GiB for x86-64).\n",
            h.start
        );
    }
    if personality(stop).is_some_and(|p| p & procfs::child::READ_IMPLIES_EXEC != 0) {
        text += "  READ_IMPLIES_EXEC: every readable mapping is executable (no PT_GNU_STACK).\n";
    }
    Some(text)
}

/// `4 KiB`, `1 MiB`, `3 GiB`: the largest whole unit.
fn size(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if n >= unit && n.is_multiple_of(unit) {
            return format!("{} {name}", n / unit);
        }
    }
    format!("{n} bytes")
}

/// The regions compared between the architectures, by how maps names
/// them (the program: its first line).
const REGIONS: &[&str] = &["[heap]", "[vvar]", "[vdso]", "[stack]", "[vsyscall]"];

/// What differs at stop `i` of the same lesson on x86-64 (`a`) and i686
/// (`b`): where each region is, the anonymous mappings, the address width.
pub fn differences(a: (&DemoRun, &Stop), b: (&DemoRun, &Stop)) -> String {
    let (ma, mb) = (parsed(a.1), parsed(b.1));
    let mut text = String::from("\n  x86-64 vs i686 at this stop:\n");
    let width = |maps: &[Mapping]| {
        maps.iter()
            .filter(|m| m.path != "[vsyscall]")
            .map(|m| format!("{:x}", m.end.saturating_sub(1)).len())
            .max()
            .unwrap_or(0)
    };
    text += &format!(
        "    {:<12}{:>20} vs {:>10}\n",
        "hex digits",
        width(&ma),
        width(&mb)
    );
    let program = |run: &DemoRun, maps: &[Mapping]| {
        let path = run.text("program.path").unwrap_or_default();
        let path = path.trim_end();
        maps.iter().find(|m| m.path == path).map(|m| m.start)
    };
    let at = |o: Option<u64>| o.map_or("none".to_string(), |s| format!("{s:#x}"));
    text += &format!(
        "    {:<12}{:>20} vs {:>10}\n",
        "program",
        at(program(a.0, &ma)),
        at(program(b.0, &mb))
    );
    for name in REGIONS {
        let s = |maps: &[Mapping]| procfs::maps::find(maps, name).map(|m| m.start);
        if s(&ma).is_none() && s(&mb).is_none() {
            continue;
        }
        text += &format!("    {name:<12}{:>20} vs {:>10}\n", at(s(&ma)), at(s(&mb)));
    }
    let anon = |maps: &[Mapping]| -> Vec<String> {
        maps.iter()
            .filter(|m| m.path.is_empty())
            .map(|m| format!("{:#x} ({})", m.start, size(m.size())))
            .collect()
    };
    let (aa, ab) = (anon(&ma), anon(&mb));
    if !aa.is_empty() || !ab.is_empty() {
        text += &format!(
            "    {:<12}{} vs {}\n",
            "anonymous",
            if aa.is_empty() {
                "none".into()
            } else {
                aa.join(", ")
            },
            if ab.is_empty() {
                "none".into()
            } else {
                ab.join(", ")
            }
        );
    }
    let len = |r: &DemoRun| r.bytes("program").map_or(0, <[u8]>::len);
    text += &format!(
        "    {:<12}{:>20} vs {:>10}\n",
        "file bytes",
        len(a.0),
        len(b.0)
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_with(program: &[u8]) -> DemoRun {
        let mut run = DemoRun::default();
        run.files.insert("program".into(), program.to_vec());
        run
    }

    /// An Elf32_Ehdr of an i386 ET_EXEC with no program or section
    /// headers: 52 bytes, fields at their elf(5) offsets.
    fn elf32_header() -> Vec<u8> {
        let mut h = vec![0u8; 52];
        h[..8].copy_from_slice(&[0x7f, b'E', b'L', b'F', 1, 1, 1, 0]);
        h[16] = 2; // e_type ET_EXEC
        h[18] = 3; // e_machine EM_386
        h[20] = 1; // e_version
        h[40] = 52; // e_ehsize
        h[42] = 32; // e_phentsize
        h[46] = 40; // e_shentsize
        h
    }

    #[test]
    fn an_i386_program_is_known_by_its_class_and_machine() {
        assert!(is_i386(&run_with(&elf32_header())));
        // This test binary: ELFCLASS64, EM_X86_64.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(!is_i386(&run_with(&me)));
        assert!(!is_i386(&DemoRun::default()));
    }

    #[test]
    fn the_note_reads_the_3gb_personality_and_the_addresses() {
        let run = run_with(&elf32_header());
        let mut stop = Stop::default();
        stop.files.insert(
            "maps".into(),
            b"b7f22000-b7f26000 r--p 00000000 00:00 0 [vvar]\n\
              b7f28000-b7f2a000 r-xp 00000000 00:00 0 [vdso]\n\
              bfc52000-bfc73000 rw-p 00000000 00:00 0 [stack]\n"
                .to_vec(),
        );
        stop.files
            .insert("personality".into(), b"08000008\n".to_vec());
        let text = note(&run, &stop).unwrap();
        assert!(text.contains("ADDR_LIMIT_3GB"), "{text}");
        assert!(text.contains("[stack] ends at 0xbfc73000"), "{text}");
        assert!(text.contains("[vdso] at 0xb7f28000"), "{text}");
        stop.files
            .insert("personality".into(), b"00000000\n".to_vec());
        assert!(note(&run, &stop).unwrap().contains("ends at 0xffffe000"));
        assert_eq!(note(&DemoRun::default(), &stop), None);
    }
}
