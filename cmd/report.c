/*
 * --report=FILE: when ctxrun has run COMMAND, one JSON object on one line
 * is appended to FILE (JSON Lines): what ran, under which deadline, how
 * each attempt and the run ended, which signals went out, and what the
 * tree cost.  See REPORT in ctxrun(1) for the schema.
 *
 * It is fed by the supervisor's events as they come, and written once,
 * after the exit status is decided and before ctxrun exits (or dies of
 * COMMAND's signal).  Many ctxruns may share FILE, nested ones and parallel
 * steps alike: each line goes out under an exclusive lock in one write, so
 * that lines never interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/ctxrun.h"
#include "cmd.h"

/* Bumped when a field changes meaning or goes away; new fields do not. */
#define REPORT_SCHEMA 1
/* Forwarded signals have no bound of their own (a job sent USR1 every
 * second for days): past this many, they are only counted. */
#define REPORT_MAX_SIGNALS 1000

void
report_begin(struct report *r, const char *path, const struct ctx *ctx,
    char **argv, int64_t start, bool wait_tree)
{
	*r = (struct report){ .path = path, .ctx = ctx, .argv = argv,
	    .wait_tree = wait_tree, .start = start };
	/* One offset for every instant: a wall-clock step during the run moves
	 * none of them, and end - start is the duration. */
	r->wall_offset = wall_offset();
	/* Now: retries move ctx->deadline to each attempt's. */
	r->deadline = ctx_deadline(ctx);
	if (r->deadline != CTX_NEVER)
		r->deadline_owner = ctx_deadline_owner(ctx)->name;
}

void
report_free(struct report *r)
{
	free(r->attempts);
	free(r->signals);
	r->attempts = NULL;
	r->signals = NULL;
}

static struct report_attempt *
last_running(struct report *r)
{
	if (r->nattempts == 0 || r->attempts[r->nattempts - 1].end != 0)
		return NULL;
	return &r->attempts[r->nattempts - 1];
}

static void
attempt_ended(struct report *r, const struct outcome *o, int64_t now)
{
	struct report_attempt *a = last_running(r);

	if (a == NULL)
		return;
	a->end = now;
	a->outcome = outcome_name(o, r->wait_tree);
	a->code = o->command_code;
	a->status = o->command_status;
}

static void
attempt_started(struct report *r, unsigned n, int64_t now)
{
	struct report_attempt *v = reallocarray(r->attempts, r->nattempts + 1,
	    sizeof(*v));

	if (v == NULL)
		return;	/* out of memory: the list is short of one */
	r->attempts = v;
	v[r->nattempts++] = (struct report_attempt){ .n = n, .start = now };
}

static void
signal_sent(struct report *r, const struct event *ev, const char *why,
    int64_t now)
{
	if (r->nsignals == REPORT_MAX_SIGNALS) {
		r->signals_omitted++;
		return;
	}
	struct report_signal *v = reallocarray(r->signals, r->nsignals + 1,
	    sizeof(*v));
	if (v == NULL) {
		r->signals_omitted++;
		return;
	}
	r->signals = v;
	v[r->nsignals++] = (struct report_signal){ .at = now, .sig = ev->sig,
	    .processes = ev->count, .nested = ev->nested_told, .why = why };
}

void
report_event(struct report *r, const struct event *ev)
{
	int64_t now = mono_now();

	switch (ev->kind) {
	case EV_ATTEMPT_STARTED:
		attempt_started(r, ev->attempt, now);
		break;
	case EV_RETRYING:
	case EV_GIVING_UP:
	case EV_NOT_RETRIED:
	case EV_NO_ATTEMPTS_LEFT:
		attempt_ended(r, ev->failed, now);
		break;
	case EV_SIGNALLED:
		/* The leftovers of a COMMAND that exited: a nested ctxrun told
		 * is one process, which sees to its own subtree. */
		if (ev->cause == DONE_COMMAND_EXITED)
			r->leftovers += ev->count + ev->nested_told;
		signal_sent(r, ev, ev->attempt_timed_out ? "attempt_timed_out" :
		    cause_names(ev->cause)->report, now);
		break;
	case EV_KILLED:
		signal_sent(r, ev, "grace_period_over", now);
		break;
	case EV_FORWARDED:
		if (ev->count > 0 || ev->nested_told > 0)
			signal_sent(r, ev, ev->from_terminal ? "from_terminal" :
			    "forwarded", now);
		break;
	case EV_WARNED:
		if (ev->count > 0)
			signal_sent(r, ev, "warning", now);
		break;
	case EV_HOOK_STARTED:
		r->hook_start = ev->at != 0 ? ev->at : now;
		r->hook_end = 0;
		break;
	case EV_HOOK_ENDED:
		r->hook_end = now;
		r->hook = ev->failed->hook;
		break;
	case EV_HOOK_FAILED:
		r->hook_start = r->hook_end = ev->at != 0 ? ev->at : now;
		r->hook = (struct hook_result){ .ran = true, .error = ev->err };
		break;
	case EV_TREE_UNREADABLE:
	case EV_OUTPUT_FAILED:
		break;
	}
}

/* ---- the line ------------------------------------------------------------ */

static void
instant(struct json *j, const struct report *r, int64_t mono)
{
	char buf[40];

	format_instant(time_add(mono, r->wall_offset), buf, sizeof(buf));
	json_string(j, buf);
}

/* Seconds as a JSON number, to the microsecond. */
static void
seconds(struct json *j, int64_t ns)
{
	if (ns < 0)
		ns = 0;
	json_printf(j, "%" PRId64 ".%06" PRId64, ns / NS_PER_SEC,
	    ns % NS_PER_SEC / 1000);
}

static void
signal_or_null(struct json *j, int sig)
{
	char name[16];

	json_string(j, sig != 0 ? signal_name(sig, name, sizeof(name)) : NULL);
}

/* The values COMMAND sees, outermost first; an inner value shadows an
 * outer one with the same key, which is left out.  Returns whether
 * nothing was written yet. */
static bool
values(struct json *j, const struct ctx *level, const struct ctx *c, bool first)
{
	if (level == NULL)
		return first;
	first = values(j, level->parent, c, first);
	for (size_t i = 0; i < level->nvalues; i++) {
		if (ctx_value(c, level->values[i].key) != level->values[i].val)
			continue;
		json_raw(j, first ? "" : ",");
		json_string(j, level->values[i].key);
		json_raw(j, ":");
		json_string(j, level->values[i].val);
		first = false;
	}
	return first;
}

static void
attempts(struct json *j, const struct report *r)
{
	json_raw(j, "[");
	for (size_t i = 0; i < r->nattempts; i++) {
		const struct report_attempt *a = &r->attempts[i];
		bool exited = a->code == CLD_EXITED;
		json_printf(j, "%s{\"attempt\":%u,\"start\":", i ? "," : "", a->n);
		instant(j, r, a->start);
		json_raw(j, ",\"duration\":");
		seconds(j, a->end - a->start);
		if (exited)
			json_printf(j, ",\"exit_status\":%d,\"signal\":null", a->status);
		else {
			json_raw(j, ",\"exit_status\":null,\"signal\":");
			signal_or_null(j, a->status);
		}
		json_raw(j, ",\"outcome\":");
		json_string(j, a->outcome);
		json_raw(j, "}");
	}
	json_raw(j, "]");
}

static void
signals(struct json *j, const struct report *r)
{
	json_raw(j, "[");
	for (size_t i = 0; i < r->nsignals; i++) {
		const struct report_signal *s = &r->signals[i];
		json_raw(j, i ? ",{\"signal\":" : "{\"signal\":");
		signal_or_null(j, s->sig);
		json_printf(j, ",\"processes\":%zu,\"nested_ctxruns\":%zu,\"at\":",
		    s->processes, s->nested);
		instant(j, r, s->at);
		json_raw(j, ",\"why\":");
		json_string(j, s->why);
		json_raw(j, "}");
	}
	json_raw(j, "]");
}

/* The --on-timeout hook that ran last (null if none did): when, for how
 * long, how it ended, whether its limit killed it, and why it could not
 * start (null: it did). */
static void
hook(struct json *j, const struct report *r)
{
	if (r->hook_start == 0) {
		json_raw(j, "null");
		return;
	}
	json_raw(j, "{\"start\":");
	instant(j, r, r->hook_start);
	json_raw(j, ",\"duration\":");
	seconds(j, (r->hook_end ? r->hook_end : mono_now()) - r->hook_start);
	if (r->hook.error != 0)
		json_raw(j, ",\"exit_status\":null,\"signal\":null");
	else if (r->hook.killed || r->hook.cut_by != 0)
		json_raw(j, ",\"exit_status\":null,\"signal\":\"KILL\"");
	else if (r->hook.code == CLD_EXITED)
		json_printf(j, ",\"exit_status\":%d,\"signal\":null", r->hook.status);
	else {
		json_raw(j, ",\"exit_status\":null,\"signal\":");
		signal_or_null(j, r->hook.status);
	}
	json_printf(j, ",\"killed_at_limit\":%s,\"error\":", r->hook.killed ? "true" : "false");
	json_string(j, r->hook.error != 0 ? strerror(r->hook.error) : NULL);
	json_raw(j, "}");
}

static void
build(struct json *j, const struct report *r, const struct outcome *o,
    const struct ending *end, int64_t now)
{
	struct rusage ru;

	json_printf(j, "{\"schema\":%d,\"name\":", REPORT_SCHEMA);
	json_string(j, r->ctx->name);
	json_raw(j, ",\"argv\":[");
	for (size_t i = 0; r->argv[i] != NULL; i++) {
		json_raw(j, i ? "," : "");
		json_string(j, r->argv[i]);
	}
	json_raw(j, "],\"values\":{");
	values(j, r->ctx, r->ctx, true);
	json_printf(j, "},\"depth\":%zu,\"start\":", ctx_depth(r->ctx));
	instant(j, r, r->start);
	json_raw(j, ",\"end\":");
	instant(j, r, now);
	json_raw(j, ",\"duration\":");
	seconds(j, now - r->start);
	json_raw(j, ",\"deadline\":");
	if (r->deadline == CTX_NEVER)
		json_raw(j, "null");
	else if (r->deadline < INT64_MIN + (INT64_C(1) << 58)) {
		/* So far in the past that the monotonic clock could not hold it
		 * (saturated): the earliest instant, as -d reads any older one. */
		char buf[40];
		format_instant(CTX_INSTANT_MIN, buf, sizeof(buf));
		json_string(j, buf);
	} else	/* Truncated to the millisecond, as everywhere: through the
		 * one offset, -d 08:00:00Z comes back as it went. */
		instant(j, r, r->deadline);
	json_raw(j, ",\"deadline_owner\":");
	json_string(j, r->deadline_owner);
	json_raw(j, ",\"outcome\":");
	json_string(j, outcome_name(o, r->wait_tree));
	json_raw(j, ",\"cause\":");
	json_string(j, end->cause[0] != '\0' ? end->cause : NULL);
	if (end->signal != 0) {
		json_raw(j, ",\"exit_status\":null,\"exit_signal\":");
		signal_or_null(j, end->signal);
	} else
		json_printf(j, ",\"exit_status\":%d,\"exit_signal\":null", end->status);
	json_raw(j, ",\"attempts\":");
	attempts(j, r);
	json_raw(j, ",\"signals_sent\":");
	signals(j, r);
	json_printf(j, ",\"signals_omitted\":%zu,\"leftovers_cancelled\":%zu,"
	    "\"unlocked\":%s,\"hook\":", r->signals_omitted, r->leftovers,
	    r->unlocked ? "true" : "false");
	hook(j, r);
	/* The whole tree: every process of it was reaped by its parent or,
	 * orphaned, by ctxrun, and a parent's count includes what it reaped.
	 * ru_maxrss is the largest single process's, not a sum. */
	if (getrusage(RUSAGE_CHILDREN, &ru) == 0) {
		int64_t cpu = ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
		    NS_PER_SEC + ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
		json_raw(j, ",\"cpu\":");
		seconds(j, cpu);
		json_printf(j, ",\"max_rss_kib\":%ld}\n", ru.ru_maxrss);
	} else
		json_raw(j, ",\"cpu\":null,\"max_rss_kib\":null}\n");
}

/* How long the report may hold ctxrun up once the run is over: a lock
 * another process holds (one deaf to TERM, say), a FIFO read slowly. */
#define REPORT_PATIENCE_MS 1000

/* Non-blocking throughout: a FIFO nobody reads is an error, not a hang, and
 * one read slowly is waited for only so long. */
static int
open_report(const char *path)
{
	int fd;

	do
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY |
		    O_NONBLOCK, 0666);
	while (fd == -1 && errno == EINTR);
	return fd;
}

/* The exclusive lock, waited for until `until`: false when another process
 * held it all that time.  A file system without locks counts as locked:
 * O_APPEND keeps one write whole on a local file. */
static bool
lock_within(int fd, int64_t until)
{
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return true;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK || mono_now() >= until)
			return errno != EWOULDBLOCK;
		(void)poll(NULL, 0, 10);
	}
}

/* Writes buf whole by `until`.  A short write (a full disk) is taken back,
 * so that the file never holds half a line. */
static int
write_within(int fd, const char *buf, size_t len, int64_t until)
{
	struct stat st;
	int e = 0;

	bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			int64_t left = until - mono_now();
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			if (left > 0 && poll(&p, 1, (int)(left / NS_PER_MS) + 1) >= 0)
				continue;
			e = ETIMEDOUT;	/* left with what went out: a FIFO has no undo */
			break;
		}
		if (w <= 0) {
			e = w < 0 ? errno : EIO;
			/* Nothing more can be done when this fails too. */
			if (regular && off > 0 && ftruncate(fd, st.st_size) == -1)
				e = w < 0 ? e : errno;
			break;
		}
		off += (size_t)w;
	}
	errno = e;
	return e == 0 ? 0 : -1;
}

int
report_write(struct report *r, const struct outcome *o, const struct ending *end)
{
	struct json j = { 0 };
	int64_t now = mono_now();

	/* The last attempt ends with the run (the others ended as events). */
	attempt_ended(r, o, now);
	int fd = open_report(r->path);
	if (fd == -1)
		return -1;
	int64_t until = time_add(now, REPORT_PATIENCE_MS * NS_PER_MS);
	bool locked = lock_within(fd, until);
	r->unlocked = !locked;
	build(&j, r, o, end, now);
	int rc = -1, e = ENOMEM;
	if (!j.failed) {
		rc = write_within(fd, j.buf, j.len, until);
		e = errno;
	}
	if (locked)
		(void)flock(fd, LOCK_UN);
	if (close(fd) == -1 && rc == 0 && errno != EINTR) {
		rc = -1;
		e = errno;
	}
	json_free(&j);
	errno = e;
	return rc;
}
