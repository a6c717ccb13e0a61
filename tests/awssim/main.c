/*
 * cbq-awssim: flags, scenario, clock, the event loop. Everything else is a
 * module (server.c serves, world.c models). Exit 2 on a bad flag or
 * scenario, 1 when it cannot listen, 0 after SIGTERM or SIGINT.
 */
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scenario.h"
#include "server.h"
#include "util/clock.h"
#include "util/log.h"
#include "world.h"

static const char USAGE[] =
	"usage: cbq-awssim --listen 127.0.0.1:PORT --scenario FILE\n"
	"                  [--clock real|scaled:FACTOR[,epoch=ISO8601][,origin=UNIX_SECONDS]]\n"
	"                  [--log-level debug|info|warn|error]\n"
	"       cbq-awssim --check --scenario FILE\n"
	"\n"
	"An EC2 + STS + RAM + Organizations + IMDS emulator with Capacity Block\n"
	"semantics and SigV4 checking, for cbq's tests and demos. Without --clock the\n"
	"clock is scaled:1: the scenario's epoch at process start, at real speed.\n"
	"PORT 0 picks a free port; the first line on stdout says which.\n"
	"See tests/awssim/README.md.\n";

struct flags {
	const char *listen, *scenario, *clock, *log_level;
	bool check;
};

static int parse_flags(int argc, char **argv, struct flags *f)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = strcmp(a, "--listen") == 0	 ? &f->listen :
				   strcmp(a, "--scenario") == 0	 ? &f->scenario :
				   strcmp(a, "--clock") == 0	 ? &f->clock :
				   strcmp(a, "--log-level") == 0 ? &f->log_level :
								   NULL;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(USAGE, stdout);
			exit(0);
		}
		if (strcmp(a, "--check") == 0) {
			f->check = true;
			continue;
		}
		if (!dst) {
			fprintf(stderr, "cbq-awssim: unknown flag %s\n%s", a, USAGE);
			return 2;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "cbq-awssim: %s needs a value\n", a);
			return 2;
		}
		*dst = argv[++i];
	}
	if (!f->scenario || (!f->listen && !f->check)) {
		fprintf(stderr, "cbq-awssim: --scenario and --listen are required\n%s", USAGE);
		return 2;
	}
	return 0;
}

static int parse_listen(const char *spec, char *host, size_t size, int *port)
{
	const char *colon = strrchr(spec, ':');
	char *end;

	if (!colon || colon == spec || (size_t)(colon - spec) >= size)
		return -1;
	long p = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || p < 0 || p > 65535)
		return -1;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	if (host[0] == '[') { /* [::1]:PORT */
		size_t n = strlen(host);
		if (n < 3 || host[n - 1] != ']')
			return -1;
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	*port = (int)p;
	return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	cbq_log(CBQ_LOG_INFO, "awssim_stopping", "signal=%d", (int)sig);
	event_base_loopexit(arg, NULL);
}

int main(int argc, char **argv)
{
	struct flags f = { 0 };
	struct sim_scenario *sc = NULL;
	struct sim_world *w = NULL;
	struct sim_server *srv = NULL;
	struct event_base *base = NULL;
	struct event *ev_term = NULL, *ev_int = NULL;
	struct cbq_clock clock;
	struct cbq_error err = { 0 };
	enum cbq_log_level level = CBQ_LOG_INFO;
	char host[64];
	int port = 0, bound = 0, rc = parse_flags(argc, argv, &f);

	if (rc)
		return rc;
	if (f.log_level && !cbq_log_level_parse(f.log_level, &level)) {
		fprintf(stderr, "cbq-awssim: --log-level must be debug, info, warn or error\n");
		return 2;
	}
	cbq_log_set_level(level);
	if (f.listen && parse_listen(f.listen, host, sizeof(host), &port)) {
		fprintf(stderr, "cbq-awssim: --listen must be HOST:PORT, e.g. 127.0.0.1:4566\n");
		return 2;
	}
	if (sim_scenario_load(f.scenario, &sc, &err)) {
		fprintf(stderr, "cbq-awssim: scenario %s: %s\n", f.scenario, err.msg);
		return 2;
	}
	if (cbq_clock_parse_default(f.clock ? f.clock : "scaled:1", cbq_clock_real_ms(), sc->epoch,
				    &clock, &err)) {
		fprintf(stderr, "cbq-awssim: --clock: %s\n", err.msg);
		sim_scenario_free(sc);
		return 2;
	}
	if (f.check) {
		printf("cbq-awssim: scenario %s is valid (%zu principals, %zu accounts, %zu "
		       "blocks)\n",
		       f.scenario, sc->n_principals, sc->n_accounts, sc->n_blocks);
		sim_scenario_free(sc);
		return 0;
	}
	if (sim_world_new(sc, &w, &err)) {
		fprintf(stderr, "cbq-awssim: %s\n", err.msg);
		return 1;
	}
	if (getenv("CBQ_AWSSIM_SECRETS_DIR")) {
		char path[512];
		snprintf(path, sizeof(path), "%s/awssim-%d.txt", getenv("CBQ_AWSSIM_SECRETS_DIR"),
			 (int)getpid());
		w->secrets_out = fopen(path, "a");
		if (w->secrets_out)
			setvbuf(w->secrets_out, NULL, _IOLBF, 0);
	}
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	if (!base) {
		fprintf(stderr, "cbq-awssim: event_base_new failed\n");
		rc = 1;
		goto out;
	}
	if (sim_server_start(base, w, &clock, host, port, &srv, &bound, &err)) {
		fprintf(stderr, "cbq-awssim: %s\n", err.msg);
		rc = 1;
		goto out;
	}
	ev_term = evsignal_new(base, SIGTERM, on_signal, base);
	ev_int = evsignal_new(base, SIGINT, on_signal, base);
	if (!ev_term || !ev_int || evsignal_add(ev_term, NULL) || evsignal_add(ev_int, NULL)) {
		fprintf(stderr, "cbq-awssim: cannot handle signals\n");
		rc = 1;
		goto out;
	}
	char now[32];
	cbq_ms t = cbq_clock_now(&clock);
	time_t secs = (time_t)(t / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("cbq-awssim listening on %s:%d\n", host, bound);
	fflush(stdout);
	cbq_log(CBQ_LOG_INFO, "awssim_listening",
		"addr=%s:%d region=%s sim_now=%s factor=%g blocks=%zu principals=%zu", host, bound,
		w->sc->region, now, clock.factor, w->sc->n_blocks, w->sc->n_principals);
	event_base_dispatch(base);
out:
	if (ev_term)
		event_free(ev_term);
	if (ev_int)
		event_free(ev_int);
	sim_server_free(srv);
	if (base)
		event_base_free(base);
	sim_world_free(w);
	return rc;
}
