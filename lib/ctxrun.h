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

#define CTX_NEVER INT64_MAX
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
 * seconds.  Refuses negative, empty, overflowing and trailing garbage. */
int parse_duration(const char *s, int64_t *ns, ctx_err *err);
/* GNU timeout's DURATION: a number as strtod reads it (also hex and inf)
 * and at most one suffix s, m, h or d.  Huge values are clamped, a positive
 * value too small for a nanosecond is rounded up to one; negative, NaN and
 * junk are refused. */
int parse_gnu_duration(const char *s, int64_t *ns, ctx_err *err);
/* Go's Duration.String(): "1h30m0s", "250ms", "0s".  buf >= 40 bytes. */
void format_duration(int64_t ns, char *buf, size_t len);
/* RFC 3339 ("2026-11-25T08:00:00.25+01:00") or "@EPOCH[.FRACTION]", to
 * nanoseconds since the epoch (wall clock). */
int parse_instant(const char *s, int64_t *epoch_ns, ctx_err *err);
/* RFC 3339 in UTC with milliseconds.  buf >= 32 bytes. */
void format_instant(int64_t epoch_ns, char *buf, size_t len);
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
/* Saturating a + b for times. */
int64_t time_add(int64_t a, int64_t b);

/* ---- context.c: the context tree --------------------------------------- */

enum ctx_state { CTX_ACTIVE, CTX_DEADLINE_EXCEEDED, CTX_CANCELED };

struct ctx_value {
	char *key;
	char *val;
};

struct ctx {
	struct ctx *parent;
	char *name;
	int64_t deadline;       /* this node's own, CTX_NEVER if none */
	int64_t grace;          /* first signal to KILL, after clamping */
	struct ctx_value *values;
	size_t nvalues;
	/* Where this node lives when it was inherited from the environment. */
	pid_t pid;              /* the ctxrun process, 0 for a local node */
	char token[33];         /* its cancel socket name */
	enum ctx_state state;
	char *cause;
	int done_fd;            /* eventfd, created on first ctx_done_fd() */
	struct ctx **children;
	size_t nchildren;
};

struct ctx *ctx_new(struct ctx *parent, const char *name);
/* Frees the node and its descendants. */
void ctx_free(struct ctx *c);
/* Frees the whole tree c belongs to, from its root. */
void ctx_free_tree(struct ctx *c);
int ctx_set_value(struct ctx *c, const char *key, const char *val);
/* Inner values shadow outer ones; NULL if not set anywhere. */
const char *ctx_value(const struct ctx *c, const char *key);
/* The earliest deadline of the node and its ancestors. */
int64_t ctx_deadline(const struct ctx *c);
/* The ancestor whose deadline is ctx_deadline(c) (c itself if its own). */
const struct ctx *ctx_deadline_owner(const struct ctx *c);
/* Done: cancels the node and its descendants; the first cause wins. */
void ctx_cancel(struct ctx *c, enum ctx_state why, const char *cause);
/* Readable once the context is done: the Done() channel. -1 on error. */
int ctx_done_fd(struct ctx *c);
/* Expires the node if its effective deadline is at or before now. */
bool ctx_check_deadline(struct ctx *c, int64_t now);
size_t ctx_depth(const struct ctx *c);
/* The grace of a ctxrun nested in one with grace parent: no longer than
 * the parent's, less a margin to reap and report before the parent's KILL. */
int64_t nested_grace(int64_t own, int64_t parent);

/* ---- envcodec.c: the context in the environment ------------------------ */

/* Inherited chain from CTXRUN_* variables of envp; *out is NULL when there
 * is no enclosing context.  Malformed input: -1 with a reason. */
int ctx_from_env(char *const *envp, struct ctx **out, ctx_err *err);
/* The value of CTXRUN_<depth> for node c ("name=... pid=... ..."). */
char *ctx_encode(const struct ctx *c, pid_t pid, const char *token);
/* Percent-encoding of arbitrary bytes into [A-Za-z0-9._~/:@+,-] and %XX. */
char *pct_encode(const char *s, size_t len);
/* Decodes into a new string; -1 on bad escapes or an embedded NUL. */
int pct_decode(const char *s, size_t len, char **out);

/* ---- cancelsock.c: how a tree talks to its ctxrun ----------------------- */

/* Messages on a ctxrun's abstract datagram socket "\0ctxrun-TOKEN". */
enum msg_kind {
	MSG_CANCEL = 'C',       /* ctxrun cancel: status, cause */
	MSG_NESTED = 'N',       /* a nested ctxrun: pid, its token */
	MSG_PARENT_DONE = 'P',  /* the parent's context is done: reason, sig */
};

struct ctx_msg {
	char kind;
	int num1, num2;         /* status | pid | reason ; unused | sig */
	char text[256];         /* cause | token */
	uid_t uid;              /* sender's, from SCM_CREDENTIALS */
};

int csock_open(char token[33]);
int csock_send(const char *token, const struct ctx_msg *m);
/* Non-blocking; 1 with a message, 0 when empty, -1 on error. */
int csock_recv(int fd, struct ctx_msg *m);

/* ---- tree.c: the process tree under a subreaper ------------------------ */

struct proc {
	pid_t pid, ppid, pgrp;
	char state;             /* from /proc/PID/stat: R S D T t Z ... */
	int pidfd;              /* pins the process while it is visited */
};

/* Nested ctxruns known to this one: their subtrees are theirs to signal. */
struct nested {
	pid_t pid;
	char token[33];
	bool told;
};

struct tree {
	pid_t self;
	struct nested *nested;
	size_t nnested;
};

/* Calls visit for every descendant of t->self, parents before children.
 * visit returns false to skip a process's subtree; it may keep p->pidfd by
 * setting it to -1 in p (then closing it is its business). */
typedef bool (*visit_fn)(struct tree *t, struct proc *p, void *arg);
int tree_walk(struct tree *t, visit_fn visit, void *arg);
/* Whether /proc belongs to our PID namespace, so that the tree can be read. */
bool tree_proc_usable(void);
/* Signals a process being visited, through its pidfd. */
int tree_signal(const struct proc *p, int sig);

/* ---- spawn.c ----------------------------------------------------------- */

struct spawn_attr {
	const sigset_t *child_mask;   /* the caller's mask, restored */
	bool restore_sigchld_ign;     /* the caller ignored SIGCHLD */
	bool default_ttin_ttou;       /* ctxrun ignores them (GNU timeout) */
	bool new_pgrp;                /* COMMAND in a process group of its own */
	int deathsig;                 /* PR_SET_PDEATHSIG, 0 for none */
	const struct rlimit *nofile;  /* the caller's, when ctxrun raised it */
};

/* Starts argv[0] (PATH search): returns the pid, or -1 with *exec_errno set
 * when exec failed (ENOENT and ENOTDIR mean "not found"), or -1 with
 * *exec_errno 0 and errno set when no process could be created. */
pid_t spawn_command(char *const argv[], const struct spawn_attr *a,
    int *exec_errno);

/* ---- supervise.c: run COMMAND under a context -------------------------- */

struct run_opts {
	char **argv;
	struct ctx *ctx;          /* this run's node, child of the inherited */
	int first_signal;
	bool wait_tree, preserve_status, foreground, verbose, quiet;
	int64_t start;            /* mono_now() when ctxrun started */
	/* GNU timeout's behaviour (ctxrun timeout): its signals, messages and
	 * exit statuses, leftovers left alone when COMMAND exits on its own,
	 * no KILL unless ctx->grace is finite. */
	bool gnu_timeout;
};

/* Supervises until the whole tree is reaped; returns the exit status, or
 * does not return when ctxrun must die of a signal. */
int supervise(struct run_opts *o);

#endif
