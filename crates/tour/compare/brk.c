/*
 * The `brk` lesson in C: stop, move the program break up by 4100 bytes
 * twice, stopping after each (sbrk(3), as seed 001 did).
 * Built by `cargo tour --compare brk` with cc -O2 and cc -O2 -static.
 */
#include <signal.h>
#include <unistd.h>

/* A little more than a page: the kernel maps whole pages. */
#define INCREMENT 4100

static int stop(void)
{
	return kill(getpid(), SIGSTOP);
}

int main(void)
{
	if (stop() != 0)
		return 1;
	for (int i = 0; i < 2; i++)
		if (sbrk(INCREMENT) == (void *)-1 || stop() != 0)
			return 1;
	return 0;
}
