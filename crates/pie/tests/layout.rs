//! Where a static PIE lies and what its file holds before `_start_pie`
//! runs: the kernel maps the PIE first, at the top of the mmap area, and
//! the vDSO below it; the pointer slot in .data.rel.ro holds 0 in the
//! file (the addend lives only in .rela.dyn); the break starts near
//! ELF_ET_DYN_BASE, far below the program, even without ASLR.

use procfs::elf::Elf;
use procfs::testing::*;
use procfs::{Demo, Event, Spawn, maps, stat};
use std::process::Stdio;

const BIN: &str = env!("CARGO_BIN_EXE_pie");

#[test]
fn the_pie_lies_directly_above_the_vdso() {
    for no_aslr in [true, false] {
        let mut cmd = command(BIN, &["-q"]);
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        let mut demo = Demo::spawn(
            cmd,
            Spawn {
                no_aslr,
                ..Spawn::default()
            },
        )
        .unwrap();
        assert_eq!(
            demo.wait(STEP_TIMEOUT),
            Some(Event::Stopped(procfs::child::SIGSTOP))
        );
        let m = maps::read(demo.pid).unwrap();
        let st = stat::read(demo.pid).unwrap();
        demo.cont().unwrap();
        assert_eq!(demo.wait(STEP_TIMEOUT), Some(Event::Exited(0)));
        let path = std::fs::canonicalize(BIN).unwrap();
        let first = m
            .iter()
            .position(|x| x.path == path.to_str().unwrap())
            .unwrap();
        let vdso = maps::find(&m, "[vdso]").unwrap();
        assert_eq!(vdso.end, m[first].start, "no_aslr {no_aslr}: {m:#?}");
        if no_aslr {
            // The PIE ends at mmap_base, TASK_SIZE - 128 MiB (see
            // crates/mmap/tests/mmap_base.rs): it was mapped first. (The
            // release build then starts at 0x7ffff7ffc000, the vDSO at
            // 0x7ffff7ffa000; a dev build is larger.)
            let last = m
                .iter()
                .rfind(|x| x.path == path.to_str().unwrap())
                .unwrap();
            assert_eq!(last.end, 0x7fff_f7ff_f000, "{m:#?}");
            // The break: ELF_ET_DYN_BASE, not after the program.
            assert_eq!(st.start_brk, 0x5555_5555_5000);
        } else {
            assert!(st.start_brk >> 44 == 0x5, "{:#x}", st.start_brk);
        }
    }
}

#[test]
fn the_file_holds_zero_where_greeting_points_before_relocation() {
    let file = std::fs::read(BIN).unwrap();
    let elf = Elf::parse(&file).unwrap();
    let s = elf.section(".data.rel.ro").expect(".data.rel.ro");
    let at = s.offset as usize;
    let slot = u64::from_le_bytes(file[at..at + 8].try_into().unwrap());
    assert_eq!(slot, 0, "lld writes 0; the addend is in .rela.dyn");
}
