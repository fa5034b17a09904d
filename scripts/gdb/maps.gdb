# maps.gdb: the seeds' workflow (stop, look at the maps, continue) in gdb.
#
#   gdb -batch -x scripts/gdb/maps.gdb target/debug/brk
#   gdb -x scripts/gdb/maps.gdb --args target/debug/mmap 1M   (stays open at the end)
#
# Works with any demo. Each demo stops itself with SIGSTOP; gdb sees the
# signal first. A signal a demo handles itself (guard's SIGUSR1 and
# SIGSEGV) stops gdb too: its maps are shown, then it goes to the demo. "stop print" makes gdb stop there and say so; "nopass"
# keeps gdb from handing the SIGSTOP back to the demo when it continues,
# which would stop it once more with nobody left to send SIGCONT.
set pagination off
set confirm off
handle SIGSTOP stop print nopass

run
# $_exitcode stays void until the program exits, $_exitsignal until a
# signal kills it (gdb manual, "Convenience Variables"): loop over the
# stops, then say how the demo ended.
while $_isvoid($_exitcode) && $_isvoid($_exitsignal)
  echo \n=== stopped: info proc mappings ===\n
  info proc mappings
  continue
end
if $_isvoid($_exitcode)
  printf "=== the demo was killed by signal %d ===\n", $_exitsignal
else
  printf "=== the demo exited with status %d ===\n", $_exitcode
end
