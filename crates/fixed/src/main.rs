//! `fixed`: memory at an address we choose, and the one address nobody
//! gets. Seed 002 maps an anonymous page at 0x40000; seed 000 notes that
//! the lowest pages are never handed out, so that NULL pointers fault.
//!
//! - Stop 1: a new line `00040000-00041000 rw-p 00000000 00:00 0`, below
//!   the program at 0x400000: one anonymous page exactly where we asked.
//! - Stop 2: page 0. As a normal user the kernel refused with EPERM: no
//!   process may map below `vm.mmap_min_addr` (printed, from
//!   /proc/sys/vm/mmap_min_addr) without CAP_SYS_RAWIO. With that
//!   capability (root has it, but not always inside a container) the
//!   kernel allowed it: maps then starts with `00000000-00001000 rw-p`,
//!   and a NULL pointer points at real memory. An LSM may still refuse
//!   root: SELinux, when enforcing, also wants its `mmap_zero` permission
//!   below CONFIG_LSM_MMAP_MIN_ADDR.
//!
//! stdout, at stop 2: `mmap_min_addr N`, then `page_zero mapped` or
//! `page_zero refused ERRNO`. Exit 0 either way.
#![no_std]
#![no_main]

use sys::out::{STDERR, STDOUT};
use sys::{Args, Cli, Errno, Line, OrExit, PAGE_SIZE};

const USAGE: &str = "usage: fixed [-q]
A page at 0x40000, then page 0 (vm.mmap_min_addr); a stop after each.
  -q   no narration\n";

/// Seed 002's fixed address: 256 KiB, below the program at 0x400000 and
/// above any usual vm.mmap_min_addr (4096 or 65536).
const FIXED_ADDR: usize = 0x4_0000;
/// Where the kernel tells the lowest address mmap hands out without
/// CAP_SYS_RAWIO (Documentation/admin-guide/sysctl/vm.rst, "mmap_min_addr").
const MMAP_MIN_ADDR_PATH: &[u8] = b"/proc/sys/vm/mmap_min_addr\0";
/// Room for that file's text: at most 20 digits (u64) and a newline.
const NUMBER_LINE: usize = 21;
/// Something to find at 0x40000 with gdb (`x/gx 0x40000`).
const MARK: u64 = 0x4_0000;

sys::entry!(main);

fn main(args: Args) {
    let quiet = Cli::quiet_only(&args, USAGE);

    // MAP_FIXED_NOREPLACE (Linux 4.17): exactly at FIXED_ADDR, or EEXIST
    // if something is there already. Plain MAP_FIXED would replace it.
    let page = map_at(FIXED_ADDR).or_exit("mmap at 0x40000");
    // SAFETY: our new page, writable and aligned.
    unsafe { (page as *mut u64).write_volatile(MARK) };
    if !quiet {
        let _ = sys::write(STDERR, WHY_NOT_EXECUTABLE.as_bytes());
    }
    sys::narrate_stop(quiet).or_exit("kill");

    let mut buf = [0u8; NUMBER_LINE];
    let min_addr = read_mmap_min_addr(&mut buf);
    let zero = map_at(0);
    let mut out = Line::new(STDOUT);
    // The file's text ends with a newline already.
    out.str("mmap_min_addr ").bytes(min_addr).str("page_zero ");
    match zero {
        Ok(_) => out.str("mapped"),
        Err(e) => out.str("refused ").errno(e),
    };
    out.str("\n").write();
    if !quiet {
        let why = if zero.is_ok() {
            PAGE_ZERO_MAPPED
        } else {
            PAGE_ZERO_REFUSED
        };
        let _ = sys::write(STDERR, why.as_bytes());
    }
    sys::narrate_stop(quiet).or_exit("kill");
}

/// Narration of stop 1.
const WHY_NOT_EXECUTABLE: &str =
    "fixed: rw page at 0x40000; no x (W^X: no page both written and run)\n";
/// Narration of stop 2, one of the two (stdout has the numbers).
const PAGE_ZERO_MAPPED: &str = "fixed: page 0 mapped: CAP_SYS_RAWIO may; NULL is memory now\n";
const PAGE_ZERO_REFUSED: &str = "fixed: page 0 refused without CAP_SYS_RAWIO: NULL must fault\n";

/// One anonymous rw page at `addr` exactly, or an error.
#[inline(never)]
fn map_at(addr: usize) -> Result<usize, Errno> {
    // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping.
    let page = unsafe {
        sys::mmap(
            addr,
            PAGE_SIZE,
            sys::PROT_READ | sys::PROT_WRITE,
            sys::MAP_PRIVATE | sys::MAP_ANONYMOUS | sys::MAP_FIXED_NOREPLACE,
            -1,
            0,
        )
    }?;
    // Kernels before 4.17 take MAP_FIXED_NOREPLACE as a mere hint and may
    // map elsewhere (mmap(2)): that is not the page we asked for.
    if page != addr {
        // SAFETY: the page is ours, new, and nothing points into it.
        unsafe { sys::munmap(page, PAGE_SIZE) }?;
        return Err(sys::errno::EEXIST);
    }
    Ok(page)
}

/// The text of /proc/sys/vm/mmap_min_addr, read into `buf`: a decimal
/// number and a newline.
fn read_mmap_min_addr(buf: &mut [u8]) -> &[u8] {
    let what = "mmap_min_addr";
    let fd = sys::openat(MMAP_MIN_ADDR_PATH, sys::O_RDONLY | sys::O_CLOEXEC).or_exit(what);
    let n = sys::read(fd, buf).or_exit(what);
    sys::close(fd).or_exit(what);
    buf.get(..n).unwrap_or_default()
}
