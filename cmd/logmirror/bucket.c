/*
 * bucket.c - consumer checkpoints in a JetStream key-value bucket, so
 * that `logmirror wait` on any host can wait for consumers on any other.
 * One key per consumer name, its value "OFFSET LOGID UPDATED" (the
 * checkpoint, the id of the log it counts in, its time in ms).  A value is
 * replaced only by one written later (UPDATED), and only through the
 * revision it was read at (compare-and-set): two publishers of the same
 * name never undo each other's newer value.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

struct seen {
	char		*name;
	char		 value[128];
	struct seen	*next;
};

struct bucket {
	kvStore		*kv;
	char		 name[256];
	struct seen	*seen;
};

void
bucket_default(const char *stream, char *buf, size_t len)
{
	snprintf(buf, len, "%s-checkpoints", stream);
}

struct bucket *
bucket_open(struct js *j, const char *name, int create)
{
	struct bucket *b;
	kvConfig kc;
	natsStatus s;

	if ((b = calloc(1, sizeof *b)) == NULL) {
		js_seterr(NATS_OK, 0, "%s", strerror(errno));
		return NULL;
	}
	snprintf(b->name, sizeof b->name, "%s", name);
	s = js_KeyValue(&b->kv, j->js, name);
	if (s == NATS_NOT_FOUND && create) {
		kvConfig_Init(&kc);
		kc.Bucket = name;
		kc.History = 1;
		kc.Replicas = opt.replicas > 0 ? (int)opt.replicas : 0;
		if (kc.Replicas == 0) {
			char **urls = NULL;
			int n = 0;

			if (natsConnection_GetServers(j->nc, &urls, &n) ==
			    NATS_OK) {
				for (int i = 0; i < n; i++)
					free(urls[i]);
				free(urls);
			}
			kc.Replicas = n >= 3 ? 3 : 1;
		}
		s = js_CreateKeyValue(&b->kv, j->js, &kc);
	}
	if (s != NATS_OK) {
		js_seterr(s, 0, "checkpoint bucket %s", name);
		free(b);
		return NULL;
	}
	return b;
}

void
bucket_close(struct bucket *b)
{
	struct seen *s, *n;

	if (b == NULL)
		return;
	for (s = b->seen; s; s = n) {
		n = s->next;
		free(s->name);
		free(s);
	}
	kvStore_Destroy(b->kv);
	free(b);
}

static struct seen *
seen_get(struct bucket *b, const char *name)
{
	struct seen *s;

	for (s = b->seen; s; s = s->next)
		if (strcmp(s->name, name) == 0)
			return s;
	if ((s = calloc(1, sizeof *s)) == NULL ||
	    (s->name = strdup(name)) == NULL) {
		free(s);
		return NULL;
	}
	s->next = b->seen;
	b->seen = s;
	return s;
}

/* Put VALUE under KEY unless the bucket holds a later one: CAS. */
static int
put(struct bucket *b, const char *key, const char *value, int64_t updated)
{
	kvEntry *e = NULL;
	uint64_t rev;
	natsStatus s;

	for (int tries = 0; tries < 10; tries++) {
		s = kvStore_Get(&e, b->kv, key);
		if (s == NATS_NOT_FOUND) {
			s = kvStore_CreateString(&rev, b->kv, key, value);
		} else if (s == NATS_OK) {
			const char *v = kvEntry_ValueString(e);
			int64_t theirs = 0;
			uint64_t r = kvEntry_Revision(e);

			if ((sscanf(v, "%*s %*s %" SCNd64, &theirs) == 1 &&
			    theirs > updated) || strcmp(v, value) == 0) {
				kvEntry_Destroy(e);
				return 0;	/* a later one, or this one */
			}
			kvEntry_Destroy(e);
			s = kvStore_UpdateString(&rev, b->kv, key, value, r);
		}
		if (s == NATS_OK)
			return 0;
		/* Another writer came between: read again. */
		if (s != NATS_ERR) {
			js_seterr(s, 0, "checkpoint bucket %s: %s", b->name,
			    key);
			return -1;
		}
	}
	js_seterr(s, 0, "checkpoint bucket %s: %s", b->name, key);
	return -1;
}

int
bucket_publish(struct bucket *b, const char *dir)
{
	struct sl_checkpoint ck;
	char **names, value[128];
	int rc = 0;

	if ((names = sl_checkpoint_list(dir)) == NULL) {
		js_seterr(NATS_OK, 0, "%s: consumers: %s", dir,
		    strerror(errno));
		return -1;
	}
	for (char **n = names; *n; n++) {
		struct seen *s;

		if (sl_checkpoint_read(dir, *n, "", &ck) < 0)
			continue;	/* being removed, or damaged */
		snprintf(value, sizeof value, "%" PRIu64 " %s %" PRId64,
		    ck.offset, ck.id, ck.updated);
		if ((s = seen_get(b, *n)) == NULL) {
			js_seterr(NATS_OK, 0, "%s", strerror(errno));
			rc = -1;
			break;
		}
		if (strcmp(s->value, value) == 0)
			continue;
		if (put(b, *n, value, ck.updated) < 0) {
			rc = -1;
			break;
		}
		snprintf(s->value, sizeof s->value, "%s", value);
	}
	sl_checkpoint_list_free(names);
	return rc;
}

int
bucket_sync(struct bucket **b, struct js *j, const char *dir)
{
	if (opt.bucket == NULL)
		return 0;
	if (*b == NULL && (*b = bucket_open(j, opt.bucket, 1)) == NULL)
		return -1;
	return bucket_publish(*b, dir);
}
