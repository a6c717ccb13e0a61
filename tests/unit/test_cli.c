/*
 * The CLI's pure parts: config file lines, flag splitting, which flag an
 * Error.field names, how error replies read, and the table helpers.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "call.h"
#include "cbq/v1/cbq.pb-c.h"
#include "print.h"

static enum cbq_err parse_config(struct cli_settings *s, const char *text, struct cbq_error *err)
{
	return cli_config_parse(s, "cfg", text, strlen(text), err);
}

Test(cli_config, reads_keys_comments_and_spaces)
{
	struct cli_settings s = { 0 };
	struct cbq_error err = { 0 };

	cr_assert_eq(parse_config(&s, "# settings\n\n  server =  https://cbq:8443  \n"
				      "ca=/etc/ca.pem\r\naccount = 111111111111\noutput = json\n"
				      "cert = a.pem\nkey = a key.pem",
				  &err),
		     CBQ_OK, "%s", err.msg);
	cr_expect_str_eq(s.server, "https://cbq:8443");
	cr_expect_str_eq(s.ca, "/etc/ca.pem");
	cr_expect_str_eq(s.account, "111111111111");
	cr_expect_str_eq(s.cert, "a.pem");
	cr_expect_str_eq(s.key, "a key.pem");
	cr_expect_eq(s.output, CLI_OUTPUT_JSON);
	cli_settings_free(&s);
}

Test(cli_config, later_sources_replace_earlier_ones)
{
	struct cli_settings s = { 0 };
	struct cbq_error err = { 0 };

	cr_assert_eq(parse_config(&s, "account = 111111111111\n", &err), CBQ_OK);
	cr_assert_eq(cli_settings_set(&s, "account", "222222222222", &err), CBQ_OK);
	cr_expect_str_eq(s.account, "222222222222");
	cli_settings_free(&s);
}

Test(cli_config, refusals_name_file_and_line)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "server = https://x\ncolour = red\n", "cfg:2: unknown setting \"colour\"" },
		{ "\n\nserver https://x\n", "cfg:3: expected \"key = value\"" },
		{ "output = yaml\n", "cfg:1: output \"yaml\" is not one of table, json" },
		{ "account =\n", "cfg:1: account needs a value" },
		{ " = x\n", "cfg:1: unknown key \"\"" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cli_settings s = { 0 };
		struct cbq_error err = { 0 };

		cr_expect_eq(parse_config(&s, cases[i].text, &err), CBQ_ERR_INVALID, "case %zu", i);
		cr_expect(strstr(err.msg, cases[i].msg), "case %zu: \"%s\" lacks \"%s\"", i, err.msg,
			  cases[i].msg);
		cli_settings_free(&s);
	}
}

Test(cli_config, long_lines_and_nul_bytes_are_refused)
{
	struct cli_settings s = { 0 };
	struct cbq_error err = { 0 };
	size_t n = CLI_CONFIG_LINE_MAX + 20;
	char *text = malloc(n + 1);

	memcpy(text, "server = ", 9);
	memset(text + 9, 'x', n - 9);
	text[n] = '\0';
	cr_expect_eq(cli_config_parse(&s, "cfg", text, n, &err), CBQ_ERR_INVALID);
	cr_expect(strstr(err.msg, "cfg:1: line is longer than"), "%s", err.msg);
	cr_expect_eq(cli_config_parse(&s, "cfg", "ca = a\0b\n", 9, &err), CBQ_ERR_INVALID);
	cr_expect(strstr(err.msg, "NUL"), "%s", err.msg);
	free(text);
	cli_settings_free(&s);
}

Test(cli_config, missing_file_is_fine)
{
	struct cli_settings s = { 0 };
	struct cbq_error err = { 0 };

	cr_expect_eq(cli_config_load(&s, "/nonexistent/cbq/config", &err), CBQ_OK);
	cr_expect_null(s.server);
}

static const struct cli_opt cmd_opts[] = {
	{ OPT_COUNT, "count", 0, "N", "" },
	{ OPT_CHECKPOINTABLE, "checkpointable", 0, NULL, "" },
	{ OPT_TAG, "tag", 0, "K=V", "" },
};

static enum cbq_err parse(int argc, char **argv, struct cli_args *out, struct cbq_error *err)
{
	const struct cli_opt *tables[] = { cli_global_opts, cmd_opts };
	size_t n[] = { cli_n_global_opts, sizeof(cmd_opts) / sizeof(cmd_opts[0]) };

	memset(out, 0, sizeof(*out));
	return cli_args_parse(argc, argv, tables, n, 2, false, NULL, out, err);
}

Test(cli_args, splits_flags_in_every_form)
{
	char *argv[] = { "--count=4", "ID", "-o", "json", "--checkpointable", "--tag", "a=b",
			 "--tag=c=d", "--", "--count" };
	struct cli_args a;
	struct cbq_error err = { 0 };
	struct cli_settings s = { 0 };

	cr_assert_eq(parse(10, argv, &a, &err), CBQ_OK, "%s", err.msg);
	cr_expect_eq(a.n_flags, 5);
	cr_expect_str_eq(cli_args_last(&a, OPT_COUNT), "4");
	cr_expect(cli_args_has(&a, OPT_CHECKPOINTABLE));
	cr_expect_str_eq(cli_args_last(&a, OPT_TAG), "c=d");
	cr_expect_eq(a.n_positional, 2);
	cr_expect_str_eq(a.positional[0], "ID");
	cr_expect_str_eq(a.positional[1], "--count", "everything after -- is positional");
	cr_assert_eq(cli_settings_from_args(&s, &a, &err), CBQ_OK);
	cr_expect_eq(s.output, CLI_OUTPUT_JSON);
	cli_settings_free(&s);
}

Test(cli_args, refuses_unknown_and_malformed_flags)
{
	static const struct {
		int argc;
		char *argv[2];
		const char *msg;
	} cases[] = {
		{ 1, { "--bogus" }, "unknown flag --bogus" },
		{ 1, { "--count" }, "--count needs N" },
		{ 1, { "--checkpointable=yes" }, "--checkpointable takes no value" },
		{ 1, { "-x" }, "unknown flag -x" },
		{ 1, { "-ojson" }, "unknown flag -ojson" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cli_args a;
		struct cbq_error err = { 0 };
		char *argv[2] = { cases[i].argv[0], cases[i].argv[1] };

		cr_expect_eq(parse(cases[i].argc, argv, &a, &err), CBQ_ERR_INVALID, "case %zu", i);
		cr_expect_str_eq(err.msg, cases[i].msg, "case %zu", i);
	}
}

Test(cli_args, stops_at_the_command)
{
	char *argv[] = { "--server", "https://x", "ls", "--state", "queued" };
	const struct cli_opt *tables[] = { cli_global_opts };
	size_t n[] = { cli_n_global_opts };
	struct cli_args a = { 0 };
	int used = -1;

	cr_assert_eq(cli_args_parse(5, argv, tables, n, 1, true, &used, &a, NULL), CBQ_OK);
	cr_expect_eq(used, 2);
	cr_expect_eq(a.n_flags, 1);
	cr_expect_eq(a.n_positional, 0);
}

Test(cli_args, numbers_are_whole_and_in_range)
{
	int32_t v = 0;
	struct cbq_error err = { 0 };

	cr_expect_eq(cli_parse_int("count", "-3", -5, 5, &v, &err), CBQ_OK);
	cr_expect_eq(v, -3);
	cr_expect_eq(cli_parse_int("count", "6", -5, 5, &v, &err), CBQ_ERR_INVALID);
	cr_expect_str_eq(err.msg, "--count \"6\" is not a whole number in -5..5");
	cr_expect_eq(cli_parse_int("count", "4x", INT32_MIN, INT32_MAX, &v, &err), CBQ_ERR_INVALID);
	cr_expect_eq(cli_parse_int("count", " 4", INT32_MIN, INT32_MAX, &v, &err), CBQ_ERR_INVALID);
	cr_expect_eq(cli_parse_int("count", "", INT32_MIN, INT32_MAX, &v, &err), CBQ_ERR_INVALID);
	cr_expect_eq(cli_parse_int("count", "2147483648", INT32_MIN, INT32_MAX, &v, &err),
		     CBQ_ERR_INVALID);
}

Test(cli_errors, fields_map_to_flags)
{
	cr_expect_str_eq(cli_flag_for_field("spec.count"), "count");
	cr_expect_str_eq(cli_flag_for_field("spec.duration_seconds"), "duration");
	cr_expect_str_eq(cli_flag_for_field("spec.launch.user_data"), "user-data");
	cr_expect_str_eq(cli_flag_for_field("spec.launch.tags[3].key"), "tag");
	cr_expect_str_eq(cli_flag_for_field("spec.launch.security_group_ids[0]"), "security-group-id");
	cr_expect_str_eq(cli_flag_for_field("idempotency_key"), "idempotency-key");
	cr_expect_str_eq(cli_flag_for_field("page_size"), "limit");
	cr_expect_null(cli_flag_for_field("spec.counter"));
	cr_expect_null(cli_flag_for_field("page_token"));
	cr_expect_null(cli_flag_for_field(""));
}

static void describe(long status, const char *ctype, const void *body, size_t len, char *out,
		     size_t size)
{
	struct cli_http_reply r = { .status = status, .body = (uint8_t *)(uintptr_t)body, .len = len };

	snprintf(r.content_type, sizeof(r.content_type), "%s", ctype);
	cli_describe_error(&r, out, size);
}

Test(cli_errors, replies_read_as_one_line)
{
	Cbq__V1__Error e = CBQ__V1__ERROR__INIT;
	uint8_t buf[256];
	char line[512];
	size_t n;

	e.code = CBQ__V1__ERROR_CODE__ERROR_CODE_INVALID_ARGUMENT;
	e.message = "count must be 1..64";
	e.field = "spec.count";
	n = cbq__v1__error__pack(&e, buf);
	describe(400, "application/x-protobuf", buf, n, line, sizeof(line));
	cr_expect_str_eq(line, "count must be 1..64 (field: spec.count, flag: --count)");

	e.message = "no such \x1b[2Jthing";
	e.field = "page_token";
	n = cbq__v1__error__pack(&e, buf);
	describe(400, "application/x-protobuf", buf, n, line, sizeof(line));
	cr_expect_str_eq(line, "no such ?[2Jthing (field: page_token)");

	describe(413, "text/html", "<html>too large</html>", 22, line, sizeof(line));
	cr_expect_str_eq(line, "server answered HTTP 413");
	describe(503, "text/plain", "  upstream\nunavailable\n", 23, line, sizeof(line));
	cr_expect_str_eq(line, "server answered HTTP 503: upstream unavailable");
	describe(502, "", "", 0, line, sizeof(line));
	cr_expect_str_eq(line, "server answered HTTP 502");
	describe(500, "application/x-protobuf", "\xff\xff", 2, line, sizeof(line));
	cr_expect_str_eq(line, "server answered HTTP 500");
}

Test(cli_print, times_states_and_clean_text)
{
	char buf[64];

	cr_expect_str_eq(cli_time(1795442700000, buf, sizeof(buf)), "2026-11-23 14:05Z");
	cr_expect_str_eq(cli_time(0, buf, sizeof(buf)), "-");
	cr_expect_str_eq(cli_time(-1, buf, sizeof(buf)), "1969-12-31 23:59Z");
	cr_expect_str_eq(cli_enum_name(&cbq__v1__job_state__descriptor, 7, "JOB_STATE_", '_', buf,
				       sizeof(buf)),
			 "timed_out");
	cr_expect_str_eq(cli_enum_name(&cbq__v1__block_state__descriptor, 1, "BLOCK_STATE_", '-',
				       buf, sizeof(buf)),
			 "payment-pending");
	cr_expect_str_eq(cli_enum_name(&cbq__v1__job_state__descriptor, 42, "JOB_STATE_", '_', buf,
				       sizeof(buf)),
			 "42");

	char *c = cli_clean("a\tb\x1b[31m\xc2\x9b\xff \xc3\xa9");
	cr_expect_str_eq(c, "a?b?[31m??? \xc3\xa9");
	cr_expect_eq(cli_text_width(c), 13);
	free(c);
}
