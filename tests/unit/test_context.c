/* The context tree: values, deadlines and their owners, nested grace.
 * Whether a run is over is the supervisor's to say, not the tree's. */
#include <string.h>
#include <unistd.h>

#include "../../lib/internal.h"
#include "unit.h"

int
main(void)
{
	struct ctx *root = ctx_new(NULL, "root");
	struct ctx *mid = ctx_new(root, "mid");
	struct ctx *leaf = ctx_new(mid, "leaf");
	struct ctx *other = ctx_new(root, "other");

	CHECK(root && mid && leaf && other, "allocation");
	CHECK(ctx_depth(leaf) == 3 && ctx_depth(root) == 1, "depth");

	/* Values: inner shadows outer, siblings do not see each other. */
	ctx_set_value(root, "A", "root-a");
	ctx_set_value(root, "B", "root-b");
	ctx_set_value(mid, "A", "mid-a");
	ctx_set_value(mid, "A", "mid-a2");
	CHECK(strcmp(ctx_value(leaf, "A"), "mid-a2") == 0, "shadowed and replaced");
	CHECK(strcmp(ctx_value(leaf, "B"), "root-b") == 0, "inherited");
	CHECK(strcmp(ctx_value(other, "A"), "root-a") == 0, "sibling unaffected");
	CHECK(ctx_value(leaf, "C") == NULL, "unset");
	CHECK(mid->nvalues == 1, "replace does not append");

	/* Deadlines: the earliest of the chain wins; a child cannot extend. */
	CHECK(ctx_deadline(leaf) == CTX_NEVER, "no deadline");
	root->deadline = 5000 * NS_PER_MS;
	leaf->deadline = 9000 * NS_PER_MS;
	CHECK(ctx_deadline(leaf) == 5000 * NS_PER_MS, "parent's earlier deadline wins");
	CHECK(ctx_deadline_owner(leaf) == root, "owner is root");
	mid->deadline = 3000 * NS_PER_MS;
	CHECK(ctx_deadline(leaf) == 3000 * NS_PER_MS && ctx_deadline_owner(leaf) == mid, "mid");
	/* Whose deadline: the outermost of those that are the same deadline.
	 * An inherited level carries its effective deadline, equal to its
	 * parent's when it was inherited; within CTX_DEADLINE_TIE is equal. */
	{
		struct ctx *a = ctx_new(NULL, "a"), *b = ctx_new(a, "b"),
		    *c = ctx_new(b, "c"), *d = ctx_new(c, "d"), *e = ctx_new(d, "e");
		a->deadline = 1 * NS_PER_SEC;
		b->deadline = 1 * NS_PER_SEC;	/* -t 5, inherited a's 1s */
		c->deadline = 9 * NS_PER_SEC;
		CHECK(ctx_deadline_owner(c) == a, "depth 3: %s", ctx_deadline_owner(c)->name);
		CHECK(ctx_deadline_owner(b) == a, "b's is a's");
		a->deadline = 9 * NS_PER_SEC;
		b->deadline = 1 * NS_PER_SEC;
		c->deadline = 1 * NS_PER_SEC;
		d->deadline = 1 * NS_PER_SEC;
		e->deadline = 9 * NS_PER_SEC;
		CHECK(ctx_deadline_owner(e) == b, "depth 5: %s", ctx_deadline_owner(e)->name);
		CHECK(ctx_deadline(e) == NS_PER_SEC, "depth 5 deadline");
		/* The same instant converted from the wall clock twice. */
		a->deadline = NS_PER_SEC + 300;
		b->deadline = NS_PER_SEC;
		c->deadline = CTX_NEVER;
		d->deadline = NS_PER_SEC - 50;
		CHECK(ctx_deadline_owner(e) == a, "tie: %s", ctx_deadline_owner(e)->name);
		CHECK(ctx_deadline(e) == NS_PER_SEC - 50, "exact minimum all the same");
		/* A millisecond and more apart: not the same deadline. */
		a->deadline = NS_PER_SEC + 2 * NS_PER_MS;
		CHECK(ctx_deadline_owner(e) == b, "no tie: %s", ctx_deadline_owner(e)->name);
		e->deadline = NS_PER_SEC - 50;
		CHECK(ctx_deadline_owner(e) == b, "own tie goes outwards");
		for (struct ctx *x = a; x; x = x->children ? x->children[0] : NULL)
			x->deadline = CTX_NEVER;
		CHECK(ctx_deadline_owner(e) == e, "none: itself");
		a->deadline = INT64_MIN + NS_PER_SEC;
		b->deadline = INT64_MAX - 1;
		CHECK(ctx_deadline_owner(e) == a, "long past, no overflow");
		ctx_free(a);
	}

	/* Nested grace: never longer than the parent's, with a margin. */
	CHECK(nested_grace(10 * NS_PER_SEC, 10 * NS_PER_SEC) == 9500 * NS_PER_MS, "10s in 10s");
	CHECK(nested_grace(NS_PER_SEC, 10 * NS_PER_SEC) == NS_PER_SEC, "shorter kept");
	CHECK(nested_grace(NS_PER_SEC, NS_PER_SEC) == 800 * NS_PER_MS, "1s in 1s");
	CHECK(nested_grace(5, 0) == 0, "zero parent grace");

	CHECK(time_add(CTX_NEVER, 5) == CTX_NEVER, "never stays never");
	CHECK(time_add(INT64_MAX - 1, 5) == CTX_NEVER, "saturates");
	CHECK(time_add(5, -3) == 2, "adds");

	ctx_free_tree(leaf);

	/* An external root (a CI job's deadline) above a chain: it owns the
	 * deadline it ties with, and is not a level of the environment. */
	struct ctx *outer = ctx_new(NULL, "outer"), *run = ctx_new(outer, "run");
	struct ctx *job = ctx_new_root(run, "gitlab-job");
	CHECK(job != NULL && outer->parent == job && job->nchildren == 1 &&
	    job->children[0] == outer, "new root above the chain");
	job->external = true;
	job->deadline = 5 * NS_PER_SEC;
	outer->deadline = 5 * NS_PER_SEC + 10;	/* inherited: the same instant */
	CHECK(ctx_depth(run) == 2 && ctx_depth(job) == 0, "external not counted");
	CHECK(ctx_deadline(run) == 5 * NS_PER_SEC, "external deadline counts");
	CHECK(ctx_deadline_owner(run) == job, "external owns it");
	ctx_free_tree(run);
	return unit_report("test_context");
}
