/*
 * The supervisor's one wait.  It knows no feature: each module (module.h)
 * offers its descriptors and its next wake-up, the phase offers its own
 * (s->wake), and one ppoll() waits for the earliest.  Every wake-up drains
 * every ready module, then reaps, then lets the phase act (advance() in
 * supervise.c).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#include "internal.h"
#include "module.h"
#include "sup.h"

#define MODULE_ENTRY(name) &name##_module,
const struct module *const modules[] = { MODULES(MODULE_ENTRY) NULL };
#undef MODULE_ENTRY

void
modules_reaped(struct sup *s, const siginfo_t *si)
{
	for (const struct module *const *m = modules; *m != NULL; m++)
		if ((*m)->reaped != NULL)
			(*m)->reaped(s, si);
}

bool
modules_finished(const struct sup *s)
{
	for (const struct module *const *m = modules; *m != NULL; m++)
		if ((*m)->finished != NULL && (*m)->finished(s))
			return true;
	return false;
}

/* Last first: a module may use what an earlier one holds (the terminal's
 * modes are put back through the relay's descriptor). */
void
modules_close(struct sup *s)
{
	size_t n = sizeof(modules) / sizeof(modules[0]) - 1;

	while (n-- > 0)
		if (modules[n]->close != NULL)
			modules[n]->close(s);
}

/* Every child that ended, to every module. */
static void
reap(struct sup *s)
{
	siginfo_t si;

	for (;;) {
		si.si_pid = 0;
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) == -1 || si.si_pid == 0)
			break;
		modules_reaped(s, &si);
	}
}

/* The earliest of the phase's wake-up and every module's; modules act on
 * what is due first (and may move the phase on). */
static int64_t
next_wake(struct sup *s)
{
	int64_t now = mono_now(), wake = CTX_NEVER;

	for (const struct module *const *m = modules; *m != NULL; m++) {
		if ((*m)->next_wake == NULL)
			continue;
		int64_t at = (*m)->next_wake(s, now);
		wake = at < wake ? at : wake;
	}
	return s->wake < wake ? s->wake : wake;
}

struct slots {
	struct pollfd *fds;
	size_t cap;
	size_t first[sizeof(modules) / sizeof(modules[0])], count[sizeof(modules) / sizeof(modules[0])];
};

/* Every module's descriptors, each module's in a run of its own. */
static size_t
gather(struct sup *s, struct slots *sl)
{
	size_t want = 0, k = 0;

	for (const struct module *const *m = modules; *m != NULL; m++)
		if ((*m)->nfds != NULL)
			want += (*m)->nfds(s);
	if (want > sl->cap) {
		struct pollfd *v = reallocarray(sl->fds, want, sizeof(*v));
		if (v != NULL) {
			sl->fds = v;
			sl->cap = want;
		}
	}
	/* Out of memory: as many as there is room for, the first modules'
	 * first. */
	for (size_t i = 0; modules[i] != NULL; i++) {
		sl->first[i] = k;
		sl->count[i] = modules[i]->fds == NULL ? 0 :
		    modules[i]->fds(s, sl->fds + k, sl->cap - k);
		k += sl->count[i];
	}
	return k;
}

static int
wait_for(struct pollfd *fds, size_t n, int64_t wake)
{
	struct timespec ts, *tsp = NULL;

	if (wake != CTX_NEVER) {
		int64_t left = wake - mono_now();
		if (left < 0)
			left = 0;
		ts.tv_sec = left / NS_PER_SEC;
		ts.tv_nsec = left % NS_PER_SEC;
		tsp = &ts;
	}
	int polled = ppoll(fds, n, tsp, NULL);
	if (polled == -1) {
		if (errno != EINTR) {
			/* Cannot wait: look again in a while rather than spin. */
			struct timespec pause = { 0, 50 * NS_PER_MS };
			nanosleep(&pause, NULL);
		}
		for (size_t i = 0; i < n; i++)
			fds[i].revents = POLLIN;	/* read everything */
	}
	return polled;
}

void
loop(struct sup *s)
{
	struct slots sl = { 0 };

	advance(s, false);
	while (s->phase != PHASE_DONE) {
		int64_t wake = next_wake(s);
		if (s->phase == PHASE_DONE)
			break;
		size_t n = gather(s, &sl);
		int polled = wait_for(sl.fds, n, wake);
		/* A wake-up for output alone: no child changed, and no phase. */
		bool output_only = polled > 0;
		for (size_t i = 0; modules[i] != NULL; i++)
			if (modules[i]->ready != NULL && sl.count[i] > 0 &&
			    modules[i]->ready(s, sl.fds + sl.first[i], sl.count[i]))
				output_only = false;
		if (!output_only)
			reap(s);
		advance(s, output_only);
	}
	free(sl.fds);
}
