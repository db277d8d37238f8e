/*
 * zombie_leader READY CMD [ARG]...: a process whose main thread has called
 * pthread_exit() while another thread runs on.  /proc/PID/stat then shows
 * it as 'Z', but it is alive: it has a live thread and a child (CMD, started
 * first).  Its pid is written to READY once the main thread is about to
 * exit: its command line reads as empty from then on, so pgrep -f cannot
 * find it.  The default action of every signal applies: TERM ends it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *
linger(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t t;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: zombie_leader READY CMD [ARG]...\n");
		return 2;
	}
	if ((pid = fork()) == 0) {
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	if (pid < 0 || pthread_create(&t, NULL, linger, NULL) != 0)
		return 1;
	/* Written whole, then renamed: READY never holds half a pid. */
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
	FILE *f = fopen(tmp, "w");
	if (f == NULL || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0 ||
	    rename(tmp, argv[1]) != 0)
		return 1;
	pthread_exit(NULL);
}
