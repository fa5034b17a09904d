/*
 * The `stop` lesson in C: stop once (SIGSTOP), then exit.
 * Built by `cargo tour --compare stop` twice: against glibc dynamically
 * (cc -O2) and statically (cc -O2 -static).
 */
#include <signal.h>
#include <unistd.h>

int main(void)
{
	/* By pid, as the demo does: kill(0, ...) would stop the whole group. */
	return kill(getpid(), SIGSTOP) == 0 ? 0 : 1;
}
