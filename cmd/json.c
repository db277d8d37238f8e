/*
 * JSON text built in memory: show --json prints it, --report appends it to
 * a file in one write.  Whatever bytes a string holds, the text is valid
 * JSON in valid UTF-8.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

size_t
utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		lo = s[0] == 0xe0 ? 0xa0 : 0x80;
		hi = s[0] == 0xed ? 0x9f : 0xbf;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		lo = s[0] == 0xf0 ? 0x90 : 0x80;
		hi = s[0] == 0xf4 ? 0x8f : 0xbf;
	} else
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

static void
append(struct json *j, const char *s, size_t n)
{
	if (j->failed)
		return;
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 256;
		while (cap < j->len + n + 1)
			cap *= 2;
		char *p = realloc(j->buf, cap);
		if (p == NULL) {
			j->failed = true;
			return;
		}
		j->buf = p;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

void
json_raw(struct json *j, const char *s)
{
	append(j, s, strlen(s));
}

void
json_printf(struct json *j, const char *fmt, ...)
{
	char small[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		j->failed = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		append(j, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (big == NULL) {
		j->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	append(j, big, (size_t)n);
	free(big);
}

/* Quote, backslash and control characters escaped, well-formed UTF-8
 * passed through as it is, and each byte that is not part of well-formed
 * UTF-8 written as the lone surrogate escape \udcXX (0x80 <= XX <= 0xff),
 * as Python's "surrogateescape" does: a reader can tell it from any
 * character and get the bytes back; a strict one shows U+FFFD instead. */
void
json_string(struct json *j, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	if (str == NULL) {
		json_raw(j, "null");
		return;
	}
	append(j, "\"", 1);
	while (*s != '\0') {
		size_t n = utf8_len(s);
		if (*s == '"' || *s == '\\')
			json_printf(j, "\\%c", *s);
		else if (*s == '\n')
			json_raw(j, "\\n");
		else if (*s == '\t')
			json_raw(j, "\\t");
		else if (*s < 0x20 || *s == 0x7f)
			json_printf(j, "\\u%04x", *s);
		else if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)
			json_printf(j, "\\u%04x", s[1]);	/* C1 controls: NEL, CSI... */
		else if (n == 0)
			json_printf(j, "\\udc%02x", *s);
		else
			append(j, (const char *)s, n);
		s += n == 0 ? 1 : n;
	}
	append(j, "\"", 1);
}

void
json_free(struct json *j)
{
	free(j->buf);
	*j = (struct json){ 0 };
}
