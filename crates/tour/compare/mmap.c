/*
 * The `mmap` lesson in C: stop, map 512 MiB and then 512 KiB of
 * anonymous memory, unmap the first, stopping after each step.
 * Built by `cargo tour --compare mmap` with cc -O2 and cc -O2 -static.
 */
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#define FIRST (512UL << 20)
#define SECOND (512UL << 10)

static int stop(void)
{
	return kill(getpid(), SIGSTOP);
}

static void *anonymous(size_t len)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

int main(void)
{
	if (stop() != 0)
		return 1;
	void *first = anonymous(FIRST);
	if (first == MAP_FAILED || stop() != 0)
		return 1;
	if (anonymous(SECOND) == MAP_FAILED || stop() != 0)
		return 1;
	if (munmap(first, FIRST) != 0 || stop() != 0)
		return 1;
	return 0;
}
