//! The syscalls that change an address space, by number, for the two
//! ABIs an x86-64 kernel runs: x86-64 and i386 (a 32-bit program makes
//! i386 syscalls, with other numbers). Each call is shown as strace shows
//! it: name, decoded arguments (PROT_* and MAP_* by name, a file
//! descriptor with its path), result.
//!
//! Numbers: `arch/x86/entry/syscalls/syscall_64.tbl` and `syscall_32.tbl`.
//! Flags: `include/uapi/asm-generic/mman-common.h`, `mman.h`,
//! `arch/x86/include/uapi/asm/prctl.h`.

/// `AUDIT_ARCH_X86_64` and `AUDIT_ARCH_I386` (`include/uapi/linux/audit.h`):
/// the `arch` field of `PTRACE_GET_SYSCALL_INFO`.
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;

/// What a syscall does to the address space, whatever its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Mmap,
    /// i386 `mmap2`: the offset is in pages.
    Mmap2,
    /// i386 old `mmap`: one pointer to the six arguments.
    OldMmap,
    Munmap,
    Mprotect,
    PkeyMprotect,
    Brk,
    Mremap,
    Madvise,
    Shmat,
    Shmdt,
    /// `arch_prctl`: ARCH_SET_FS sets the thread pointer.
    ArchPrctl,
    /// i386 `set_thread_area`: the TLS descriptor (the thread pointer).
    SetThreadArea,
    /// Shadow stacks (CET, Linux 6.6).
    MapShadowStack,
    ExitGroup,
    Exit,
    Execve,
    /// Not one of the above: counted, not shown.
    Other,
}

const X86_64: &[(u64, &str, Kind)] = &[
    (9, "mmap", Kind::Mmap),
    (10, "mprotect", Kind::Mprotect),
    (11, "munmap", Kind::Munmap),
    (12, "brk", Kind::Brk),
    (25, "mremap", Kind::Mremap),
    (28, "madvise", Kind::Madvise),
    (30, "shmat", Kind::Shmat),
    (59, "execve", Kind::Execve),
    (60, "exit", Kind::Exit),
    (67, "shmdt", Kind::Shmdt),
    (158, "arch_prctl", Kind::ArchPrctl),
    (231, "exit_group", Kind::ExitGroup),
    (322, "execveat", Kind::Execve),
    (329, "pkey_mprotect", Kind::PkeyMprotect),
    (453, "map_shadow_stack", Kind::MapShadowStack),
];

const I386: &[(u64, &str, Kind)] = &[
    (1, "exit", Kind::Exit),
    (11, "execve", Kind::Execve),
    (45, "brk", Kind::Brk),
    (90, "mmap", Kind::OldMmap),
    (91, "munmap", Kind::Munmap),
    (125, "mprotect", Kind::Mprotect),
    (163, "mremap", Kind::Mremap),
    (192, "mmap2", Kind::Mmap2),
    (219, "madvise", Kind::Madvise),
    (243, "set_thread_area", Kind::SetThreadArea),
    (252, "exit_group", Kind::ExitGroup),
    (358, "execveat", Kind::Execve),
    (380, "pkey_mprotect", Kind::PkeyMprotect),
    (397, "shmat", Kind::Shmat),
    (398, "shmdt", Kind::Shmdt),
];

/// The name and kind of syscall `nr` of `arch`; `None` for a number this
/// table does not know (counted, never shown).
pub fn lookup(arch: u32, nr: u64) -> Option<(&'static str, Kind)> {
    let table = match arch {
        AUDIT_ARCH_X86_64 => X86_64,
        AUDIT_ARCH_I386 => I386,
        _ => return None,
    };
    table
        .iter()
        .find(|(n, _, _)| *n == nr)
        .map(|&(_, name, kind)| (name, kind))
}

/// `madvise` advice that throws pages away or changes what an access does
/// (`madvise(2)`): MADV_DONTNEED, MADV_FREE, MADV_REMOVE,
/// MADV_DONTNEED_LOCKED, MADV_GUARD_INSTALL, MADV_GUARD_REMOVE (6.13).
const MADV_DISCARDING: &[(u64, &str)] = &[
    (4, "MADV_DONTNEED"),
    (8, "MADV_FREE"),
    (9, "MADV_REMOVE"),
    (24, "MADV_DONTNEED_LOCKED"),
    (102, "MADV_GUARD_INSTALL"),
    (103, "MADV_GUARD_REMOVE"),
];
/// The other advice, only to name it.
const MADV_OTHER: &[(u64, &str)] = &[
    (0, "MADV_NORMAL"),
    (1, "MADV_RANDOM"),
    (2, "MADV_SEQUENTIAL"),
    (3, "MADV_WILLNEED"),
    (10, "MADV_DONTFORK"),
    (11, "MADV_DOFORK"),
    (12, "MADV_MERGEABLE"),
    (13, "MADV_UNMERGEABLE"),
    (14, "MADV_HUGEPAGE"),
    (15, "MADV_NOHUGEPAGE"),
    (16, "MADV_DONTDUMP"),
    (17, "MADV_DODUMP"),
    (18, "MADV_WIPEONFORK"),
    (19, "MADV_KEEPONFORK"),
    (20, "MADV_COLD"),
    (21, "MADV_PAGEOUT"),
    (22, "MADV_POPULATE_READ"),
    (23, "MADV_POPULATE_WRITE"),
    (25, "MADV_COLLAPSE"),
];

const PROT: &[(u64, &str)] = &[
    (0x1, "PROT_READ"),
    (0x2, "PROT_WRITE"),
    (0x4, "PROT_EXEC"),
    (0x0100_0000, "PROT_GROWSDOWN"),
    (0x0200_0000, "PROT_GROWSUP"),
];

const MAP: &[(u64, &str)] = &[
    (0x01, "MAP_SHARED"),
    (0x02, "MAP_PRIVATE"),
    (0x03, "MAP_SHARED_VALIDATE"),
    (0x10, "MAP_FIXED"),
    (0x20, "MAP_ANONYMOUS"),
    (0x40, "MAP_32BIT"),
    (0x100, "MAP_GROWSDOWN"),
    (0x800, "MAP_DENYWRITE"),
    (0x1000, "MAP_EXECUTABLE"),
    (0x2000, "MAP_LOCKED"),
    (0x4000, "MAP_NORESERVE"),
    (0x8000, "MAP_POPULATE"),
    (0x1_0000, "MAP_NONBLOCK"),
    (0x2_0000, "MAP_STACK"),
    (0x4_0000, "MAP_HUGETLB"),
    (0x8_0000, "MAP_SYNC"),
    (0x10_0000, "MAP_FIXED_NOREPLACE"),
    (0x400_0000, "MAP_UNINITIALIZED"),
];

/// The sharing type is a 2-bit field, not single flags.
const MAP_TYPE: u64 = 0x0f;

const MREMAP: &[(u64, &str)] = &[
    (1, "MREMAP_MAYMOVE"),
    (2, "MREMAP_FIXED"),
    (4, "MREMAP_DONTUNMAP"),
];

/// `arch/x86/include/uapi/asm/prctl.h`.
pub const ARCH_SET_FS: u64 = 0x1002;
const ARCH_CODES: &[(u64, &str)] = &[
    (0x1001, "ARCH_SET_GS"),
    (0x1002, "ARCH_SET_FS"),
    (0x1003, "ARCH_GET_FS"),
    (0x1004, "ARCH_GET_GS"),
    (0x1011, "ARCH_GET_CPUID"),
    (0x1012, "ARCH_SET_CPUID"),
    (0x5001, "ARCH_SHSTK_ENABLE"),
    (0x5002, "ARCH_SHSTK_DISABLE"),
];

/// Errno names for the results a loader meets (`errno(3)`).
const ERRNO: &[(i64, &str)] = &[
    (1, "EPERM"),
    (2, "ENOENT"),
    (9, "EBADF"),
    (12, "ENOMEM"),
    (13, "EACCES"),
    (14, "EFAULT"),
    (16, "EBUSY"),
    (17, "EEXIST"),
    (19, "ENODEV"),
    (22, "EINVAL"),
    (38, "ENOSYS"),
    (95, "EOPNOTSUPP"),
];

/// `A|B|0x8` for the bits of `value` named in `names`; `0` or `none` if no
/// bit is set.
fn flags(value: u64, names: &[(u64, &str)], none: &str) -> String {
    let mut left = value;
    let mut parts = Vec::new();
    for &(bit, name) in names {
        if bit != 0 && left & bit == bit {
            parts.push(name.to_string());
            left &= !bit;
        }
    }
    if left != 0 {
        parts.push(format!("{left:#x}"));
    }
    if parts.is_empty() {
        none.into()
    } else {
        parts.join("|")
    }
}

fn named(value: u64, names: &[(u64, &str)]) -> String {
    names
        .iter()
        .find(|(v, _)| *v == value)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| value.to_string())
}

pub fn prot(value: u64) -> String {
    flags(value, PROT, "PROT_NONE")
}

pub fn map_flags(value: u64) -> String {
    let kind = value & MAP_TYPE;
    let kind_name = MAP
        .iter()
        .find(|(b, _)| *b == kind)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| format!("{kind:#x}"));
    let rest = flags(value & !MAP_TYPE, &MAP[3..], "");
    if rest.is_empty() {
        kind_name
    } else {
        format!("{kind_name}|{rest}")
    }
}

/// Whether this madvise advice discards pages (or installs guards).
pub fn madvise_discards(advice: u64) -> bool {
    MADV_DISCARDING.iter().any(|(a, _)| *a == advice)
}

fn advice(value: u64) -> String {
    MADV_DISCARDING
        .iter()
        .chain(MADV_OTHER)
        .find(|(a, _)| *a == value)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| value.to_string())
}

fn ptr(value: u64) -> String {
    if value == 0 {
        "NULL".into()
    } else {
        format!("{value:#x}")
    }
}

/// One syscall, from entry to return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub arch: u32,
    pub nr: u64,
    pub name: &'static str,
    pub kind: Kind,
    pub args: [u64; 6],
    /// The return value (`-errno` on failure), `None` before it returned.
    pub ret: Option<i64>,
    /// Where the `syscall` instruction is: who made the call.
    pub ip: u64,
    /// For a call with a file descriptor (mmap): its path, read from
    /// /proc/PID/fd while the call was made.
    pub fd_path: Option<String>,
}

impl Call {
    /// Whether this call changes the address space (and so is a stop):
    /// every mapping call, madvise only with a discarding advice,
    /// arch_prctl only for ARCH_SET_FS.
    pub fn changes_layout(&self) -> bool {
        match self.kind {
            Kind::Madvise => madvise_discards(self.args[2]),
            Kind::ArchPrctl => self.args[0] == ARCH_SET_FS,
            Kind::Other | Kind::Exit | Kind::ExitGroup | Kind::Execve => false,
            _ => true,
        }
    }

    /// The file descriptor argument, if the call has one.
    pub fn fd(&self) -> Option<i32> {
        match self.kind {
            Kind::Mmap | Kind::Mmap2 if self.args[4] as i32 >= 0 => Some(self.args[4] as i32),
            _ => None,
        }
    }

    fn fd_text(&self) -> String {
        let fd = self.args[4] as i32;
        match &self.fd_path {
            Some(p) => format!("{fd}<{p}>"),
            None => fd.to_string(),
        }
    }

    /// The arguments, decoded.
    pub fn arguments(&self) -> String {
        let a = self.args;
        let size = |v: u64| v.to_string();
        match self.kind {
            Kind::Mmap | Kind::Mmap2 => format!(
                "{}, {}, {}, {}, {}, {:#x}",
                ptr(a[0]),
                size(a[1]),
                prot(a[2]),
                map_flags(a[3]),
                self.fd_text(),
                a[5]
            ),
            Kind::OldMmap => ptr(a[0]),
            Kind::Munmap => format!("{}, {}", ptr(a[0]), size(a[1])),
            Kind::Mprotect => format!("{}, {}, {}", ptr(a[0]), size(a[1]), prot(a[2])),
            Kind::PkeyMprotect => format!(
                "{}, {}, {}, {}",
                ptr(a[0]),
                size(a[1]),
                prot(a[2]),
                a[3] as i32
            ),
            Kind::Brk => ptr(a[0]),
            Kind::Mremap => format!(
                "{}, {}, {}, {}{}",
                ptr(a[0]),
                size(a[1]),
                size(a[2]),
                flags(a[3], MREMAP, "0"),
                if a[3] & 2 != 0 {
                    format!(", {}", ptr(a[4]))
                } else {
                    String::new()
                }
            ),
            Kind::Madvise => format!("{}, {}, {}", ptr(a[0]), size(a[1]), advice(a[2])),
            Kind::Shmat => format!("{}, {}, {:#x}", a[0] as i32, ptr(a[1]), a[2]),
            Kind::Shmdt => ptr(a[0]),
            Kind::ArchPrctl => format!("{}, {:#x}", named(a[0], ARCH_CODES), a[1]),
            Kind::SetThreadArea | Kind::MapShadowStack => format!("{:#x}", a[0]),
            Kind::ExitGroup | Kind::Exit => (a[0] as i32).to_string(),
            Kind::Execve | Kind::Other => String::new(),
        }
    }

    /// The result as strace prints it: an address in hex, an error by
    /// name, other numbers in decimal.
    pub fn result(&self) -> String {
        let Some(r) = self.ret else {
            return "?".into();
        };
        if (-4095..0).contains(&r) {
            let name = ERRNO
                .iter()
                .find(|(e, _)| *e == -r)
                .map(|(_, n)| n.to_string())
                .unwrap_or_else(|| format!("errno {}", -r));
            return format!("-1 {name}");
        }
        match self.kind {
            Kind::Mmap
            | Kind::Mmap2
            | Kind::OldMmap
            | Kind::Brk
            | Kind::Mremap
            | Kind::Shmat
            | Kind::MapShadowStack => format!("{r:#x}"),
            _ => r.to_string(),
        }
    }

    /// `mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f…`
    pub fn strace(&self) -> String {
        let arch = if self.arch == AUDIT_ARCH_I386 {
            "[i386] "
        } else {
            ""
        };
        format!(
            "{arch}{}({}) = {}",
            self.name,
            self.arguments(),
            self.result()
        )
    }

    /// The range of addresses the call asked about, where it has one
    /// (for the result of mmap, see [`Call::result`]).
    pub fn range(&self) -> Option<(u64, u64)> {
        let a = self.args;
        let page_up = |v: u64| v.div_ceil(4096) * 4096;
        match self.kind {
            Kind::Mmap | Kind::Mmap2 | Kind::MapShadowStack => {
                let r = self.ret.filter(|&r| r >= 0)? as u64;
                Some((r, r + page_up(a[1])))
            }
            Kind::Munmap | Kind::Mprotect | Kind::PkeyMprotect | Kind::Madvise => {
                Some((a[0], a[0] + page_up(a[1])))
            }
            Kind::Mremap => {
                let r = self.ret.filter(|&r| r >= 0)? as u64;
                Some((r, r + page_up(a[2])))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(nr: u64, args: [u64; 6], ret: i64) -> Call {
        let (name, kind) = lookup(AUDIT_ARCH_X86_64, nr).unwrap();
        Call {
            arch: AUDIT_ARCH_X86_64,
            nr,
            name,
            kind,
            args,
            ret: Some(ret),
            ip: 0,
            fd_path: None,
        }
    }

    #[test]
    fn mmap_reads_like_strace() {
        let c = call(9, [0, 8192, 3, 0x22, u64::MAX, 0], 0x7f00_0000_0000);
        assert_eq!(
            c.strace(),
            "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0x0) = 0x7f0000000000"
        );
        assert!(c.changes_layout());
        assert_eq!(c.range(), Some((0x7f00_0000_0000, 0x7f00_0000_2000)));
        let mut f = call(9, [0, 4096, 1, 0x802, 3, 0], 0x1000);
        f.fd_path = Some("/etc/ld.so.cache".into());
        assert_eq!(
            f.arguments(),
            "NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_DENYWRITE, 3</etc/ld.so.cache>, 0x0"
        );
    }

    #[test]
    fn errors_and_advice() {
        let c = call(10, [0x1000, 4096, 0, 0, 0, 0], -12);
        assert_eq!(c.strace(), "mprotect(0x1000, 4096, PROT_NONE) = -1 ENOMEM");
        assert!(!call(28, [0x1000, 4096, 3, 0, 0, 0], 0).changes_layout());
        assert!(call(28, [0x1000, 4096, 4, 0, 0, 0], 0).changes_layout());
        assert!(!call(158, [0x3001, 0, 0, 0, 0, 0], 0).changes_layout());
        assert!(call(158, [ARCH_SET_FS, 0x10, 0, 0, 0, 0], 0).changes_layout());
    }

    #[test]
    fn i386_numbers_are_not_x86_64_numbers() {
        assert_eq!(lookup(AUDIT_ARCH_I386, 192).unwrap().0, "mmap2");
        assert_eq!(lookup(AUDIT_ARCH_I386, 125).unwrap().0, "mprotect");
        assert_eq!(lookup(AUDIT_ARCH_X86_64, 125), None);
        assert_eq!(lookup(AUDIT_ARCH_I386, 9), None);
        assert_eq!(lookup(AUDIT_ARCH_I386, 252).unwrap().1, Kind::ExitGroup);
    }
}
