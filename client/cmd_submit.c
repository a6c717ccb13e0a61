/*
 * cbq submit: flags → SubmitJobRequest → POST /v1/jobs → the job id. Checks
 * here only what cannot be sent at all (missing flags, numbers and
 * durations that do not parse, unreadable files); limits and formats are
 * the server's to judge, so one place says what is allowed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "cbq/v1/cbq.pb-c.h"
#include "core/duration.h"
#include "core/job.h"
#include "live.h"
#include "print.h"

static const struct cli_opt opts[] = {
	{ OPT_KIND, "kind", 0, "K", "job kind: training, inference, research, ... (required)" },
	{ OPT_INSTANCE_TYPE, "instance-type", 0, "T", "EC2 instance type, e.g. p5.48xlarge (required)" },
	{ OPT_COUNT, "count", 0, "N", "instances, all in one block (required)" },
	{ OPT_DURATION, "duration", 0, "D", "walltime, e.g. 90m, 4h, 2d (required)" },
	{ OPT_PRIORITY, "priority", 0, "N", "added to the team's priority, -1000..1000" },
	{ OPT_NAME, "name", 0, "S", "a name for people" },
	{ OPT_CHECKPOINTABLE, "checkpointable", 0, NULL,
	  "may be stopped at a block's cutoff and requeued" },
	{ OPT_IMAGE_ID, "image-id", 0, "ami-..", "AMI to launch" },
	{ OPT_SUBNET_ID, "subnet-id", 0, "subnet-..", "subnet in the block's AZ" },
	{ OPT_SECURITY_GROUP_ID, "security-group-id", 0, "sg-..", "security group (repeatable)" },
	{ OPT_KEY_NAME, "key-name", 0, "S", "EC2 key pair name" },
	{ OPT_USER_DATA, "user-data", 0, "@FILE|TEXT", "user data, from FILE with @ (16 KiB at most)" },
	{ OPT_INSTANCE_PROFILE, "instance-profile", 0, "S", "instance profile name or ARN" },
	{ OPT_TAG, "tag", 0, "K=V", "instance tag (repeatable)" },
	{ OPT_IDEMPOTENCY_KEY, "idempotency-key", 0, "S",
	  "submitting again with the same key returns the same job" },
	{ OPT_WAIT, "wait", 0, NULL, "then wait until the job runs, as cbq wait does (exit codes there)" },
	CLI_WATCH_OPTS,
};

/* Reads at most JOB_USER_DATA_MAX + 1 bytes of path, so an over-long file
 * reaches the server and gets its verdict without cbq reading it all. */
static enum cli_exit read_user_data(const char *path, ProtobufCBinaryData *out)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (!f)
		return cli_usage_error(&cli_cmd_submit, "--user-data: cannot read %s: %s", path,
				       strerror(errno));
	buf = cli_xrealloc(NULL, JOB_USER_DATA_MAX + 1);
	n = fread(buf, 1, JOB_USER_DATA_MAX + 1, f);
	if (ferror(f)) {
		int e = errno;
		fclose(f);
		free(buf);
		return cli_usage_error(&cli_cmd_submit, "--user-data: cannot read %s: %s", path,
				       strerror(e));
	}
	fclose(f);
	out->data = buf;
	out->len = n;
	return CLI_EXIT_OK;
}

static enum cli_exit run(struct cli_ctx *ctx, const struct cli_args *args)
{
	Cbq__V1__SubmitJobRequest req = CBQ__V1__SUBMIT_JOB_REQUEST__INIT;
	Cbq__V1__JobSpec spec = CBQ__V1__JOB_SPEC__INIT;
	Cbq__V1__LaunchSpec launch = CBQ__V1__LAUNCH_SPEC__INIT;
	Cbq__V1__Tag tag_msgs[CLI_ARGS_MAX];
	Cbq__V1__Tag *tags[CLI_ARGS_MAX];
	char *sgs[CLI_ARGS_MAX];
	char *tag_keys[CLI_ARGS_MAX] = { 0 };
	size_t n_tags = 0, n_sgs = 0;
	bool has_launch = false;
	uint8_t *user_data = NULL;
	ProtobufCMessage *reply = NULL;
	Cbq__V1__Job *job = NULL;
	struct cbq_error err = { 0 };
	enum cli_exit rc;

	spec.account_id = ctx->settings.account;
	for (size_t i = 0; i < args->n_flags; i++) {
		const struct cli_arg *a = &args->flags[i];
		int32_t n;

		switch (a->opt->id) {
		case OPT_KIND:
			spec.kind = a->value;
			break;
		case OPT_INSTANCE_TYPE:
			spec.instance_type = a->value;
			break;
		case OPT_COUNT:
			if (cli_parse_int("count", a->value, INT32_MIN, INT32_MAX, &n, &err) != CBQ_OK) {
				rc = cli_usage_error(&cli_cmd_submit, "%s", err.msg);
				goto out;
			}
			spec.count = n;
			break;
		case OPT_DURATION:
			if (cbq_duration_parse(a->value, &spec.duration_seconds, &err) != CBQ_OK) {
				rc = cli_usage_error(&cli_cmd_submit, "--duration: %s", err.msg);
				goto out;
			}
			break;
		case OPT_PRIORITY:
			if (cli_parse_int("priority", a->value, INT32_MIN, INT32_MAX, &n, &err) != CBQ_OK) {
				rc = cli_usage_error(&cli_cmd_submit, "%s", err.msg);
				goto out;
			}
			spec.priority = n;
			break;
		case OPT_NAME:
			spec.name = a->value;
			break;
		case OPT_CHECKPOINTABLE:
			spec.checkpointable = true;
			break;
		case OPT_IMAGE_ID:
			launch.image_id = a->value;
			has_launch = true;
			break;
		case OPT_SUBNET_ID:
			launch.subnet_id = a->value;
			has_launch = true;
			break;
		case OPT_SECURITY_GROUP_ID:
			sgs[n_sgs++] = a->value;
			has_launch = true;
			break;
		case OPT_KEY_NAME:
			launch.key_name = a->value;
			has_launch = true;
			break;
		case OPT_USER_DATA:
			free(user_data);
			user_data = NULL;
			if (a->value[0] == '@') {
				rc = read_user_data(a->value + 1, &launch.user_data);
				if (rc != CLI_EXIT_OK)
					goto out;
				user_data = launch.user_data.data;
			} else {
				launch.user_data.data = (uint8_t *)a->value;
				launch.user_data.len = strlen(a->value);
			}
			has_launch = true;
			break;
		case OPT_INSTANCE_PROFILE:
			launch.instance_profile = a->value;
			has_launch = true;
			break;
		case OPT_TAG: {
			char *eq = strchr(a->value, '=');

			if (!eq || eq == a->value) {
				rc = cli_usage_error(&cli_cmd_submit, "--tag \"%.64s\" is not KEY=VALUE",
						     a->value);
				goto out;
			}
			tag_keys[n_tags] = cli_xrealloc(NULL, (size_t)(eq - a->value) + 1);
			memcpy(tag_keys[n_tags], a->value, (size_t)(eq - a->value));
			tag_keys[n_tags][eq - a->value] = '\0';
			cbq__v1__tag__init(&tag_msgs[n_tags]);
			tag_msgs[n_tags].key = tag_keys[n_tags];
			tag_msgs[n_tags].value = eq + 1;
			tags[n_tags] = &tag_msgs[n_tags];
			n_tags++;
			has_launch = true;
			break;
		}
		case OPT_IDEMPOTENCY_KEY:
			req.idempotency_key = a->value;
			break;
		default:
			break;
		}
	}

	static const struct {
		enum cli_opt_id id;
		const char *flag;
	} required[] = {
		{ OPT_KIND, "--kind K" },
		{ OPT_INSTANCE_TYPE, "--instance-type T" },
		{ OPT_COUNT, "--count N" },
		{ OPT_DURATION, "--duration D" },
	};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (!cli_args_has(args, required[i].id)) {
			rc = cli_usage_error(&cli_cmd_submit, "submit needs %s", required[i].flag);
			goto out;
		}
	}
	/* without --account the job runs in the caller's own account: the one
	 * of the client certificate or of the AWS credentials (IAM identity) */
	if (!cli_args_has(args, OPT_WAIT) &&
	    (cli_args_has(args, OPT_UNTIL) || cli_args_has(args, OPT_TIMEOUT) ||
	     cli_args_has(args, OPT_INTERVAL))) {
		rc = cli_usage_error(&cli_cmd_submit, "--until, --timeout and --interval go with --wait");
		goto out;
	}
	if (cli_args_has(args, OPT_WAIT) && !cli_watch_flags_ok(&cli_cmd_submit, args)) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}

	if (has_launch) {
		launch.security_group_ids = sgs;
		launch.n_security_group_ids = n_sgs;
		launch.tags = tags;
		launch.n_tags = n_tags;
		spec.launch = &launch;
	}
	req.spec = &spec;
	rc = cli_call(ctx, "POST", "/v1/jobs", &req.base, &cbq__v1__job__descriptor, &reply);
	if (rc != CLI_EXIT_OK)
		goto out;
	job = (Cbq__V1__Job *)reply;
	if (cli_args_has(args, OPT_WAIT)) {
		/* the id first, so a script has it even if the wait is cut short;
		 * with -o json only the job as it stands at the end */
		if (ctx->settings.output != CLI_OUTPUT_JSON) {
			char *id = cli_clean(job->id);
			printf("%s\n", id);
			free(id);
			fflush(stdout);
		}
		rc = cli_watch_job(ctx, &cli_cmd_submit, args, job->id);
	} else if (ctx->settings.output == CLI_OUTPUT_JSON) {
		if (!cli_print_json(&job->base))
			rc = CLI_EXIT_REFUSED;
	} else {
		char *id = cli_clean(job->id);
		printf("%s\n", id);
		free(id);
	}
out:
	for (size_t i = 0; i < n_tags; i++)
		free(tag_keys[i]);
	free(user_data);
	if (job)
		cbq__v1__job__free_unpacked(job, NULL);
	return rc;
}

const struct cli_command cli_cmd_submit = {
	.name = "submit",
	.args = "",
	.summary = "submit a job; prints its id (with --wait: then waits until it runs)",
	.details = "The account is the one the instances run in; it must belong to your team.\n"
		   "Example: cbq submit --kind training --instance-type p5.48xlarge --count 2 \\\n"
		   "             --duration 4h --image-id ami-0123456789abcdef0 --tag run=7\n"
		   "With --wait it prints the id, then follows the job like cbq wait ID: exit 0\n"
		   "once it runs, 4 failed, 5 cancelled, 6 timed out, 7 expired, 8 --timeout\n"
		   "passed, 130 Ctrl-C (the job is not cancelled; see cbq wait --help).",
	.opts = opts,
	.n_opts = sizeof(opts) / sizeof(opts[0]),
	.n_positional = 0,
	.run = run,
};
