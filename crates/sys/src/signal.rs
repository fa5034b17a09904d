//! Signal handlers without libc: `rt_sigaction(2)` with our own
//! restorer, and `sigaltstack(2)`.

use crate::arch::{syscall2, syscall4};
use crate::errno::Errno;
use crate::nr;

/// `SIGUSR1`, `SIGSEGV`: `arch/x86/include/uapi/asm/signal.h`.
pub const SIGUSR1: usize = 10;
pub const SIGSEGV: usize = 11;

/// `SA_*`: `include/uapi/asm-generic/signal-defs.h`, and for
/// `SA_RESTORER` `arch/x86/include/uapi/asm/signal.h`; `sigaction(2)`.
/// Pass the handler a siginfo and the interrupted context.
pub const SA_SIGINFO: u64 = 0x4;
/// Run the handler on the alternate stack (`sigaltstack`), if one is set.
pub const SA_ONSTACK: u64 = 0x0800_0000;
/// `sa_restorer` holds the code the handler returns into. Mandatory on
/// x86-64 (see [`crate::arch::__sys_restorer`]).
pub const SA_RESTORER: u64 = 0x0400_0000;

/// `SEGV_MAPERR`: si_code of a SIGSEGV at an address no mapping covers
/// (`include/uapi/asm-generic/siginfo.h`).
pub const SEGV_MAPERR: i32 = 1;

/// The kernel's `struct sigaction` for x86-64 (`struct kernel_sigaction`
/// in glibc; `include/linux/signal_types.h`): not the libc one, whose
/// mask is 128 bytes and whose fields come in another order.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Sigaction {
    pub handler: usize,
    pub flags: u64,
    pub restorer: usize,
    /// Signals blocked while the handler runs, one bit per signal.
    pub mask: u64,
}

/// The kernel's sigset_t: 64 signals, one bit each. rt_sigaction's
/// fourth argument must be exactly this size.
const SIGSET_SIZE: usize = 8;

/// The start of `siginfo_t` (`include/uapi/asm-generic/siginfo.h`): what
/// a SA_SIGINFO handler reads for a fault. The kernel's is 128 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Siginfo {
    pub si_signo: i32,
    pub si_errno: i32,
    pub si_code: i32,
    _pad: i32,
    /// For SIGSEGV: the address that faulted.
    pub si_addr: usize,
}

/// A SA_SIGINFO handler: signal number, siginfo, `ucontext_t`.
pub type Handler = extern "C" fn(i32, *const Siginfo, *mut u8);

/// `stack_t` of `sigaltstack(2)`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct SignalStack {
    pub ss_sp: usize,
    pub ss_flags: i32,
    pub ss_size: usize,
}

/// `rt_sigaction(sig, act, NULL, 8)`: installs `act` for `sig`.
///
/// # Safety
/// `act.handler` must be a [`Handler`] (or SIG_DFL/SIG_IGN), and
/// `act.restorer`, with `SA_RESTORER`, code that calls `rt_sigreturn`.
pub unsafe fn rt_sigaction(sig: usize, act: &Sigaction) -> Result<(), Errno> {
    // SAFETY: the kernel reads one struct sigaction; the caller vouches
    // for the code it points to.
    Errno::check(unsafe {
        syscall4(
            nr::RT_SIGACTION,
            sig,
            act as *const Sigaction as usize,
            0,
            SIGSET_SIZE,
        )
    })
    .map(drop)
}

/// `sigaltstack(ss, NULL)`: handlers with SA_ONSTACK run on `ss`.
///
/// # Safety
/// `ss.ss_sp..+ss_size` must be writable memory that nothing else uses
/// while handlers may run.
pub unsafe fn sigaltstack(ss: &SignalStack) -> Result<(), Errno> {
    // SAFETY: the kernel reads one stack_t; the caller vouches for it.
    Errno::check(unsafe { syscall2(nr::SIGALTSTACK, ss as *const SignalStack as usize, 0) })
        .map(drop)
}

/// The address of our restorer ([`crate::arch::__sys_restorer`]), for
/// `Sigaction::restorer`.
pub fn restorer() -> usize {
    crate::arch::restorer_address()
}
