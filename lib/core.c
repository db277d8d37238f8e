/*
 * The run's table: actions[phase][event], in the manner of s6-supervise.
 * Read a row to know everything a phase does; read a column to know what
 * one event does in every phase.  An empty cell is CA_NONE: the event
 * changes nothing in that phase (a module may still act on it, as the
 * signal module forwards a signal the table does not take).
 *
 * What ends the context is taken once, by RUNNING (or WAITING): the first
 * cause stands.  In the phases after it a final cause (a signal to ctxrun,
 * a cancel, the enclosing context done) still ends the run: CA_FINAL lets
 * the attempt end as it is ending, and no attempt follows it.
 */
#include "core.h"

static const enum core_action actions[PHASE_COUNT][CE_COUNT] = {
	[PHASE_RUNNING] = {
		[CE_DEADLINE] = CA_END,
		[CE_CANCEL] = CA_END,
		[CE_SIGNAL] = CA_END,
		[CE_COMMAND_EXITED] = CA_LEFTOVERS,
		[CE_TREE_EMPTY] = CA_DONE,
	},
	[PHASE_HOOK] = {
		[CE_CANCEL] = CA_FINAL,
		[CE_SIGNAL] = CA_CUT_HOOK,
		[CE_COMMAND_EXITED] = CA_LEFTOVERS,
		[CE_TREE_EMPTY] = CA_DONE,
		[CE_MODULE_FINISHED] = CA_END_HOOK,
		[CE_TIMER] = CA_END_HOOK,
	},
	[PHASE_SIGNALLED] = {
		[CE_CANCEL] = CA_FINAL,
		[CE_SIGNAL] = CA_FINAL,
		[CE_COMMAND_EXITED] = CA_LEFTOVERS,
		[CE_TREE_EMPTY] = CA_DONE,
		[CE_TIMER] = CA_KILL,
	},
	[PHASE_KILLING] = {
		[CE_CANCEL] = CA_FINAL,
		[CE_SIGNAL] = CA_FINAL,
		[CE_COMMAND_EXITED] = CA_LEFTOVERS,
		[CE_TREE_EMPTY] = CA_DONE,
		/* Every exit may have re-parented a survivor to ctxrun. */
		[CE_REAPED] = CA_KILL,
		[CE_TIMER] = CA_KILL,
	},
	[PHASE_DONE] = { 0 },
	[PHASE_WAITING] = {
		[CE_DEADLINE] = CA_END_WAIT,
		[CE_CANCEL] = CA_END_WAIT,
		[CE_SIGNAL] = CA_END_WAIT,
		[CE_TIMER] = CA_DONE,
	},
};

enum core_action
core_action(enum phase phase, enum core_event event)
{
	if ((unsigned)phase >= PHASE_COUNT || (unsigned)event >= CE_COUNT)
		return CA_NONE;
	return actions[phase][event];
}

static const char *const phase_names[PHASE_COUNT] = {
	"running", "hook", "signalled", "killing", "done", "waiting",
};
static const char *const event_names[CE_COUNT] = {
	"deadline", "cancel", "signal", "command-exited", "tree-empty",
	"module-finished", "timer", "reaped",
};
static const char *const action_names[CA_COUNT] = {
	"none", "end", "end-wait", "final", "cut-hook", "end-hook", "kill", "leftovers",
	"done",
};

const char *
phase_name(enum phase phase)
{
	return (unsigned)phase < PHASE_COUNT ? phase_names[phase] : "?";
}

const char *
core_event_name(enum core_event event)
{
	return (unsigned)event < CE_COUNT ? event_names[event] : "?";
}

const char *
core_action_name(enum core_action action)
{
	return (unsigned)action < CA_COUNT ? action_names[action] : "?";
}
