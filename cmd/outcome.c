/*
 * How a run (or an attempt) ended, read once from what supervise() says
 * happened: ctxrun's last line and exit status (conclude.c) and the
 * report's "outcome" (report.c) follow from this one reading, and the
 * cause's names from lib/cause.c's table.
 */
#include <signal.h>

#include "../lib/ctxrun.h"
#include "cmd.h"

/* The report's word for each way; NULL: the cause's own (cause.c). */
static const char *const ended_names[] = {
	[ENDED_FAILED] = "failed",
	[ENDED_BY_CONTEXT] = NULL,
	[ENDED_BY_SIGNAL] = NULL,
	[ENDED_EXITED] = "exited",
	[ENDED_SIGNALED] = "signaled",
};

/*
 * The context ended COMMAND when COMMAND still ran then (with --wait, its
 * tree), or never started; otherwise COMMAND ended on its own, whatever
 * the context did to its leftovers.  A signal that ctxrun received ends
 * the context too, but is not the context's doing: ctxrun passes it on.
 */
enum how_ended
how_ended(const struct outcome *o, bool wait_tree)
{
	const struct cause_names *cause = cause_names(o->cause);

	if (o->failure != RUN_OK)
		return ENDED_FAILED;
	if ((cause->by_context || o->cause == DONE_SIGNAL) &&
	    (o->command_alive_at_done || wait_tree || !o->started))
		return cause->by_context ? ENDED_BY_CONTEXT : ENDED_BY_SIGNAL;
	return o->command_code == CLD_EXITED ? ENDED_EXITED : ENDED_SIGNALED;
}

const char *
outcome_name(const struct outcome *o, bool wait_tree)
{
	enum how_ended how = how_ended(o, wait_tree);

	if (ended_names[how] != NULL)
		return ended_names[how];
	return cause_names(o->cause)->report;
}
