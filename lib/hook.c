/*
 * --on-timeout: a bounded hook that looks at the tree as the deadline found
 * it, before the first signal.  It is not of the tree: the sweeps leave it
 * alone, and it is killed with its process group at its limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "envcodec.h"
#include "module.h"
#include "sup.h"

static bool
collect_pid(struct proc *p, void *arg)
{
	char **list = arg, *more;

	/* Within what one environment string may hold, with room to spare. */
	if (*list != NULL && strlen(*list) > CTX_ENV_STRING_MAX / 2)
		return false;
	if (asprintf(&more, "%s%s%d", *list ? *list : "", *list ? " " : "",
	    (int)p->pid) == -1)
		return false;
	free(*list);
	*list = more;
	return true;
}

/*
 * --on-timeout: /bin/sh -c HOOK, started before the first signal so that it
 * sees the tree as the deadline found it.  It is not of the tree: the sweeps
 * leave it (and what it starts) alone, its output goes to ctxrun's stderr,
 * and a ctxrun it runs is not nested in this context.  -1 if it could not
 * start (the first signal goes out at once).
 */
int
start_hook(struct sup *s)
{
	char *argv[] = { "sh", "-c", (char *)s->r->on_timeout, NULL };
	char *pids = NULL;
	int err, null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	(void)s->sweep.tree->walk(s->self, collect_pid, &pids);
	export_hook(s, pids ? pids : "");
	free(pids);

	struct spawn_attr attr = {
		.child_mask = &s->sig.orig_mask,
		.child_default = &s->sig.child_default,
		.restore_sigchld_ign = s->sig.sigchld_was_ignored,
		.new_pgrp = true,               /* killed as one at its limit */
		.deathsig = SIGKILL,
		.nofile = s->nest.nofile_raised ? &s->nest.nofile : NULL,
		.stdin_fd = null,
		.stdout_fd = STDERR_FILENO,
		.stderr_fd = -1,
		/* Not a sh found on a PATH that COMMAND's environment chose. */
		.program = "/bin/sh",
	};
	/* Nested, the limit is at most the grace (cmd/main.c). */
	int64_t limit = s->r->on_timeout_limit;
	s->hook.start = mono_now();
	pid_t pid = spawn_command(argv, &attr, &err);

	unexport_hook(s);
	if (null >= 0)
		close(null);
	if (pid < 0) {
		/* Said, and in the report; the first signal goes out now. */
		s->out->hook.ran = true;
		s->out->hook.error = err != 0 ? err : errno;
		struct event ev = { .kind = EV_HOOK_FAILED, .err = s->out->hook.error,
		    .at = s->hook.start };
		emit(s, &ev);
		return -1;
	}
	s->hook.pid = pid;
	s->hook.running = true;
	s->sweep.outside = pid;
	s->out->hook.ran = true;
	s->phase = PHASE_HOOK;
	s->hook.limit = limit;
	s->wake = time_add(s->hook.start, limit);
	struct event ev = { .kind = EV_HOOK_STARTED, .pid = pid, .wait = limit,
	    .at = s->hook.start };
	emit(s, &ev);
	return 0;
}

/* The hook ended, or its time is up: then it is killed, with whatever it
 * started in its group; either way the tree gets its first signal now. */
void
end_hook(struct sup *s)
{
	struct event ev = { .kind = EV_HOOK_ENDED, .wait = s->hook.limit,
	    .sig = s->hook.cut_by };

	if (s->hook.running) {
		kill(s->hook.pid, SIGKILL);
		s->out->hook.killed = s->hook.cut_by == 0;
		s->out->hook.cut_by = s->hook.cut_by;
	}
	/* What it left in its group goes with it; the tree's sweep does not
	 * count those, dying. */
	kill(-s->hook.pid, SIGKILL);
	s->sweep.outside_pgrp = s->hook.pid;
	ev.failed = s->out;
	emit(s, &ev);
	first_signal(s);
}

static void
hook_reaped(struct sup *s, const siginfo_t *si)
{
	if (si->si_pid != s->hook.pid || !s->hook.running)
		return;
	s->hook.running = false;
	s->sweep.outside = 0;
	s->out->hook.code = si->si_code;
	s->out->hook.status = si->si_status;
}

/* It ran, and has exited: the first signal need not wait for its limit. */
static bool
hook_finished(const struct sup *s)
{
	return s->out->hook.ran && !s->hook.running;
}

const struct module hook_module = {
	.name = "hook",
	.reaped = hook_reaped,
	.finished = hook_finished,
};
