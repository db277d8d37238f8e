/*
 * The context tree: a node has a deadline, values, and a done state with a
 * cause.  Cancelling a node cancels its descendants, never its ancestors,
 * and the first cause wins (Go's context semantics).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct ctx *
ctx_new(struct ctx *parent, const char *name)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->name = strdup(name ? name : "")) == NULL) {
		free(c);
		return NULL;
	}
	c->deadline = CTX_NEVER;
	c->grace = 10 * NS_PER_SEC;
	c->parent = parent;
	if (parent != NULL) {
		struct ctx **k = reallocarray(parent->children,
		    parent->nchildren + 1, sizeof(*k));
		if (k == NULL) {
			free(c->name);
			free(c);
			return NULL;
		}
		parent->children = k;
		k[parent->nchildren++] = c;
	}
	return c;
}

struct ctx *
ctx_new_root(struct ctx *c, const char *name)
{
	struct ctx *root = c, *n;

	while (root->parent != NULL)
		root = root->parent;
	if ((n = ctx_new(NULL, name)) == NULL ||
	    (n->children = malloc(sizeof(*n->children))) == NULL) {
		ctx_free(n);
		return NULL;
	}
	n->children[n->nchildren++] = root;
	root->parent = n;
	return n;
}

void
ctx_free(struct ctx *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nchildren; i++) {
		c->children[i]->parent = NULL;
		ctx_free(c->children[i]);
	}
	if (c->parent != NULL) {
		struct ctx *p = c->parent;
		for (size_t i = 0; i < p->nchildren; i++)
			if (p->children[i] == c)
				p->children[i] = p->children[--p->nchildren];
	}
	for (size_t i = 0; i < c->nvalues; i++) {
		free(c->values[i].key);
		free(c->values[i].val);
	}
	free(c->values);
	free(c->children);
	free(c->name);
	free(c);
}

void
ctx_free_tree(struct ctx *c)
{
	while (c != NULL && c->parent != NULL)
		c = c->parent;
	ctx_free(c);
}

int
ctx_set_value(struct ctx *c, const char *key, const char *val)
{
	char *k, *v;

	for (size_t i = 0; i < c->nvalues; i++)
		if (strcmp(c->values[i].key, key) == 0) {
			if ((v = strdup(val)) == NULL)
				return -1;
			free(c->values[i].val);
			c->values[i].val = v;
			return 0;
		}
	struct ctx_value *nv = reallocarray(c->values, c->nvalues + 1, sizeof(*nv));
	if (nv == NULL)
		return -1;
	c->values = nv;
	k = strdup(key);
	v = strdup(val);
	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		return -1;
	}
	nv[c->nvalues].key = k;
	nv[c->nvalues++].val = v;
	return 0;
}

const char *
ctx_value(const struct ctx *c, const char *key)
{
	for (; c != NULL; c = c->parent)
		for (size_t i = 0; i < c->nvalues; i++)
			if (strcmp(c->values[i].key, key) == 0)
				return c->values[i].val;
	return NULL;
}

int64_t
ctx_deadline(const struct ctx *c)
{
	int64_t d = CTX_NEVER;

	for (; c != NULL; c = c->parent)
		if (c->deadline < d)
			d = c->deadline;
	return d;
}

const struct ctx *
ctx_deadline_owner(const struct ctx *c)
{
	const struct ctx *owner = c;
	int64_t d = ctx_deadline(c);

	if (d == CTX_NEVER)
		return c;
	for (; c != NULL; c = c->parent)
		if (c->deadline != CTX_NEVER &&
		    c->deadline <= time_add(d, CTX_DEADLINE_TIE))
			owner = c;
	return owner;
}

size_t
ctx_depth(const struct ctx *c)
{
	size_t n = 0;

	for (; c != NULL; c = c->parent)
		n += !c->external;
	return n;
}

int64_t
nested_grace(int64_t own, int64_t parent)
{
	int64_t margin = parent / 5 < 500 * NS_PER_MS ? parent / 5 : 500 * NS_PER_MS;
	int64_t limit = parent - margin;

	return own < limit ? own : limit;
}

bool
ctx_nested(const struct ctx *c)
{
	return c->parent != NULL && c->parent->pid > 0;
}
