/*
 * Why a context is done, in words: one table for every place that names a
 * cause (ctxrun's lines, the report's fields, the hook's CTXRUN_CAUSE), so
 * that a cause added to enum done_cause is named once, here.
 */
#include "internal.h"

static const struct cause_names names[] = {
	[DONE_NOT_YET] = { NULL, NULL, false },
	[DONE_DEADLINE] = { "deadline exceeded", "deadline_exceeded", true },
	[DONE_CANCEL] = { "cancelled", "cancelled", true },
	[DONE_PARENT_CANCEL] = { "cancelled", "cancelled", true },
	[DONE_SIGNAL] = { "signal received", "signal_received", false },
	[DONE_COMMAND_EXITED] = { "command exited, cleaning up its tree",
	    "command_exited", false },
	[DONE_PARENT_GONE] = { "cancelled", "cancelled", true },
	[DONE_IDLE] = { "idle", "idle", true },
};

const struct cause_names *
cause_names(enum done_cause cause)
{
	if ((unsigned)cause >= sizeof(names) / sizeof(names[0]))
		cause = DONE_NOT_YET;
	return &names[cause];
}
