/*
 * The first signal's sweep (lib/sweep.c) over a tree made up here: which
 * processes it signals when the tree forks while it is walked.  PIDs and
 * births are set by hand, so that what a loaded machine does now and then
 * (a TERM handler's cleanup born while a pass walks) happens every time.
 */
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "../../lib/sweep.h"
#include "unit.h"

#define MAXP 16

/* The made-up tree: procs[] in walk order (parents before children), and
 * births due at a point of a given walk. */
static struct proc procs[MAXP];
static size_t nprocs;
static pid_t newest;            /* what ns_last_pid would say */
static pid_t pid_max = 32768;
static int walks;               /* walks begun */
static int moved_walk;          /* this walk meets a process dead or gone */
static int signalled[MAXP];     /* times each of procs[] got the signal */
static bool any_signal;         /* a signal went out */

struct birth {
	int walk;               /* during this walk (1: the first) ... */
	size_t after;           /* ... once this many were visited */
	bool after_signal;      /* ... or once a signal went out, if true */
	bool done;
};
static struct birth births[4];
static size_t nbirths;

static void
born(void)
{
	newest = newest == pid_max - 1 ? 300 : newest + 1;
	procs[nprocs++] = (struct proc){ .pid = newest, .ppid = procs[0].pid,
	    .state = 'S', .alive = true, .pidfd = -1 };
}

static void
due(size_t visited)
{
	for (size_t i = 0; i < nbirths; i++) {
		struct birth *b = &births[i];
		if (!b->done && b->walk == walks &&
		    (b->after_signal ? any_signal : visited == b->after)) {
			b->done = true;
			born();
		}
	}
}

static bool usable(void) { return true; }
static bool empty(void) { return false; }
static bool contains(pid_t self, pid_t pid) { (void)self; (void)pid; return true; }
static pid_t last_pid(void) { return newest; }

static int
walk(pid_t self, visit_fn visit, void *arg)
{
	(void)self;
	walks++;
	for (size_t i = 0; i < nprocs; i++) {
		struct proc p = procs[i];
		visit(&p, arg);
		due(i + 1);
	}
	return walks == moved_walk ? 1 : 0;
}

static int
signal_proc(const struct proc *p, int sig)
{
	(void)sig;
	for (size_t i = 0; i < nprocs; i++)
		if (procs[i].pid == p->pid)
			signalled[i]++;
	any_signal = true;
	return 0;
}

static const struct tree_ops made_up = {
	.name = "made-up", .usable = usable, .walk = walk, .signal = signal_proc,
	.contains = contains, .empty = empty, .last_pid = last_pid,
};

/* A tree of n processes from first on, the newest PID its last. */
static void
tree(pid_t first, size_t n)
{
	memset(procs, 0, sizeof(procs));
	memset(signalled, 0, sizeof(signalled));
	memset(births, 0, sizeof(births));
	nprocs = nbirths = 0;
	walks = moved_walk = 0;
	any_signal = false;
	newest = first - 1;
	for (size_t i = 0; i < n; i++)
		born();
}

static void
sweep(size_t burst)
{
	struct registry reg = { .listen_fd = -1 };
	struct sweep s = { .tree = &made_up, .self = 1, .reg = &reg,
	    .burst_max = burst };
	struct event ev = { 0 };

	sweep_first(&s, SIGTERM, NULL, &ev);
}

int
main(void)
{
	/* The tree as it was gets the signal once each.  Nothing born and
	 * nothing gone while it was walked: one walk saw it all. */
	tree(100, 3);
	sweep(256);
	for (size_t i = 0; i < 3; i++)
		CHECK(signalled[i] == 1, "pid %d: %d signals", procs[i].pid, signalled[i]);
	CHECK(walks == 1, "a settled tree: %d walks", walks);

	/* A process met dead or gone: its children may have moved to where
	 * the walk had been, so it walks again. */
	tree(100, 3);
	moved_walk = 1;
	sweep(256);
	CHECK(walks == 2, "a process gone in the walk: %d walks", walks);
	for (size_t i = 0; i < 3; i++)
		CHECK(signalled[i] == 1, "pid %d: %d signals", procs[i].pid, signalled[i]);

	/* Born while the first pass walks, before the signal goes out: of
	 * the tree, signalled (by this pass or the next). */
	tree(100, 3);
	births[nbirths++] = (struct birth){ .walk = 1, .after = 1 };
	sweep(256);
	CHECK(nprocs == 4, "%zu processes", nprocs);
	CHECK(signalled[3] == 1, "born before the signal: %d signals", signalled[3]);
	CHECK(walks >= 2, "born in the first walk: %d walks", walks);

	/* Born while the second pass walks, after the signal: a handler's
	 * cleanup, left alone, though it is past the newest PID when that
	 * pass began.  (A second pass walks because the first met a process
	 * gone.) */
	tree(100, 3);
	moved_walk = 1;
	births[nbirths++] = (struct birth){ .walk = 2, .after = 1 };
	sweep(256);
	CHECK(nprocs == 4, "%zu processes", nprocs);
	CHECK(signalled[3] == 0, "born in the second walk: %d signals", signalled[3]);
	for (size_t i = 0; i < 3; i++)
		CHECK(signalled[i] == 1, "pid %d: %d signals", procs[i].pid, signalled[i]);

	/* A tree bigger than a burst: the first pass signals the first burst,
	 * walks on, and meets what the signal made the tree start. */
	tree(100, 6);
	births[nbirths++] = (struct birth){ .walk = 1, .after_signal = true };
	sweep(2);
	CHECK(nprocs == 7, "%zu processes", nprocs);
	CHECK(signalled[6] == 0, "born after the first burst: %d signals", signalled[6]);
	for (size_t i = 0; i < 6; i++)
		CHECK(signalled[i] == 1, "pid %d: %d signals", procs[i].pid, signalled[i]);

	/* Across the wrap: the tree near pid_max and one old member at a low
	 * PID; after the signal, PIDs wrap and a cleanup is born low. */
	tree(pid_max - 3, 2);
	procs[nprocs++] = (struct proc){ .pid = 200, .ppid = procs[0].pid,
	    .state = 'S', .alive = true, .pidfd = -1 };
	moved_walk = 1;
	births[nbirths++] = (struct birth){ .walk = 2, .after = 1 };
	births[nbirths++] = (struct birth){ .walk = 2, .after = 2 };
	sweep(256);
	CHECK(nprocs == 5, "%zu processes", nprocs);
	CHECK(procs[4].pid == 300, "wrapped to %d", procs[4].pid);
	for (size_t i = 0; i < 3; i++)
		CHECK(signalled[i] == 1, "pid %d: %d signals", procs[i].pid, signalled[i]);
	CHECK(signalled[3] == 0 && signalled[4] == 0,
	    "born across the wrap: %d and %d signals", signalled[3], signalled[4]);

	return unit_report("sweep");
}
