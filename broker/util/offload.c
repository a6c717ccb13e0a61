/*
 * Offloaded work (see offload.h): a thread per piece of work (a scheduling
 * cycle a second at most: creating a thread is noise beside it), and a
 * pipe whose read end the loop watches; the thread writes one byte when it
 * is done, the loop joins it and calls done.
 */
#include "util/offload.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/alloc.h"
#include "util/log.h"

enum { OFFLOAD_NICE = 10 };

struct offload {
	int fds[2]; /* pipe: the thread writes [1], the loop reads [0] */
	struct event *ev;
	pthread_t thread;
	bool busy;
	offload_fn *work, *done;
	void *arg;
};

static void *run(void *p)
{
	struct offload *o = p;
	char one = 1;

	/* background work: it yields the CPU to the loop (Linux nices threads
	 * one by one; failing to is harmless) */
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), OFFLOAD_NICE);
	o->work(o->arg);
	while (write(o->fds[1], &one, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void on_done(evutil_socket_t fd, short what, void *p)
{
	struct offload *o = p;
	char byte;

	(void)what;
	if (read(fd, &byte, 1) != 1 || !o->busy)
		return;
	pthread_join(o->thread, NULL);
	o->busy = false;
	o->done(o->arg);
}

struct offload *offload_new(struct event_base *base)
{
	struct offload *o = cbq_xcalloc(1, sizeof(*o));

	if (pipe(o->fds) != 0)
		abort(); /* out of descriptors at start-up */
	for (int i = 0; i < 2; i++)
		if (fcntl(o->fds[i], F_SETFD, FD_CLOEXEC) != 0 ||
		    fcntl(o->fds[i], F_SETFL, O_NONBLOCK) != 0)
			abort();
	o->ev = event_new(base, o->fds[0], EV_READ | EV_PERSIST, on_done, o);
	if (!o->ev || event_add(o->ev, NULL) != 0)
		abort();
	return o;
}

void offload_free(struct offload *o)
{
	if (!o)
		return;
	if (o->busy)
		pthread_join(o->thread, NULL);
	event_free(o->ev);
	close(o->fds[0]);
	close(o->fds[1]);
	free(o);
}

bool offload_run(struct offload *o, offload_fn *work, offload_fn *done, void *arg)
{
	int rc;

	if (o->busy)
		return false;
	o->work = work;
	o->done = done;
	o->arg = arg;
	o->busy = true;
	rc = pthread_create(&o->thread, NULL, run, o);
	if (rc != 0) {
		o->busy = false;
		cbq_log(CBQ_LOG_WARN, "offload_thread_failed", "errno=%d", rc);
		return false;
	}
	return true;
}

bool offload_busy(const struct offload *o)
{
	return o->busy;
}
