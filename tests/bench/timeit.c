/*
 * timeit: runs commands side by side, alternating, and reports per command
 * the median and spread of wall time, and the peak resident memory, CPU
 * time and context switches of the measured process itself (wait4).
 *
 *   timeit RUNS CMD1... [--- CMD2...]...
 * prints one line per command:
 *   median_us p10_us p90_us maxrss_kb cpu_ticks_total vcsw_per_run ivcsw_per_run
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct stat_acc {
	char **argv;
	double *wall;
	long maxrss, csw, icsw;
	double cpu_us;
};

static double
now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct stat_acc acc[8];
	int n = 0, runs;

	if (argc < 3)
		return 2;
	runs = atoi(argv[1]);
	acc[n++].argv = &argv[2];
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "---") == 0) {
			argv[i] = NULL;
			acc[n++].argv = &argv[i + 1];
		}
	for (int c = 0; c < n; c++) {
		acc[c].wall = calloc((size_t)runs, sizeof(double));
		acc[c].maxrss = acc[c].csw = acc[c].icsw = 0;
		acc[c].cpu_us = 0;
	}
	for (int r = 0; r < runs; r++)
		for (int c = 0; c < n; c++) {
			struct rusage ru;
			int st;
			double t0 = now_us();
			pid_t pid = fork();
			if (pid == 0) {
				execvp(acc[c].argv[0], acc[c].argv);
				_exit(127);
			}
			wait4(pid, &st, 0, &ru);
			acc[c].wall[r] = now_us() - t0;
			if (ru.ru_maxrss > acc[c].maxrss)
				acc[c].maxrss = ru.ru_maxrss;
			acc[c].csw += ru.ru_nvcsw; acc[c].icsw += ru.ru_nivcsw;
			acc[c].cpu_us += ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec +
			    ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
		}
	for (int c = 0; c < n; c++) {
		qsort(acc[c].wall, (size_t)runs, sizeof(double), cmp);
		printf("%.0f %.0f %.0f %ld %.0f %.2f %.2f\n", acc[c].wall[runs / 2],
		    acc[c].wall[runs / 10], acc[c].wall[runs * 9 / 10], acc[c].maxrss,
		    acc[c].cpu_us * sysconf(_SC_CLK_TCK) / 1e6, (double)acc[c].csw / runs, (double)acc[c].icsw / runs);
	}
	return 0;
}
