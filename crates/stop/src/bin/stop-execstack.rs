//! `stop-execstack`: see crates/stop/src/execstack.rs; build_demo.rs links
//! this binary with its own program headers.
#![no_std]
#![no_main]

#[path = "../execstack.rs"]
mod execstack;

sys::entry!(execstack::main);
