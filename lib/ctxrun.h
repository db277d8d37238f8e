/*
 * ctxrun library: Go's context for Unix process trees.  This header is the
 * context: durations and instants, the clocks, the context tree, its
 * encoding in the environment and a CI job's deadline.  Running a command
 * under a context is lib/supervise.h; GNU timeout's spellings lib/gnu.h.
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
#include <sys/types.h>

#define CTX_NEVER INT64_MAX
/* The longest finite duration or time: a duration too long for the clock
 * (a valid 292 years) is this one, never CTX_NEVER. */
#define CTX_LATEST (INT64_MAX - 1)
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


/* ---- parse.c: durations, instants, signals, keys ---------------------- */

/* Go duration syntax ("1h30m", "250ms", "1.5s"), or a bare number of
 * seconds.  Refuses negative, empty, overflowing and trailing garbage.
 * Fractions of a nanosecond are dropped, but a positive duration is at
 * least 1ns: only an exact 0 is 0. */
int parse_duration(const char *s, int64_t *ns, ctx_err *err);
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
/* A signal by name (TERM, SIGTERM, term, RTMIN+2) or number. */
int parse_signal(const char *s, int *sig, ctx_err *err);
/* "TERM", "RTMIN+2", or the number.  buf >= 16 bytes. */
const char *signal_name(int sig, char *buf, size_t len);
/* A shell identifier: [A-Za-z_][A-Za-z0-9_]*. */
bool is_identifier(const char *s, size_t len);

/* ---- clock.c ---------------------------------------------------------- */

int64_t mono_now(void);
int64_t wall_now(void);
/* The wall clock less the monotonic one, read once per process: every
 * conversion between them uses it, so that an instant taken there and back
 * (-d 08:00:00Z, printed by the report) is the instant it was. */
int64_t wall_offset(void);
int64_t mono_to_wall(int64_t mono);
/* Takes off, an inherited context's offset (ctx_from_env passes it on), as
 * this process's, so that the whole chain of ctxruns prints its instants
 * through the outermost one's single reading.  Called before the offset is
 * used (main does); the first call decides, and only an offset within
 * 10 ms of this process's own reading is taken. */
void wall_offset_adopt(int64_t off);
/* Saturating a + b for times. */
int64_t time_add(int64_t a, int64_t b);
/* The latest deadline both clocks can show, given wall_to_mono (now on the
 * monotonic clock less now on the wall clock): the monotonic instant of the
 * last instant in range on the wall clock, 2262-04-11T23:47:16.854Z.  A
 * deadline too far for the clocks is this one, never "no deadline", so
 * that `remaining`, `deadline`, `show` and the report agree. */
int64_t latest_deadline(int64_t wall_to_mono);
/* A deadline t (on the monotonic clock), no later than latest_deadline();
 * CTX_NEVER stays CTX_NEVER. */
int64_t deadline_cap(int64_t t, int64_t wall_to_mono);
/* The deadline d after base (d finite, base now or before): saturating at
 * latest_deadline() for the clocks now. */
int64_t deadline_after(int64_t base, int64_t d);

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
/* Frees the whole tree c belongs to, from its root. */
void ctx_free_tree(struct ctx *c);
int ctx_set_value(struct ctx *c, const char *key, const char *val);
/* Inner values shadow outer ones; NULL if not set anywhere. */
const char *ctx_value(const struct ctx *c, const char *key);
/* The earliest deadline of the node and its ancestors. */
int64_t ctx_deadline(const struct ctx *c);
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
/* Whether c can be handed to argv's program in environment envp (as it
 * will be once ctxrun has applied --env and --unset): no deeper than
 * ctx_from_env accepts, CTXRUN_<depth> within CTX_ENV_STRING_MAX, and the
 * whole of argv and the environment within what execve takes, counted as
 * the kernel counts (the program as found in envp's PATH, its #! line),
 * unless it is too big without the new variables already; with attempts
 * (0: no retries), for the widest of them.  -1 with a reason (envsize.c). */
int ctx_env_check(const struct ctx *c, unsigned attempts, char *const *argv,
    char *const *envp, ctx_err *err);
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

#endif
