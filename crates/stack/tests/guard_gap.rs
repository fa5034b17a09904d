//! The stack guard gap, on the running kernel: [stack] does not grow
//! within `stack_guard_gap` (256 pages, 1 MiB, unless the boot option
//! says otherwise) of the next *accessible* mapping below it; a
//! PROT_NONE mapping does not count (`expand_downwards`, mm/mmap.c).
//!
//! Each case runs in a child: this test program again, on its main
//! thread, whose stack is [stack]. It maps one page some distance below
//! an address 64 KiB under [stack], then writes to that address: the
//! kernel grows [stack] over it, or refuses with SIGSEGV.

use std::process::Command;

const CASE: &str = "GUARD_GAP_CASE";
const PAGE: u64 = 4096;
/// mmap(2) and signal(7) numbers for x86-64.
const PROT_NONE: i32 = 0;
const PROT_RW: i32 = 3;
const MAP_PRIVATE_ANONYMOUS_FIXED_NOREPLACE: i32 = 0x02 | 0x20 | 0x10_0000;
const SIGSEGV: i32 = 11;
/// The written address lies this far below [stack]'s start.
const BELOW: u64 = 64 << 10;

unsafe extern "C" {
    fn mmap(addr: *mut u8, len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> *mut u8;
}

/// `stack_guard_gap` of this boot, in bytes.
fn guard_gap() -> u64 {
    let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
    let pages = cmdline
        .split_whitespace()
        .find_map(|w| w.strip_prefix("stack_guard_gap=")?.parse::<u64>().ok())
        .unwrap_or(256);
    pages * PAGE
}

/// The child: a page with `prot` whose end lies `gap` below the target,
/// then the write.
fn child(prot: i32, gap: u64) -> ! {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let stack = maps.lines().find(|l| l.ends_with("[stack]")).unwrap();
    let start = u64::from_str_radix(stack.split('-').next().unwrap(), 16).unwrap();
    let target = start - BELOW;
    let page = target - gap - PAGE;
    // SAFETY: MAP_FIXED_NOREPLACE maps there only if nothing is there.
    let p = unsafe {
        mmap(
            page as *mut u8,
            PAGE as usize,
            prot,
            MAP_PRIVATE_ANONYMOUS_FIXED_NOREPLACE,
            -1,
            0,
        )
    };
    if p as u64 != page {
        std::process::exit(3);
    }
    // SAFETY: below the stack pointer, in what [stack] grows over (or
    // the kernel refuses with SIGSEGV, which is the answer we test).
    unsafe { std::ptr::write_volatile(target as *mut u8, 1) };
    std::process::exit(0)
}

/// Runs one case; `Ok(())` for a clean exit, `Err(signal)` if killed.
fn case(prot: i32, gap: u64) -> Result<(), i32> {
    use std::os::unix::process::ExitStatusExt;
    let status = Command::new(std::env::current_exe().unwrap())
        .env(CASE, format!("{prot} {gap}"))
        .status()
        .unwrap();
    match (status.code(), status.signal()) {
        (Some(0), _) => Ok(()),
        (_, Some(sig)) => Err(sig),
        (code, _) => panic!("case {prot} {gap}: exit {code:?}"),
    }
}

fn main() {
    if let Ok(c) = std::env::var(CASE) {
        let (prot, gap) = c.split_once(' ').unwrap();
        child(prot.parse().unwrap(), gap.parse().unwrap());
    }
    let gap = guard_gap();
    assert_eq!(
        case(PROT_RW, gap / 2),
        Err(SIGSEGV),
        "an rw page inside the gap stops [stack]"
    );
    assert_eq!(
        case(PROT_NONE, gap / 2),
        Ok(()),
        "a PROT_NONE page does not count"
    );
    assert_eq!(
        case(PROT_RW, gap + PAGE),
        Ok(()),
        "an rw page just past the gap does not stop it"
    );
    println!(
        "guard_gap: 3 cases as the kernel says (stack_guard_gap {} KiB)",
        gap >> 10
    );
}
