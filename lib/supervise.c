/*
 * Supervising COMMAND and its whole tree: one run is a small state machine.
 *
 *   RUNNING    wakes at the effective deadline (and the idle deadline,
 *              and when a --warn signal is due)
 *   HOOK       the deadline passed: the --on-timeout hook looks at the tree
 *              as it was; wakes at the hook's limit
 *   SIGNALLED  the first signal went out; wakes at the end of the grace
 *   KILLING    KILL went out; wakes to look again while anything lived
 *   DONE       nothing is left (or what is left is left on purpose)
 *
 * With retries, each attempt is such a run, and between two of them
 *
 *   WAITING    wakes when the next attempt is due
 *
 * ctxrun is the child subreaper of everything it starts, so every orphan of
 * the tree comes back to it, and no child left means no tree left.  It sleeps
 * in one ppoll() on a signalfd, its registry socket, its registered peers and
 * its own parent's connection, with the phase's one wake-up time as the
 * timeout: no wake-up while nothing happens.  Every wake-up drains all of
 * them before acting, messages first: a `ctxrun cancel` is answered before
 * it returns, so its message always comes before COMMAND's exit.
 *
 * This file decides; it does not speak.  What happened goes back to the
 * front end as events and an outcome.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ctxrun.h"
#include "sweep.h"

enum phase {
	PHASE_RUNNING, PHASE_HOOK, PHASE_SIGNALLED, PHASE_KILLING, PHASE_DONE,
	PHASE_WAITING,          /* between attempts: nothing runs */
};

struct sup {
	const struct run *r;
	const struct policy *p;
	struct outcome *out;
	pid_t self, cmd;
	bool cmd_running;
	int tty;                        /* the controlling terminal, or -1 */
	bool shares_group;              /* COMMAND in ctxrun's process group */
	struct caught_signals sig;
	struct registry reg;
	int parent_fd;                  /* connection to the enclosing ctxrun */
	bool parent_detached;
	struct sweep sweep;

	enum phase phase;
	int64_t wake;                   /* the one time the phase wakes at */
	int64_t run_deadline;           /* the run's effective deadline */
	bool final;                     /* WAITING ended by a cause: no retry */
	int replay_fd;                  /* --replay-stdin: what stdin held */
	char *env_ctx, *env_attempt;    /* our strings in the environment */
	char exec_path[4096];           /* where COMMAND was found (retries) */
	size_t max_peers;               /* the registry's share of descriptors */
	int64_t recheck_delay;          /* KILLING: backs off while any lived */
	struct rlimit nofile;           /* the caller's descriptor limit */
	bool nofile_raised;
	/* --idle-timeout: the tree's output goes through ctxrun. */
	bool relaying;
	struct relay relay;
	int64_t last_output;            /* when the tree last wrote */
	struct termios term_modes;      /* the real terminal's, at the start */
	bool term_saved;
	bool warned[MAX_WARNINGS];      /* --warn: sent (or skipped) this attempt */
	pid_t hook;                     /* --on-timeout, while it runs */
	bool hook_running;
	int64_t hook_start, hook_limit;
	int hook_cut_by;                /* a signal received cut it short */
};

static int export_context(struct sup *s);
static void continued(struct sup *s);

static void
emit(const struct sup *s, struct event *ev)
{
	if (s->r->on_event != NULL)
		s->r->on_event(ev, s->r->event_arg);
}

/* ---- phases ------------------------------------------------------------ */

static void
enter_killing(struct sup *s)
{
	struct event ev = { .kind = EV_KILLED, .cause = s->out->cause,
	    .grace = s->r->ctx->grace };
	size_t live = sweep_kill(&s->sweep, &ev);

	s->phase = PHASE_KILLING;
	if (live > 0 || ev.kind == EV_TREE_UNREADABLE)
		emit(s, &ev);
	/* A process forked just before its parent died is re-parented to us
	 * without a SIGCHLD: look again soon, backing off, while any lived. */
	if (live == 0) {
		s->wake = CTX_NEVER;
		return;
	}
	s->recheck_delay = s->recheck_delay == 0 ? 10 * NS_PER_MS :
	    s->recheck_delay >= NS_PER_SEC / 2 ? NS_PER_SEC : s->recheck_delay * 2;
	s->wake = time_add(mono_now(), s->recheck_delay);
}

/* What a nested ctxrun is told when this context is done. */
static struct msg
done_message(const struct sup *s)
{
	struct msg m = { .cause = (int32_t)s->out->cause };

	if (s->out->cause == DONE_SIGNAL)
		m.signal = s->out->signal;
	return m;
}

/* Inside another ctxrun, which will KILL what is left at the end of its
 * own grace period. */
static bool
nested(const struct sup *s)
{
	return s->r->ctx->parent != NULL && s->r->ctx->parent->pid > 0;
}

/* The first signal to the tree (nested ctxruns told), and the grace
 * period starts. */
static void
first_signal(struct sup *s)
{
	struct msg tell = done_message(s);
	tell.kind = MSG_DONE;
	struct event ev = { .kind = EV_SIGNALLED, .cause = s->out->cause,
	    .attempt_timed_out = s->out->attempt_timed_out };
	sweep_first(&s->sweep, s->out->cause == DONE_SIGNAL ? s->out->signal :
	    s->p->first_signal, &tell, &ev);
	emit(s, &ev);
	s->phase = PHASE_SIGNALLED;
	int64_t grace = s->r->ctx->grace, now = mono_now();
	/* Nested, the hook's time comes out of the grace: the enclosing
	 * ctxrun's KILL comes at its own time, hook or not. */
	if (s->out->hook.ran && nested(s)) {
		grace -= now - s->hook_start;
		grace = grace < 0 ? 0 : grace;
	}
	s->wake = time_add(now, grace);
}

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
 * --on-timeout: sh -c HOOK, started before the first signal so that it sees
 * the tree as the deadline found it.  It is not of the tree: the sweeps
 * leave it (and what it starts) alone, its output goes to ctxrun's stderr,
 * and a ctxrun it runs is not nested in this context.  -1 if it could not
 * start (the first signal goes out at once).
 */
static int
start_hook(struct sup *s)
{
	const struct ctx *c = s->r->ctx;
	char *argv[] = { "sh", "-c", (char *)s->r->on_timeout, NULL };
	char name[32], num[24], *pids = NULL;
	size_t depth = ctx_depth(c);
	int err, null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	(void)tree_walk(s->self, collect_pid, &pids);
	snprintf(num, sizeof(num), "%d", (int)s->cmd);
	snprintf(name, sizeof(name), "CTXRUN_%zu", depth);
	unsetenv(name);
	if (depth > 1) {
		snprintf(name, sizeof(name), "%zu", depth - 1);
		setenv("CTXRUN_DEPTH", name, 1);
	} else
		unsetenv("CTXRUN_DEPTH");
	setenv("CTXRUN_COMMAND_PID", num, 1);
	setenv("CTXRUN_NAME", c->name, 1);
	setenv("CTXRUN_CAUSE", cause_names(s->out->cause)->words, 1);
	setenv("CTXRUN_TREE_PIDS", pids ? pids : "", 1);
	free(pids);

	struct spawn_attr attr = {
		.child_mask = &s->sig.orig_mask,
		.child_default = &s->sig.child_default,
		.restore_sigchld_ign = s->sig.sigchld_was_ignored,
		.new_pgrp = true,               /* killed as one at its limit */
		.deathsig = SIGKILL,
		.nofile = s->nofile_raised ? &s->nofile : NULL,
		.stdin_fd = null,
		.stdout_fd = STDERR_FILENO,
		.stderr_fd = -1,
	};
	/* Nested, the limit is at most the grace (cmd/main.c). */
	int64_t limit = s->r->on_timeout_limit;
	s->hook_start = mono_now();
	pid_t pid = spawn_command(argv, &attr, &err);

	unsetenv("CTXRUN_COMMAND_PID");
	unsetenv("CTXRUN_NAME");
	unsetenv("CTXRUN_CAUSE");
	unsetenv("CTXRUN_TREE_PIDS");
	(void)export_context(s);        /* ours again, for later attempts */
	if (null >= 0)
		close(null);
	if (pid < 0)
		return -1;
	s->hook = pid;
	s->hook_running = true;
	s->sweep.outside = pid;
	s->out->hook.ran = true;
	s->phase = PHASE_HOOK;
	s->hook_limit = limit;
	s->wake = time_add(s->hook_start, limit);
	struct event ev = { .kind = EV_HOOK_STARTED, .pid = pid, .wait = limit,
	    .at = s->hook_start };
	emit(s, &ev);
	return 0;
}

/* The hook ended, or its time is up: then it is killed, with whatever it
 * started in its group; either way the tree gets its first signal now. */
static void
end_hook(struct sup *s)
{
	struct event ev = { .kind = EV_HOOK_ENDED, .wait = s->hook_limit,
	    .sig = s->hook_cut_by };

	if (s->hook_running) {
		kill(s->hook, SIGKILL);
		s->out->hook.killed = s->hook_cut_by == 0;
		s->out->hook.cut_by = s->hook_cut_by;
	}
	/* What it left in its group goes with it; the tree's sweep does not
	 * count those, dying. */
	kill(-s->hook, SIGKILL);
	s->sweep.outside_pgrp = s->hook;
	ev.failed = s->out;
	emit(s, &ev);
	first_signal(s);
}

static void
begin_done(struct sup *s, enum done_cause cause, int received)
{
	if (s->phase == PHASE_WAITING) {
		/* Between attempts: the run ends at once, as if an attempt
		 * had been running. */
		s->out->cause = cause;
		s->out->signal = received;
		s->out->started = false;
		s->out->command_alive_at_done = true;
		s->final = true;
		s->phase = PHASE_DONE;
		return;
	}
	if (s->phase != PHASE_RUNNING)
		return;
	s->out->cause = cause;
	s->out->attempt_timed_out = cause == DONE_DEADLINE &&
	    ctx_deadline(s->r->ctx) < s->run_deadline;
	s->out->signal = received;
	s->out->command_alive_at_done = s->cmd_running;
	ctx_cancel(s->r->ctx, cause == DONE_DEADLINE ? CTX_DEADLINE_EXCEEDED :
	    CTX_CANCELED, NULL);
	/* A deadline passed: first a look at the tree as it is, if asked. */
	if ((cause == DONE_DEADLINE || cause == DONE_IDLE) && s->r->on_timeout != NULL &&
	    start_hook(s) == 0)
		return;
	first_signal(s);
}

/* ---- events ------------------------------------------------------------ */

static void
reap(struct sup *s)
{
	siginfo_t si;

	for (;;) {
		si.si_pid = 0;
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) == -1 || si.si_pid == 0)
			break;
		if (si.si_pid == s->cmd) {
			s->cmd_running = false;
			s->out->command_code = si.si_code;
			s->out->command_status = si.si_status;
		}
		if (si.si_pid == s->hook && s->hook_running) {
			s->hook_running = false;
			s->sweep.outside = 0;
			s->out->hook.code = si.si_code;
			s->out->hook.status = si.si_status;
		}
	}
}

static bool
has_children(void)
{
	siginfo_t si;

	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 ||
	    errno != ECHILD;
}

/* A peer is trusted when it is a process of the tree (whatever user it
 * runs as: a root job that dropped privileges), or runs as our user. */
static bool
trusted(const struct sup *s, const struct peer *p)
{
	return p->uid == getuid() || p->uid == geteuid() || p->uid == 0 ||
	    tree_contains(s->self, p->pid);
}

static void
refuse(struct peer *p, const char *why)
{
	struct msg m = { 0 };

	strlcpy(m.text, why, sizeof(m.text));
	(void)msg_send(p->fd, MSG_REFUSED, &m);
}

static void
handle_peer(struct sup *s, struct peer *p, const struct msg *m)
{
	switch (m->kind) {
	case MSG_REGISTER:
		if (!trusted(s, p)) {
			refuse(p, "not a process of this tree, nor of its user");
			break;
		}
		p->nested = true;
		if (s->phase == PHASE_RUNNING) {
			(void)msg_send(p->fd, MSG_ACK, NULL);
			break;
		}
		/* Born into a done context: it does not start its command. */
		struct msg tell = done_message(s);
		p->told = msg_send(p->fd, MSG_DONE, &tell) == 0;
		break;
	case MSG_CANCEL:
		if (!trusted(s, p)) {
			refuse(p, "not a process of this tree, nor of its user");
			break;
		}
		/* Answered first: the caller is in the tree and about to be
		 * signalled. */
		(void)msg_send(p->fd, MSG_ACK, NULL);
		if (s->phase == PHASE_RUNNING || s->phase == PHASE_WAITING ||
		    s->out->cause == DONE_COMMAND_EXITED) {
			s->out->asked.cancel_status = m->status;
			strlcpy(s->out->asked.cancel_text, m->text, sizeof(s->out->asked.cancel_text));
		}
		if (s->phase == PHASE_RUNNING || s->phase == PHASE_WAITING)
			begin_done(s, DONE_CANCEL, 0);
		else if (s->out->cause == DONE_COMMAND_EXITED) {
			/* From a leftover while COMMAND's tree is cleaned up: the
			 * cancel still stands, final, with its status. */
			s->out->cause = DONE_CANCEL;
			s->out->command_alive_at_done = true;
		}
		break;
	case MSG_RETRY:
		if (!trusted(s, p)) {
			refuse(p, "not a process of this tree, nor of its user");
			break;
		}
		if (s->r->retry == NULL || s->r->retry->retries == 0 ||
		    s->phase == PHASE_WAITING) {
			refuse(p, s->phase == PHASE_WAITING ? "no attempt is running" :
			    "it makes no retries");
			break;
		}
		(void)msg_send(p->fd, MSG_ACK, NULL);
		if (m->status == RETRY_NEVER) {
			s->out->asked.never = true;
			strlcpy(s->out->asked.cause, m->text, sizeof(s->out->asked.cause));
		} else if (m->after >= 0)
			s->out->asked.after = m->after;	/* 0: at once */
		break;
	default:
		refuse(p, "unexpected message");
	}
}

/* What the parent's MSG_DONE means here: its signal is passed down, its
 * deadline is ours too, anything else is a cancel from above. */
static enum done_cause
parent_cause(const struct msg *m, int *sig)
{
	*sig = 0;
	if (m->cause == DONE_SIGNAL && m->signal > 0 && m->signal < NSIG) {
		*sig = m->signal;
		return DONE_SIGNAL;
	}
	return m->cause == DONE_DEADLINE ? DONE_DEADLINE : DONE_PARENT_CANCEL;
}

static void
handle_parent(struct sup *s, const struct msg *m)
{
	int sig;

	switch (m->kind) {
	case MSG_DONE: {
		enum done_cause cause = parent_cause(m, &sig);
		begin_done(s, cause, sig);
		break;
	}
	case MSG_TERMINAL_SIGNAL:
		if (m->signal > 0 && m->signal < NSIG) {
			struct event ev = { .kind = EV_FORWARDED, .from_terminal = true };
			sweep_terminal(&s->sweep, m->signal, m->fg_pgrp, &ev);
			emit(s, &ev);
		}
		break;
	case MSG_DETACH:
		s->parent_detached = true;
		break;
	}
}

static void
handle_signal(struct sup *s, const struct received *rv)
{
	struct event ev = { .kind = EV_FORWARDED, .sig = rv->sig };
	const struct policy *p = s->p;
	int sig = rv->sig;

	/* Taken only to be seen: continuing is the kernel's business. */
	if (sig == SIGCONT) {
		continued(s);
		return;
	}

	/* Typed at the terminal: the kernel told its foreground group, ctxrun
	 * included; the rest of the tree is told here.  Not a cancellation by
	 * itself: COMMAND decides what Ctrl-C means. */
	if ((sig == SIGINT || sig == SIGQUIT) && rv->code == SI_KERNEL && s->tty >= 0) {
		pid_t fg = tcgetpgrp(s->tty);
		/* But the user wants it over: no attempt after this one, and
		 * between attempts, nothing runs to decide: the run ends. */
		if (s->phase == PHASE_WAITING) {
			begin_done(s, DONE_SIGNAL, sig);
			return;
		}
		s->out->asked.never = true;
		strlcpy(s->out->asked.cause, "interrupted at the terminal",
		    sizeof(s->out->asked.cause));
		ev.from_terminal = true;
		if (fg > 0) {
			sweep_terminal(&s->sweep, sig, fg, &ev);
			if (ev.count > 0 || ev.nested_told > 0)
				emit(s, &ev);
		}
		return;
	}
	if (sigismember(&p->ending, sig)) {
		if (s->phase == PHASE_RUNNING || s->phase == PHASE_WAITING) {
			begin_done(s, DONE_SIGNAL, sig);
			return;
		}
		if (s->phase == PHASE_HOOK) {
			s->wake = 0;	/* no more waiting for the hook */
			s->hook_cut_by = sig;
			return;
		}
		if (p->tell_once)
			return;	/* the tree was told once */
	} else if (sigismember(&p->as_deadline, sig)) {
		begin_done(s, DONE_DEADLINE, 0);
		return;
	}
	/* A resized terminal: the pseudo-terminal of the relay first, so
	 * that COMMAND finds the new size when it is told (again: the
	 * terminal told it first, while its stdout still had the old size).
	 * Without the relay, a COMMAND in our group needs no second one. */
	if (sig == SIGWINCH && s->relaying)
		(void)relay_resize(&s->relay);
	else if (sig == SIGWINCH && rv->code == SI_KERNEL && s->shares_group)
		return;
	if (p->forward_to_tree) {
		sweep_forward(&s->sweep, sig, &ev);
		emit(s, &ev);
	} else if (s->cmd_running && kill(s->cmd, sig) == 0) {
		/* Our unreaped child: its PID cannot have been reused. */
		ev.count = 1;
		emit(s, &ev);
	}
}

/* A destination that failed otherwise than by its reader going away (a
 * full disk, a file size limit): said once, as the tree cannot be told
 * more than EPIPE. */
static void
output_failures(struct sup *s)
{
	for (size_t i = 0; i < s->relay.n; i++) {
		struct relay_channel *ch = &s->relay.ch[i];
		if (!ch->gone || ch->error_said || ch->error == 0 ||
		    ch->error == EPIPE || ch->error == ECONNRESET ||
		    (ch->pty && ch->error == EIO))
			continue;
		ch->error_said = true;
		struct event ev = { .kind = EV_OUTPUT_FAILED, .err = ch->error };
		emit(s, &ev);
	}
}

/* Continued after a stop (Ctrl-Z then fg, or the whole group stopped): the
 * time stopped was not the tree's silence, and the terminal may have been
 * resized meanwhile. */
static void
continued(struct sup *s)
{
	if (!s->relaying)
		return;
	/* Stopped past a wake-up it would have had: the silence meanwhile
	 * was not the tree's.  A SIGCONT sent to a ctxrun that was not
	 * stopped (by the tree, say) misses nothing, and resets nothing. */
	int64_t now = mono_now();
	if (s->phase == PHASE_RUNNING && now > s->wake)
		s->last_output = now;
	(void)relay_resize(&s->relay);
}

/* Which sources ppoll() found ready; the first polled peers are the
 * registry's peers[0..npolled), in order. */
struct ready {
	bool signals, listen, parent;
	const struct pollfd *peers;
	size_t npolled;
	const struct pollfd *relay;     /* relay[k] is channel relay_ch[k] */
	const size_t *relay_ch;
	size_t nrelay;
	bool relay_only;                /* nothing else woke ctxrun */
};

static void
read_peer(struct sup *s, size_t i)
{
	struct msg m;
	int rc;

	while ((rc = registry_recv(&s->reg, i, &m)) == 1)
		handle_peer(s, &s->reg.peers[i], &m);
	if (rc == -1)
		registry_drop(&s->reg, i);
}

/*
 * The enclosing ctxrun went away without a word: it was killed.  Its
 * orphans, this ctxrun among them, fall to the next subreaper above, an
 * enclosing ctxrun: register there, so that it leaves this subtree to us
 * and tells us when it is done.  Then the tree is cancelled, as a killed
 * ctxrun's COMMAND is told.
 */
static void
parent_gone(struct sup *s)
{
	struct msg m;

	close(s->parent_fd);
	s->parent_fd = -1;
	for (const struct ctx *a = s->r->ctx->parent; a != NULL; a = a->parent) {
		if (a == s->r->ctx->parent || a->pid <= 0)
			continue;
		int fd = registry_connect(a->token);
		if (fd < 0)
			continue;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (msg_send(fd, MSG_REGISTER, NULL) == 0 && poll(&pfd, 1, 1000) == 1 &&
		    msg_recv(fd, &m) == 1 && (m.kind == MSG_ACK || m.kind == MSG_DONE)) {
			s->parent_fd = fd;
			if (m.kind == MSG_DONE)
				handle_parent(s, &m);
			break;
		}
		close(fd);
	}
	begin_done(s, DONE_PARENT_GONE, 0);
}

/* Drains every ready source, then acts: messages, signals, child exits. */
static void
wake_up(struct sup *s, const struct ready *rd)
{
	struct received rv[64];
	struct msg m;
	size_t n;

	/* Output first: what the tree wrote before a signal or its exit is
	 * passed on before ctxrun acts on them. */
	for (size_t k = 0; k < rd->nrelay; k++) {
		if (rd->relay[k].revents == 0)
			continue;
		relay_ready(&s->relay, rd->relay_ch[k], &rd->relay[k]);
		if (relay_pump(&s->relay, rd->relay_ch[k]) > 0)
			s->last_output = mono_now();
	}
	if (rd->nrelay > 0)
		output_failures(s);
	/* Backwards: a dropped peer's place is taken by the last one, which
	 * was read already. */
	for (size_t i = rd->npolled; i-- > 0;)
		if (rd->peers[i].revents != 0)
			read_peer(s, i);
	if (rd->listen) {
		size_t first_new = s->reg.npeers;
		/* On failure (out of memory) the peer waits in the backlog. */
		(void)registry_accept(&s->reg);
		for (size_t i = s->reg.npeers; i-- > first_new;)
			read_peer(s, i);
	}
	if (rd->parent && s->parent_fd >= 0) {
		int rc;
		while ((rc = msg_recv(s->parent_fd, &m)) == 1)
			handle_parent(s, &m);
		if (rc == -1 && s->parent_detached) {
			close(s->parent_fd);
			s->parent_fd = -1;
		} else if (rc == -1)
			parent_gone(s);
	}
	if (rd->signals) {
		do {
			n = signals_drain(&s->sig, rv, 64);
			for (size_t i = 0; i < n; i++)
				if (rv[i].sig != SIGCHLD)
					handle_signal(s, &rv[i]);
		} while (n == 64);
	}
	/* A wake-up for output alone: no child changed. */
	if (rd->signals || !rd->relay_only)
		reap(s);
}

/* --warn: sends the warnings that are due, each once, to COMMAND only (a
 * tree of programs that do not expect it would die of it); returns when
 * the next one is due. */
static int64_t
warn(struct sup *s, int64_t deadline, int64_t now)
{
	int64_t next = CTX_NEVER;

	for (size_t i = 0; i < s->r->nwarnings && deadline != CTX_NEVER; i++) {
		const struct warning *w = &s->r->warnings[i];
		int64_t at = time_add(deadline, -w->before);
		if (s->warned[i])
			continue;
		if (at > now) {
			next = at < next ? at : next;
			continue;
		}
		s->warned[i] = true;
		/* Late (ctxrun was stopped past the deadline too): the deadline's
		 * own signal comes now, a warning would only race it. */
		if (deadline <= now)
			continue;
		struct event ev = { .kind = EV_WARNED, .sig = w->sig, .wait = w->before };
		/* Our unreaped child: its PID cannot have been reused. */
		if (s->cmd_running && kill(s->cmd, w->sig) == 0) {
			ev.count = 1;
			if (w->sig < 64)
				s->out->warned_sigs |= UINT64_C(1) << w->sig;
		} else
			ev.err = ESRCH;	/* COMMAND had exited, its tree runs on */
		emit(s, &ev);
	}
	return next;
}

/* At COMMAND's start, a warning already due has come too late to be of
 * use, and would reach a program that has not set up for it yet: it is
 * not sent, and -v says so. */
static void
warnings_for_attempt(struct sup *s)
{
	int64_t deadline = ctx_deadline(s->r->ctx), now = mono_now();

	for (size_t i = 0; i < s->r->nwarnings; i++) {
		const struct warning *w = &s->r->warnings[i];
		s->warned[i] = deadline != CTX_NEVER &&
		    time_add(deadline, -w->before) <= now;
		if (s->warned[i]) {
			struct event ev = { .kind = EV_WARNED, .sig = w->sig,
			    .wait = w->before };
			emit(s, &ev);
		}
	}
}

/* After every wake-up: what the phase does now.  A wake-up for output
 * alone changed no child and no phase: only the idle time moved. */
static void
advance(struct sup *s, bool output_only)
{
	if (s->phase == PHASE_WAITING) {
		if (s->wake <= mono_now())
			s->phase = PHASE_DONE;
		return;
	}
	if (output_only && s->phase != PHASE_RUNNING && s->wake > mono_now())
		return;
	if (!s->cmd_running && !(output_only && s->phase == PHASE_RUNNING)) {
		if (!has_children()) {
			s->phase = PHASE_DONE;
			return;
		}
		if (s->phase == PHASE_RUNNING) {
			if (s->p->leftovers == LEFTOVERS_LEAVE) {
				s->phase = PHASE_DONE;
				return;
			}
			if (s->p->leftovers == LEFTOVERS_CANCEL)
				begin_done(s, DONE_COMMAND_EXITED, 0);
		} else if (s->r->ctx->grace == CTX_NEVER &&
		    s->p->leftovers == LEFTOVERS_LEAVE) {
			/* No KILL will come for what ignored the signal. */
			s->phase = PHASE_DONE;
			return;
		}
	}
	int64_t now = mono_now();
	switch (s->phase) {
	case PHASE_RUNNING: {
		int64_t deadline = ctx_deadline(s->r->ctx), idle_at = CTX_NEVER;
		if (s->relaying) {
			/* Blocked on a reader downstream is not silence. */
			if (relay_stalled(&s->relay))
				s->last_output = now;
			idle_at = time_add(s->last_output, s->r->idle_timeout);
		}
		int64_t warn_at = warn(s, deadline, now);
		/* The deadline of an enclosing ctxrun with a hook: that ctxrun
		 * tells this one when its hook has looked at the tree, this
		 * subtree included (or signals it, not registered); this one's
		 * own timer waits that long. */
		const struct ctx *owner = ctx_deadline_owner(s->r->ctx);
		if (owner != s->r->ctx && owner->hook_limit > 0 &&
		    !s->parent_detached && deadline != CTX_NEVER)
			deadline = time_add(deadline, owner->hook_limit);
		if (deadline <= now)
			begin_done(s, DONE_DEADLINE, 0);
		else if (idle_at <= now)
			begin_done(s, DONE_IDLE, 0);
		else {
			s->wake = idle_at < deadline ? idle_at : deadline;
			s->wake = warn_at < s->wake ? warn_at : s->wake;
		}
		break;
	}
	case PHASE_HOOK:
		if (!s->hook_running || s->wake <= now)
			end_hook(s);
		break;
	case PHASE_SIGNALLED:
		if (s->wake <= now)
			enter_killing(s);
		break;
	case PHASE_KILLING:
		/* Every exit may have re-parented a survivor; and look again
		 * when the back-off says so. */
		enter_killing(s);
		break;
	case PHASE_DONE:
	case PHASE_WAITING:
		break;
	}
}

/* ---- start ------------------------------------------------------------- */

/* NAME=value in the environment, from a string of ours: setenv keeps every
 * value it was ever given, which grows by one context per attempt. */
static int
put_owned(char **slot, const char *name, const char *value)
{
	char *kv;

	if (asprintf(&kv, "%s=%s", name, value) == -1)
		return -1;
	if (putenv(kv) != 0) {
		free(kv);
		return -1;
	}
	free(*slot);
	*slot = kv;
	return 0;
}

/* Takes the owned variables out of the environment, and frees them. */
static void
drop_owned(char **slot)
{
	char name[64];

	if (*slot == NULL)
		return;
	/* The name apart: the string itself is in the environment until
	 * unsetenv takes it out. */
	size_t n = strcspn(*slot, "=");
	snprintf(name, sizeof(name), "%.*s", (int)n, *slot);
	unsetenv(name);
	free(*slot);
	*slot = NULL;
}

/* CTXRUN_DEPTH and CTXRUN_<depth> for COMMAND; deeper levels left by some
 * earlier environment are dropped. */
static int
export_context(struct sup *s)
{
	const struct ctx *c = s->r->ctx;
	size_t depth = ctx_depth(c);
	char name[32], num[24], *enc;

	for (size_t i = depth + 1; i <= depth + 64; i++) {
		snprintf(name, sizeof(name), "CTXRUN_%zu", i);
		if (getenv(name) == NULL)
			break;
		unsetenv(name);
	}
	snprintf(name, sizeof(name), "CTXRUN_%zu", depth);
	snprintf(num, sizeof(num), "%zu", depth);
	if ((enc = ctx_encode(c, s->self, s->reg.token)) == NULL)
		return -1;
	int rc = setenv("CTXRUN_DEPTH", num, 1) | put_owned(&s->env_ctx, name, enc);
	free(enc);
	return rc;
}

/* A walk holds a few descriptors, a burst one pidfd per process, and the
 * registry one per connected peer: raise a low soft limit for ctxrun itself
 * (COMMAND gets the caller's back), and refuse one too low to work with. */
#define BURST_MAX 256
#define FDS_WANTED 4096

static int
setup_descriptors(struct sup *s)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &s->nofile) == -1)
		return -1;
	r = s->nofile;
	if (r.rlim_cur < FDS_WANTED && r.rlim_max > r.rlim_cur) {
		r.rlim_cur = r.rlim_max < FDS_WANTED ? r.rlim_max : FDS_WANTED;
		if (setrlimit(RLIMIT_NOFILE, &r) == 0)
			s->nofile_raised = true;
		else
			r = s->nofile;
	}
	if (r.rlim_cur < FDS_NEEDED) {
		errno = EMFILE;
		return -1;
	}
	/*
	 * A budget, so that registered peers can never leave the tree walk
	 * without descriptors: about 10 are ctxrun's own, a walk needs a few;
	 * of the rest half may be pidfds held in a burst, a quarter peers
	 * (more are refused).
	 */
	size_t spare = r.rlim_cur > 12 ? r.rlim_cur - 12 : 1;
	s->sweep.burst_max = spare / 2 < BURST_MAX ? (spare / 2 ? spare / 2 : 1) : BURST_MAX;
	s->max_peers = spare / 4 ? spare / 4 : 1;
	return 0;
}

/*
 * Before COMMAND runs (registering, reading stdin): waits until fd is
 * readable, the deadline passes or a signal ends the context.  1: fd is
 * ready; 0: out->cause says what ended the wait; -1: ppoll failed.
 */
static int
wait_before_start(struct sup *s, int fd)
{
	struct received rv[64];

	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = s->sig.fd, .events = POLLIN },
		};
		int64_t deadline = ctx_deadline(s->r->ctx), left = deadline - mono_now();
		struct timespec ts = { left / NS_PER_SEC, left % NS_PER_SEC };
		if (left <= 0) {
			s->out->cause = DONE_DEADLINE;
			return 0;
		}
		if (ppoll(fds, 2, deadline == CTX_NEVER ? NULL : &ts, NULL) == -1 &&
		    errno != EINTR)
			return -1;
		size_t n = fds[1].revents ? signals_drain(&s->sig, rv, 64) : 0;
		for (size_t i = 0; i < n; i++) {
			if (sigismember(&s->p->ending, rv[i].sig)) {
				s->out->cause = DONE_SIGNAL;
				s->out->signal = rv[i].sig;
			} else if (sigismember(&s->p->as_deadline, rv[i].sig))
				s->out->cause = DONE_DEADLINE;
		}
		if (s->out->cause != DONE_NOT_YET)
			return 0;
		if (fds[0].revents != 0)
			return 1;
	}
}

/*
 * A nested ctxrun registers with its parent before it starts anything, and
 * waits for the answer: the parent then knows it before its COMMAND exists,
 * and never signals that subtree itself.  A parent already done answers so,
 * and COMMAND is not started.  0: go on; 1: not started, out says why.
 */
static int
register_with_parent(struct sup *s)
{
	const struct ctx *parent = s->r->ctx->parent;
	struct msg m;

	if (parent == NULL || parent->pid <= 0)
		return 0;
	int fd = registry_connect(parent->token);
	if (fd < 0)
		return 0;	/* gone, or another network namespace: see ctxrun(1) */
	if (msg_send(fd, MSG_REGISTER, NULL) == -1) {
		close(fd);
		return 0;
	}
	while (wait_before_start(s, fd) == 1) {
		int rc = msg_recv(fd, &m);
		if (rc == 0)
			continue;
		if (rc == 1 && m.kind == MSG_ACK) {
			s->parent_fd = fd;
			return 0;
		}
		if (rc == 1 && m.kind == MSG_REFUSED)
			break;	/* signalled like any process, then */
		if (rc == 1 && m.kind == MSG_DONE)
			s->out->cause = parent_cause(&m, &s->out->signal);
		else if (kill(parent->pid, 0) == 0 || errno == EPERM)
			break;	/* it lives, and dropped us (out of descriptors) */
		else
			s->out->cause = DONE_PARENT_GONE;
		break;
	}
	close(fd);
	if (s->out->cause == DONE_NOT_YET)
		return 0;
	s->out->command_alive_at_done = true;	/* it would have been */
	return 1;
}

static int
start_command(struct sup *s)
{
	const struct policy *p = s->p;
	struct spawn_attr attr = {
		.child_mask = &s->sig.orig_mask,
		.child_default = &s->sig.child_default,
		.restore_sigchld_ign = s->sig.sigchld_was_ignored,
		.new_pgrp = !s->shares_group,
		.deathsig = p->first_signal,
		.nofile = s->nofile_raised ? &s->nofile : NULL,
		.stdin_fd = s->replay_fd,
		.stdout_fd = s->relaying ? s->relay.tree_fd[STDOUT_FILENO] : -1,
		.stderr_fd = s->relaying ? s->relay.tree_fd[STDERR_FILENO] : -1,
		.exec_path = s->exec_path,
		.exec_path_len = sizeof(s->exec_path),
	};
	int err;

	if (s->replay_fd >= 0 && lseek(s->replay_fd, 0, SEEK_SET) == -1) {
		s->out->failure = RUN_SETUP;
		s->out->err = errno;
		return -1;
	}
	s->cmd = spawn_command(s->r->argv, &attr, &err);
	if (s->cmd < 0) {
		s->out->failure = err == 0 ? RUN_FORK : RUN_EXEC;
		s->out->err = err == 0 ? errno : err;
		return -1;
	}
	s->cmd_running = true;
	s->out->started = true;
	s->last_output = mono_now();
	s->sweep.outside_pgrp = 0;
	s->hook_cut_by = 0;
	warnings_for_attempt(s);
	s->sweep.command = s->cmd;
	return 0;
}

static void
loop(struct sup *s)
{
	struct pollfd *fds = NULL;
	size_t cap = 0;

	advance(s, false);
	while (s->phase != PHASE_DONE) {
		size_t n = 2 + (s->parent_fd >= 0) + 2 * s->relay.n + s->reg.npeers;
		if (n > cap) {
			struct pollfd *v = reallocarray(fds, n, sizeof(*v));
			if (v != NULL) {
				fds = v;
				cap = n;
			}
		}
		n = n < cap ? n : cap;
		size_t k = 0;
		fds[k++] = (struct pollfd){ .fd = s->sig.fd, .events = POLLIN };
		fds[k++] = (struct pollfd){ .fd = s->reg.listen_fd, .events = POLLIN };
		bool polls_parent = s->parent_fd >= 0 && k < n;
		if (polls_parent)
			fds[k++] = (struct pollfd){ .fd = s->parent_fd, .events = POLLIN };
		size_t relay_ch[4], first_relay = k, nrelay = 0;
		if (s->relaying && k + 2 * s->relay.n <= n)
			nrelay = relay_pollfds(&s->relay, fds + k, relay_ch);
		k += nrelay;
		size_t first_peer = k;
		for (size_t i = 0; i < s->reg.npeers && k < n; i++)
			fds[k++] = (struct pollfd){ .fd = s->reg.peers[i].fd, .events = POLLIN };

		struct timespec ts, *tsp = NULL;
		if (s->wake != CTX_NEVER) {
			int64_t left = s->wake - mono_now();
			if (left < 0)
				left = 0;
			ts.tv_sec = left / NS_PER_SEC;
			ts.tv_nsec = left % NS_PER_SEC;
			tsp = &ts;
		}
		int polled = ppoll(fds, k, tsp, NULL);
		if (polled == -1) {
			if (errno != EINTR) {
				/* Cannot wait: look again in a while rather than spin. */
				struct timespec pause = { 0, 50 * NS_PER_MS };
				nanosleep(&pause, NULL);
			}
			for (size_t i = 0; i < k; i++)
				fds[i].revents = POLLIN;	/* read everything */
		}
		bool relay_only = polled > 0;
		for (size_t i = 0; i < k; i++)
			if (fds[i].revents != 0 && (i < first_relay || i >= first_relay + nrelay))
				relay_only = false;
		struct ready rd = {
			.signals = fds[0].revents != 0,
			.listen = fds[1].revents != 0,
			.parent = polls_parent && fds[2].revents != 0,
			.peers = fds + first_peer,
			.npolled = k - first_peer,
			.relay = fds + first_relay,
			.relay_ch = relay_ch,
			.nrelay = nrelay,
			.relay_only = relay_only,
		};
		wake_up(s, &rd);
		advance(s, relay_only);
	}
	free(fds);
}

/*
 * The tree is reaped: nothing can write any more, but what it wrote is
 * still delivered before ctxrun goes on (or exits).  A destination that
 * takes nothing for a while (a reader that stopped reading) is given up
 * on, and so is the rest when a signal asks ctxrun to end.
 */
static void
drain_relay(struct sup *s)
{
	int64_t patience = s->r->ctx->grace, give_up;
	struct received rv[64];

	if (patience < NS_PER_SEC)
		patience = NS_PER_SEC;
	if (patience > 60 * NS_PER_SEC)
		patience = 60 * NS_PER_SEC;
	give_up = time_add(mono_now(), patience);
	for (;;) {
		bool moved = false;
		for (size_t i = 0; i < s->relay.n; i++)
			moved |= relay_pump(&s->relay, i) > 0;
		if (!relay_stalled(&s->relay))
			return;
		int64_t now = mono_now();
		if (moved)
			give_up = time_add(now, patience);
		if (now >= give_up)
			return;
		struct pollfd fds[5];
		size_t which[4], k = relay_pollfds(&s->relay, fds, which);
		fds[k++] = (struct pollfd){ .fd = s->sig.fd, .events = POLLIN };
		int64_t left = give_up - now;
		struct timespec ts = { left / NS_PER_SEC, left % NS_PER_SEC };
		if (ppoll(fds, k, &ts, NULL) == -1 && errno != EINTR)
			return;
		for (size_t i = 0; i + 1 < k; i++)
			if (fds[i].revents != 0)
				relay_ready(&s->relay, which[i], &fds[i]);
		output_failures(s);
		if (fds[k - 1].revents == 0)
			continue;
		size_t n = signals_drain(&s->sig, rv, 64);
		for (size_t i = 0; i < n; i++)
			if (sigismember(&s->p->ending, rv[i].sig))
				return;
	}
}

/* ---- attempts ---------------------------------------------------------- */

int64_t
retry_wait(const struct retry_policy *rp, unsigned n)
{
	int64_t wait = rp->delay;

	/* delay * 2^(n-1), capped; with jitter, the upper half at random. */
	for (unsigned i = 1; i < n && wait < rp->max_delay; i++)
		wait = wait > rp->max_delay / 2 ? rp->max_delay : wait * 2;
	if (wait > rp->max_delay)
		wait = rp->max_delay;
	if (rp->jitter && wait > 1) {
		uint64_t r = 0;
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (uint64_t)mono_now();
		wait = wait / 2 + (int64_t)(r % (uint64_t)(wait / 2 + 1));
	}
	return wait;
}

/* Whether the attempt that just ended is worth another. */
static bool
worth_retrying(const struct retry_policy *rp, const struct outcome *o)
{
	switch (o->cause) {
	case DONE_DEADLINE:
		return o->attempt_timed_out && rp->on_timeout;
	case DONE_IDLE:
		return rp->on_timeout;
	case DONE_NOT_YET:
	case DONE_COMMAND_EXITED:
		break;
	default:
		return false;	/* a signal received, a cancel: final */
	}
	if (o->command_code == CLD_EXITED) {
		int st = o->command_status & 0xff;
		return (rp->on_exit[st / 8] >> (st % 8)) & 1;
	}
	/* Died of a --warn signal: ended by the deadline coming. */
	if (outcome_warned(o, o->command_status))
		return rp->on_timeout;
	return rp->on_signal;	/* died of a signal ctxrun did not send */
}

/* This attempt's context: the earlier of its own timeout and the run's
 * deadline, exported for COMMAND. */
static int
prepare_attempt(struct sup *s, unsigned n, int64_t own_deadline)
{
	const struct retry_policy *rp = s->r->retry;
	struct ctx *c = s->r->ctx;
	char num[16];

	c->deadline = own_deadline;
	if (rp->attempt_timeout != CTX_NEVER) {
		int64_t t = time_add(mono_now(), rp->attempt_timeout);
		if (t < c->deadline)
			c->deadline = t;
	}
	/* One attempt (-r 0, or --attempt-timeout alone) is no retry. */
	c->attempt = rp->retries > 0 ? n : 0;
	c->attempts = rp->retries > 0 ? rp->retries + 1 : 0;
	c->state = CTX_ACTIVE;
	free(c->cause);
	c->cause = NULL;
	s->out->attempt = c->attempt;
	s->out->attempts = c->attempts;
	if (c->attempts == 0)
		return export_context(s);
	snprintf(num, sizeof(num), "%u", c->attempts);
	if (setenv("CTXRUN_ATTEMPTS", num, 1) == -1)
		return -1;
	snprintf(num, sizeof(num), "%u", n);
	if (put_owned(&s->env_attempt, "CTXRUN_ATTEMPT", num) == -1)
		return -1;
	return export_context(s);
}

/* Waits until `until`, or until a cause ends the run: true then. */
static bool
wait_for_attempt(struct sup *s, int64_t until)
{
	s->phase = PHASE_WAITING;
	s->wake = until;
	s->final = false;
	loop(s);
	return s->final;
}

/* The bytes read are sealed and handed out read-only: no attempt can change
 * what the next one reads. */
static int
seal_stdin(struct sup *s)
{
	char path[64];
	int ro;

	if (fcntl(s->replay_fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW |
	    F_SEAL_SHRINK | F_SEAL_SEAL) == -1)
		goto fail;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s->replay_fd);
	if ((ro = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		goto fail;
	close(s->replay_fd);
	s->replay_fd = ro;
	return 0;
fail:
	s->out->failure = RUN_SETUP;
	s->out->err = errno;
	return 1;
}

/*
 * --replay-stdin: stdin is read to its end once, into memory, before the
 * first attempt, and every attempt reads the same bytes from the start.  A
 * signal that ends the context, or the deadline, stops the reading: 1 then,
 * and out says why.
 */
static int
read_stdin(struct sup *s)
{
	char buf[65536];

	s->replay_fd = memfd_create("ctxrun-stdin", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->replay_fd < 0)
		goto fail;
	for (;;) {
		int ready = wait_before_start(s, STDIN_FILENO);
		if (ready == -1)
			goto fail;
		if (ready == 0)
			break;
		ssize_t got = read(STDIN_FILENO, buf, sizeof(buf));
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got < 0)
			goto fail;
		if (got == 0)
			return seal_stdin(s);
		for (ssize_t off = 0; off < got;) {
			ssize_t w = write(s->replay_fd, buf + off, (size_t)(got - off));
			if (w < 0)
				goto fail;
			off += w;
		}
	}
	s->out->command_alive_at_done = true;	/* it would have been */
	return 1;
fail:
	s->out->failure = RUN_SETUP;
	s->out->err = errno;
	return 1;
}

static void
attempts(struct sup *s)
{
	const struct retry_policy *rp = s->r->retry;
	int64_t own_deadline = s->r->ctx->deadline;

	s->run_deadline = ctx_deadline(s->r->ctx);
	s->out->asked.after = -1;
	if (rp != NULL && rp->replay_stdin && read_stdin(s) == 1)
		return;
	for (unsigned n = 1;; n++) {
		if (rp != NULL && prepare_attempt(s, n, own_deadline) == -1) {
			s->out->failure = RUN_SETUP;
			s->out->err = errno;
			return;
		}
		if (start_command(s) == -1)
			return;
		/* When each attempt began, for a report of the run. */
		struct event started = { .kind = EV_ATTEMPT_STARTED, .attempt = n,
		    .attempts = rp != NULL ? rp->retries + 1 : 1 };
		emit(s, &started);
		loop(s);
		if (s->relaying)
			drain_relay(s);
		if (rp == NULL || n > rp->retries || !worth_retrying(rp, s->out))
			return;

		struct outcome failed = *s->out;
		struct event ev = { .kind = EV_RETRYING, .attempt = n,
		    .attempts = rp->retries + 1, .failed = &failed };
		if (failed.asked.never) {
			ev.kind = EV_NOT_RETRIED;
			emit(s, &ev);
			return;
		}
		/* "Come back in 30 s", from the command: still bounded by the
		 * deadline and the number of attempts. */
		ev.wait = failed.asked.after >= 0 ? failed.asked.after : retry_wait(rp, n);
		/* Never sleep past the deadline, never start an attempt with
		 * no time left. */
		if (time_add(mono_now(), ev.wait) >= s->run_deadline) {
			ev.kind = EV_GIVING_UP;
			emit(s, &ev);
			return;
		}
		emit(s, &ev);
		/* The next attempt starts afresh. */
		memset(s->out, 0, sizeof(*s->out));
		s->out->asked.after = -1;
		s->out->attempt = failed.attempt;
		s->out->attempts = failed.attempts;
		s->recheck_delay = 0;
		if (wait_for_attempt(s, time_add(mono_now(), ev.wait)))
			return;
		if (mono_now() >= s->run_deadline) {
			/* Late (ctxrun was stopped, the machine is loaded): the
			 * next attempt has no time left; not started. */
			s->out->cause = DONE_DEADLINE;
			s->out->command_alive_at_done = true;
			return;
		}
		s->phase = PHASE_RUNNING;
	}
}

/* The terminal's modes as they were, if they changed and ctxrun is in the
 * foreground (in the background, setting them would stop it). */
static void
restore_terminal(struct sup *s)
{
	int fd = relay_terminal(&s->relay);
	struct termios now;

	if (tcgetattr(fd, &now) == 0 && memcmp(&now, &s->term_modes, sizeof(now)) != 0 &&
	    tcgetpgrp(fd) == getpgrp())
		(void)tcsetattr(fd, TCSADRAIN, &s->term_modes);
}

void
supervise(const struct run *r, struct outcome *out)
{
	struct sup s = { .r = r, .p = r->policy, .out = out, .tty = -1,
	    .parent_fd = -1, .wake = CTX_NEVER, .replay_fd = -1 };
	const struct policy *p = r->policy;

	memset(out, 0, sizeof(*out));
	s.relay.ch[0].src = s.relay.ch[1].src = -1;
	s.relay.ch[0].tree_end = s.relay.ch[1].tree_end = -1;
	s.relay.ch[0].sink = s.relay.ch[1].sink = -1;
	s.reg.listen_fd = -1;
	s.reg.reserve_fd = -1;
	s.sig.fd = -1;
	s.self = getpid();
	s.sweep.self = s.self;
	s.sweep.reg = &s.reg;

	/* GNU timeout runs in a process group of its own, with COMMAND. */
	if (p->own_pgrp && !p->foreground)
		setpgid(0, 0);
	/* With a controlling terminal (whatever fds 0-2 are), COMMAND stays in
	 * ctxrun's process group: where the shell's job control puts ctxrun,
	 * foreground or background, then fg, COMMAND is too, and it can read
	 * the terminal or /dev/tty without being stopped. */
	s.tty = open("/dev/tty", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	s.shares_group = p->foreground || p->own_pgrp || s.tty >= 0;
	s.sweep.shares_group = s.shares_group;

	if (setup_descriptors(&s) == -1) {
		out->failure = RUN_FD_LIMIT;
		out->err = (int)s.nofile.rlim_cur;
		goto end;
	}
	if (signals_catch(&s.sig, p) == -1 || prctl(PR_SET_CHILD_SUBREAPER, 1) == -1 ||
	    registry_open(&s.reg, s.max_peers) == -1 || export_context(&s) == -1) {
		out->failure = RUN_SETUP;
		out->err = errno;
		goto end;
	}
	s.relaying = r->idle_timeout != CTX_NEVER && r->idle_timeout > 0;
	if (s.relaying && relay_open(&s.relay) == -1) {
		out->failure = RUN_SETUP;
		out->err = errno;
		goto end;
	}
	/* A program killed with the terminal in raw mode cannot put it back:
	 * ctxrun does, when it was the one to end it. */
	if (s.relaying && relay_terminal(&s.relay) >= 0)
		s.term_saved = tcgetattr(relay_terminal(&s.relay), &s.term_modes) == 0;
	if (register_with_parent(&s) == 1)
		goto end;
	attempts(&s);
	if (s.term_saved && out->cause != DONE_NOT_YET)
		restore_terminal(&s);
	/* Leaving leftovers running (GNU timeout): nested ctxruns among them
	 * must not take our exit for a kill. */
	for (size_t i = 0; i < s.reg.npeers; i++)
		if (s.reg.peers[i].nested)
			(void)msg_send(s.reg.peers[i].fd, MSG_DETACH, NULL);
end:
	registry_close(&s.reg);
	if (s.parent_fd >= 0)
		close(s.parent_fd);
	if (s.sig.fd >= 0)
		close(s.sig.fd);
	if (s.tty >= 0)
		close(s.tty);
	if (s.replay_fd >= 0)
		close(s.replay_fd);
	drop_owned(&s.env_ctx);
	drop_owned(&s.env_attempt);
	relay_close(&s.relay);
}
