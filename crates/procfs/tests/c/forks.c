/* A fork: the child maps 64 KiB and exits 3; the parent waits, exits 0. */
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	pid_t child = fork();
	if (child == 0) {
		void *p = mmap(0, 65536, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return p == MAP_FAILED ? 1 : 3;
	}
	int status;
	if (child < 0 || waitpid(child, &status, 0) != child)
		return 1;
	return WEXITSTATUS(status) == 3 ? 0 : 1;
}
