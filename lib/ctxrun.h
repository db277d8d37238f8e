/*
 * ctxrun library: Go's context for Unix process trees.
 *
 * Times are int64_t nanoseconds.  A "deadline" is an instant on
 * CLOCK_MONOTONIC (immune to wall-clock steps); CTX_NEVER means none.
 * Functions that can fail on user input return 0 or -1 and leave a
 * human-readable reason in a caller-supplied buffer (no global state).
 */
#ifndef CTXRUN_H
#define CTXRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/cdefs.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <termios.h>

#define CTX_NEVER INT64_MAX
/* The most attempts a run may make (--retries at most one less). */
#define MAX_ATTEMPTS 1000000u
#define NS_PER_SEC INT64_C(1000000000)
#define NS_PER_MS INT64_C(1000000)

/* Exit statuses of the contract. */
enum {
	EXIT_CTX_DONE = 124,
	EXIT_CTX_FAILED = 125,
	EXIT_CANNOT_RUN = 126,
	EXIT_NOT_FOUND = 127,
};

/* An error message buffer; every parser fills one on failure. */
typedef struct {
	char msg[160];
} ctx_err;

/* Fills err (printf style) and returns -1, for "return ctx_fail(...)". */
int ctx_fail(ctx_err *err, const char *fmt, ...) __printflike(2, 3);

/* ---- parse.c: durations, instants, signals, keys ---------------------- */

/* Go duration syntax ("1h30m", "250ms", "1.5s"), or a bare number of
 * seconds.  Refuses negative, empty, overflowing and trailing garbage.
 * Fractions of a nanosecond are dropped, but a positive duration is at
 * least 1ns: only an exact 0 is 0. */
int parse_duration(const char *s, int64_t *ns, ctx_err *err);
/* GNU timeout's DURATION: a number as strtod reads it (also hex and inf)
 * and at most one suffix s, m, h or d.  Huge values are clamped, a positive
 * value too small for a nanosecond is rounded up to one; negative, NaN and
 * junk are refused. */
int parse_gnu_duration(const char *s, int64_t *ns, ctx_err *err);
/* Go's Duration.String(): "1h30m0s", "250ms", "0s".  buf >= 40 bytes. */
void format_duration(int64_t ns, char *buf, size_t len);
/* The earliest instant parse_instant returns; earlier ones (1677) are
 * clamped to it, long past all the same. */
#define CTX_INSTANT_MIN (INT64_MIN + NS_PER_SEC)
/* RFC 3339 ("2026-11-25T08:00:00.25+01:00") or "@[-]EPOCH[.FRACTION]", to
 * nanoseconds since the epoch (wall clock); before 1970 is negative, not
 * before CTX_INSTANT_MIN. */
int parse_instant(const char *s, int64_t *epoch_ns, ctx_err *err);
/* RFC 3339 in UTC with milliseconds (truncated towards the past, also
 * before 1970).  buf >= 32 bytes. */
void format_instant(int64_t epoch_ns, char *buf, size_t len);
/* Seconds since the epoch with milliseconds, "-1.500" before 1970.
 * buf >= 32 bytes. */
void format_epoch(int64_t epoch_ns, char *buf, size_t len);
/* Unsigned decimal seconds with up to 9 fraction digits ("12.5"). */
int parse_seconds(const char *s, int64_t *ns);
/* A signal by name (TERM, SIGTERM, term, RTMIN+2) or number. */
int parse_signal(const char *s, int *sig, ctx_err *err);
/* "TERM", "RTMIN+2", or the number.  buf >= 16 bytes. */
const char *signal_name(int sig, char *buf, size_t len);
/* A shell identifier: [A-Za-z_][A-Za-z0-9_]*. */
bool is_identifier(const char *s, size_t len);

/* GNU coreutils timeout's readings and spellings (ctxrun timeout). */
/* gnulib's quote() in the C locale: it's is shown as 'it\'s', a
 * control or non-ASCII byte as \n or \342.  Writes at most len bytes
 * with the NUL; returns the length wanted, as snprintf does. */
size_t gnu_quote(const char *s, char *buf, size_t len);
/* coreutils' operand2sig: a name in any case with or without SIG (EXIT is
 * 0; RTMIN+n, RTMAX-n), or a number, 128+N and 256+N read as N; only
 * signals the system has (not 32 or 33 on glibc).  0 or -1. */
int parse_gnu_signal(const char *s, int *sig);
/* gnulib's sig2str: "TERM", "EXIT" for 0, "POLL" for 29, "RTMIN+n" for
 * the lower half of the real-time signals and "RTMAX-n" for the upper;
 * NULL when sig has no name.  buf >= 16 bytes. */
const char *gnu_signal_name(int sig, char *buf, size_t len);

/* ---- clock.c ---------------------------------------------------------- */

int64_t mono_now(void);
int64_t wall_now(void);
/* This boot's id (/proc/sys/kernel/random/boot_id), "" if unknown. */
const char *boot_id(void);
/* What CLOCK_MONOTONIC here is: "BOOTID+TIMENS", the boot id and the inode
 * of our time namespace (/proc/self/ns/time), which can offset the clock
 * on the same boot; just "BOOTID" without time namespaces; "" if unknown. */
const char *mono_clock_id(void);
/* Whether a monotonic time from a process whose mono_clock_id() was id
 * means the same here.  A bare boot id (older ctxrun) is trusted on this
 * boot only in the initial time namespace. */
bool same_mono_clock(const char *id);
/* Saturating a + b for times. */
int64_t time_add(int64_t a, int64_t b);

/* ---- context.c: the context tree --------------------------------------- */


struct ctx_value {
	char *key;
	char *val;
};

struct ctx {
	struct ctx *parent;
	char *name;
	int64_t deadline;       /* this node's own, CTX_NEVER if none */
	int64_t grace;          /* first signal to KILL, after clamping */
	int64_t hook_limit;     /* --on-timeout's limit, 0: no hook: nested
	                         * ctxruns leave the tree alive that long */
	struct ctx_value *values;
	size_t nvalues;
	/* Where this node lives when it was inherited from the environment. */
	pid_t pid;              /* the ctxrun process, 0 for a local node */
	/* A deadline from outside any ctxrun (a CI job's, --job-deadline):
	 * named after where it came from, never a level of the environment. */
	bool external;
	/* With retries: this node is attempt `attempt` of at most `attempts`
	 * (both 0 without retries). */
	unsigned attempt, attempts;
	char token[33];         /* its cancel socket name */
	struct ctx **children;
	size_t nchildren;
};

struct ctx *ctx_new(struct ctx *parent, const char *name);
/* A new outermost ancestor of c's tree: the parent of its root.  NULL when
 * out of memory (c's tree is unchanged). */
struct ctx *ctx_new_root(struct ctx *c, const char *name);
/* Frees the node and its descendants. */
void ctx_free(struct ctx *c);
/* Frees the whole tree c belongs to, from its root. */
void ctx_free_tree(struct ctx *c);
int ctx_set_value(struct ctx *c, const char *key, const char *val);
/* Inner values shadow outer ones; NULL if not set anywhere. */
const char *ctx_value(const struct ctx *c, const char *key);
/* The earliest deadline of the node and its ancestors. */
int64_t ctx_deadline(const struct ctx *c);
/* Deadlines closer than this are the same deadline for ctx_deadline_owner:
 * below what messages print, and the jitter of converting one instant
 * from the wall clock in two processes. */
#define CTX_DEADLINE_TIE NS_PER_MS
/* The context whose deadline ctx_deadline(c) is: the outermost one whose
 * own deadline is within CTX_DEADLINE_TIE of it (c itself when it has
 * none).  An inherited level carries its effective deadline, which equals
 * its parent's when inherited: the credit goes to where it came from. */
const struct ctx *ctx_deadline_owner(const struct ctx *c);
/* The level of c in the environment (CTXRUN_<depth>): its ancestors and
 * itself, external nodes not counted. */
size_t ctx_depth(const struct ctx *c);
/* Whether c runs inside another ctxrun: its parent is a level inherited
 * from a ctxrun process (not a CI job's deadline, not a local node).  The
 * one answer to "am I nested?". */
bool ctx_nested(const struct ctx *c);
/* The grace of a ctxrun nested in one with grace parent: no longer than
 * the parent's, less a margin to reap and report before the parent's KILL. */
int64_t nested_grace(int64_t own, int64_t parent);

/* ---- envcodec.c: the context in the environment ------------------------ */

/* Inherited chain from CTXRUN_* variables of envp; *out is NULL when there
 * is no enclosing context.  Malformed input: -1 with a reason. */
int ctx_from_env(char *const *envp, struct ctx **out, ctx_err *err);
/* The value of CTXRUN_<depth> for node c ("name=... pid=... ..."). */
char *ctx_encode(const struct ctx *c, pid_t pid, const char *token);
/* Whether c can be handed to argv's program in environment envp (as it
 * will be once ctxrun has applied --env and --unset): no deeper than
 * ctx_from_env accepts, CTXRUN_<depth> within CTX_ENV_STRING_MAX, and the
 * whole of argv and the environment within what execve takes, unless it
 * is too big without the new variables already.  -1 with a reason. */
int ctx_env_check(const struct ctx *c, char *const *argv, char *const *envp,
    ctx_err *err);
/* The value of NAME in envp (an environment, not necessarily environ's),
 * or NULL. */
const char *env_get(char *const *envp, const char *name);
/* ---- jobdeadline.c: the enclosing CI job's deadline --------------------- */

/* How much earlier than the CI job's end ctxrun's context is done by
 * default: time to report and upload before the CI kills the job. */
#define JOB_MARGIN_DEFAULT (30 * NS_PER_SEC)
/* Switches --job-deadline on for every ctxrun that sees it (a CI's
 * configuration sets it once); its value is the margin. */
#define JOB_DEADLINE_VAR "CTXRUN_JOB_DEADLINE"

struct job_deadline {
	const char *source;     /* "gitlab-job", "slurm-job", "bazel-test",
	                         * "buildkite-job": the context's name */
	const char *var;        /* the variable it was read from */
	int64_t deadline;       /* on CLOCK_MONOTONIC, margin taken off */
};

/* The deadline of the CI job that envp belongs to, margin earlier: GitLab
 * (CI_JOB_TIMEOUT after CI_JOB_STARTED_AT), Slurm (SLURM_JOB_END_TIME),
 * Bazel (TEST_TIMEOUT) or Buildkite (BUILDKITE_TIMEOUT), the first present.
 * wall and mono are now on both clocks; start (monotonic) stands for the
 * start of the sources that do not give one.  1 with *jd filled, 0 when
 * no source is present (or it has no timeout), -1 with a reason naming the
 * variable when it is malformed. */
int job_deadline(char *const *envp, int64_t margin, int64_t wall, int64_t mono,
    int64_t start, struct job_deadline *jd, ctx_err *err);

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
/* The wait before attempt n + 1 (n >= 1): see RETRIES in ctxrun(1). */
int64_t retry_wait(const struct retry_policy *rp, unsigned n);

/* What supervise() tells its caller as it goes (for --verbose, --report). */
enum event_kind {
	EV_SIGNALLED,           /* the first signal went to the tree */
	EV_FORWARDED,           /* a received signal was passed on */
	EV_KILLED,              /* KILL went to what was left */
	EV_TREE_UNREADABLE,     /* /proc could not be read: err */
	EV_RETRYING,            /* attempt failed; the next one in `wait` */
	EV_GIVING_UP,           /* attempt failed; no time left for the next */
	EV_NOT_RETRIED,         /* attempt failed; ctxrun retry --never said so */
	EV_WARNED,              /* --warn: sig went to COMMAND (count 1), or
	                         * not: less than `wait` was left at its start */
	EV_HOOK_STARTED,        /* --on-timeout: the hook runs, for `wait` at most */
	EV_HOOK_ENDED,          /* ... and ended: failed, or killed at its limit */
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
	                                  * EV_NOT_RETRIED, EV_ATTEMPT_STARTED */
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

struct run {
	char **argv;
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

#endif
