/*
 * spec.c - fuzz the parsers of offset specifications and times
 * (sl_spec_parse, sl_time_parse), delimiter escapes (sl_unescape) and
 * format options (sl_fmt_option, including -F templates).
 *
 * Input: one byte choosing "now" (a fixed time, the extremes or 0) and
 * which parsers run, then the string.  Invariants: every parser either
 * fails with EINVAL or returns a well-formed result; every time formats
 * and parses back to the same millisecond; a duration is never negative;
 * a parsed
 * specification of a time keeps it; an unescaped delimiter fits its
 * buffer.
 */
#include <errno.h>
#include <string.h>

#include "synclog.h"
#include "fuzz.h"

static const int64_t nows[] = {
	1795168800000LL, INT64_MIN, INT64_MAX, 0
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_spec spec;
	struct sl_fmt fmt;
	unsigned char buf[SL_DELIM_MAX];
	char *s, tbuf[64];
	int64_t now, ms, back;
	size_t len;

	if (size < 1)
		return 0;
	now = nows[data[0] & 3];
	if ((s = malloc(size)) == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';

	if (sl_spec_parse(s, now, &spec) == 0) {
		FUZZ_ASSERT(spec.kind <= SL_SPEC_TIME_END, "a known kind");
		if (spec.kind == SL_SPEC_TIME_START ||
		    spec.kind == SL_SPEC_TIME_END) {
			FUZZ_ASSERT(sl_time_parse(s + 2, now, &ms) == 0 &&
			    ms == spec.time, "the spec keeps its time");
		}
	} else
		FUZZ_ASSERT(errno == EINVAL, "EINVAL");

	if (sl_time_parse(s, now, &ms) == 0) {
		FUZZ_ASSERT(sl_time_format(ms, tbuf, sizeof tbuf) != NULL,
		    "every time formats");
		FUZZ_ASSERT(sl_time_parse(tbuf, now, &back) == 0,
		    "a formatted time parses");
		FUZZ_ASSERT(back == ms, "format and parse round trip");
	} else
		FUZZ_ASSERT(errno == EINVAL, "EINVAL");

	if (sl_duration_parse(s, data[0] & 8 ? 1000 : 0, &ms) == 0)
		FUZZ_ASSERT(ms >= 0, "a duration is not negative");
	else
		FUZZ_ASSERT(errno == EINVAL, "EINVAL");

	if (sl_unescape(s, buf, sizeof buf, &len) == 0)
		FUZZ_ASSERT(len <= sizeof buf, "fits its buffer");

	if (data[0] & 4) {
		static const char opts[] = "DKF";

		sl_fmt_init(&fmt);
		if (sl_fmt_option(&fmt, opts[(data[0] >> 3) % 3], s) == 0) {
			FUZZ_ASSERT(fmt.delimlen <= SL_DELIM_MAX &&
			    fmt.keydelimlen <= SL_DELIM_MAX, "delimiters fit");
			if (fmt.kind == SL_FMT_TEMPLATE) {
				/* Compile and use the template once. */
				struct sl_record r = { 0 };
				sl_out *o = sl_out_open(-1, &fmt);

				r.value = (const unsigned char *)"v";
				r.valuelen = 1;
				r.key = (const unsigned char *)"k";
				r.keylen = 1;
				if (o != NULL) {
					sl_out_record(o, &r);
					sl_out_close(o);
				}
			}
		}
	}
	free(s);
	return 0;
}
