/*
 * Supervising COMMAND and its whole tree.
 *
 * ctxrun is the child subreaper of everything it starts, so every orphan of
 * the tree comes back to it.  It sleeps in one ppoll() on a signalfd (all the
 * signals it cares about, SIGCHLD included, are blocked) and on its cancel
 * socket, with the time to the next deadline as the timeout: no wake-up while
 * nothing happens.
 *
 * When the context is done: every process of the tree gets the first signal
 * once (nested ctxruns are told instead, and tell their own subtrees), then
 * after the grace period KILL, pass after pass, until a pass finds nothing
 * alive.  ctxrun returns only when it has no child left: since every orphan
 * is re-parented to it, no child means no tree.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "ctxrun.h"

enum cause {
	CAUSE_NONE,
	CAUSE_DEADLINE,         /* own or inherited deadline */
	CAUSE_CANCEL,           /* ctxrun cancel inside the tree */
	CAUSE_PARENT_CANCEL,    /* the enclosing ctxrun's cancel */
	CAUSE_SIGNAL,           /* INT, TERM or HUP received */
	CAUSE_COMMAND_EXITED,   /* defer cancel(): leftovers of the tree */
};

struct sup {
	struct run_opts *o;
	pid_t self, pgrp, cmd;
	int sfd, csock;
	char token[33];
	sigset_t caught, orig_mask;
	bool sigchld_was_ignored, shares_group;

	bool cmd_running;
	int cmd_code, cmd_status;       /* si_code, si_status of its exit */

	enum cause cause;
	int cause_sig;                  /* CAUSE_SIGNAL: the signal received */
	bool cause_from_terminal;       /* ... sent by the kernel to our group */
	int cancel_status;
	char cause_text[256];
	bool cmd_alive_at_cancel;
	int64_t kill_at;
	bool kill_phase;
	int64_t recheck_at, recheck_delay; /* kill phase: look again then */
	unsigned kill_sweeps;

	struct rlimit nofile;           /* the caller's descriptor limit */
	bool nofile_raised;
	size_t burst_max;

	struct tree tree;
	pid_t *signalled;
	size_t nsignalled, capsignalled;
};

static void say(const struct sup *s, const char *fmt, ...) __printflike(2, 3);

static void
say(const struct sup *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (s->o->gnu_timeout)
		fprintf(stderr, "timeout: %s\n", line);
	else
		fprintf(stderr, "ctxrun: %s: %s\n", s->o->ctx->name, line);
}

/* --verbose: one line per signal sent, in GNU timeout's words there. */
static void
report_signal(const struct sup *s, int sig, const char *what)
{
	char name[16];

	if (!s->o->verbose)
		return;
	signal_name(sig, name, sizeof(name));
	if (s->o->gnu_timeout)
		say(s, "sending signal %s to command '%s'", name, s->o->argv[0]);
	else
		say(s, "sent %s %s", name, what);
}

static const char *
cause_words(const struct sup *s)
{
	switch (s->cause) {
	case CAUSE_DEADLINE:
		return "deadline exceeded";
	case CAUSE_CANCEL:
	case CAUSE_PARENT_CANCEL:
		return "cancelled";
	case CAUSE_SIGNAL:
		return "signal received";
	case CAUSE_COMMAND_EXITED:
		return "command exited, cleaning up its tree";
	default:
		return "";
	}
}

/* ---- signals ----------------------------------------------------------- */

/* Signals that stop or continue a process belong to job control and keep
 * their default action in ctxrun; 32 and 33 belong to glibc. */
static bool
is_caught(int sig)
{
	switch (sig) {
	case SIGKILL: case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
	case SIGCONT:
		return false;
	}
	return sig < 32 || sig >= SIGRTMIN;
}

/* GNU timeout's terminating signals: what it catches and passes on. */
static bool
gnu_catches(int sig)
{
	switch (sig) {
	case SIGALRM: case SIGINT: case SIGQUIT: case SIGHUP: case SIGTERM:
	case SIGPIPE: case SIGUSR1: case SIGUSR2: case SIGILL: case SIGTRAP:
	case SIGABRT: case SIGBUS: case SIGFPE: case SIGSEGV: case SIGXCPU:
	case SIGXFSZ: case SIGSYS: case SIGVTALRM: case SIGPROF: case SIGIO:
	case SIGPWR: case SIGSTKFLT: case SIGCHLD:
		return true;
	}
	return sig >= SIGRTMIN && sig <= SIGRTMAX;
}

static int
setup_signals(struct sup *s)
{
	bool gnu = s->o->gnu_timeout;
	struct sigaction old;

	sigemptyset(&s->caught);
	for (int sig = 1; sig <= SIGRTMAX; sig++) {
		if (!(gnu ? gnu_catches(sig) : is_caught(sig)) ||
		    sigaction(sig, NULL, &old) == -1)
			continue;
		if (old.sa_handler == SIG_IGN) {
			/* Ignored by the caller: stays ignored, for COMMAND too.
			 * SIGCHLD must not be, or the kernel reaps for us; GNU
			 * timeout always takes ALRM and its -s signal (and COMMAND
			 * gets them back at their default). */
			if (sig == SIGCHLD)
				s->sigchld_was_ignored = true;
			else if (!(gnu && (sig == SIGALRM || sig == s->o->first_signal)))
				continue;
			signal(sig, SIG_DFL);
		}
		sigaddset(&s->caught, sig);
	}
	if (gnu) {
		/* Not stopped when a background COMMAND needs the terminal. */
		signal(SIGTTIN, SIG_IGN);
		signal(SIGTTOU, SIG_IGN);
	}
	if (sigprocmask(SIG_BLOCK, &s->caught, &s->orig_mask) == -1)
		return -1;
	s->sfd = signalfd(-1, &s->caught, SFD_CLOEXEC | SFD_NONBLOCK);
	return s->sfd < 0 ? -1 : 0;
}

/* Dies of sig as COMMAND did, so that the calling shell sees the same wait
 * status it would have seen without ctxrun.  No core dump: COMMAND's was the
 * one that mattered. */
static void __attribute__((noreturn))
die_of(int sig)
{
	struct rlimit none = { 0, 0 };
	sigset_t only;

	fflush(stderr);
	prctl(PR_SET_DUMPABLE, 0);
	setrlimit(RLIMIT_CORE, &none);
	signal(sig, SIG_DFL);
	sigemptyset(&only);
	sigaddset(&only, sig);
	raise(sig);
	sigprocmask(SIG_UNBLOCK, &only, NULL);
	/* Still here: a signal whose default is to ignore or stop, or ctxrun
	 * is PID 1 of a namespace.  The shell's convention is the next best. */
	_exit(128 + sig);
}

/* ---- the tree ---------------------------------------------------------- */

static bool
was_signalled(const struct sup *s, pid_t pid)
{
	for (size_t i = 0; i < s->nsignalled; i++)
		if (s->signalled[i] == pid)
			return true;
	return false;
}

static int
remember(struct sup *s, pid_t pid)
{
	if (s->nsignalled == s->capsignalled) {
		size_t cap = s->capsignalled ? s->capsignalled * 2 : 64;
		pid_t *v = reallocarray(s->signalled, cap, sizeof(*v));
		if (v == NULL)
			return -1;
		s->signalled = v;
		s->capsignalled = cap;
	}
	s->signalled[s->nsignalled++] = pid;
	return 0;
}

static struct nested *
find_nested(struct tree *t, pid_t pid)
{
	for (size_t i = 0; i < t->nnested; i++)
		if (t->nested[i].pid == pid)
			return &t->nested[i];
	return NULL;
}

/* The first signal goes out in bursts: a pass collects the pidfds of the
 * processes it finds, and they are signalled together at the end of it.
 * Signalling while walking would start hundreds of exits that compete for
 * the CPU with the walk itself, and re-parent children mid-walk. */
#define BURST 256
#define MAX_FIRST_PASSES 4

struct first_pass {
	struct sup *s;
	int sig;
	size_t sent, already, told, added;
	struct proc burst[BURST];
	size_t nburst, max;     /* max <= BURST, within the descriptor limit */
};

static void
flush_burst(struct first_pass *fp)
{
	for (size_t i = 0; i < fp->nburst; i++) {
		struct proc *p = &fp->burst[i];
		if (fp->sig != 0 && tree_signal(p, fp->sig) == 0) {
			fp->sent++;
			/* A stopped process would not act on it until continued. */
			if (p->state == 'T' && fp->sig != SIGKILL && fp->sig != SIGCONT)
				tree_signal(p, SIGCONT);
		}
		if (p->pidfd >= 0)
			close(p->pidfd);
	}
	fp->nburst = 0;
}

static bool
visit_first(struct tree *t, struct proc *p, void *arg)
{
	struct first_pass *fp = arg;
	struct sup *s = fp->s;
	struct nested *n;

	if (p->state == 'Z')
		return false;
	if ((n = find_nested(t, p->pid)) != NULL) {
		if (n->told)
			return false;
		/* A nested ctxrun tells its own subtree, with its own signal. */
		struct ctx_msg m = { .kind = MSG_PARENT_DONE };
		m.num1 = s->cause == CAUSE_SIGNAL ? 'S' :
		    s->cause == CAUSE_DEADLINE ? 'D' : 'C';
		m.num2 = s->cause == CAUSE_SIGNAL ?
		    s->cause_sig | (s->cause_from_terminal ? 0x100 : 0) : 0;
		if (csock_send(n->token, &m) == 0) {
			n->told = true;
			fp->told++;
			fp->added++;
			return false;
		}
		/* Unreachable (it died, or lives in another network namespace):
		 * an ordinary process then. */
	}
	if (was_signalled(s, p->pid))
		return true;
	if (remember(s, p->pid) == -1)
		return true;
	fp->added++;
	if (s->cause_from_terminal && p->pgrp == s->pgrp) {
		fp->already++;	/* the terminal sent it to our whole group */
		return true;
	}
	fp->burst[fp->nburst++] = *p;
	p->pidfd = -1;		/* ours now, closed by flush_burst */
	if (fp->nburst == fp->max)
		flush_burst(fp);
	return true;
}

struct kill_pass {
	size_t live;
};

static bool
visit_kill(struct tree *t, struct proc *p, void *arg)
{
	struct kill_pass *kp = arg;

	(void)t;
	if (p->state != 'Z') {
		tree_signal(p, SIGKILL);
		kp->live++;
	}
	return true;
}

static void handle_messages(struct sup *s);
static bool has_children(void);

static void
first_signal_sweep(struct sup *s, int sig)
{
	struct first_pass fp = { .s = s, .sig = sig, .max = s->burst_max };
	if (!tree_proc_usable()) {
		/* As PID 1 of a namespace whose /proc is not mounted, the tree is
		 * every other process of the namespace.  Elsewhere without a
		 * usable /proc, only COMMAND's process group can be reached. */
		if (fp.sig != 0)
			kill(s->self == 1 ? -1 : (s->shares_group ? s->cmd : -s->cmd), fp.sig);
		report_signal(s, sig, "to the tree (no usable /proc)");
		return;
	}
	/* Registrations of nested ctxruns that are still queued count. */
	handle_messages(s);
	/* Processes fork while the tree is walked: walk again until a pass
	 * finds nobody new, but not forever: a tree that keeps forking would
	 * keep it busy, and what it forks from now on gets KILL at the end of
	 * the grace period. */
	int passes = 0;
	do {
		fp.added = 0;
		int rc = tree_walk(&s->tree, visit_first, &fp);
		flush_burst(&fp);
		if (rc == -1) {
			say(s, "cannot read the process tree: %s", strerror(errno));
			break;
		}
	} while (fp.added > 0 && ++passes < MAX_FIRST_PASSES);
	if (s->o->verbose) {
		char what[160];
		snprintf(what, sizeof(what), "to %zu process%s (%s)%s%.0zu%s%s",
		    fp.sent, fp.sent == 1 ? "" : "es", cause_words(s),
		    fp.already ? "; the terminal told " : "", fp.already,
		    fp.already ? " more" : "",
		    fp.told ? "; told the nested ctxruns" : "");
		report_signal(s, sig, what);
	}
}

static void
kill_sweep(struct sup *s)
{
	struct kill_pass kp = { 0 };
	char grace[40];

	if (!tree_proc_usable()) {
		kill(s->self == 1 ? -1 : (s->shares_group ? s->cmd : -s->cmd), SIGKILL);
		kp.live = has_children();
		goto report;
	}

	if (tree_walk(&s->tree, visit_kill, &kp) == -1)
		say(s, "cannot read the process tree: %s", strerror(errno));
report:
	if (kp.live > 0 || s->kill_sweeps == 0) {
		char what[120];
		format_duration(s->o->ctx->grace, grace, sizeof(grace));
		snprintf(what, sizeof(what), "to %zu process%s (grace period of %s over)",
		    kp.live, kp.live == 1 ? "" : "es", grace);
		if (!s->o->gnu_timeout || s->kill_sweeps == 0)
			report_signal(s, SIGKILL, what);
	}
	s->kill_sweeps++;
	/* A process forked just before its parent died is re-parented to us
	 * without a SIGCHLD: look again soon, backing off, while any lived. */
	if (kp.live == 0) {
		s->recheck_at = CTX_NEVER;
		return;
	}
	s->recheck_delay = s->recheck_delay == 0 ? 10 * NS_PER_MS :
	    s->recheck_delay >= NS_PER_SEC / 2 ? NS_PER_SEC : s->recheck_delay * 2;
	s->recheck_at = time_add(mono_now(), s->recheck_delay);
}

static void
begin_cancel(struct sup *s, enum cause cause)
{
	int64_t now = mono_now();
	int sig = s->o->first_signal;

	if (s->cause != CAUSE_NONE)
		return;
	s->cause = cause;
	s->cmd_alive_at_cancel = s->cmd_running;
	s->kill_at = time_add(now, s->o->ctx->grace);
	ctx_cancel(s->o->ctx, cause == CAUSE_DEADLINE ? CTX_DEADLINE_EXCEEDED :
	    CTX_CANCELED, cause_words(s));
	if (cause == CAUSE_SIGNAL)
		sig = s->cause_sig;
	first_signal_sweep(s, sig);
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
			s->cmd_code = si.si_code;
			s->cmd_status = si.si_status;
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

static bool
trusted(const struct ctx_msg *m)
{
	return m->uid == getuid() || m->uid == 0;
}

static void
handle_messages(struct sup *s)
{
	struct ctx_msg m;

	while (csock_recv(s->csock, &m) == 1) {
		if (!trusted(&m))
			continue;
		switch (m.kind) {
		case MSG_NESTED: {
			struct nested *n = find_nested(&s->tree, m.num1), *v;
			if (n == NULL) {
				v = reallocarray(s->tree.nested, s->tree.nnested + 1, sizeof(*v));
				if (v == NULL)
					break;
				s->tree.nested = v;
				n = &v[s->tree.nnested++];
				n->pid = m.num1;
			}
			strlcpy(n->token, m.text, sizeof(n->token));
			n->told = false;
			break;
		}
		case MSG_CANCEL:
			if (s->cause == CAUSE_NONE) {
				s->cancel_status = m.num1;
				strlcpy(s->cause_text, m.text, sizeof(s->cause_text));
				begin_cancel(s, CAUSE_CANCEL);
			}
			break;
		case MSG_PARENT_DONE:
			if (s->cause != CAUSE_NONE)
				break;
			if (m.num1 == 'S') {
				s->cause_sig = m.num2 & 0xff;
				s->cause_from_terminal = m.num2 & 0x100;
				begin_cancel(s, CAUSE_SIGNAL);
			} else
				begin_cancel(s, m.num1 == 'D' ? CAUSE_DEADLINE :
				    CAUSE_PARENT_CANCEL);
			break;
		}
	}
}

static void
handle_signals(struct sup *s)
{
	struct signalfd_siginfo si;
	char name[16];

	while (read(s->sfd, &si, sizeof(si)) == sizeof(si)) {
		int sig = (int)si.ssi_signo;
		bool from_terminal = si.ssi_code == SI_KERNEL;

		/* INT, TERM and HUP end the context; for GNU timeout, every
		 * signal it catches does (an external ALRM as a timeout). */
		bool ends = s->o->gnu_timeout || sig == SIGINT || sig == SIGTERM ||
		    sig == SIGHUP;

		if (sig == SIGCHLD) {
			reap(s);
		} else if (ends && s->cause == CAUSE_NONE) {
			if (s->o->gnu_timeout && sig == SIGALRM)
				begin_cancel(s, CAUSE_DEADLINE);
			else {
				s->cause_sig = sig;
				s->cause_from_terminal = from_terminal && s->shares_group;
				begin_cancel(s, CAUSE_SIGNAL);
			}
		} else if (s->o->gnu_timeout) {
			/* GNU timeout passes every later one on to COMMAND. */
			if (s->cmd_running) {
				report_signal(s, sig, "to the command");
				kill(s->cmd, sig);
			}
		} else if (ends) {
			/* Already done: the tree was told once. */
		} else if (s->cmd_running && !(from_terminal && s->shares_group)) {
			kill(s->cmd, sig);	/* our unreaped child: cannot be reused */
			if (s->o->verbose)
				say(s, "forwarded %s to the command",
				    signal_name(sig, name, sizeof(name)));
		}
	}
}

/* ---- start and finish -------------------------------------------------- */

/* CTXRUN_DEPTH and CTXRUN_<depth> for COMMAND; deeper levels left by some
 * earlier environment are dropped. */
static int
export_context(struct sup *s)
{
	size_t depth = ctx_depth(s->o->ctx);
	char name[32], num[24], *enc;
	extern char **environ;

	for (size_t i = depth + 1; i <= depth + 64; i++) {
		snprintf(name, sizeof(name), "CTXRUN_%zu", i);
		if (getenv(name) == NULL)
			break;
		unsetenv(name);
	}
	snprintf(name, sizeof(name), "CTXRUN_%zu", depth);
	snprintf(num, sizeof(num), "%zu", depth);
	if ((enc = ctx_encode(s->o->ctx, s->self, s->token)) == NULL)
		return -1;
	int rc = setenv("CTXRUN_DEPTH", num, 1) | setenv(name, enc, 1);
	free(enc);
	return rc;
}

/* A walk holds a few descriptors, and a burst one pidfd per process: raise
 * a low soft limit for ctxrun itself (COMMAND gets the caller's back), and
 * refuse one too low to work with. */
#define FDS_NEEDED 16

static int
setup_descriptors(struct sup *s)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &s->nofile) == -1)
		return -1;
	r = s->nofile;
	if (r.rlim_cur < 512 && r.rlim_max > r.rlim_cur) {
		r.rlim_cur = r.rlim_max < 512 ? r.rlim_max : 512;
		if (setrlimit(RLIMIT_NOFILE, &r) == 0)
			s->nofile_raised = true;
		else
			r = s->nofile;
	}
	if (r.rlim_cur < FDS_NEEDED) {
		errno = EMFILE;
		return -1;
	}
	s->burst_max = r.rlim_cur - FDS_NEEDED / 2 < BURST ?
	    r.rlim_cur - FDS_NEEDED / 2 : BURST;
	return 0;
}

/* In a terminal's foreground process group, COMMAND stays in it, so that it
 * can read the terminal and Ctrl-C reaches it directly. */
static bool
in_terminal_foreground(pid_t pgrp)
{
	for (int fd = 0; fd <= 2; fd++)
		if (tcgetpgrp(fd) == pgrp)
			return true;
	return false;
}

/* GNU timeout's exit status: 124 once timed out (unless
 * --preserve-status), 128+N for a signal, 137 when KILL was needed, and
 * its own death by COMMAND's signal when it did not time out. */
static int
finish_gnu(struct sup *s)
{
	bool timed_out = s->cause == CAUSE_DEADLINE || s->cause == CAUSE_CANCEL ||
	    s->cause == CAUSE_PARENT_CANCEL;
	bool preserve = s->o->preserve_status;
	int status = s->cmd_status;

	if (s->cmd_code != CLD_EXITED) {
		if (!timed_out)
			die_of(s->cmd_status);
		if (s->cmd_status == SIGKILL)
			preserve = true;
		status = 128 + s->cmd_status;
	}
	if (timed_out && !preserve)
		return s->cause == CAUSE_CANCEL ? s->cancel_status : EXIT_CTX_DONE;
	return status;
}

static int
finish(struct sup *s)
{
	if (s->o->gnu_timeout)
		return finish_gnu(s);

	bool ctx_ended = (s->cause == CAUSE_DEADLINE || s->cause == CAUSE_CANCEL ||
	    s->cause == CAUSE_PARENT_CANCEL) &&
	    (s->cmd_alive_at_cancel || s->o->wait_tree);
	bool exited = s->cmd_code == CLD_EXITED;

	if (ctx_ended) {
		if (!s->o->quiet) {
			const struct ctx *c = s->o->ctx, *owner = ctx_deadline_owner(c);
			char d[40];
			if (s->cause == CAUSE_CANCEL)
				say(s, "cancelled: %s", s->cause_text[0] ? s->cause_text :
				    "ctxrun cancel");
			else if (s->cause == CAUSE_PARENT_CANCEL)
				say(s, "cancelled by the enclosing context '%s'",
				    c->parent ? c->parent->name : "?");
			else {
				/* The budget this ctxrun had, to the millisecond. */
				int64_t budget = ctx_deadline(c) - s->o->start + NS_PER_MS / 2;
				format_duration(budget - budget % NS_PER_MS, d, sizeof(d));
				if (owner == c)
					say(s, "deadline exceeded after %s", d);
				else
					say(s, "deadline exceeded after %s (inherited from '%s')",
					    d, owner->name);
			}
		}
		if (s->o->preserve_status)
			return exited ? s->cmd_status : 128 + s->cmd_status;
		return s->cause == CAUSE_CANCEL ? s->cancel_status : EXIT_CTX_DONE;
	}
	if (exited)
		return s->cmd_status;
	if (s->cause == CAUSE_SIGNAL && s->cmd_alive_at_cancel)
		die_of(s->cause_sig);
	die_of(s->cmd_status);
}

int
supervise(struct run_opts *o)
{
	struct sup s = { .o = o, .sfd = -1, .csock = -1, .recheck_at = CTX_NEVER };
	struct spawn_attr attr = { 0 };
	int err;

	s.self = getpid();
	/* GNU timeout runs in a process group of its own, with COMMAND. */
	if (o->gnu_timeout && !o->foreground)
		setpgid(0, 0);
	s.pgrp = getpgrp();
	s.tree.self = s.self;
	if (setup_descriptors(&s) == -1) {
		fprintf(stderr, "ctxrun: the limit of %llu open files is too low to "
		    "supervise a tree (%d needed)\n",
		    (unsigned long long)s.nofile.rlim_cur, FDS_NEEDED);
		return EXIT_CTX_FAILED;
	}
	if (setup_signals(&s) == -1 || prctl(PR_SET_CHILD_SUBREAPER, 1) == -1 ||
	    (s.csock = csock_open(s.token)) == -1 || export_context(&s) == -1) {
		fprintf(stderr, "ctxrun: cannot set up supervision: %s\n", strerror(errno));
		return EXIT_CTX_FAILED;
	}
	const struct ctx *parent = o->ctx->parent;
	if (parent != NULL && parent->pid > 0) {
		struct ctx_msg m = { .kind = MSG_NESTED, .num1 = s.self };
		strlcpy(m.text, s.token, sizeof(m.text));
		(void)csock_send(parent->token, &m);	/* best effort: see tree.c */
	}

	s.shares_group = o->foreground || o->gnu_timeout ||
	    in_terminal_foreground(s.pgrp);
	attr.child_mask = &s.orig_mask;
	attr.restore_sigchld_ign = s.sigchld_was_ignored;
	attr.default_ttin_ttou = o->gnu_timeout;
	attr.new_pgrp = !s.shares_group;
	attr.deathsig = o->first_signal;
	attr.nofile = s.nofile_raised ? &s.nofile : NULL;
	s.cmd = spawn_command(o->argv, &attr, &err);
	if (s.cmd < 0 && err == 0) {
		fprintf(stderr, "%s: cannot start a process: %s\n",
		    o->gnu_timeout ? "timeout" : "ctxrun", strerror(errno));
		return EXIT_CTX_FAILED;
	}
	if (s.cmd < 0) {
		fprintf(stderr, o->gnu_timeout ? "timeout: failed to run command '%s': %s\n" :
		    "ctxrun: cannot run '%s': %s\n", o->argv[0], strerror(err));
		return err == ENOENT || err == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
	}
	s.cmd_running = true;

	for (;;) {
		reap(&s);
		if (!s.cmd_running) {
			/* GNU timeout leaves leftovers alone, and has no KILL to
			 * send to them without -k. */
			if (o->gnu_timeout && (s.cause == CAUSE_NONE || s.kill_at == CTX_NEVER))
				break;
			if (!has_children())
				break;
			if (s.cause == CAUSE_NONE && !o->wait_tree)
				begin_cancel(&s, CAUSE_COMMAND_EXITED);
		}
		int64_t now = mono_now(), wake;
		if (s.cause == CAUSE_NONE && ctx_deadline(o->ctx) <= now)
			begin_cancel(&s, CAUSE_DEADLINE);
		if (s.cause != CAUSE_NONE && !s.kill_phase && now >= s.kill_at) {
			s.kill_phase = true;
			kill_sweep(&s);
		} else if (s.kill_phase && now >= s.recheck_at)
			kill_sweep(&s);

		if (s.cause == CAUSE_NONE)
			wake = ctx_deadline(o->ctx);
		else if (!s.kill_phase)
			wake = s.kill_at;
		else
			wake = s.recheck_at;

		struct pollfd fds[2] = {
			{ .fd = s.sfd, .events = POLLIN },
			{ .fd = s.csock, .events = POLLIN },
		};
		struct timespec ts, *tsp = NULL;
		if (wake != CTX_NEVER) {
			int64_t left = wake - mono_now();
			if (left < 0)
				left = 0;
			ts.tv_sec = left / NS_PER_SEC;
			ts.tv_nsec = left % NS_PER_SEC;
			tsp = &ts;
		}
		if (ppoll(fds, 2, tsp, NULL) == -1 && errno != EINTR) {
			say(&s, "ppoll: %s", strerror(errno));
			break;
		}
		if (fds[0].revents & POLLIN)
			handle_signals(&s);
		if (fds[1].revents & POLLIN)
			handle_messages(&s);
		/* In the kill phase, every exit may have re-parented a survivor. */
		if (s.kill_phase && (fds[0].revents & POLLIN))
			kill_sweep(&s);
	}
	free(s.signalled);
	free(s.tree.nested);
	close(s.sfd);
	close(s.csock);
	return finish(&s);
}
