/*
 * cbqd: the broker. `serve` runs the daemon; `migrate` and `admin` are the
 * platform team's tools and talk to Postgres directly.
 */
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "app.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: cbqd serve [options]     run the broker (cbqd serve --help)\n"
		     "       cbqd migrate [--db CONNINFO]   apply pending schema migrations\n"
		     "       cbqd admin [--db CONNINFO] COMMAND   teams, accounts, admins, blocks\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "serve") == 0)
		return cbqd_serve_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "migrate") == 0)
		return cbqd_migrate_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "admin") == 0)
		return cbqd_admin_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "cbqd: unknown command %s\n", argv[1]);
	usage(stderr);
	return 2;
}
