/*
 * `cbqd serve`: flags and config → one loop with the Postgres pool, the
 * engine and the HTTPS server. Waits for Postgres and refuses a schema that
 * is behind before it listens. SIGTERM/SIGINT drain (stop accepting, let
 * requests in flight finish, then exit); a second one exits at once.
 * SIGHUP reloads the TLS certificate, key and client CA. A 50 ms timer
 * measures the loop's lag for /metrics.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <event2/event.h>

#include "api/server.h"
#include "aws/client.h"
#include "aws/config.h"
#include "aws/creds.h"
#include "aws/http.h"
#include "app.h"
#include "auth/iamverify.h"
#include "core/metrics.h"
#include "db/db.h"
#include "db/leader.h"
#include "db/migrate.h"
#include "engine.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/offload.h"

struct cbq_app {
	struct cbqd_config cfg;
	struct cbq_clock clock;
	struct event_base *base;
	struct db *db;
	struct engine *engine;
	struct metrics *metrics; /* /metrics: what the engine and the AWS client count */
	struct api_server *api;
	struct db_leader *leader;
	/* AWS, when its settings resolve: launches go through it */
	struct aws_config aws_cfg;
	struct aws_http *http;
	struct aws_client *aws;
	struct aws_creds_provider *aws_own;
	/* IAM identity: checks tokens against STS; NULL when iam_server_id is unset */
	struct auth_iam_verifier *iam;
	struct event *sigterm, *sigint, *sighup, *timer;
	/* early ticks the engine asks for (a launch the pacer lets go) */
	struct event *wake;
	int64_t wake_due_us; /* monotonic µs of the armed wake, 0: none */
	/* the loop's own health: how late a periodic timer fires */
	struct event *lag;
	int64_t lag_due_us; /* monotonic µs the lag timer should fire at */
	struct metrics_family *lag_seconds, *aws_in_flight, *aws_in_flight_peak;
	bool draining;
	bool checking; /* a schema check is in flight */
	int ticks;
	cbq_ms drain_deadline;
	int exit_code;
};

enum { TICK_MS = 200, LAG_PERIOD_MS = 50 };

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cbqd serve [--config FILE] [--db CONNINFO] [--listen HOST:PORT]\n"
		"                  --tls-cert FILE --tls-key FILE [--client-ca FILE]\n"
		"                  [--insecure-dev-auth] [--clock real|scaled:F[,epoch=ISO]]\n"
		"                  [--log-level debug|info|warn|error] [--KEY VALUE ...]\n"
		"Every key of the config file is also a flag (tls_cert = --tls-cert);\n"
		"see deploy/cbqd.conf.example. PG* environment variables are honoured.\n");
}

/* --tls-cert → tls_cert */
static void flag_to_key(const char *flag, char *key, size_t size)
{
	size_t i;

	for (i = 0; flag[i] && i + 1 < size; i++)
		key[i] = flag[i] == '-' ? '_' : flag[i];
	key[i] = '\0';
}

static int parse_args(struct cbq_app *app, int argc, char **argv)
{
	struct cbq_error err;
	const char *config = NULL;

	/* the config file first, so that flags override it */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config = argv[i + 1];
	if (config && cbqd_config_load(&app->cfg, config, &err)) {
		fprintf(stderr, "cbqd: %s\n", err.msg);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		char key[64];

		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (strncmp(argv[i], "--", 2) != 0 || strlen(argv[i]) >= sizeof(key) + 2) {
			fprintf(stderr, "cbqd serve: unexpected argument %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
		if (strcmp(argv[i], "--config") == 0) {
			i++;
			continue;
		}
		flag_to_key(argv[i] + 2, key, sizeof(key));
		if (strcmp(key, "insecure_dev_auth") == 0) {
			app->cfg.insecure_dev_auth = true;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "cbqd serve: %s needs a value\n", argv[i]);
			return 2;
		}
		if (cbqd_config_set(&app->cfg, key, argv[++i], &err)) {
			fprintf(stderr, "cbqd serve: --%s: %s\n", argv[i - 1] + 2, err.msg);
			return 2;
		}
	}
	return 0;
}

static struct api_config api_config_of(const struct cbq_app *app)
{
	return (struct api_config){
		.listen = app->cfg.listen,
		.tls_cert = app->cfg.tls_cert,
		.tls_key = app->cfg.tls_key,
		.client_ca = app->cfg.client_ca[0] ? app->cfg.client_ca : NULL,
		.insecure_dev_auth = app->cfg.insecure_dev_auth,
		.max_body = (size_t)app->cfg.max_body_bytes,
		.max_headers = (size_t)app->cfg.max_header_bytes,
		.idle_timeout_s = app->cfg.idle_timeout_s,
		.request_timeout_s = app->cfg.request_timeout_s,
		.max_connections = app->cfg.max_connections,
		.rate_per_team = (unsigned)app->cfg.rate_per_team,
		.rate_burst_per_team = (unsigned)app->cfg.rate_burst_per_team,
		.iam = app->iam,
	};
}

/* max_connections sockets need as many descriptors, plus Postgres and AWS:
 * raise the soft limit toward the hard one, and say so when that is short. */
static void check_fd_limit(const struct cbq_app *app)
{
	rlim_t want = (rlim_t)app->cfg.max_connections + (rlim_t)app->cfg.db_pool_size + 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		rl.rlim_cur = rl.rlim_max;
	else
		rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		cbq_log(CBQ_LOG_WARN, "fd_limit_low",
			"open_files=%llu needed=%llu max_connections=%d "
			"hint=\"raise LimitNOFILE or lower max_connections\"",
			(unsigned long long)rl.rlim_cur, (unsigned long long)want,
			app->cfg.max_connections);
}

static void start_listening(struct cbq_app *app)
{
	struct cbq_error err;
	struct api_config ac = api_config_of(app);

	check_fd_limit(app);
	app->api = api_server_start(app->base, &ac, app->engine, &err);
	if (!app->api) {
		cbq_log(CBQ_LOG_ERROR, "listen_failed", "setting=%s error=%s", err.field,
			cbq_log_q(err.msg));
		fprintf(stderr, "cbqd: %s\n", err.msg);
		app->exit_code = 1;
		event_base_loopbreak(app->base);
		return;
	}
	cbq_log(CBQ_LOG_INFO, "listening", "listen=%s mtls=%s dev_auth=%s", app->cfg.listen,
		ac.client_ca ? "on" : "off", ac.insecure_dev_auth ? "on" : "off");
}

static void schema_checked(void *arg, const struct cbq_error *err);

/* Every cbqd serves the API; the one holding the lock runs the control loops. */
static void on_leadership(void *arg, bool leader)
{
	struct cbq_app *app = arg;

	engine_set_leader(app->engine, leader);
}

static void on_notify(void *arg, const char *channel, const char *payload)
{
	struct cbq_app *app = arg;

	engine_notified(app->engine, channel, payload);
}

/* The broker's AWS identity and endpoints from the standard chain
 * (AWS_REGION, AWS_* keys, shared files, IMDS). Without them cbqd serves
 * and plans but launches nothing, and says why. */
static void start_aws(struct cbq_app *app)
{
	struct aws_env env = { aws_env_getenv, NULL };
	struct cbq_error err = { 0 };

	if (aws_config_load(&env, &app->aws_cfg, &err) != CBQ_OK) {
		cbq_log(CBQ_LOG_WARN, "launcher_disabled", "setting=%s error=%s", err.field,
			cbq_log_q(err.msg));
		return;
	}
	app->http = aws_http_new(app->base, &err);
	struct aws_client_settings cs = { .config = &app->aws_cfg, .clock = &app->clock };
	if (app->http)
		app->aws = aws_client_new(app->base, app->http, &cs, &err);
	if (app->aws)
		app->aws_own = aws_creds_provider_new(app->base, app->http, &app->aws_cfg.creds,
						      aws_client_assume_hook, app->aws, &err);
	if (!app->aws_own) {
		cbq_log(CBQ_LOG_WARN, "launcher_disabled", "setting=%s error=%s", err.field,
			cbq_log_q(err.msg));
		aws_client_free(app->aws);
		app->aws = NULL;
		return;
	}
	aws_client_set_own(app->aws, app->aws_own);
	engine_set_aws(app->engine, app->aws);
	aws_http_set_sent_hook(app->http, engine_aws_sent, app->engine);
	cbq_log(CBQ_LOG_INFO, "aws_ready", "region=%s credentials=\"%s\" ec2=%s sts=%s",
		app->aws_cfg.region, aws_creds_provider_source(app->aws_own),
		app->aws_cfg.endpoints[AWS_SVC_EC2].url, app->aws_cfg.endpoints[AWS_SVC_STS].url);
}

/* IAM identity when iam_server_id is set: its own HTTP client, as it needs
 * no credentials of cbqd's. Bad settings stop cbqd before it listens. */
static enum cbq_err start_iam(struct cbq_app *app, struct cbq_error *err)
{
	struct auth_iam_settings s = {
		.server_id = app->cfg.iam_server_id,
		.sts_endpoint = app->cfg.iam_sts_endpoint,
		.max_inflight = app->cfg.iam_max_inflight,
	};

	if (!app->cfg.iam_server_id[0]) {
		cbq_log(CBQ_LOG_INFO, "iam_identity", "state=off reason=\"iam_server_id unset\"");
		return CBQ_OK;
	}
	app->iam = auth_iam_verifier_new(app->base, &s, err);
	if (!app->iam)
		return err->code;
	cbq_log(CBQ_LOG_INFO, "iam_identity", "state=on server_id=%s sts_endpoint=%s",
		cbq_log_q(app->cfg.iam_server_id),
		app->cfg.iam_sts_endpoint[0] ? cbq_log_q(app->cfg.iam_sts_endpoint) : "aws");
	return CBQ_OK;
}

static void stop_aws(struct cbq_app *app)
{
	aws_client_free(app->aws);
	aws_creds_provider_free(app->aws_own);
	aws_http_free(app->http);
	aws_config_free(&app->aws_cfg);
}

static void start_campaign(struct cbq_app *app)
{
	static const char *const channels[] = { "cbq_policy", "cbq_jobs" };
	struct db_leader_config lc = {
		.conninfo = app->cfg.db,
		.lock_key = DB_LEADER_LOCK_KEY,
		.channels = channels,
		.n_channels = sizeof(channels) / sizeof(channels[0]),
	};

	app->leader = db_leader_start(app->base, &lc, on_leadership, on_notify, app);
	if (!app->leader)
		abort(); /* the channels above are constants */
}

static void check_schema(struct cbq_app *app)
{
	app->checking = true;
	db_schema_check(app->db, schema_checked, app);
}

static void schema_checked(void *arg, const struct cbq_error *err)
{
	struct cbq_app *app = arg;

	app->checking = false;
	if (err && err->code == CBQ_ERR_UNAVAILABLE && !app->draining) {
		/* Postgres not up yet: keep trying, the timer calls again */
		cbq_log(CBQ_LOG_WARN, "waiting_for_postgres", "error=%s", cbq_log_q(err->msg));
		return;
	}
	if (err) {
		cbq_log(CBQ_LOG_ERROR, "schema_refused", "error=%s", cbq_log_q(err->msg));
		fprintf(stderr, "cbqd: %s\n", err->msg);
		app->exit_code = 1;
		event_base_loopbreak(app->base);
		return;
	}
	engine_set_schema_ok(app->engine);
	start_listening(app);
	if (app->api)
		start_campaign(app);
}

/* The loop is as responsive as its slowest callback: a timer due every
 * LAG_PERIOD_MS records how late it fired (cbq_event_loop_lag_seconds).
 * libevent's cached time is refreshed before re-arming, so the due time and
 * the timer agree. No max gauge: the histogram's upper buckets show spikes,
 * and a max reset on scrape would be wrong with two scrapers. */
static void on_lag(evutil_socket_t fd, short what, void *arg)
{
	struct cbq_app *app = arg;
	int64_t now = cbq_clock_mono_us();
	int64_t late = now - app->lag_due_us;
	struct timeval tv = { 0, LAG_PERIOD_MS * 1000 };

	(void)fd;
	(void)what;
	metrics_observe(app->lag_seconds, NULL, late > 0 ? (double)late / 1e6 : 0);
	if (app->http) {
		metrics_set(app->aws_in_flight, NULL, (double)aws_http_in_flight(app->http));
		metrics_set(app->aws_in_flight_peak, NULL,
			    (double)aws_http_in_flight_peak(app->http));
	}
	event_base_update_cache_time(app->base);
	app->lag_due_us = cbq_clock_mono_us() + LAG_PERIOD_MS * 1000;
	evtimer_add(app->lag, &tv);
}

static void start_lag_timer(struct cbq_app *app)
{
	struct timeval tv = { 0, LAG_PERIOD_MS * 1000 };

	app->lag_seconds = metrics_family(app->metrics, "cbq_event_loop_lag_seconds",
					  "How late a timer due every 50 ms fires: how long the"
					  " event loop was busy with other work.",
					  METRICS_HISTOGRAM, NULL, metrics_fine_seconds_buckets,
					  metrics_n_fine_seconds_buckets);
	app->aws_in_flight = metrics_family(app->metrics, "cbq_aws_http_in_flight",
					    "HTTP requests to AWS in flight (sampled every 50 ms).",
					    METRICS_GAUGE, NULL, NULL, 0);
	app->aws_in_flight_peak =
		metrics_family(app->metrics, "cbq_aws_http_in_flight_peak",
			       "The most HTTP requests to AWS in flight at once since cbqd started.",
			       METRICS_GAUGE, NULL, NULL, 0);
	app->lag = evtimer_new(app->base, on_lag, app);
	if (!app->lag)
		abort();
	event_base_update_cache_time(app->base);
	app->lag_due_us = cbq_clock_mono_us() + LAG_PERIOD_MS * 1000;
	evtimer_add(app->lag, &tv);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct cbq_app *app = arg;

	(void)fd;
	(void)what;
	app->wake_due_us = 0;
	if (app->api && !app->draining)
		engine_tick(app->engine);
}

/* engine_wake_fn: an engine_tick in in_ms, unless one is armed sooner. */
static void wake_engine(void *arg, cbq_ms in_ms)
{
	struct cbq_app *app = arg;
	int64_t due = cbq_clock_mono_us() + in_ms * 1000;
	struct timeval tv = { (time_t)(in_ms / 1000), (suseconds_t)(in_ms % 1000) * 1000 };

	if (app->wake_due_us && app->wake_due_us <= due)
		return; /* an armed wake comes first */
	app->wake_due_us = due;
	event_base_update_cache_time(app->base);
	evtimer_add(app->wake, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct cbq_app *app = arg;

	app->ticks++;
	if (app->api && !app->draining)
		engine_tick(app->engine);
	if (!app->api && !app->draining && !app->checking && !app->exit_code) {
		/* retry the schema check once a second until Postgres answers */
		if (app->ticks % 5 == 0)
			check_schema(app);
		return;
	}
	if (app->draining && (!app->api || api_server_inflight(app->api) == 0 ||
			      cbq_clock_real_ms() >= app->drain_deadline)) {
		cbq_log(CBQ_LOG_INFO, "stopped", "inflight=%d",
			app->api ? api_server_inflight(app->api) : 0);
		event_base_loopexit(app->base, NULL);
	}
}

/* SIGHUP: the certificate, key and client CA files again (rotated
 * certificates), for new connections; open ones keep theirs. Other settings
 * need a restart. A file that does not load leaves the old context. */
static void reload_tls(struct cbq_app *app)
{
	struct api_config ac = api_config_of(app);
	struct cbq_error err = { 0 };

	if (!app->api || app->draining) {
		cbq_log(CBQ_LOG_INFO, "sighup_ignored", "reason=%s",
			app->draining ? "draining" : "not_listening_yet");
		return;
	}
	if (api_server_reload_tls(app->api, &ac, &err) != CBQ_OK) {
		cbq_log(CBQ_LOG_ERROR, "tls_reload_failed", "setting=%s error=%s", err.field,
			cbq_log_q(err.msg));
		return;
	}
	cbq_log(CBQ_LOG_INFO, "tls_reloaded", "tls_cert=%s client_ca=%s other_settings=\"%s\"",
		cbq_log_q(ac.tls_cert), ac.client_ca ? cbq_log_q(ac.client_ca) : "-",
		"unchanged until a restart");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct cbq_app *app = arg;

	if (sig == SIGHUP) {
		reload_tls(app);
		return;
	}
	if (app->draining) {
		cbq_log(CBQ_LOG_WARN, "stopping_now", "signal=%d", (int)sig);
		event_base_loopbreak(app->base);
		return;
	}
	app->draining = true;
	/* hand the control loops to another cbqd right away */
	db_leader_stop(app->leader);
	app->leader = NULL;
	engine_set_leader(app->engine, false);
	app->drain_deadline = cbq_clock_real_ms() + (cbq_ms)app->cfg.drain_timeout_s * 1000;
	cbq_log(CBQ_LOG_INFO, "draining", "signal=%d inflight=%d", (int)sig,
		app->api ? api_server_inflight(app->api) : 0);
	if (app->api)
		api_server_drain(app->api);
}

int cbqd_serve_main(int argc, char **argv)
{
	struct cbq_app app = { 0 };
	struct cbq_error err;
	struct timeval tick = { 0, TICK_MS * 1000 };
	struct event_config *ecfg;
	enum cbq_log_level level;
	int rc;

	cbqd_config_defaults(&app.cfg);
	rc = parse_args(&app, argc, argv);
	if (rc)
		return rc;
	if (!cbq_log_level_parse(app.cfg.log_level, &level)) {
		fprintf(stderr, "cbqd: log_level must be debug, info, warn or error\n");
		return 2;
	}
	cbq_log_set_level(level);
	if (cbqd_config_check(&app.cfg, &err)) {
		fprintf(stderr, "cbqd: %s\n", err.msg);
		return 2;
	}
	if (cbq_clock_parse(app.cfg.clock, cbq_clock_real_ms(), &app.clock, &err)) {
		fprintf(stderr, "cbqd: %s\n", err.msg);
		return 2;
	}
	if (!app.cfg.tls_cert[0] || !app.cfg.tls_key[0]) {
		fprintf(stderr, "cbqd: --tls-cert and --tls-key are required: cbqd serves HTTPS only\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	/* precise timers: libevent's default coarse clock would make every timer
	 * (curl's, the pacer's wake-ups, the lag probe) up to a jiffy late */
	ecfg = event_config_new();
	if (ecfg)
		event_config_set_flag(ecfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	app.base = ecfg ? event_base_new_with_config(ecfg) : NULL;
	event_config_free(ecfg);
	if (!app.base) {
		fprintf(stderr, "cbqd: cannot create the event loop\n");
		return 1;
	}
	app.db = db_open(app.base, &(struct db_config){
					   .conninfo = app.cfg.db,
					   .pool_size = app.cfg.db_pool_size,
					   .queue_max = app.cfg.db_queue_max,
				   });
	if (!app.db) {
		fprintf(stderr, "cbqd: bad database settings\n");
		return 1;
	}
	app.engine = engine_new(app.db, &app.clock);
	app.metrics = metrics_new();
	engine_set_metrics(app.engine, app.metrics);
	engine_set_submit_batch_max(app.engine, app.cfg.submit_batch_max);
	app.wake = evtimer_new(app.base, on_wake, &app);
	if (!app.wake)
		abort();
	engine_set_wake(app.engine, wake_engine, &app);
	engine_set_offload(app.engine, offload_new(app.base));
	start_lag_timer(&app);
	start_aws(&app);
	if (start_iam(&app, &err) != CBQ_OK) {
		fprintf(stderr, "cbqd: %s\n", err.msg);
		stop_aws(&app);
		engine_free(app.engine);
		metrics_free(app.metrics);
		db_close(app.db);
		event_free(app.lag);
		event_free(app.wake);
		event_base_free(app.base);
		return 2;
	}
	engine_set_inventory(app.engine,
			     &(struct engine_inventory_cfg){
				     .source = strcmp(app.cfg.inventory_source, "ec2") == 0 ?
						       ENGINE_INVENTORY_EC2 :
						       ENGINE_INVENTORY_STATIC,
				     .roles = app.cfg.inventory_roles,
				     .external_id = app.cfg.inventory_external_id,
				     .interval_s = app.cfg.inventory_interval_s,
				     .region = app.aws ? app.aws_cfg.region : "",
			     });
	app.sigterm = evsignal_new(app.base, SIGTERM, on_signal, &app);
	app.sigint = evsignal_new(app.base, SIGINT, on_signal, &app);
	app.sighup = evsignal_new(app.base, SIGHUP, on_signal, &app);
	app.timer = event_new(app.base, -1, EV_PERSIST, on_timer, &app);
	event_add(app.sigterm, NULL);
	event_add(app.sigint, NULL);
	event_add(app.sighup, NULL);
	event_add(app.timer, &tick);

	cbq_log(CBQ_LOG_INFO, "starting", "version=%s schema=%d clock=%s", "0.1.0",
		db_migration_latest(), app.cfg.clock);
	check_schema(&app);
	event_base_dispatch(app.base);

	db_leader_stop(app.leader);
	/* its waits answer "stopping" through the server, so it goes first */
	auth_iam_verifier_free(app.iam);
	/* fails the queries still in flight: their callbacks run now, into an
	 * engine and a server that still exist */
	db_close(app.db);
	api_server_free(app.api);
	stop_aws(&app);
	engine_free(app.engine);
	metrics_free(app.metrics);
	event_free(app.sigterm);
	event_free(app.sigint);
	event_free(app.sighup);
	event_free(app.timer);
	event_free(app.lag);
	event_free(app.wake);
	event_base_free(app.base);
	return app.exit_code;
}
