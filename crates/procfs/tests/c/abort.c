/* Killed by a signal: malloc, print, then abort() (SIGABRT). */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	char *p = malloc(100000);
	p[0] = 1;
	puts("aborting");
	fflush(stdout);
	abort();
}
