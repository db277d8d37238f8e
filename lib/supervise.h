/*
 * Running COMMAND under a context and ending its whole tree: the front end
 * fills a struct run (the context, a policy, retries, warnings, a hook) and
 * supervise() says what happened as events and an outcome.  Public, beside
 * lib/ctxrun.h.
 */
#ifndef CTXRUN_SUPERVISE_H
#define CTXRUN_SUPERVISE_H

#include <signal.h>

#include "ctxrun.h"

/* Why a context is done: shared by the supervisor, its outcome and the
 * messages a parent sends its nested ctxruns. */
enum done_cause {
	DONE_NOT_YET,
	DONE_DEADLINE,          /* own or inherited deadline */
	DONE_CANCEL,            /* ctxrun cancel inside the tree */
	DONE_PARENT_CANCEL,     /* the enclosing context was cancelled */
	DONE_SIGNAL,            /* INT (not typed at the terminal), TERM or HUP */
	DONE_COMMAND_EXITED,    /* defer cancel(): the leftovers of the tree */
	DONE_PARENT_GONE,       /* the enclosing ctxrun vanished (killed) */
	DONE_IDLE,              /* --idle-timeout: the tree wrote nothing */
};

/* A cause's names: words for ctxrun's lines and the hook's CTXRUN_CAUSE,
 * the report's field, and whether the context itself ended the run (a
 * deadline, a cancel, the idle timeout), as opposed to a signal received or
 * COMMAND's own exit.  DONE_NOT_YET has NULL names. */
struct cause_names {
	const char *words;
	const char *report;
	bool by_context;
};
const struct cause_names *cause_names(enum done_cause cause);

/* ---- registry.c: what a process of the tree asks its ctxrun ------------ */

#define ASK_TEXT_MAX 256
enum ask_kind { ASK_CANCEL, ASK_RETRY_NEVER, ASK_RETRY_AFTER };
struct ask {
	enum ask_kind kind;
	int status;             /* ASK_CANCEL: the exit status asked for */
	int64_t after;          /* ASK_RETRY_AFTER: the wait */
	char cause[ASK_TEXT_MAX];
};
/* ctxrun cancel and ctxrun retry: asks the ctxrun whose token this is and
 * waits for the answer.  0 accepted, 1 refused (why said why), -1
 * unreachable (errno), -2 a signal that ends the caller came first (*sig).
 * Returns with signals blocked. */
int ctxrun_ask(const char *token, const struct ask *a, char why[ASK_TEXT_MAX],
    int *sig);

/* ---- supervise.c: run COMMAND under a context -------------------------- */

/* What happens to the rest of the tree when COMMAND exits on its own. */
enum leftovers {
	LEFTOVERS_CANCEL,       /* cancelled, as Go's defer cancel() */
	LEFTOVERS_WAIT,         /* --wait: let them finish, under the deadline */
	LEFTOVERS_LEAVE,        /* GNU timeout: left alone, ctxrun exits */
};

/*
 * How a front end wants the run supervised, chosen once: ctxrun's own
 * command line and GNU timeout's differ only in this data.
 */
struct policy {
	sigset_t caught;        /* taken by ctxrun rather than acted on */
	sigset_t keep_caught;   /* taken even when the caller ignored them */
	sigset_t ending;        /* received: the context is done (cause signal) */
	sigset_t as_deadline;   /* received: as if the deadline passed */
	bool tell_once;         /* an ending signal received once done is dropped */
	bool forward_to_tree;   /* other received signals: tree, not COMMAND only */
	bool own_pgrp;          /* ctxrun moves to a process group of its own */
	bool ignore_ttin_ttou;  /* never stopped by the terminal itself */
	bool foreground;        /* COMMAND stays in ctxrun's process group */
	enum leftovers leftovers;
	int first_signal;
};

/* Retries: each attempt a child context of the run, its whole tree reaped
 * before the next one starts. */
struct retry_policy {
	unsigned retries;       /* attempts after the first */
	int64_t attempt_timeout;/* each attempt's own; CTX_NEVER: none */
	uint8_t on_exit[32];    /* bitmap: exit statuses that are retried */
	bool on_timeout;        /* the attempt's own timeout fired */
	bool on_signal;         /* COMMAND died of a signal ctxrun did not send */
	int64_t delay;          /* before attempt 2; doubles up to max_delay */
	int64_t max_delay;
	bool jitter;            /* a random part, so runs that failed together
	                         * do not retry together */
	bool replay_stdin;      /* stdin read once, the same bytes each attempt */
};

/* --retry-on: "1,2-5,75,timeout,signal" or "any" (parse.c). */
int parse_retry_on(const char *s, struct retry_policy *rp, ctx_err *err);

/* What supervise() tells its caller as it goes (for --verbose, --report). */
enum event_kind {
	EV_SIGNALLED,           /* the first signal went to the tree */
	EV_FORWARDED,           /* a received signal was passed on */
	EV_KILLED,              /* KILL went to what was left */
	EV_TREE_UNREADABLE,     /* /proc could not be read: err */
	EV_RETRYING,            /* attempt failed; the next one in `wait` */
	EV_GIVING_UP,           /* attempt failed; no time left for the next */
	EV_NOT_RETRIED,         /* attempt failed; ctxrun retry --never said so,
	                         * or a final cause came (asked.cause says) */
	EV_NO_ATTEMPTS_LEFT,    /* attempt failed, and it was the last one */
	EV_WARNED,              /* --warn: sig went to COMMAND (count 1), or
	                         * not: less than `wait` was left at its start */
	EV_HOOK_STARTED,        /* --on-timeout: the hook runs, for `wait` at most */
	EV_HOOK_ENDED,          /* ... and ended: failed, or killed at its limit */
	EV_HOOK_FAILED,         /* --on-timeout: /bin/sh could not start: err */
	EV_OUTPUT_FAILED,       /* --idle-timeout: a destination failed with err
	                         * (not a reader gone): output from then on is lost */
	EV_ATTEMPT_STARTED,     /* COMMAND started: attempt of attempts (1 of 1
	                         * without retries) */
};

struct event {
	enum event_kind kind;
	enum done_cause cause;
	int sig;
	size_t count;           /* processes signalled */
	size_t nested_told;     /* nested ctxruns told instead */
	bool from_terminal;     /* EV_FORWARDED: relayed a terminal's signal */
	bool attempt_timed_out; /* EV_SIGNALLED: the attempt's own timeout */
	pid_t pid;              /* EV_HOOK_STARTED */
	int64_t at;             /* EV_HOOK_STARTED: when (mono_now()) */
	int64_t grace;          /* EV_KILLED */
	int64_t wait;           /* EV_RETRYING */
	int err;
	unsigned attempt, attempts;      /* EV_RETRYING, EV_GIVING_UP,
	                                  * EV_NOT_RETRIED, EV_NO_ATTEMPTS_LEFT,
	                                  * EV_ATTEMPT_STARTED */
	const struct outcome *failed;    /* ... how that attempt ended */
};

enum run_failure {
	RUN_OK,
	RUN_SETUP,              /* ctxrun could not set up supervision: err */
	RUN_FD_LIMIT,           /* RLIMIT_NOFILE too low: err = the limit */
	RUN_FORK,               /* no process could be created: err */
	RUN_EXEC,               /* COMMAND could not be run: err */
};

/* --on-timeout: whether the hook ran, how it ended (as command_code and
 * command_status), and whether its limit killed it. */
struct hook_result {
	bool ran, killed;
	int error;              /* it could not start: errno (ran is true) */
	int cut_by;             /* killed because this signal was received */
	int code, status;
};

/* What a process of the tree asked for: ctxrun cancel, ctxrun retry. */
struct tree_requests {
	int cancel_status;
	char cancel_text[256];
	bool never;             /* ctxrun retry --never: cause says why */
	char cause[256];
	int64_t after;          /* ctxrun retry --after; -1: the computed wait */
};

/* What happened, for the front end to say and turn into an exit status. */
struct outcome {
	enum run_failure failure;
	int err;
	enum done_cause cause;  /* DONE_NOT_YET: COMMAND exited, nothing done */
	int signal;             /* DONE_SIGNAL: the signal received */
	bool started;           /* COMMAND was started */
	bool command_alive_at_done;
	int command_code;       /* si_code of COMMAND's end: CLD_EXITED ... */
	int command_status;     /* its exit status or signal */
	bool attempt_timed_out; /* DONE_DEADLINE: the attempt's own timeout */
	unsigned attempt, attempts;      /* which attempt this is (retries) */
	struct hook_result hook;
	struct tree_requests asked;
	uint64_t warned_sigs;   /* --warn signals sent to COMMAND (bit N: N) */
};

/* Whether ctxrun sent sig to COMMAND as a --warn warning. */
static inline bool
outcome_warned(const struct outcome *o, int sig)
{
	return sig > 0 && sig < 64 && (o->warned_sigs >> sig) & 1;
}

#define FDS_NEEDED 16

/* --warn=SIG@DURATION: sig to COMMAND `before` its effective deadline. */
struct warning {
	int sig;
	int64_t before;
};
#define MAX_WARNINGS 16

/* How the tree is found and ended (--contain). */
enum contain_mode {
	CONTAIN_AUTO,           /* a cgroup where one is ours to use, else proc */
	CONTAIN_CGROUP,         /* a cgroup of its own, or refuse to start */
	CONTAIN_PROC,           /* the /proc walk under a child subreaper */
};

struct run {
	char **argv;
	enum contain_mode contain;
	/* --cgroup-parent (or CTXRUN_CGROUP_PARENT): a cgroup v2 directory
	 * this ctxrun may make its cgroup in; NULL: none given. */
	const char *cgroup_parent;
	struct ctx *ctx;        /* this run's node, child of the inherited */
	const struct policy *policy;
	const struct retry_policy *retry;       /* NULL: one attempt */
	int64_t start;          /* mono_now() when ctxrun started */
	int64_t idle_timeout;   /* --idle-timeout; CTX_NEVER: no relay */
	const struct warning *warnings;
	size_t nwarnings;
	/* --on-timeout: run through sh -c when the deadline or the idle
	 * timeout ends the context, before the first signal; NULL: none. */
	const char *on_timeout;
	int64_t on_timeout_limit;
	void (*on_event)(const struct event *, void *);
	void *event_arg;
};

/* Supervises until the whole tree is reaped (or left, as the policy says)
 * and fills *out.  Never prints, never exits. */
void supervise(const struct run *r, struct outcome *out);

/* A write that never waits for a reader that stopped reading: EAGAIN
 * instead.  nonblocking: fd is a description of the caller's own, made
 * O_NONBLOCK; otherwise one it shares, whose flags it must not change. */
ssize_t write_without_waiting(int fd, const void *buf, size_t len, bool nonblocking);

#endif
