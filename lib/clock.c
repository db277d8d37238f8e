/*
 * Clocks.  Deadlines live on CLOCK_MONOTONIC so that wall-clock steps do not
 * move them; the boot id and the time namespace tell whether a monotonic
 * time from another process still means anything here.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

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

static int64_t offset;
static bool read_once, adopted;

/* An inherited offset further than this from our own reading is not the
 * same clocks' (the wall clock was stepped since, or the variable was made
 * up): ours stands. */
#define ADOPT_WITHIN (10 * NS_PER_MS)

void
wall_offset_adopt(int64_t off)
{
	if (adopted)
		return;
	adopted = true;
	int64_t own = wall_offset(), d = off - own;
	if (d > -ADOPT_WITHIN && d < ADOPT_WITHIN)
		offset = off;
}

int64_t
wall_offset(void)
{
	if (!read_once) {
		/* The wall clock against the middle of two monotonic readings. */
		int64_t before = mono_now(), wall = wall_now(), after = mono_now();
		offset = wall - (before + (after - before) / 2);
		read_once = true;
	}
	return offset;
}

int64_t
mono_to_wall(int64_t mono)
{
	return time_add(mono, wall_offset());
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

/* The initial time namespace's inode (PROC_TIME_INIT_INO, linux/proc_ns.h). */
#define TIME_NS_INIT_INO 0xEFFFFFFAU

/* The inode of our time namespace, 0 when the kernel has none (before 5.6
 * or without CONFIG_TIME_NS: then there is only one). */
static uint64_t
time_ns(void)
{
	static uint64_t ino;
	static bool read_once;
	struct stat st;

	if (!read_once) {
		ino = stat("/proc/self/ns/time", &st) == 0 ? (uint64_t)st.st_ino : 0;
		read_once = true;
	}
	return ino;
}

const char *
mono_clock_id(void)
{
	static char id[64];

	if (id[0] == '\0' && boot_id()[0] != '\0') {
		if (time_ns() != 0)
			snprintf(id, sizeof(id), "%s+%" PRIu64, boot_id(), time_ns());
		else
			snprintf(id, sizeof(id), "%s", boot_id());
	}
	return id;
}

bool
same_mono_clock(const char *id)
{
	if (id[0] == '\0' || mono_clock_id()[0] == '\0')
		return false;
	if (strcmp(id, mono_clock_id()) == 0)
		return true;
	/* A bare boot id, from a ctxrun older than time namespaces: its time
	 * namespace is unknown; on this boot it is most likely the initial
	 * one, so it is trusted only there (or without time namespaces). */
	return strchr(id, '+') == NULL && strcmp(id, boot_id()) == 0 &&
	    (time_ns() == 0 || time_ns() == TIME_NS_INIT_INO);
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

int64_t
latest_deadline(int64_t wall_to_mono)
{
	int64_t t = time_add(CTX_LATEST, wall_to_mono);

	return t >= CTX_LATEST ? CTX_LATEST : t;
}

int64_t
deadline_cap(int64_t t, int64_t wall_to_mono)
{
	int64_t latest = latest_deadline(wall_to_mono);

	return t == CTX_NEVER ? CTX_NEVER : t > latest ? latest : t;
}

int64_t
deadline_after(int64_t base, int64_t d)
{
	if (d == CTX_NEVER)
		return CTX_NEVER;
	int64_t t = time_add(base, d);
	/* Saturated: still a deadline, the latest. */
	return deadline_cap(t == CTX_NEVER ? CTX_LATEST : t, -wall_offset());
}
