//! `--arch both`: one lesson on x86-64 and on i686, stop by stop.
//!
//! The collector runs each build to its end into a recording (shown
//! nowhere while it runs: [`crate::record::Silent`]); then this renderer shows stop 1 of
//! the x86-64 run, stop 1 of the i686 run and what differs between them
//! ([`crate::arch::differences`]), then stop 2, and so on. Each run has
//! its own terminal renderer, so that its `+`/`-`/`~` marks compare it
//! with its own previous stop.

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use crate::record::{DemoRun, Host, Watch};
use crate::run::Options;
use crate::term::Term;

/// A writer whose bytes are taken out between calls.
#[derive(Clone, Default)]
struct Buffer(Rc<RefCell<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut self.0.borrow_mut())
    }
}

/// Shows the two runs of one lesson, stop by stop, on `out`.
pub fn show(
    opts: &Options,
    host: &Host,
    out: &mut dyn Write,
    x86_64: &DemoRun,
    i686: &DemoRun,
) -> io::Result<()> {
    let (bufa, bufb) = (Buffer::default(), Buffer::default());
    let (mut wa, mut wb) = (bufa.clone(), bufb.clone());
    let mut a = Term::new(opts, &mut wa, host.clone(), None, false);
    let mut b = Term::new(opts, &mut wb, host.clone(), None, false);
    let st = opts.style;
    let head = format!("== {} on x86-64 and i686: {}", x86_64.name, x86_64.about);
    writeln!(out, "\n{}", st.bold(&head))?;
    writeln!(out, "{}\n{}", x86_64.command, i686.command)?;
    a.started(x86_64)?;
    b.started(i686)?;
    let n = x86_64.stops.len().max(i686.stops.len());
    for i in 0..n {
        if let Some(s) = x86_64.stops.get(i) {
            a.stopped(x86_64, s)?;
            out.write_all(&bufa.take())?;
        }
        if let Some(s) = i686.stops.get(i) {
            b.stopped(i686, s)?;
            out.write_all(&bufb.take())?;
        }
        if let (Some(sa), Some(sb)) = (x86_64.stops.get(i), i686.stops.get(i)) {
            out.write_all(crate::arch::differences((x86_64, sa), (i686, sb)).as_bytes())?;
        }
    }
    a.ended(x86_64)?;
    b.ended(i686)?;
    drop((a, b));
    out.write_all(&bufa.take())?;
    out.write_all(&bufb.take())?;
    Ok(())
}
