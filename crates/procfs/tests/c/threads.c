/* Two threads: the second mallocs (a new arena) and frees. */
#include <pthread.h>
#include <stdlib.h>

/* volatile: the compiler may not drop the malloc/free pair. */
static void *volatile kept;

static void *work(void *arg)
{
	kept = malloc(1000);
	free(kept);
	return arg;
}

int main(void)
{
	pthread_t t;
	if (pthread_create(&t, 0, work, 0) != 0)
		return 1;
	return pthread_join(t, 0) == 0 ? 0 : 1;
}
