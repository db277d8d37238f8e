/*
 * Clocks.  Deadlines live on CLOCK_MONOTONIC so that wall-clock steps do not
 * move them; the boot id tells whether a monotonic time from another process
 * still means anything here.
 */
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctxrun.h"

static int64_t
now(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

int64_t
mono_now(void)
{
	return now(CLOCK_MONOTONIC);
}

int64_t
wall_now(void)
{
	return now(CLOCK_REALTIME);
}

const char *
boot_id(void)
{
	static char id[40];
	static bool read_once;

	if (!read_once) {
		int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, id, sizeof(id) - 1) : -1;
		if (fd >= 0)
			close(fd);
		id[n > 0 ? n : 0] = '\0';
		id[strcspn(id, "\n")] = '\0';
		read_once = true;
	}
	return id;
}

int64_t
time_add(int64_t a, int64_t b)
{
	int64_t r;

	if (a == CTX_NEVER || b == CTX_NEVER)
		return CTX_NEVER;
	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? CTX_NEVER : INT64_MIN;
	return r;
}
