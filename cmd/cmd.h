/* The front end: ctxrun's command lines, what it says, how it ends. */
#ifndef CTXRUN_CMD_H
#define CTXRUN_CMD_H

#include <stdint.h>
#include <stdbool.h>
#include <sys/cdefs.h>

#define CTXRUN_VERSION "0.1.0"

/* One line "ctxrun: ..." on stderr and exit 125: nothing was started. */
void __dead2 usage_error(const char *fmt, ...) __printflike(1, 2);
/* ctxrun --help (help.c). */
extern const char ctxrun_usage[];
/* The long name of option val in a getopt_long table, "?" if none. */
struct option;
const char *option_name(const struct option *table, int val);

int cmd_remaining(int argc, char **argv);
int cmd_deadline(int argc, char **argv);
int cmd_value(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_cancel(int argc, char **argv);
int cmd_retry(int argc, char **argv);
#include <stdbool.h>
#include <stddef.h>
#include "../lib/ctxrun.h"
#include "../lib/gnu.h"
#include "../lib/supervise.h"

/* ---- json.c: JSON text in memory --------------------------------------- */

struct json {
	char *buf;              /* NUL-terminated text, NULL while empty */
	size_t len, cap;
	bool failed;            /* out of memory: the text is incomplete */
};

void json_raw(struct json *j, const char *s);
void json_printf(struct json *j, const char *fmt, ...) __printflike(2, 3);
/* s as a JSON string, whatever its bytes (see json.c); NULL is null. */
void json_string(struct json *j, const char *s);
void json_free(struct json *j);
/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 if there is none. */
size_t utf8_len(const unsigned char *s);

/* What a command line hands to the run: the policy and how to speak. */
struct invocation {
	char **argv;
	struct policy policy;
	bool gnu;               /* GNU timeout's words and exit statuses */
	bool verbose, quiet, preserve_status;
	bool start_when_past;   /* GNU: its own limit already over still runs */
	const char *prog;       /* GNU: the name messages start with */
	const struct retry_policy *retry;   /* NULL: one attempt */
	int64_t idle_timeout;   /* --idle-timeout, CTX_NEVER: none */
	struct warning warnings[MAX_WARNINGS];
	size_t nwarnings;
	const char *on_timeout; /* --on-timeout hook, NULL: none */
	int64_t on_timeout_limit;
	int64_t start;
	const char *report;     /* --report=FILE, NULL: none */
};

/* Runs inv->argv under ctx (freed here), or 124 if its deadline has passed;
 * returns the exit status, or does not return when ctxrun dies of a
 * signal as COMMAND did. */
int run_in_context(struct invocation *inv, struct ctx *ctx);
/* timeout.c: GNU timeout's command line; argv[0] is "timeout". */
int cmd_timeout(int argc, char **argv, int64_t start);

/* ---- options.c: ctxrun's command line ---------------------------------- */

/* What ctxrun's command line asks for, before it becomes a context. */
struct cmdline {
	struct invocation inv;
	int64_t timeout;        /* -t, the shortest; CTX_NEVER: none */
	int64_t deadline;       /* -d, the earliest, mono_now(); CTX_NEVER */
	int64_t grace;          /* -k */
	const char *name;       /* -n; NULL: COMMAND's */
	/* --env and --unset, and --value, in order: given by the caller, as
	 * many slots as arguments. */
	char **env_ops, **values;
	size_t nenv_ops, nvalues;
	struct retry_policy rp; /* inv.retry points here when retrying */
	bool limit_given;       /* --on-timeout-limit */
	bool job_given;         /* --job-deadline, its margin in job_arg */
	const char *job_arg;    /* NULL: the default */
};

/* Reads argv into *cl (but env_ops and values, the caller's); 1 when
 * --help or --version was answered, 0 when a COMMAND is to run.  A bad
 * command line ends ctxrun (usage_error). */
int parse_options(int argc, char **argv, int64_t start, struct cmdline *cl);

/* ---- speak.c ----------------------------------------------------------- */

struct speaker {
	bool gnu, verbose, quiet;
	const char *prog;       /* GNU's messages: its argv[0] */
	const char *name;       /* the context's, for "ctxrun: NAME: ..." */
	const char *command;    /* COMMAND's argv[0], for GNU's messages */
	const struct ctx *ctx;
	const struct retry_policy *retry;
	int64_t idle_timeout;
	int64_t start;
	bool stderr_broken;     /* a write failed: say nothing more */
	int fd;                 /* where lines go: 0 until the first (speak.c) */
	bool fd_nonblocking;    /* ... through a description of our own */
	unsigned kill_said;
	/* The line that ended the retries ("attempt 2/4 failed (exit 1); no
	 * time left for attempt 3"): the run's last line and the report's
	 * cause, also with -q.  Empty: none. */
	char stopped[512];
};

/* What could not be written yet (stderr full), given up to patience_ms
 * more: at exit. */
void speak_flush(struct speaker *sp, int patience_ms);
/* One line on stderr, prefixed in the speaker's dialect. */
void speak_line(struct speaker *sp, const char *fmt, ...) __printflike(2, 3);
/* ctxrun's own failure, not named after the context (none ran). */
void speak_failure(struct speaker *sp, const char *fmt, ...) __printflike(2, 3);
/* The supervisor's events, as --verbose says them. */
void speak_event(const struct event *ev, void *sp);

/* ---- conclude.c: the last line and the exit status --------------------- */

/* How ctxrun ends, decided before it does: a report is written between the
 * decision and the exit. */
struct ending {
	int status;             /* the exit status, when signal is 0 */
	int signal;             /* ctxrun dies of it (die_of), as COMMAND did */
	char cause[1024];       /* what ctxrun says of the end, "" if nothing */
};

/* Says how the run ended (unless quiet) and fills *end; does not exit. */
void conclude(struct speaker *sp, const struct outcome *o, char **argv,
    bool preserve, bool wait_tree, struct ending *end);
/* The deadline was over before COMMAND started: fills *o and *end as if
 * the deadline had ended it, and says so (unless quiet). */
void conclude_unstarted(struct speaker *sp, const struct ctx *ctx,
    struct outcome *o, struct ending *end);
/* Dies of sig (no core dump), so that the caller sees the same wait status
 * it would have seen without ctxrun. */
void __dead2 die_of(int sig);

/* ---- outcome.c: how a run ended, for the last line and the report ---- */

enum how_ended {
	ENDED_FAILED,           /* ctxrun could not run COMMAND: o->failure */
	ENDED_BY_CONTEXT,       /* a deadline, a cancel, the idle timeout */
	ENDED_BY_SIGNAL,        /* a signal to ctxrun ended the context */
	ENDED_EXITED,           /* COMMAND exited on its own */
	ENDED_SIGNALED,         /* COMMAND died of a signal on its own */
};

/* wait_tree: --wait, the tree's end counts as COMMAND's. */
enum how_ended how_ended(const struct outcome *o, bool wait_tree);
/* The report's "outcome": "exited", "deadline_exceeded", ... */
const char *outcome_name(const struct outcome *o, bool wait_tree);

/* ---- report.c: --report=FILE, one JSON line per run ------------------- */

struct report_attempt {
	unsigned n;
	int64_t start, end;     /* mono_now(); end 0 while it runs */
	const char *outcome;    /* how it ended, once end is set */
	int code, status;       /* COMMAND's end: CLD_EXITED ..., and status */
};

struct report_signal {
	int64_t at;
	int sig;
	size_t processes, nested;
	const char *why;
};

struct report {
	const char *path;
	const struct ctx *ctx;
	char **argv;
	bool wait_tree;         /* --wait: as conclude reads the outcome */
	int64_t start;          /* mono_now() when ctxrun started */
	int64_t wall_offset;    /* wall_now() - mono_now(), taken once */
	int64_t deadline;       /* the run's effective deadline, CTX_NEVER */
	const char *deadline_owner;
	struct report_attempt *attempts;
	size_t nattempts;
	struct report_signal *signals;
	size_t nsignals, signals_omitted;
	size_t leftovers;       /* signalled when COMMAND had exited */
	bool unlocked;          /* appended without the lock, held elsewhere */
	/* The last --on-timeout hook: when it ran, how it ended. */
	int64_t hook_start, hook_end;   /* 0: it never ran */
	struct hook_result hook;
};

/* Before the run: what it is, and its deadline before retries move it. */
void report_begin(struct report *r, const char *path, const struct ctx *ctx,
    char **argv, int64_t start, bool wait_tree);
/* The supervisor's events, as they come. */
void report_event(struct report *r, const struct event *ev);
/* Appends the run's line to the file, locked, in one write: 0, or -1 with
 * errno.  o: how supervise() ended; end: how ctxrun will. */
int report_write(struct report *r, const struct outcome *o,
    const struct ending *end);
void report_free(struct report *r);

#endif
